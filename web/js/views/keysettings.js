// The "Trusted verifier key" setting: which Ed25519 key the browser trusts
// for the audit log's checkpoints (pinned on first use, or pasted here).

import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { forgetKey, trustedKey, trustKey } from '../keystore.js';
import { parseVerifierKey } from '../note.js';

/**
 * Builds the settings block. Returns {node, input, sync} where `sync()`
 * saves a changed, valid key typed in the field (called before verifying)
 * and throws an Error for an invalid one.
 */
export function keySettings() {
  const input = h('input', { type: 'text', id: 'trusted-key', name: 'trusted-key', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const state = h('p', { class: 'hint', id: 'trusted-key-state', 'aria-live': 'polite' });
  const feedback = h('div');
  const show = () => {
    const t = trustedKey();
    input.value = t ? t.key : '';
    state.textContent = t
      ? `Trusted since ${formatTime(t.at)}: ${t.source === 'first use' ? 'pinned on first use' : t.source === 'pasted' ? 'pasted here' : 'set in this browser'}.`
      : 'No key is trusted yet: the next verification pins the log’s key on first use. Paste the output of interlock audit public-key to trust it instead.';
  };
  const save = async () => {
    feedback.replaceChildren();
    const text = input.value.trim();
    if (!text) {
      forgetKey();
      show();
      feedback.append(h('p', { class: 'msg msg-ok', role: 'status' }, 'The trusted key is forgotten.'));
      return;
    }
    try {
      const key = await parseVerifierKey(text);
      trustKey(key.text, 'pasted');
      show();
      feedback.append(h('p', { class: 'msg msg-ok', role: 'status' }, `Now trusting ${key.name}.`));
    } catch (e) {
      feedback.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, `Not a valid verifier key: ${e.message}`)));
    }
  };
  const node = h('details', { class: 'key-settings' },
    h('summary', null, 'Verifier key settings'),
    h('div', { class: 'field' },
      h('label', { for: 'trusted-key' }, 'Trusted verifier key'),
      input,
      state),
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-small', onclick: save }, 'Save key'),
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => { input.value = ''; save(); } }, 'Forget key')),
    feedback);
  input.setAttribute('aria-describedby', 'trusted-key-state');
  show();

  /** Saves the field if it was edited; throws when it holds an invalid key. */
  const sync = async () => {
    const text = input.value.trim();
    const t = trustedKey();
    if (text === (t ? t.key : '')) return;
    if (!text) {
      forgetKey();
      show();
      return;
    }
    const key = await parseVerifierKey(text);
    trustKey(key.text, 'pasted');
    show();
  };
  return { node, input, sync, refresh: show };
}
