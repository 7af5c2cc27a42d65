// The compliance page: the control catalogue evaluated against the server's
// own state, per framework, with evidence, expiry and the drill calendar.
// Evidence attested through the API shows on the page with its expiry.
import { suite, uiTest } from './lib/ui.mjs';
import { assert, eventually, hasText, visible } from './lib/expect.mjs';

suite('compliance', (env) => {
  uiTest(env, 'the compliance page shows each control, its evidence and the drill calendar', async (ui) => {
    // erin (security-lead) is an attester of the default catalogue.
    await env.server.apiOk('erin', 'POST', '/v1/evidence', {
      control: 'access-review', text: 'Quarterly access review of every principal, ticket SEC-311',
    }, 201);
    const report = await env.server.apiOk('alice', 'GET', '/v1/compliance');
    const review = report.controls.find((c) => c.id === 'access-review');
    assert.equal(review.outcome, 'pass');

    const page = await ui.as('alice');
    await ui.goto(page, '#/compliance', 'Compliance');
    const controls = page.getByRole('region', { name: 'Controls' });
    const row = controls.getByRole('row').filter({ hasText: 'access-review' });
    await hasText(row, /pass/);
    await hasText(row, /Quarterly access review of every principal, ticket SEC-311/);
    await visible(row.locator('time').first());
    // The counts are the report's.
    await hasText(page.locator('[data-count="pass"]'), String(report.counts.pass));
    await hasText(page.locator('[data-count="fail"]'), String(report.counts.fail));
    // No drill has run on a new server: every drill is overdue.
    const drills = page.getByRole('region', { name: 'Drill calendar' });
    await hasText(drills, /drill-emergency-stop/);
    await hasText(drills.getByRole('row').filter({ hasText: 'drill-rollback' }), /overdue/);
    await ui.shot(page, 'compliance, every framework');

    // One framework: only the controls that map to it, and the hash keeps it.
    await page.getByLabel('Framework').selectOption('HIPAA');
    await hasText(page.locator('[data-count="pass"]'), /\d+/);
    await eventually(() => assert.ok(page.url().endsWith('#/compliance?framework=HIPAA'), page.url()), { what: 'the hash names the framework' });
    const hipaa = await env.server.apiOk('alice', 'GET', '/v1/compliance?framework=HIPAA');
    await hasText(page.getByRole('status').filter({ hasText: 'controls, evaluated' }),
      new RegExp(`${hipaa.controls.length} controls, evaluated`));
    await ui.shot(page, 'compliance, HIPAA');
  });
});
