// The decide algorithm runs each step once: a store failure makes the decision from the entries
// gathered so far, without validating or evaluating the rules a second time, and without an exception
// unwinding through the generated code (regression: the fused path threw out of the generated function
// and the engine then re-validated and re-ran every rule to build the failure decision).

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';

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
