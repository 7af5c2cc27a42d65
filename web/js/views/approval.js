// Approval detail (#/approvals/<id>): everything 000 §6.3 asks an approval
// interface to show (change summary, risk, test results, security scan,
// rollback procedure, AI recommendation and rationale, approvals so far
// with roles, deadline countdown and escalation state, history), and the
// actions the signed-in principal may take now (the server's your_actions).

import { api } from '../api.js';
import { openDialog } from '../dialog.js';
import { dl, field, h, select, table } from '../dom.js';
import { formatCountdown, formatDuration, formatTime, scopeText } from '../format.js';
import { errorBox, pageTitle, section, stateClass, time } from '../ui.js';

const FINAL = ['approved', 'rejected', 'blocked'];

// Button label, what the action does, and its noun, by action name, in display order.
const ACTIONS = {
  approve: ['Approve', 'The change may proceed once every required approval is in.', 'approval'],
  reject: ['Reject', 'The change is blocked. This is final.', 'rejection'],
  request_changes: ['Request changes', 'The change goes back to its requester for modifications.', 'request for changes'],
  escalate: ['Escalate', 'Sends the approval to a higher authority, who becomes a required approver, and starts a new deadline.', 'escalation'],
  delegate: ['Delegate', 'Hands your review to another approver who holds an eligible role.', 'delegation'],
  resubmit: ['Resubmit', 'Starts a new revision of the change; the approvals so far are cleared.', 'resubmission'],
};

export async function render(ctx) {
  const id = ctx.params[0];
  ctx.setTitle(`Approval ${id}`);
  const page = new ApprovalPage(ctx, id);
  await page.load();
}

/** The description of an active emergency stop that covers approval `a`, or null. */
function coveringStop(stop, a) {
  if (!stop) return null;
  if (stop.active) return 'global';
  const c = a.change || {};
  for (const st of stop.scoped || []) {
    if (!st.active || !st.scope) continue;
    const sc = st.scope;
    if ((sc.environment && sc.environment === c.environment) || (sc.service && sc.service === c.service)
      || (sc.agent && sc.agent === a.requester.id)) return scopeText(sc);
  }
  return null;
}

class ApprovalPage {
  constructor(ctx, id) {
    this.ctx = ctx;
    this.id = id;
    this.flash = h('div', { class: 'flash' });
    this.ticker = null;
    this.autoReloads = 0; // reloads after a passed deadline, at most 3
    ctx.onCleanup(() => this.stopTicker());
  }

  stopTicker() {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  async load() {
    try {
      // The stop state only explains a missing "Approve"; its failure is not the page's.
      const [a, stop] = await Promise.all([
        api.approval(this.id, { signal: this.ctx.signal }),
        api.stop({ signal: this.ctx.signal }).catch(() => null),
      ]);
      this.stop = stop;
      this.render(a);
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      this.ctx.root.replaceChildren(pageTitle(`Approval ${this.id}`), errorBox(e, 'The approval could not be read'),
        h('p', null, h('a', { href: '#/approvals' }, 'Back to the list')));
    }
  }

  render(a) {
    this.stopTicker();
    const c = a.change || {};
    const head = pageTitle(`Approval ${a.id}`);
    const summary = h('p', { class: 'lede' },
      h('span', { class: ['badge', 'badge-lg', stateClass(a.state)], 'data-testid': 'approval-state' }, a.state), ' ',
      c.summary || `${c.type} change`, ' ',
      h('span', { class: 'muted' }, `— requested by ${a.requester.id}, `, time(a.created_at, formatTime(a.created_at))));
    const ai = a.requester.type === 'ai_agent';
    const parts = [
      h('p', { class: 'breadcrumb' }, h('a', { href: '#/approvals' }, '← Every approval')),
      head,
      summary,
      this.flash,
      this.actions(a),
      h('div', { class: 'grid-2' }, this.change(a), this.risk(a)),
      h('div', { class: 'grid-2' }, this.checks(c), this.rollback(c)),
      ai ? this.aiRecommendation(a) : null,
      h('div', { class: 'grid-2' }, this.approvals(a), this.deadline(a)),
      this.history(a)];
    this.ctx.root.replaceChildren(...parts.filter(Boolean));
  }

  actions(a) {
    const mine = (a.your_actions || []).filter((x) => ACTIONS[x]);
    const ordered = Object.keys(ACTIONS).filter((x) => mine.includes(x));
    const wrap = h('section', { class: 'card actions-card', 'aria-labelledby': 'your-decision' }, h('h2', { id: 'your-decision' }, 'Your decision'));
    if (ordered.length) {
      wrap.append(h('div', { class: 'action-buttons' }, ordered.map((name) => h('button', {
        type: 'button',
        class: name === 'approve' ? 'btn btn-primary' : name === 'reject' ? 'btn btn-danger-outline' : 'btn',
        onclick: () => this.actionDialog(a, name),
      }, ACTIONS[name][0]))));
      wrap.append(h('p', { class: 'hint' }, 'Each action asks for your rationale, which is kept in the audit log.'));
      const stop = coveringStop(this.stop, a);
      if (stop && !ordered.includes('approve')) {
        wrap.append(h('p', { class: 'warn-text' }, `An emergency stop covers this change (${stop}): an approval that would complete it is refused until the stop is deactivated.`));
      }
    } else if (FINAL.includes(a.state)) {
      wrap.append(h('p', null, `This approval is closed: ${a.state}.`));
    } else if (a.requester.id === this.ctx.me.id) {
      wrap.append(h('p', null, a.state === 'changes_requested'
        ? 'Changes were requested; resubmit the change from your pipeline when it is ready.'
        : 'You requested this change, so others review it.'));
    } else {
      wrap.append(h('p', null, `You cannot act on this approval now. Roles that may review it: ${(a.eligible_roles || []).join(', ')}.`));
    }
    return wrap;
  }

  actionDialog(a, name) {
    const [label, what, noun] = ACTIONS[name];
    const rationale = h('textarea', { rows: '4', required: true, 'aria-required': 'true', maxlength: '4096' });
    const fields = [field('Rationale', rationale, 'Why you take this action; recorded in the audit log.').wrap];
    let to = null;
    if (name === 'delegate') {
      const candidates = a.delegate_candidates || [];
      to = select({ required: true }, [['', candidates.length ? 'Choose a person…' : 'Nobody can take it'], ...candidates], '');
      fields.unshift(field('Delegate to', to).wrap);
    }
    openDialog({
      title: `${label} ${a.id}`,
      intro: what,
      fields,
      confirmLabel: 'Confirm',
      danger: name === 'reject',
      validate: () => {
        if (to && !to.value) return 'Choose whom to delegate to.';
        if (!rationale.value.trim()) return 'Give a rationale: it is required for every action.';
        return null;
      },
      onConfirm: async () => {
        const body = { rationale: rationale.value.trim() };
        if (to) body.to = to.value;
        const answer = await api.act(a.id, name, body);
        const index = answer.audit_index;
        this.flash.replaceChildren(h('div', { class: 'msg msg-ok', role: 'status' }, h('p', null,
          `Your ${noun} is recorded. The approval is now ${answer.state}.`,
          index !== undefined ? [' ', h('a', { href: `#/audit/${index}` }, `Audit entry #${index}`)] : null)));
        await this.load();
      },
    });
  }

  change(a) {
    const c = a.change;
    const versions = c.version || c.previous_version ? `${c.previous_version || '?'} → ${c.version || '?'} (${c.bump})` : c.bump;
    return section('Change', null, dl([
      ['Summary', c.summary || 'No summary given'],
      ['Type', c.type.replaceAll('_', ' ')],
      ['Service', c.service || undefined],
      ['Environment', c.environment],
      ['Version', versions],
      ['Requested by', `${a.requester.id} (${a.requester.type.replace('_', ' ')})`],
      ['Workflow', a.workflow],
      ['Revision', String(a.revision)],
      ['Opened', time(a.created_at, formatTime(a.created_at))],
    ]));
  }

  risk(a) {
    const c = a.change;
    return section('Risk', null,
      h('p', { class: 'risk-line' }, 'Risk level ', h('span', { class: ['badge', 'badge-lg', stateClass(c.risk_level)] }, c.risk_level)),
      dl([
        ['Approvals needed', `${a.required_approvals} distinct ${a.required_approvals === 1 ? 'person' : 'people'}`],
        ['Mandatory roles', (a.mandatory_roles || []).join(', ') || 'none'],
        ['Eligible roles', (a.eligible_roles || []).join(', ')],
      ]));
  }

  checks(c) {
    const tests = c.tests_passed === undefined ? ['not reported', 'neutral'] : c.tests_passed ? ['passed', 'ok'] : ['failed', 'bad'];
    const scan = c.security_scan || {};
    const scanText = scan.passed === undefined ? ['not reported', 'neutral'] : scan.passed ? ['passed', 'ok'] : ['failed', 'bad'];
    const mark = ([text, kind]) => h('span', { class: `check check-${kind}` },
      h('span', { 'aria-hidden': 'true' }, kind === 'ok' ? '✓ ' : kind === 'bad' ? '✗ ' : '– '), text);
    return section('Checks', null, dl([
      ['Test results', mark(tests)],
      ['Security scan', mark(scanText)],
      ['Highest severity', scan.max_severity || 'not reported'],
    ]));
  }

  rollback(c) {
    return section('Rollback', null, c.rollback_plan
      ? h('p', { class: 'prewrap' }, c.rollback_plan)
      : h('p', { class: 'warn-text' }, 'No rollback procedure was given with this change.'));
  }

  aiRecommendation(a) {
    const ai = a.change.ai || {};
    const confidence = typeof ai.confidence === 'number' ? `${Math.round(ai.confidence * 100)} %` : 'not given';
    return section('AI recommendation', null,
      h('p', null, `The AI agent ${a.requester.id} requested this change and recommends it. An AI agent cannot approve it: people decide.`),
      dl([
        ['Confidence', confidence],
        ['Rationale', ai.rationale ? h('span', { class: 'prewrap' }, ai.rationale) : 'not given'],
      ]));
  }

  approvals(a) {
    const list = a.approvals || [];
    const nodes = [h('p', null, `${list.length} of ${a.required_approvals} approval${a.required_approvals === 1 ? '' : 's'} so far (revision ${a.revision})`,
      a.approvals_needed ? `; ${a.approvals_needed} more needed.` : '.')];
    if (list.length) {
      nodes.push(h('ul', { class: 'approval-list' }, list.map((x) => h('li', null,
        h('p', null, h('strong', null, x.principal), ` (${(x.roles || []).join(', ')}) approved `, time(x.at, formatTime(x.at))),
        x.rationale ? h('blockquote', null, x.rationale) : null))));
    }
    if ((a.missing_roles || []).length) {
      nodes.push(h('p', { class: 'warn-text' }, a.missing_roles.length === 1
        ? `Still missing: an approval from a ${a.missing_roles[0]}.`
        : `Still missing: an approval from each of ${a.missing_roles.join(', ')}.`));
    } else if (!FINAL.includes(a.state)) {
      nodes.push(h('p', { class: 'muted' }, 'Every mandatory role has approved.'));
    }
    if ((a.delegations || []).length) {
      nodes.push(h('h3', null, 'Delegations'), h('ul', null, a.delegations.map((d) => h('li', null,
        `${d.from} delegated to ${d.to} (${d.role}) `, time(d.at, formatTime(d.at))))));
    }
    return section('Approvals', null, ...nodes);
  }

  deadline(a) {
    const open = a.state === 'pending' || a.state === 'escalated';
    const countdown = h('p', { class: 'countdown', 'data-testid': 'deadline-countdown' });
    const nodes = [countdown, dl([
      ['Deadline', time(a.deadline, formatTime(a.deadline))],
      ['Timeout', formatDuration((a.timeout_ms || 0) / 1000)],
    ])];
    if (a.escalated) {
      nodes.push(h('p', { class: 'escalation escalated' }, h('strong', null, 'Escalated'),
        a.escalation_role ? `: ${a.escalation_role} was added as a required approver.` : '.',
        open ? ' If this deadline passes too, the approval is blocked.' : ''));
    } else if (a.escalation_role) {
      nodes.push(h('p', { class: 'escalation' }, h('strong', null, 'Not escalated'),
        open ? `. When the deadline passes it escalates to ${a.escalation_role}; if that deadline passes too, it is blocked.` : '.'));
    } else {
      nodes.push(h('p', { class: 'escalation' }, h('strong', null, 'Not escalated'),
        open ? '. This workflow has no escalation role: when the deadline passes, the approval is blocked.' : '.'));
    }
    if (!open) {
      countdown.textContent = FINAL.includes(a.state) ? `Closed: ${a.state}.` : 'Paused: waiting for the requester to resubmit.';
      return section('Deadline', null, ...nodes);
    }
    const end = Date.parse(a.deadline);
    const tick = () => {
      const left = (end - Date.now()) / 1000;
      if (left > 0) {
        countdown.textContent = `${formatCountdown(Math.ceil(left))} left`;
        countdown.classList.toggle('urgent', left < 300);
        return;
      }
      countdown.textContent = `Deadline passed ${formatCountdown(-left)} ago`;
      countdown.classList.add('urgent');
      // The server acts on a deadline within a second; show its outcome once,
      // unless a dialog is open (a reload would not disturb it, but the user is busy).
      if (this.ticker && this.autoReloads < 3 && -left > 2 + 2 * this.autoReloads && !document.querySelector('dialog[open]')) {
        this.autoReloads += 1;
        this.stopTicker();
        this.load();
      }
    };
    tick();
    this.ticker = setInterval(tick, 1000);
    return section('Deadline', null, ...nodes);
  }

  history(a) {
    const rows = (a.history || []).map((x) => [
      time(x.at, formatTime(x.at)),
      `${x.actor}${x.actor_type && x.actor_type !== 'human' ? ` (${x.actor_type.replace('_', ' ')})` : ''}`,
      x.action.replaceAll('_', ' '),
      String(x.revision),
      h('span', { class: 'prewrap' }, x.rationale || ''),
    ]);
    return section('History', null, rows.length
      ? table('History', ['When', 'Who', 'Action', 'Revision', 'Rationale'], rows, 'data-table')
      : h('p', { class: 'muted' }, 'No history.'));
  }
}

