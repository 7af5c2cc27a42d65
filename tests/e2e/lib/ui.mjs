// The browser side of the harness: one headless Debian Chromium per test
// file, one fresh browser context per principal (so sessionStorage and
// localStorage start empty), console errors, page errors and CSP
// violations collected on every page and failing the test, screenshots
// saved as artifacts.
import { after, before, describe, it } from 'node:test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { InterlockServer } from './server.mjs';
import { assert, hasText, visible, UI_TIMEOUT } from './expect.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.resolve(process.env.E2E_ARTIFACTS || path.join(HERE, '../../../build/e2e-artifacts'));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Reported in the page as a console error, so that the 'console' listener
// sees every CSP violation even where Chromium would not log one.
const CSP_PROBE = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
    ' at ' + e.sourceFile + ':' + e.lineNumber);
});`;

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}

// describe() with a fresh server and browser for the whole file.
// `env.server` and `env.browser` are set before the first test;
// `principals` get their tokens before the server starts (others on demand);
// `governance(dir)` may change the governance files before it starts.
export function suite(name, fn, { principals, governance } = {}) {
  const env = { server: null, browser: null };
  describe(name, () => {
    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      env.server = await InterlockServer.start(principals ? { principals, governance } : { governance });
      env.browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox'], // CI runs as root
      });
    });
    after(async () => {
      if (env.browser) await env.browser.close();
      if (env.server) await env.server.stop(); // throws if it exited badly
    });
    fn(env);
  });
}

// One test: `body(ui)` gets a UiTest. On failure every open page is
// screenshotted as "FAILED"; after the body, any console error, page
// error or CSP violation on any page of the test fails it.
export function uiTest(env, name, body, { timeout = 90_000 } = {}) {
  it(name, { timeout }, async () => {
    const ui = new UiTest(env, name);
    try {
      await body(ui);
    } catch (err) {
      await ui.shotAll('FAILED').catch(() => {});
      await ui.close();
      if (ui.issues.length) err.message += `\nbrowser problems seen too:\n  ${ui.issues.join('\n  ')}`;
      throw err;
    }
    await ui.close();
    assert.deepEqual(ui.unexpectedIssues(), [],
      'console errors, page errors or CSP violations in the browser');
  });
}

export class UiTest {
  constructor(env, name) {
    this.server = env.server;
    this.browser = env.browser;
    this.name = name;
    this.contexts = [];
    this.pages = [];
    this.issues = [];
    this.allowed = [];
    this.shots = 0;
  }

  // Console errors matching `re` are expected in this test (e.g. the 401
  // of a refused token, which Chromium logs as a failed resource load).
  allowConsoleError(re) {
    this.allowed.push(re);
  }

  unexpectedIssues() {
    return this.issues.filter((i) => !(i.startsWith('console.error') && this.allowed.some((re) => re.test(i))));
  }

  // A new page in a fresh context (nobody signed in).
  async newPage({ width = 1280, height = 800, label = 'anonymous' } = {}) {
    const context = await this.browser.newContext({ viewport: { width, height } });
    context.setDefaultTimeout(UI_TIMEOUT);
    await context.addInitScript(CSP_PROBE);
    this.contexts.push(context);
    const page = await context.newPage();
    page.label = label;
    page.on('console', (msg) => {
      const text = msg.text();
      const where = msg.location()?.url ? ` (${msg.location().url}:${msg.location().lineNumber})` : '';
      if (msg.type() === 'error') this.issues.push(`console.error [${label}]: ${text}${where}`);
      else if (/Content.Security.Policy/i.test(text)) this.issues.push(`CSP [${label}]: ${text}${where}`);
    });
    page.on('pageerror', (err) => this.issues.push(`pageerror [${label}]: ${err.message}`));
    this.pages.push(page);
    return page;
  }

  // A page signed in as `principal` through the sign-in form.
  async as(principal, opts = {}) {
    const page = await this.newPage({ ...opts, label: principal });
    await page.goto(this.server.url + '/');
    await signIn(page, await this.server.token(principal));
    await hasText(page.getByTestId('whoami'), new RegExp(`\\b${principal}\\b`));
    return page;
  }

  // Goes to a client-side route ("#/approvals") and waits for its h1.
  async goto(page, hash, heading) {
    await page.goto(`${this.server.url}/${hash}`);
    await visible(page.getByRole('heading', { level: 1, name: heading, exact: true }));
  }

  // A full-page PNG named by test and step.
  async shot(page, step) {
    this.shots += 1;
    const file = path.join(ARTIFACTS,
      `${slug(this.name)}--${String(this.shots).padStart(2, '0')}-${slug(step)}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async shotAll(step) {
    for (const page of this.pages) {
      if (!page.isClosed()) await this.shot(page, `${step}-${page.label}`);
    }
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
    this.contexts = [];
  }
}

export async function signIn(page, token) {
  await page.getByLabel('Bearer token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

// Every form control on the page (including ones in closed dialogs) has an
// accessible name from a <label>, aria-labelledby or aria-label (buttons:
// also their text). Placeholders do not count. Returns the number checked.
export async function checkLabels(page, where) {
  const { checked, unlabelled } = await page.evaluate(() => {
    const text = (el) => (el?.textContent || '').replace(/\s+/g, ' ').trim();
    const nameOf = (el) => {
      const by = el.getAttribute('aria-labelledby');
      if (by) {
        const t = by.split(/\s+/).map((id) => text(document.getElementById(id))).join(' ').trim();
        if (t) return t;
      }
      const aria = (el.getAttribute('aria-label') || '').trim();
      if (aria) return aria;
      if (el.labels && el.labels.length) {
        const t = [...el.labels].map(text).join(' ').trim();
        if (t) return t;
      }
      if (el.tagName === 'BUTTON') return text(el);
      if (el.tagName === 'INPUT' && ['submit', 'reset', 'button'].includes(el.type)) return (el.value || '').trim();
      return '';
    };
    const describeEl = (el) => `<${el.tagName.toLowerCase()}${el.type ? ` type=${el.type}` : ''}` +
      `${el.name ? ` name=${el.name}` : ''}${el.id ? ` id=${el.id}` : ''}>`;
    const controls = [...document.querySelectorAll(
      'input, select, textarea, button, [role=textbox], [role=combobox], [role=checkbox], [role=switch], [role=slider], [role=button]')]
      .filter((el) => !(el.tagName === 'INPUT' && el.type === 'hidden'));
    return { checked: controls.length, unlabelled: controls.filter((el) => !nameOf(el)).map(describeEl) };
  });
  assert.deepEqual(unlabelled, [], `form controls without an accessible label on ${where}`);
  assert.ok(checked > 0, `no form control at all on ${where}: the label check would be vacuous`);
  return checked;
}

// No horizontal page scroll: the document is no wider than the viewport.
export async function checkNoHorizontalScroll(page, where) {
  const r = await page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.body.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1)
      .slice(0, 5)
      .map((el) => `<${el.tagName.toLowerCase()}> "${(el.textContent || '').trim().slice(0, 40)}" right=${Math.round(el.getBoundingClientRect().right)}`);
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, innerWidth: window.innerWidth, wide };
  });
  assert.ok(r.clientWidth <= 390 && r.innerWidth === 390, `the viewport is not 390 px wide: ${JSON.stringify(r)}`);
  assert.ok(r.scrollWidth <= r.clientWidth,
    `${where} scrolls horizontally at 390 px: scrollWidth ${r.scrollWidth} > ${r.clientWidth}; wide elements: ${r.wide.join(', ')}`);
}

// No value leaked into the page as program text: "undefined", "NaN",
// "[object Object]", or a line that is just "null" (JSON shown in <pre> or
// <code>, such as an audit event, is left out).
export async function checkNoPlaceholderText(page, where) {
  const lines = await page.evaluate(() => {
    const clone = document.body.cloneNode(true);
    for (const el of clone.querySelectorAll('pre, code, script, style, template')) el.remove();
    const host = document.createElement('div');
    host.style.position = 'absolute';
    host.style.left = '-99999px';
    host.appendChild(clone);
    document.documentElement.appendChild(host);
    const text = clone.innerText;
    host.remove();
    return text.split('\n').map((l) => l.trim()).filter(Boolean);
  });
  const bad = lines.filter((l) => /\bundefined\b|\bNaN\b|\[object Object\]|^null$/.test(l));
  assert.deepEqual(bad, [], `${where} shows program values as text`);
}
