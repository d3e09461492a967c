// With the budget store down, a decision's `budgets` rows say the counters are unknown (spent,
// reserved and remaining null) instead of showing zeros that were never read (session 11, R8), and
// what can be known without the store still holds: a `per request` cap, and a charge that alone is
// over a limit, are exceeded — also under `on error allow` (regression: both were allowed then).
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { decisionJsonText } from '../../language/node/serve/decision-json.js';
import type { ReserveRequest } from '../../language/runtime/store.js';

const SRC = (onError: string) => ({
  'p.rein': `policy p {
  default allow
  on error ${onError}
}
input { cost: money, team: string }
budget cap {
  limit $1 per request
  charge cost
}
budget daily {
  limit $10 per day
  charge cost
  by team
}
`,
});

/** A store whose reserve fails, synchronously (the fused path) or not. */
class DownSync extends MemoryBudgetStore {
  override reserveSync(_r: ReserveRequest): never {
    throw new Error('connection refused');
  }
}
class DownAsync extends MemoryBudgetStore {
  override async reserve(_r: ReserveRequest): Promise<never> {
    throw new Error('connection refused');
  }
}

describe('budgets with the store down', () => {
  for (const codegen of [true, false]) {
    for (const Store of [DownSync, DownAsync]) {
      const label = `(codegen ${codegen}, ${Store.name})`;

      it(`rows of counted budgets show unknown counters as null ${label}`, async () => {
        const e = new Engine(compile(SRC('deny'), { codegen }), { store: new Store() });
        const d = await e.decide({ cost: '0.50', team: 't' });
        assert.equal(d.effect, 'deny');
        assert.match(d.errors.map((x) => x.message).join('\n'), /budget store failed: connection refused/);
        const daily = d.budgets.find((b) => b.name === 'daily')!;
        assert.deepEqual([daily.limit, daily.spent, daily.reserved, daily.charge, daily.remaining, daily.exceeded], ['10.000000', null, null, '0.500000', null, false]);
        // A per-request cap needs no store: its row is what it always is.
        const cap = d.budgets.find((b) => b.name === 'cap')!;
        assert.deepEqual([cap.spent, cap.remaining, cap.exceeded], ['0.000000', '0.500000', false]);
        assert.equal(decisionSchema.safeParse(JSON.parse(JSON.stringify(d))).success, true);
        // The service's serializer writes the same JSON.
        assert.deepEqual(JSON.parse(decisionJsonText(d)), JSON.parse(JSON.stringify(d)));
      });

      it(`under \`on error allow\`, an over-the-cap charge and a charge alone over a limit are still denied ${label}`, async () => {
        const e = new Engine(compile(SRC('allow'), { codegen }), { store: new Store() });
        assert.equal((await e.decide({ cost: '0.50', team: 't' })).effect, 'allow', 'the store error alone allows (on error allow)');
        const overCap = await e.decide({ cost: '5', team: 't' });
        assert.equal(overCap.effect, 'deny');
        assert.deepEqual(overCap.reasons.map((r) => r.name), ['cap']);
        const overDaily = await e.decide({ cost: '0.80', team: 't' }); // within the cap
        assert.equal(overDaily.effect, 'allow');
        const e2 = new Engine(compile({ 'p.rein': SRC('allow')['p.rein'].replace('limit $1 per request', 'limit $100 per request') }, { codegen }), { store: new Store() });
        const d = await e2.decide({ cost: '50', team: 't' });
        assert.equal(d.effect, 'deny', JSON.stringify(d.reasons));
        assert.deepEqual(d.reasons.map((r) => r.name), ['daily']);
        assert.equal(d.budgets.find((b) => b.name === 'daily')!.exceeded, true);
      });
    }
  }

  it('`explain_budgets` shows the unknown counters as null too', async () => {
    const e = new Engine(compile(SRC('deny')), { store: new DownAsync() });
    const d = await e.decide({ cost: '0.50', team: 't' }, { explain: true });
    const x = d.explain_budgets!.find((b) => b.name === 'daily')!;
    assert.deepEqual([x.spent, x.reserved, x.remaining], [null, null, null]);
    assert.match(x.why, /counters are unknown/);
  });
});
