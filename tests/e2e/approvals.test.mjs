// Approvals: raised through the API, acted on in the dashboard.
import { suite, uiTest } from './lib/ui.mjs';
import { assert, count, eventually, hasText, hidden, visible } from './lib/expect.mjs';
import { ACTIONS, act, actionButton, buttonsMatchYourActions, openApproval, section } from './lib/approval-page.mjs';
import { AI_PRODUCTION_PATCH, PRODUCTION_MINOR } from './lib/requests.mjs';

async function raise(server, principal, request) {
  const decision = await server.apiOk(principal, 'POST', '/v1/decisions', request);
  assert.equal(decision.decision, 'require_approval', JSON.stringify(decision));
  return decision.approval_id;
}

suite('approvals', (env) => {
  uiTest(env, 'an approval raised through the API is completed in the UI by two approvers', async (ui) => {
    const { server } = env;
    const id = await raise(server, 'alice', PRODUCTION_MINOR);

    // bob (team-lead) finds it in the list, filtered by state and by search.
    const bob = await ui.as('bob');
    await ui.goto(bob, '#/approvals', 'Approvals');
    const link = bob.getByRole('link', { name: id, exact: true });
    await visible(link);
    await bob.getByLabel('State', { exact: true }).selectOption('approved');
    await count(link, 0);
    await bob.getByLabel('State', { exact: true }).selectOption('pending');
    await visible(link);
    await bob.getByLabel('Search', { exact: true }).fill('no such approval anywhere');
    await count(link, 0);
    await bob.getByLabel('Search', { exact: true }).fill('per-tenant rate');
    await visible(link);
    await ui.shot(bob, 'bob lists pending approvals');
    await link.click();
    await visible(bob.getByRole('heading', { level: 1, name: `Approval ${id}`, exact: true }));
    await hasText(bob.getByTestId('approval-state'), 'pending');

    // What the seed (000 §6.3) says an approver must see.
    for (const h2 of ['Change', 'Risk', 'Checks', 'Rollback', 'Approvals', 'Deadline', 'History']) {
      await visible(bob.getByRole('heading', { level: 2, name: h2, exact: true }));
    }
    await count(bob.getByRole('heading', { level: 2, name: 'AI recommendation', exact: true }), 0);
    await hasText(section(bob, 'Change'), /Add per-tenant rate limits/);
    await hasText(section(bob, 'Risk'), /high/);
    await hasText(section(bob, 'Rollback'), /Re-deploy 2\.5\.4/);
    await hasText(section(bob, 'Approvals'), /team-lead/); // the missing mandatory role
    // The deadline counts down every second.
    const countdown = bob.getByTestId('deadline-countdown');
    const before = await hasText(countdown, /\d/);
    await eventually(async () => assert.notEqual((await countdown.innerText()).trim(), before),
      { timeout: 3000, what: 'the deadline countdown ticks' });
    await ui.shot(bob, 'bob sees the pending approval');

    await act(bob, 'Approve', 'Rate limits reviewed; rollback plan is sound', 'pending');
    await hasText(section(bob, 'Approvals'), /\bbob\b/);
    await hasText(section(bob, 'History'), /\bbob\b/);
    const afterBob = await server.apiOk('bob', 'GET', `/v1/approvals/${id}`);
    assert.equal(afterBob.state, 'pending');
    assert.deepEqual(afterBob.approvals.map((a) => a.principal), ['bob']);
    await buttonsMatchYourActions(bob, afterBob.your_actions);
    await ui.shot(bob, 'after the first approval');

    // carol (on-call-engineer) completes it.
    const carol = await ui.as('carol');
    await openApproval(ui, carol, id);
    await hasText(carol.getByTestId('approval-state'), 'pending');
    await act(carol, 'Approve', 'On call; dashboards are green', 'approved');
    for (const [, name] of ACTIONS) await count(actionButton(carol, name), 0);
    await hasText(section(carol, 'Approvals'), /\bcarol\b/);
    await ui.shot(carol, 'approved by two');
    const done = await server.apiOk('carol', 'GET', `/v1/approvals/${id}`);
    assert.equal(done.state, 'approved');
    assert.deepEqual(done.approvals.map((a) => a.principal).sort(), ['bob', 'carol']);

    await bob.reload();
    await hasText(bob.getByTestId('approval-state'), 'approved');
  });

  uiTest(env, 'action buttons are shown only to a principal who may act (not the requester, not an AI agent)', async (ui) => {
    const { server } = env;
    const id = await raise(server, 'alice', PRODUCTION_MINOR);
    const agentId = await raise(server, 'deployment-agent-01', AI_PRODUCTION_PATCH);

    // Positive control: bob may act, and sees exactly his actions.
    const bob = await ui.as('bob');
    await openApproval(ui, bob, id);
    const bobView = await server.apiOk('bob', 'GET', `/v1/approvals/${id}`);
    assert.ok(bobView.your_actions.includes('approve'), `bob may approve: ${JSON.stringify(bobView.your_actions)}`);
    await buttonsMatchYourActions(bob, bobView.your_actions);
    await ui.shot(bob, 'bob may act');

    // The requester sees the approval but no action.
    const alice = await ui.as('alice');
    await openApproval(ui, alice, id);
    await hasText(alice.getByTestId('approval-state'), 'pending');
    await visible(alice.getByRole('heading', { level: 2, name: 'Change', exact: true }));
    for (const [, name] of ACTIONS) await count(actionButton(alice, name), 0);
    await ui.shot(alice, 'requester sees no actions');

    // An AI agent sees its own approval, with its recommendation, and no action;
    // a human's approval it neither reviews nor may read is not shown to it.
    const agent = await ui.as('deployment-agent-01');
    await openApproval(ui, agent, agentId);
    await hasText(agent.getByTestId('approval-state'), 'pending');
    await visible(agent.getByRole('heading', { level: 2, name: 'AI recommendation', exact: true }));
    await hasText(section(agent, 'AI recommendation'), /all tests and the canary are green/);
    for (const [, name] of ACTIONS) await count(actionButton(agent, name), 0);
    await ui.shot(agent, 'AI agent sees its approval without actions');
    await server.apiOk('deployment-agent-01', 'GET', `/v1/approvals/${id}`, undefined, 404);
    ui.allowConsoleError(/status of 404/);  // the browser logs the refused read
    await ui.goto(agent, `#/approvals/${id}`, `Approval ${id}`);
    await visible(agent.getByRole('alert'));
    for (const [, name] of ACTIONS) await count(actionButton(agent, name), 0);

    // Neither may stop everything: no Emergency stop button for them; trent may.
    const trent = await ui.as('trent');
    await ui.goto(trent, '#/', 'Overview');
    await visible(trent.getByRole('button', { name: 'Emergency stop', exact: true }));
    for (const page of [alice, agent]) {
      await ui.goto(page, '#/', 'Overview');
      await visible(page.getByRole('heading', { level: 2, name: 'Pending approvals', exact: true }));
      await count(page.getByRole('button', { name: 'Emergency stop', exact: true }), 0);
    }
    await ui.shot(agent, 'AI agent overview without emergency stop');
  });

  uiTest(env, 'the delegate dialog offers the candidates, Escape closes it, and a rejection is final', async (ui) => {
    const { server } = env;
    const id = await raise(server, 'alice', PRODUCTION_MINOR);
    const bob = await ui.as('bob');
    await openApproval(ui, bob, id);
    const detail = await server.apiOk('bob', 'GET', `/v1/approvals/${id}`);
    assert.ok(detail.delegate_candidates.length > 0, 'bob has someone to delegate to');

    await actionButton(bob, 'Delegate').click();
    const dialog = await visible(bob.getByRole('dialog'));
    const options = (await dialog.getByLabel('Delegate to', { exact: true }).locator('option').allTextContents()).map((t) => t.trim());
    for (const candidate of detail.delegate_candidates) {
      assert.ok(options.some((o) => o.includes(candidate)), `"Delegate to" offers ${candidate}: ${options}`);
    }
    assert.ok(!options.some((o) => /\b(alice|bob)\b/.test(o)), `neither the requester nor bob is offered: ${options}`);
    await ui.shot(bob, 'delegate dialog');
    await bob.keyboard.press('Escape');
    await hidden(bob.getByRole('dialog'));
    assert.equal((await server.apiOk('bob', 'GET', `/v1/approvals/${id}`)).delegations.length, 0);

    await act(bob, 'Reject', 'Needs a load test first', 'rejected');
    for (const [, name] of ACTIONS) await count(actionButton(bob, name), 0);
    await ui.shot(bob, 'rejected');
    assert.equal((await server.apiOk('bob', 'GET', `/v1/approvals/${id}`)).state, 'rejected');
  });
}, { principals: ['alice', 'bob', 'carol', 'trent', 'deployment-agent-01'] });
