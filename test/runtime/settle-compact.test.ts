// What the engine keeps per reservation for `settle` is compact (issue #20: a busy decision service
// holds one record per unsettled reservation until it expires, and one settled id per settle for a
// day): the kept record names the budgets and counter keys (no budget plans), and settled ids of the
// engine's own shape are bits in chunks (SettledIds), not map entries.

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { TWO_BUDGETS } from './two-budgets-policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { SettledIds } from '../../language/runtime/settled-ids.js';

/** The engine's settle data for a reservation (white box: its one home, settle-home.test.ts). */
const keptFor = (engine: Engine, id: string): unknown => (engine as unknown as { pending: { get(id: string): unknown } }).pending.get(id);

const T0 = new Date('2026-11-24T10:00:00Z').getTime();
const usd = (n: number) => Math.round(n * 1e6);

const source = TWO_BUDGETS;

describe('settle data kept per reservation', () => {
  it('keeps the budgets and counter keys, not the budget plans; settle corrects every counter', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(compile({ 'p.rein': source }), { store, clock: () => new Date(T0) });
    const req = { user: 'ann', team: 'ops', cost: { estimate: '0.50' } };
    const d = await engine.decide(req);
    assert.equal(d.effect, 'allow');
    // One array: time, budgets, counter keys, the request's form, then the validated request's leaves
    // (user, team, cost.estimate in micros): no record per object of the request.
    const kept = keptFor(engine, d.reservation!.id) as unknown[];
    assert.ok(Array.isArray(kept));
    const keys = [engine.counterKeyFor(req, 'per_user')!, engine.counterKeyFor(req, 'per_team')!];
    assert.equal(kept[0], T0);
    assert.deepEqual((kept[1] as { name: string }[]).map((b) => b.name), ['per_user', 'per_team']);
    assert.deepEqual(kept[2], keys);
    assert.equal(kept[3], 0, 'the leaves form');
    assert.deepEqual(kept.slice(4), ['ann', 'ops', usd(0.5)]);
    assert.deepEqual(store.peekSync(keys, T0), [
      { spent: 0, reserved: usd(0.5) },
      { spent: 0, reserved: usd(1) },
    ]);
    await engine.settle(d, { cost: { estimate: '0.20' } });
    assert.deepEqual(store.peekSync(keys, T0), [
      { spent: usd(0.2), reserved: 0 },
      { spent: usd(0.4), reserved: 0 },
    ]);
    await assert.rejects(engine.settle({ reservation: { id: d.reservation!.id } } as never, {}), /already settled/);
  });

  it('one counted budget is kept without arrays', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(compile({ 'p.rein': source.replace(/budget per_team[\s\S]*$/, '') }), { store, clock: () => new Date(T0) });
    const d = await engine.decide({ user: 'bo', team: 'ops', cost: { estimate: '1' } });
    const kept = keptFor(engine, d.reservation!.id) as unknown[];
    assert.equal(typeof kept[2], 'string');
    assert.equal((kept[1] as { name: string }).name, 'per_user');
    await engine.settle(d, {});
    const key = engine.counterKeyFor({ user: 'bo', team: 'x', cost: { estimate: 0 } }, 'per_user')!;
    assert.deepEqual(store.peekSync([key], T0), [{ spent: usd(1), reserved: 0 }]);
  });
});

describe('the kept request: leaves, or the tree when it has undeclared fields', () => {
  const policy = compile({
    'p.rein': `
input {
  user: string
  meta?: { tier: string, scale?: number }
  cost: { estimate: money }
}
budget spend {
  limit $100 per day
  charge if meta == null then cost.estimate else cost.estimate * (meta.scale ?? 3)
  by user
}
`,
  });
  const setup = () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(policy, { store, clock: () => new Date(T0) });
    const spent = (user: string) => store.peekSync([engine.counterKeyFor({ user, cost: { estimate: 0 } }, 'spend')!], T0)[0];
    return { engine, spent };
  };

  it('an absent optional object and a present one round-trip through the leaves', async () => {
    const { engine, spent } = setup();
    const a = await engine.decide({ user: 'ann', cost: { estimate: '1' } });
    const b = await engine.decide({ user: 'bo', meta: { tier: 'gold' }, cost: { estimate: '1' } });
    const c = await engine.decide({ user: 'cy', meta: { tier: 'gold', scale: 2 }, cost: { estimate: '1' } });
    for (const d of [a, b, c]) assert.equal((keptFor(engine, d.reservation!.id) as unknown[])[3], 0, 'kept as leaves');
    assert.deepEqual(spent('bo'), { spent: 0, reserved: usd(3) });
    // no usage: the same charge again, from the rebuilt request
    await engine.settle(a);
    await engine.settle(b);
    // usage merges into the rebuilt request (objects merge)
    await engine.settle(c, { meta: { scale: 1 } });
    assert.deepEqual(spent('ann'), { spent: usd(1), reserved: 0 });
    assert.deepEqual(spent('bo'), { spent: usd(3), reserved: 0 });
    assert.deepEqual(spent('cy'), { spent: usd(1), reserved: 0 });
  });

  it('a request with fields its type does not declare is kept as the validated tree, and settles the same', async () => {
    const { engine, spent } = setup();
    const d = await engine.decide({ user: 'di', extra: { a: [1, 2] }, meta: { tier: 't', note: 'x' }, cost: { estimate: '2' } });
    assert.equal((keptFor(engine, d.reservation!.id) as unknown[])[3], 1, 'the tree form');
    assert.deepEqual(spent('di'), { spent: 0, reserved: usd(6) });
    await engine.settle(d, { meta: { scale: 0.5 } });
    assert.deepEqual(spent('di'), { spent: usd(1), reserved: 0 });
  });
});

describe('SettledIds', () => {
  const P = 'abc123-';

  it('remembers engine-shaped ids as bits and other ids in a map, until their time', () => {
    const s = new SettledIds(P);
    s.add(`${P}1`, 1000);
    s.add(`${P}zz`, 2000);
    s.add('someone-else', 1500);
    assert.ok(s.has(`${P}1`) && s.has(`${P}zz`) && s.has('someone-else'));
    assert.ok(!s.has(`${P}2`) && !s.has(`${P}01`), 'a non-canonical spelling is another id');
    assert.ok(!s.has('someone'));
    assert.equal(s.size, 3);
    s.purge(1500);
    // the bit chunk lives until its latest id's time; the map entry is gone
    assert.ok(s.has(`${P}1`) && !s.has('someone-else'));
    s.purge(2000);
    assert.ok(!s.has(`${P}1`) && !s.has(`${P}zz`));
    assert.equal(s.size, 0);
  });

  it('only 1–10 lowercase base-36 digits in canonical spelling are bits; anything else is a map entry', () => {
    const s = new SettledIds(P);
    for (const id of [`${P}A`, `${P}1-2`, `${P}00`, `${P}zzzzzzzzzzz`, P, `${P}é`]) s.add(id, 10);
    s.add(`${P}zzzzzzzzzz`, 10);
    s.add(`${P}0`, 10);
    const chunks = (s as unknown as { chunks: Map<number, unknown> }).chunks;
    const other = (s as unknown as { other: Map<string, number> }).other;
    assert.equal(other.size, 6);
    assert.ok(chunks.has(Math.floor((36 ** 10 - 1) / 32_768)) && chunks.has(0));
    for (const id of [`${P}A`, `${P}1-2`, `${P}00`, `${P}zzzzzzzzzzz`, P, `${P}é`, `${P}zzzzzzzzzz`, `${P}0`]) assert.ok(s.has(id), id);
    assert.ok(!s.has(`${P}a`) && !s.has(`${P}1`));
  });

  it('delete forgets one id (a settle the store refused can be retried)', () => {
    const s = new SettledIds(P);
    s.add(`${P}a`, 10);
    s.add(`${P}b`, 10);
    s.delete(`${P}a`);
    assert.ok(!s.has(`${P}a`) && s.has(`${P}b`));
    s.add(`${P}01`, 10);
    s.delete(`${P}01`);
    assert.equal(s.size, 1);
  });

  it('ids far apart and in many chunks are distinct; a million ids are a few dozen chunks', () => {
    const s = new SettledIds(P);
    for (let n = 1; n <= 1_000_000; n += 3) s.add(P + n.toString(36), n);
    for (const n of [1, 4, 999_997, 32_767, 32_768, 32_770]) assert.equal(s.has(P + n.toString(36)), (n - 1) % 3 === 0, String(n));
    assert.equal(s.size, 333_334);
    assert.ok((s as unknown as { chunks: Map<number, unknown> }).chunks.size <= 31);
    assert.equal((s as unknown as { other: Map<string, number> }).other.size, 0);
    s.purge(500_000);
    assert.ok(!s.has(`${P}1`));
    assert.ok(s.has(P + (999_997).toString(36)));
  });
});
