// The dashboard's verifier (web/js/verify.js, merkle.js, note.js) run in
// Node without a browser, against a bundle that the real binary exports
// (`interlock audit export --bundle`), and against RFC 9162 inclusion proofs
// for every index of trees of 1 to 20 leaves. The browser tests check the
// same code through the pages; these reach the cases a page cannot easily
// produce.
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assert } from './lib/expect.mjs';
import { interlockBinary } from './lib/server.mjs';
import { verifyEntry } from '../../web/js/verify.js';
import { leafHash, rootFromInclusionProof, rootOfLeafHashes } from '../../web/js/merkle.js';
import { fromBase64, fromHex, toBase64, toHex } from '../../web/js/bytes.js';
import { parseVerifierKey } from '../../web/js/note.js';

// RFC 9162 §2.1.3.1 PATH(m, D[n]), computed from the leaf hashes.
async function inclusionPath(m, hashes) {
  const n = hashes.length;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  if (m < k) return [...await inclusionPath(m, hashes.slice(0, k)), await rootOfLeafHashes(hashes.slice(k))];
  return [...await inclusionPath(m - k, hashes.slice(k)), await rootOfLeafHashes(hashes.slice(0, k))];
}

describe('the browser verifier', () => {
  let dir;
  let bundle;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'interlock-verifier-'));
    const bin = interlockBinary();
    const env = { ...process.env, INTERLOCK_MASTER_KEY: '11'.repeat(32) };
    const run = (args, input) => execFileSync(bin, args, { cwd: dir, env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    run(['init', 'gov']);
    const events = Array.from({ length: 9 }, (_, i) => JSON.stringify({
      event_type: 'deployment', actor: { type: 'human', id: 'alice' }, environment: 'dev',
      outcome: { status: 'success' }, reason: `deployment ${i} "quoted" ✓`,
    })).join('\n');
    run(['audit', 'append', '--data', 'data'], `${events}\n`);
    bundle = JSON.parse(run(['audit', 'export', '--data', 'data', '--governance', 'gov', '--as', 'erin', '--bundle']));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  // The arguments of verifyEntry for record `i` of the bundle.
  const input = (i, over = {}) => ({
    entry: bundle.records[i],
    checkpoint: { note: bundle.checkpoint, verifier_key: bundle.verifier_key },
    trustedKey: bundle.verifier_key,
    fetchProof: async (index, size) => ({ index: Number(index), tree_size: Number(size), proof: bundle.records[i].proof }),
    ...over,
  });
  async function rejects(over, step, what) {
    let error;
    try { await verifyEntry(input(3, over)); } catch (e) { error = e; }
    assert.ok(error, `${what}: accepted`);
    assert.equal(error.step, step, `${what}: failed at step ${error.step} (${error.message})`);
  }

  it('agrees with the log: the root of the leaf hashes is the checkpoint root', async () => {
    assert.equal(bundle.tree_size, 9);
    const root = await rootOfLeafHashes(bundle.records.map((r) => fromHex(r.leaf_hash)));
    assert.equal(toBase64(root), bundle.checkpoint.split('\n')[2]);
    assert.equal((await parseVerifierKey(bundle.verifier_key)).name, bundle.origin);
  });

  it('verifies every entry of the bundle and decodes its event', async () => {
    for (let i = 0; i < bundle.records.length; i++) {
      const result = await verifyEntry(input(i));
      assert.equal(result.treeSize, BigInt(bundle.tree_size));
      assert.equal(result.event.reason, `deployment ${i} "quoted" ✓`);
    }
  });

  it('checks RFC 9162 inclusion proofs for every index of trees of 1 to 20 leaves', async () => {
    for (let n = 1; n <= 20; n++) {
      const hashes = [];
      for (let i = 0; i < n; i++) hashes.push(await leafHash(Uint8Array.of(i, n)));
      const root = toHex(await rootOfLeafHashes(hashes));
      for (let i = 0; i < n; i++) {
        const proof = await inclusionPath(i, hashes);
        assert.equal(toHex(await rootFromInclusionProof(i, n, hashes[i], proof)), root, `tree ${n}, index ${i}`);
        if (n === 1) continue;
        // The same proof must not place the leaf at another index.
        let wrong = null;
        try { wrong = toHex(await rootFromInclusionProof((i + 1) % n, n, hashes[i], proof)); } catch { /* refused */ }
        assert.notEqual(wrong, root, `tree ${n}: index ${i}'s proof accepted for index ${(i + 1) % n}`);
      }
    }
  });

  it('refuses a changed leaf, index, checkpoint, key or proof at the step that catches it', async () => {
    const leaf = fromBase64(bundle.records[3].leaf);
    leaf[40] ^= 1;
    await rejects({ entry: { ...bundle.records[3], leaf: toBase64(leaf) } }, 1, 'a flipped leaf byte');
    await rejects({ entry: { ...bundle.records[3], index: 4 } }, 1, 'another index');
    const size = bundle.checkpoint.replace('\n9\n', '\n8\n');
    await rejects({ checkpoint: { note: size, verifier_key: bundle.verifier_key } }, 2, 'a changed tree size');
    const last = bundle.verifier_key.at(-2) === 'A' ? 'B' : 'A';
    const otherKey = `${bundle.verifier_key.slice(0, -2)}${last}${bundle.verifier_key.at(-1)}`;
    await rejects({ trustedKey: otherKey }, 2, 'a different pinned key');
    await rejects({ checkpoint: { note: bundle.checkpoint, verifier_key: 'x+00000000+AQ==' } }, 2,
      'a server key that is not the pinned one');
    const proof = [...bundle.records[3].proof];
    proof[1] = (proof[1][0] === '0' ? '1' : '0') + proof[1].slice(1);
    await rejects({ fetchProof: async (i, n) => ({ index: Number(i), tree_size: Number(n), proof }) }, 3, 'a changed proof');
    await rejects({ fetchProof: async (i, n) => ({ index: Number(i), tree_size: Number(n), proof: proof.slice(1) }) }, 3,
      'a short proof');
  });

  it('verifies a pruned entry by its leaf hash alone', async () => {
    const result = await verifyEntry(input(3, { entry: { ...bundle.records[3], leaf: null, event: null } }));
    assert.ok(result.pruned);
    assert.equal(result.event, null);
  });
});
