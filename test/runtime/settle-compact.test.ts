// What the engine keeps per reservation for `settle` is compact (issue #20: a busy decision service
// holds one record per unsettled reservation until it expires, and one settled id per settle for a
// day): the kept record names the budgets and counter keys (no budget plans) and keeps only the
// request fields the charges read, and settled ids of the engine's own shape are bits in chunks
// (SettledIds), not map entries.

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

/** A kept record's parts (settle-data.ts `Kept`). */
interface KeptView {
  at: number;
  budget: { name: string } | { name: string }[];
  key: string | string[];
  form: number;
  v: unknown;
}
const PATHS = 0;
const LEAVES = 1;
const TREE = 2;

describe('settle data kept per reservation', () => {
  it('keeps the budgets, counter keys and only the fields charges read; settle corrects every counter', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(compile({ 'p.rein': source }), { store, clock: () => new Date(T0) });
    const req = { user: 'ann', team: 'ops', cost: { estimate: '0.50' } };
    const d = await engine.decide(req);
    assert.equal(d.effect, 'allow');
    // One small object: time, budgets, counter keys, the form, and the one field both charges read
    // (cost.estimate in micros): not the user or the team, which no charge reads.
    const kept = keptFor(engine, d.reservation!.id) as KeptView;
    assert.ok(!Array.isArray(kept));
    const keys = [engine.counterKeyFor(req, 'per_user')!, engine.counterKeyFor(req, 'per_team')!];
    assert.equal(kept.at, 0, 'the first kept decision is the time base');
    assert.deepEqual((kept.budget as { name: string }[]).map((b) => b.name), ['per_user', 'per_team']);
    assert.deepEqual(kept.key, keys);
    assert.equal(kept.form, PATHS);
    assert.equal(kept.v, usd(0.5));
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
    const kept = keptFor(engine, d.reservation!.id) as KeptView;
    assert.equal(typeof kept.key, 'string');
    assert.equal((kept.budget as { name: string }).name, 'per_user');
    await engine.settle(d, {});
    const key = engine.counterKeyFor({ user: 'bo', team: 'x', cost: { estimate: 0 } }, 'per_user')!;
    assert.deepEqual(store.peekSync([key], T0), [{ spent: usd(1), reserved: 0 }]);
  });

  it('across id groups (1,296 ids each, kept without reading the id), every reservation settles', async () => {
    const store = new MemoryBudgetStore();
    const engine = new Engine(compile({ 'p.rein': source.replace(/budget per_team[\s\S]*$/, '') }), { store, clock: () => new Date(T0) });
    const ds = [];
    for (let i = 0; i < 2_700; i++) ds.push(await engine.decide({ user: 'u', team: 'ops', cost: { estimate: '0.01' } }));
    const key = engine.counterKeyFor({ user: 'u', team: 'x', cost: { estimate: 0 } }, 'per_user')!;
    assert.deepEqual(store.peekSync([key], T0), [{ spent: 0, reserved: usd(27) }]);
    for (const d of ds) assert.notEqual(keptFor(engine, d.reservation!.id), undefined);
    for (const d of ds) await engine.settle(d, { cost: { estimate: '0.02' } });
    assert.deepEqual(store.peekSync([key], T0), [{ spent: usd(54), reserved: 0 }]);
    await assert.rejects(engine.settle(ds[1_500]!), /already settled/);
  });

  it('a decision time after the first is kept as its offset, and settle evaluates the charge at it', async () => {
    const store = new MemoryBudgetStore();
    const at = { t: T0 };
    const engine = new Engine(compile({ 'p.rein': source.replace(/budget per_team[\s\S]*$/, '').replace('charge cost.estimate', 'charge if hour(now) == 10 then cost.estimate else $7') }), {
      store,
      clock: () => new Date(at.t),
    });
    await engine.decide({ user: 'x', team: 'ops', cost: { estimate: '1' } });
    at.t = T0 + 3_600_000; // 11:00: the charge is $7 at decision time
    const d = await engine.decide({ user: 'cy', team: 'ops', cost: { estimate: '1' } });
    assert.equal((keptFor(engine, d.reservation!.id) as KeptView).at, 3_600_000);
    at.t = T0; // settle later at another clock time: the charge still sees the decision's time
    await engine.settle(d, { cost: { estimate: '2' } });
    const key = engine.counterKeyFor({ user: 'cy', team: 'x', cost: { estimate: 0 } }, 'per_user', new Date(T0 + 3_600_000))!;
    assert.deepEqual(store.peekSync([key], T0 + 3_600_000), [{ spent: usd(7), reserved: 0 }]);
  });
});

describe('the kept request: the fields charges read, or every leaf when they cannot be known', () => {
  const schema = `
input {
  user: string
  meta?: { tier: string, scale?: number }
  cost: { estimate: money }
}
`;
  const make = (charge: string) => {
    const policy = compile({ 'p.rein': `${schema}\nbudget spend {\n  limit $100 per day\n  charge ${charge}\n  by user\n}\n` });
    const store = new MemoryBudgetStore();
    const engine = new Engine(policy, { store, clock: () => new Date(T0) });
    const spent = (user: string) => store.peekSync([engine.counterKeyFor({ user, cost: { estimate: 0 } }, 'spend')!], T0)[0];
    const kept = (d: { reservation: { id: string } | null }) => keptFor(engine, d.reservation!.id) as KeptView;
    return { engine, spent, kept };
  };

  it('an absent optional object and a present one round-trip through the kept fields', async () => {
    const { engine, spent, kept } = make('if meta == null then cost.estimate else cost.estimate * (meta.scale ?? 3)');
    const a = await engine.decide({ user: 'ann', cost: { estimate: '1' } });
    const b = await engine.decide({ user: 'bo', meta: { tier: 'gold' }, cost: { estimate: '1' } });
    const c = await engine.decide({ user: 'cy', meta: { tier: 'gold', scale: 2 }, cost: { estimate: '1' } });
    for (const d of [a, b, c]) assert.equal(kept(d).form, PATHS);
    // `meta` whole (the charge compares it with null), then cost.estimate; never the user
    assert.deepEqual(kept(a).v, [null, usd(1)]);
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

  it('a field inside an absent optional object is kept as "the object was null" and rebuilt so', async () => {
    const { engine, spent, kept } = make('cost.estimate * (meta.scale ?? 3)');
    const a = await engine.decide({ user: 'ann', cost: { estimate: '1' } });
    const b = await engine.decide({ user: 'bo', meta: { tier: 't', scale: 2 }, cost: { estimate: '1' } });
    assert.equal(kept(a).form, PATHS);
    assert.deepEqual(kept(b).v, [usd(1), 2]);
    await engine.settle(a, { cost: { estimate: '2' } });
    await engine.settle(b);
    assert.deepEqual(spent('ann'), { spent: usd(6), reserved: 0 });
    assert.deepEqual(spent('bo'), { spent: usd(2), reserved: 0 });
  });

  it('a request with fields its type does not declare keeps the same fields, and settles the same', async () => {
    const { engine, spent, kept } = make('if meta == null then cost.estimate else cost.estimate * (meta.scale ?? 3)');
    const d = await engine.decide({ user: 'di', extra: { a: [1, 2] }, meta: { tier: 't', note: 'x' }, cost: { estimate: '2' } });
    assert.equal(kept(d).form, PATHS);
    assert.deepEqual(spent('di'), { spent: 0, reserved: usd(6) });
    await engine.settle(d, { meta: { scale: 0.5 } });
    assert.deepEqual(spent('di'), { spent: usd(1), reserved: 0 });
  });

  it('usage is checked against the declared types, also in fields no charge reads', async () => {
    const { engine, spent } = make('cost.estimate');
    for (const usage of [{ user: 5 }, { cost: { estimate: 'lots' } }, { meta: { tier: 7 } }]) {
      const d = await engine.decide({ user: 'ed', cost: { estimate: '1' } });
      await assert.rejects(engine.settle(d, usage), /settle: the request merged with the usage is invalid/, JSON.stringify(usage));
    }
    const d = await engine.decide({ user: 'fa', cost: { estimate: '1' } });
    await engine.settle(d, { user: 'fa', cost: { estimate: '0.25' } });
    assert.deepEqual(spent('fa'), { spent: usd(0.25), reserved: 0 });
  });

  it('a charge that reads the whole request keeps every leaf, or the tree with undeclared fields', async () => {
    const { engine, spent, kept } = make('cost.estimate * len(input.keys())');
    const a = await engine.decide({ user: 'gil', cost: { estimate: '1' } });
    assert.equal(kept(a).form, LEAVES);
    const leaves = kept(a).v as unknown[];
    assert.deepEqual([leaves.length, leaves[0], leaves[2]], [3, 'gil', usd(1)], 'user, meta (absent), cost.estimate');
    const b = await engine.decide({ user: 'hal', extra: 1, cost: { estimate: '1' } });
    assert.equal(kept(b).form, TREE);
    assert.deepEqual(spent('gil'), { spent: 0, reserved: usd(3) });
    await engine.settle(a, { cost: { estimate: '2' } });
    await engine.settle(b);
    assert.deepEqual(spent('gil'), { spent: usd(6), reserved: 0 });
    assert.deepEqual(spent('hal'), { spent: usd(4), reserved: 0 });
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
