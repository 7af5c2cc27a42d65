// A real `interlock serve` for one test file: a fresh governance directory
// from `interlock init`, a fresh data directory, both under a temporary
// directory, listening on a free loopback port (--listen 127.0.0.1:0, the
// port read from the line it prints). stop() sends SIGTERM and throws if
// the server exited badly (non-zero status, a signal, a sanitizer report),
// or had already died during the tests.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

// The principals of `interlock init` the tests sign in as (lib/requests.mjs
// says what each is for).
export const DEFAULT_PRINCIPALS = ['alice', 'bob', 'carol', 'trent', 'dave', 'erin', 'deployment-agent-01'];

// The binary under test: INTERLOCK_BIN (run.sh sets it from its argument).
export function interlockBinary() {
  const bin = process.env.INTERLOCK_BIN;
  if (!bin) throw new Error('INTERLOCK_BIN is not set: run the tests with tests/e2e/run.sh PATH_TO_INTERLOCK');
  return bin;
}

// Reports a sanitizer (ASan, LSan, UBSan) finding in a process's stderr.
const SANITIZER_REPORT = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer/;

async function run(bin, args) {
  try {
    const { stdout, stderr } = await execFileP(bin, args, { timeout: 30_000, maxBuffer: 4 << 20 });
    if (SANITIZER_REPORT.test(stderr)) throw new Error(`interlock ${args[0]} reported a sanitizer error:\n${stderr}`);
    return stdout;
  } catch (err) {
    throw new Error(`interlock ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`);
  }
}

export class InterlockServer {
  constructor(bin, root) {
    this.bin = bin;
    this.root = root;
    this.governance = path.join(root, 'governance');
    this.data = path.join(root, 'data');
    this.url = null;
    this.child = null;
    this.stdout = '';
    this.stderr = '';
    this.exit = null; // {code, signal} once the process ended
    this.stopping = false;
    this.tokens = new Map();
  }

  async #createToken(principal) {
    const out = await run(this.bin, ['token', 'create', '--data', this.data, '--governance', this.governance,
      '--principal', principal]);
    const words = out.trim().split(/\s+/);
    const token = words[words.length - 1];
    if (!/^itk_/.test(token)) throw new Error(`token create printed no token for ${principal}: ${out}`);
    this.tokens.set(principal, token);
    return token;
  }

  // A bearer token for a principal of principals.yaml, made with
  // `interlock token create` (the token is the last word it prints): the
  // principals named to start() get theirs before the server starts; any
  // other is created on demand, and then waited for until the running
  // server accepts it (it learns of new tokens within about a second).
  async token(principal) {
    if (this.tokens.has(principal)) return this.tokens.get(principal);
    const token = await this.#createToken(principal);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${this.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status === 200) return token;
      if (Date.now() > deadline) throw new Error(`the server did not accept the new token of ${principal}: ${res.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async #start(principals, governance) {
    await run(this.bin, ['init', this.governance]);
    if (governance) await governance(this.governance);
    // One at a time: `token create` processes appending to one audit log
    // side by side refuse ("the audit log grew ... elsewhere").
    for (const p of principals) await this.#createToken(p);
    const child = spawn(this.bin, ['serve', '--governance', this.governance, '--data', this.data,
      '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s) => { this.stderr += s; });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); });
    });
    this.url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`interlock serve printed no address in 30 s\n${this.stderr}`)), 30_000);
      child.stdout.on('data', (s) => {
        this.stdout += s;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(this.stdout);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`interlock serve exited (${code ?? signal}) before listening\n${this.stderr}`));
      });
    });
    await this.#waitHealthy();
  }

  async #waitHealthy() {
    const deadline = Date.now() + 30_000;
    let last = '';
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`interlock serve died: ${JSON.stringify(this.exit)}\n${this.stderr}`);
      try {
        const res = await fetch(`${this.url}/healthz`);
        const body = await res.json();
        if (res.status === 200 && body.status === 'ok') return body;
        last = `${res.status} ${JSON.stringify(body)}`;
      } catch (err) {
        last = err.message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`/healthz did not answer ok in 30 s: ${last}`);
  }

  // Starts a server; `principals` get their tokens before it starts;
  // `governance`, when given, is awaited with the path of the governance
  // directory right after `interlock init` wrote it, to change its files
  // before anything reads them.
  static async start({ principals = DEFAULT_PRINCIPALS, governance } = {}) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'interlock-e2e-'));
    const server = new InterlockServer(interlockBinary(), root);
    try {
      await server.#start(principals, governance);
    } catch (err) {
      await server.stop().catch(() => {});
      throw err;
    }
    return server;
  }

  // One API call as `principal` (a principal id, or null for no token).
  // Returns {status, body}; body is the parsed JSON, or the text if not JSON.
  async api(principal, method, route, body) {
    const headers = {};
    if (principal) headers.Authorization = `Bearer ${await this.token(principal)}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.url + route, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }

  // Like api(), but throws unless the status is `want`.
  async apiOk(principal, method, route, body, want = 200) {
    const res = await this.api(principal, method, route, body);
    if (res.status !== want) {
      throw new Error(`${method} ${route} as ${principal}: expected ${want}, got ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }

  // What `interlock decide --explain` answers for `request` with this
  // server's governance (no emergency stop): the reference the simulator
  // is compared with.
  async decideCli(request) {
    const file = path.join(this.root, `request-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
    await writeFile(file, JSON.stringify(request));
    const args = ['decide', '--governance', this.governance, '--request', file, '--explain'];
    let stdout;
    try {
      ({ stdout } = await execFileP(this.bin, args, { timeout: 30_000 }));
    } catch (err) {
      if (err.code !== 10 && err.code !== 20) throw new Error(`interlock decide failed: ${err.message}\n${err.stderr}`);
      stdout = err.stdout; // 10 require_approval, 20 deny
    }
    return JSON.parse(stdout);
  }

  // SIGTERM, then wait for a clean exit (status 0, no sanitizer report).
  // Throws if the server had died before, or exits badly, or hangs.
  async stop() {
    const problems = [];
    if (this.child) {
      if (this.exit && !this.stopping) {
        problems.push(`interlock serve had exited during the tests: ${JSON.stringify(this.exit)}`);
      } else {
        this.stopping = true;
        this.child.kill('SIGTERM');
        let timer;
        const timeout = new Promise((r) => { timer = setTimeout(() => r(null), 20_000); });
        const result = await Promise.race([this.exited, timeout]);
        clearTimeout(timer);
        if (!result) {
          this.child.kill('SIGKILL');
          await this.exited;
          problems.push('interlock serve did not stop within 20 s of SIGTERM (killed)');
        } else if (result.code !== 0) {
          problems.push(`interlock serve exited with ${result.code ?? 'signal ' + result.signal} after SIGTERM`);
        }
      }
      if (SANITIZER_REPORT.test(this.stderr)) problems.push('interlock serve reported a sanitizer error');
    }
    if (!process.env.E2E_KEEP_TMP) await rm(this.root, { recursive: true, force: true });
    if (problems.length) {
      throw new Error(`${problems.join('; ')}\n--- stderr (last 4000 chars) ---\n${this.stderr.slice(-4000)}`);
    }
  }
}
