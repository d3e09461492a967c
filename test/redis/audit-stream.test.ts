// The fleet's decision log on a capped Redis Stream (real redis-server): two processes' chains
// written through RedisStreamAuditSink, read by the dashboard's RedisStreamSource, each chain
// verified; the stream stays capped.
import { strict as assert } from 'node:assert';
import { Redis } from 'ioredis';
import { AuditLogger } from '../../language/audit/logger.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisStreamAuditSink, RedisStreamSource } from '../../language/node/serve/dashboard/redis-stream.js';
import Fastify from 'fastify';
import { DashboardModel, type RecordFilter } from '../../language/node/serve/dashboard/model.js';
import { summarizeSources } from '../../language/node/serve/dashboard/log-source.js';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
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

  it('the stream is indexed: filtered summaries and drill-downs over the fleet equal reading the stream, records read back by id', async () => {
    const policy = compile({ 'p.rein': FIXTURE_POLICY });
    const sinks = ['host-a', 'host-b', 'host-c'].map((chain) => new RedisStreamAuditSink({ url: redis.url, prefix: 'idx:', chain }));
    const loggers = sinks.map((s) => new AuditLogger(s));
    const engines = loggers.map((l) => new Engine(policy, { onDecision: l.hook() }));
    const teams = ['sales', 'ops', 'support'];
    const tools = ['search', 'db.drop', 'payments.transfer', 'email.send'];
    for (let i = 0; i < 600; i++) {
      const req = { agent: { id: `agent-${i % 7}`, team: teams[i % 3]! }, action: { tool: tools[i % 4]!, model: i % 5 === 0 ? 'large' : 'small', amount: i % 4 === 2 ? 1500 + i : 0 }, cost: { estimate: '0.01' } };
      await engines[i % 3]!.decide(req);
    }
    for (const l of loggers) await l.flush();

    const live = new DashboardModel();
    const source = new RedisStreamSource({ url: redis.url, prefix: 'idx:' });
    source.attach(live);
    // the same stream read by a source whose index is too small to answer: it reads the stream instead
    const reading = new RedisStreamSource({ url: redis.url, prefix: 'idx:', maxIndexRows: 64 });
    reading.attach(new DashboardModel());
    try {
      await source.catchUp();
      await reading.catchUp();
      assert.equal(source.index.n, 600);
      assert.equal(source.index.complete, true);
      assert.equal(reading.index.complete, false);
      // `recent` is the newest 50 by time (the replay's: the last 50 read): compared by time below
      const view = (m: DashboardModel) => {
        const { ceilings: _c, recent: _r, ...rest } = m.summary({ now: Date.now() });
        return rest;
      };
      for (const f of [{ team: 'sales' }, { tool: 'db.drop' }, { agent: 'agent-3', model: 'large' }, { policy: '1.0.0' }, { team: 'nobody' }] as RecordFilter[]) {
        const fast = new DashboardModel();
        assert.equal(await summarizeSources([source], f, fast), true);
        const slow = new DashboardModel();
        await source.replay(f, slow);
        assert.deepEqual(view(fast), view(slow), JSON.stringify(f));
        const times = (await reading.scan(f, { limit: 1000 })).map((r) => r.record.time).sort().reverse().slice(0, 50);
        assert.deepEqual(fast.summary().recent.map((r) => r.time), times, JSON.stringify(f));
      }
      const drop = new DashboardModel();
      await summarizeSources([source], { tool: 'db.drop' }, drop);
      assert.equal(drop.totals.n, 150);
      assert.equal(drop.totals.deny, 150);
      assert.equal(drop.summary().recent.length, 50, 'the newest decisions are read back from the stream by id');

      for (const [f, o] of [[{ rule: 'no_drop' }, { limit: 20 }], [{ team: 'ops' }, { limit: 7, chain: 'host-b' }], [{ rule: 'large_transfer' }, { limit: 200 }], [{}, { limit: 5, chain: 'host-c', before: 100 }]] as const) {
        const fast = await source.scan(f, o);
        const slow = await reading.scan(f, o);
        assert.ok(fast.length > 0, JSON.stringify([f, o]));
        assert.deepEqual(fast.map((r) => [r.chain, r.record.seq]), slow.map((r) => [r.chain, r.record.seq]), JSON.stringify([f, o]));
        assert.ok(fast.every((r) => typeof r.record.hash === 'string'), 'whole records');
      }
      assert.equal((await source.record('host-c', 150))?.seq, 150);

      // The control room over the stream alone (no --log): filters and drill-downs answer from the index.
      const app = Fastify();
      await app.register(dashboardPlugin({ sources: [new RedisStreamSource({ url: redis.url, prefix: 'idx:' })] })); // the plugin starts and stops it
      try {
        let s = JSON.parse((await app.inject({ url: '/dashboard/api/summary' })).body);
        for (let i = 0; i < 100 && s.totals.n < 600; i++) {
          await new Promise((res) => setTimeout(res, 50));
          s = JSON.parse((await app.inject({ url: '/dashboard/api/summary' })).body);
        }
        s = JSON.parse((await app.inject({ url: '/dashboard/api/summary?tool=db.drop&team=ops' })).body);
        assert.equal(s.totals.n, 50);
        assert.equal(s.totals.deny, 50);
        assert.ok(s.recent.every((r: { tags: { team: string; tool: string } }) => r.tags.team === 'ops' && r.tags.tool === 'db.drop') && s.recent.length === 50);
        const r = JSON.parse((await app.inject({ url: '/dashboard/api/records?rule=large_transfer&limit=3' })).body);
        assert.equal(r.records.length, 3);
        assert.ok(r.records.every((x: { rules: string[] }) => x.rules.includes('large_transfer')));
      } finally {
        await app.close();
      }

      // Entries trimmed by the cap: the counts stay, the rows whose entries are gone are skipped.
      const key = (x: { chain: string; record: { seq: number } }) => `${x.chain}/${x.record.seq}`;
      const newest = (await source.scan({}, { limit: 300 })).map(key);
      const r = new Redis(redis.url);
      await r.xtrim('idx:audit', 'MAXLEN', 100);
      await r.quit();
      const left = new Set((await reading.scan({}, { limit: 1000 })).map(key));
      assert.equal(left.size, 100);
      const after = (await source.scan({}, { limit: 300 })).map(key);
      assert.ok(after.length > 0 && after.length < 300, `${after.length} of the newest 300 left`);
      assert.deepEqual(after, newest.filter((k) => left.has(k)));
      const still = new DashboardModel();
      await summarizeSources([source], {}, still);
      assert.equal(still.totals.n, 600);
    } finally {
      await source.stop();
      await reading.stop();
      for (const l of loggers) await l.close();
    }
  });
});
