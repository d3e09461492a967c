// Host functions (`extern def`) reached where the gather pass of `Engine.decide` used not to look:
// in `redact` rules, and behind a budget view (`team.used >= 50% and judge(prompt)`). Review findings
// of session 7: both used to fail (and, with `on error allow`, to let the request through unmasked or
// unjudged).
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { applyTransforms } from '../../language/runtime/transforms.js';
import type { BudgetStore } from '../../language/runtime/store.js';

const KEY = 'AKIAIOSFODNN7EXAMPLE';

/** The memory store without its synchronous twin: the engine then takes its asynchronous path. */
function asyncOnly(memory: MemoryBudgetStore): BudgetStore {
  return new Proxy(memory, { get: (t, k) => (k === 'synchronous' ? undefined : Reflect.get(t, k, t)) }) as BudgetStore;
}

describe('externs: calls in redact rules and behind budget views', () => {
  const redactSrc = `policy p { default allow  on error allow }
input { prompt: string }
extern def is_internal(text: string): bool on error deny
rule mask {
  unless is_internal(prompt)
  redact prompt using secrets.any
}
`;

  for (const kind of ['sync', 'async'] as const) {
    it(`a redact rule calls a ${kind} extern: the secret is masked (evaluate and decide)`, async () => {
      const externs = { is_internal: kind === 'sync' ? (_t: string) => false : async (_t: string) => false };
      const policy = compile({ 'p.rein': redactSrc }, { externs });
      const req = { prompt: `key ${KEY} here` };
      const decided = await new Engine(policy, { externs }).decide(req);
      assert.deepEqual(decided.errors, []);
      assert.equal((applyTransforms(req, decided) as { prompt: string }).prompt, 'key [REDACTED] here');
      assert.deepEqual(decided.externs, [{ name: 'is_internal', args: [req.prompt], value: false }]);
      if (kind === 'sync') {
        const evaluated = policy.evaluate(req);
        assert.deepEqual(evaluated.errors, []);
        assert.equal((applyTransforms(req, evaluated) as { prompt: string }).prompt, 'key [REDACTED] here');
      }
    });
  }

  it("a redact rule whose extern fails counts with the extern's `on error` (deny), not the policy's allow", async () => {
    const externs = { is_internal: async (_t: string) => { throw new Error('classifier down'); } };
    const d = await new Engine(compile({ 'p.rein': redactSrc }, { externs }), { externs }).decide({ prompt: `key ${KEY}` });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors.map((e) => e.message).join('\n'), /classifier down/);
  });

  const viewSrc = `policy p { default allow  on error deny }
input { team: string, prompt: string, cost: int }
extern def unsafe(text: string): bool timeout 500ms on error allow
budget team_daily {
  limit 10 per day
  charge cost
  by team
}
rule heavy_unsafe {
  when team_daily.used >= 50% and unsafe(prompt)
  deny "unsafe while the team is over half its budget"
}
`;
  const clock = () => new Date('2026-11-24T12:00:00Z');

  for (const store of ['memory (synchronous)', 'asynchronous'] as const) {
    it(`an async extern reached only once a budget view is known is awaited (${store} store)`, async () => {
      const memory = new MemoryBudgetStore();
      // The same store seen without its synchronous twin: the engine takes the asynchronous path.
      const s: BudgetStore = store === 'asynchronous' ? asyncOnly(memory) : memory;
      const externs = { unsafe: async (t: string) => t.includes('bad') };
      const eng = new Engine(compile({ 'p.rein': viewSrc }), { externs, store: s, clock });
      assert.equal((await eng.decide({ team: 'a', prompt: 'ok', cost: 6 })).effect, 'allow');
      const fine = await eng.decide({ team: 'a', prompt: 'fine text', cost: 1 });
      assert.equal(fine.effect, 'allow');
      assert.deepEqual(fine.errors, []);
      const bad = await eng.decide({ team: 'a', prompt: 'bad', cost: 1 });
      assert.equal(bad.effect, 'deny', JSON.stringify(bad.errors));
      assert.deepEqual(bad.errors, []);
      assert.deepEqual(bad.externs, [{ name: 'unsafe', args: ['bad'], value: true }]);
    });
  }
});
