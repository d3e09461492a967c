// Ceilings that hold across processes: the Engine on a RedisBudgetStore, against a real redis-server.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { CEILING_POLICY, NOON } from './ceiling-policy.js';
import { runWorker, startRedis, useRedis } from './redis-server.js';

const runCeilingWorker = (url: string, prefix: string, decides: number) =>
  runWorker<{ allowed: number; denied: number; errors: number }>('test/redis/worker.ts', { REIN_REDIS_URL: url, REIN_PREFIX: prefix, REIN_DECIDES: String(decides) });

async function spentOf(store: RedisBudgetStore, engine: Engine, request: unknown): Promise<string> {
  const d = await engine.decide(request, { explain: false });
  const b = d.budgets.find((x) => x.name === 'team_ceiling');
  assert.ok(b, 'decision lists the budget');
  return String(b.spent);
}

describe('Engine + RedisBudgetStore (real redis-server)', function () {
  this.timeout(120_000);
  const redis = useRedis();

  it('4 processes × 1,000 concurrent decides on one $10 ceiling of $0.01 charges allow exactly 1,000 and store exactly $10.000000', async () => {
    const prefix = 'race:';
    const results = await Promise.all([1, 2, 3, 4].map(() => runCeilingWorker(redis.url, prefix, 1000)));
    const allowed = results.reduce((n, r) => n + r.allowed, 0);
    assert.equal(results.reduce((n, r) => n + r.errors, 0), 0, `no store errors: ${JSON.stringify(results)}`);
    assert.equal(allowed, 1000, `allowed per worker: ${JSON.stringify(results)}`);
    const store = new RedisBudgetStore({ url: redis.url, prefix });
    await store.ready();
    try {
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      const d = await engine.decide({ team: 'support', cost: '0.01' });
      assert.equal(d.effect, 'deny');
      const b = d.budgets.find((x) => x.name === 'team_ceiling')!;
      assert.equal(b.spent, '10.000000');
      assert.equal(b.reserved, '0.000000');
      assert.equal(b.exceeded, true);
    } finally {
      await store.close();
    }
  });

  it('settles with a lower and a higher actual cost; a second settle throws', async () => {
    const store = new RedisBudgetStore({ url: redis.url, prefix: 'settle:' });
    await store.ready();
    try {
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      const d1 = await engine.decide({ team: 't', cost: '2.00' });
      assert.equal(d1.effect, 'allow');
      assert.equal(d1.budgets[0].charge, '2.000000');
      await engine.settle(d1, { cost: '1.25' });
      assert.equal(await spentOf(store, engine, { team: 't', cost: '0' }), '1.250000');
      const d2 = await engine.decide({ team: 't', cost: '1.00' });
      await engine.settle(d2, { cost: '3.50' });
      await assert.rejects(async () => engine.settle(d2, { cost: '3.50' }), /settle/i);
      assert.equal(await spentOf(store, engine, { team: 't', cost: '0' }), '4.750000');
    } finally {
      await store.close();
    }
  });

  it('an unsettled reservation expires and counts its estimate', async () => {
    const store = new RedisBudgetStore({ url: redis.url, prefix: 'expiry:' });
    await store.ready();
    let now = NOON.getTime();
    try {
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => new Date(now), reservationTtlMs: 60_000 });
      const d = await engine.decide({ team: 'x', cost: '6.00' });
      assert.equal(d.effect, 'allow');
      const before = (await engine.decide({ team: 'x', cost: '0' })).budgets[0];
      assert.deepEqual([before.spent, before.reserved], ['0.000000', '6.000000']);
      now += 60_000;
      const after = (await engine.decide({ team: 'x', cost: '0' })).budgets[0];
      assert.deepEqual([after.spent, after.reserved], ['6.000000', '0.000000']);
      // $6 spent of $10: a $5 request no longer fits
      assert.equal((await engine.decide({ team: 'x', cost: '5.00' })).effect, 'deny');
    } finally {
      await store.close();
    }
  });

  it('fails closed while Redis is down and recovers when it is back', async () => {
    const r = await startRedis();
    const store = new RedisBudgetStore({ url: r.url, prefix: 'outage:', timeoutMs: 300 });
    await store.ready();
    try {
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON, storeTimeoutMs: 1000 });
      assert.equal((await engine.decide({ team: 'o', cost: '0.01' })).effect, 'allow');
      await r.stop();
      const during = await Promise.all(Array.from({ length: 50 }, () => engine.decide({ team: 'o', cost: '0.01' })));
      assert.equal(during.filter((d) => d.effect === 'allow').length, 0, 'no decision is allowed without a reservation');
      for (const d of during) {
        assert.equal(d.effect, 'deny');
        assert.ok(d.errors.some((e) => e.kind === 'store'), JSON.stringify(d.errors));
        assert.equal(d.reservation, null);
      }
      await r.start();
      // the store reconnects by itself; wait (bounded) for the first allowed decision
      let recovered = false;
      for (let i = 0; i < 100 && !recovered; i++) {
        recovered = (await engine.decide({ team: 'o', cost: '0.01' })).effect === 'allow';
        if (!recovered) await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(recovered, 'decisions recover after Redis is back');
    } finally {
      await store.close();
      await r.destroy();
    }
  });

  it('with appendonly yes, a restart keeps every settled charge', async () => {
    const r = await startRedis({ appendonly: true });
    try {
      let store = new RedisBudgetStore({ url: r.url, prefix: 'aof:' });
      await store.ready();
      let engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      for (let i = 0; i < 7; i++) {
        const d = await engine.decide({ team: 'p', cost: '0.50' });
        assert.equal(d.effect, 'allow');
        await engine.settle(d, { cost: '0.333333' });
      }
      await store.close();
      await r.stop();
      await r.start();
      store = new RedisBudgetStore({ url: r.url, prefix: 'aof:' });
      await store.ready();
      engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      assert.equal(await spentOf(store, engine, { team: 'p', cost: '0' }), '2.333331');
      await store.close();
    } finally {
      await r.destroy();
    }
  });
});
