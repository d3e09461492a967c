// `rein eval SET --input FILE.jsonl` (or `-i -` with JSON Lines, or `--batch`): one decision per line on stdout, a summary
// on stderr; malformed lines keep their place as an error line and make the exit code 2.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, runMain } from './helpers.js';

const REQ = (tool: string) => JSON.stringify({ session: { id: 's1' }, agent: { id: 'a1', team: 'support' }, action: { kind: 'tool_call', tool } });

describe('rein eval: batch (JSON Lines)', function () {
  this.timeout(60_000);
  it('a .jsonl input: one decision per non-blank line, in order, and a summary on stderr', async () => {
    const lines = readFileSync(path.join(FIXTURES, 'requests/replay.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
    const r = await runMain(['eval', 'valid', '--input', 'requests/replay.jsonl']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(out.length, lines.length);
    const single = await runMain(['eval', 'valid', '--input', '-', '--format', 'json'], { input: lines[1] });
    assert.equal(out[1].effect, JSON.parse(single.stdout).effect);
    assert.match(r.stderr, new RegExp(`^${lines.length} requests: \\d+ allow, \\d+ deny, \\d+ require_approval in \\d+ ms`));
  });

  it('standard input with --batch; effects counted; blank lines skipped', async () => {
    const input = [REQ('search'), '', REQ('db.drop'), REQ('search')].join('\n');
    const r = await runMain(['eval', 'valid', '-i', '-', '--batch'], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).effect), ['allow', 'deny', 'allow']);
    assert.match(r.stderr, /^3 requests: 2 allow, 1 deny, 0 require_approval in/);
  });

  it('JSON Lines on standard input without --batch (`cat requests.jsonl | rein eval SET -i -`) is a batch; one document over several lines is one request', async () => {
    const r = await runMain(['eval', 'valid', '-i', '-'], { input: [REQ('search'), REQ('db.drop')].join('\n') + '\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).effect), ['allow', 'deny']);
    assert.match(r.stderr, /^2 requests: 1 allow, 1 deny, 0 require_approval in/);
    const pretty = await runMain(['eval', 'valid', '-i', '-'], { input: JSON.stringify(JSON.parse(REQ('db.drop')), null, 2) });
    assert.equal(pretty.code, 4, pretty.stderr);
    assert.equal(JSON.parse(pretty.stdout).effect, 'deny');
    const broken = await runMain(['eval', 'valid', '-i', '-'], { input: '{\n  "tool": \n' });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /standard input is not valid JSON/);
  });

  it('a malformed line is an error line in its place (with its line number) and exit 2', async () => {
    const r = await runMain(['eval', 'valid', '--input', 'requests/malformed.jsonl']);
    assert.equal(r.code, 2);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(out[0].effect, 'allow');
    assert.equal(out[1].error.line, 2);
    assert.match(out[1].error.message, /not valid JSON/);
    // a JSON value that is not a request is decided (the policy's `on error` effect), not malformed
    assert.equal(out[2].effect, 'deny');
    assert.match(r.stderr, /, 1 malformed in/);
  });

  it('budgets accumulate over the lines (one engine, one store)', async () => {
    // the fixture's team_daily: $50 per day of model calls; 200 calls of $0.30 run into it at the 167th
    const call = JSON.stringify({ session: { id: 's1' }, agent: { id: 'a1', team: 'support' }, action: { kind: 'model_call' }, cost: { estimate: '0.30', tokens: 10 } });
    const input = Array.from({ length: 200 }, () => call).join('\n');
    const r = await runMain(['eval', 'valid', '-i', '-', '--batch', '--now', '2026-11-24T10:00:00Z'], { input });
    const effects = r.stdout.trim().split('\n').map((l) => JSON.parse(l).effect);
    assert.equal(effects.length, 200);
    assert.equal(effects.indexOf('deny'), 166, 'the 167th call would pass $50');
    assert.ok(effects.slice(0, 166).every((e) => e === 'allow'));
  });

  it('--spent is refused in batch mode with the reason', async () => {
    const r = await runMain(['eval', 'valid', '-i', '-', '--batch', '--spent', 'x=1'], { input: REQ('search') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--spent applies to one request/);
  });
});
