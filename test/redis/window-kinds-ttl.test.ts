// Token buckets and anchored periods in Redis expire once they read like an unknown key again
// (docs/budgets.md, "Keys that expire"), on a single node and on a Redis Cluster: the TTL is never
// shorter than what a live bucket or period needs (reservation TTL + settle grace + the time the
// level takes to refill, or one period), is raised when a settle's actual raises the level, reaches
// keys an earlier version kept for ever, and is not re-set on every call.
import { strict as assert } from 'node:assert';
import { Cluster, Redis } from 'ioredis';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { CounterMode, ReserveItem } from '../../language/runtime/store.js';
import { useRedis } from './redis-server.js';
import { useCluster } from './redis-cluster.js';

const SEC = 1000;
const DAY = 24 * 3600 * SEC;
const GRACE = 2 * SEC;
const TTL = 3 * SEC;

function suite(title: string, setup: () => { store: () => RedisBudgetStore; client: () => Redis | Cluster }) {
  describe(title, function () {
    this.timeout(60_000);
    const { store, client } = setup();
    let n = 0;
    const key = (s: string) => `ttl-${process.pid}-${s}#${++n}`;
    const id = () => `ttl-r${process.pid}-${++n}`;
    const base = (k: string) => `kt:{${k}}`;
    const item = (k: string, limit: number, charge: number, mode: CounterMode): ReserveItem => ({ counterKey: k, limit, charge, expiresAt: null, enforce: true, mode });
    const pttl = async (k: string) => [await client().pttl(base(k) + 'c'), await client().pttl(base(k) + 'p')];

    it('a token bucket: kept for the reservation TTL + settle grace + the time its level takes to refill, at most a quarter longer', async () => {
      const k = key('bucket');
      const mode: CounterMode = { kind: 'bucket', refill: 1, everyMs: 10 * SEC };
      const now = Date.now();
      const r = await store().reserve({ reservationId: id(), now, ttlMs: TTL, commit: true, items: [item(k, 5, 3, mode)] });
      assert.equal(r.committed, true);
      const need = TTL + GRACE + 3 * 10 * SEC; // 3 units held, one back every 10 s
      for (const t of await pttl(k)) {
        assert.ok(t > need - 2 * SEC && t <= need * 1.25, `PTTL ${t} within [${need}, ${need * 1.25}]`);
      }
    });

    it('a settle whose actual is above the estimate raises the TTL with the level', async () => {
      const k = key('bucket-settle');
      const mode: CounterMode = { kind: 'bucket', refill: 1, everyMs: SEC };
      const rid = id();
      const now = Date.now();
      await store().reserve({ reservationId: rid, now, ttlMs: TTL, commit: true, items: [item(k, 1000, 0, mode)] });
      const [before] = await pttl(k);
      assert.ok(before! <= (TTL + GRACE) * 1.25, `before: ${before}`);
      assert.deepEqual(await store().settle(rid, [{ counterKey: k, amount: 600 }], now + 10), { found: true });
      const need = TTL + GRACE + 600 * SEC;
      for (const t of await pttl(k)) assert.ok(t > need - 2 * SEC && t <= need * 1.25, `after the settle: PTTL ${t} ≥ ${need}`);
      assert.deepEqual(await store().peek([k], now + 20), [{ spent: 600, reserved: 0 }]);
    });

    it('an anchored counter: kept for one period after the write, plus the reservation TTL and settle grace; addSpent too', async () => {
      const k = key('anch');
      const mode: CounterMode = { kind: 'anchored', periodMs: 30 * DAY };
      await store().reserve({ reservationId: id(), now: Date.now(), ttlMs: TTL, commit: true, items: [item(k, 100, 7, mode)] });
      const need = TTL + GRACE + 30 * DAY;
      for (const t of await pttl(k)) assert.ok(t > need - 2 * SEC && t <= need * 1.25, `PTTL ${t} ≥ ${need}`);
      const k2 = key('anch-add');
      await store().addSpent(k2, 5, null, Date.now(), mode);
      const need2 = GRACE + 30 * DAY; // addSpent has no reservation: the grace alone
      const [t2] = await pttl(k2);
      assert.ok(t2! > need2 - 2 * SEC && t2! <= need2 * 1.25, `addSpent: PTTL ${t2} ≥ ${need2}`);
      const k3 = key('bucket-add');
      await store().addSpent(k3, 4, null, Date.now(), { kind: 'bucket', refill: 2, everyMs: SEC });
      const [t3] = await pttl(k3);
      assert.ok(t3! > GRACE + 2 * SEC - 2 * SEC && t3! <= (GRACE + 2 * SEC) * 1.25, `bucket addSpent: PTTL ${t3}`);
    });

    it('the TTL is set once per quarter of what is needed, not on every call', async () => {
      const k = key('amortized');
      const mode: CounterMode = { kind: 'anchored', periodMs: DAY };
      const now = Date.now();
      await store().reserve({ reservationId: id(), now, ttlMs: TTL, commit: true, items: [item(k, 100, 1, mode)] });
      const k1 = await client().hget(base(k) + 'c', 'k');
      await store().reserve({ reservationId: id(), now: now + 1000, ttlMs: TTL, commit: true, items: [item(k, 100, 1, mode)] });
      assert.equal(await client().hget(base(k) + 'c', 'k'), k1, 'a second write soon after keeps the target');
      const far = now + Math.ceil((TTL + GRACE + DAY) / 4) + 5000;
      await store().reserve({ reservationId: id(), now: far, ttlMs: TTL, commit: true, items: [item(k, 100, 1, mode)] });
      assert.equal(Number(await client().hget(base(k) + 'c', 'k')), far + Math.floor((TTL + GRACE + DAY) * 1.25), 'a write past the quarter sets a new target');
    });

    it('a counter an earlier version kept for ever (k = L, no TTL) gets a TTL at its next write', async () => {
      const k = key('upgrade');
      const mode: CounterMode = { kind: 'bucket', refill: 1, everyMs: SEC };
      await store().reserve({ reservationId: id(), now: Date.now(), ttlMs: TTL, commit: true, items: [item(k, 100, 1, mode)] });
      await client().hset(base(k) + 'c', 'k', 'L');
      await client().hdel(base(k) + 'c', 'h');
      await client().persist(base(k) + 'c');
      await client().persist(base(k) + 'p');
      assert.equal((await pttl(k))[0], -1);
      const rid = id();
      await store().reserve({ reservationId: rid, now: Date.now(), ttlMs: TTL, commit: true, items: [item(k, 100, 1, mode)] });
      for (const t of await pttl(k)) assert.ok(t > 0, `PTTL ${t} after the write`);
      // a settle on a counter without h uses the default base (15 min + 24 h)
      await client().hdel(base(k) + 'c', 'h');
      await client().hset(base(k) + 'c', 'k', 'L');
      await store().settle(rid, [{ counterKey: k, amount: 1 }], Date.now());
      const [t] = await pttl(k);
      assert.ok(t! > 87_300_000 - 2 * SEC, `PTTL ${t} with the default base`);
    });

    it('the key really expires once the bucket is full again, and then reads like the memory store', async () => {
      const k = key('expires');
      const mode: CounterMode = { kind: 'bucket', refill: 1, everyMs: 100 };
      const s = store();
      const mem = new MemoryBudgetStore({ settleGraceMs: GRACE });
      const t0 = Date.now();
      for (const st of [s, mem] as const) {
        const rid = `${id()}-x`;
        await st.reserve({ reservationId: rid, now: t0, ttlMs: 200, commit: true, items: [item(k, 5, 2, mode)] });
        await st.settle(rid, [{ counterKey: k, amount: 2 }], t0);
      }
      // kept while it still matters: the level (2 units) refills in 200 ms; h = 200 ms + 2 s grace
      const c = client();
      assert.equal(await c.exists(base(k) + 'c'), 1, 'the counter is there right after the write');
      const deadline = Date.now() + 15_000;
      while ((await c.exists(base(k) + 'c')) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const gone = Date.now();
      assert.equal(await c.exists(base(k) + 'c'), 0, 'expired within 15 s');
      assert.ok(gone - t0 >= 2000 + 200 + 200, `not before TTL + grace + refill (${gone - t0} ms)`);
      mem.gc(gone);
      assert.deepEqual(await s.peek([k], gone), await mem.peek([k], gone));
      assert.deepEqual(await s.peek([k], gone), [{ spent: 0, reserved: 0 }]);
    });
  });
}

suite('Token buckets and anchored periods expire (real redis-server)', () => {
  const redis = useRedis();
  let store: RedisBudgetStore | undefined;
  let client: Redis | undefined;
  before(async () => {
    store = new RedisBudgetStore({ url: redis.url, prefix: 'kt:', settleGraceMs: GRACE });
    await store.ready();
    client = new Redis(redis.url);
  });
  after(async () => {
    await store?.close();
    client?.disconnect();
  });
  return { store: () => store!, client: () => client! };
});

suite('Token buckets and anchored periods expire (real Redis Cluster, 3 primaries)', () => {
  const cluster = useCluster({ masters: 3, replicas: 0 });
  let store: RedisBudgetStore | undefined;
  let client: Cluster | undefined;
  before(async () => {
    store = new RedisBudgetStore({ nodes: cluster.seeds, prefix: 'kt:', settleGraceMs: GRACE });
    await store.ready(10_000);
    client = new Cluster(cluster.seeds);
  });
  after(async () => {
    await store?.close();
    client?.disconnect();
  });
  return { store: () => store!, client: () => client! };
});
