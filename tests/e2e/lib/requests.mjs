// Decision requests the tests raise through POST /v1/decisions. The actor
// must be the token's principal (the server takes its roles from
// principals.yaml of `interlock init`).
//
// Principals of `interlock init` the tests use:
//   alice               engineer (payments): a requester; may not approve, may not stop
//   bob                 team-lead (payments): first approver (the mandatory team-lead)
//   carol               on-call-engineer: second approver, completing production_deployment;
//                       pauses, resumes and aborts rollouts
//   trent               on-call-engineer: activates the emergency stop
//   dave                engineering-lead: first deactivation signature; every rollout action
//   erin                security-lead: second deactivation signature; reads the whole audit log
//   deployment-agent-01 ai_agent: never approves, never stops, never steers a rollout

// code x production x minor: require_approval, 2 approvers with a team-lead
// (workflow production_deployment). examples/requests/2-human-production-minor.json.
export const PRODUCTION_MINOR = {
  actor: { type: 'human', id: 'alice', roles: ['engineer'], team: 'payments' },
  change: {
    type: 'code', environment: 'production', service: 'api-gateway',
    version: '2.6.0', previous_version: '2.5.4', summary: 'Add per-tenant rate limits',
  },
  checks: { tests_passed: true, security_scan: { passed: true, max_severity: 'low' } },
  metadata: {
    change_id: 'CHANGE-42', author: 'alice', owner: 'frank', timestamp: '2026-12-01T10:00:00Z',
    rationale: 'Tenants exhaust shared capacity',
    impact: "Requests over a tenant's limit are answered 429",
    tests_run: ['unit', 'integration', 'load'],
    artifacts: ['api-gateway@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    approvals: [], rollback_plan: 'Re-deploy 2.5.4', risk_level: 'high',
  },
};

// An AI agent's production patch: require_approval (the agent may only
// recommend), workflow production_deployment.
export const AI_PRODUCTION_PATCH = {
  actor: { type: 'ai_agent', id: 'deployment-agent-01' },
  change: {
    type: 'code', environment: 'production', service: 'checkout',
    version: '4.1.3', previous_version: '4.1.2', summary: 'Fix currency rounding',
  },
  ai: { confidence: 0.91, rationale: 'Patch release; all tests and the canary are green' },
  checks: { tests_passed: true, security_scan: { passed: true, max_severity: 'none' } },
};

// code x dev x patch by a human: allow.
export const DEV_PATCH = {
  actor: { type: 'human', id: 'alice' },
  change: {
    type: 'code', environment: 'dev', service: 'api-gateway',
    version: '2.5.4', previous_version: '2.5.3', summary: 'Fix retry backoff',
  },
  checks: { tests_passed: true, security_scan: { passed: true, max_severity: 'none' } },
};

// code x staging x patch by a human: allow, the decision a rollout follows
// (POST /v1/rollouts with its audit_index). A rollback's incident blocks
// new rollouts of its service, so each test names a service of its own.
export function stagingPatch(service, version = '1.4.1') {
  return {
    actor: { type: 'human', id: 'alice' },
    change: {
      type: 'code', environment: 'staging', service,
      version, previous_version: '1.4.0', summary: 'Tune the connection pool',
    },
    checks: { tests_passed: true, security_scan: { passed: true, max_severity: 'none' } },
  };
}

// Opens the rollout of a new allowed staging patch of `service` as alice
// (the decision's actor); `body` adds to POST /v1/rollouts (e.g. strategy).
// Returns the rollout as answered (201).
export async function openRollout(server, service, body = {}) {
  const decision = await server.apiOk('alice', 'POST', '/v1/decisions', stagingPatch(service));
  if (decision.decision !== 'allow') throw new Error(`the staging patch was not allowed: ${JSON.stringify(decision)}`);
  return server.apiOk('alice', 'POST', '/v1/rollouts',
    { audit_index: decision.audit_index, baseline_version: '1.4.0', ...body }, 201);
}
