// Fleet ceilings from the live Redis counters (#15): the control room reads the budget counters every
// process shares — settles included, processes that write no log to it included — instead of the
// figures the decisions in its log reported. Real redis-server, two `rein serve --api` processes.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { counterKeyOf } from '../../language/runtime/budgets.js';
import type { BudgetWindow, CompiledBudget } from '../../language/runtime/compiled.js';
import { windowOf } from '../../language/runtime/windows.js';
import { createServeApp, type ServeApp } from '../../language/node/serve/app.js';
import dashboardServePlugin from '../../language/node/serve/dashboard.js';
import { parseCounterKey } from '../../language/node/serve/dashboard/live-ceilings.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { useRedis } from '../redis/redis-server.js';
import { AGENT, call, model, spawnServe } from './helpers.js';

describe('control room: ceilings from live Redis counters', function () {
  this.timeout(120_000);

  it('parses every window kind of a counter key back to its budget, key and window', () => {
    const at = Date.parse('2026-12-31T23:59:30Z');
    const windows: BudgetWindow[] = [
      { kind: 'fixed', unit: 'minute' },
      { kind: 'fixed', unit: 'hour' },
      { kind: 'fixed', unit: 'day' },
      { kind: 'fixed', unit: 'week' },
      { kind: 'fixed', unit: 'month' },
      { kind: 'fixed', ms: 15 * 60_000 },
      { kind: 'lifetime' },
    ];
    for (const w of windows) {
      for (const key of [[], ['acme'], ['a:b}c', 3, true], [{ x: 'y:z' }]]) {
        const span = windowOf(w, at);
        const k = counterKeyOf('', { name: 'team_daily', window: w } as CompiledBudget, key, span)!;
        const p = parseCounterKey(k);
        assert.ok(p, `${k} parses`);
        assert.equal(p.budget, 'team_daily');
        assert.deepEqual(p.key, key);
        assert.deepEqual(p.window, span.start ? { start: span.start.getTime(), end: span.end!.getTime() } : null, k);
      }
    }
    for (const bad of ['', 'x', 'team:day:[]', 'team:day:[]:2026-13-45', 'team:fortnight:[]:1', 'team:life:[]:3', 'te-am:day:[]:2026-12-01', 'team:day:{}:2026-12-01']) {
      assert.equal(parseCounterKey(bad), null, bad);
    }
  });

  describe('with two service processes on one Redis', () => {
    const redis = useRedis();
    let a: Awaited<ReturnType<typeof spawnServe>> | undefined;
    let b: Awaited<ReturnType<typeof spawnServe>> | undefined;
    let dash: ServeApp | undefined;
    let bare: ServeApp | undefined;

    after(async () => {
      await dash?.close();
      await bare?.close();
      if (a) assert.equal(await a.stop(), 0);
      if (b) assert.equal(await b.stop(), 0);
    });

    const summary = async (app: FastifyInstance) => JSON.parse((await app.inject({ url: '/dashboard/api/summary' })).body);
    async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
      let last: unknown;
      for (let i = 0; i < 100; i++) {
        const v = await fn().catch((e) => ((last = e), undefined));
        if (v !== undefined) return v;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what} ${String(last ?? '')}`);
    }

    it('shows spent and reserved as Redis holds them (a settle included), then the alert at the limit', async () => {
      a = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url]);
      b = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--redis', redis.url]);
      const d1 = await call(a.url, '/v1/decide', { body: { input: model('live', '0.30') } });
      const d2 = await call(b.url, '/v1/decide', { body: { input: model('live', '0.20') } });
      assert.equal(d1.body.effect, 'allow');
      assert.equal(d2.body.effect, 'allow');
      await call(a.url, '/v1/decide', { body: { input: model('quiet', '0.01') } });
      // The actual cost of the first call is $0.05, settled after the decision: no decision reports it.
      assert.equal((await call(a.url, '/v1/settle', { body: { reservation: d1.body.reservation.id, usage: { cost: { estimate: '0.05' } } } })).status, 200);

      // A dashboard that saw none of these decisions (no log, no stream), with the policy for the limits.
      dash = await createServeApp({ policy: AGENT, watch: false, redis: redis.url, plugins: [{ name: 'dashboard', plugin: dashboardServePlugin }], dashboard: { stream: false } });
      await dash.app.ready();
      const s = await summary(dash.app);
      assert.equal(s.ceilings_source.kind, 'redis');
      assert.equal(s.ceilings_source.error, null);
      assert.equal(s.totals.n, 0, 'no decision reached this dashboard');
      const row = s.ceilings.find((c: { key: string[] }) => c.key[0] === 'live');
      assert.ok(row, JSON.stringify(s.ceilings));
      assert.equal(row.name, 'team_daily');
      assert.equal(row.unit, 'money');
      assert.equal(row.limit, 1);
      assert.equal(row.spent, 0.05);
      assert.equal(row.reserved, 0.2);
      assert.equal(row.used, 0.25);
      const day = new Date();
      assert.equal(row.window_end, new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1)).toISOString());
      assert.equal(row.alert, false);
      assert.ok(s.ceilings.some((c: { key: string[] }) => c.key[0] === 'quiet'));

      // Spend to the limit through the other process: the next read shows it, with the alert.
      assert.equal((await call(b.url, '/v1/decide', { body: { input: model('live', '0.75') } })).body.effect, 'allow');
      const full = await until('the limit reached', async () => {
        const r = (await summary(dash!.app)).ceilings.find((c: { key: string[] }) => c.key[0] === 'live');
        return r && r.used === 1 ? r : undefined;
      });
      assert.equal(full.alert, true);
      assert.ok(full.projected_limit_at);
    });

    it('GET /api/ceilings: the ceilings alone (what the page polls while they are live), 400 for a parameter', async () => {
      const r = await dash!.app.inject({ url: '/dashboard/api/ceilings' });
      assert.equal(r.statusCode, 200, r.body);
      const c = JSON.parse(r.body);
      assert.equal(c.ceilings_source.kind, 'redis');
      const row = c.ceilings.find((x: { key: string[] }) => x.key[0] === 'live');
      assert.deepEqual([row.used, row.limit, row.alert], [1, 1, true]);
      assert.deepEqual(c.ceilings, (await summary(dash!.app)).ceilings);
      const bad = await dash!.app.inject({ url: '/dashboard/api/ceilings?team=live' });
      assert.equal(bad.statusCode, 400);
      assert.match(JSON.parse(bad.body).error.message, /unknown parameter `team`/);
    });

    it('without a policy the limit is unknown but the counters are still shown', async () => {
      bare = await createServeApp({ redis: redis.url, plugins: [{ name: 'dashboard', plugin: dashboardServePlugin }], dashboard: { stream: false } });
      await bare.app.ready();
      const row = (await summary(bare.app)).ceilings.find((c: { key: string[] }) => c.key[0] === 'live');
      assert.equal(row.limit, null);
      assert.equal(row.alert, false);
      assert.equal(row.spent + row.reserved, 1_000_000, 'micros: the unit is unknown too');
    });

    it('counterKeys lists exactly the counters (not reservations, markers or the stream)', async () => {
      const store = new RedisBudgetStore({ url: redis.url });
      try {
        const keys: string[] = [];
        for await (const k of store.counterKeys()) keys.push(k);
        assert.ok(keys.length >= 2);
        for (const k of keys) assert.ok(parseCounterKey(k), k);
        assert.equal(new Set(keys).size, keys.length);
      } finally {
        await store.close();
      }
    });
  });
});
