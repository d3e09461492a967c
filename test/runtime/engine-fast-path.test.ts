// The engine's fast paths keep the semantics: the synchronous memory-store path, the cheap request
// snapshot kept for settle, reservation ids, cached windows and counter keys, and the reservation
// decision made before the decision is assembled.

import { strict as assert } from 'node:assert';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { hashValue } from '../../language/runtime/hash.js';
import type { ClauseEffect } from '../../language/runtime/compiled.js';
import type { ReserveRequest, ReserveResult } from '../../language/runtime/store.js';
import { fakePolicy, usd, type FakeRule } from './engine-fake-policy.js';

const T0 = new Date('2026-11-24T10:00:00Z').getTime();

describe('Engine fast paths', () => {
  it('settle uses the request as it was at decide time, even when the caller mutates it afterwards', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(100) }] }), { store, clock: () => new Date(T0) });
    const request = { user: 'ann', cost: '1.50', meta: { tags: ['a'], at: new Date(T0) } };
    const d = await engine.decide(request);
    assert.ok(d.reservation);
    request.cost = '90';
    request.user = 'bob';
    await engine.settle(d); // no usage: the actual is the original estimate, on ann's counter
    const ann = engine.counterKeyFor({ user: 'ann' }, 'b')!;
    const bob = engine.counterKeyFor({ user: 'bob' }, 'b')!;
    assert.deepEqual(store.peekSync([ann, bob], T0), [
      { spent: usd(1.5), reserved: 0 },
      { spent: 0, reserved: 0 },
    ]);
  });

  it('settle deep-merges usage into the snapshot (objects merge, scalars replace)', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(100) }] }), { store, clock: () => new Date(T0) });
    const d = await engine.decide({ user: 'ann', cost: '2' });
    await engine.settle(d, { cost: '0.25' });
    assert.deepEqual(store.peekSync([engine.counterKeyFor({ user: 'ann' }, 'b')!], T0), [{ spent: usd(0.25), reserved: 0 }]);
  });

  it('a @monitor budget over its limit is reported under monitored and does not block; an enforced one denies', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(
      fakePolicy({ budgets: [{ name: 'watch', limit: usd(1), monitor: true }, { name: 'cap', limit: usd(10) }] }),
      { store, clock: () => new Date(T0) },
    );
    const d = await engine.decide({ user: 'ann', cost: '5' });
    assert.equal(d.effect, 'allow');
    assert.deepEqual(d.monitored.map((m) => (m as { name?: string }).name), ['watch']);
    assert.deepEqual(d.budgets.map((b) => [b.name, b.exceeded]), [['watch', true], ['cap', false]]);
    assert.deepEqual(Object.keys(d.budgets[0]!), Object.keys(d.budgets[1]!));
    const denied = await engine.decide({ user: 'ann', cost: '6' });
    assert.equal(denied.effect, 'deny');
    assert.deepEqual(denied.reasons.map((r) => (r as { name?: string }).name), ['cap']);
  });

  it('reservation ids are unique within and across engines sharing a store', async () => {
    const store = new MemoryBudgetStore();
    const policy = fakePolicy({ budgets: [{ name: 'b', limit: usd(1_000_000) }] });
    const a = new Engine(policy, { store });
    const b = new Engine(policy, { store });
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      for (const e of [a, b]) {
        const d = await e.decide({ user: `u${i % 7}`, cost: 1 });
        assert.ok(d.reservation);
        ids.add(d.reservation.id);
      }
    }
    assert.equal(ids.size, 1000);
    assert.equal(store.inspect().reservations.length, 1000);
  });

  it('decide on the memory store returns a promise and calls onDecision with the request and a latency', async () => {
    const seen: { effect: string; request: unknown; latency: number }[] = [];
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(1) }] }), {
      onDecision: (d, ctx) => {
        seen.push({ effect: d.effect, request: ctx.request, latency: ctx.latencyMs });
      },
    });
    const request = { user: 'ann', cost: 1 };
    const p = engine.decide(request);
    assert.ok(p instanceof Promise);
    const d = await p;
    assert.equal((await engine.decide(request)).effect, 'deny'); // the first reserved the whole limit
    assert.equal(d.effect, 'allow');
    assert.deepEqual(
      seen.map((s) => s.effect),
      ['allow', 'deny'],
    );
    assert.equal(seen[0]!.request, request);
    assert.ok(seen.every((s) => s.latency >= 0 && Number.isFinite(s.latency)));
  });

  it('a MemoryBudgetStore subclass that overrides `reserve` goes through it (async path, with the timeout)', async () => {
    let calls = 0;
    class Slow extends MemoryBudgetStore {
      override async reserve(req: ReserveRequest): Promise<ReserveResult> {
        calls++;
        await new Promise((r) => setTimeout(r, 50));
        return super.reserve(req);
      }
    }
    const store = new Slow();
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }] }), { store, storeTimeoutMs: 5, clock: () => new Date(T0) });
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(calls, 1);
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0]!.message, /did not answer within 5 ms/);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(store.inspect(T0).reservations, [], 'the late reservation was released');
  });

  it('a throwing synchronous store fails closed on the fast path', async () => {
    class Broken extends MemoryBudgetStore {
      override reserveSync(): ReserveResult {
        throw new Error('disk on fire');
      }
    }
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(10) }] }), { store: new Broken() });
    const d = await engine.decide({ user: 'u', cost: 1 });
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors[0]!.kind, 'store');
    assert.match(d.errors[0]!.message, /disk on fire/);
    assert.equal(d.reservation, null);
  });

  it('cached windows and counter keys follow the clock across window ends, also backwards', async () => {
    let now = Date.parse('2026-11-24T23:59:59.999Z');
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(1) }] }), { clock: () => new Date(now) });
    assert.equal((await engine.decide({ user: 'ann', cost: 1 })).effect, 'allow');
    assert.equal((await engine.decide({ user: 'ann', cost: 1 })).effect, 'deny');
    now += 1; // next day: a new counter
    const next = await engine.decide({ user: 'ann', cost: 1 });
    assert.equal(next.effect, 'allow');
    assert.deepEqual(next.budgets[0]!.window, { start: '2026-11-25T00:00:00.000Z', end: '2026-11-26T00:00:00.000Z' });
    assert.match(engine.counterKeyFor({ user: 'ann' }, 'b')!, /:2026-11-25$/);
    now -= 1; // back in the previous day: its counter is full again
    const back = await engine.decide({ user: 'ann', cost: 1 });
    assert.equal(back.effect, 'deny');
    assert.deepEqual(back.budgets[0]!.window, { start: '2026-11-24T00:00:00.000Z', end: '2026-11-25T00:00:00.000Z' });
  });

  it('counter keys distinguish by-tuples the key cache could confuse (1 vs "1", null, true, tuples)', async () => {
    const engine = new Engine(fakePolicy({ budgets: [{ name: 'b', limit: usd(1), key: (env) => (env.input.kind === 'pair' ? [env.input.team, env.input.user] : [JSON.parse(env.input.user as string)]) }] }), {
      clock: () => new Date(T0),
    });
    const keys = ['1', '"1"', 'null', 'true', '"true"', '0', '-0'].map((u) => engine.counterKeyFor({ user: u }, 'b'));
    assert.deepEqual(keys, ['b:day:[1]:2026-11-24', 'b:day:["1"]:2026-11-24', 'b:day:[null]:2026-11-24', 'b:day:[true]:2026-11-24', 'b:day:["true"]:2026-11-24', 'b:day:[0]:2026-11-24', 'b:day:[0]:2026-11-24']);
    assert.equal(engine.counterKeyFor({ user: 'x', team: 't', kind: 'pair' }, 'b'), 'b:day:["t","x"]:2026-11-24');
    // Every key gets its own counter.
    assert.equal((await engine.decide({ user: '1', cost: 1 })).effect, 'allow');
    assert.equal((await engine.decide({ user: '"1"', cost: 1 })).effect, 'allow');
    assert.equal((await engine.decide({ user: '1', cost: 1 })).effect, 'deny');
  });

  // The engine decides whether to write the charges before it assembles the decision; the final
  // decision must agree: a reservation exactly when the effect is `allow` (enforce mode, budget fits).
  it('reserves exactly when the decision allows, over rule effects, errors, monitors, approvals and defaults', async () => {
    const effects: ClauseEffect[] = ['deny', 'require_approval', 'allow', 'warn'];
    const variants: ('off' | 'match' | 'error' | 'monitor')[] = ['off', 'match', 'error', 'monitor'];
    let checked = 0;
    for (const def of ['allow', 'deny'] as const) {
      for (const onError of ['allow', 'deny'] as const) {
        for (const v1 of variants) {
          for (const v2 of variants) {
            for (const e1 of effects) {
              for (const e2 of ['require_approval', 'allow'] as ClauseEffect[]) {
                for (const approve of [false, true]) {
                  for (const badBudget of [false, true]) {
                    const rule = (name: string, effect: ClauseEffect, v: (typeof variants)[number]): FakeRule => ({
                      name,
                      effect,
                      monitor: v === 'monitor',
                      when: () => {
                        if (v === 'error') throw new Error('boom');
                        return v !== 'off';
                      },
                    });
                    const budgets = [{ name: 'b', limit: usd(100) }];
                    if (badBudget) budgets.push({ name: 'bad', limit: usd(100), charge: () => NaN } as (typeof budgets)[number]);
                    const policy = fakePolicy({ default: def, onError, rules: [rule('r1', e1, v1), rule('r2', e2, v2)], budgets });
                    const store = new MemoryBudgetStore();
                    const engine = new Engine(policy, { store, clock: () => new Date(T0) });
                    const request = { user: 'ann', cost: 1 };
                    const v = policy.compiled.validate(request);
                    assert.ok(v.ok);
                    const hash = hashValue(v.value);
                    const approvals = approve ? [{ rule: 'r1', request_hash: hash }, { rule: 'r2', request_hash: hash }] : [];
                    const d = await engine.decide(request, { approvals });
                    const label = JSON.stringify({ def, onError, v1, v2, e1, e2, approve, badBudget, effect: d.effect });
                    assert.equal(d.reservation !== null, d.effect === 'allow', label);
                    assert.equal(store.inspect(T0).reservations.length, d.effect === 'allow' ? 1 : 0, label);
                    checked++;
                  }
                }
              }
            }
          }
        }
      }
    }
    assert.equal(checked, 2 * 2 * 4 * 4 * 4 * 2 * 2 * 2);
  });
});

describe('MemoryBudgetStore entries', () => {
  const item = (counterKey: string, charge: number) => ({ counterKey, limit: 100, charge, expiresAt: null, enforce: true });

  it('the same counter twice in one reservation reserves the sum and settles once', () => {
    const s = new MemoryBudgetStore();
    const r = s.reserveSync({ reservationId: 'r1', now: 0, ttlMs: 1000, commit: true, items: [item('k', 10), item('k', 5)] });
    assert.equal(r.committed, true);
    assert.deepEqual(s.peekSync(['k'], 0), [{ spent: 0, reserved: 15 }]);
    assert.deepEqual(s.inspect(0).counters.k, { spent: 0, reserved: 15, pending: 1 });
    assert.deepEqual(s.settleSync('r1', [{ counterKey: 'k', amount: 7 }], 1), { found: true });
    assert.deepEqual(s.peekSync(['k'], 1), [{ spent: 7, reserved: 0 }]);
  });

  it('a settled reservation is not expired again by the heap, an unsettled one is', () => {
    const s = new MemoryBudgetStore();
    s.reserveSync({ reservationId: 'a', now: 0, ttlMs: 100, commit: true, items: [item('k', 10)] });
    s.reserveSync({ reservationId: 'b', now: 0, ttlMs: 200, commit: true, items: [item('k', 20)] });
    s.settleSync('a', [{ counterKey: 'k', amount: 1 }], 50);
    assert.deepEqual(s.peekSync(['k'], 150), [{ spent: 1, reserved: 20 }]);
    assert.deepEqual(s.peekSync(['k'], 250), [{ spent: 21, reserved: 0 }]);
    // late settle of the expired one corrects by the difference
    s.settleSync('b', [{ counterKey: 'k', amount: 5 }], 260);
    assert.deepEqual(s.peekSync(['k'], 260), [{ spent: 6, reserved: 0 }]);
    assert.equal(s.inspect(260).counters.k!.pending, 0);
  });

  it('the heap stays correct under many out-of-order expiries with settles in between', () => {
    const s = new MemoryBudgetStore();
    const ttl = (i: number) => ((i * 7919) % 1000) + 1;
    let expectSpent = 0;
    for (let i = 0; i < 300; i++) {
      const r = s.reserveSync({ reservationId: `r${i}`, now: 0, ttlMs: ttl(i), commit: true, items: [{ ...item('k', 1), limit: 1000 }] });
      assert.equal(r.committed, true);
    }
    for (let i = 0; i < 300; i += 3) {
      s.settleSync(`r${i}`, [{ counterKey: 'k', amount: 0 }], 0);
    }
    for (let t = 0; t <= 1001; t += 50) {
      expectSpent = 0;
      let reserved = 0;
      for (let i = 0; i < 300; i++) {
        if (i % 3 === 0) continue;
        if (ttl(i) <= t) expectSpent++;
        else reserved++;
      }
      assert.deepEqual(s.peekSync(['k'], t), [{ spent: expectSpent, reserved }], `at ${t}`);
    }
  });
});
