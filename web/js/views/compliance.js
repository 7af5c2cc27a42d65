// Compliance (#/compliance): the control catalogue evaluated now against the
// server's own log and state (GET /v1/compliance), per framework: each
// control with its outcome, evidence, expiry and waiver, then the drill
// calendar. The framework lives in the hash (#/compliance?framework=SOC2).

import { api } from '../api.js';
import { h, select, table } from '../dom.js';
import { formatRelative, formatTime, words } from '../format.js';
import { errorBox, loading, pageTitle, section, stateClass, time } from '../ui.js';

export const OUTCOMES = ['pass', 'fail', 'waived', 'error', 'not_applicable'];

const OUTCOME_CLASS = { waived: 'badge-info', not_applicable: 'badge-neutral' };

/** An outcome as a coloured badge in words ("not applicable"). */
export function outcomeBadge(outcome) {
  return h('span', { class: ['badge', OUTCOME_CLASS[outcome] || stateClass(outcome)] }, words(outcome));
}

/** The frameworks a report's controls map to ("SOC2" of "SOC2:CC6.1"), sorted. */
export function frameworksOf(report) {
  const ids = new Set();
  for (const c of report.controls || []) {
    for (const m of c.maps || []) ids.add(m.split(':')[0]);
  }
  return [...ids].sort();
}

function when(iso) {
  return iso ? time(iso, formatTime(iso)) : h('span', { class: 'muted' }, '—');
}

function waiverOf(c) {
  const w = c.waiver;
  if (!w) return h('span', { class: 'muted' }, '—');
  const parts = [w.state === 'expired' ? 'expired' : '', w.justification || ''];
  if (w.expires) parts.push(`until ${formatTime(w.expires)}`);
  if (w.approved_by) parts.push(`approved by ${[].concat(w.approved_by).join(', ')}`);
  return h('span', { class: 'waiver' }, parts.filter(Boolean).join('; '));
}

function evidenceOf(c) {
  const items = c.evidence || [];
  if (!items.length) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'evidence' }, items.map((e) => h('li', { class: 'mono' }, e)));
}

/** The controls' table: one row per control. */
function controlsTable(controls) {
  return table('Control outcomes', ['Control', 'Outcome', 'Why', 'Evidence', 'Evidence of', 'Expires', 'Waiver', 'Requirements'],
    controls.map((c) => [
      h('div', null, h('span', { class: 'mono strong' }, c.id), h('div', { class: 'muted' }, c.description)),
      c.evaluated && c.evaluated !== c.outcome
        ? h('span', null, outcomeBadge(c.outcome), ' ', h('span', { class: 'muted' }, `(${words(c.evaluated)})`))
        : outcomeBadge(c.outcome),
      c.reason,
      evidenceOf(c),
      when(c.evidence_at),
      when(c.expires_at),
      waiverOf(c),
      (c.maps || []).join(', '),
    ]), 'data-table controls-table');
}

/** The drill calendar: each drill control, when it was last drilled and when the next is due. */
function drillCalendar(controls) {
  const drills = controls.filter((c) => c.check === 'drill');
  if (!drills.length) return h('p', { class: 'empty' }, 'The catalogue has no drills.');
  const now = Date.now();
  return table('Drill schedule', ['Drill', 'Outcome', 'Last drilled', 'Next due', ''],
    drills.map((c) => {
      const due = c.expires_at ? Date.parse(c.expires_at) : null;
      const overdue = due === null || due <= now;
      return [
        h('span', { class: 'mono strong' }, c.id),
        outcomeBadge(c.outcome),
        when(c.evidence_at),
        c.expires_at ? time(c.expires_at, `${formatTime(c.expires_at)} (${formatRelative(c.expires_at)})`) : h('span', { class: 'muted' }, 'now'),
        h('span', { class: ['badge', overdue ? 'badge-danger' : 'badge-ok'] }, overdue ? 'overdue' : 'scheduled'),
      ];
    }), 'data-table drills-table');
}

function countsLine(report) {
  const c = report.counts || {};
  return h('ul', { class: 'counts', 'aria-label': 'Counts' },
    OUTCOMES.map((o) => h('li', null, outcomeBadge(o), ' ', h('span', { class: 'strong', 'data-count': o }, String(c[o] ?? 0)))));
}

export async function render(ctx) {
  ctx.setTitle('Compliance');
  const initial = ctx.query.get('framework') || '';
  const frameworkSelect = select({ id: 'compliance-framework', name: 'framework' }, [['', 'Every framework']], initial);
  const results = h('div', { class: 'results' }, loading());
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter controls' },
    h('div', { class: 'field field-narrow' }, h('label', { for: 'compliance-framework' }, 'Framework'), frameworkSelect));
  filters.addEventListener('submit', (e) => e.preventDefault());
  ctx.root.replaceChildren(pageTitle('Compliance'),
    h('p', { class: 'lede' }, 'The control catalogue (compliance/controls.yml) evaluated now against this server\'s audit log, state and configuration. Waived controls are counted and shown; expired evidence fails its control.'),
    filters, results);

  let known = false;
  const load = async () => {
    results.replaceChildren(loading('Evaluating the controls…'));
    try {
      const report = await api.compliance(frameworkSelect.value || undefined, { signal: ctx.signal });
      if (!known) {
        // The frameworks come from an evaluation of all of them.
        const all = frameworkSelect.value ? await api.compliance(undefined, { signal: ctx.signal }) : report;
        for (const id of frameworksOf(all)) frameworkSelect.append(h('option', { value: id }, id));
        frameworkSelect.value = initial;
        known = true;
      }
      const controls = report.controls || [];
      results.replaceChildren(
        h('div', { class: ['verdict', report.passed ? 'verdict-pass' : 'verdict-fail'], role: 'status' },
          h('span', { class: ['badge', 'badge-lg', report.passed ? 'badge-ok' : 'badge-danger'] }, report.passed ? 'passed' : 'failed'),
          ` ${controls.length} control${controls.length === 1 ? '' : 's'}, evaluated `, when(report.at)),
        countsLine(report),
        report.checkpoint ? h('details', { class: 'checkpoint' }, h('summary', null, 'Audit checkpoint of this evaluation'), h('pre', { class: 'mono' }, report.checkpoint)) : null,
        section('Controls', null, controlsTable(controls)),
        section('Drill calendar', null, drillCalendar(controls)));
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      results.replaceChildren(errorBox(e, 'The controls could not be evaluated'));
    }
  };

  frameworkSelect.addEventListener('change', () => {
    history.replaceState(null, '', `#/compliance${frameworkSelect.value ? `?framework=${encodeURIComponent(frameworkSelect.value)}` : ''}`);
    load();
  });
  await load();
}
