// Two `rein serve` processes on one real redis-server enforce one ceiling: $1 at $0.01 → exactly 100
// allows through the API, however the calls interleave. And /ready follows Redis.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useRedis } from '../redis/redis-server.js';
import { AGENT, BIN, call, model, serve, spawnServe } from './helpers.js';
import { createServeApp } from '../../language/node/serve/app.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { Redis } from 'ioredis';

describe('rein serve --api --redis: ceilings shared across processes', function () {
  this.timeout(120_000);
  const redis = useRedis();

  it('2 service processes on a $1 ceiling at $0.01 each → exactly 100 allows', async () => {
    const a = await spawnServe(['--api', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url]);
    const b = await spawnServe(['--api', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url]);
    try {
      assert.equal((await call(a.url, '/ready')).body.checks.store.kind, 'redis');
      // 300 requests, 8 at a time per process, both processes at once.
      const effects: string[] = [];
      const worker = async (url: string, n: number) => {
        for (let i = 0; i < n; i++) {
          const r = await call(url, '/v1/decide', { body: { input: model('shared', '0.01') } });
          assert.equal(r.status, 200, r.text);
          effects.push(r.body.effect);
        }
      };
      await Promise.all([...Array(8)].flatMap(() => [worker(a.url, 19), worker(b.url, 19)]));
      assert.equal(effects.length, 304);
      assert.equal(effects.filter((e) => e === 'allow').length, 100);
      assert.equal(effects.filter((e) => e === 'deny').length, 204);
      const last = await call(b.url, '/v1/decide', { body: { input: model('shared', '0.01') } });
      assert.equal(last.body.effect, 'deny');
      assert.equal(last.body.budgets[0].reserved, '1.000000');
    } finally {
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    }
  });

  it('--redis-prefix keeps two policy sets on one Redis apart: counters, approval queue, settle channel (review h13r1 S1)', async () => {
    const common = ['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url, '--approvals', 'redis'];
    const fleet = await spawnServe([...common, '--redis-prefix', 'rein:fleet:']);
    const fleet2 = await spawnServe([...common, '--redis-prefix', 'rein:fleet:']);
    const billing = await spawnServe([...common, '--redis-prefix', 'rein:billing:']);
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      // billing spends $0.90 of team `prefixed`'s $1; the fleet's ceiling of the same name and key is untouched
      const b = await call(billing.url, '/v1/decide', { body: { input: model('prefixed', '0.90') } });
      assert.equal(b.body.effect, 'allow', b.text);
      const f = await call(fleet.url, '/v1/decide', { body: { input: model('prefixed', '0.90') } });
      assert.equal(f.body.effect, 'allow', f.text);
      assert.equal(f.body.budgets[0].reserved, '0.000000', 'the fleet sees none of billing\'s reservation');
      // one prefix, one ceiling: the fleet's other replica sees the fleet's $0.90 and refuses $0.20 more
      const f2 = await call(fleet2.url, '/v1/decide', { body: { input: model('prefixed', '0.20') } });
      assert.equal(f2.body.effect, 'deny', f2.text);
      assert.equal(f2.body.budgets[0].reserved, '0.900000');
      await client.connect();
      assert.ok((await client.keys('rein:fleet:*')).length > 0, 'the fleet\'s keys carry its prefix');
      assert.ok((await client.keys('rein:billing:*')).length > 0, 'billing\'s keys carry its prefix');
      assert.deepEqual(await client.keys('rein:{*prefixed*'), [], 'no counter of team `prefixed` under the default prefix');
      // settle: relayed within the fleet's channel, unknown on billing's
      const other = await call(billing.url, '/v1/settle', { body: { reservation: f.body.reservation.id } });
      assert.equal(other.status, 404, other.text);
      assert.equal(other.body.error.code, 'unknown_reservation');
      const st = await call(fleet2.url, '/v1/settle', { body: { reservation: f.body.reservation.id, usage: { cost: { estimate: '0.10' } } } });
      assert.equal(st.status, 200, st.text);
      // the approval queue: the fleet's pending approval is in the fleet's queue only
      const ask = await call(fleet.url, '/v1/decide', { body: { input: { agent: { id: 'a1', team: 'ops' }, action: { kind: 'tool_call', tool: 'transfer', amount: '500' } }, request_approval: true } });
      const id = ask.body.approval_requests?.[0]?.id;
      assert.ok(id, ask.text);
      assert.equal((await call(fleet2.url, `/v1/approvals/${id}`)).status, 200);
      assert.equal((await call(billing.url, `/v1/approvals/${id}`)).status, 404);
      assert.equal(await client.exists(`rein:fleet:ap:${id}`), 1);
      assert.equal(await client.exists(`rein:ap:${id}`), 0);
      const list = async (...extra: string[]) => {
        const r = await promisify(execFile)(process.execPath, [BIN, 'approvals', 'list', '--redis', redis.url, '--format', 'json', ...extra]);
        return (JSON.parse(r.stdout) as { id: string }[]).map((x) => x.id);
      };
      assert.deepEqual(await list('--redis-prefix', 'rein:fleet:'), [id]);
      assert.deepEqual(await list('--redis-prefix', 'rein:billing:'), []);
      assert.deepEqual(await list(), []);
    } finally {
      client.disconnect();
      for (const p of [fleet, fleet2, billing]) assert.equal(await p.stop(), 0);
    }
  });

  it('an audit log that cannot be opened with --redis: exit 2, and the Redis connection is closed (no hang) (review h13r1 S2)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-audit-'));
    writeFileSync(join(dir, 'afile'), '');
    const t0 = Date.now();
    const r = await promisify(execFile)(process.execPath, [BIN, 'serve', '--api', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url, '--audit', join(dir, 'afile', 'd.jsonl')], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '', killed: false }),
      (e: { code: number; stderr: string; killed: boolean }) => e,
    );
    assert.equal(r.killed, false, `still running after ${Date.now() - t0} ms`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /rein serve: cannot open the audit log/);
  });

  it('a Redis store given as `store` counts as Redis whatever its class is called (minified or subclassed)', async () => {
    class Renamed extends RedisBudgetStore {}
    const store = new Renamed({ url: redis.url, prefix: 'rein-kind:' });
    const { app } = await createServeApp({ policy: AGENT, watch: false, store });
    try {
      await app.ready();
      const r = await app.inject({ url: '/ready' });
      assert.equal(JSON.parse(r.body).checks.store.kind, 'redis');
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('a settle reaches the replica that decided: decide on A, settle on B (two processes on one Redis)', async () => {
    const a = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url]);
    const b = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url]);
    try {
      const d = await call(a.url, '/v1/decide', { body: { input: model('relay', '0.50') } });
      assert.equal(d.body.effect, 'allow', d.text);
      const id = d.body.reservation.id;
      // B never saw this reservation: it asks A, which settles it with its own engine.
      const st = await call(b.url, '/v1/settle', { body: { reservation: id, usage: { cost: { estimate: '0.10' } } } });
      assert.equal(st.status, 200, st.text);
      assert.deepEqual(st.body, { settled: true, reservation: id, policy: d.body.policy });
      // The counter holds the actual $0.10, not the $0.50 estimate, whichever replica reads it.
      const after = await call(b.url, '/v1/decide', { body: { input: model('relay', '0.01') } });
      assert.equal(after.body.budgets[0].spent, '0.100000');
      assert.equal(after.body.budgets[0].reserved, '0.000000');
      // A second settle through B is A's 409; through A itself too.
      const again = await call(b.url, '/v1/settle', { body: { reservation: id } });
      assert.equal(again.status, 409, again.text);
      assert.equal(again.body.error.code, 'already_settled');
      assert.equal((await call(a.url, '/v1/settle', { body: { reservation: id } })).status, 409);
      // Bad usage is A's 422, relayed; the reservation can still be settled after it.
      const d2 = await call(a.url, '/v1/decide', { body: { input: model('relay', '0.20') } });
      const bad = await call(b.url, '/v1/settle', { body: { reservation: d2.body.reservation.id, usage: { cost: { estimate: 'lots' } } } });
      assert.equal(bad.status, 422, bad.text);
      assert.equal(bad.body.error.code, 'invalid_usage');
      assert.equal((await call(b.url, '/v1/settle', { body: { reservation: d2.body.reservation.id, usage: { cost: { estimate: '0.20' } } } })).status, 200);
      // Nobody made it: every replica says so, and the answer is a prompt 404 (not the relay timeout).
      const t0 = Date.now();
      const unknown = await call(b.url, '/v1/settle', { body: { reservation: 'nobody-1' } });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'unknown_reservation');
      assert.ok(Date.now() - t0 < 1500, `404 took ${Date.now() - t0} ms`);
      const metrics = await call(b.url, '/metrics');
      assert.match(metrics.text, /rein_settles_total\{result="forwarded"[^}]*\} [1-9]/);
    } finally {
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    }
  });

  it('a settle for a replica that is gone is 404 after the relay timeout, not a hang', async () => {
    const a = await serve({ redis: redis.url });
    const b = await serve({ redis: redis.url, settleRelayTimeoutMs: 300 });
    try {
      await a.ctx.settleRelay!.whenReady();
      await b.ctx.settleRelay!.whenReady();
      const d = await call(a.url, '/v1/decide', { body: { input: model('gone', '0.30') } });
      await a.close();
      const st = await call(b.url, '/v1/settle', { body: { reservation: d.body.reservation.id } });
      assert.equal(st.status, 404, st.text);
      assert.equal(st.body.error.code, 'unknown_reservation');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('/ready is 503 while Redis is down and decisions fail closed; both recover when it is back', async () => {
    const s = await serve({ redis: redis.url });
    try {
      assert.equal((await call(s.url, '/ready')).status, 200);
      await redis.stop();
      const down = await call(s.url, '/ready');
      assert.equal(down.status, 503);
      assert.equal(down.body.checks.store.ok, false);
      assert.equal(down.body.checks.policy.ok, true);
      const d = await call(s.url, '/v1/decide', { body: { input: model('down', '0.01') } });
      assert.equal(d.status, 200);
      assert.equal(d.body.effect, 'deny', 'on error deny');
      assert.equal(d.body.errors[0].kind, 'store');
      await redis.start();
      let up = await call(s.url, '/ready');
      for (let i = 0; i < 100 && up.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        up = await call(s.url, '/ready');
      }
      assert.equal(up.status, 200);
      assert.equal((await call(s.url, '/v1/decide', { body: { input: model('down', '0.01') } })).body.effect, 'allow');
    } finally {
      await s.close();
    }
  });

  it('the settle grace reaches the Redis store: a counter lives until its window ends + TTL + 5 min, not + 24 h', async () => {
    const s = await serve({ redis: redis.url, redisPrefix: 'rein-grace:' });
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: model('grace', '0.01') } });
      assert.equal(d.body.effect, 'allow', d.text);
      await client.connect();
      const keys = await client.keys('rein-grace:*');
      const ttls = await Promise.all(keys.map((k) => client.pttl(k)));
      const longest = Math.max(...ttls);
      // the per-day counter: until the window's end, plus the reservation TTL (15 min) and the grace (5 min)
      const want = Date.parse(d.body.budgets[0].window.end) - Date.now() + 15 * 60_000 + 5 * 60_000;
      assert.ok(Math.abs(longest - want) < 60_000, `longest PTTL ${longest} ms, expected about ${want} ms (keys: ${keys.join(', ')})`);
    } finally {
      client.disconnect();
      await s.close();
    }
  });
});
