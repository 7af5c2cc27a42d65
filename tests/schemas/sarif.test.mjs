// `interlock compliance report --format sarif` validated against the
// official SARIF 2.1.0 JSON schema (sarif-2.1.0-rtm.5.json, as the npm
// package @microsoft/jest-sarif ships it; nothing is fetched at run time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';

const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
// unicodeRegExp: false: the schema's pattern for `language` is not a valid
// regular expression under the u flag (a stray ']'), and is one without it.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

const bin = process.env.INTERLOCK_BIN;
assert.ok(bin, 'INTERLOCK_BIN names the interlock binary');

function withGovernance(edit, body) {
  const dir = mkdtempSync(path.join(tmpdir(), 'interlock-sarif-'));
  try {
    const governance = path.join(dir, 'governance');
    execFileSync(bin, ['init', governance]);
    if (edit) edit(governance);
    body(governance, path.join(dir, 'data'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(governance, data, extra) {
  const run = spawnSync(bin, ['compliance', 'report', '--governance', governance, '--data', data,
    ...extra], { encoding: 'utf8' });
  // 1: a fresh data directory has recorded no drill, so controls fail.
  assert.equal(run.status, 1, run.stderr);
  return run.stdout;
}

function assertValid(text) {
  const log = JSON.parse(text);
  const ok = validate(log);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  return log;
}

test('the SARIF report of the default governance is valid SARIF 2.1.0', () => {
  withGovernance(null, (governance, data) => {
    const log = assertValid(report(governance, data, ['--format', 'sarif']));
    const run = log.runs[0];
    assert.equal(run.tool.driver.name, 'interlock');
    assert.equal(run.results.length, run.tool.driver.rules.length);
    assert.ok(run.results.some((r) => r.kind === 'fail' && r.level === 'error'));
    assert.ok(run.results.some((r) => r.kind === 'pass' && r.level === 'none'));
  });
});

test('hostile control text stays valid SARIF, in --format all too', () => {
  // YAML double-quoted: an escaped quote, a backslash, markup, a control character.
  const yaml = '"Quote \\" back\\\\slash <tag> & \\u0001 control"';
  withGovernance((governance) => {
    const file = path.join(governance, 'compliance', 'controls.yml');
    const text = readFileSync(file, 'utf8');
    const edited = text.replace(
      /description: The emergency stop was drilled[^\n]*/,
      `description: ${yaml}`);
    assert.notEqual(edited, text);
    writeFileSync(file, edited);
  }, (governance, data, dir) => {
    const out = path.join(dir, 'out');
    report(governance, data, ['--format', 'all', '--out', out]);
    const log = assertValid(readFileSync(path.join(out, 'report.sarif'), 'utf8'));
    const rule = log.runs[0].tool.driver.rules.find((r) => r.id === 'drill-emergency-stop');
    assert.equal(rule.shortDescription.text, 'Quote " back\\slash <tag> & \u0001 control');
  });
});
