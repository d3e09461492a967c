// settle starts from the validated request (no copy of the caller's object at decide time): money and
// times are turned back into request form, so the merged request validates to the same values, and
// the caller mutating its object after decide changes nothing.

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';

const T0 = new Date('2026-11-24T10:00:00Z').getTime();
const usd = (n: number) => Math.round(n * 1e6);

const source = `
input {
  user: string
  cost: { estimate: money, fees?: map<money> }
  at: time
  wait: duration
  stamps: list<time>
  args?: map<any>
}

budget spend {
  limit $100 per day
  charge (if hour(at) == 9 and wait >= 1m and len(stamps) == 2 and hour(stamps[1] ?? at) == 11 then cost.estimate else $0) + (cost.fees["x"] ?? $0)
  by user
}
`;

function setup() {
  const store = new MemoryBudgetStore();
  const engine = new Engine(compile({ 'p.rein': source }), { store, clock: () => new Date(T0) });
  return { store, engine, spent: (user: string) => store.peekSync([engine.counterKeyFor({ user, cost: { estimate: 0 }, at: new Date(T0), wait: 0, stamps: [] }, 'spend')!], T0)[0] };
}

describe('Engine.settle from the validated request', () => {
  it('money, times, durations, lists and maps survive the round trip; caller mutations after decide do not count', async () => {
    const { engine, spent } = setup();
    const request = {
      user: 'ann',
      cost: { estimate: 1.5, fees: { x: '0.25', y: 3 } },
      at: '2026-11-24T09:30:00Z',
      wait: '90s',
      stamps: [new Date('2026-11-24T10:00:00Z'), '2026-11-24T11:15:00.123Z'],
      args: { when: new Date(T0), n: [1, { k: 'v' }] },
    };
    const d = await engine.decide(request);
    assert.equal(d.effect, 'allow');
    assert.deepEqual(spent('ann'), { spent: 0, reserved: usd(1.75) });
    request.user = 'bob';
    request.cost.estimate = 90;
    request.stamps.pop();
    request.at = '2026-11-24T15:00:00Z';
    await engine.settle(d); // no usage: the estimate, recomputed from the request as it was
    assert.deepEqual(spent('ann'), { spent: usd(1.75), reserved: 0 });
    assert.deepEqual(spent('bob'), { spent: 0, reserved: 0 });
  });

  it('usage merges into the request form (objects merge, scalars replace)', async () => {
    const { engine, spent } = setup();
    const d = await engine.decide({ user: 'ann', cost: { estimate: '2', fees: { x: 0.5 } }, at: '2026-11-24T09:00:00Z', wait: 60_000, stamps: ['2026-11-24T09:00:00Z', '2026-11-24T11:00:00Z'] });
    assert.deepEqual(spent('ann'), { spent: 0, reserved: usd(2.5) });
    await engine.settle(d, { cost: { estimate: '0.000001' } });
    assert.deepEqual(spent('ann'), { spent: usd(0.5) + 1, reserved: 0 });
  });

  it('a usage that changes a time or a duration re-evaluates the charge with it', async () => {
    const { engine, spent } = setup();
    const d = await engine.decide({ user: 'cy', cost: { estimate: '4' }, at: '2026-11-24T09:00:00Z', wait: '5m', stamps: ['2026-11-24T09:00:00Z', '2026-11-24T11:00:00Z'] });
    assert.deepEqual(spent('cy'), { spent: 0, reserved: usd(4) });
    await engine.settle(d, { wait: '30s' });
    assert.deepEqual(spent('cy'), { spent: 0, reserved: 0 });
  });

  it('with explain, the request as given is copied (explanations may expose parts of the validated one)', async () => {
    const { engine, spent } = setup();
    const request = { user: 'dee', cost: { estimate: '1' }, at: '2026-11-24T09:00:00Z', wait: '2m', stamps: ['2026-11-24T09:00:00Z', '2026-11-24T11:00:00Z'] };
    const d = await engine.decide(request, { explain: true });
    request.cost.estimate = '50';
    await engine.settle(d);
    assert.deepEqual(spent('dee'), { spent: usd(1), reserved: 0 });
  });

  it('money nested beside fields that need no conversion is converted before merging; the rest is shared', async () => {
    const src = `
type Leaf = { price: money, note?: string }
type Mid = { price: money, child?: Leaf, tags?: list<string> }
input { user: string, item: { price: money, child?: Mid, meta?: { n: int } } }
budget spend {
  limit $100 per day
  charge item.price + (item.child.price ?? $0) + (item.child.child.price ?? $0)
  by user
}
`;
    const store = new MemoryBudgetStore();
    const engine = new Engine(compile({ 'p.rein': src }), { store, clock: () => new Date(T0) });
    const key = engine.counterKeyFor({ user: 'ann', item: { price: 0 } }, 'spend')!;
    const d = await engine.decide({ user: 'ann', item: { price: '1', meta: { n: 3 }, child: { price: '0.5', tags: ['a'], child: { price: '0.25', note: 'x' } } } });
    assert.deepEqual(store.peekSync([key], T0), [{ spent: 0, reserved: usd(1.75) }]);
    await engine.settle(d, { item: { price: '2' } }); // merges: the children keep their prices
    assert.deepEqual(store.peekSync([key], T0), [{ spent: usd(2.75), reserved: 0 }]);
  });

  it('settle without usage (or with an empty object) charges the estimate', async () => {
    const { engine, spent } = setup();
    const req = { user: 'cy', cost: { estimate: '2.5' }, at: '2026-11-24T09:30:00Z', wait: '2m', stamps: ['2026-11-24T10:00:00Z', '2026-11-24T11:00:00Z'] };
    const a = await engine.decide(req);
    const b = await engine.decide({ ...req });
    assert.deepEqual(spent('cy'), { spent: 0, reserved: usd(5) });
    await engine.settle(a);
    await engine.settle(b, {});
    assert.deepEqual(spent('cy'), { spent: usd(5), reserved: 0 });
    await assert.rejects(engine.settle(b, {}), /already settled/);
  });
});
