// `settle` merges the usage into the request fields the charges read (settle-data.ts `settlePaths`)
// and validates the result against the input type with every other field optional (`settleType`).
// "Optional" must hold at every depth: a usage that names part of an object no charge reads
// (`{ agent: { team: "t" } }` with `agent: { id, team }` required) settles as merging it into the
// whole request would (review h11r R2: it was refused, "$.agent.id: missing required field"), while a
// usage field of the wrong declared type is still refused.

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';

const T0 = new Date('2026-11-24T10:00:00Z').getTime();
const usd = (n: number) => Math.round(n * 1e6);

const SOURCE = `
input {
  agent: { id: string, team: string }
  action: { kind: string, tool?: string }
  meta: { owner: { name: string, org: string } }
  labels: map<{ a: string, b: string }>
  steps: list<{ tool: string, ok: bool }>
  cost: { estimate: money, currency: string }
}
budget spend {
  limit $100 per day
  charge cost.estimate
  by agent.team
}
`;
const REQUEST = {
  agent: { id: 'a1', team: 't' },
  action: { kind: 'model_call' },
  meta: { owner: { name: 'ann', org: 'o' } },
  labels: { x: { a: '1', b: '2' } },
  steps: [{ tool: 'search', ok: true }],
  cost: { estimate: '0.40', currency: 'USD' },
};

function setup() {
  const store = new MemoryBudgetStore();
  const engine = new Engine(compile({ 'p.rein': SOURCE }), { store, clock: () => new Date(T0) });
  const key = engine.counterKeyFor(REQUEST, 'spend')!;
  return { engine, spent: () => store.peekSync([key], T0)[0] };
}

describe('settle: a usage naming part of a field no charge reads', () => {
  it('settles as the usage merged into the whole request would, at any depth', async () => {
    const { engine, spent } = setup();
    const usages = [
      { agent: { team: 't' }, cost: { estimate: '0.10' } },
      { action: { tool: 'x' }, cost: { estimate: '0.10' } },
      { meta: { owner: { org: 'p' } }, cost: { estimate: '0.10' } },
      { labels: { x: { a: '3' } }, cost: { estimate: '0.10' } },
      { cost: { currency: 'EUR', estimate: '0.10' } },
    ];
    for (const usage of usages) {
      const d = await engine.decide(REQUEST);
      assert.equal(d.effect, 'allow');
      await engine.settle(d, usage);
    }
    assert.deepEqual(spent(), { spent: usd(0.5), reserved: 0 });
  });

  it('a usage field of the wrong declared type is still refused, and the reservation stays for a retry', async () => {
    const { engine, spent } = setup();
    for (const usage of [{ agent: { team: 5 } }, { action: { tool: 7 } }, { meta: { owner: { org: 1 } } }, { labels: { x: { a: 2 } } }, { cost: { currency: false } }, { steps: [{ tool: 'x', ok: 'yes' }] }]) {
      const d = await engine.decide(REQUEST);
      await assert.rejects(engine.settle(d, usage), /settle: the request merged with the usage is invalid/, JSON.stringify(usage));
      await engine.settle(d, { cost: { estimate: '0' } });
    }
    assert.deepEqual(spent(), { spent: 0, reserved: 0 });
  });

  it("a list in the usage replaces the request's list, so its elements are checked in full (as before)", async () => {
    const { engine } = setup();
    const d = await engine.decide(REQUEST);
    await assert.rejects(engine.settle(d, { steps: [{ tool: 'x' }] }), /steps\[0\]\.ok/);
  });
});
