// `rein bench`: decisions per second and latency percentiles (the numbers are machine-dependent:
// the test checks their consistency, never their size).
import { strict as assert } from 'node:assert';
import { runMain } from './helpers.js';

const REQ = (tool: string) => JSON.stringify({ session: { id: 's1' }, agent: { id: 'a1', team: 'support' }, action: { kind: 'tool_call', tool } });

describe('rein bench', function () {
  this.timeout(60_000);
  it('--format json: counts, rate and ordered percentiles that agree with each other', async () => {
    const r = await runMain(['bench', 'valid', '-i', '-', '--duration', '200ms', '--format', 'json'], { input: [REQ('search'), REQ('db.drop')].join('\n') });
    assert.equal(r.code, 0, r.stderr);
    const b = JSON.parse(r.stdout);
    assert.equal(b.requests, 2);
    assert.equal(b.mode, 'decide');
    assert.ok(b.decisions > 10);
    assert.equal(b.effects.allow + b.effects.deny, b.decisions);
    assert.ok(Math.abs(b.effects.allow - b.effects.deny) <= 1, 'the two requests alternate');
    const L = b.latency_us;
    assert.ok(L.p50 <= L.p90 && L.p90 <= L.p99 && L.p99 <= L.max, JSON.stringify(L));
    assert.ok(Math.abs(b.per_second - b.decisions / b.seconds) / b.per_second < 0.05);
  });

  it('text output; --mode evaluate', async () => {
    const r = await runMain(['bench', 'valid', '-i', 'requests/allow.json', '-d', '100ms', '--mode', 'evaluate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[\d,]+ decisions \(evaluate\) of 1 request in [\d.]+ s\n  [\d,]+ decisions\/s\n  latency µs: p50 [\d.]+  p90 [\d.]+  p99 [\d.]+  max [\d.]+\n  effects: allow [\d,]+\n$/);
  });

  it('usage errors: no --input, a bad --duration, a malformed line', async () => {
    assert.match((await runMain(['bench', 'valid'])).stderr, /--input FILE\|- is required/);
    assert.match((await runMain(['bench', 'valid', '-i', 'requests/allow.json', '-d', 'soon'])).stderr, /--duration must look like 500ms, 2s or 1m/);
    const r = await runMain(['bench', 'valid', '-i', '-', '-d', '50ms'], { input: REQ('a') + '\n{oops\n' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /standard input line 2 is not valid JSON/);
  });
});
