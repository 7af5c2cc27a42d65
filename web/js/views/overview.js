// Overview (#/): the emergency stop at a glance and its controls, pending
// approvals, the rollbacks' open incidents and overdue reviews, the audit
// log's size and latest checkpoint, and the charts.

import { api } from '../api.js';
import { approvalLatency, decisionsPerHour } from '../charts.js';
import { openDialog } from '../dialog.js';
import { dl, field, h, select } from '../dom.js';
import { fromBase64, toHex } from '../bytes.js';
import { formatDuration, formatRelative, formatTime, isoOfMillis, scopeText, shortHash } from '../format.js';
import { trustedKey } from '../keystore.js';
import { parseVerifierKey, verifyCheckpoint } from '../note.js';
import { badge, errorBox, loading, pageTitle, section, time } from '../ui.js';

const POLL_MS = 10000;

export async function render(ctx) {
  ctx.setTitle('Overview');
  const flash = h('div', { class: 'flash' });
  const stopCard = section('Emergency stop', { class: 'card stop-card' }, loading());
  const pendingCard = section('Pending approvals', null, loading());
  const incidentsCard = section('Incidents', null, loading());
  const freezeCard = section('Freeze windows', null, loading());
  const auditCard = section('Audit log', null, loading());
  const activityCard = section('Activity', { class: 'card activity-card' });
  ctx.root.replaceChildren(
    pageTitle('Overview'),
    flash,
    stopCard,
    h('div', { class: 'grid-2' }, pendingCard, incidentsCard, freezeCard, auditCard),
    activityCard);

  /** Shows a one-line success message (role="status") above the cards. */
  const say = (text) => flash.replaceChildren(h('div', { class: 'msg msg-ok', role: 'status' }, h('p', null, text)));

  const stop = new StopPanel(ctx, stopCard, say);
  await Promise.all([
    stop.load(),
    loadPending(ctx, pendingCard),
    loadIncidents(ctx, incidentsCard, say),
    loadFreezes(ctx, freezeCard),
    loadAudit(ctx, auditCard),
    loadActivity(ctx, activityCard),
  ]);
  const timer = setInterval(() => stop.load(true), POLL_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

/** Replaces a card's content after its h2. */
function fill(card, ...nodes) {
  const heading = card.querySelector('h2');
  card.replaceChildren(heading, ...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

// ---------------------------------------------------------------- emergency stop

class StopPanel {
  constructor(ctx, card, say) {
    this.ctx = ctx;
    this.card = card;
    this.say = say;
    this.last = null;
    this.draft = { post_incident_review: '', root_cause: '', prevention_measures: '' };
  }

  /**
   * Fetches the stop state and who may do what, and renders them. `quiet`
   * (the poll) re-renders only when the state changed and hides errors.
   */
  async load(quiet = false) {
    try {
      let me;
      let state;
      if (quiet) {
        state = await api.stop({ signal: this.ctx.signal });
        if (JSON.stringify(state) === this.last) return;
        me = await this.ctx.refreshMe(); // a signature changes who may still sign
      } else {
        [me, state] = await Promise.all([this.ctx.refreshMe(), api.stop({ signal: this.ctx.signal })]);
      }
      this.last = JSON.stringify(state);
      this.render(state, me);
    } catch (e) {
      if (e.name === 'AbortError' || (quiet && e.status !== 401)) return;
      if (e.status === 401) return;
      fill(this.card, errorBox(e, 'The emergency stop state could not be read'));
    }
  }

  render(state, me) {
    const may = (me && me.may) || {};
    const nodes = [];
    const activeScoped = (state.scoped || []).filter((x) => x.active);
    if (state.active || activeScoped.length) nodes.push(banner(state, activeScoped));
    else {
      nodes.push(h('p', { class: 'all-clear' }, h('span', { class: 'dot dot-ok', 'aria-hidden': 'true' }),
        'No emergency stop is active. Automation runs under the governance rules.'));
    }

    if (!state.active) {
      if (may.activate_emergency_stop) {
        nodes.push(h('div', { class: 'stop-action' },
          h('button', { type: 'button', class: 'btn btn-stop', onclick: () => this.activateDialog() }, 'Emergency stop'),
          h('p', { class: 'hint' }, 'Refuses every automated change and disables AI agents until two people sign its deactivation.')));
      } else {
        nodes.push(h('p', { class: 'hint' }, 'Your roles do not allow activating the emergency stop.'));
      }
    }

    if (state.active) nodes.push(this.deactivation(state, may));
    else if (state.ai_agents_disabled) nodes.push(this.aiDisabled(state, null, may));

    if ((state.scoped || []).length) nodes.push(this.scopedList(state.scoped, may));
    fill(this.card, ...nodes);
  }

  /** The pending signatures and, for those allowed, the deactivation form of the global stop. */
  deactivation(state, may) {
    const pending = state.pending_deactivation || { signatures: [], pending_roles: [] };
    const wrap = h('div', { class: 'deactivation' });
    wrap.append(pendingText(pending));
    if (!may.deactivate_emergency_stop) {
      const mine = (pending.signatures || []).find((x) => x.principal === this.ctx.me.id);
      wrap.append(h('p', { class: 'hint' }, mine
        ? `You signed the deactivation as ${mine.role}; another person signs for the roles still needed.`
        : 'Your roles do not allow signing the deactivation.'));
      return wrap;
    }
    const headingId = 'deactivate-heading';
    const errorSlot = h('div');
    const areas = [
      ['post_incident_review', 'Post-incident review', 'A reference to the review, e.g. PIR-7.'],
      ['root_cause', 'Root cause', 'What caused the incident.'],
      ['prevention_measures', 'Prevention measures', 'What now prevents it from happening again.'],
    ].map(([name, label, hint]) => {
      const area = h('textarea', { name, rows: '2', required: true, value: this.draft[name],
        oninput: (e) => { this.draft[name] = e.target.value; } });
      return { ...field(label, area, hint), label };
    });
    const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign deactivation');
    const form = h('form', { class: 'deactivate-form', 'aria-labelledby': headingId, novalidate: true },
      h('h3', { id: headingId }, 'Deactivate the emergency stop'),
      h('p', { class: 'hint' }, `Each signature is by a different person for one of the roles still needed: ${(pending.pending_roles || []).join(', ') || 'none'}.`),
      areas.map((a) => a.wrap),
      errorSlot,
      button);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      errorSlot.replaceChildren();
      const body = { action: 'deactivate' };
      for (const a of areas) body[a.input.name] = a.input.value.trim();
      const missing = areas.filter((a) => !a.input.value.trim()).map((a) => a.label);
      if (missing.length) {
        errorSlot.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, `Fill in: ${missing.join(', ')}.`)));
        return;
      }
      button.disabled = true;
      try {
        const answer = await api.stopAction(body);
        this.draft = { post_incident_review: '', root_cause: '', prevention_measures: '' };
        this.say(answer.message || 'Your signature was recorded.');
        await this.load();
      } catch (err) {
        if (err.status !== 401) errorSlot.append(errorBox(err, 'The deactivation was not signed'));
      } finally {
        button.disabled = false;
      }
    });
    wrap.append(form);
    return wrap;
  }

  /** The notice that AI agents stay disabled after a stop, with the re-enable button. */
  aiDisabled(state, scope, may) {
    const where = scope ? ` (${scopeText(scope)})` : '';
    const box = h('div', { class: 'notice' },
      h('p', null, `AI agents stay disabled after the emergency stop${where} until someone allowed re-enables them.`));
    if (may.reenable_ai_agents) {
      const label = scope ? `Re-enable AI agents for ${scopeText(scope)}` : 'Re-enable AI agents';
      box.append(h('button', { type: 'button', class: 'btn', onclick: () => this.reenableDialog(scope) }, label));
    }
    return box;
  }

  scopedList(scoped, may) {
    const list = h('ul', { class: 'scoped-list' });
    for (const st of scoped) {
      const name = scopeText(st.scope);
      const item = h('li', { class: st.active ? 'scoped scoped-active' : 'scoped' },
        h('p', { class: 'scoped-head' }, h('strong', null, name), ' ', h('span', { class: st.active ? 'badge badge-danger' : 'badge badge-neutral' }, st.active ? 'active' : 'inactive')),
        st.activated_by ? h('p', null, st.active ? 'Active since ' : 'Last activated ', time(st.activated_at, formatTime(st.activated_at)),
          ` by ${st.activated_by}: ${st.reason}`, st.deactivated_at ? `; deactivated ${formatTime(st.deactivated_at)}` : '') : null);
      if (st.active) {
        const p = st.pending_deactivation;
        if (p && p.signatures && p.signatures.length) {
          item.append(h('p', null, `Signed: ${p.signatures.map((x) => `${x.principal} as ${x.role}`).join(', ')}; still needed: ${p.pending_roles.join(', ')}.`));
        }
        if (may.deactivate_emergency_stop) {
          item.append(h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.deactivateScopedDialog(st.scope) }, `Deactivate ${name}`));
        }
      } else if (st.ai_agents_disabled) {
        item.append(this.aiDisabled(st, st.scope, may));
      }
      list.append(item);
    }
    return h('div', { class: 'scoped-wrap' }, h('h3', null, 'Scoped stops'), list);
  }

  activateDialog() {
    const reason = h('textarea', { rows: '3', required: true });
    const understood = h('input', { type: 'checkbox' });
    const scopeKind = select({}, [['', 'Everything (global stop)'], ['environment', 'One environment'], ['service', 'One service'], ['agent', 'One AI agent']], '');
    const scopeValue = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const scopeValueField = field('Environment, service or agent id', scopeValue, 'e.g. production, payments or deployment-agent-01');
    scopeValueField.wrap.hidden = true;
    scopeKind.addEventListener('change', () => { scopeValueField.wrap.hidden = !scopeKind.value; });
    openDialog({
      title: 'Activate the emergency stop',
      intro: 'Every automated change is refused and AI agents are disabled until the stop is deactivated with two signatures. Everyone who can approve or deactivate is notified.',
      fields: [
        field('Reason', reason, 'What is happening; everyone notified sees it.').wrap,
        field('What to stop', scopeKind).wrap,
        scopeValueField.wrap,
        field('I understand that every automated change will be refused', understood).wrap,
      ],
      confirmLabel: 'Activate emergency stop',
      danger: true,
      canConfirm: () => reason.value.trim() !== '' && understood.checked && (!scopeKind.value || scopeValue.value.trim() !== ''),
      onConfirm: async () => {
        const body = { action: 'activate', reason: reason.value.trim() };
        if (scopeKind.value) body.scope = { [scopeKind.value]: scopeValue.value.trim() };
        const answer = await api.stopAction(body);
        this.say(answer.message || 'The emergency stop is active.');
        await this.load();
      },
    });
  }

  deactivateScopedDialog(scope) {
    const inputs = ['post_incident_review', 'root_cause', 'prevention_measures'].map((name) => h('textarea', { name, rows: '2' }));
    const labels = ['Post-incident review', 'Root cause', 'Prevention measures'];
    openDialog({
      title: `Deactivate the emergency stop (${scopeText(scope)})`,
      intro: 'Each signature is by a different person holding one of the roles still needed.',
      fields: inputs.map((input, i) => field(labels[i], input).wrap),
      confirmLabel: 'Sign for this scope',
      canConfirm: () => inputs.every((i) => i.value.trim() !== ''),
      onConfirm: async () => {
        const body = { action: 'deactivate', scope };
        for (const i of inputs) body[i.name] = i.value.trim();
        const answer = await api.stopAction(body);
        this.say(answer.message || 'Your signature was recorded.');
        await this.load();
      },
    });
  }

  reenableDialog(scope) {
    const reason = h('textarea', { rows: '3' });
    openDialog({
      title: scope ? `Re-enable AI agents (${scopeText(scope)})` : 'Re-enable AI agents',
      intro: 'AI agents may act again under the governance rules once re-enabled.',
      fields: [field('Reason', reason).wrap],
      confirmLabel: 'Re-enable AI agents',
      canConfirm: () => reason.value.trim() !== '',
      onConfirm: async () => {
        const body = { action: 'reenable_ai_agents', reason: reason.value.trim() };
        if (scope) body.scope = scope;
        const answer = await api.stopAction(body);
        this.say(answer.message || 'AI agents are re-enabled.');
        await this.load();
      },
    });
  }
}

/** The red banner: the global stop and the active scoped ones. */
function banner(state, activeScoped) {
  const lines = [];
  const describe = (st) => [
    h('p', null, 'Activated by ', h('strong', null, st.activated_by), ' since ',
      time(st.activated_at, formatTime(st.activated_at)), ` (${formatRelative(st.activated_at)})`,
      st.incident ? `, incident ${st.incident}` : ''),
    h('p', null, 'Reason: ', h('strong', null, st.reason)),
  ];
  let title;
  if (state.active) {
    title = 'Emergency stop active';
    lines.push(h('p', { class: 'banner-lede' }, 'Every automated change is refused and AI agents are disabled.'), ...describe(state));
    if (activeScoped.length) {
      lines.push(h('p', null, `Also stopped: ${activeScoped.map((x) => scopeText(x.scope)).join('; ')}.`));
    }
  } else if (activeScoped.length === 1) {
    title = `Emergency stop active: ${scopeText(activeScoped[0].scope)}`;
    lines.push(h('p', { class: 'banner-lede' }, `Changes under ${scopeText(activeScoped[0].scope)} are refused.`), ...describe(activeScoped[0]));
  } else {
    title = `Emergency stop active for ${activeScoped.length} scopes`;
    lines.push(h('ul', null, activeScoped.map((st) => h('li', null,
      h('strong', null, scopeText(st.scope)), `: by ${st.activated_by} since `, time(st.activated_at, formatTime(st.activated_at)),
      ` — ${st.reason}`))));
  }
  return h('div', { class: 'stop-banner', role: 'alert', 'data-testid': 'stop-banner' },
    h('p', { class: 'banner-title' }, h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '■'), title), ...lines);
}

/** "Deactivation pending: erin signed as security-lead …; still needed: engineering-lead." */
function pendingText(pending) {
  const sigs = pending.signatures || [];
  const roles = pending.pending_roles || [];
  if (!sigs.length) {
    return h('p', { class: 'pending-text' },
      `Deactivation needs one signature for each of: ${roles.join(', ') || 'the deactivation roles'} (different people), with the post-incident review, root cause and prevention measures.`);
  }
  return h('div', { class: 'pending-text pending-signed' },
    h('p', null, h('strong', null, 'Deactivation pending'), ': ',
      sigs.map((sgn, i) => [i ? '; ' : '', h('strong', null, sgn.principal), ` signed as ${sgn.role} `, time(sgn.at, formatTime(sgn.at))])),
    h('p', null, `Still needed: ${roles.join(', ') || 'nobody'}.`));
}

// ---------------------------------------------------------------- approvals

async function loadPending(ctx, card) {
  try {
    const { approvals = [] } = await api.approvals(undefined, { signal: ctx.signal });
    const open = approvals.filter((a) => a.state === 'pending' || a.state === 'escalated');
    const escalated = open.filter((a) => a.state === 'escalated').length;
    const mine = open.filter((a) => (a.your_actions || []).some((x) => x !== 'resubmit')).length;
    open.sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline));
    const shown = open.slice(0, 8);
    fill(card,
      h('p', { class: 'big-number' }, h('span', { class: 'number' }, String(open.length)), ' ',
        open.length === 1 ? 'approval waiting' : 'approvals waiting',
        escalated ? `, ${escalated} escalated` : '', mine ? `; you can act on ${mine}` : ''),
      shown.length ? h('ul', { class: 'link-list' }, shown.map((a) => h('li', null,
        h('a', { href: `#/approvals/${encodeURIComponent(a.id)}`, class: 'mono' }, a.id), ' ',
        badge(a.change.risk_level), ' ', a.state === 'escalated' ? badge('escalated') : null,
        h('span', { class: 'muted' }, ` ${a.change.service || a.change.type} · ${a.change.environment} · due ${formatRelative(a.deadline)}`),
        (a.your_actions || []).some((x) => x !== 'resubmit') ? h('span', { class: 'tag' }, 'you can act') : null))) : h('p', { class: 'muted' }, 'Nothing waits for a decision.'),
      open.length > shown.length ? h('p', null, `and ${open.length - shown.length} more.`) : null,
      h('p', null, h('a', { href: '#/approvals' }, 'See every approval')));
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    fill(card, errorBox(e, 'The approvals could not be read'));
  }
}

// ---------------------------------------------------------------- incidents

/**
 * One incident of a rollback: its rollout, service, trigger and when its
 * review is due; and, for whom safety/canary.yml rollout_overrides.review
 * allows, a button that submits the review.
 */
function incidentItem(i, now, review) {
  const due = isoOfMillis(i.review_due_at);
  let when = 'no review deadline';
  if (due) when = i.review_due_at <= now ? `review overdue by ${formatDuration(Math.ceil((now - i.review_due_at) / 1000))}` : `review due ${formatRelative(due, now)}`;
  return h('li', null,
    h('a', { href: `#/rollouts/${encodeURIComponent(i.rollout)}`, class: 'mono' }, i.rollout), ' ',
    h('span', null, ` ${i.service} · ${i.environment} · rolled back by ${i.trigger} · `),
    due ? time(due, when) : when,
    i.escalated ? h('span', { class: 'tag' }, 'escalated') : null,
    h('span', { class: 'muted' }, ` (${i.id})`),
    review ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => review(i) }, `Review ${i.id}`) : null);
}

/** The review dialog of incident `i`: root cause and actions taken, both required. */
function reviewDialog(i, done) {
  const cause = h('textarea', { rows: '3', required: true, 'aria-required': 'true', maxlength: '4096' });
  const actions = h('textarea', { rows: '3', required: true, 'aria-required': 'true', maxlength: '4096' });
  openDialog({
    title: `Review incident ${i.id}`,
    intro: `Rollout ${i.rollout} of ${i.service} in ${i.environment} was rolled back by ${i.trigger}. The review lets new rollouts of ${i.service} start again.`,
    fields: [
      field('Root cause', cause, 'What made the rollout fail; recorded in the audit log.').wrap,
      field('Actions taken', actions, 'What was done so that it does not happen again.').wrap,
    ],
    confirmLabel: 'Submit review',
    validate: () => (cause.value.trim() && actions.value.trim() ? null : 'Give the root cause and the actions taken: both are required.'),
    onConfirm: async () => {
      await api.reviewIncident(i.id, { root_cause: cause.value.trim(), actions_taken: actions.value.trim() });
      done(i);
    },
  });
}

async function loadIncidents(ctx, card, say) {
  const may = (ctx.me && ctx.me.may && ctx.me.may.rollout_overrides) || {};
  const review = may.review ? (i) => reviewDialog(i, (done) => {
    say(`Incident ${done.id} is reviewed; new rollouts of ${done.service} may start again.`);
    loadIncidents(ctx, card, say);
  }) : null;
  try {
    const { incidents = [] } = await api.incidents({ signal: ctx.signal });
    const now = Date.now();
    const open = incidents.filter((i) => i.state === 'open');
    const overdue = open.filter((i) => i.review_due_at > 0 && i.review_due_at <= now);
    const waiting = open.filter((i) => !overdue.includes(i));
    const byDue = (a, b) => (a.review_due_at || Infinity) - (b.review_due_at || Infinity);
    overdue.sort(byDue);
    waiting.sort(byDue);
    const services = [...new Set(open.map((i) => i.service))];
    const nodes = [h('p', { class: 'big-number' }, h('span', { class: 'number' }, String(open.length)), ' ',
      open.length === 1 ? 'open incident' : 'open incidents', overdue.length ? `, ${overdue.length} review${overdue.length === 1 ? '' : 's'} overdue` : '')];
    if (!open.length) nodes.push(h('p', { class: 'muted' }, 'Every rollback has been reviewed.'));
    for (const [id, title, list] of [['overdue-reviews', 'Overdue reviews', overdue], ['awaiting-review', 'Awaiting review', waiting]]) {
      if (!list.length) continue;
      nodes.push(h('h3', { id }, title), h('ul', { class: 'link-list', 'aria-labelledby': id }, list.map((i) => incidentItem(i, now, review))));
    }
    if (services.length) nodes.push(h('p', { class: 'hint' }, `New rollouts of ${services.join(', ')} may be refused until the review is in.`));
    nodes.push(h('p', null, h('a', { href: '#/rollouts' }, 'See every rollout')));
    fill(card, ...nodes);
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    fill(card, errorBox(e, 'The incidents could not be read'));
  }
}

// ---------------------------------------------------------- freeze windows

/** The freeze windows in force now, each with what it holds and until when. */
async function loadFreezes(ctx, card) {
  try {
    const { windows = [] } = await api.freezeWindows({ signal: ctx.signal });
    const now = Date.now();
    const items = windows.flatMap((w) => (w.in_force || []).map((f) => ({ w, f })));
    const nodes = [h('p', { class: 'big-number' }, h('span', { class: 'number' }, String(items.length)), ' ',
      items.length === 1 ? 'window in force' : 'windows in force')];
    if (!items.length) {
      nodes.push(h('p', { class: 'muted' }, windows.length ? `None of the ${windows.length} windows holds changes now.` : 'The governance defines no freeze window.'));
    } else {
      nodes.push(h('ul', { class: 'link-list', 'aria-label': 'Freeze windows in force', 'data-testid': 'freezes-in-force' }, items.map(({ w, f }) => {
        const scope = [f.service, f.environment || (w.environments || []).join(', ')].filter(Boolean).join(' · ');
        const until = f.until ? time(f.until, `until ${formatTime(f.until)} (${formatRelative(f.until, now)})`) : 'until the review is in';
        return h('li', null,
          h('strong', null, w.name), ' ',
          h('span', null, ` ${scope || 'every change'} · `), until,
          w.break_glass ? h('span', { class: 'tag' }, `break-glass: ${w.break_glass}`) : null,
          h('div', { class: 'hint' }, w.schedule));
      })));
    }
    fill(card, ...nodes);
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    fill(card, errorBox(e, 'The freeze windows could not be read'));
  }
}

// ---------------------------------------------------------------- audit log

async function loadAudit(ctx, card) {
  try {
    const [health, cp] = await Promise.all([api.health({ signal: ctx.signal }), api.checkpoint({ signal: ctx.signal })]);
    const lines = cp.note.split('\n');
    let rootHex = '';
    try {
      rootHex = toHex(fromBase64(lines[2]));
    } catch {
      rootHex = '(unreadable)';
    }
    const sig = h('span', null, 'checking…');
    fill(card,
      h('p', { class: 'big-number' }, h('span', { class: 'number' }, String(health.audit_size)), ' entries'),
      h('h3', null, 'Latest checkpoint'),
      dl([
        ['Tree size', lines[1]],
        ['Root hash', h('code', { title: rootHex }, shortHash(rootHex))],
        ['Origin', h('code', null, lines[0])],
        ['Signature', sig],
      ]),
      h('p', null, h('a', { href: '#/audit' }, 'Search and verify entries')));
    checkSignature(cp, sig);
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    fill(card, errorBox(e, 'The audit log could not be read'));
  }
}

/** Checks the checkpoint's signature against the trusted key, if there is one. */
async function checkSignature(cp, out) {
  const trusted = trustedKey();
  if (!trusted) {
    out.replaceChildren('not checked yet: verify an entry to pin the log’s key');
    return;
  }
  try {
    const key = await parseVerifierKey(trusted.key);
    await verifyCheckpoint(cp.note, key);
    out.replaceChildren(h('span', { class: 'ok-text' }, '✓ valid'), ', checked in this browser with the trusted key');
  } catch (e) {
    out.replaceChildren(h('span', { class: 'bad-text', role: 'alert' }, `✗ does not verify with the trusted key: ${e.message}`));
  }
}

// ---------------------------------------------------------------- charts

async function loadActivity(ctx, card) {
  const period = select({ id: 'chart-period' }, [['24', 'Last 24 hours'], ['72', 'Last 3 days'], ['168', 'Last 7 days']], '24');
  const charts = h('div', { class: 'charts' }, loading());
  const controls = h('div', { class: 'inline-field' }, h('label', { for: 'chart-period' }, 'Chart period'), period);
  fill(card, controls, charts);
  const draw = async () => {
    charts.replaceChildren(loading());
    const hours = Number(period.value);
    try {
      const stats = await api.stats(hours, { signal: ctx.signal });
      charts.replaceChildren(decisionsPerHour(stats.decisions_per_hour), approvalLatency(stats.approval_latency, hours));
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      charts.replaceChildren(errorBox(e, 'The statistics could not be read'));
    }
  };
  period.addEventListener('change', draw);
  await draw();
}
