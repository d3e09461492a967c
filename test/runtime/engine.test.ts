import { strict as assert } from 'node:assert';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Decision } from '../../language/runtime/decision.js';
import type { BudgetStore } from '../../language/runtime/store.js';
import { fakePolicy, usd, type FakeOptions } from './engine-fake-policy.js';

const T0 = new Date('2026-11-24T10:00:00Z');

function setup(opts: FakeOptions, engineOpts: ConstructorParameters<typeof Engine>[1] = {}) {
  let now = T0.getTime();
  const store = new MemoryBudgetStore();
  const engine = new Engine(fakePolicy(opts), { store, clock: () => new Date(now), ...engineOpts });
  return {
    engine,
    store,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

const names = (d: Decision, list: 'reasons' | 'warnings' | 'approvals' | 'monitored' = 'reasons') =>
  (d[list] as { name?: string }[]).map((r) => r.name ?? `<${(r as { kind?: string }).kind}>`);

describe('Engine.decide with budgets', () => {
  it('reserves an allowed charge and reports the budget in the decision', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'daily', limit: usd(50) }] });
    const d = await engine.decide({ user: 'ann', cost: '0.01' });
    assert.equal(d.effect, 'allow');
    assert.ok(d.reservation, 'a reservation');
    assert.deepEqual(d.budgets, [
      {
        name: 'daily',
        key: ['ann'],
        limit: '50.000000',
        spent: '0.000000',
        reserved: '0.000000',
        charge: '0.010000',
        remaining: '49.990000',
        window: { start: '2026-11-24T00:00:00.000Z', end: '2026-11-25T00:00:00.000Z' },
        exceeded: false,
        warned: false,
      },
    ]);
    const key = engine.counterKeyFor({ user: 'ann' }, 'daily')!;
    assert.deepEqual(await store.peek([key], now()), [{ spent: 0, reserved: usd(0.01) }]);
    const d2 = await engine.decide({ user: 'ann', cost: '0.01' });
    assert.equal(d2.budgets[0]!.reserved, '0.010000');
  });

  it('keeps one counter per `by` value tuple', async () => {
    const { engine } = setup({
      budgets: [{ name: 'team_user', limit: usd(1), key: (env) => [env.input.team, env.input.user] }],
    });
    assert.equal((await engine.decide({ user: 'ann', team: 'a', cost: 1 })).effect, 'allow');
    assert.equal((await engine.decide({ user: 'ann', team: 'a', cost: 0.01 })).effect, 'deny');
    assert.equal((await engine.decide({ user: 'bob', team: 'a', cost: 1 })).effect, 'allow');
    assert.equal((await engine.decide({ user: 'ann', team: 'b', cost: 1 })).effect, 'allow');
    const k1 = engine.counterKeyFor({ user: 'ann', team: 'a' }, 'team_user');
    const k2 = engine.counterKeyFor({ user: 'a', team: 'ann' }, 'team_user');
    assert.notEqual(k1, k2);
  });

  it('a new window is a new counter', async () => {
    const { engine, advance } = setup({ budgets: [{ name: 'hourly', limit: usd(1), window: { kind: 'fixed', unit: 'hour' } }] });
    assert.equal((await engine.decide({ user: 'u', cost: 1 })).effect, 'allow');
    assert.equal((await engine.decide({ user: 'u', cost: 1 })).effect, 'deny');
    advance(60 * 60_000);
    assert.equal((await engine.decide({ user: 'u', cost: 1 })).effect, 'allow');
  });

  it('warns when spent + charge crosses `warn at`', async () => {
    const { engine } = setup({ budgets: [{ name: 'daily', limit: usd(10), warnAt: 0.8 }] });
    const a = await engine.decide({ user: 'u', cost: 7 });
    assert.equal(a.budgets[0]!.warned, false);
    assert.deepEqual(a.warnings, []);
    const b = await engine.decide({ user: 'u', cost: 1 }); // 7 + 1 = 8 = 80%
    assert.equal(b.effect, 'allow');
    assert.equal(b.budgets[0]!.warned, true);
    assert.deepEqual(names(b, 'warnings'), ['daily']);
  });

  it('an exceeded budget denies by default, with its message', async () => {
    const { engine } = setup({ budgets: [{ name: 'daily', limit: usd(1), message: (env) => `user ${env.input.user} is over` }] });
    const d = await engine.decide({ user: 'u', cost: 2 });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(names(d), ['daily']);
    assert.equal(d.reasons[0]!.kind, 'budget');
    assert.equal(d.reasons[0]!.message, 'user u is over');
    assert.equal(d.reservation, null);
    assert.equal(d.budgets[0]!.exceeded, true);
    assert.equal(d.budgets[0]!.remaining, '-1.000000');
  });

  it('`on exceed require approval` is approved by the budget name, bound to the request hash', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'rate', unit: 'number', limit: 1, onExceed: 'require_approval', from: 'on-call' }] });
    assert.equal((await engine.decide({ user: 'u' })).effect, 'allow');
    const d = await engine.decide({ user: 'u' });
    assert.equal(d.effect, 'require_approval');
    assert.deepEqual(d.approvals.map((a) => [a.kind, a.name, a.from]), [['budget', 'rate', 'on-call']]);
    assert.equal(d.reservation, null);
    const hash = d.request_hash!;
    // An approval for another request does not count.
    const wrong = await engine.decide({ user: 'u' }, { approvals: [{ rule: 'rate', request_hash: 'sha256:' + 'f'.repeat(64) }] });
    assert.equal(wrong.effect, 'require_approval');
    const ok = await engine.decide({ user: 'u' }, { approvals: [{ rule: 'rate', request_hash: hash }] });
    assert.equal(ok.effect, 'allow');
    assert.ok(ok.reservation, 'the approved charge is reserved');
    const key = engine.counterKeyFor({ user: 'u' }, 'rate')!;
    assert.deepEqual(await store.peek([key], now()), [{ spent: 0, reserved: 2 }]);
  });

  it('`on exceed warn` allows with a warning and still counts', async () => {
    const { engine } = setup({ budgets: [{ name: 'soft', unit: 'number', limit: 1, onExceed: 'warn' }] });
    await engine.decide({ user: 'u' });
    const d = await engine.decide({ user: 'u' });
    assert.equal(d.effect, 'allow');
    assert.deepEqual(names(d, 'warnings'), ['soft']);
    assert.ok(d.reservation);
    assert.equal(d.budgets[0]!.reserved, 1);
  });

  it('every applicable budget must pass: no partial reservation', async () => {
    const { engine, store, now } = setup({
      budgets: [
        { name: 'user_daily', limit: usd(10) },
        { name: 'team_daily', limit: usd(3), key: (env) => [env.input.team] },
      ],
    });
    assert.equal((await engine.decide({ user: 'ann', team: 't', cost: 2 })).effect, 'allow');
    const d = await engine.decide({ user: 'bob', team: 't', cost: 2 }); // bob has room, the team does not
    assert.equal(d.effect, 'deny');
    assert.deepEqual(names(d), ['team_daily']);
    const bobKey = engine.counterKeyFor({ user: 'bob' }, 'user_daily')!;
    assert.deepEqual(await store.peek([bobKey], now()), [{ spent: 0, reserved: 0 }]);
  });

  it('non-applicable budgets are neither charged nor reported', async () => {
    const { engine } = setup({ budgets: [{ name: 'models', limit: usd(1), applies: (env) => env.input.kind === 'model_call' }] });
    const d = await engine.decide({ user: 'u', kind: 'tool_call', cost: 5 });
    assert.equal(d.effect, 'allow');
    assert.deepEqual(d.budgets, []);
    assert.equal(d.reservation, null);
    assert.equal((await engine.decide({ user: 'u', kind: 'model_call', cost: 5 })).effect, 'deny');
  });

  it('`per request` caps a single charge without a counter', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'per_call', limit: usd(1), window: { kind: 'request' } }] });
    for (let i = 0; i < 5; i++) assert.equal((await engine.decide({ user: 'u', cost: 1 })).effect, 'allow');
    const d = await engine.decide({ user: 'u', cost: 1.01 });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(names(d), ['per_call']);
    assert.equal(d.budgets[0]!.window, null);
    assert.equal(engine.counterKeyFor({ user: 'u' }, 'per_call'), null);
    assert.deepEqual(store.inspect(now()).counters, {});
  });

  it('a `per request` cap that denies prevents the other reservations', async () => {
    const { engine, store, now } = setup({
      budgets: [
        { name: 'daily', limit: usd(100) },
        { name: 'per_call', limit: usd(1), window: { kind: 'request' } },
      ],
    });
    const d = await engine.decide({ user: 'u', cost: 2 });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reservation, null);
    assert.deepEqual(await store.peek([engine.counterKeyFor({ user: 'u' }, 'daily')!], now()), [{ spent: 0, reserved: 0 }]);
  });

  it('lifetime counters never reset', async () => {
    const { engine, advance } = setup({ budgets: [{ name: 'risk', unit: 'number', limit: 3, window: { kind: 'lifetime' } }] });
    for (let i = 0; i < 3; i++) {
      const d = await engine.decide({ user: 'u' });
      assert.equal(d.effect, 'allow');
      assert.equal(d.budgets[0]!.window, null);
      await engine.settle(d, {});
      advance(40 * 86_400_000);
    }
    const d = await engine.decide({ user: 'u' });
    assert.equal(d.effect, 'deny');
    assert.equal(d.budgets[0]!.spent, 3);
  });

  it('money is exact: 10,000 charges of $0.0001 settle to exactly $1.000000', async function () {
    this.timeout(60_000);
    const { engine } = setup({ budgets: [{ name: 'daily', limit: usd(1) }] });
    for (let i = 0; i < 10_000; i++) {
      const d = engine.decideSync({ user: 'u', cost: 0.0001 });
      if (d.effect !== 'allow') assert.fail(`decision ${i} was ${d.effect}`);
      await engine.settle(d, {});
    }
    const last = await engine.decide({ user: 'u', cost: 0 });
    assert.equal(last.effect, 'allow');
    assert.equal(last.budgets[0]!.spent, '1.000000');
    assert.equal((await engine.decide({ user: 'u', cost: 0.000001 })).effect, 'deny');
  });

  it('rules read budget views (spent + reserved, before this charge)', async () => {
    const { engine } = setup({
      budgets: [{ name: 'daily', limit: usd(10) }],
      budgetsReadByRules: ['daily'],
      rules: [{ name: 'nearly_out', effect: 'require_approval', when: (env) => env.budgets.daily!.used >= 0.5 }],
    });
    assert.equal((await engine.decide({ user: 'u', cost: 5 })).effect, 'allow');
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'require_approval');
    assert.deepEqual(names(d), ['nearly_out']);
    assert.equal(d.reservation, null);
  });

  it('a denying rule reserves nothing but still reports the budgets', async () => {
    const { engine, store, now } = setup({
      budgets: [{ name: 'daily', limit: usd(10) }],
      rules: [{ name: 'no_shell', effect: 'deny', when: (env) => env.input.kind === 'shell' }],
    });
    const d = await engine.decide({ user: 'u', kind: 'shell', cost: 1 });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(names(d), ['no_shell']);
    assert.equal(d.reservation, null);
    assert.equal(d.budgets[0]!.charge, '1.000000');
    assert.deepEqual(await store.peek([engine.counterKeyFor({ user: 'u' }, 'daily')!], now()), [{ spent: 0, reserved: 0 }]);
  });

  it('an invalid request is the `on error` decision without a reservation', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'daily', limit: usd(10) }] });
    const d = await engine.decide({ user: 42, cost: -1 });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.errors.map((e) => [e.kind, e.path]), [
      ['input', '$.user'],
      ['input', '$.cost'],
    ]);
    assert.equal(d.reservation, null);
    assert.deepEqual(store.inspect(now()).reservations, []);
  });
});

describe('Engine: fail closed', () => {
  for (const [label, charge] of [
    ['NaN', NaN],
    ['negative', -5],
    ['infinite', Infinity],
    ['fractional micros', 0.5],
  ] as const) {
    it(`a ${label} charge is an error with the \`on error\` effect`, async () => {
      const { engine, store, now } = setup({ budgets: [{ name: 'b', limit: usd(10), charge: () => charge }] });
      const d = await engine.decide({ user: 'u' });
      assert.equal(d.effect, 'deny');
      assert.deepEqual(d.errors.map((e) => [e.kind, e.name]), [['budget', 'b']]);
      assert.equal(d.reservation, null);
      assert.deepEqual(store.inspect(now()).reservations, []);
    });
  }

  it('a throwing charge expression fails closed too', async () => {
    const { engine } = setup({
      budgets: [
        {
          name: 'b',
          limit: usd(10),
          charge: () => {
            throw new Error('division by zero');
          },
        },
      ],
    });
    const d = await engine.decide({ user: 'u' });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0]!.message, /division by zero/);
  });

  const failing = (): BudgetStore => {
    const boom = () => Promise.reject(new Error('connection refused'));
    return { reserve: boom, peek: boom, settle: boom, release: boom, addSpent: boom };
  };

  it('a failing store gives the `on error` decision with a store error', async () => {
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }] }), { store: failing() });
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors[0]!.kind, 'store');
    assert.match(d.errors[0]!.message, /connection refused/);
    assert.equal(d.reservation, null);
  });

  it('a store failure while reading views for rules fails closed', async () => {
    const engine = new Engine(
      fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }], budgetsReadByRules: ['b'], rules: [{ name: 'r', effect: 'allow', when: () => true }] }),
      { store: failing() },
    );
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors[0]!.kind, 'store');
  });

  it('a store that hangs times out into the `on error` decision, and a late reservation is released', async () => {
    const inner = new MemoryBudgetStore();
    let releaseCalls = 0;
    const slow: BudgetStore = {
      reserve: (req) => new Promise((res) => setTimeout(() => res(inner.reserveSync(req)), 60)),
      peek: (k, n) => inner.peek(k, n),
      settle: (id, a, n) => inner.settle(id, a, n),
      release: (id, n) => {
        releaseCalls++;
        return inner.release(id, n);
      },
      addSpent: (k, a, e, n) => inner.addSpent(k, a, e, n),
    };
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }] }), { store: slow, storeTimeoutMs: 10, clock: () => T0 });
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0]!.message, /did not answer/);
    await new Promise((r) => setTimeout(r, 100));
    // released by id at once (a store with tombstones refuses the late reserve), and again after the late success
    assert.equal(releaseCalls, 2);
    assert.deepEqual(inner.inspect(T0.getTime()).reservations, []);
  });

  it('a reserve that fails on the store\'s own timeout but lands later is released by id (no phantom spend)', async () => {
    // Like Redis: the call rejects after 10 ms, the script still runs at 60 ms unless a release came first.
    const inner = new MemoryBudgetStore();
    const tombstones = new Set<string>();
    const slow: BudgetStore = {
      reserve: (req) =>
        new Promise((_, reject) => {
          setTimeout(() => reject(new Error('store timed out')), 10);
          setTimeout(() => {
            if (!tombstones.has(req.reservationId)) inner.reserveSync(req);
          }, 60);
        }),
      peek: (k, n) => inner.peek(k, n),
      settle: (id, a, n) => inner.settle(id, a, n),
      release: (id, n) => {
        tombstones.add(id);
        return inner.release(id, n);
      },
      addSpent: (k, a, e, n) => inner.addSpent(k, a, e, n),
    };
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }] }), { store: slow, storeTimeoutMs: 1000, clock: () => T0 });
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0]!.message, /store timed out/);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(inner.inspect(T0.getTime()).reservations, [], 'no reservation that no client holds');
  });

  it('the engine\'s store timeout defaults to the store\'s own timeoutMs', async () => {
    const inner = new MemoryBudgetStore();
    const slow: BudgetStore = {
      timeoutMs: 20,
      reserve: (req) => new Promise((res) => setTimeout(() => res(inner.reserveSync(req)), 200)),
      peek: (k, n) => inner.peek(k, n),
      settle: (id, a, n) => inner.settle(id, a, n),
      release: (id, n) => inner.release(id, n),
      addSpent: (k, a, e, n) => inner.addSpent(k, a, e, n),
    };
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }] }), { store: slow, clock: () => T0 });
    const t = Date.now();
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.match(d.errors[0]!.message, /did not answer within 20 ms/);
    assert.ok(Date.now() - t < 190, 'the decision did not wait for the slow store');
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(inner.inspect(T0.getTime()).reservations, []);
  });

  it('with `on error allow` a store outage allows, without a reservation', async () => {
    const engine = new Engine(fakePolicy({ onError: 'allow', budgets: [{ name: 'b', limit: usd(10) }] }), { store: failing() });
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'allow');
    assert.equal(d.reservation, null);
    assert.equal(d.errors[0]!.kind, 'store');
  });
});

describe('Engine.settle', () => {
  it('replaces the estimate by a lower actual charge', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'daily', limit: usd(1) }] });
    const d = await engine.decide({ user: 'u', cost: 0.9 });
    assert.equal((await engine.decide({ user: 'u', cost: 0.2 })).effect, 'deny');
    await engine.settle(d, { cost: 0.031 });
    const key = engine.counterKeyFor({ user: 'u' }, 'daily')!;
    assert.deepEqual(await store.peek([key], now()), [{ spent: usd(0.031), reserved: 0 }]);
    assert.equal((await engine.decide({ user: 'u', cost: 0.2 })).effect, 'allow');
  });

  it('replaces the estimate by a higher actual charge (spend may pass the limit)', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'daily', limit: usd(1) }] });
    const d = await engine.decide({ user: 'u', cost: '0.5' });
    await engine.settle(d, { cost: '1.25' });
    const key = engine.counterKeyFor({ user: 'u' }, 'daily')!;
    assert.deepEqual(await store.peek([key], now()), [{ spent: usd(1.25), reserved: 0 }]);
    const next = await engine.decide({ user: 'u', cost: 0 });
    assert.equal(next.effect, 'deny');
    assert.equal(next.budgets[0]!.remaining, '-0.250000');
  });

  it('deep-merges usage into the request before re-evaluating the charge', async () => {
    const { engine, store, now } = setup({
      budgets: [{ name: 'by_team', limit: usd(10), key: (env) => [env.input.team], charge: (env) => (env.input.cost as number) * 2 }],
    });
    const d = await engine.decide({ user: 'u', team: 't', cost: 1 });
    await engine.settle(d, { cost: 3 });
    assert.deepEqual(await store.peek([engine.counterKeyFor({ user: 'x', team: 't' }, 'by_team')!], now()), [{ spent: usd(6), reserved: 0 }]);
  });

  it('a second settle throws a clear error', async () => {
    const { engine } = setup({ budgets: [{ name: 'daily', limit: usd(1) }] });
    const d = await engine.decide({ user: 'u', cost: 0.5 });
    await engine.settle(d, { cost: 0.1 });
    await assert.rejects(engine.settle(d, { cost: 0.1 }), /already settled/);
    // also through a JSON copy of the decision
    await assert.rejects(engine.settle(JSON.parse(JSON.stringify(d)), {}), /already settled/);
    const denied = await engine.decide({ user: 'u', cost: 5 });
    await engine.settle(denied, {});
    await assert.rejects(engine.settle(denied, {}), /already settled/);
  });

  it('invalid usage throws and leaves the reservation for a retry', async () => {
    const { engine, store, now } = setup({ budgets: [{ name: 'daily', limit: usd(1) }] });
    const d = await engine.decide({ user: 'u', cost: 0.5 });
    await assert.rejects(engine.settle(d, { cost: 'NaN' }), /invalid/);
    await assert.rejects(engine.settle(d, { cost: -1 }), /invalid/);
    await engine.settle(d, { cost: 0.2 });
    assert.deepEqual(await store.peek([engine.counterKeyFor({ user: 'u' }, 'daily')!], now()), [{ spent: usd(0.2), reserved: 0 }]);
  });

  it('an unsettled reservation expires after the TTL and counts its estimate as spent', async () => {
    const { engine, store, advance, now } = setup({ budgets: [{ name: 'daily', limit: usd(1) }] }, { reservationTtlMs: 60_000 });
    const d = await engine.decide({ user: 'u', cost: 0.7 });
    const key = engine.counterKeyFor({ user: 'u' }, 'daily')!;
    advance(59_999);
    assert.deepEqual(await store.peek([key], now()), [{ spent: 0, reserved: usd(0.7) }]);
    advance(1);
    assert.deepEqual(await store.peek([key], now()), [{ spent: usd(0.7), reserved: 0 }]);
    assert.equal((await engine.decide({ user: 'u', cost: 0.5 })).effect, 'deny');
    // A late settle still corrects it.
    await engine.settle(d, { cost: 0.1 });
    assert.deepEqual(await store.peek([key], now()), [{ spent: usd(0.1), reserved: 0 }]);
  });
});

describe('Engine: monitor mode and hooks', () => {
  it('monitor mode evaluates everything, enforces nothing and reserves nothing', async () => {
    const { engine, store, now } = setup(
      {
        budgets: [{ name: 'daily', limit: usd(1) }],
        rules: [{ name: 'no_shell', effect: 'deny', when: (env) => env.input.kind === 'shell' }],
      },
      { mode: 'monitor' },
    );
    const a = await engine.decide({ user: 'u', cost: 0.6 });
    assert.equal(a.effect, 'allow');
    assert.equal(a.mode, 'monitor');
    assert.equal(a.reservation, null);
    const b = await engine.decide({ user: 'u', kind: 'shell', cost: 5 });
    assert.equal(b.effect, 'allow');
    assert.equal(b.would_effect, 'deny');
    assert.deepEqual(names(b, 'monitored').sort(), ['daily', 'no_shell']);
    assert.equal(b.budgets[0]!.exceeded, true);
    assert.deepEqual(store.inspect(now()).counters, {});
  });

  it('onDecision sees every decision, and a throwing hook does not break decide', async () => {
    const seen: string[] = [];
    const hookErrors: unknown[] = [];
    const { engine } = setup(
      { budgets: [{ name: 'daily', limit: usd(1) }] },
      {
        onDecision: (d) => {
          seen.push(d.effect);
          throw new Error('log sink down');
        },
        onHookError: (e) => hookErrors.push(e),
      },
    );
    assert.equal((await engine.decide({ user: 'u', cost: 0.5 })).effect, 'allow');
    assert.equal((await engine.decide({ user: 'u', cost: 5 })).effect, 'deny');
    assert.equal((await engine.decide({ user: 7 })).effect, 'deny');
    assert.deepEqual(seen, ['allow', 'deny', 'deny']);
    assert.equal(hookErrors.length, 3);
  });

  it('a rejecting async hook is caught too', async () => {
    const errs: unknown[] = [];
    const { engine } = setup({}, { onDecision: async () => Promise.reject(new Error('nope')), onHookError: (e) => errs.push(e) });
    assert.equal((await engine.decide({ user: 'u' })).effect, 'allow');
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(errs.length, 1);
  });

  it('decideSync gives the same decisions as decide on a memory store', async () => {
    const opts: FakeOptions = { budgets: [{ name: 'daily', limit: usd(1), warnAt: 0.5 }] };
    const a = setup(opts);
    const b = setup(opts);
    for (const cost of [0.3, 0.3, 0.3, 0.3]) {
      const x = await a.engine.decide({ user: 'u', cost });
      const y = b.engine.decideSync({ user: 'u', cost });
      assert.deepEqual({ ...y, reservation: null }, { ...x, reservation: null });
      assert.equal(y.reservation === null, x.reservation === null);
    }
    assert.throws(() => new Engine(fakePolicy(opts), { store: { ...new MemoryBudgetStore(), reserve: async () => ({ ok: true, committed: false, items: [] }) } as unknown as BudgetStore }).decideSync({ user: 'u' }), /synchronous/);
  });

  it('addSpent pre-seeds the request\'s counter', async () => {
    const { engine } = setup({ budgets: [{ name: 'daily', limit: usd(50) }] });
    await engine.addSpent({ user: 'u' }, 'daily', usd(49));
    assert.equal((await engine.decide({ user: 'u', cost: 2 })).effect, 'deny');
    assert.equal((await engine.decide({ user: 'v', cost: 2 })).effect, 'allow');
    await assert.rejects(engine.addSpent({ user: 'u' }, 'nope', 1), /unknown budget/);
  });
});
