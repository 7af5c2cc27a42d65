// Rollout detail (#/rollouts/<id>): the change and where the rollout
// stands, its traffic steps with the current one marked, each trigger's and
// the promotion criterion's latest result with its values and thresholds,
// a chart per metric against its thresholds, the history, and the actions
// canary.yml rollout_overrides lets the signed-in principal take (/v1/me's
// may.rollout_overrides), each with a mandatory rationale. While the
// rollout is not finished, the page reads it again every evaluation
// interval (1 to 5 s) and redraws the parts that changed.

import { api } from '../api.js';
import { metricChart } from '../charts.js';
import { openDialog } from '../dialog.js';
import { dl, field, h, table } from '../dom.js';
import { formatDuration, formatPercent, formatRelative, formatTime, formatValue, isoOfMillis, scopeText, words } from '../format.js';
import { errorBox, pageTitle, section, time } from '../ui.js';
import { rolloutBadge, versionText } from './rollouts.js';

const FINAL = ['promoted', 'rolled_back', 'aborted'];

// Button label and what the action does, by action name, in display order.
const ACTIONS = {
  pause: ['Pause', 'The rollout stays at its step: it is still evaluated and a trigger still rolls it back, but it does not move forward until someone resumes it.'],
  resume: ['Resume', 'The rollout goes on from its step; the step’s monitoring starts again from now.'],
  promote: ['Promote', 'The rollout goes to its last step (100 % of traffic) and is promoted, whatever its checks say. This is final.'],
  skip_step: ['Skip step', 'The rollout moves to its next step now (promoted after the last one).'],
  abort: ['Abort', 'The rollout is aborted. This is final: the deployment tooling takes the change back.'],
};

// Actions that move a rollout forward: refused while an emergency stop covers it.
const FORWARD = ['promote', 'resume', 'skip_step'];

/** Whether `action` can be taken on a rollout in `state` (the server's 409s). */
function fits(action, state) {
  if (FINAL.includes(state)) return false;
  if (action === 'pause' || action === 'skip_step') return state === 'progressing';
  if (action === 'resume') return state === 'paused';
  return true;
}

/** The description of an active emergency stop that covers rollout `r`, or null. */
function coveringStop(stop, r) {
  if (!stop) return null;
  if (stop.active) return 'global';
  for (const st of stop.scoped || []) {
    const sc = st.active && st.scope;
    if (sc && ((sc.environment && sc.environment === r.change.environment) || (sc.service && sc.service === r.change.service))) {
      return scopeText(sc);
    }
  }
  return null;
}

/** A <time> for Unix milliseconds. */
function at(ms, text) {
  const iso = isoOfMillis(ms);
  return time(iso, text ?? formatTime(iso));
}

export async function render(ctx) {
  const id = ctx.params[0];
  ctx.setTitle(`Rollout ${id}`);
  const page = new RolloutPage(ctx, id);
  await page.load();
}

class RolloutPage {
  constructor(ctx, id) {
    this.ctx = ctx;
    this.id = id;
    this.flash = h('div', { class: 'flash' });
    this.parts = new Map(); // name -> {key, node}
    this.timer = null;
    this.reads = 0; // a read's answer is shown only if no later read started
    ctx.onCleanup(() => this.stopPolling());
  }

  /** The rollout now, or null when a later read overtook this one. */
  async latest() {
    const read = ++this.reads;
    const r = await api.rollout(this.id, { signal: this.ctx.signal });
    return read === this.reads ? r : null;
  }

  stopPolling() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async load() {
    try {
      // The stop state only explains a refused promote or resume; its failure is not the page's.
      const [r, me, stop] = await Promise.all([
        this.latest(),
        this.ctx.refreshMe(),
        api.stop({ signal: this.ctx.signal }).catch(() => null),
      ]);
      this.me = me;
      this.stop = stop;
      this.show(r);
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      this.ctx.root.replaceChildren(pageTitle(`Rollout ${this.id}`), errorBox(e, 'The rollout could not be read'),
        h('p', null, h('a', { href: '#/rollouts' }, 'Back to the list')));
    }
  }

  /** Reads the rollout again; redraws what changed, unless a dialog is open. */
  async refresh() {
    if (document.querySelector('dialog[open]')) return;
    try {
      const r = await this.latest();
      if (r && !document.querySelector('dialog[open]')) this.show(r);
    } catch {
      // The next poll tries again; an expired token signs out through api.js.
    }
  }

  show(r) {
    this.rollout = r;
    const parts = [
      ['lede', [r.state, r.step, r.traffic_percent], () => this.lede(r)],
      ['actions', [r.state, this.stop], () => this.actions(r)],
      ['facts', [r.state, r.step, r.evaluations, r.escalation, r.next_evaluation_at], () => h('div', { class: 'grid-2' }, this.change(r), this.progress(r))],
      ['checks', [r.checks], () => this.checks(r)],
      ['metrics', [r.metrics, r.checks.map((c) => c.thresholds)], () => this.metrics(r)],
      ['history', [r.history], () => this.history(r)],
    ];
    const first = !this.parts.size;
    for (const [name, keyOf, build] of parts) {
      const key = JSON.stringify(keyOf);
      const old = this.parts.get(name);
      if (old && old.key === key) continue;
      const node = build();
      if (old) old.node.replaceWith(node);
      this.parts.set(name, { key, node });
    }
    if (first) {
      this.ctx.root.replaceChildren(
        h('p', { class: 'breadcrumb' }, h('a', { href: '#/rollouts' }, '← Every rollout')),
        pageTitle(`Rollout ${r.id}`),
        this.flash,
        ...[...this.parts.values()].map((p) => p.node));
    }
    if (FINAL.includes(r.state)) this.stopPolling();
    else if (!this.timer) {
      const every = Math.min(5000, Math.max(1000, r.interval_ms || 5000));
      this.timer = setInterval(() => this.refresh(), every);
    }
  }

  lede(r) {
    return h('p', { class: 'lede' },
      rolloutBadge(r.state, { large: true, 'data-testid': 'rollout-state' }), ' ',
      h('span', { class: 'strong' }, `${r.change.service} ${r.change.version || ''}`.trim()), ` in ${r.change.environment}: `,
      h('span', { 'data-testid': 'rollout-step' }, `step ${r.step} of ${r.steps}, ${formatPercent(r.traffic_percent)} of traffic`), '.');
  }

  actions(r) {
    const may = (this.me && this.me.may && this.me.may.rollout_overrides) || {};
    const mine = Object.keys(ACTIONS).filter((name) => may[name] && fits(name, r.state));
    const wrap = h('section', { class: 'card actions-card', 'aria-labelledby': 'steer-heading' }, h('h2', { id: 'steer-heading' }, 'Steer this rollout'));
    if (mine.length) {
      wrap.append(h('div', { class: 'action-buttons' }, mine.map((name) => h('button', {
        type: 'button',
        class: name === 'abort' ? 'btn btn-danger-outline' : name === 'promote' ? 'btn btn-primary' : 'btn',
        onclick: () => this.actionDialog(r, name),
      }, ACTIONS[name][0]))));
      wrap.append(h('p', { class: 'hint' }, 'Each action asks for your rationale, which is kept in the audit log and the rollout’s history.'));
      const stop = coveringStop(this.stop, r);
      if (stop && mine.some((name) => FORWARD.includes(name))) {
        wrap.append(h('p', { class: 'warn-text' }, `An emergency stop covers this rollout (${stop}): promoting, resuming or skipping a step is refused until it is deactivated.`));
      }
    } else if (FINAL.includes(r.state)) {
      wrap.append(h('p', null, `This rollout is finished: ${words(r.state)}.`));
    } else if (Object.values(may).some(Boolean)) {
      wrap.append(h('p', null, `Your roles allow no action on a rollout that is ${words(r.state)}.`));
    } else {
      wrap.append(h('p', null, 'Your roles do not allow steering rollouts (safety/canary.yml rollout_overrides names who may).'));
    }
    return wrap;
  }

  actionDialog(r, name) {
    const [label, what] = ACTIONS[name];
    const rationale = h('textarea', { rows: '4', required: true, 'aria-required': 'true', maxlength: '4096' });
    openDialog({
      title: `${label} rollout ${r.id}`,
      intro: what,
      fields: [field('Rationale', rationale, 'Why you take this action; recorded in the audit log.').wrap],
      confirmLabel: 'Confirm',
      danger: name === 'abort',
      validate: () => (rationale.value.trim() ? null : 'Give a rationale: it is required for every action.'),
      onConfirm: async () => {
        const answer = await api.steer(r.id, name, { rationale: rationale.value.trim() });
        this.flash.replaceChildren(h('div', { class: 'msg msg-ok', role: 'status' },
          h('p', null, `Recorded. The rollout is now ${words(answer.state)}, at step ${answer.step} of ${answer.steps}.`)));
        const now = await this.latest();
        if (now) this.show(now);
      },
      // The button that opened the dialog may be gone with the state it fitted.
      onClosed: () => {
        if (document.activeElement && document.activeElement !== document.body) return;
        const next = this.ctx.root.querySelector('.action-buttons button') || this.ctx.root.querySelector('h1');
        if (next) next.focus();
      },
    });
  }

  change(r) {
    const c = r.change;
    let source = 'not recorded';
    if (c.approval_id) source = h('a', { href: `#/approvals/${encodeURIComponent(c.approval_id)}`, class: 'mono' }, c.approval_id);
    else if (c.audit_index !== null && c.audit_index !== undefined) source = h('a', { href: `#/audit/${c.audit_index}` }, `Decision, audit entry #${c.audit_index}`);
    return section('Change', null, dl([
      ['Service', c.service],
      ['Environment', c.environment],
      ['Version', versionText(c)],
      ['Risk', c.risk || 'not given'],
      ['Allowed by', source],
      ['Opened by', c.opened_by],
      ['Opened', at(r.created_at)],
    ]));
  }

  progress(r) {
    const list = h('ol', { class: 'step-list', 'aria-label': 'Traffic steps' }, r.traffic_steps.map((pct, i) => {
      const n = i + 1;
      const current = n === r.step;
      let status = 'to come';
      if (n < r.step || (current && r.state === 'promoted')) status = 'done';
      else if (current) status = r.state === 'progressing' ? 'current' : `current, ${words(r.state)}`;
      return h('li', { class: ['step', current ? 'step-current' : null, status === 'done' ? 'step-done' : null], 'aria-current': current ? 'step' : null },
        h('span', { class: 'step-name' }, `Step ${n}`), ' ',
        h('span', { class: 'step-traffic' }, formatPercent(pct)), ' ',
        h('span', { class: 'step-status' }, status));
    }));
    const next = r.next_evaluation_at ? at(r.next_evaluation_at, formatRelative(isoOfMillis(r.next_evaluation_at))) : 'none: the rollout is finished';
    return section('Steps', null, list, dl([
      ['Strategy', r.strategy],
      ['This step since', at(r.step_started_at)],
      ['Monitoring per step', `at least ${formatDuration(r.monitoring_ms / 1000)}`],
      ['Evaluated', `every ${formatDuration(r.interval_ms / 1000)}; ${r.evaluations} evaluation${r.evaluations === 1 ? '' : 's'} so far`],
      ['Next evaluation', next],
      ['Escalation', r.escalation ? h('a', { href: `#/approvals/${encodeURIComponent(r.escalation)}`, class: 'mono' }, r.escalation) : undefined],
    ]));
  }

  checks(r) {
    const rows = r.checks.map((c) => {
      const kind = c.kind === 'criterion' ? 'Promotion criterion' : `Trigger: ${words(c.action)}${c.dry_run ? ' (dry run)' : ''}`;
      const result = c.result ? rolloutBadge(c.result) : h('span', { class: 'badge badge-neutral' }, 'not evaluated yet');
      const values = c.values.length
        ? h('ul', { class: 'plain-list' }, c.values.map((v) => h('li', null, v.status === 'value'
          ? `${v.name} = ${formatValue(v.value)} (${v.samples} sample${v.samples === 1 ? '' : 's'})`
          : `${v.name}: ${v.status === 'error' ? 'error' : 'no data'}${v.detail ? ` (${v.detail})` : ''}`)))
        : h('span', { class: 'muted' }, c.result ? 'none read' : 'not read yet');
      const thresholds = c.thresholds.length
        ? h('ul', { class: 'plain-list' }, c.thresholds.map((t) => h('li', null, `${t.metric} ${t.op} ${formatValue(t.value)}`)))
        : h('span', { class: 'muted' }, 'none');
      const recent = c.recent_failures || [];
      const notes = [];
      if (c.detail) notes.push(h('p', null, c.detail));
      if (c.kind !== 'criterion' && recent.length) notes.push(h('p', { class: 'muted' }, `${recent.filter(Boolean).length} of the last ${recent.length} counted results failed`));
      if (c.firing) notes.push(h('p', { class: 'bad-text' }, c.dry_run ? 'firing (dry run: no action)' : 'firing'));
      if (c.at) notes.push(h('p', { class: 'muted' }, 'at ', at(c.at, formatTime(isoOfMillis(c.at)))));
      return [
        [h('span', { class: 'strong' }, c.name), h('br'), h('code', { class: 'condition' }, c.condition)],
        kind, result, values, thresholds, notes.length ? notes : '',
      ];
    });
    return section('Checks', null,
      h('p', { class: 'hint' }, 'A trigger fails when its condition holds, and rolls the rollout back (or escalates) when it fires; the promotion criterion passes when its condition holds. Insufficient data never promotes.'),
      rows.length ? table('Checks', ['Check', 'Kind', 'Latest result', 'Values', 'Thresholds', 'Notes'], rows, 'data-table')
        : h('p', { class: 'muted' }, 'This rollout has no checks.'));
  }

  metrics(r) {
    const limits = new Map(); // metric -> thresholds
    for (const c of r.checks) {
      for (const t of c.thresholds) {
        if (!limits.has(t.metric)) limits.set(t.metric, []);
        limits.get(t.metric).push({ check: c.name, criterion: c.kind === 'criterion', op: t.op, value: t.value });
      }
    }
    const figures = [];
    for (const [name, m] of Object.entries(r.metrics || {})) {
      const note = !m.canary.length && m.missing_at ? `The source's latest answer was ${m.missing === 'error' ? 'an error' : 'no data'}${m.missing_detail ? `: ${m.missing_detail}` : ''}.` : '';
      figures.push(metricChart({ name, canary: m.canary, baseline: m.baseline, thresholds: limits.get(name) || [], note }));
      // A threshold on X_increase or X_degradation reads X's canary against its baseline.
      for (const [suffix, sign] of [['_increase', 1], ['_degradation', -1]]) {
        const derived = `${name}${suffix}`;
        if (limits.has(derived) && !(derived in r.metrics) && m.baseline.length) {
          figures.push(metricChart({ name: derived, canary: relative(m.canary, m.baseline, sign), thresholds: limits.get(derived),
            note: `The relative change of ${name} against the baseline, from the points below.` }));
        }
      }
    }
    return section('Metrics', null,
      figures.length ? h('div', { class: 'charts' }, figures)
        : h('p', { class: 'muted' }, 'No metric values yet: they are pushed (POST /v1/rollouts/{id}/metrics) or queried from Prometheus at each evaluation.'));
  }

  history(r) {
    const rows = r.history.slice().reverse().map((x) => [
      at(x.at),
      words(x.event),
      rolloutBadge(x.state),
      String(x.step),
      x.by,
      h('span', { class: 'prewrap' }, x.why || ''),
    ]);
    return section('History', null, rows.length
      ? table('History, newest first', ['When', 'Event', 'State', 'Step', 'By', 'Why'], rows, 'data-table')
      : h('p', { class: 'muted' }, 'No history.'));
  }
}

/**
 * (canary − baseline) / baseline (sign 1) or (baseline − canary) / baseline
 * (sign −1) at each canary point, against the latest baseline point at or
 * before it; points without a finite change are left out.
 */
function relative(canary, baseline, sign) {
  const out = [];
  for (const [t, c] of canary) {
    let b = null;
    for (const [bt, bv] of baseline) if (bt <= t) b = bv;
    if (b === null) continue;
    const change = b === 0 ? (c === 0 ? 0 : null) : (sign * (c - b)) / b;
    if (change !== null && Number.isFinite(change)) out.push([t, change]);
  }
  return out;
}
