// Audit log explorer (#/audit): search by actor, event type, environment
// and time; each result links to its entry page, where it can be verified.
// The search lives in the hash (#/audit?actor=alice&since=...) so that the
// back button returns to the same results.

import { api } from '../api.js';
import { h, table } from '../dom.js';
import { formatTime } from '../format.js';
import { errorBox, loading, pageTitle, time } from '../ui.js';
import { keySettings } from './keysettings.js';

const PAGE = 100;
// Suggestions for the event type field (any type can be typed).
const EVENT_TYPES = ['decision', 'approval_open', 'approval_approve', 'approval_reject', 'approval_request_changes',
  'approval_escalate', 'approval_delegate', 'approval_resubmit', 'approval_timeout', 'emergency_stop_activated',
  'emergency_stop_deactivation_signed', 'emergency_stop_deactivated', 'ai_agents_reenabled', 'audit_read', 'audit_prune',
  'audit_access_grant', 'token_create', 'token_revoke', 'governance_reloaded', 'governance_reload_refused',
  'notification_delivered', 'notification_failed'];
const FIELDS = ['actor', 'event_type', 'environment', 'since', 'until', 'from'];

/** The actor's id of an event, whatever its shape. */
export function actorOf(event) {
  if (!event) return '';
  const a = event.actor;
  if (a && typeof a === 'object') return a.id || '';
  return typeof a === 'string' ? a : '';
}

/** "2026-11-23T10:00" (datetime-local, local time) -> "2026-11-23T09:00:00Z". */
function toRfc3339(local) {
  if (!local) return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? local : t.toISOString().replace('.000Z', 'Z');
}

export async function render(ctx) {
  ctx.setTitle('Audit log');
  const q = ctx.query;
  const input = (name, label, attrs = {}) => {
    const id = `audit-${name}`;
    const el = h('input', { id, name, autocomplete: 'off', spellcheck: 'false', value: q.get(name) || '', ...attrs });
    return { el, wrap: h('div', { class: 'field' }, h('label', { for: id }, label), el) };
  };
  const actor = input('actor', 'Actor', { type: 'text' });
  const eventType = input('event_type', 'Event type', { type: 'text', list: 'audit-event-types' });
  const environment = input('environment', 'Environment', { type: 'text', list: 'audit-environments' });
  const since = input('since', 'Since', { type: 'datetime-local', step: '1' });
  const until = input('until', 'Until', { type: 'datetime-local', step: '1' });
  const from = input('from', 'From entry', { type: 'number', min: '0', step: '1', inputmode: 'numeric' });
  const form = h('form', { class: 'filters filters-audit', novalidate: true },
    actor.wrap, eventType.wrap, environment.wrap, since.wrap, until.wrap, from.wrap,
    h('datalist', { id: 'audit-event-types' }, EVENT_TYPES.map((t) => h('option', { value: t }))),
    h('datalist', { id: 'audit-environments' }, ['dev', 'staging', 'production'].map((t) => h('option', { value: t }))),
    h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search')));
  const results = h('div', { class: 'results' });
  const settings = keySettings();
  const scope = ctx.me.may && ctx.me.may.read_audit;
  ctx.root.replaceChildren(
    pageTitle('Audit log'),
    h('p', { class: 'lede' }, 'Every entry is a leaf of a signed Merkle tree: open one to check, in this browser, that it is in the log. ',
      'Each search is itself recorded in the log.',
      scope ? ` Your read access: ${scopeText(scope)}.` : ''),
    form,
    results,
    settings.node);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [name, f] of [['actor', actor], ['event_type', eventType], ['environment', environment], ['since', since], ['until', until], ['from', from]]) {
      if (f.el.value.trim()) params.set(name, f.el.value.trim());
    }
    const text = params.toString();
    const hash = `#/audit${text ? `?${text}` : ''}`;
    // The same search again: re-run it (the hash would not change).
    if (location.hash === hash) search(results, ctx, params);
    else location.hash = hash;
  });
  await search(results, ctx, q);
}

function scopeText(scope) {
  return {
    own: 'your own actions', team: 'your team’s actions', all: 'every entry',
    grant: 'every entry, within a time-limited grant', none: 'none (your roles may not read the log)',
  }[scope] || scope;
}

async function search(results, ctx, q) {
  results.replaceChildren(loading('Searching…'));
  const params = {};
  for (const name of FIELDS) if (q.get(name)) params[name] = q.get(name);
  params.since = toRfc3339(params.since);
  params.until = toRfc3339(params.until);
  params.limit = PAGE;
  let entries;
  try {
    ({ entries = [] } = await api.auditEntries(params, { signal: ctx.signal }));
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    results.replaceChildren(errorBox(e, 'The audit log could not be searched'));
    return;
  }
  const count = h('p', { class: 'result-count', role: 'status' },
    entries.length ? `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, from #${entries[0].index} to #${entries[entries.length - 1].index}.` : 'No entries match.');
  const rows = entries.map((e) => {
    const ev = e.event || {};
    return [
      h('a', { href: `#/audit/${e.index}`, class: 'mono' }, `#${e.index}`),
      time(e.recorded_at, formatTime(e.recorded_at)),
      e.pruned ? h('span', { class: 'muted' }, 'pruned') : ev.event_type || ev.operation || '',
      actorOf(ev),
      ev.environment || (ev.change && ev.change.environment) || '',
      describe(ev),
      e.retention_class,
    ];
  });
  const nodes = [count];
  if (rows.length) nodes.push(table('Audit entries', ['Entry', 'Recorded', 'Event type', 'Actor', 'Environment', 'What', 'Retention'], rows, 'data-table'));
  const paging = h('p', { class: 'button-row' });
  if (entries.length === PAGE) {
    const next = new URLSearchParams(q);
    next.set('from', String(entries[entries.length - 1].index + 1));
    paging.append(h('a', { href: `#/audit?${next.toString()}`, class: 'btn' }, `Next ${PAGE} entries`));
  }
  if (entries.length === PAGE || q.get('from')) {
    // The newest entries: start a page before the end of the log.
    try {
      const { audit_size: size } = await api.health({ signal: ctx.signal });
      const latest = new URLSearchParams(q);
      latest.set('from', String(Math.max(0, size - PAGE)));
      paging.append(h('a', { href: `#/audit?${latest.toString()}`, class: 'btn' }, 'Latest entries'));
    } catch {
      // Without the size there is no shortcut to the end; paging still works.
    }
  }
  if (paging.childElementCount) nodes.push(paging);
  results.replaceChildren(...nodes);
}

/** A short description of an event for the table. */
function describe(ev) {
  const parts = [];
  const d = ev.decision;
  if (d && typeof d === 'object' && d.outcome) parts.push(d.outcome);
  else if (typeof d === 'string') parts.push(d);
  if (ev.outcome && typeof ev.outcome === 'string') parts.push(ev.outcome);
  if (ev.approval && typeof ev.approval === 'object' && ev.approval.id) parts.push(ev.approval.id);
  if (ev.change && typeof ev.change === 'object' && ev.change.service) parts.push(ev.change.service);
  if (ev.reason && typeof ev.reason === 'string') parts.push(ev.reason);
  const text = parts.join(' · ');
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}
