// `rein serve`'s settle grace (--settle-grace, ServeOptions.settleGraceMs; default 5 min): how long
// after a reservation expires /v1/settle still corrects the budget. Given to the engine, the store
// rein serve creates and the reservation index alike; after it, 404 unknown_reservation and the
// estimate stands (docs/service.md).
import assert from 'node:assert/strict';
import { main } from '../../cli/cli.js';
import { graceText, SERVE_SETTLE_GRACE_MS } from '../../language/node/serve/app.js';
import { AGENT, call, model, serve, spawnServe, type Served } from './helpers.js';

/** Resolves once `iso` (a reservation's `expires`) plus `ms` has passed on this clock. */
async function past(iso: string, ms = 50): Promise<void> {
  const at = Date.parse(iso) + ms;
  for (let i = 0; i < 200 && Date.now() < at; i++) await new Promise((r) => setTimeout(r, Math.min(50, at - Date.now() + 1)));
  assert.ok(Date.now() >= at, 'the reservation did not expire within 10 s');
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: process.cwd(), isTTY: false });
  return { code, out, err };
}

describe('rein serve: the settle grace', function () {
  this.timeout(60_000);
  let s: Served | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('is 5 minutes by default', async () => {
    s = await serve();
    assert.equal(SERVE_SETTLE_GRACE_MS, 5 * 60_000);
    assert.equal(s.ctx.settleGraceMs, SERVE_SETTLE_GRACE_MS);
    const r = await call(s.url, '/v1/settle', { body: { reservation: 'nope-1', usage: {} } });
    assert.equal(r.status, 404);
    assert.match(r.body.error.message, /expired more than 5 min ago/);
  });

  it('within the grace, a settle after expiry still corrects the estimate', async () => {
    s = await serve({ reservationTtlMs: 150, settleGraceMs: 60_000 });
    const d = await call(s.url, '/v1/decide', { body: { input: model('t-in', '0.60') } });
    assert.equal(d.body.effect, 'allow');
    await past(d.body.reservation.expires);
    const st = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: '0.10' } } } });
    assert.equal(st.status, 200, st.text);
    // spent is the actual $0.10, not the $0.60 estimate: $0.50 more fits under the $1 ceiling
    const next = await call(s.url, '/v1/decide', { body: { input: model('t-in', '0.50') } });
    assert.equal(next.body.budgets[0].spent, '0.100000');
    assert.equal(next.body.effect, 'allow');
  });

  it('after the grace, settle answers 404 unknown_reservation and the estimate stands', async () => {
    s = await serve({ reservationTtlMs: 150, settleGraceMs: 0 });
    const d = await call(s.url, '/v1/decide', { body: { input: model('t-out', '0.60') } });
    await past(d.body.reservation.expires);
    const st = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: '0.10' } } } });
    assert.equal(st.status, 404, st.text);
    assert.equal(st.body.error.code, 'unknown_reservation');
    assert.match(st.body.error.message, /expired more than 0 s ago/);
    const next = await call(s.url, '/v1/decide', { body: { input: model('t-out', '0.50') } });
    assert.equal(next.body.budgets[0].spent, '0.600000');
    assert.equal(next.body.effect, 'deny');
  });

  it('refuses a grace that is not a non-negative integer of ms', async () => {
    for (const g of [-1, 1.5, Number.NaN]) await assert.rejects(serve({ settleGraceMs: g }), /settleGraceMs must be a non-negative integer/);
  });

  it('says grace durations in words', () => {
    assert.equal(graceText(0), '0 s');
    assert.equal(graceText(300_000), '5 min');
    assert.equal(graceText(86_400_000), '24 h');
    assert.equal(graceText(1500), '1500 ms');
    assert.equal(graceText(30_000), '30 s');
  });

  it('--settle-grace: in --help, checked, and given to the server', async () => {
    const help = await run(['serve', '--help']);
    assert.match(help.out, /--settle-grace DURATION[^\n]*default 5m/);
    for (const [v, re] of [
      ['soon', /--settle-grace must be a duration/],
      ['8d', /--settle-grace must be at most 7d/],
      ['-1m', /--settle-grace must be a duration/],
    ] as const) {
      const r = await run(['serve', '--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', `--settle-grace=${v}`]);
      assert.equal(r.code, 2, `${v}: ${r.err}`);
      assert.match(r.err, re, v);
    }
    const p = await spawnServe(['--api', '--no-dashboard', '--no-watch', '--policy', AGENT, '--listen', '127.0.0.1:0', '--settle-grace', '90s']);
    try {
      const r = await call(p.url, '/v1/settle', { body: { reservation: 'nope-1', usage: {} } });
      assert.equal(r.status, 404);
      assert.match(r.body.error.message, /expired more than 90 s ago/);
    } finally {
      await p.stop();
    }
  });
});
