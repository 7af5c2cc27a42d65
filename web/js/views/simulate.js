// Decision simulator (#/simulate): builds a decision request, asks the
// server what it would decide (POST /v1/decisions/simulate, which records
// nothing and opens no approval) and shows the decision with its
// explanation.

import { api } from '../api.js';
import { dl, field, h, select } from '../dom.js';
import { errorBox, pageTitle, section, stateClass } from '../ui.js';

const CHANGE_TYPES = ['code', 'security', 'infrastructure', 'ai_agent_rule', 'compliance', 'database_schema', 'model_update', 'governance_policy'];
const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'];

export async function render(ctx) {
  ctx.setTitle('Decision simulator');
  const me = ctx.me;
  const c = {
    actorType: select({ name: 'actor_type' }, [['human', 'human'], ['ai_agent', 'ai_agent'], ['service', 'service']], me.type),
    actorId: h('input', { type: 'text', name: 'actor_id', value: me.id, autocomplete: 'off', spellcheck: 'false', required: true }),
    changeType: select({ name: 'change_type' }, CHANGE_TYPES, 'code'),
    environment: select({ name: 'environment' }, ['dev', 'staging', 'production'], 'production'),
    service: h('input', { type: 'text', name: 'service', autocomplete: 'off', placeholder: 'e.g. api-gateway' }),
    version: h('input', { type: 'text', name: 'version', autocomplete: 'off', placeholder: 'e.g. 2.6.0' }),
    previous: h('input', { type: 'text', name: 'previous_version', autocomplete: 'off', placeholder: 'e.g. 2.5.4' }),
    bump: select({ name: 'bump' }, [['', 'From the versions'], 'patch', 'minor', 'major'], ''),
    summary: h('input', { type: 'text', name: 'summary', autocomplete: 'off' }),
    confidence: h('input', { type: 'number', name: 'ai_confidence', min: '0', max: '1', step: '0.01', inputmode: 'decimal', placeholder: '0.00 to 1.00' }),
    rationale: h('textarea', { name: 'ai_rationale', rows: '2' }),
    tests: h('input', { type: 'checkbox', name: 'tests_passed', checked: true }),
    scan: h('input', { type: 'checkbox', name: 'security_scan_passed', checked: true }),
    severity: select({ name: 'max_severity' }, SEVERITIES, 'none'),
    at: h('input', { type: 'datetime-local', name: 'at', step: '60' }),
  };
  const preview = h('pre', { class: 'json', tabindex: '0' });
  const errorSlot = h('div');
  const resultSlot = h('div', { class: 'simulation-slot', 'aria-live': 'polite' });

  const form = h('form', { class: 'sim-form', novalidate: true },
    h('fieldset', null, h('legend', null, 'Who asks'),
      h('div', { class: 'form-grid' },
        field('Actor type', c.actorType).wrap,
        field('Actor id', c.actorId, 'Any principal may be simulated; roles come from principals.yaml.').wrap)),
    h('fieldset', null, h('legend', null, 'The change'),
      h('div', { class: 'form-grid' },
        field('Change type', c.changeType).wrap,
        field('Environment', c.environment).wrap,
        field('Service', c.service).wrap,
        field('Summary', c.summary).wrap,
        field('Previous version', c.previous).wrap,
        field('Version', c.version).wrap,
        field('Bump', c.bump, 'Derived from the two versions unless chosen here.').wrap)),
    h('fieldset', null, h('legend', null, 'Checks'),
      h('div', { class: 'form-grid' },
        field('Tests passed', c.tests).wrap,
        field('Security scan passed', c.scan).wrap,
        field('Highest severity', c.severity, 'The highest severity the security scan found.').wrap)),
    h('fieldset', null, h('legend', null, 'AI agent'),
      h('div', { class: 'form-grid' },
        field('AI confidence', c.confidence, 'From 0 to 1; for AI agents.').wrap,
        field('AI rationale', c.rationale, 'Why the agent proposes the change.').wrap)),
    h('fieldset', null, h('legend', null, 'When'),
      h('div', { class: 'form-grid' },
        field('Decide at', c.at, 'A time in UTC for the freeze windows; empty: now.').wrap)),
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Simulate')),
    errorSlot,
    h('details', { class: 'request-preview' }, h('summary', null, 'The decision request sent'), preview));

  const body = () => {
    const change = { type: c.changeType.value, environment: c.environment.value };
    for (const [key, el] of [['service', c.service], ['version', c.version], ['previous_version', c.previous], ['summary', c.summary], ['bump', c.bump]]) {
      if (el.value.trim()) change[key] = el.value.trim();
    }
    const request = {
      actor: { type: c.actorType.value, id: c.actorId.value.trim() },
      change,
      checks: { tests_passed: c.tests.checked, security_scan: { passed: c.scan.checked, max_severity: c.severity.value } },
    };
    const ai = {};
    if (c.confidence.value.trim() !== '') ai.confidence = Number(c.confidence.value);
    if (c.rationale.value.trim()) ai.rationale = c.rationale.value.trim();
    if (Object.keys(ai).length) request.ai = ai;
    return request;
  };
  const updatePreview = () => { preview.textContent = JSON.stringify(body(), null, 2); };
  form.addEventListener('input', updatePreview);
  form.addEventListener('change', updatePreview);
  updatePreview();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorSlot.replaceChildren();
    const request = body();
    if (!request.actor.id) {
      errorSlot.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, 'Give the actor id.')));
      c.actorId.focus();
      return;
    }
    if (request.ai && 'confidence' in request.ai && !(request.ai.confidence >= 0 && request.ai.confidence <= 1)) {
      errorSlot.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, 'AI confidence is a number from 0 to 1.')));
      c.confidence.focus();
      return;
    }
    resultSlot.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Simulating…'));
    try {
      const at = c.at.value ? `${c.at.value.length === 16 ? `${c.at.value}:00` : c.at.value}Z` : '';
      const decision = await api.simulate(request, at);
      resultSlot.replaceChildren(result(decision));
    } catch (err) {
      if (err.status === 401) return;
      resultSlot.replaceChildren();
      errorSlot.append(errorBox(err, 'The request could not be simulated'));
    }
  });

  ctx.root.replaceChildren(
    pageTitle('Decision simulator'),
    h('p', { class: 'lede' }, 'What would the gate decide? The simulation uses the governance in force and the emergency stop state, records nothing and opens no approval.'),
    h('div', { class: 'sim-layout' }, form, resultSlot));
}

/** The decision, its facts, reasons and the explanation lines. */
function result(d) {
  const approvals = d.required_approvals || {};
  const reasons = Array.isArray(d.reasons) ? d.reasons : [];
  const explain = Array.isArray(d.explain) ? d.explain : [];
  const windows = ((d.freeze_windows || {}).windows || []).filter((w) => Array.isArray(w.in_force) && w.in_force.length);
  return section('Simulated decision', { class: 'card simulation-result', 'data-testid': 'simulation-result' },
    h('p', { class: 'decision-line' }, 'Decision ',
      h('span', { class: ['badge', 'badge-lg', stateClass(d.decision)], 'data-testid': 'simulation-decision' }, d.decision)),
    dl([
      ['Risk level', d.risk_level],
      ['Approvals', approvals.count ? `${approvals.count}${(approvals.roles || []).length ? `, including ${approvals.roles.join(', ')}` : ''}` : 'none'],
      ['Eligible roles', (approvals.eligible_roles || []).join(', ') || undefined],
      ['Workflow', d.workflow || 'none'],
      ['AI agent role', d.ai_agent_role || undefined],
      ['Matched rule', d.matched_rule || 'none'],
    ]),
    h('h3', null, 'Reasons'),
    reasons.length ? h('ol', { class: 'reasons' }, reasons.map((r) => h('li', null, r))) : h('p', { class: 'muted' }, 'No reasons given.'),
    h('h3', null, 'Freeze windows in force'),
    windows.length
      ? h('ul', { class: 'freeze-windows', 'data-testid': 'simulation-freezes' }, windows.flatMap((w) => w.in_force.map((f) => h('li', null, f.reason))))
      : h('p', { class: 'muted', 'data-testid': 'simulation-freezes' }, 'None at this time.'),
    h('h3', null, 'Every rule considered'),
    explain.length ? h('ul', { class: 'explain' }, explain.map((r) => h('li', null, r))) : h('p', { class: 'muted' }, 'No explanation given.'),
    d.governance_version ? h('p', { class: 'hint mono' }, `Governance ${d.governance_version}`) : null);
}
