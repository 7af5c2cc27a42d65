// The emergency stop (seed 000 §3.2): activated from the dashboard with the
// keyboard, everything denied while it is active, and deactivated only by
// an engineering lead and a security lead together. The tests run in order
// on one server: each starts from the state the one before left.
import { suite, uiTest } from './lib/ui.mjs';
import { assert, count, hasText, hidden, isFocused, pageTextMatches, tabTo, visible } from './lib/expect.mjs';
import { DEV_PATCH } from './lib/requests.mjs';
import { simulate } from './lib/simulator.mjs';

const REASON = 'Payments outage: error rate above 20 percent';

const stopButton = (page) => page.getByRole('button', { name: 'Emergency stop', exact: true });
const banner = (page) => page.getByTestId('stop-banner');

async function signDeactivation(page, who) {
  await visible(page.getByRole('heading', { name: 'Deactivate the emergency stop', exact: true }));
  await page.getByLabel('Post-incident review', { exact: true }).fill(`PIR-7 reviewed by ${who}`);
  await page.getByLabel('Root cause', { exact: true }).fill('A bad feature flag in the payment router');
  await page.getByLabel('Prevention measures', { exact: true }).fill('Flag changes go through review and a canary');
  await page.getByRole('button', { name: 'Sign deactivation', exact: true }).click();
}

suite('emergency stop', (env) => {
  uiTest(env, 'the Emergency stop button is reached and pressed with the keyboard, and the banner shows', async (ui) => {
    const { server } = env;
    const trent = await ui.as('trent');
    await ui.goto(trent, '#/', 'Overview');
    await count(banner(trent), 0);
    const button = await visible(stopButton(trent));
    await ui.shot(trent, 'overview before the stop');

    // From the top of the page, with Tab only.
    await trent.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
    await tabTo(trent, button, { what: 'the Emergency stop button' });
    await trent.keyboard.press('Enter');
    const dialog = await visible(trent.getByRole('dialog', { name: 'Activate the emergency stop' }));
    // Escape closes it and gives the focus back; Enter opens it again.
    await trent.keyboard.press('Escape');
    await hidden(trent.getByRole('dialog'));
    assert.ok(await isFocused(button), 'the focus returns to the Emergency stop button');
    await trent.keyboard.press('Enter');
    await visible(dialog);

    const confirm = dialog.getByRole('button', { name: 'Activate emergency stop', exact: true });
    assert.ok(await confirm.isDisabled(), 'disabled before a reason and the acknowledgement');
    const reason = dialog.getByLabel('Reason', { exact: true });
    await tabTo(trent, reason, { max: 10, what: 'the Reason field' });
    await trent.keyboard.type(REASON);
    assert.ok(await confirm.isDisabled(), 'still disabled without the acknowledgement');
    const acknowledge = dialog.getByLabel('I understand that every automated change will be refused', { exact: true });
    await tabTo(trent, acknowledge, { max: 10, what: 'the acknowledgement checkbox' });
    await trent.keyboard.press('Space');
    assert.ok(await acknowledge.isChecked());
    assert.ok(await confirm.isEnabled(), 'enabled with a reason and the acknowledgement');
    await ui.shot(trent, 'activation dialog filled');
    await tabTo(trent, confirm, { max: 10, what: 'the Activate emergency stop button' });
    await trent.keyboard.press('Enter');

    await hidden(trent.getByRole('dialog'));
    const text = await hasText(banner(trent), /Emergency stop active/);
    assert.equal(await banner(trent).getAttribute('role'), 'alert');
    assert.match(text, /\btrent\b/, 'the banner names who activated it');
    assert.ok(text.includes(REASON), `the banner gives the reason: ${text}`);
    assert.match(text, /\d{1,2}:\d{2}|\b20\d\d\b/, `the banner says since when: ${text}`);
    await count(stopButton(trent), 0);
    await ui.shot(trent, 'stop active banner');

    const state = await server.apiOk('trent', 'GET', '/api/emergency-stop');
    assert.equal(state.active, true);
    assert.equal(state.activated_by, 'trent');
    assert.equal(state.reason, REASON);

    // Everyone sees the banner.
    const alice = await ui.as('alice');
    await ui.goto(alice, '#/', 'Overview');
    await hasText(banner(alice), /Emergency stop active/);
  });

  uiTest(env, 'while stopped a decision is denied: through the API, in the simulator and in the audit log', async (ui) => {
    const { server } = env;
    const decision = await server.apiOk('alice', 'POST', '/v1/decisions', DEV_PATCH);
    assert.equal(decision.decision, 'deny');
    assert.ok(decision.reasons[0].includes(REASON), JSON.stringify(decision.reasons));

    // The simulator evaluates with the stop in force.
    const trent = await ui.as('trent');
    await ui.goto(trent, '#/simulate', 'Decision simulator');
    await simulate(trent, {
      'Actor type': 'human', 'Actor id': 'alice', 'Change type': 'code', Environment: 'dev',
      Service: 'api-gateway', Version: '2.5.4', 'Previous version': '2.5.3', Summary: 'Fix retry backoff',
      'Tests passed': true, 'Security scan passed': true, 'Highest severity': 'none',
    });
    await hasText(trent.getByTestId('simulation-decision'), 'deny');
    const why = await trent.getByTestId('simulation-result').innerText();
    assert.ok(why.includes(REASON), `the simulation says the stop is why: ${why}`);
    await ui.shot(trent, 'simulator denies during the stop');

    // The denied decision in the audit log, verified in the browser.
    const erin = await ui.as('erin');
    await ui.goto(erin, '#/audit', 'Audit log');
    await erin.getByLabel('Actor', { exact: true }).fill('alice');
    await erin.getByLabel('Event type', { exact: true }).fill('decision');
    await erin.getByRole('button', { name: 'Search', exact: true }).click();
    await erin.getByRole('link', { name: `#${decision.audit_index}`, exact: true }).click();
    await visible(erin.getByRole('heading', { level: 1, name: `Audit entry ${decision.audit_index}`, exact: true }));
    await erin.getByRole('button', { name: 'Verify', exact: true }).click();
    await hasText(erin.getByTestId('verify-result'), /^Verified/);
    await pageTextMatches(erin, /\bdeny\b/);
    await ui.shot(erin, 'denied decision in the audit log');
  });

  uiTest(env, 'deactivation shows a pending second signature after the first, and ends after the second', async (ui) => {
    const { server } = env;
    // trent may activate but not deactivate: no form for him.
    const trent = await ui.as('trent');
    await ui.goto(trent, '#/', 'Overview');
    await hasText(banner(trent), /Emergency stop active/);
    await count(trent.getByRole('heading', { name: 'Deactivate the emergency stop', exact: true }), 0);

    const dave = await ui.as('dave');
    await ui.goto(dave, '#/', 'Overview');
    await signDeactivation(dave, 'dave');
    const pending = await pageTextMatches(dave, /Deactivation pending/);
    assert.match(pending, /\bdave\b/, 'names who signed');
    assert.match(pending, /security-lead/, 'names the role still needed');
    await hasText(banner(dave), /Emergency stop active/);
    await ui.shot(dave, 'deactivation pending');
    const half = await server.apiOk('dave', 'GET', '/api/emergency-stop');
    assert.equal(half.active, true);
    assert.deepEqual(half.pending_deactivation.signatures.map((s) => s.principal), ['dave']);
    assert.deepEqual(half.pending_deactivation.pending_roles, ['security-lead']);

    const erin = await ui.as('erin');
    await ui.goto(erin, '#/', 'Overview');
    await pageTextMatches(erin, /Deactivation pending/);
    await signDeactivation(erin, 'erin');
    await count(banner(erin), 0);
    await visible(stopButton(erin)); // a security lead may activate it again
    await ui.shot(erin, 'stop deactivated');
    const done = await server.apiOk('erin', 'GET', '/api/emergency-stop');
    assert.equal(done.active, false);

    await dave.reload();
    await visible(dave.getByRole('heading', { level: 1, name: 'Overview', exact: true }));
    await count(banner(dave), 0);
  });
}, { principals: ['trent', 'alice', 'dave', 'erin'] });
