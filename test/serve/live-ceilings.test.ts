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
import { LiveCeilings, parseCounterKey, windowKindLabel } from '../../language/node/serve/dashboard/live-ceilings.js';
import { DashboardModel } from '../../language/node/serve/dashboard/model.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
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

  it('parses rolling, token-bucket and anchored counter keys (windows.ts tags), with their window definition', () => {
    const at = Date.parse('2026-12-31T23:59:30Z');
    const cases: [BudgetWindow, { start: number; end: number } | null][] = [
      [{ kind: 'rolling', ms: 3_600_000 }, { start: Math.floor(at / 60_000) * 60_000, end: (Math.floor(at / 60_000) + 61) * 60_000 }],
      [{ kind: 'bucket', ms: 1000, refill: 2 }, null],
      [{ kind: 'anchored', ms: 30 * 86_400_000 }, null],
    ];
    for (const [w, window] of cases) {
      const k = counterKeyOf('', { name: 'b1', window: w } as CompiledBudget, ['x', 1], windowOf(w, at))!;
      const p = parseCounterKey(k);
      assert.ok(p, k);
      assert.deepEqual([p.budget, p.key, p.window, p.def], ['b1', ['x', 1], window, w], k);
    }
    for (const bad of ['b:roll0ms:[]:r1', 'b:roll60000ms:[]:7', 'b:bucket1per1000ms:[]:3', 'b:anch1000ms:[]:r2', 'b:bucketper1000ms:[]:']) {
      assert.equal(parseCounterKey(bad), null, bad);
    }
    assert.equal(windowKindLabel({ kind: 'rolling', ms: 3_600_000 }), 'rolling 1h');
    assert.equal(windowKindLabel({ kind: 'bucket', ms: 1000, refill: 500_000 }, 1e6), 'token bucket +0.5/1s');
    assert.equal(windowKindLabel({ kind: 'anchored', ms: 30 * 86_400_000 }), 'anchored 30d');
    assert.equal(windowKindLabel({ kind: 'fixed', unit: 'day' }), '');
  });

  it('shows rolling windows (summed over the window), token buckets (until full again) and anchored periods from the live counters', async () => {
    const SRC = `policy kinds {
  default allow
  currency "USD"
}
input {
  agent: { id: string }
  action: { kind: "tool_call" | "model_call" }
  cost?: { estimate: money }
}
budget calls_hour {
  limit 10 per rolling 1h
  charge 1
  by agent.id
  when action.kind == "tool_call"
}
budget tool_bucket {
  burst 5 refill 1 per 1m
  charge 1
  by agent.id
  when action.kind == "tool_call"
}
budget key_month {
  limit $30 per 30d anchored
  charge cost.estimate ?? $0
  by agent.id
  when action.kind == "model_call"
}
`;
    const policy = compile({ 'p.rein': SRC });
    const mem = new MemoryBudgetStore();
    let now = Date.parse('2026-12-06T10:00:30Z');
    const engine = new Engine(policy, { store: mem, clock: () => new Date(now) });
    const tool = { agent: { id: 'a1' }, action: { kind: 'tool_call' } };
    // two calls at 10:00:30, two at 10:20:30 (another sub-bucket), a model call of $4
    for (const t of [0, 0, 20 * 60_000, 20 * 60_000]) {
      now = Date.parse('2026-12-06T10:00:30Z') + t;
      const d = await engine.decide(tool);
      assert.equal(d.effect, 'allow');
      await engine.settle(d);
    }
    const anchorAt = now;
    await engine.settle(await engine.decide({ agent: { id: 'a1' }, action: { kind: 'model_call' }, cost: { estimate: '4' } }));
    const store = {
      async *counterKeys() {
        for (const k of Object.keys(mem.inspect(now).counters)) yield k;
      },
      peek: (keys: string[], t: number) => mem.peek(keys, t),
    };
    const limits = (name: string) => {
      const b = policy.compiled.budgets.find((x) => x.name === name)!;
      return { limit: b.unit === 'money' ? b.limit / 1e6 : b.limit, unit: b.unit };
    };
    const live = new LiveCeilings({ store, limitOf: limits, clock: () => now });
    now += 60_000; // 10:21:30
    await live.poll();
    const rows = Object.fromEntries(live.view(now).map((r) => [r.name, r]));
    assert.deepEqual(Object.keys(rows).sort(), ['calls_hour', 'key_month', 'tool_bucket'], JSON.stringify(live.view(now)));
    // rolling: one row for both sub-buckets, their sum; the window as a decision shows it
    assert.deepEqual([rows.calls_hour!.used, rows.calls_hour!.limit, rows.calls_hour!.window_kind], [4, 10, 'rolling 1h']);
    assert.equal(rows.calls_hour!.window_end, '2026-12-06T10:22:00.000Z');
    // bucket: 4 taken at 10:00:30 and 10:20:30 → 21 refilled by 10:21:30: level 1 (from 10:20:30), full again one minute after
    assert.deepEqual([rows.tool_bucket!.used, rows.tool_bucket!.limit, rows.tool_bucket!.window_kind], [1, 5, 'token bucket +1/1m']);
    assert.equal(rows.tool_bucket!.window_end, new Date(now + 60_000).toISOString());
    // anchored: the period from the key's first charge
    assert.deepEqual([rows.key_month!.used, rows.key_month!.limit, rows.key_month!.unit, rows.key_month!.window_kind], [4, 30, 'money', 'anchored 30d']);
    assert.equal(rows.key_month!.window_end, new Date(anchorAt + 30 * 86_400_000).toISOString());
    // an hour and more later the rolling window is empty and the bucket full: neither is shown
    now += 2 * 3_600_000;
    await live.poll();
    assert.deepEqual(live.view(now).map((r) => r.name), ['key_month']);
  });

  it('the newest decision for the same `by` key gives a limit read from the request (the policy has none to give)', () => {
    const m = new DashboardModel();
    const rec = (team: string, limit: string, t: string) => ({ time: t, decision: { effect: 'allow', budgets: [{ name: 'team_cap', key: [team], limit, spent: '0', reserved: '0', charge: '1', window: null }] } });
    for (const [team, limit, t] of [['gold', '9.000000', '2026-12-06T10:00:00Z'], ['basic', '2.000000', '2026-12-06T10:00:01Z']] as const) m.add(rec(team, limit, t) as never, 'c');
    assert.deepEqual(m.limitOf('team_cap', ['gold']), { limit: 9, unit: 'money' });
    assert.deepEqual(m.limitOf('team_cap', ['basic']), { limit: 2, unit: 'money' });
    assert.deepEqual(m.limitOf('team_cap', ['new']), { limit: 2, unit: 'money' }, 'another key: the newest of the budget');
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
      // Before the burn rate is observed, it is the average since the window began (UTC midnight):
      // $0.25 by now projects the limit at now + 3 × (now − midnight), an alert when that is before the
      // window's end — early in the UTC day it is (this test once assumed the afternoon and failed at 00:10).
      assert.ok(row.projected_limit_at, JSON.stringify(row));
      const sinceMidnight = Date.now() - Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
      const expectProjected = Date.now() + 3 * sinceMidnight;
      assert.ok(Math.abs(Date.parse(row.projected_limit_at) - expectProjected) < 120_000 + 3 * 60_000, `${row.projected_limit_at} vs ${new Date(expectProjected).toISOString()}`);
      assert.equal(row.alert, Date.parse(row.projected_limit_at) < Date.parse(row.window_end));
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
