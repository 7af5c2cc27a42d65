// Freeze windows: the overview shows the windows in force, and the
// simulator decides at a chosen time and lists the windows in force then.
// The governance gets a window always in force for staging (a cron window
// that fires every minute and lasts an hour) and a weekend window for
// production, which the simulator is asked about on a Saturday and on a
// Wednesday, so that nothing depends on today's date.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { suite, uiTest } from './lib/ui.mjs';
import { assert, hasText, visible } from './lib/expect.mjs';
import { simulate } from './lib/simulator.mjs';

const WINDOWS = `version: 1
freeze_windows:
  - name: staging-hold
    reason: staging is being rebuilt
    cron: "* * * * *"
    duration: 1h
    time_zone: UTC
    environments: [staging]
  - name: weekend
    reason: nobody watches production over the weekend
    weekly: {from: "Sat 00:00", to: "Mon 00:00"}
    time_zone: UTC
    environments: [production]
`;

async function windows(dir) {
  await writeFile(path.join(dir, 'safety', 'freeze-windows.yml'), WINDOWS);
}

const PRODUCTION = {
  'Actor type': 'human', 'Actor id': 'alice', 'Change type': 'code', Environment: 'production',
  Service: 'api-gateway', Version: '2.5.5', 'Previous version': '2.5.4', Summary: 'Fix a typo',
  'Tests passed': true, 'Security scan passed': true, 'Highest severity': 'none',
};

suite('freeze windows', (env) => {
  uiTest(env, 'the overview shows the freeze windows in force', async (ui) => {
    const page = await ui.as('alice');
    await ui.goto(page, '#/', 'Overview');
    const card = page.getByRole('region', { name: 'Freeze windows' });
    await hasText(card, /1 window in force/);
    const list = page.getByRole('list', { name: 'Freeze windows in force' });
    await visible(list.getByText('staging-hold', { exact: true }));
    await hasText(list, /staging-hold staging · until [\s\S]*for 1h from each "\* \* \* \* \*", UTC/s);
    await ui.shot(page, 'overview with a window in force');
  });

  uiTest(env, 'the simulator decides at a chosen time and lists the windows in force then', async (ui) => {
    const page = await ui.as('alice');
    await ui.goto(page, '#/simulate', 'Decision simulator');
    await page.waitForLoadState('networkidle');
    // Saturday 2026-12-05, noon UTC: the weekend window holds production.
    await simulate(page, { ...PRODUCTION, 'Decide at': '2026-12-05T12:00' });
    await hasText(page.getByTestId('simulation-decision'), 'deny');
    const freezes = page.getByTestId('simulation-freezes');
    await hasText(freezes, /freeze window 'weekend' \(every Sat 00:00 to Mon 00:00, UTC\) is in force until 2026-12-07T00:00:00\.000Z: nobody watches production over the weekend/);
    await ui.shot(page, 'simulated on a Saturday');
    // Wednesday 2026-12-09: not the weekend.
    await simulate(page, { ...PRODUCTION, 'Decide at': '2026-12-09T12:00' });
    await hasText(page.getByTestId('simulation-decision'), 'require_approval');
    const shown = await page.getByTestId('simulation-freezes').innerText();
    assert.ok(!shown.includes("'weekend'"), `no weekend on a Wednesday; shown: ${shown}`);
    assert.ok(shown.includes("'staging-hold'"), `the staging window is listed; shown: ${shown}`);
    // The API agrees.
    const at = await env.server.apiOk('alice', 'GET', '/v1/freeze-windows?at=2026-12-05T12:00:00Z');
    assert.equal(at.windows.find((w) => w.name === 'weekend').in_force.length, 1);
  });
}, { principals: ['alice'], governance: windows });
