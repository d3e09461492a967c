// Settle data has one home: the engine keeps what `settle` needs per reservation in its own index,
// whatever the store — a store declaring sync support (the memory store), one that does not (a
// subclass, a plain delegating store) and the Redis store on a real redis-server all settle through
// it, with the same results. (Before, the memory store kept it on its reservation record and the
// engine kept a map for every other store.)
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { TWO_BUDGETS } from './two-budgets-policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore, ReserveRequest } from '../../language/runtime/store.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { useRedis } from '../redis/redis-server.js';

const T0 = new Date('2026-11-24T10:00:00Z').getTime();
const DAY = 24 * 60 * 60 * 1000;
const TTL = 15 * 60 * 1000;
const usd = (n: number) => Math.round(n * 1e6);

const policy = compile({ 'p.rein': TWO_BUDGETS });

/** The engine's settle data for a reservation (white box: the one place it lives). */
const keptFor = (engine: Engine, id: string): unknown => (engine as unknown as { pending: { get(id: string): unknown } }).pending.get(id);

/** A memory store the engine cannot call synchronously (it overrides an async method). */
class AsyncMemoryStore extends MemoryBudgetStore {
  override async reserve(req: ReserveRequest) {
    return super.reserve(req);
  }
}

/** A store that is not a MemoryBudgetStore at all: every call delegated; `settle` can be made to fail. */
function delegating(inner: BudgetStore): BudgetStore & { failSettles: number } {
  const s = {
    failSettles: 0,
    reserve: (r: ReserveRequest) => inner.reserve(r),
    peek: (k: string[], now: number) => inner.peek(k, now),
    settle: async (id: string, a: Parameters<BudgetStore['settle']>[1], now: number) => {
      if (s.failSettles > 0) {
        s.failSettles--;
        throw new Error('store down');
      }
      return inner.settle(id, a, now);
    },
    release: (id: string, now: number) => inner.release(id, now),
    addSpent: (k: string, n: number, e: number | null, now: number) => inner.addSpent(k, n, e, now),
  };
  return s;
}

/** The settle cases, for a store made by `make` (a fresh store, or one whose keys never collide). */
function settleCases(make: () => BudgetStore, label: string): void {
  let prefix = 0;
  const engineOn = (store: BudgetStore, at: { t: number }) =>
    new Engine(policy, { store, clock: () => new Date(at.t), reservationTtlMs: TTL, keyPrefix: `${label}-${process.pid}-${++prefix}:` });

  it('settle replaces the estimates from the data the engine kept, and forgets it', async () => {
    const store = make();
    const at = { t: T0 };
    const engine = engineOn(store, at);
    const req = { user: 'ann', team: 'ops', cost: { estimate: '0.50' } };
    const d = await engine.decide(req);
    assert.equal(d.effect, 'allow');
    const id = d.reservation!.id;
    assert.ok(keptFor(engine, id) !== undefined, 'the engine keeps the settle data');
    const keys = [engine.counterKeyFor(req, 'per_user')!, engine.counterKeyFor(req, 'per_team')!];
    assert.deepEqual(await store.peek(keys, T0), [
      { spent: 0, reserved: usd(0.5) },
      { spent: 0, reserved: usd(1) },
    ]);
    await engine.settle(d, { cost: { estimate: '0.20' } });
    assert.deepEqual(await store.peek(keys, T0), [
      { spent: usd(0.2), reserved: 0 },
      { spent: usd(0.4), reserved: 0 },
    ]);
    assert.equal(keptFor(engine, id), undefined, 'forgotten once settled');
    await assert.rejects(engine.settle(d, {}), /already settled/);
  });

  it('a settle after the expiry and settle grace finds nothing kept: the estimate stands', async () => {
    const store = make();
    const at = { t: T0 };
    const engine = engineOn(store, at);
    const req = { user: 'bo', team: 'dev', cost: { estimate: '3' } };
    const d = await engine.decide(req);
    const key = engine.counterKeyFor(req, 'per_user', new Date(T0))!;
    at.t = T0 + TTL + DAY;
    await engine.settle(d, { cost: { estimate: '1' } });
    assert.deepEqual(await store.peek([key], T0 + TTL + 1), [{ spent: usd(3), reserved: 0 }], 'the expired estimate counts, uncorrected');
  });

  it('forgets the settle data of reservations past their expiry and grace (purged by a later decision)', async () => {
    const store = make();
    const at = { t: T0 };
    const engine = engineOn(store, at);
    const old = await engine.decide({ user: 'cy', team: 'ops', cost: { estimate: '1' } });
    at.t = T0 + TTL + DAY + 61_000;
    const fresh = await engine.decide({ user: 'cy', team: 'ops', cost: { estimate: '1' } });
    assert.equal(keptFor(engine, old.reservation!.id), undefined, 'purged');
    assert.ok(keptFor(engine, fresh.reservation!.id) !== undefined, 'the new one is kept');
  });
}

describe('settle data: one home in the engine, for every store', () => {
  describe('MemoryBudgetStore (sync support)', () => {
    it('is called synchronously', () => assert.ok(new MemoryBudgetStore().synchronous));
    settleCases(() => new MemoryBudgetStore(), 'mem');
  });

  describe('a MemoryBudgetStore subclass (no sync support: the async driver)', () => {
    it('is not called synchronously', () => assert.equal(new AsyncMemoryStore().synchronous, null));
    settleCases(() => new AsyncMemoryStore(), 'sub');
  });

  describe('a delegating store that is no MemoryBudgetStore', () => {
    settleCases(() => delegating(new MemoryBudgetStore()), 'del');

    it('a failed store settle keeps the data for a retry, which then settles', async () => {
      const inner = new MemoryBudgetStore();
      const store = delegating(inner);
      const engine = new Engine(policy, { store, clock: () => new Date(T0) });
      const req = { user: 'di', team: 'ops', cost: { estimate: '2' } };
      const d = await engine.decide(req);
      store.failSettles = 1;
      await assert.rejects(engine.settle(d, { cost: { estimate: '1' } }), /budget store failed: store down/);
      assert.ok(keptFor(engine, d.reservation!.id) !== undefined, 'kept for the retry');
      await engine.settle(d, { cost: { estimate: '1' } });
      assert.deepEqual(await inner.peek([engine.counterKeyFor(req, 'per_user')!], T0), [{ spent: usd(1), reserved: 0 }]);
    });
  });

  describe('RedisBudgetStore (real redis-server)', function () {
    this.timeout(30_000);
    const redis = useRedis();
    let store: RedisBudgetStore | undefined;
    before(async () => {
      store = new RedisBudgetStore({ url: redis.url, prefix: 'settle-home:' });
      await store.ready();
    });
    after(async () => store?.close());
    settleCases(() => store!, 'redis');
  });
});
