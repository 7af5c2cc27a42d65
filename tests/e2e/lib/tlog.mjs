// The audit log's formats (docs/audit-format.md) as far as the tests need
// them to forge convincing lies: leaf hashes, RFC 9162 inclusion proof
// roots, and C2SP signed notes signed by a key of the test's own.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';

export const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

export const leafHash = (leaf) => sha256(Buffer.from([0]), leaf);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

// RFC 9162 §2.1.3.2: the root an inclusion proof leads to.
export function rootFromProof(index, size, leafHashBuf, proofHex) {
  let fn = index;
  let sn = size - 1;
  let r = leafHashBuf;
  for (const p of proofHex.map((h) => Buffer.from(h, 'hex'))) {
    if (sn === 0) throw new Error('proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn !== 0) throw new Error('proof too short');
  return r;
}

// Flips the lowest bit of one hex digit.
export function flipHex(hex, at = hex.length - 1) {
  const d = (parseInt(hex[at], 16) ^ 1).toString(16);
  return hex.slice(0, at) + d + hex.slice(at + 1);
}

// {origin, size, rootB64, body (the signed text), signatures: [{name, b64}]}
export function parseNote(note) {
  const [body, sigs] = note.split('\n\n');
  const [origin, size, rootB64] = body.split('\n');
  const signatures = sigs.split('\n').filter(Boolean).map((line) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a signature line: ${line}`);
    return { name: m[1], b64: m[2] };
  });
  return { origin, size: Number(size), rootB64, body: `${body}\n`, signatures };
}

export function formatNote(body, signatures) {
  return `${body}\n${signatures.map((s) => `\u2014 ${s.name} ${s.b64}\n`).join('')}`;
}

// An Ed25519 key of our own named `name`: signs note bodies like the log.
export function forgedSigner(name) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.from([0x0a, 0x01]), pub).subarray(0, 4);
  return {
    verifierKey: `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`,
    sign(body) {
      const sig = sign(null, Buffer.from(body, 'utf8'), privateKey);
      return { name, b64: Buffer.concat([keyId, sig]).toString('base64') };
    },
  };
}

// "<name>+<8 hex key id>+<base64(0x01 || pub)>" (the base64 may hold '+').
export function parseVerifierKey(key) {
  const first = key.indexOf('+');
  const second = key.indexOf('+', first + 1);
  return { name: key.slice(0, first), keyId: key.slice(first + 1, second), keyB64: key.slice(second + 1) };
}
