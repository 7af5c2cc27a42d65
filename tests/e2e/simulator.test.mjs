// The decision simulator (#/simulate): answers what `interlock decide
// --explain` answers, and writes nothing.
import { suite, uiTest } from './lib/ui.mjs';
import { assert, hasText } from './lib/expect.mjs';
import { simulate } from './lib/simulator.mjs';

// Each case: what is typed into the form, and the same request for the CLI.
const CASES = [
  {
    name: 'AI agent, dev patch',
    form: {
      'Actor type': 'ai_agent', 'Actor id': 'deployment-agent-01', 'Change type': 'code', Environment: 'dev',
      Service: 'api-gateway', Version: '2.5.4', 'Previous version': '2.5.3', Summary: 'Fix retry backoff',
      'AI confidence': '0.92', 'Tests passed': true, 'Security scan passed': true, 'Highest severity': 'none',
    },
    decision: 'allow',
  },
  {
    name: 'human, production minor',
    form: {
      'Actor type': 'human', 'Actor id': 'alice', 'Change type': 'code', Environment: 'production',
      Service: 'api-gateway', Version: '2.6.0', 'Previous version': '2.5.4', Summary: 'Add per-tenant rate limits',
      'Tests passed': true, 'Security scan passed': true, 'Highest severity': 'low',
    },
    decision: 'require_approval',
  },
  {
    name: 'service, failed security scan',
    form: {
      'Actor type': 'service', 'Actor id': 'ci-pipeline', 'Change type': 'code', Environment: 'staging',
      Service: 'billing', Version: '1.4.2', 'Previous version': '1.4.1', Summary: 'Bump dependencies',
      'Tests passed': true, 'Security scan passed': false, 'Highest severity': 'critical',
    },
    decision: 'deny',
  },
];

// The request `interlock decide` takes for the same form.
function cliRequest(form, roles) {
  const request = {
    actor: { type: form['Actor type'], id: form['Actor id'], roles },
    change: {
      type: form['Change type'], environment: form.Environment, service: form.Service,
      version: form.Version, previous_version: form['Previous version'], summary: form.Summary,
    },
    checks: { tests_passed: form['Tests passed'],
      security_scan: { passed: form['Security scan passed'], max_severity: form['Highest severity'] } },
  };
  if (form['AI confidence']) request.ai = { confidence: Number(form['AI confidence']), rationale: 'simulated' };
  return request;
}

suite('decision simulator', (env) => {
  uiTest(env, 'the simulator answers allow, require_approval and deny with the explanation, and writes nothing', async (ui) => {
    const { server } = env;
    const approvalsBefore = (await server.apiOk('alice', 'GET', '/v1/approvals')).approvals.length;
    const page = await ui.as('alice');
    await ui.goto(page, '#/simulate', 'Decision simulator');
    await page.waitForLoadState('networkidle');
    const auditBefore = (await server.apiOk(null, 'GET', '/healthz')).audit_size;

    for (const c of CASES) {
      await simulate(page, c.form);
      await hasText(page.getByTestId('simulation-decision'), c.decision);
      const result = page.getByTestId('simulation-result');
      const shown = (await result.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
      // The explanation is the engine's: every line `interlock decide --explain` gives.
      const roles = { alice: ['engineer'], 'deployment-agent-01': ['engineer'], 'ci-pipeline': ['engineer'] }[c.form['Actor id']];
      const cli = await server.decideCli(cliRequest(c.form, roles));
      assert.equal(cli.decision, c.decision, `the CLI agrees on the case ${c.name}`);
      assert.ok(cli.explain.length > 0);
      for (const line of cli.explain) {
        assert.ok(shown.some((s) => s.includes(line)), `the simulator shows "${line}" for ${c.name}; it shows:\n${shown.join('\n')}`);
      }
      await ui.shot(page, `simulated ${c.decision}`);
    }

    const approvalsAfter = (await server.apiOk('alice', 'GET', '/v1/approvals')).approvals.length;
    assert.equal(approvalsAfter, approvalsBefore, 'simulating a require_approval opened no approval');
    assert.equal((await server.apiOk(null, 'GET', '/healthz')).audit_size, auditBefore, 'simulating recorded nothing');
  });
}, { principals: ['alice'] });
