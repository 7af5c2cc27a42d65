// Rollouts: opened through the API for an allowed staging change, followed
// in the dashboard (list, detail, results, charts, history), rolled back by
// a trigger on pushed metrics with the incident on the overview, and steered
// with the buttons by whom canary.yml rollout_overrides allows. The
// governance gets a strategy evaluated every second, so that each step
// waits on what the page shows, never on a clock; and reviews due after
// one second, so that a real incident's review is overdue.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { suite, uiTest } from './lib/ui.mjs';
import { assert, count, eventually, hasText, visible } from './lib/expect.mjs';
import { openRollout as openRolloutPage, buttonsMatchMay, checkRow, section, steer, actionButton, ROLLOUT_ACTIONS } from './lib/rollout-page.mjs';
import { rewrite } from './lib/routes.mjs';
import { openRollout } from './lib/requests.mjs';

// Three steps, evaluated every second; rolled back when the error rate
// passes 5 %, promoted (after an hour per step) while it stays under 1 %.
const STRATEGY = `  e2e_canary:
    traffic_steps: [10%, 50%, 100%]
    monitoring_duration: 1h
    interval: 1s
    analysis:
      window: 1m
    rollback_when: error_rate > 5%
    promote_when: error_rate < 1%
`;

async function edit(file, from, to) {
  const text = await readFile(file, 'utf8');
  assert.ok(text.includes(from), `${file} has ${JSON.stringify(from)}`);
  await writeFile(file, text.replace(from, to));
}

async function fastRollouts(dir) {
  await edit(path.join(dir, 'safety', 'canary.yml'), '\ncanary_strategies:\n', `\ncanary_strategies:\n${STRATEGY}`);
  await edit(path.join(dir, 'safety', 'auto-rollback.yml'), 'review_deadline: 48h', 'review_deadline: 1s');
}

const open = (server, service) => openRollout(server, service, { strategy: 'e2e_canary' });

// Values of the canary (and baseline) measured `secondsAgo` before now.
async function push(server, id, secondsAgo, metrics, baseline) {
  const body = { at: new Date(Date.now() - secondsAgo * 1000).toISOString(), metrics };
  if (baseline) body.baseline = baseline;
  await server.apiOk('alice', 'POST', `/v1/rollouts/${id}/metrics`, body);
}

suite('rollouts', (env) => {
  uiTest(env, 'a rollout opened through the API is listed, filtered by state, and shown with its steps', async (ui) => {
    const { server } = env;
    const r = await open(server, 'catalog');
    assert.equal(r.state, 'progressing');
    assert.deepEqual(r.traffic_steps, [10, 50, 100]);

    const dave = await ui.as('dave');
    await ui.goto(dave, '#/', 'Overview');
    await dave.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rollouts', exact: true }).click();
    await visible(dave.getByRole('heading', { level: 1, name: 'Rollouts', exact: true }));
    const link = dave.getByRole('link', { name: r.id, exact: true });
    const row = dave.getByRole('row').filter({ has: link });
    for (const text of ['catalog', '1.4.1', 'staging', 'progressing', '1 of 3', '10 %']) await hasText(row, new RegExp(text));
    await ui.shot(dave, 'the list of rollouts');

    // Filtered by state on the server: paused by carol, it leaves "progressing".
    const state = dave.getByLabel('State', { exact: true });
    await state.selectOption('paused');
    await count(link, 0);
    await server.apiOk('carol', 'POST', `/v1/rollouts/${r.id}/pause`, { rationale: 'waiting for the load test' });
    await state.selectOption('progressing');
    await visible(dave.getByRole('status').filter({ hasText: /progressing rollout/ }));
    await count(link, 0);
    await state.selectOption('paused');
    await visible(link);
    await hasText(row, /paused/);
    assert.match(dave.url(), /#\/rollouts\?state=paused$/, 'the filter is kept in the address');
    await ui.shot(dave, 'filtered to paused');

    await link.click();
    await visible(dave.getByRole('heading', { level: 1, name: `Rollout ${r.id}`, exact: true }));
    await hasText(dave.getByTestId('rollout-state'), 'paused');
    await hasText(dave.getByTestId('rollout-step'), /step 1 of 3, 10 % of traffic/);
    for (const h2 of ['Steer this rollout', 'Change', 'Steps', 'Checks', 'Metrics', 'History']) {
      await visible(dave.getByRole('heading', { level: 2, name: h2, exact: true }));
    }
    // The steps, the current one marked.
    const steps = section(dave, 'Steps').getByRole('list', { name: 'Traffic steps' }).getByRole('listitem');
    await count(steps, 3);
    assert.deepEqual(await Promise.all([0, 1, 2].map((i) => steps.nth(i).getAttribute('aria-current'))), ['step', null, null]);
    await hasText(steps.nth(0), /Step 1\s+10 %\s+current, paused/);
    await hasText(steps.nth(2), /Step 3\s+100 %\s+to come/);
    await hasText(section(dave, 'Change'), /catalog/);
    await hasText(section(dave, 'History'), /carol[\s\S]*waiting for the load test/);
    // Evaluated every second even while paused: nothing pushed, so no data.
    await hasText(checkRow(dave, 'rollback_when'), /insufficient data/);
    await hasText(checkRow(dave, 'promote_when'), /Promotion criterion[\s\S]*insufficient data/);
    await ui.shot(dave, 'a paused rollout without data');
  });

  uiTest(env, 'metrics that fail a trigger show in the results and the chart, roll the rollout back, and its incident is on the overview', async (ui) => {
    const { server } = env;
    const r = await open(server, 'ledger');
    const dave = await ui.as('dave');
    await openRolloutPage(ui, dave, r.id);
    await visible(actionButton(dave, 'Pause'));

    // Healthy values with their baseline: each trigger on them passes.
    await push(server, r.id, 30, { error_rate: 0.002 }, { error_rate: 0.0024 });
    await push(server, r.id, 20, { error_rate: 0.003 });
    await push(server, r.id, 10, { error_rate: 0.0025 });
    const rollbackWhen = checkRow(dave, 'rollback_when');
    await hasText(rollbackWhen, /Trigger: rollback[\s\S]*\bpass\b[\s\S]*error_rate = 0\.0025[\s\S]*error_rate > 0\.05/);
    await hasText(checkRow(dave, 'promote_when'), /\bpass\b[\s\S]*error_rate < 0\.01/);
    await hasText(checkRow(dave, 'error_rate_spike'), /\bpass\b[\s\S]*error_rate_increase = 0\.04167/);
    const chart = dave.getByRole('figure', { name: 'error_rate', exact: true });
    await visible(chart);
    await eventually(async () => {
      const label = await chart.getByRole('img').getAttribute('aria-label');
      assert.match(label, /3 values[\s\S]*latest 0\.0025; baseline latest 0\.0024/);
      assert.match(label, /rollback_when fails when > 0\.05: the latest value does not meet it/);
    }, { what: 'the error_rate chart summary' });
    await visible(dave.getByRole('figure', { name: 'error_rate_increase', exact: true }));
    await ui.shot(dave, 'healthy values, every trigger passes');

    // The error rate jumps: rollback_when fails and rolls it back at the next evaluation.
    await push(server, r.id, 0, { error_rate: 0.2 });
    await hasText(dave.getByTestId('rollout-state'), 'rolled back');
    await hasText(rollbackWhen, /\bfail\b[\s\S]*error_rate = 0\.2\b[\s\S]*error_rate > 0\.05[\s\S]*firing/);
    await eventually(async () => {
      const label = await chart.getByRole('img').getAttribute('aria-label');
      assert.match(label, /4 values[\s\S]*latest 0\.2;[\s\S]*rollback_when fails when > 0\.05: the latest value meets it/);
    }, { what: 'the error_rate chart shows the jump' });
    const table = chart.getByRole('table', { includeHidden: true });
    const cells = await table.getByRole('cell', { includeHidden: true }).allInnerTexts();
    for (const v of ['0.002', '0.003', '0.0025', '0.2', '0.0024']) assert.ok(cells.includes(v), `the chart's table has ${v}: ${cells}`);
    await hasText(section(dave, 'History'), /rolled back[\s\S]*trigger:rollback_when[\s\S]*error_rate = 0\.2/);
    for (const [, name] of ROLLOUT_ACTIONS) await count(actionButton(dave, name), 0);
    await hasText(section(dave, 'Steer this rollout'), /finished: rolled back/);
    await ui.shot(dave, 'rolled back by rollback_when');
    const after = await server.apiOk('dave', 'GET', `/v1/rollouts/${r.id}`);
    assert.equal(after.state, 'rolled_back');
    assert.equal(after.history.at(-1).by, 'trigger:rollback_when');

    // The incident: its review was due a second after the rollback, so the
    // server escalates it; the overview lists it as overdue, linking to the rollout.
    const incident = await eventually(async () => {
      const { incidents } = await server.apiOk('dave', 'GET', '/v1/incidents');
      const found = incidents.find((i) => i.rollout === r.id);
      assert.ok(found && found.escalated, `an escalated incident of ${r.id}: ${JSON.stringify(incidents)}`);
      return found;
    }, { what: 'the incident of the rollback, overdue' });
    await ui.goto(dave, '#/', 'Overview');
    const overdue = dave.getByRole('list', { name: 'Overdue reviews', exact: true });
    const item = overdue.getByRole('listitem').filter({ hasText: incident.id });
    await hasText(item, /ledger · staging · rolled back by rollback_when · review overdue by \d[\s\S]*escalated/);
    await hasText(section(dave, 'Incidents'), /1 open incident, 1 review overdue/);
    await count(dave.getByRole('list', { name: 'Awaiting review', exact: true }), 0);
    await ui.shot(dave, 'overview with an overdue review');
    await item.getByRole('link', { name: r.id, exact: true }).click();
    await visible(dave.getByRole('heading', { level: 1, name: `Rollout ${r.id}`, exact: true }));

    // An incident whose review is not due yet is listed as awaiting it
    // (the answer rewritten in the browser: the governance's deadline is a second).
    const erin = await ui.as('erin');
    const hits = await rewrite(erin, '/v1/incidents', (json) => {
      for (const i of json.incidents) { i.review_due_at = Date.now() + 2 * 3600_000; i.escalated = false; }
    });
    await ui.goto(erin, '#/', 'Overview');
    const waiting = erin.getByRole('list', { name: 'Awaiting review', exact: true });
    await hasText(waiting.getByRole('listitem').filter({ hasText: incident.id }), /review due in (1 h 59 min|2 h 00 min)/);
    await count(erin.getByRole('list', { name: 'Overdue reviews', exact: true }), 0);
    assert.ok(hits.n > 0, 'the incidents were read through the rewrite');
    await ui.shot(erin, 'overview with a review not due yet');

    // Who may not review (an on-call engineer) gets no button.
    const carol = await ui.as('carol');
    await ui.goto(carol, '#/', 'Overview');
    const carolsItem = carol.getByRole('list', { name: 'Overdue reviews', exact: true }).getByRole('listitem').filter({ hasText: incident.id });
    await visible(carolsItem);
    await count(carolsItem.getByRole('button'), 0);

    // An engineering lead reviews it from the overview: both fields are required.
    await ui.goto(dave, '#/', 'Overview');
    const mine = dave.getByRole('list', { name: 'Overdue reviews', exact: true }).getByRole('listitem').filter({ hasText: incident.id });
    await mine.getByRole('button', { name: `Review ${incident.id}`, exact: true }).click();
    const dialog = dave.getByRole('dialog', { name: `Review incident ${incident.id}` });
    await visible(dialog);
    await dialog.getByRole('button', { name: 'Submit review', exact: true }).click();
    await hasText(dialog.getByRole('alert'), /both are required/);
    await dialog.getByLabel('Root cause', { exact: true }).fill('a migration locked the ledger table');
    await dialog.getByLabel('Actions taken', { exact: true }).fill('the migration now runs in batches');
    await ui.shot(dave, 'the review dialog');
    await dialog.getByRole('button', { name: 'Submit review', exact: true }).click();
    await visible(dave.getByText(`Incident ${incident.id} is reviewed; new rollouts of ledger may start again.`, { exact: true }));
    await hasText(section(dave, 'Incidents'), /0 open incidents/);
    const reviewed = (await server.apiOk('dave', 'GET', '/v1/incidents')).incidents.find((i) => i.id === incident.id);
    assert.equal(reviewed.state, 'reviewed');
    assert.equal(reviewed.reviewed_by, 'dave');
    assert.equal(reviewed.root_cause, 'a migration locked the ledger table');
  });

  uiTest(env, 'an on-call engineer pauses and resumes a rollout with the buttons; who may not steer sees none', async (ui) => {
    const { server } = env;
    const r = await open(server, 'search');
    const may = async (who) => (await server.apiOk(who, 'GET', '/v1/me')).may.rollout_overrides;

    // carol (on-call-engineer) may pause, resume and abort, not promote.
    const carol = await ui.as('carol');
    await openRolloutPage(ui, carol, r.id);
    assert.deepEqual(await buttonsMatchMay(carol, await may('carol'), 'progressing'), ['Pause', 'Abort']);
    await ui.shot(carol, 'carol may pause or abort');

    // The rationale is required: without one the dialog stays and says so.
    await actionButton(carol, 'Pause').click();
    const dialog = await visible(carol.getByRole('dialog', { name: `Pause rollout ${r.id}` }));
    await dialog.getByRole('button', { name: 'Confirm', exact: true }).click();
    await hasText(dialog.getByRole('alert'), /Give a rationale/);
    assert.equal((await server.apiOk('carol', 'GET', `/v1/rollouts/${r.id}`)).state, 'progressing');
    await ui.shot(carol, 'pause without a rationale');
    await carol.keyboard.press('Escape');
    await count(carol.getByRole('dialog'), 0);

    await steer(carol, 'Pause', 'Holding while the database migrates', 'paused');
    await hasText(carol.getByRole('status').filter({ hasText: /Recorded/ }), /now paused, at step 1 of 3/);
    assert.deepEqual(await buttonsMatchMay(carol, await may('carol'), 'paused'), ['Resume', 'Abort']);
    await hasText(section(carol, 'History'), /paused[\s\S]*carol[\s\S]*Holding while the database migrates/);
    await hasText(section(carol, 'Steps').getByRole('listitem').nth(0), /current, paused/);
    const paused = await server.apiOk('carol', 'GET', `/v1/rollouts/${r.id}`);
    assert.equal(paused.state, 'paused');
    assert.deepEqual([paused.history.at(-1).by, paused.history.at(-1).why], ['carol', 'Holding while the database migrates']);
    await ui.shot(carol, 'paused by carol');

    await steer(carol, 'Resume', 'Migration finished', 'progressing');
    assert.deepEqual(await buttonsMatchMay(carol, await may('carol'), 'progressing'), ['Pause', 'Abort']);
    const resumed = await server.apiOk('carol', 'GET', `/v1/rollouts/${r.id}`);
    assert.equal(resumed.state, 'progressing');
    assert.deepEqual([resumed.history.at(-1).by, resumed.history.at(-1).why], ['carol', 'Migration finished']);
    await ui.shot(carol, 'resumed by carol');

    // dave (engineering-lead) may do everything, promote and skip a step included.
    const dave = await ui.as('dave');
    await openRolloutPage(ui, dave, r.id);
    assert.deepEqual(await buttonsMatchMay(dave, await may('dave'), 'progressing'), ['Pause', 'Promote', 'Skip step', 'Abort']);

    // alice (engineer, who opened it) and an AI agent see the rollout and no button.
    for (const who of ['alice', 'deployment-agent-01']) {
      const page = await ui.as(who);
      await openRolloutPage(ui, page, r.id);
      assert.ok(Object.values(await may(who)).every((x) => x === false), `${who} may not steer rollouts`);
      await buttonsMatchMay(page, await may(who), 'progressing');
      await hasText(section(page, 'Steer this rollout'), /Your roles do not allow steering rollouts/);
      await visible(page.getByRole('heading', { level: 2, name: 'Checks', exact: true }));
      await ui.shot(page, `${who} sees no buttons`);
    }
    // The server refuses them too.
    const refused = await server.api('alice', 'POST', `/v1/rollouts/${r.id}/pause`, { rationale: 'mine' });
    assert.equal(refused.status, 403);
  });
}, { principals: ['alice', 'carol', 'dave', 'erin', 'deployment-agent-01'], governance: fastRollouts });
