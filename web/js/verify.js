// Checks, in the browser, that an audit entry is in the log the server
// signed (the contract's steps 1-3): the leaf bytes hash to the leaf hash
// and name the entry's index; the checkpoint is signed by the trusted
// Ed25519 key; the inclusion proof leads from the leaf hash to the signed
// root. Nothing the server says is trusted except through these checks.
// No DOM: the network is reached only through the `fetchProof` callback.

import { equalBytes, fromBase64, fromHex, toHex } from './bytes.js';
import { leafHash, parseLeaf, rootFromInclusionProof } from './merkle.js';
import { parseVerifierKey, verifyCheckpoint } from './note.js';

/** A failed verification; `step` (1-3) says which check failed. */
export class VerifyError extends Error {
  constructor(step, message) {
    super(message);
    this.step = step;
  }
}

const STEP_NAMES = {
  1: 'leaf bytes',
  2: 'signed checkpoint',
  3: 'inclusion proof',
};

/** "step 2 (signed checkpoint)" */
export function stepName(step) {
  return `step ${step} (${STEP_NAMES[step]})`;
}

async function step(n, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof VerifyError) throw e;
    throw new VerifyError(n, e.message);
  }
}

/**
 * Verifies one audit entry.
 *   entry:      {index, leaf (base64 | null when pruned), leaf_hash (hex), recorded_at, retention_class}
 *   checkpoint: {note, verifier_key} as GET /v1/audit/checkpoint answers
 *   trustedKey: the verifier key text the user trusts (pinned or pasted)
 *   fetchProof: async (index, size) => {index, tree_size, proof: [hex]}
 * Returns {index, treeSize, origin, keyName, pruned, leaf (parsed) | null,
 * event (parsed from the leaf bytes) | null, checks: [string]}.
 * Throws VerifyError naming the failed step.
 */
export async function verifyEntry({ entry, checkpoint, trustedKey, fetchProof }) {
  const index = BigInt(entry.index);
  const checks = [];
  const pruned = entry.leaf === null || entry.leaf === undefined;

  // Step 1: the leaf bytes.
  const { hash, leaf, event } = await step(1, async () => {
    const claimed = fromHex(entry.leaf_hash);
    if (claimed.length !== 32) throw new Error('the leaf hash is not 32 bytes');
    if (pruned) {
      checks.push('The entry was pruned: its event is gone, only its leaf hash can be checked.');
      return { hash: claimed, leaf: null, event: null };
    }
    const bytes = fromBase64(entry.leaf);
    const computed = await leafHash(bytes);
    if (!equalBytes(computed, claimed)) {
      throw new Error(`SHA-256(0x00 || leaf) is ${toHex(computed)}, not the leaf hash ${entry.leaf_hash}`);
    }
    const parsed = parseLeaf(bytes);
    if (parsed.index !== index) throw new Error(`the leaf bytes name index ${parsed.index}, not ${index}`);
    if (entry.recorded_at && BigInt(Date.parse(entry.recorded_at)) !== parsed.recordedAtMs) {
      throw new Error(`the leaf bytes were recorded at ${parsed.recordedAtMs} ms, not at ${entry.recorded_at}`);
    }
    if (entry.retention_class && entry.retention_class !== parsed.retentionName) {
      throw new Error(`the leaf bytes name retention class ${parsed.retentionName}, not ${entry.retention_class}`);
    }
    let decoded;
    try {
      decoded = JSON.parse(parsed.eventText);
    } catch {
      throw new Error('the event in the leaf bytes is not JSON');
    }
    checks.push(`SHA-256(0x00 || leaf bytes) equals the leaf hash ${toHex(computed).slice(0, 16)}…, and the leaf names index ${index}.`);
    return { hash: computed, leaf: parsed, event: decoded };
  });

  // Step 2: the checkpoint, signed by the trusted key.
  const { key, signed } = await step(2, async () => {
    const trusted = await parseVerifierKey(trustedKey);
    if (checkpoint.verifier_key && checkpoint.verifier_key.trim() !== trusted.text) {
      throw new Error(`the server now presents the verifier key ${checkpoint.verifier_key}, not the trusted key ${trusted.text}`);
    }
    const cp = await verifyCheckpoint(checkpoint.note, trusted);
    if (index >= cp.size) throw new Error(`the checkpoint covers ${cp.size} entries, which does not include entry ${index}`);
    checks.push(`The checkpoint of ${cp.size} entries carries a valid Ed25519 signature by ${trusted.name}+${toHex(trusted.keyId)}.`);
    return { key: trusted, signed: cp };
  });

  // Step 3: the inclusion proof against the signed root (not the proof's own root_hash).
  await step(3, async () => {
    const p = await fetchProof(index, signed.size);
    if (BigInt(p.index) !== index || BigInt(p.tree_size) !== signed.size) {
      throw new Error(`the server sent a proof for entry ${p.index} in ${p.tree_size} entries, not entry ${index} in ${signed.size}`);
    }
    if (!Array.isArray(p.proof)) throw new Error('the proof has no list of hashes');
    const root = await rootFromInclusionProof(index, signed.size, hash, p.proof.map(fromHex));
    if (!equalBytes(root, signed.root)) {
      throw new Error(`the proof leads to root ${toHex(root)}, not the signed root ${toHex(signed.root)}`);
    }
    checks.push(`The ${p.proof.length}-hash inclusion proof leads from the leaf hash to the signed root ${toHex(root).slice(0, 16)}….`);
  });

  return {
    index,
    treeSize: signed.size,
    origin: signed.origin,
    keyName: key.name,
    pruned,
    leaf,
    event,
    checks,
  };
}
