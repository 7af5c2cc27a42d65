// The harness itself, without a browser: a real `interlock serve` starts on
// a free loopback port, tokens work, an approval raised through the API
// completes with two approvers, and the test's own audit log code (used to
// forge convincing tampering in audit.test.mjs) agrees with the real log.
import { after, before, describe, it } from 'node:test';
import { createPublicKey, verify } from 'node:crypto';
import { InterlockServer } from './lib/server.mjs';
import { assert } from './lib/expect.mjs';
import { leafHash, parseNote, parseVerifierKey, rootFromProof, forgedSigner, formatNote } from './lib/tlog.mjs';
import { PRODUCTION_MINOR } from './lib/requests.mjs';

describe('harness', () => {
  let server;
  before(async () => { server = await InterlockServer.start({ principals: ['alice', 'bob', 'carol', 'erin'] }); });
  after(async () => { await server?.stop(); });

  it('serves /healthz on loopback without a token and refuses a bad token', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await server.apiOk(null, 'GET', '/healthz');
    assert.equal(health.status, 'ok');
    const bad = await server.api(null, 'GET', '/v1/me');
    assert.equal(bad.status, 401);
    const me = await server.apiOk('alice', 'GET', '/v1/me');
    assert.equal(me.id, 'alice');
    assert.deepEqual(me.roles, ['engineer']);
  });

  it('raises an approval through the API that bob and carol complete', async () => {
    const decision = await server.apiOk('alice', 'POST', '/v1/decisions', PRODUCTION_MINOR);
    assert.equal(decision.decision, 'require_approval');
    assert.match(decision.approval_id, /^apr_/);
    const id = decision.approval_id;
    const first = await server.apiOk('bob', 'POST', `/v1/approvals/${id}/approve`, { rationale: 'reviewed' });
    assert.equal(first.state, 'pending');
    const own = await server.api('alice', 'POST', `/v1/approvals/${id}/approve`, { rationale: 'mine' });
    assert.equal(own.status, 403);
    const second = await server.apiOk('carol', 'POST', `/v1/approvals/${id}/approve`, { rationale: 'on call, fine' });
    assert.equal(second.state, 'approved');
  });

  it('computes leaf hashes, proof roots and note signatures as the log does', async () => {
    const { entries } = await server.apiOk('erin', 'GET', '/v1/audit/entries?limit=100');
    assert.ok(entries.length >= 3);
    const cp = await server.apiOk('erin', 'GET', '/v1/audit/checkpoint');
    const note = parseNote(cp.note);
    const { name: keyName, keyId, keyB64 } = parseVerifierKey(cp.verifier_key);
    assert.equal(keyName, note.origin);
    const pub = Buffer.from(keyB64, 'base64').subarray(1);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]);
    const sig = Buffer.from(note.signatures.find((s) => s.name === keyName).b64, 'base64');
    assert.equal(sig.subarray(0, 4).toString('hex'), keyId);
    assert.ok(verify(null, Buffer.from(note.body), createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig.subarray(4)));
    // The forged signer's key id follows the same rule as the log's.
    const forged = forgedSigner(keyName);
    assert.match(forged.verifierKey, new RegExp(`^${keyName}\\+[0-9a-f]{8}\\+`));
    assert.notEqual(forged.verifierKey, cp.verifier_key);
    assert.ok(formatNote(note.body, [forged.sign(note.body)]).startsWith(note.body));

    for (const entry of entries.slice(0, 3)) {
      const leaf = Buffer.from(entry.leaf, 'base64');
      assert.equal(leafHash(leaf).toString('hex'), entry.leaf_hash);
      assert.equal(leaf.readBigUInt64BE(1), BigInt(entry.index));
      const proof = await server.apiOk('erin', 'GET', `/v1/audit/proof?index=${entry.index}&size=${note.size}`);
      assert.equal(rootFromProof(entry.index, note.size, leafHash(leaf), proof.proof).toString('base64'), note.rootB64);
    }
  });
});
