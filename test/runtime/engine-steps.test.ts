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
