// Engine option `settleGraceMs`: how long after a reservation expires the engine keeps what `settle`
// needs. Within it a late settle corrects the estimate (counted as spent at expiry); after it the
// settle changes nothing and the estimate stands, as for a reservation this engine never made.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { TWO_BUDGETS } from './two-budgets-policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';

const T0 = new Date('2026-11-24T10:00:00Z').getTime();
const TTL = 15 * 60 * 1000;
const MIN = 60 * 1000;
const usd = (n: number) => Math.round(n * 1e6);
const policy = compile({ 'p.rein': TWO_BUDGETS });
const kept = (engine: Engine): number => (engine as unknown as { pending: { size: number } }).pending.size;

function setup(settleGraceMs?: number) {
  const at = { t: T0 };
  const store = new MemoryBudgetStore();
  const engine = new Engine(policy, { store, clock: () => new Date(at.t), reservationTtlMs: TTL, ...(settleGraceMs === undefined ? {} : { settleGraceMs }) });
  const req = { user: 'ann', team: 'ops', cost: { estimate: '2' } };
  const key = engine.counterKeyFor(req, 'per_user', new Date(T0))!;
  return { at, store, engine, req, spent: (t: number) => store.peekSync([key], t)[0] };
}

describe('Engine option settleGraceMs', () => {
  it('a late settle within the grace corrects the expired estimate', async () => {
    const { at, engine, req, spent } = setup(10 * MIN);
    const d = await engine.decide(req);
    at.t = T0 + TTL + 10 * MIN - 1;
    assert.deepEqual(spent(at.t), { spent: usd(2), reserved: 0 }, 'expired: the estimate counts as spent');
    await engine.settle(d, { cost: { estimate: '0.5' } });
    assert.deepEqual(spent(at.t), { spent: usd(0.5), reserved: 0 });
    await assert.rejects(engine.settle(d, {}), /already settled/);
  });

  it('after the grace a settle changes nothing (the estimate stands), and the data is forgotten', async () => {
    const { at, engine, req, spent } = setup(10 * MIN);
    const d = await engine.decide(req);
    assert.equal(kept(engine), 1);
    at.t = T0 + TTL + 10 * MIN;
    await engine.settle(d, { cost: { estimate: '0.5' } });
    assert.deepEqual(spent(at.t), { spent: usd(2), reserved: 0 });
    // a later decision purges what is past its grace (at most once a minute of decision time)
    at.t += MIN;
    await engine.decide({ user: 'bo', team: 'ops', cost: { estimate: '1' } });
    assert.equal(kept(engine), 1, 'only the new reservation is kept');
  });

  it('0 forgets a reservation at its expiry; before it, settle works as usual', async () => {
    const { at, engine, req, spent } = setup(0);
    const d1 = await engine.decide(req);
    const d2 = await engine.decide(req);
    at.t = T0 + TTL - 1;
    await engine.settle(d1, { cost: { estimate: '1' } });
    assert.deepEqual(spent(at.t), { spent: usd(1), reserved: usd(2) });
    at.t = T0 + TTL;
    await engine.settle(d2, { cost: { estimate: '0' } });
    assert.deepEqual(spent(at.t), { spent: usd(3), reserved: 0 }, 'the expired estimate stands');
  });

  it('the default keeps a reservation 24 h past its expiry', async () => {
    const { at, engine, req, spent } = setup();
    const d = await engine.decide(req);
    at.t = T0 + TTL + 24 * 60 * MIN - 1;
    await engine.settle(d, { cost: { estimate: '1' } });
    assert.deepEqual(spent(at.t - 1), { spent: usd(1), reserved: 0 });
  });

  it('a negative, fractional or non-number grace is a RangeError', () => {
    for (const g of [-1, 1.5, Number.NaN, Infinity, '5' as unknown as number]) {
      assert.throws(() => new Engine(policy, { settleGraceMs: g }), RangeError, String(g));
    }
  });
});
