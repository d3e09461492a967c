// Two `rein serve` processes on one real redis-server enforce one ceiling: $1 at $0.01 → exactly 100
// allows through the API, however the calls interleave. And /ready follows Redis.
import assert from 'node:assert/strict';
import { useRedis } from '../redis/redis-server.js';
import { AGENT, call, model, serve, spawnServe } from './helpers.js';

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
});
