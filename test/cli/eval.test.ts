import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { FIXTURES, runBin, runMain } from './helpers.js';

const NOW = '2026-11-24T10:00:00Z';

function decision(stdout: string) {
  const d = decisionSchema.parse(JSON.parse(stdout));
  return d;
}

describe('rein eval', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('allow → exit 0, pretty decision JSON on stdout (process)', async () => {
    const r = await runBin(['eval', 'valid', '--input', 'requests/allow.json', '--now', NOW]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith('{\n  "effect"'), 'pretty-printed');
    const d = decision(r.stdout);
    assert.equal(d.effect, 'allow');
    assert.equal(d.time, '2026-11-24T10:00:00.000Z');
    assert.equal(d.policy.name, 'support_agent');
    assert.equal(d.policy.version, '1.0.0');
    assert.match(d.request_hash ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('deny → exit 4, naming the rule', async () => {
    const r = await runBin(['eval', 'valid', '-i', 'requests/deny.json']);
    assert.equal(r.code, 4, r.stderr);
    const d = decision(r.stdout);
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons.map((x) => x.name), ['no_destructive_tools']);
    assert.equal(d.reasons[0].message, 'tool db.drop is blocked');
  });

  it('require_approval → exit 5; --approve binds the approval to this request → exit 0', async () => {
    const a = await runBin(['eval', 'valid', '-i', 'requests/transfer.json']);
    assert.equal(a.code, 5, a.stderr);
    assert.deepEqual(decision(a.stdout).approvals.map((x) => x.name), ['large_transfer']);
    const b = await runMain(['eval', 'valid', '-i', 'requests/transfer.json', '--approve', 'large_transfer']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(decision(b.stdout).effect, 'allow');
    const c = await runMain(['eval', 'valid', '-i', 'requests/transfer.json', '--approve', 'no_such_rule']);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /`no_such_rule` is not a rule or budget/);
    // regression: approving a rule that never asks for approval was accepted silently
    const d = await runMain(['eval', 'valid', '-i', 'requests/transfer.json', '--approve', 'no_destructive_tools']);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /`no_destructive_tools` does not require approval/);
  });

  it('--spent pre-seeds a budget for this request\'s key and window', async () => {
    const a = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--now', NOW]);
    assert.equal(a.code, 0, a.stderr);
    const before = decision(a.stdout).budgets.find((b) => b.name === 'team_daily')!;
    assert.equal(before.spent, '0.000000');
    const b = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--now', NOW, '--spent', 'team_daily=49']);
    assert.equal(b.code, 4, b.stdout);
    const d = decision(b.stdout);
    const after = d.budgets.find((x) => x.name === 'team_daily')!;
    assert.equal(after.spent, '49.000000');
    assert.equal(after.exceeded, true);
    assert.deepEqual(d.reasons.map((x) => [x.kind, x.name]), [['budget', 'team_daily']]);
    const c = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--spent', 'team_daily=$47.5']);
    assert.equal(c.code, 0, c.stdout);
    const bad = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--spent', 'nope=1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown budget `nope` \(budgets: `team_daily`\)/);
    const neg = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--spent', 'team_daily=-3']);
    assert.equal(neg.code, 2);
  });

  it('--explain: readable text on stderr by default, `explain` in the JSON with --format json', async () => {
    const t = await runMain(['eval', 'valid', '-i', 'requests/deny.json', '--explain']);
    assert.equal(t.code, 4);
    assert.equal(JSON.parse(t.stdout).explain, undefined);
    // apart from `explain`, stdout is the same decision as without --explain
    const plain = await runMain(['eval', 'valid', '-i', 'requests/deny.json', '--now', NOW]);
    const withExplain = await runMain(['eval', 'valid', '-i', 'requests/deny.json', '--now', NOW, '--explain']);
    assert.deepEqual(JSON.parse(withExplain.stdout), JSON.parse(plain.stdout));
    assert.match(JSON.parse(withExplain.stdout).request_hash, /^sha256:/);
    assert.match(t.stderr, /rule no_destructive_tools: matched → deny/);
    assert.match(t.stderr, /action\.tool = "db\.drop"/);
    assert.match(t.stderr, /rule large_transfer: not matched/);
    const j = await runMain(['eval', 'valid', '-i', 'requests/deny.json', '--explain', '--format', 'json']);
    assert.equal(j.code, 4);
    assert.equal(j.stderr, '');
    const d = decision(j.stdout);
    assert.ok(d.explain && d.explain.some((e) => e.name === 'no_destructive_tools' && e.matched));
    const none = await runMain(['eval', 'valid', '-i', 'requests/deny.json']);
    assert.equal(JSON.parse(none.stdout).explain, undefined);
    assert.equal(none.stderr, '');
  });

  it('reads the request from standard input with `-` (process)', async () => {
    const input = readFileSync(path.join(FIXTURES, 'requests/deny.json'), 'utf8');
    const r = await runBin(['eval', 'valid', '--input', '-'], { input });
    assert.equal(r.code, 4, r.stderr);
  });

  it('an invalid request yields the `on error` decision (deny) with errors', async () => {
    const r = await runMain(['eval', 'valid', '-i', 'requests/invalid.json']);
    assert.equal(r.code, 4);
    const d = decision(r.stdout);
    assert.ok(d.errors.some((e) => e.kind === 'input' && e.path === '$.action.kind'), JSON.stringify(d.errors));
  });

  it('IO and JSON problems exit 2; policy errors exit 1', async () => {
    const notJson = await runMain(['eval', 'valid', '-i', 'requests/not-json.json']);
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /`requests\/not-json\.json` is not valid JSON/);
    const missing = await runMain(['eval', 'valid', '-i', 'requests/nope.json']);
    assert.equal(missing.code, 2);
    // In words, with the command and the usage line (not a raw `ENOENT`).
    assert.equal(missing.stderr, 'rein eval: cannot read `requests/nope.json`: no such file or directory\nRun `rein eval --help` for usage.\n');
    const broken = await runBin(['eval', 'broken', '-i', 'requests/allow.json']);
    assert.equal(broken.code, 1);
    assert.equal(broken.stdout, '');
    assert.match(broken.stderr, /^broken\/policy\.rein:10:23 error REIN200/m);
  });

  it('evaluates a single .rein file as a set', async () => {
    const r = await runMain(['eval', 'failing/policy.rein', '-i', '-'], { input: '{"action":{"tool":"shell.exec"}}' });
    assert.equal(r.code, 4, r.stderr);
  });
});

describe('rein eval option combinations (in-process)', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('--format json without --explain has no explain field and prints nothing on stderr', async () => {
    const r = await runMain(['eval', 'valid', '-i', 'requests/allow.json', '--format', 'json']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.equal(JSON.parse(r.stdout).explain, undefined);
  });

  it('repeatable --approve and --spent; --now decides the budget window', async () => {
    const r = await runMain([
      'eval', 'valid', '-i', 'requests/model-call.json', '--now', '2026-11-24T23:59:59Z',
      '--spent', 'team_daily=20', '--spent', 'team_daily=20', '--approve', 'large_transfer', '--approve', 'large_transfer',
    ]);
    assert.equal(r.code, 0, r.stdout);
    const b = JSON.parse(r.stdout).budgets.find((x: { name: string }) => x.name === 'team_daily');
    assert.equal(b.spent, '40.000000');
    assert.deepEqual(b.window, { start: '2026-11-24T00:00:00.000Z', end: '2026-11-25T00:00:00.000Z' });
  });
});
