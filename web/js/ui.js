// Pieces of page shared by the views: headings, error boxes, loading text,
// state badges.

import { h } from './dom.js';

/** The page's h1; focusable so that navigation can move focus to it. */
export function pageTitle(text, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, text), ...extra);
}

/** A section with an h2 heading. */
export function section(title, attrs, ...children) {
  const id = `sec-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id, ...attrs }, h('h2', { id }, title), ...children);
}

/**
 * The server's error in a role="alert" box. Statuses the user can act on
 * get a hint (403: permission, 423: locked agent, 503: storage).
 */
export function errorBox(error, what) {
  const hints = {
    0: 'Check that interlock serve is running and reachable.',
    403: 'You are signed in, but your roles do not allow this.',
    423: 'This principal is an AI agent and an emergency stop covers it.',
    503: 'The server could not read or write its storage; nothing was changed.',
  };
  const status = error && error.status !== undefined ? error.status : null;
  const lead = what ? `${what}: ` : '';
  const text = `${lead}${error && error.message ? error.message : String(error)}`;
  const hint = status !== null ? hints[status] : undefined;
  return h('div', { class: 'msg msg-error', role: 'alert' },
    h('p', null, text),
    hint ? h('p', { class: 'hint' }, status ? `(${status}) ${hint}` : hint) : null);
}

/** A "Loading…" line, announced politely. */
export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

const STATE_CLASS = {
  pending: 'badge-warn',
  escalated: 'badge-danger',
  changes_requested: 'badge-info',
  approved: 'badge-ok',
  rejected: 'badge-danger',
  blocked: 'badge-danger',
  allow: 'badge-ok',
  require_approval: 'badge-warn',
  deny: 'badge-danger',
  low: 'badge-ok',
  medium: 'badge-info',
  high: 'badge-warn',
  critical: 'badge-danger',
  progressing: 'badge-info',
  paused: 'badge-warn',
  promoted: 'badge-ok',
  rolled_back: 'badge-danger',
  aborted: 'badge-neutral',
  pass: 'badge-ok',
  fail: 'badge-danger',
  insufficient_data: 'badge-neutral',
  error: 'badge-warn',
  open: 'badge-warn',
  reviewed: 'badge-ok',
  overdue: 'badge-danger',
};

/** The badge colour class of a state, decision, risk level or check result. */
export function stateClass(value) {
  return STATE_CLASS[value] ?? 'badge-neutral';
}

/** A coloured badge whose text is the value itself (e.g. "changes_requested"). */
export function badge(value, attrs = {}) {
  return h('span', { class: ['badge', stateClass(value)], ...attrs }, value);
}

/** A <time> element showing `iso` as `text`, the exact instant in its title. */
export function time(iso, text) {
  return h('time', { datetime: iso, title: iso }, text);
}
