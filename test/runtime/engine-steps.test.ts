// The decide algorithm runs each step once: a store failure makes the decision from the entries
// gathered so far, without validating or evaluating the rules a second time, and without an exception
// unwinding through the generated code (regression: the fused path threw out of the generated function
// and the engine then re-validated and re-ran every rule to build the failure decision).

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import type { BudgetStore } from '../../language/runtime/store.js';
import type { BudgetExplanation, Decision } from '../../language/runtime/decision.js';

const T0 = new Date('2026-11-24T10:00:00Z');
const SRC = `policy steps { default allow  on error deny  currency "USD" }
input { tool: string, cost: money }
rule shell { when tool == "shell"  warn "shell" }
budget daily { limit $10 per day  charge cost }
`;

function counted(codegen: boolean) {
  const p = compile({ 'p.rein': SRC }, { codegen });
  const calls = { validate: 0, rules: 0, fused: 0 };
  const c = p.compiled;
  const validate = c.validate;
  c.validate = (r) => (calls.validate++, validate(r));
  const evaluateRules = c.evaluateRules;
  c.evaluateRules = (env, o) => (calls.rules++, evaluateRules(env, o));
  const fused = c.fused;
  if (fused) c.fused = (...a) => (calls.fused++, fused(...a));
  return { p, calls };
}

describe('Engine: decide runs each step once', () => {
  for (const codegen of [true, false]) {
    it(`a store failing at reserve: the decision from the rules already evaluated (${codegen ? 'fused' : 'general'} path)`, async () => {
      const { p, calls } = counted(codegen);
      const store = new MemoryBudgetStore();
      // A synchronous store whose reserve fails (the engine still takes its synchronous path).
      store.reserveSync = () => {
        throw new Error('disk on fire');
      };
      const e = new Engine(p, { store, clock: () => T0 });
      const d = await e.decide({ tool: 'shell', cost: '1' });
      assert.equal(d.effect, 'deny');
      assert.deepEqual(d.errors.map((x) => [x.kind, x.message]), [['store', 'budget store failed: disk on fire']]);
      assert.deepEqual(d.warnings.map((w) => w.name), ['shell'], 'the rules evaluated before the store call are in the decision');
      assert.equal(d.budgets[0]!.name, 'daily');
      assert.equal(d.reservation, null);
      if (codegen) assert.deepEqual(calls, { validate: 0, rules: 0, fused: 1 }, 'one fused pass, nothing run again');
      else assert.deepEqual(calls, { validate: 1, rules: 1, fused: 0 }, 'validated once, rules once');
    });
  }
});

describe('Engine: one algorithm, two drivers', () => {
  const src = `policy drivers { default allow  on error deny  currency "USD" }
input { who: string, cost: money, loud?: bool }
rule near_limit { when daily.used > 0.5  warn "over half" }
rule shout { when loud ?? false  require approval from "lead" "loud" }
budget daily { limit $3 per day  charge cost  by who  on exceed deny "out of money" }
`;
  /** The same memory store, but reached through its async methods (the asynchronous driver). */
  class AsyncMemory extends MemoryBudgetStore {
    override async reserve(...a: Parameters<MemoryBudgetStore['reserve']>) {
      await Promise.resolve();
      return super.reserve(...a);
    }
  }
  const plain = (d: unknown) => {
    const j = JSON.parse(JSON.stringify(d)) as { reservation: unknown };
    if (j.reservation) j.reservation = 'kept';
    return j;
  };

  it('the synchronous and the asynchronous driver give the same decisions (views, approvals, reserve, release)', async () => {
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': src }, { codegen });
      const a = new Engine(p, { store: new MemoryBudgetStore(), clock: () => T0 });
      const b = new Engine(p, { store: new AsyncMemory(), clock: () => T0 });
      const reqs = [
        { who: 'a', cost: '1' },
        { who: 'a', cost: '1' },
        { who: 'a', cost: '0.5', loud: true },
        { who: 'a', cost: '2' },
        { who: 'b', cost: 'x' },
        { who: 'a', cost: '0.5' },
      ];
      for (const r of reqs) {
        const h = p.requestHash(r);
        const opts = r.loud && h ? { approvals: [{ rule: "shout", request_hash: h }] } : {};
        assert.deepEqual(plain(await b.decide(r, opts)), plain(await a.decide(r, opts)), JSON.stringify(r));
      }
    }
  });
});

describe('Engine: explain covers budgets', () => {
  const src = `policy ex { default allow  on error deny  currency "USD" }
input { who: string, cost: money, kind: string }
budget daily { limit $3 per day  charge cost  by who  on exceed deny "out of money" }
budget emails { limit 2 per hour  charge 1  by who  when kind == "email" }
budget cap { limit $2 per request  charge cost  on exceed warn "a big one" }
`;
  for (const codegen of [true, false]) {
    it(`every budget, applied or not, with its numbers and why — from the decision's own outcomes (${codegen ? 'codegen' : 'closures'})`, async () => {
      const e = new Engine(compile({ 'p.rein': src }, { codegen }), { clock: () => T0 });
      const d1 = await e.decide({ who: 'a', cost: '1', kind: 'tool' }, { explain: true });
      const x1 = d1.explain_budgets!;
      assert.deepEqual(x1.map((x) => [x.name, x.applied]), [['daily', true], ['emails', false], ['cap', true]]);
      const daily = x1[0]!;
      assert.deepEqual(
        { key: daily.key, limit: daily.limit, spent: daily.spent, reserved: daily.reserved, charge: daily.charge, remaining: daily.remaining, exceeded: daily.exceeded, enforced: daily.enforced, on_exceed: daily.on_exceed },
        { key: ['a'], limit: '3.000000', spent: '0.000000', reserved: '0.000000', charge: '1.000000', remaining: '2.000000', exceeded: false, enforced: true, on_exceed: 'deny' },
      );
      assert.match(daily.why, /within the limit; the charge is reserved/);
      assert.deepEqual(daily.window, d1.budgets[0]!.window);
      assert.match(x1[1]!.why, /not applied/);
      assert.equal(x1[1]!.limit, 2);
      assert.deepEqual(x1[1]!.window, { start: '2026-11-24T10:00:00.000Z', end: '2026-11-24T11:00:00.000Z' });
      assert.match(x1[2]!.why, /per-request cap; this charge is within the limit/);

      const d2 = await e.decide({ who: 'a', cost: '2.5', kind: 'tool' }, { explain: true });
      assert.equal(d2.effect, 'deny');
      const [daily2, , cap2] = d2.explain_budgets!;
      assert.equal(daily2!.reserved, '1.000000');
      assert.equal(daily2!.exceeded, true);
      assert.match(daily2!.why, /exceeds the limit, and exceeding it blocks/);
      assert.equal(cap2!.exceeded, true);
      assert.equal(cap2!.enforced, false);
      // Only when asked.
      assert.equal((await e.decide({ who: 'b', cost: '1', kind: 'tool' })).explain_budgets, undefined);
      // The JSON of the decision carries it, and the decision schema accepts it.
      const j = JSON.parse(JSON.stringify(d2)) as { explain_budgets: unknown[] };
      assert.equal(j.explain_budgets.length, 3);
      assert.equal(decisionSchema.safeParse(j).success, true);
    });
  }
});

describe('Engine: explain says why for every way a budget can go', () => {
  const src = `policy why { default allow  on error deny  currency "USD" }
input { team: string, cost: money, kind: string, blocked?: bool }
let caps: map<money> = { support: $5, research: $100 }
rule stop { when blocked ?? false  deny "blocked" }
budget per_team { limit caps[team] per day  charge cost  by team  when kind == "llm" }
budget ratio { limit $10 per day  charge cost / 0  when kind == "odd" }
@monitor
budget watched { limit $1 per day  charge cost }
`;
  for (const codegen of [true, false]) {
    it(`a limit from data when not applied, a failing charge, monitor, nothing reserved, a failed store (${codegen ? 'codegen' : 'closures'})`, async () => {
      const p = compile({ 'p.rein': src }, { codegen });
      const e = new Engine(p, { clock: () => T0 });
      const by = (d: Decision): Record<string, BudgetExplanation> => Object.fromEntries((d.explain_budgets ?? []).map((b) => [b.name, b]));

      // Not applied: the limit this request would be held to (regression: the constant 0 was shown).
      let x = by(await e.decide({ team: 'research', cost: '2', kind: 'tool' }, { explain: true }));
      assert.equal(x.per_team!.applied, false);
      assert.equal(x.per_team!.limit, '100.000000');
      // Not applied, and the limit cannot be read for this request: 0, and why says so.
      x = by(await e.decide({ team: 'sales', cost: '2', kind: 'tool' }, { explain: true }));
      assert.equal(x.per_team!.limit, '0.000000');
      assert.match(x.per_team!.why, /^not applied: .*; its limit fails for this request \(the limit is null/);
      // A charge that fails: applied, failed, with the error.
      x = by(await e.decide({ team: 'support', cost: '2', kind: 'odd' }, { explain: true }));
      assert.match(x.ratio!.why, /^applied, and failed \(.+\): it counts with the `on error` effect/);
      assert.ok(x.ratio!.error);
      // `@monitor`: exceeding does not block.
      assert.equal(x.watched!.exceeded, true);
      assert.match(x.watched!.why, /exceeds the limit; it does not block/);
      // A decision that does not allow reserves nothing.
      x = by(await e.decide({ team: 'support', cost: '0.5', kind: 'llm', blocked: true }, { explain: true }));
      assert.match(x.per_team!.why, /within the limit; nothing reserved \(the decision does not allow/);
      // The store fails: the counters are unknown.
      const store = new MemoryBudgetStore();
      store.reserveSync = () => {
        throw new Error('disk on fire');
      };
      const f = new Engine(p, { store, clock: () => T0 });
      x = by(await f.decide({ team: 'support', cost: '0.5', kind: 'llm' }, { explain: true }));
      assert.match(x.per_team!.why, /the budget store failed, so its counters are unknown/);
    });
  }
});

describe('Engine: stores declare sync support', () => {
  it('any store declaring a synchronous twin gets the fast path; one declaring none is awaited', async () => {
    const mem = new MemoryBudgetStore();
    let asyncCalls = 0;
    const wrap = (sync: boolean): BudgetStore => ({
      reserve: async (r) => (asyncCalls++, mem.reserve(r)),
      peek: async (k, n) => (asyncCalls++, mem.peek(k, n)),
      settle: async (i, a, n) => (asyncCalls++, mem.settle(i, a, n)),
      release: async (i, n) => (asyncCalls++, mem.release(i, n)),
      addSpent: async (k, a, e, n) => (asyncCalls++, mem.addSpent(k, a, e, n)),
      synchronous: sync ? mem : null,
    });
    for (const sync of [true, false]) {
      asyncCalls = 0;
      const { p, calls } = counted(true);
      const e = new Engine(p, { store: wrap(sync), clock: () => T0 });
      const d = await e.decide({ tool: 'x', cost: '1' });
      assert.ok(d.reservation);
      await e.settle(d);
      assert.equal(calls.fused, sync ? 1 : 0, `fused path iff sync support (sync=${sync})`);
      assert.equal(asyncCalls, sync ? 0 : 2, 'async methods only without sync support');
    }
    assert.equal(new MemoryBudgetStore().synchronous !== null, true);
    class Slow extends MemoryBudgetStore {
      override async reserve(r: Parameters<MemoryBudgetStore['reserve']>[0]) {
        return super.reserve(r);
      }
    }
    assert.equal(new Slow().synchronous, null, 'a subclass overriding an async method declares none');
  });
});
