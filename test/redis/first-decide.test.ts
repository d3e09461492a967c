// Issue 13, defect 4: the first decision after constructing a RedisBudgetStore waits for the
// connection (within the store's timeout) instead of failing closed with "not connected".
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { CEILING_POLICY, NOON } from './ceiling-policy.js';
import { freePort, useRedis } from './redis-server.js';

describe('RedisBudgetStore: the first decide waits for the connection', function () {
  this.timeout(30_000);
  const redis = useRedis();

  it('decides right after construction, without ready()', async () => {
    const store = new RedisBudgetStore({ url: redis.url, prefix: 'first:', timeoutMs: 2000 });
    try {
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      const d = await engine.decide({ team: 'support', cost: '0.01' });
      assert.equal(d.effect, 'allow', JSON.stringify(d.errors));
      assert.deepEqual(d.errors ?? [], []);
    } finally {
      await store.close();
    }
  });

  it('before its first connection a decide waits whatever the client\'s status says (`wait`, `close`: a cluster\'s first connect), not only while `connecting` (review h13r1 S8)', async () => {
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const store = new RedisBudgetStore({ client, prefix: 'first-wait:', timeoutMs: 2000 });
    try {
      assert.equal(client.status, 'wait');
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      const pending = engine.decide({ team: 'support', cost: '0.01' });
      setTimeout(() => void client.connect().catch(() => undefined), 200);
      const d = await pending;
      assert.equal(d.effect, 'allow', JSON.stringify(d.errors));
    } finally {
      await store.close();
      client.disconnect();
    }
  });

  it('with nothing listening, fails closed within the timeout and names the connection', async () => {
    const port = await freePort();
    const store = new RedisBudgetStore({ url: `redis://127.0.0.1:${port}`, prefix: 'none:', timeoutMs: 300 });
    try {
      const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
      const t0 = Date.now();
      const d = await engine.decide({ team: 'support', cost: '0.01' });
      assert.equal(d.effect, 'deny');
      assert.match(JSON.stringify(d.errors), /not connected/);
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    } finally {
      await store.close();
    }
  });
});
