// The engine keeps the usual reservation's settle data as a row of typed-array columns (settle-data.ts
// `SettleData`, issue #20: nothing per unsettled reservation in the young generation). Settling from
// the columns gives what settling from `Kept` objects (the form before, and still the form of every
// other case) gives: a differential test on generated policies, requests, usages and clock jumps,
// each sequence run on two engines (columns on / off) with stores of their own.

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { settleColumns } from '../../language/runtime/settle-data.js';
import { rng } from '../helpers/prng.js';

const T0 = new Date('2026-11-24T10:00:00Z').getTime();


const SCHEMA = `
input {
  user: string
  team: string
  n: number
  meta?: { tier: string, scale?: number }
  cost: { estimate: money }
  fast?: bool
  note?: string
}
`;
const MONEY_CHARGES = [
  'cost.estimate',
  'cost.estimate * 2',
  'cost.estimate * n',
  'if meta == null then cost.estimate else cost.estimate * (meta.scale ?? 3)',
  'cost.estimate * (meta.scale ?? 3)',
  'if user == "a" then $1 else cost.estimate',
  'cost.estimate * len(input.keys())',
  'if hour(now) == 10 then cost.estimate else $2',
  'if fast == true then cost.estimate * 2 else cost.estimate',
  'if meta.tier == "gold" then cost.estimate else $1',
  'cost.estimate * len(note ?? "")',
];
const NUMBER_CHARGES = ['1', 'n', 'n * 2', 'if meta == null then 1 else meta.scale ?? 2'];
const BYS = ['', 'by user', 'by team', 'by user, team'];
const WINDOWS = ['per day', 'per minute', 'per hour'];

function policySource(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const budgets: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const when = r() < 0.3 ? `\n  when n > ${Math.floor(r() * 3)}` : '';
    const money = r() < 0.7;
    const limit = `${money ? '$' : ''}${pick(money ? [5, 50, 500] : [20, 200, 2000])}`;
    budgets.push(`budget b${i} {\n  limit ${limit} ${pick(WINDOWS)}\n  charge ${pick(money ? MONEY_CHARGES : NUMBER_CHARGES)}\n  ${pick(BYS)}${when}\n}`);
  }
  return `${SCHEMA}\n${budgets.join('\n')}\n`;
}

function request(r: () => number): unknown {
  if (r() < 0.03) return { user: 'a', team: 't' }; // invalid: decided by `on error`
  const meta = r() < 0.4 ? undefined : r() < 0.5 ? { tier: 'gold' } : { tier: 'gold', scale: Math.floor(r() * 4) };
  const n = r() < 0.1 ? 0.5 : Math.floor(r() * 5);
  const out: Record<string, unknown> = { user: ['a', 'b', 'c', 'd'][Math.floor(r() * 4)], team: ['t', 'u'][Math.floor(r() * 2)], n, cost: { estimate: (Math.floor(r() * 300) / 100).toFixed(2) } };
  if (meta !== undefined) out.meta = meta;
  if (r() < 0.5) out.fast = r() < 0.5;
  if (r() < 0.4) out.note = r() < 0.9 ? ['x', 'yy', 'zzz'][Math.floor(r() * 3)] : 'long'.repeat(20);
  return out;
}

function usage(r: () => number): unknown {
  const x = r();
  if (x < 0.15) return undefined;
  if (x < 0.25) return {};
  if (x < 0.55) return { cost: { estimate: (Math.floor(r() * 300) / 100).toFixed(2) } };
  if (x < 0.65) return { n: Math.floor(r() * 4) };
  if (x < 0.72) return { meta: { scale: Math.floor(r() * 3) } };
  if (x < 0.78) return { cost: { estimate: 'lots' } };
  if (x < 0.82) return { user: 5 };
  if (x < 0.85) return { cost: { estimate: '-1' } };
  if (x < 0.87) return 'all of it';
  if (x < 0.9) return { fast: r() < 0.5, note: 'ab' };
  if (x < 0.92) return { meta: { tier: 'silver' } };
  return { n: 1, cost: { estimate: '0.10' } };
}

/** A decision without its reservation id (the two engines make different ones). */
function shown(d: unknown): string {
  const o = JSON.parse(JSON.stringify(d)) as { reservation?: { id: string } | null };
  if (o.reservation) o.reservation.id = 'R';
  return JSON.stringify(o);
}

async function outcome(p: Promise<void>, id: string | undefined): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    const m = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    return id ? m.split(id).join('R') : m;
  }
}

function engines(source: string, clock: { t: number }) {
  const policy = compile({ 'p.rein': source });
  const make = (columns: boolean) => {
    const prev = settleColumns.on;
    settleColumns.on = columns;
    try {
      const store = new MemoryBudgetStore();
      const engine = new Engine(policy, { store, clock: () => new Date(clock.t), reservationTtlMs: 60_000, settleGraceMs: 30_000 });
      return { store, engine };
    } finally {
      settleColumns.on = prev;
    }
  };
  return { objects: make(false), columns: make(true) };
}

type Internals = { pending: { size: number; chunks: Map<number, unknown>; objects: { size: number } } };
const pendingOf = (e: Engine) => (e as unknown as Internals).pending;

/** Runs one generated sequence on both engines; returns how many reservations the columns held at most. */
async function differential(seed: number, steps: number, settleShare: number, fixed?: string): Promise<{ rows: number; settled: number }> {
  const r = rng(seed);
  const source = fixed ?? policySource(r);
  const clock = { t: T0 };
  const { objects: A, columns: B } = engines(source, clock);
  const open: [Awaited<ReturnType<Engine['decide']>>, Awaited<ReturnType<Engine['decide']>>][] = [];
  let rows = 0;
  let settled = 0;
  for (let step = 0; step < steps; step++) {
    const x = r();
    if (x < 0.55 || open.length === 0) {
      const req = request(r);
      const opts = r() < 0.1 ? { explain: true } : {};
      const a = await A.engine.decide(req, opts);
      const b = await B.engine.decide(req, opts);
      assert.equal(shown(b), shown(a), `${source}\nstep ${step}: decide ${JSON.stringify(req)}`);
      assert.equal(b.reservation === null, a.reservation === null);
      if (a.reservation !== null) open.push([a, b]);
    } else if (x < 0.55 + 0.45 * settleShare) {
      // settle one (sometimes one settled before: refused the same way)
      const i = Math.floor(r() * open.length);
      const [a, b] = open[i]!;
      const u = usage(r);
      const oa = await outcome(A.engine.settle(a, u as never), a.reservation?.id);
      const ob = await outcome(B.engine.settle(b, u as never), b.reservation?.id);
      assert.equal(ob, oa, `${source}\nstep ${step}: settle with ${JSON.stringify(u)}`);
      if (oa === 'ok') settled++;
      if (r() < 0.8) open.splice(i, 1);
    }
    // the clock: mostly small steps, sometimes past expiry + grace (purges, dropped settle data)
    const y = r();
    if (fixed === undefined) clock.t += y < 0.97 ? Math.floor(r() * 400) : y < 0.99 ? 45_000 : 120_000;
    else clock.t += Math.floor(y * 5); // within the TTL: reservations pile up
    rows = Math.max(rows, pendingOf(B.engine).size - pendingOf(B.engine).objects.size);
    assert.equal(pendingOf(B.engine).size, pendingOf(A.engine).size, `step ${step}: kept reservations`);
  }
  // the counters of both stores, and every reservation still open settles the same
  assert.deepEqual(B.store.inspect(clock.t).counters, A.store.inspect(clock.t).counters, source);
  for (const [a, b] of open) {
    const u = usage(r);
    assert.equal(await outcome(B.engine.settle(b, u as never), b.reservation?.id), await outcome(A.engine.settle(a, u as never), a.reservation?.id), source);
  }
  assert.deepEqual(B.store.inspect(clock.t).counters, A.store.inspect(clock.t).counters, source);
  return { rows, settled };
}

describe('settle data in columns (settle-data.ts SettleData)', () => {
  it('settles as the Kept objects do: generated policies, requests, usages and clock jumps', async () => {
    let rows = 0;
    let settled = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const s = await differential(seed, 400, 1);
      rows += s.rows;
      settled += s.settled;
    }
    assert.ok(rows > 100, `the columns were used (${rows})`);
    assert.ok(settled > 500, `settles succeeded (${settled})`);
  });

  it('over several chunks, with few reservations left in a chunk (they move to Kept objects), the same', async () => {
    // 2,048 counters a chunk: most settled right away, some left to settle after the chunk went sparse
    const wide = `${SCHEMA}\nbudget spend {\n  limit $1000000 per day\n  charge cost.estimate\n  by user\n}\nbudget calls {\n  limit 1000000 per hour\n  charge n\n  by team\n  when n > 1\n}\n`;
    const s = await differential(1001, 12_000, 1, wide);
    assert.ok(s.rows > 0);
    const t = await differential(1002, 9_000, 0.2, wide);
    assert.ok(t.rows > 2048, `several chunks held reservations (${t.rows})`);
  });

  it('a chunk with few reservations left becomes Kept objects, an empty one is dropped; both settle', async () => {
    const clock = { t: T0 };
    const { columns: B } = engines(`${SCHEMA}\nbudget spend {\n  limit $1000000 per day\n  charge cost.estimate\n  by user\n}\n`, clock);
    const p = pendingOf(B.engine);
    const ds = [];
    for (let i = 0; i < 5_000; i++) ds.push(await B.engine.decide({ user: 'a', team: 't', n: 1, cost: { estimate: '0.01' } }));
    assert.equal(p.size, 5_000);
    assert.ok(p.chunks.size >= 2, 'rows in columns');
    // (only the first chunk's rows may be objects: when the process's counter started near its end,
    // it held ≤ 128 of them once the counter moved on)
    assert.ok(p.objects.size <= 128, `objects ${p.objects.size}`);
    // settle all but every 100th: the chunks left behind hold ≤ 128 and move to objects
    for (let i = 0; i < ds.length; i++) if (i % 100 !== 0) await B.engine.settle(ds[i]!, {});
    assert.equal(p.size, 50);
    assert.ok(p.chunks.size <= 1, `chunks ${p.chunks.size}`);
    // (the chunk being written keeps its rows: ≤ 21 of the 50, wherever the process's counter stands)
    assert.ok(p.objects.size >= 50 - Math.ceil(2048 / 100), `objects ${p.objects.size}`);
    for (let i = 0; i < ds.length; i += 100) await B.engine.settle(ds[i]!, { cost: { estimate: '0.02' } });
    assert.equal(p.size, 0);
    const key = B.engine.counterKeyFor({ user: 'a', team: 't', n: 1, cost: { estimate: 0 } }, 'spend')!;
    assert.deepEqual(B.store.peekSync([key], clock.t), [{ spent: 4_950 * 10_000 + 50 * 20_000, reserved: 0 }]);
  });

  it('an engine running for months still keeps rows in columns (decision times as offsets within a chunk)', async () => {
    const clock = { t: T0 };
    const { columns: B, objects: A } = engines(`${SCHEMA}\nbudget spend {\n  limit $1000000 per day\n  charge if hour(now) == 10 then cost.estimate else $2\n  by user\n}\n`, clock);
    const p = pendingOf(B.engine);
    const req = { user: 'a', team: 't', n: 1, cost: { estimate: '0.50' } };
    await A.engine.decide(req);
    await B.engine.decide(req);
    clock.t += 90 * 86_400_000; // 90 days later (`Kept.at` ~7.8e9 ms: beyond 32 bits)
    const a = await A.engine.decide(req);
    const b = await B.engine.decide(req);
    assert.equal(p.size, 1, 'the first reservation was dropped at the purge');
    assert.equal(p.objects.size, 0, 'kept in columns');
    assert.equal(p.chunks.size, 1);
    await A.engine.settle(a, {});
    await B.engine.settle(b, {});
    assert.deepEqual(B.store.inspect(clock.t).counters, A.store.inspect(clock.t).counters);
  });

  it('short strings, booleans, null and absent fields are kept in columns as interned values; unused ones are forgotten', async () => {
    const clock = { t: T0 };
    const src = `${SCHEMA}\nbudget spend {\n  limit $1000000 per day\n  charge if fast == true then cost.estimate * (meta.scale ?? 2) else cost.estimate * len(note ?? "")\n  by user\n}\n`;
    const { columns: B, objects: A } = engines(src, clock);
    const p = pendingOf(B.engine);
    const values = (B.engine as unknown as { pending: { valueIndex: Map<unknown, number> } }).pending.valueIndex;
    const pairs: [Awaited<ReturnType<Engine['decide']>>, Awaited<ReturnType<Engine['decide']>>][] = [];
    for (let i = 0; i < 3_000; i++) {
      const req: Record<string, unknown> = { user: 'a', team: 't', n: 1, cost: { estimate: '0.01' }, note: `n${i}` };
      if (i % 3 === 0) req.fast = i % 2 === 0;
      if (i % 5 === 0) req.meta = { tier: 'gold', ...(i % 10 === 0 ? { scale: 3 } : {}) };
      pairs.push([await A.engine.decide(req), await B.engine.decide(req)]);
    }
    // In columns, but for the rows of a first chunk the counter entered late (other tests in this
    // process used its ids before): once the counter moves on, a chunk with ≤ 128 rows becomes objects.
    assert.ok(p.objects.size <= 128, `reservations kept as objects: ${p.objects.size}`);
    assert.ok(values.size >= 3_000 - 128, 'each note interned');
    for (const [a, b] of pairs) {
      await A.engine.settle(a, { note: 'abc' });
      await B.engine.settle(b, { note: 'abc' });
    }
    assert.deepEqual(B.store.inspect(clock.t).counters, A.store.inspect(clock.t).counters);
    // after expiry + grace a purge drops the rows, then sweeps the values no row refers to
    clock.t += 200_000;
    await B.engine.decide({ user: 'a', team: 't', n: 1, cost: { estimate: '0.01' } });
    assert.ok(values.size < 10, `interned values left: ${values.size}`);
  });

  it('interned counter keys that no reservation uses are forgotten (a new key each minute)', async () => {
    const clock = { t: T0 };
    const { columns: B } = engines(`${SCHEMA}\nbudget spend {\n  limit $1000000 per minute\n  charge cost.estimate\n  by user, n\n}\n`, clock);
    const interned = (B.engine as unknown as { pending: { interned: Map<string, number> } }).pending.interned;
    for (let minute = 0; minute < 30; minute++) {
      for (let i = 0; i < 200; i++) await B.engine.decide({ user: 'a', team: 't', n: i, cost: { estimate: '0.01' } });
      clock.t += 60_000;
    }
    // ttl 60 s + grace 30 s: only the last minutes' keys are still referred to
    assert.ok(interned.size <= 3 * 1024, `interned ${interned.size}`);
  });
});
