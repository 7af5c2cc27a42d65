// Interlock dashboard: sign-in, the page shell and the hash router.
// Each view module exports render(ctx) and builds its page into ctx.root.

import { api, ApiError, clearToken, getToken, setToken } from './js/api.js';
import { h } from './js/dom.js';
import { errorBox, loading, pageTitle } from './js/ui.js';
import * as overview from './js/views/overview.js';
import * as approvals from './js/views/approvals.js';
import * as approval from './js/views/approval.js';
import * as rollouts from './js/views/rollouts.js';
import * as rollout from './js/views/rollout.js';
import * as audit from './js/views/audit.js';
import * as auditEntry from './js/views/audit-entry.js';
import * as simulate from './js/views/simulate.js';
import * as compliance from './js/views/compliance.js';

const ROUTES = [
  { path: /^\/$/, view: overview, nav: 'overview' },
  { path: /^\/approvals$/, view: approvals, nav: 'approvals' },
  { path: /^\/approvals\/([^/]+)$/, view: approval, nav: 'approvals' },
  { path: /^\/rollouts$/, view: rollouts, nav: 'rollouts' },
  { path: /^\/rollouts\/([^/]+)$/, view: rollout, nav: 'rollouts' },
  { path: /^\/audit$/, view: audit, nav: 'audit' },
  { path: /^\/audit\/(\d+)$/, view: auditEntry, nav: 'audit' },
  { path: /^\/simulate$/, view: simulate, nav: 'simulate' },
  { path: /^\/compliance$/, view: compliance, nav: 'compliance' },
];

const NAV = [
  ['overview', '#/', 'Overview'],
  ['approvals', '#/approvals', 'Approvals'],
  ['rollouts', '#/rollouts', 'Rollouts'],
  ['audit', '#/audit', 'Audit log'],
  ['simulate', '#/simulate', 'Simulator'],
  ['compliance', '#/compliance', 'Compliance'],
];

const main = document.getElementById('main');
const header = document.getElementById('site-header');
let me = null;
let current = null; // {controller, cleanups}
let firstRender = true;

function setTitle(text) {
  document.title = text ? `${text} · Interlock` : 'Interlock';
}

/** The route of the current hash: {path, params, query}. */
function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const [pathPart, queryPart = ''] = raw.split('?');
  let path;
  try {
    path = decodeURIComponent(pathPart);
  } catch {
    path = pathPart;
  }
  return { path, query: new URLSearchParams(queryPart) };
}

function stopCurrent() {
  if (!current) return;
  current.controller.abort();
  for (const fn of current.cleanups) fn();
  current = null;
}

function renderHeader() {
  const brand = h('a', { class: 'brand', href: '#/' },
    h('img', { src: '/assets/logo.svg', alt: '', width: '28', height: '28' }), h('span', null, 'Interlock'));
  if (!me) {
    header.replaceChildren(h('div', { class: 'header-inner' }, brand));
    return;
  }
  const nav = h('nav', { 'aria-label': 'Main', class: 'main-nav' },
    h('ul', null, NAV.map(([key, href, label]) => h('li', null, h('a', { href, 'data-nav': key }, label)))));
  const roles = me.roles && me.roles.length ? me.roles.join(', ') : 'no roles';
  const who = h('p', { class: 'whoami', 'data-testid': 'whoami', title: `${me.name} (${me.type}${me.team ? `, team ${me.team}` : ''})` },
    h('span', { class: 'whoami-id' }, me.id), ' ', h('span', { class: 'whoami-roles' }, `· ${roles}`));
  const signOut = h('button', { type: 'button', class: 'btn btn-small', onclick: () => signOutNow() }, 'Sign out');
  header.replaceChildren(h('div', { class: 'header-inner' }, brand, nav, h('div', { class: 'session' }, who, signOut)));
}

function markNav(key) {
  for (const a of header.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Renders the page for the current hash. */
async function route() {
  if (!me) return;
  stopCurrent();
  const { path, query } = parseHash();
  const controller = new AbortController();
  const cleanups = [];
  current = { controller, cleanups };
  const root = h('div', { class: 'page' });
  main.replaceChildren(root);
  const match = ROUTES.map((r) => ({ r, m: r.path.exec(path) })).find((x) => x.m);
  const focusHeading = !firstRender;
  firstRender = false;
  if (!match) {
    markNav(null);
    setTitle('Not found');
    root.append(pageTitle('Page not found'), h('p', null, 'There is no page here. ', h('a', { href: '#/' }, 'Go to the start page.')));
    if (focusHeading) root.querySelector('h1').focus();
    return;
  }
  markNav(match.r.nav);
  root.append(loading());
  const ctx = {
    root,
    params: match.m.slice(1),
    query,
    me,
    signal: controller.signal,
    onCleanup: (fn) => cleanups.push(fn),
    setTitle,
    // Re-reads who the user is (roles and "may" change with the governance).
    refreshMe: async () => {
      const fresh = await api.me({ signal: controller.signal });
      if (JSON.stringify(fresh) !== JSON.stringify(me)) {
        me = fresh;
        renderHeader();
        markNav(match.r.nav);
      }
      ctx.me = me;
      return me;
    },
  };
  try {
    await match.r.view.render(ctx);
  } catch (e) {
    if (e.name === 'AbortError' || controller.signal.aborted) return;
    if (e instanceof ApiError && e.status === 401) return; // sign-in page shown already
    root.replaceChildren(pageTitle('Something went wrong'), errorBox(e));
    console.error(e);
  }
  if (focusHeading && !controller.signal.aborted) {
    const h1 = root.querySelector('h1');
    if (h1) h1.focus({ preventScroll: false });
  }
}

function signOutNow(messageText) {
  stopCurrent();
  clearToken();
  me = null;
  renderHeader();
  showSignIn(messageText);
}

/** The sign-in page; `notice` is shown in a role="alert" (e.g. after a 401). */
function showSignIn(notice) {
  setTitle('Sign in');
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true,
    'aria-describedby': 'token-hint' });
  const status = h('div', { class: 'signin-status' });
  if (notice) status.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, notice)));
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h('form', { class: 'signin-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'Bearer token'),
      input,
      h('p', { class: 'hint', id: 'token-hint' },
        'A token from ', h('code', null, 'interlock token create --principal <id>'),
        '. It is kept in this browser tab only (session storage) and sent to this server alone.')),
    status,
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    status.replaceChildren();
    if (!token) {
      status.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, 'Paste a bearer token to sign in.')));
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      me = await api.me({ token, quiet401: true });
      setToken(token);
      start(true);
    } catch (err) {
      if (err.status === 401) {
        status.append(h('div', { class: 'msg msg-error', role: 'alert' },
          h('p', null, `The token was not accepted: ${err.message}`)));
      } else {
        status.append(errorBox(err, 'Could not sign in'));
      }
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  main.replaceChildren(h('div', { class: 'page page-narrow' },
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Sign in to Interlock')),
    h('p', { class: 'lede' }, 'The governance gate for automation and AI agents: approvals, the emergency stop and the audit trail.'),
    form));
  input.focus();
}

/** Shows the shell and the current page; `focusPage` moves focus to its h1 (after signing in). */
function start(focusPage = false) {
  renderHeader();
  firstRender = !focusPage;
  route();
}

window.addEventListener('hashchange', () => route());
window.addEventListener('interlock:unauthorized', (e) => {
  if (!me) return;
  signOutNow(`Your token was not accepted any more: ${e.detail}. Sign in again.`);
});

// The skip link moves focus without touching the hash (the router owns it).
document.querySelector('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

async function boot() {
  renderHeader();
  if (!getToken()) {
    showSignIn();
    return;
  }
  main.replaceChildren(loading('Signing in…'));
  try {
    me = await api.me({ quiet401: true });
    start();
  } catch (err) {
    if (err.status === 401) {
      clearToken();
      showSignIn(`The stored token was not accepted: ${err.message}`);
    } else {
      main.replaceChildren(h('div', { class: 'page' }, pageTitle('Interlock is not reachable'), errorBox(err),
        h('button', { type: 'button', class: 'btn', onclick: () => boot() }, 'Try again')));
    }
  }
}

boot();
