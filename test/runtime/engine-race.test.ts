import { strict as assert } from 'node:assert';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore } from '../../language/runtime/store.js';
import { fakePolicy, usd } from './engine-fake-policy.js';

/** Adds random async delays around every store call, so concurrent decides interleave for real. */
function jittery(inner: MemoryBudgetStore): BudgetStore {
  const delay = () => new Promise<void>((r) => setTimeout(r, Math.floor(Math.random() * 5)));
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      await delay();
      const r = await f(...a);
      await delay();
      return r;
    };
  return {
    reserve: wrap((req) => inner.reserve(req)),
    peek: wrap((k, n) => inner.peek(k, n)),
    settle: wrap((id, a, n) => inner.settle(id, a, n)),
    release: wrap((id, n) => inner.release(id, n)),
    addSpent: wrap((k, a, e, n) => inner.addSpent(k, a, e, n)),
  };
}

describe('Engine: concurrent decisions', () => {
  it('1,000 concurrent decides on a ceiling with room for 100 allow exactly 100', async function () {
    this.timeout(60_000);
    const inner = new MemoryBudgetStore();
    const now = new Date('2026-11-24T10:00:00Z');
    // The rule reads the budget (a snapshot before the reservation) — it must not weaken the ceiling.
    const policy = fakePolicy({
      budgets: [{ name: 'team', limit: usd(1), key: () => ['t'] }],
      budgetsReadByRules: ['team'],
      rules: [{ name: 'watch', effect: 'warn', when: (env) => env.budgets.team!.used > 0.5 }],
    });
    const engine = new Engine(policy, { store: jittery(inner), clock: () => now });
    const decisions = await Promise.all(Array.from({ length: 1000 }, (_, i) => engine.decide({ user: `u${i}`, cost: '0.01' })));
    const allowed = decisions.filter((d) => d.effect === 'allow');
    assert.equal(allowed.length, 100);
    assert.equal(decisions.filter((d) => d.effect === 'deny').length, 900);
    assert.ok(allowed.every((d) => d.reservation !== null));
    const key = engine.counterKeyFor({ user: 'x' }, 'team')!;
    assert.deepEqual(await inner.peek([key], now.getTime()), [{ spent: 0, reserved: usd(1) }]);
    // Settling all of them concurrently keeps the total exact.
    await Promise.all(allowed.map((d) => engine.settle(d, {})));
    assert.deepEqual(await inner.peek([key], now.getTime()), [{ spent: usd(1), reserved: 0 }]);
  });
});
