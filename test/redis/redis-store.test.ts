// RedisBudgetStore against a real redis-server (Debian package) on a free loopback port.
// The store contract every store meets runs in store-conformance.test.ts (the exported suite); here are
// the Redis-specific parts. Engine-level tests are in redis-engine.test.ts.
import { strict as assert } from 'node:assert';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore, ReserveItem } from '../../language/runtime/store.js';
import { useRedis } from './redis-server.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const MIN = 60_000;

function item(counterKey: string, limit: number, charge: number, extra: Partial<ReserveItem> = {}): ReserveItem {
  return { counterKey, limit, charge, expiresAt: T0 + 24 * 60 * MIN, enforce: true, ...extra };
}

describe('RedisBudgetStore (real redis-server)', function () {
  this.timeout(30_000);
  const redis = useRedis();
  let store: RedisBudgetStore;
  let n = 0;
  const key = (s: string) => `${s}#${++n}`;

  before(async () => {
    store = new RedisBudgetStore({ url: redis.url, prefix: 'test:' });
    await store.ready();
  });
  after(async () => {
    await store?.close();
  });

  // The same script of calls against the memory store (reference implementation) and Redis.
  async function scenario(s: BudgetStore, k: string) {
    const out: unknown[] = [];
    out.push(await s.reserve({ reservationId: `${k}-a`, now: T0, ttlMs: 15 * MIN, commit: true, items: [item(k, 100, 60)] }));
    out.push(await s.reserve({ reservationId: `${k}-b`, now: T0 + 1, ttlMs: 15 * MIN, commit: true, items: [item(k, 100, 50)] }));
    out.push(await s.peek([k], T0 + 2));
    out.push(await s.settle(`${k}-a`, [{ counterKey: k, amount: 30 }], T0 + 3));
    out.push(await s.reserve({ reservationId: `${k}-c`, now: T0 + 4, ttlMs: 15 * MIN, commit: true, items: [item(k, 100, 50)] }));
    out.push(await s.settle(`${k}-a`, [{ counterKey: k, amount: 30 }], T0 + 5));
    out.push(await s.release(`${k}-c`, T0 + 6));
    out.push(await s.addSpent(k, 5, T0 + 24 * 60 * MIN, T0 + 7));
    out.push(await s.peek([k, `${k}-unknown`], T0 + 8));
    return out;
  }

  it('behaves exactly like the memory store on a reserve/settle/release script', async () => {
    const k = key('parity');
    const expected = await scenario(new MemoryBudgetStore(), k);
    const got = await scenario(store, k);
    assert.deepEqual(got, expected);
    // and the states are what the algorithm says: spent 30 (settled a) + 5 (added); b (50) still reserved
    assert.deepEqual((got[8] as unknown[])[0], { spent: 35, reserved: 0 });
  });

  it('window keys expire by TTL: no reset job', async () => {
    const k = key('expiry');
    await store.reserve({ reservationId: key('r'), now: T0, ttlMs: 1000, commit: true, items: [item(k, 10, 1, { expiresAt: T0 + 1000 })] });
    const { Redis } = await import('ioredis');
    const c = new Redis(redis.url);
    try {
      const pttl = await c.pttl(`test:{${k}}c`);
      assert.ok(pttl > 0, `counter key has a TTL (got ${pttl})`);
      const lifetime = key('lifetime');
      await store.addSpent(lifetime, 1, null, T0);
      assert.equal(await c.pttl(`test:{${lifetime}}c`), -1, 'lifetime counters never expire');
      // integers in Redis, never floats
      assert.match(String(await c.hget(`test:{${k}}c`, 'reserved')), /^\d+$/);
    } finally {
      c.disconnect();
    }
  });

  it('release is idempotent, and a release that arrives before its reserve leaves a tombstone the reserve honours', async () => {
    const k = key('tomb');
    const early = key('r');
    // released before it was made (the engine gave up on a reserve still on its way)
    assert.deepEqual(await store.release(early, T0), { found: false });
    await assert.rejects(
      store.reserve({ reservationId: early, now: T0, ttlMs: MIN, commit: true, items: [item(k, 100, 40)] }),
      /released before it reached Redis/,
    );
    assert.deepEqual(await store.peek([k], T0), [{ spent: 0, reserved: 0 }], 'the late reserve committed nothing');
    assert.deepEqual(await store.settle(early, [{ counterKey: k, amount: 1 }], T0), { found: false });
    // a live reservation released twice: once released, then nothing
    const live = key('r');
    await store.reserve({ reservationId: live, now: T0, ttlMs: MIN, commit: true, items: [item(k, 100, 30)] });
    assert.deepEqual(await store.release(live, T0), { found: true });
    assert.deepEqual(await store.release(live, T0), { found: false });
    assert.deepEqual(await store.peek([k], T0), [{ spent: 0, reserved: 0 }]);
    assert.equal(store.unconfirmedReleases, 0);
  });

  it('one counter\'s keys share a hash tag; a counter key containing braces still maps to one slot', async () => {
    const { default: slot } = await import('cluster-key-slot');
    const k = key('tag}odd{');
    await store.reserve({ reservationId: key('r'), now: T0, ttlMs: MIN, commit: true, items: [item(k, 10, 3)] });
    const { Redis } = await import('ioredis');
    const c = new Redis(redis.url);
    try {
      const keys = (await c.keys('test:*')).filter((x) => x.endsWith(k + 'c') || x.endsWith(k + 'p'));
      assert.equal(keys.length, 2, JSON.stringify(keys));
      assert.equal(new Set(keys.map((x) => slot(x))).size, 1, 'c and p in one slot');
    } finally {
      c.disconnect();
    }
    assert.deepEqual(await store.peek([k], T0), [{ spent: 0, reserved: 3 }]);
  });

  it('upgrade: a reservation (or tombstone) written in the earlier record layout, a hash, is still settled (or honoured)', async () => {
    const k = key('old');
    const id = key('r');
    const { Redis } = await import('ioredis');
    const c = new Redis(redis.url);
    try {
      // what the earlier scripts wrote for a reserve of 40 on k (expires at T0 + 1 min)
      await c.hset(`test:{${k}}c`, 'reserved', '40', 'spent', '0');
      await c.zadd(`test:{${k}}p`, T0 + MIN, `40:${id}`);
      await c.hset(`test:r:${id}`, `test:{${k}}`, '40');
      // and a tombstone of a release that came before its reserve
      const dead = key('r');
      await c.hset(`test:r:${dead}`, 'x', '1');
      assert.deepEqual(await store.settle(id, [{ counterKey: k, amount: 15 }], T0 + 1), { found: true });
      assert.deepEqual(await store.peek([k], T0 + 2), [{ spent: 15, reserved: 0 }]);
      assert.equal(await c.exists(`test:r:${id}`), 0, 'the record is gone');
      await assert.rejects(store.reserve({ reservationId: dead, now: T0, ttlMs: MIN, commit: true, items: [item(k, 100, 1)] }), /released before it reached Redis/);
      assert.deepEqual(await store.release(dead, T0), { found: false });
      assert.deepEqual(await store.peek([k], T0 + 2), [{ spent: 15, reserved: 0 }]);
    } finally {
      c.disconnect();
    }
  });

  it('a pending reservation written without lowering the expiry bound (an earlier version) is still swept, at most 1 s late', async () => {
    const k = key('bound');
    // the bound is set by a sweep: nothing pending, so it lies 1 s ahead (T0 + 1000)
    await store.addSpent(k, 1, T0 + 24 * 60 * MIN, T0);
    assert.deepEqual(await store.peek([k], T0), [{ spent: 1, reserved: 0 }]);
    const { Redis } = await import('ioredis');
    const c = new Redis(redis.url);
    try {
      assert.equal(await c.hget(`test:{${k}}c`, 'e'), String(T0 + 1000));
      // an earlier version's reserve of 7 expiring at T0 + 500: it adds the member, not the bound
      await c.hincrby(`test:{${k}}c`, 'reserved', 7);
      await c.zadd(`test:{${k}}p`, T0 + 500, `7:${key('r')}`);
    } finally {
      c.disconnect();
    }
    assert.deepEqual(await store.peek([k], T0 + 600), [{ spent: 1, reserved: 7 }], 'before the bound: not swept yet');
    assert.deepEqual(await store.peek([k], T0 + 1001), [{ spent: 8, reserved: 0 }], 'past the bound: swept');
    // and a reservation of this version lowers the bound itself: swept on time
    await store.reserve({ reservationId: key('r'), now: T0 + 1001, ttlMs: 100, commit: true, items: [item(k, 100, 5)] });
    assert.deepEqual(await store.peek([k], T0 + 1100), [{ spent: 8, reserved: 5 }]);
    assert.deepEqual(await store.peek([k], T0 + 1101), [{ spent: 13, reserved: 0 }], 'swept at its expiry');
  });

  it('fails fast with a clear error when Redis is unreachable', async () => {
    const dead = new RedisBudgetStore({ url: 'redis://127.0.0.1:1', timeoutMs: 200 });
    try {
      await assert.rejects(dead.reserve({ reservationId: 'x', now: T0, ttlMs: MIN, commit: true, items: [item('k', 1, 1)] }), /redis budget store/);
    } finally {
      await dead.close();
    }
  });
});
