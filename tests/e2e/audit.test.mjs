// The audit log in the browser: search, open an entry, and verify it with
// WebCrypto against the signed checkpoint. The browser must not trust the
// server: page.route rewrites the server's JSON answers (proof, checkpoint,
// entries) into convincing lies, and each must fail verification.
import { suite, uiTest } from './lib/ui.mjs';
import { rewrite } from './lib/routes.mjs';
import { assert, count, hasText, pageTextMatches, visible } from './lib/expect.mjs';
import { DEV_PATCH, PRODUCTION_MINOR } from './lib/requests.mjs';
import { flipHex, forgedSigner, formatNote, leafHash, parseNote, parseVerifierKey, rootFromProof, sha256 } from './lib/tlog.mjs';

const READER = 'erin'; // security-lead: reads the whole log

async function openEntry(ui, page, index) {
  await ui.goto(page, `#/audit/${index}`, `Audit entry ${index}`);
}

async function verify(page) {
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  const result = page.getByTestId('verify-result');
  return hasText(result, /^(Verified|Verification failed:)/);
}

// The verification failed, loudly (role="alert"), at the step the contract
// numbers (1 leaf, 2 signed checkpoint, 3 inclusion proof).
async function expectFailure(ui, page, hits, what, step) {
  const text = await verify(page);
  await ui.shot(page, `verification fails - ${what}`);
  assert.ok(hits.n > 0, `the tampered ${what} was never requested by the page`);
  assert.match(text, /^Verification failed: \S/, `a tampered ${what} must fail verification; the page said: ${text}`);
  assert.match(text, new RegExp(`step ${step}\\b`), `a tampered ${what} fails at step ${step}: ${text}`);
  assert.equal(await page.getByTestId('verify-result').getAttribute('role'), 'alert');
  return text;
}

// Verifies entry `index` as it is (the control: it must pass, which also
// pins the log's key), then again after `path`'s answers are rewritten by
// `mutate` and the page reloaded: that must fail at `step`.
async function tampered(ui, index, path, mutate, what, step) {
  const page = await ui.as(READER);
  await openEntry(ui, page, index);
  assert.match(await verify(page), /^Verified/, 'before tampering, the entry verifies');
  const hits = await rewrite(page, path, mutate);
  await page.reload();
  await visible(page.getByRole('heading', { level: 1, name: `Audit entry ${index}`, exact: true }));
  return expectFailure(ui, page, hits, what, step);
}

suite('audit log', (env) => {
  const entries = {}; // name -> audit index
  const decisionLeaf = {}; // index -> leaf bytes

  // A few decisions to look at: alice's two, so a search by actor and type finds exactly them.
  const seed = async () => {
    if (entries.approval !== undefined) return;
    const { server } = env;
    entries.approval = (await server.apiOk('alice', 'POST', '/v1/decisions', PRODUCTION_MINOR)).audit_index;
    entries.allow = (await server.apiOk('alice', 'POST', '/v1/decisions', DEV_PATCH)).audit_index;
    await server.apiOk('bob', 'POST', '/v1/decisions', { ...DEV_PATCH, actor: { type: 'human', id: 'bob' } });
    const { entries: all } = await server.apiOk(READER, 'GET', '/v1/audit/entries?event_type=decision');
    for (const e of all) decisionLeaf[e.index] = Buffer.from(e.leaf, 'base64');
  };

  uiTest(env, 'an audit entry found by search verifies in the browser', async (ui) => {
    await seed();
    const page = await ui.as(READER);
    await ui.goto(page, '#/audit', 'Audit log');
    await page.getByLabel('Actor', { exact: true }).fill('alice');
    await page.getByLabel('Event type', { exact: true }).fill('decision');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await visible(page.getByRole('link', { name: `#${entries.approval}`, exact: true }));
    await visible(page.getByRole('link', { name: `#${entries.allow}`, exact: true }));
    // Only alice's decisions: the token creations (#0...) and bob's decision are not listed.
    await count(page.getByRole('link', { name: /^#\d+$/ }), 2);
    await ui.shot(page, 'search results');

    await page.getByRole('link', { name: `#${entries.approval}`, exact: true }).click();
    await visible(page.getByRole('heading', { level: 1, name: `Audit entry ${entries.approval}`, exact: true }));
    const text = await verify(page);
    assert.match(text, /^Verified/);
    assert.ok(text.includes(String(entries.approval)), `names the entry: ${text}`);
    assert.equal(await page.getByTestId('verify-result').getAttribute('role'), 'status');
    await pageTextMatches(page, /pinned on first use/i);
    await pageTextMatches(page, /require_approval/); // the event, decoded from the verified leaf
    const { entries: [entry] } = await env.server.apiOk(READER, 'GET', `/v1/audit/entries?from=${entries.approval}&limit=1`);
    await pageTextMatches(page, new RegExp(entry.leaf_hash));
    await ui.shot(page, 'verified');

    // The pinned key is the log's.
    const cp = await env.server.apiOk(READER, 'GET', '/v1/audit/checkpoint');
    const pinned = await page.evaluate(() => localStorage.getItem('interlock.verifier_key'));
    assert.ok(pinned && pinned.includes(parseVerifierKey(cp.verifier_key).keyB64), `pinned ${pinned}`);
  });

  uiTest(env, 'a tampered inclusion proof fails verification', async (ui) => {
    await seed();
    await tampered(ui, entries.approval, '/v1/audit/proof', (json) => { json.proof[0] = flipHex(json.proof[0]); },
      'proof', 3);
  });

  uiTest(env, 'a proof whose root_hash field vouches for it still fails (only the signed root counts)', async (ui) => {
    await seed();
    await tampered(ui, entries.approval, '/v1/audit/proof', (json) => {
      json.proof[0] = flipHex(json.proof[0]);
      json.root_hash = rootFromProof(json.index, json.tree_size, Buffer.from(json.leaf_hash, 'hex'), json.proof).toString('hex');
    }, 'proof and root_hash', 3);
  });

  uiTest(env, 'a tampered checkpoint signature fails verification', async (ui) => {
    await seed();
    await tampered(ui, entries.approval, '/v1/audit/checkpoint', (json) => {
      const note = parseNote(json.note);
      const sig = Buffer.from(note.signatures[0].b64, 'base64');
      sig[4 + 10] ^= 0x01; // a bit of the Ed25519 signature, not of the key id
      note.signatures[0].b64 = sig.toString('base64');
      json.note = formatNote(note.body, note.signatures);
    }, 'checkpoint signature', 2);
  });

  uiTest(env, 'a checkpoint whose root was replaced fails verification', async (ui) => {
    await seed();
    await tampered(ui, entries.approval, '/v1/audit/checkpoint', (json) => {
      const note = parseNote(json.note);
      const body = `${note.origin}\n${note.size}\n${sha256(Buffer.from('another history')).toString('base64')}\n`;
      json.note = formatNote(body, note.signatures);
    }, 'checkpoint root', 2);
  });

  uiTest(env, 'a tampered leaf fails verification, even with a matching leaf_hash', async (ui) => {
    await seed();
    const index = entries.approval;
    const original = decisionLeaf[index];
    const at = original.indexOf('require_approval', 34);
    assert.ok(at > 34, 'the decision is in the leaf');
    // History rewritten: the decision that needed approval now says allow.
    const forged = Buffer.concat([original.subarray(0, at), Buffer.from('allow'), original.subarray(at + 'require_approval'.length)]);
    const forgedEvent = JSON.parse(forged.subarray(34).toString('utf8'));

    for (const [what, consistentHash, step] of [['leaf', false, 1], ['leaf with its leaf_hash', true, 3]]) {
      await tampered(ui, index, '/v1/audit/entries', (json) => {
        for (const e of json.entries) {
          if (e.index !== index) continue;
          e.leaf = forged.toString('base64');
          if (consistentHash) {
            e.leaf_hash = leafHash(forged).toString('hex');
            e.event = forgedEvent;
          }
        }
      }, what, step);
    }
  });

  uiTest(env, 'another entry served under this index fails verification', async (ui) => {
    await seed();
    const other = decisionLeaf[entries.allow];
    await tampered(ui, entries.approval, '/v1/audit/entries', (json) => {
      for (const e of json.entries) {
        if (e.index !== entries.approval) continue;
        e.leaf = other.toString('base64');
        e.leaf_hash = leafHash(other).toString('hex');
        e.event = JSON.parse(other.subarray(34).toString('utf8'));
      }
    }, 'substituted entry', 1);
  });

  uiTest(env, 'a checkpoint signed by another key fails once the log\'s key is pinned', async (ui) => {
    await seed();
    // A self-consistent checkpoint (same origin, size and root) signed by a
    // key of the server's own, with its verifier key.
    const cp = await env.server.apiOk(READER, 'GET', '/v1/audit/checkpoint');
    const forger = forgedSigner(parseVerifierKey(cp.verifier_key).name);
    await tampered(ui, entries.approval, '/v1/audit/checkpoint', (json) => {
      const note = parseNote(json.note);
      json.note = formatNote(note.body, [forger.sign(note.body)]);
      json.verifier_key = forger.verifierKey;
    }, 'checkpoint signed by another key', 2);
  });
}, { principals: ['alice', 'bob', 'erin'] });
