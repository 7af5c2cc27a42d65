// Audit entry (#/audit/<index>): one entry, and "Verify", which checks in
// this browser (WebCrypto only) that the entry's leaf bytes hash to its
// leaf hash, that the log's checkpoint is signed by the trusted Ed25519
// key, and that the inclusion proof leads to that signed root
// (js/verify.js). The event is shown as decoded from the leaf bytes once
// they are verified.

import { api } from '../api.js';
import { dl, h } from '../dom.js';
import { formatTime } from '../format.js';
import { trustedKey, trustKey } from '../keystore.js';
import { stepName, verifyEntry } from '../verify.js';
import { toHex } from '../bytes.js';
import { errorBox, pageTitle, section, time } from '../ui.js';
import { keySettings } from './keysettings.js';

export async function render(ctx) {
  const index = Number(ctx.params[0]);
  ctx.setTitle(`Audit entry ${index}`);
  let entry;
  try {
    const { entries = [] } = await api.auditEntries({ from: index, limit: 1 }, { signal: ctx.signal });
    entry = entries.find((e) => e.index === index);
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    ctx.root.replaceChildren(back(), pageTitle(`Audit entry ${index}`), errorBox(e, 'The entry could not be read'));
    return;
  }
  if (!entry) {
    ctx.root.replaceChildren(back(), pageTitle(`Audit entry ${index}`), h('div', { class: 'msg msg-error', role: 'alert' },
      h('p', null, `There is no entry ${index} that your roles may read.`)));
    return;
  }

  const eventSection = section('Event', null, eventView(entry.event, entry.pruned ? 'pruned' : 'unverified'));
  const leafFacts = h('div');
  const details = section('Entry', null, dl([
    ['Index', String(entry.index)],
    ['Recorded at', time(entry.recorded_at, formatTime(entry.recorded_at))],
    ['Retention class', entry.retention_class.replaceAll('_', ' ')],
    ['Leaf hash', h('code', { class: 'hash' }, entry.leaf_hash)],
    ['Leaf bytes', entry.leaf ? `${Math.floor((entry.leaf.length * 3) / 4) - (entry.leaf.match(/=*$/)[0].length)} bytes` : 'pruned'],
  ]), leafFacts);

  const settings = keySettings();
  const resultSlot = h('div', { class: 'verify-result-slot' });
  const progress = h('ol', { class: 'verify-steps' });
  const button = h('button', { type: 'button', class: 'btn btn-primary' }, 'Verify');
  const verifySection = section('Verification', null,
    h('p', null, 'Checks in this browser, with WebCrypto, that this entry is in the log the server signed: ',
      'the leaf bytes hash to the leaf hash and name this index; the latest checkpoint carries a valid Ed25519 signature by the trusted key; ',
      'the inclusion proof leads from the leaf hash to the signed root. Nothing the server claims is taken on trust.'),
    h('div', { class: 'button-row' }, button),
    resultSlot,
    progress,
    settings.node);

  button.addEventListener('click', async () => {
    button.disabled = true;
    resultSlot.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Verifying…'));
    progress.replaceChildren();
    const outcome = await verify(entry, settings, ctx.signal);
    button.disabled = false;
    if (ctx.signal.aborted) return;
    if (outcome.ok) {
      const r = outcome.result;
      const pinned = outcome.firstUse ? ' The log’s verifier key was pinned on first use.' : '';
      resultSlot.replaceChildren(h('div', { class: 'msg msg-ok', role: 'status', 'data-testid': 'verify-result' },
        h('p', null, `Verified: entry ${r.index} is in the log of ${r.treeSize} entries signed by ${r.keyName}.${pinned}`)));
      progress.replaceChildren(...r.checks.map((c) => h('li', { class: 'step-ok' }, h('span', { 'aria-hidden': 'true' }, '✓ '), c)));
      if (r.event) {
        eventSection.replaceChildren(eventSection.querySelector('h2'), eventView(r.event, 'verified'));
        leafFacts.replaceChildren(h('h3', null, 'Decoded from the verified leaf bytes'), dl([
          ['Format version', String(r.leaf.version)],
          ['Index', String(r.leaf.index)],
          ['Recorded at', formatTime(new Date(Number(r.leaf.recordedAtMs)).toISOString())],
          ['Salt', h('code', { class: 'hash' }, toHex(r.leaf.salt))],
          ['Retention class', r.leaf.retentionName.replaceAll('_', ' ')],
        ]));
      }
      settings.refresh();
    } else {
      resultSlot.replaceChildren(h('div', { class: 'msg msg-error', role: 'alert', 'data-testid': 'verify-result' },
        h('p', null, `Verification failed: ${outcome.message}`)));
    }
  });

  ctx.root.replaceChildren(back(), pageTitle(`Audit entry ${index}`), h('div', { class: 'grid-2' }, details, verifySection), eventSection);
}

function back() {
  return h('p', { class: 'breadcrumb' }, h('a', { href: '#/audit' }, '← Back to the search'));
}

/**
 * Runs the verification: which key to trust (the field, the pinned key, or
 * the server's on first use), then js/verify.js. Returns {ok, result,
 * firstUse} or {ok: false, message}.
 */
async function verify(entry, settings, signal) {
  try {
    await settings.sync();
  } catch (e) {
    return { ok: false, message: `step 2 (signed checkpoint): the trusted verifier key is not valid: ${e.message}` };
  }
  let checkpoint;
  try {
    checkpoint = await api.checkpoint({ signal });
  } catch (e) {
    return { ok: false, message: `step 2 (signed checkpoint): the checkpoint could not be fetched: ${e.message}` };
  }
  const pinned = trustedKey();
  const firstUse = !pinned;
  const key = pinned ? pinned.key : checkpoint.verifier_key;
  try {
    const result = await verifyEntry({
      entry,
      checkpoint,
      trustedKey: key,
      fetchProof: (index, size) => api.proof(index.toString(), size.toString(), { signal }),
    });
    if (firstUse) trustKey(checkpoint.verifier_key, 'first use');
    return { ok: true, result, firstUse };
  } catch (e) {
    if (e.step) return { ok: false, message: `${stepName(e.step)}: ${e.message}` };
    return { ok: false, message: e.message };
  }
}

/** The event as indented JSON, with a line saying where it comes from. */
function eventView(event, source) {
  const notes = {
    unverified: 'As the server reports it; not verified yet. Verify to decode it from the leaf bytes.',
    verified: 'Decoded from the leaf bytes, which were verified in this browser.',
    pruned: 'The event was deleted under the retention rules; only its leaf hash remains in the tree.',
  };
  return h('div', { class: 'event-view' },
    h('p', { class: source === 'verified' ? 'ok-text' : 'muted' }, notes[source]),
    event ? h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(event, null, 2)) : null);
}
