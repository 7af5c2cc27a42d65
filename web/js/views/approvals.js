// Approvals (#/approvals): every approval, filtered by state (on the
// server) and by a search over id, service, summary and requester (here).
// The filters live in the hash (#/approvals?state=pending&q=api) so that
// a link or the back button restores them.

import { api } from '../api.js';
import { h, select, table } from '../dom.js';
import { formatRelative, formatTime } from '../format.js';
import { badge, errorBox, loading, pageTitle, time } from '../ui.js';

const STATES = ['pending', 'escalated', 'changes_requested', 'approved', 'rejected', 'blocked'];

export async function render(ctx) {
  ctx.setTitle('Approvals');
  const initialState = STATES.includes(ctx.query.get('state')) ? ctx.query.get('state') : '';
  const stateSelect = select({ id: 'approval-state-filter', name: 'state' }, [['', 'All'], ...STATES], initialState);
  const search = h('input', { type: 'search', id: 'approval-search', name: 'q', autocomplete: 'off', value: ctx.query.get('q') || '' });
  const results = h('div', { class: 'results' }, loading());
  const count = h('p', { class: 'result-count', role: 'status' });
  let approvals = [];

  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter approvals' },
    h('div', { class: 'field' }, h('label', { for: 'approval-state-filter' }, 'State'), stateSelect),
    h('div', { class: 'field field-grow' }, h('label', { for: 'approval-search' }, 'Search'), search,
      h('p', { class: 'hint' }, 'Matches the id, service, summary or requester.')));
  filters.addEventListener('submit', (e) => e.preventDefault());
  ctx.root.replaceChildren(pageTitle('Approvals'), filters, count, results);

  /** Keeps the filters in the hash without re-rendering the page. */
  const remember = () => {
    const q = new URLSearchParams();
    if (stateSelect.value) q.set('state', stateSelect.value);
    if (search.value.trim()) q.set('q', search.value.trim());
    const text = q.toString();
    history.replaceState(null, '', `#/approvals${text ? `?${text}` : ''}`);
  };

  const show = () => {
    const needle = search.value.trim().toLowerCase();
    const shown = approvals.filter((a) => !needle || [a.id, a.change.service, a.change.summary, a.requester.id]
      .some((v) => v && String(v).toLowerCase().includes(needle)));
    count.textContent = `${shown.length} of ${approvals.length} approval${approvals.length === 1 ? '' : 's'} shown.`;
    if (!shown.length) {
      results.replaceChildren(h('p', { class: 'empty' }, approvals.length ? 'No approval matches the search.' : 'No approvals in this state.'));
      return;
    }
    results.replaceChildren(table('Approvals', ['Approval', 'State', 'Change', 'Environment', 'Risk', 'Requested by', 'Approvals', 'Deadline'],
      shown.map((a) => [
        h('a', { href: `#/approvals/${encodeURIComponent(a.id)}`, class: 'mono' }, a.id),
        [badge(a.state), (a.your_actions || []).length ? h('span', { class: 'tag' }, 'you can act') : null],
        [h('span', { class: 'strong' }, a.change.service || a.change.type), h('br'), h('span', { class: 'muted' }, a.change.summary || '')],
        a.change.environment,
        badge(a.change.risk_level),
        `${a.requester.id}${a.requester.type === 'human' ? '' : ` (${a.requester.type.replace('_', ' ')})`}`,
        `${a.approvals.length} of ${a.required_approvals}`,
        a.state === 'pending' || a.state === 'escalated'
          ? time(a.deadline, formatRelative(a.deadline))
          : h('span', { class: 'muted' }, time(a.deadline, formatTime(a.deadline))),
      ]), 'data-table'));
  };

  const load = async () => {
    results.replaceChildren(loading());
    try {
      const answer = await api.approvals(stateSelect.value || undefined, { signal: ctx.signal });
      // Newest first: the deadline is the opening time plus the timeout.
      approvals = (answer.approvals || []).slice().sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
      show();
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      count.textContent = '';
      results.replaceChildren(errorBox(e, 'The approvals could not be read'));
    }
  };

  stateSelect.addEventListener('change', () => {
    remember();
    load();
  });
  search.addEventListener('input', () => {
    remember();
    show();
  });
  await load();
}
