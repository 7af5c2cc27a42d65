// C2SP signed notes, tlog checkpoints and Ed25519 verifier keys
// (docs/audit-format.md section 4). Pure functions over strings and
// Uint8Array; the signature check uses WebCrypto's "Ed25519". No DOM.

import { concat, equalBytes, fromBase64, sha256, toHex, utf8 } from './bytes.js';

const ALG_ED25519 = 0x01;
const EM_DASH = '\u2014';

/** An Error whose message is meant for the user: what is wrong with the note or key. */
export class NoteError extends Error {}

function checkKeyName(name) {
  if (!name || /[\s+]/u.test(name)) throw new NoteError(`"${name}" is not a valid key name`);
}

/** Key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). */
export async function keyId(name, publicKey) {
  return (await sha256(concat(utf8(name), 0x0a, ALG_ED25519, publicKey))).subarray(0, 4);
}

/**
 * Parses and checks a C2SP verifier key `<name>+<8 hex key id>+<base64(0x01 || 32-byte key)>`.
 * Returns {name, keyId (Uint8Array 4), publicKey (Uint8Array 32), text}.
 * Throws NoteError when malformed or when the key id does not match the key.
 */
export async function parseVerifierKey(text) {
  const trimmed = String(text ?? '').trim();
  // Split at the first two '+': the name cannot contain one, the base64 key may.
  const first = trimmed.indexOf('+');
  const second = first < 0 ? -1 : trimmed.indexOf('+', first + 1);
  if (second < 0) {
    throw new NoteError('a verifier key has the form <name>+<8 hex digits>+<base64 key>');
  }
  const name = trimmed.slice(0, first);
  const idHex = trimmed.slice(first + 1, second);
  const keyB64 = trimmed.slice(second + 1);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('the key id of the verifier key is not 8 lowercase hex digits');
  let key;
  try {
    key = fromBase64(keyB64);
  } catch {
    throw new NoteError('the key of the verifier key is not base64');
  }
  if (key.length !== 33 || key[0] !== ALG_ED25519) {
    throw new NoteError('the verifier key is not an Ed25519 key (0x01 followed by 32 bytes)');
  }
  const publicKey = key.subarray(1);
  const id = await keyId(name, publicKey);
  if (toHex(id) !== idHex) {
    throw new NoteError(`the verifier key's id ${idHex} does not match its name and key (expected ${toHex(id)})`);
  }
  return { name, keyId: id, publicKey, text: trimmed };
}

/**
 * Splits a signed note into its text (what is signed) and its signature lines.
 * Returns {text, signatures: [{name, keyId, signature}]} where keyId is 4
 * bytes and signature the rest. Throws NoteError when malformed.
 */
export function parseSignedNote(note) {
  if (typeof note !== 'string' || !note.endsWith('\n')) throw new NoteError('the note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('the note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const signatures = [];
  for (const line of lines) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw new NoteError(`"${line.slice(0, 60)}" is not a signature line ("${EM_DASH} <name> <base64>")`);
    let bytes;
    try {
      bytes = fromBase64(m[2]);
    } catch {
      throw new NoteError(`the signature by ${m[1]} is not base64`);
    }
    if (bytes.length < 5) throw new NoteError(`the signature by ${m[1]} is too short`);
    signatures.push({ name: m[1], keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) });
  }
  if (signatures.length === 0) throw new NoteError('the note has no signature');
  return { text, signatures };
}

/**
 * Parses the text of a C2SP tlog checkpoint: origin, size (BigInt), root
 * hash (32 bytes) and extension lines. Throws NoteError when malformed.
 */
export function parseCheckpoint(text) {
  const lines = text.slice(0, -1).split('\n');
  if (!text.endsWith('\n') || lines.length < 3) throw new NoteError('the checkpoint has fewer than three lines');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!origin) throw new NoteError('the checkpoint has no origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new NoteError(`the checkpoint size "${sizeText}" is not a decimal number`);
  let root;
  try {
    root = fromBase64(rootText);
  } catch {
    throw new NoteError('the checkpoint root hash is not base64');
  }
  if (root.length !== 32) throw new NoteError('the checkpoint root hash is not 32 bytes');
  if (extensions.some((l) => l === '')) throw new NoteError('the checkpoint has an empty line');
  return { origin, size: BigInt(sizeText), root, extensions };
}

/**
 * Verifies `noteText` (a signed checkpoint) with the trusted verifier key
 * `key` (from parseVerifierKey). Checks that a signature line names the key
 * and carries its key id, that the Ed25519 signature of the text holds, and
 * that the key's name is the checkpoint's origin. Returns the parsed
 * checkpoint {origin, size, root, extensions}. Throws NoteError otherwise.
 */
export async function verifyCheckpoint(noteText, key) {
  const { text, signatures } = parseSignedNote(noteText);
  const mine = signatures.filter((s) => s.name === key.name && equalBytes(s.keyId, key.keyId));
  if (mine.length === 0) {
    const names = signatures.map((s) => `${s.name}+${toHex(s.keyId)}`).join(', ');
    throw new NoteError(`the note is not signed by the trusted key ${key.name}+${toHex(key.keyId)} (signed by ${names})`);
  }
  let cryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('raw', key.publicKey, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    throw new NoteError(`this browser cannot check Ed25519 signatures with WebCrypto (${e.name || e.message})`);
  }
  let good = false;
  for (const s of mine) {
    if (s.signature.length !== 64) continue;
    if (await crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, s.signature, utf8(text))) good = true;
  }
  if (!good) throw new NoteError(`the Ed25519 signature by ${key.name} does not verify`);
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== key.name) {
    throw new NoteError(`the checkpoint's origin ${checkpoint.origin} is not the key's name ${key.name}`);
  }
  return checkpoint;
}
