// The fleet's decision log on a capped Redis Stream (real redis-server): two processes' chains
// written through RedisStreamAuditSink, read by the dashboard's RedisStreamSource, each chain
// verified; the stream stays capped.
import { strict as assert } from 'node:assert';
import { Redis } from 'ioredis';
import { AuditLogger } from '../../language/audit/logger.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisStreamAuditSink, RedisStreamSource } from '../../language/node/serve/dashboard/redis-stream.js';
import { DashboardModel } from '../../language/node/serve/dashboard/model.js';
import { FIXTURE_POLICY } from '../serve/dashboard-fixture.js';
import { useRedis } from './redis-server.js';

describe('fleet audit stream (real redis-server)', function () {
  this.timeout(60_000);
  const redis = useRedis();

  it('two processes\' chains arrive, verified, and live decisions reach the model', async () => {
    const policy = compile({ 'p.rein': FIXTURE_POLICY });
    const sinks = [new RedisStreamAuditSink({ url: redis.url, prefix: 'fleet:', chain: 'host-a' }), new RedisStreamAuditSink({ url: redis.url, prefix: 'fleet:', chain: 'host-b', maxLen: 1000 })];
    const loggers = sinks.map((s) => new AuditLogger(s));
    const engines = loggers.map((l) => new Engine(policy, { onDecision: l.hook() }));
    const req = (tool: string) => ({ agent: { id: 'a', team: 'ops' }, action: { tool, model: 'small', amount: 0 }, cost: { estimate: '0.01' } });
    for (let i = 0; i < 50; i++) await engines[i % 2]!.decide(req(i % 5 === 0 ? 'db.drop' : 'search'));
    for (const l of loggers) await l.flush();

    const model = new DashboardModel();
    const source = new RedisStreamSource({ url: redis.url, prefix: 'fleet:' });
    source.attach(model);
    try {
      await source.catchUp();
      assert.equal(model.totals.n, 50);
      assert.equal(model.totals.deny, 10);
      const chains = source.chains().sort((a, b) => a.chain.localeCompare(b.chain));
      assert.deepEqual(chains.map((c) => [c.chain, c.records, c.ok, c.head?.seq]), [['host-a', 25, true, 24], ['host-b', 25, true, 24]]);
      const rec = await source.record('host-b', 7);
      assert.equal(rec?.seq, 7);

      source.start();
      const seen: string[] = [];
      model.onDecision((d) => seen.push(d.chain));
      await engines[0]!.decide(req('db.drop'));
      await loggers[0]!.flush();
      const deadline = Date.now() + 3000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, ['host-a']);

      // the cap holds (MAXLEN ~ is approximate: within a node's worth of entries)
      for (let i = 0; i < 1500; i++) await engines[1]!.decide(req('search'));
      await loggers[1]!.flush();
      const r = new Redis(redis.url);
      const len = await r.xlen('fleet:audit');
      await r.quit();
      assert.ok(len < 1200, `stream length ${len}`);
    } finally {
      await source.stop();
      for (const l of loggers) await l.close();
    }
  });
});
