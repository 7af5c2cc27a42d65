// Rollouts (#/rollouts): every rollout, newest first, filtered by state on
// the server. The filter lives in the hash (#/rollouts?state=paused) so
// that a link or the back button restores it.

import { api } from '../api.js';
import { h, select, table } from '../dom.js';
import { formatPercent, formatRelative, isoOfMillis, words } from '../format.js';
import { errorBox, loading, pageTitle, stateClass, time } from '../ui.js';

export const STATES = ['progressing', 'paused', 'promoted', 'rolled_back', 'aborted'];

/** A state or result as a coloured badge in words ("rolled back"); `large` for the page's lede. */
export function rolloutBadge(state, { large = false, ...attrs } = {}) {
  return h('span', { ...attrs, class: ['badge', large ? 'badge-lg' : null, stateClass(state)] }, words(state));
}

/** "2.6.0" with the baseline it is compared with, when there is one. */
export function versionText(change) {
  return change.baseline_version ? `${change.version} (baseline ${change.baseline_version})` : change.version || 'not given';
}

export async function render(ctx) {
  ctx.setTitle('Rollouts');
  const initial = STATES.includes(ctx.query.get('state')) ? ctx.query.get('state') : '';
  const stateSelect = select({ id: 'rollout-state-filter', name: 'state' },
    [['', 'All'], ...STATES.map((x) => [x, words(x)])], initial);
  const results = h('div', { class: 'results' }, loading());
  const count = h('p', { class: 'result-count', role: 'status' });
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter rollouts' },
    h('div', { class: 'field field-narrow' }, h('label', { for: 'rollout-state-filter' }, 'State'), stateSelect));
  filters.addEventListener('submit', (e) => e.preventDefault());
  ctx.root.replaceChildren(pageTitle('Rollouts'),
    h('p', { class: 'lede' }, 'Changes that Interlock allowed or approved, followed through their canary steps: each is promoted step by step or rolled back by a trigger.'),
    filters, count, results);

  const load = async () => {
    results.replaceChildren(loading());
    try {
      const answer = await api.rollouts(stateSelect.value || undefined, { signal: ctx.signal });
      const list = (answer.rollouts || []).slice().sort((a, b) => b.created_at - a.created_at);
      const what = stateSelect.value ? ` ${words(stateSelect.value)}` : '';
      count.textContent = `${list.length}${what} rollout${list.length === 1 ? '' : 's'}.`;
      if (!list.length) {
        results.replaceChildren(h('p', { class: 'empty' }, stateSelect.value ? 'No rollout in this state.' : 'No rollout yet.'));
        return;
      }
      results.replaceChildren(table('Rollouts', ['Rollout', 'Service', 'Version', 'Environment', 'State', 'Step', 'Traffic', 'Opened'],
        list.map((r) => [
          h('a', { href: `#/rollouts/${encodeURIComponent(r.id)}`, class: 'mono' }, r.id),
          h('span', { class: 'strong' }, r.change.service),
          versionText(r.change),
          r.change.environment,
          rolloutBadge(r.state),
          `${r.step} of ${r.steps}`,
          formatPercent(r.traffic_percent),
          time(isoOfMillis(r.created_at), formatRelative(isoOfMillis(r.created_at))),
        ]), 'data-table'));
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) return;
      count.textContent = '';
      results.replaceChildren(errorBox(e, 'The rollouts could not be read'));
    }
  };

  stateSelect.addEventListener('change', () => {
    history.replaceState(null, '', `#/rollouts${stateSelect.value ? `?state=${stateSelect.value}` : ''}`);
    load();
  });
  await load();
}
