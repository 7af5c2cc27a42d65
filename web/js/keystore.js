// The audit log's verifier key the user trusts, kept in localStorage
// ("interlock.verifier_key"): pinned on first use, or pasted by the user.

const KEY = 'interlock.verifier_key';
const SOURCE = 'interlock.verifier_key.source';

/** {key, source: 'first use' | 'pasted' | 'unknown', at} or null. */
export function trustedKey() {
  const key = localStorage.getItem(KEY);
  if (!key) return null;
  let meta = {};
  try {
    meta = JSON.parse(localStorage.getItem(SOURCE) || '{}');
  } catch {
    meta = {};
  }
  return { key, source: meta.source || 'unknown', at: meta.at || null };
}

/** Trusts `key` from now on; `source` says how it came ('first use' or 'pasted'). */
export function trustKey(key, source) {
  localStorage.setItem(KEY, key.trim());
  localStorage.setItem(SOURCE, JSON.stringify({ source, at: new Date().toISOString() }));
}

/** Forgets the trusted key; the next verification pins the server's key again. */
export function forgetKey() {
  localStorage.removeItem(KEY);
  localStorage.removeItem(SOURCE);
}
