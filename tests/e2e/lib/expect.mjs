// Small waiting assertions over playwright-core locators (playwright-core
// has no `expect`). Each retries until it holds or the time is up, then
// fails with what it last saw.
import assert from 'node:assert/strict';

export const UI_TIMEOUT = Number(process.env.E2E_UI_TIMEOUT_MS || 10_000);

// Retries fn (which throws while the condition does not hold).
export async function eventually(fn, { timeout = UI_TIMEOUT, interval = 100, what = '' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) {
        if (what) err.message = `${what}: ${err.message}`;
        throw err;
      }
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export async function visible(locator, timeout = UI_TIMEOUT) {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

export async function hidden(locator, timeout = UI_TIMEOUT) {
  await locator.waitFor({ state: 'hidden', timeout });
}

// The locator's text matches `re` (a RegExp) or equals `re` (a string).
export async function hasText(locator, re, timeout = UI_TIMEOUT) {
  return eventually(async () => {
    const text = (await locator.innerText({ timeout: 1000 })).trim();
    if (re instanceof RegExp) assert.match(text, re);
    else assert.equal(text, re);
    return text;
  }, { timeout });
}

export async function count(locator, n, timeout = UI_TIMEOUT) {
  return eventually(async () => assert.equal(await locator.count(), n), { timeout });
}

export async function isFocused(locator) {
  return locator.evaluate((el) => el === document.activeElement);
}

export { assert };

// Presses Tab (at most `max` times) until `locator` has the focus; fails
// if it never does. Returns the number of presses.
export async function tabTo(page, locator, { max = 60, what = 'the control' } = {}) {
  for (let presses = 1; presses <= max; presses += 1) {
    await page.keyboard.press('Tab');
    if (await isFocused(locator)) return presses;
  }
  const active = await page.evaluate(() => {
    const el = document.activeElement;
    return el ? `<${el.tagName.toLowerCase()}> ${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40)}` : 'none';
  });
  throw new assert.AssertionError({ message: `${what} was not reached with ${max} presses of Tab (focus is on ${active})` });
}

// The page's visible text without the signed-in principal's own name
// (data-testid="whoami"), so that finding a principal's id in it means
// something. Retries until it matches `re`.
export async function pageTextMatches(page, re, timeout = UI_TIMEOUT) {
  return eventually(async () => {
    const text = await page.evaluate(() => {
      const who = document.querySelector('[data-testid="whoami"]');
      const whoText = who ? who.innerText : '';
      return document.body.innerText.replace(whoText, ' ');
    });
    assert.match(text, re);
    return text;
  }, { timeout });
}
