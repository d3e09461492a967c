// GET /ready with Redis: ready means a decide can reserve, not only that Redis answers a read
// (review h13r1 S7, S4, S6). Real redis-server processes: a primary, a read-only replica, one out of
// memory under `noeviction`, one with an evicting `maxmemory-policy`, and a cluster node.
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { requireRedis, startRedis, type RedisProcess } from '../redis/redis-server.js';
import { call, model, serve } from './helpers.js';

describe('rein serve: GET /ready with Redis checks what a decide needs', function () {
  this.timeout(60_000);
  const started: RedisProcess[] = [];
  const start = async (args: string[] = [], extra: Parameters<typeof startRedis>[0] = {}) => {
    const r = await startRedis({ ...extra, args });
    started.push(r);
    return r;
  };
  before(function () {
    requireRedis(this);
  });
  after(async () => {
    for (const r of started) await r.destroy();
  });

  /** A served app on `url`, its log lines, and /ready once the startup check had its chance. */
  const served = async (url: string) => {
    const lines: string[] = [];
    const s = await serve({ redis: url, logger: (m) => lines.push(m) });
    const ready = await call(s.url, '/ready');
    for (let i = 0; i < 40 && !lines.some((l) => /budget store|warning/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    return { s, lines, ready };
  };

  it('a read-only replica (an old primary after a failover): 503 naming READONLY, and the log says so at start', async () => {
    const primary = await start();
    const replica = await start(['--replicaof', '127.0.0.1', String(primary.port)]);
    const p = await served(primary.url);
    const r = await served(replica.url);
    try {
      assert.equal(p.ready.status, 200, p.ready.text);
      assert.equal(r.ready.status, 503, r.ready.text);
      assert.equal(r.ready.body.ready, false);
      assert.equal(r.ready.body.checks.store.ok, false);
      assert.match(r.ready.body.checks.store.error, /READONLY/);
      // what /ready says is what a decide meets: denied (on error deny), a store error
      const d = await call(r.s.url, '/v1/decide', { body: { input: model('ro', '0.01') } });
      assert.equal(d.body.effect, 'deny', d.text);
      assert.match(r.lines.join('\n'), /the budget store cannot serve decisions .*READONLY/);
      assert.doesNotMatch(p.lines.join('\n'), /budget store|warning/);
    } finally {
      await p.s.close();
      await r.s.close();
    }
  });

  it('a Redis out of memory under noeviction: 503 naming OOM (decides fail closed)', async () => {
    const full = await start(['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
    const fill = new Redis(full.url, { maxRetriesPerRequest: 1 });
    try {
      for (let i = 0; i < 100; i++) {
        const err = await fill.set(`fill:${i}`, 'x'.repeat(100_000)).then(
          () => null,
          (e: Error) => e,
        );
        if (err) {
          assert.match(err.message, /OOM/);
          break;
        }
      }
      // well over, not at the edge (a freed client buffer would bring it back under)
      await fill.config('SET', 'maxmemory', '1mb');
    } finally {
      fill.disconnect();
    }
    const f = await served(full.url);
    try {
      assert.equal(f.ready.status, 503, f.ready.text);
      assert.match(f.ready.body.checks.store.error, /OOM/);
      assert.equal((await call(f.s.url, '/v1/decide', { body: { input: model('oom', '0.01') } })).body.effect, 'deny');
    } finally {
      await f.s.close();
    }
  });

  it('an evicting maxmemory-policy: a warning at start and in /ready (ready: counters are exact until Redis evicts one)', async () => {
    const lru = await start(['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru']);
    const l = await served(lru.url);
    try {
      assert.equal(l.ready.status, 200, l.ready.text);
      assert.match(l.lines.join('\n'), /warning: Redis evicts keys under memory pressure \(maxmemory-policy volatile-lru\).*noeviction/);
      const again = await call(l.s.url, '/ready');
      assert.match(again.body.checks.store.warning, /maxmemory-policy volatile-lru/);
    } finally {
      await l.s.close();
    }
  });

  it('a wrong Redis password: /ready names the cause (WRONGPASS), not only the status (review h13r1 S11)', async () => {
    const locked = await start();
    const admin = new Redis(locked.url, { maxRetriesPerRequest: 1 });
    await admin.config('SET', 'requirepass', 'right-password');
    admin.disconnect();
    const w = await served(locked.url.replace('redis://', 'redis://:wrong-password@'));
    try {
      assert.equal(w.ready.status, 503, w.ready.text);
      assert.match(w.ready.body.checks.store.error, /not connected.*WRONGPASS/);
    } finally {
      await w.s.close();
    }
  });

  it('a Redis user whose ACL refuses INFO (no @dangerous) is still ready: the probe is a write it may make', async () => {
    const r = await start();
    const admin = new Redis(r.url, { maxRetriesPerRequest: 1 });
    await admin.call('ACL', 'SETUSER', 'rein', 'on', '>rein-pass', '~*', '&*', '+@all', '-@dangerous');
    admin.disconnect();
    const u = await served(r.url.replace('redis://', 'redis://rein:rein-pass@'));
    try {
      assert.equal(u.ready.status, 200, u.ready.text);
      assert.equal((await call(u.s.url, '/v1/decide', { body: { input: model('acl', '0.01') } })).body.effect, 'allow');
    } finally {
      await u.s.close();
    }
  });

  it('a node of a Redis Cluster given as one URL: 503 saying so (not a raw MOVED on most decides)', async () => {
    const node = await start(['--cluster-enabled', 'yes'], { clusterBus: true });
    const c = await served(node.url);
    try {
      assert.equal(c.ready.status, 503, c.ready.text);
      assert.match(c.ready.body.checks.store.error, /node of a Redis Cluster/);
      assert.match(c.lines.join('\n'), /node of a Redis Cluster/);
    } finally {
      await c.s.close();
    }
  });
});
