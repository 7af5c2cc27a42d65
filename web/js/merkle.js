// The audit log's leaf bytes and RFC 9162 Merkle hashing
// (docs/audit-format.md sections 1 and 3). Pure functions over Uint8Array,
// asynchronous only because WebCrypto's SHA-256 is; no DOM, no network.

import { concat, equalBytes, fromUtf8, sha256 } from './bytes.js';

export const LEAF_VERSION = 0x01;
const HEADER_SIZE = 34; // version 1 + index 8 + time 8 + salt 16 + class 1

/** Retention class names by the number stored in byte 33 of a leaf. */
export const RETENTION_CLASSES = ['production', 'staging', 'dev', 'security_incident', 'ai_agent_decision'];

/** RFC 9162 leaf hash: SHA-256(0x00 || leaf bytes). */
export function leafHash(leaf) {
  return sha256(concat(0x00, leaf));
}

/** RFC 9162 interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(0x01, left, right));
}

/**
 * Splits leaf bytes into their fields (docs/audit-format.md section 1).
 * Returns {version, index (BigInt), recordedAtMs (BigInt, signed), salt,
 * retentionClass (number), retentionName, eventBytes, eventText}.
 * Throws an Error naming the problem when the bytes are not a version-1 leaf
 * or the event is not valid UTF-8.
 */
export function parseLeaf(leaf) {
  if (!(leaf instanceof Uint8Array)) throw new Error('the leaf is not a byte array');
  if (leaf.length < HEADER_SIZE) {
    throw new Error(`the leaf has ${leaf.length} bytes, fewer than the ${HEADER_SIZE}-byte header`);
  }
  if (leaf[0] !== LEAF_VERSION) throw new Error(`the leaf's format version is ${leaf[0]}, not 1`);
  const view = new DataView(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  const eventBytes = leaf.subarray(HEADER_SIZE);
  let eventText;
  try {
    eventText = fromUtf8(eventBytes);
  } catch {
    throw new Error('the event in the leaf is not valid UTF-8');
  }
  const retentionClass = leaf[33];
  return {
    version: leaf[0],
    index: view.getBigUint64(1),
    recordedAtMs: view.getBigInt64(9),
    salt: leaf.subarray(17, 33),
    retentionClass,
    retentionName: RETENTION_CLASSES[retentionClass] ?? 'unknown',
    eventBytes,
    eventText,
  };
}

/**
 * The root implied by an inclusion proof: RFC 9162 section 2.1.3.2.
 * `index` and `treeSize` are integers (Number or BigInt), `hash` the leaf
 * hash, `proof` the sibling hashes from the leaf up. Throws an Error when
 * the proof cannot be valid for that position and size (index out of range,
 * too long or too short); otherwise returns the computed root, which the
 * caller compares with a root it trusts.
 */
export async function rootFromInclusionProof(index, treeSize, hash, proof) {
  let fn = BigInt(index);
  let sn = BigInt(treeSize) - 1n;
  if (fn < 0n || fn > sn) throw new Error(`index ${index} is not inside a tree of ${treeSize} entries`);
  if (hash.length !== 32) throw new Error('the leaf hash is not 32 bytes');
  let r = hash;
  for (const p of proof) {
    if (p.length !== 32) throw new Error('a proof hash is not 32 bytes');
    if (sn === 0n) throw new Error('the proof is longer than the tree is deep');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        // A right-edge node with no right sibling: climb until it is a right child.
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error('the proof is shorter than the tree is deep');
  return r;
}

/** True when `proof` proves `hash` at `index` in the tree of `treeSize` entries whose root is `root`. */
export async function verifyInclusion(index, treeSize, hash, proof, root) {
  try {
    return equalBytes(await rootFromInclusionProof(index, treeSize, hash, proof), root);
  } catch {
    return false;
  }
}

/** RFC 9162 MTH(D[n]) of a list of leaf hashes (for tests and small trees). */
export async function rootOfLeafHashes(hashes) {
  if (hashes.length === 0) return sha256(new Uint8Array(0));
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(await rootOfLeafHashes(hashes.slice(0, k)), await rootOfLeafHashes(hashes.slice(k)));
}
