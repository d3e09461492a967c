// The BudgetStore conformance suite (entry point `rein/testing`): the contract of language/runtime/
// store.ts and docs/budgets.md ("The store algorithm") as runnable cases, for any store — the memory
// store, the Redis store (single node and cluster) and third-party stores. Runner-agnostic: pass your
// runner's `describe` and `it` (mocha, node:test, vitest and jest all have this shape), or iterate
// `budgetStoreConformanceCases()` yourself. No Node-only imports: it runs in a browser too.
//
// Every case uses counter keys and reservation ids of its own (a random run id), so one store — or
// one Redis database — may serve every case, and runs can repeat against a database that is not empty.

import type { BudgetStore, CounterState, ReserveItem, ReserveRequest } from '../runtime/store.js';

/** What a store does beyond the contract every store meets. */
export interface BudgetStoreCapabilities {
  /**
   * A `release` that reaches the store before its `reserve` (the engine gave up on a reserve still on
   * its way) leaves a tombstone, and the late reserve commits nothing (it rejects). Required of a store
   * whose calls can arrive late (Redis, any network store); the memory store has no late calls.
   */
  releaseBeforeReserve?: boolean;
  /** The store implements `consumeOnce` (single-use approval token nonces). */
  consumeOnce?: boolean;
  /** The store declares sync support (`store.synchronous`, a `SyncBudgetStore`): the engine then calls
   *  that twin directly. Its operations must act on the same counters as the async methods. */
  sync?: boolean;
  /** The settle grace the store was configured with (ms): how long after a reservation expires a late
   *  settle or release still corrects it. The grace cases run only when it is given; with a store
   *  whose grace follows a wall clock rather than the `now` of each call, give none. */
  settleGraceMs?: number;
  /** Rolling windows: `ReserveItem.rolling` sums the sub-buckets before the key's (`windowKinds`
   *  lists `rolling`). */
  rolling?: boolean;
  /** Token buckets: `ReserveItem.mode` `{ kind: 'bucket' }` (`windowKinds` lists `bucket`). */
  bucket?: boolean;
  /** Anchored periods: `ReserveItem.mode` `{ kind: 'anchored' }` (`windowKinds` lists `anchored`). */
  anchored?: boolean;
}

export interface BudgetStoreConformanceOptions {
  /** Gives the store for one case: a new one each time, or the same one (keys never collide). */
  store: () => BudgetStore | Promise<BudgetStore>;
  /** Called after each case with the store it used (close a per-case store here). */
  done?: (store: BudgetStore) => void | Promise<void>;
  capabilities?: BudgetStoreCapabilities;
  /** How many concurrent reserves the "exactly at the limit" cases send (default 200). */
  concurrency?: number;
}

/** The runner's functions (mocha's globals, `node:test`, vitest, jest). `it` may ignore the return
 *  value's type; it must await the returned promise. */
export interface ConformanceRunner {
  describe: (name: string, body: () => void) => unknown;
  it: (name: string, body: () => Promise<void>) => unknown;
}

export interface ConformanceContext {
  store: BudgetStore;
  /** A counter key (or reservation id) unique to this case and run: the same name gives the same key. */
  key: (name: string) => string;
  /** A new reservation id on every call. */
  fresh: () => string;
  concurrency: number;
  /** What the store declares (`capabilities`), e.g. its `settleGraceMs`. */
  capabilities: BudgetStoreCapabilities;
}

export interface ConformanceCase {
  name: string;
  /** The case runs only when the store declares this capability. */
  requires?: keyof BudgetStoreCapabilities;
  run: (ctx: ConformanceContext) => Promise<void>;
}

/** Thrown by a failing case: the message names what differed, with both values as JSON. */
export class ConformanceError extends Error {
  override name = 'ConformanceError';
  constructor(
    message: string,
    readonly actual?: unknown,
    readonly expected?: unknown,
  ) {
    super(message);
  }
}

const T0 = Date.UTC(2031, 0, 1, 12, 0, 0);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x === undefined ? '<undefined>' : x));
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function eq(actual: unknown, expected: unknown, what: string): void {
  if (!same(actual, expected)) throw new ConformanceError(`${what}: expected ${json(expected)}, got ${json(actual)}`, actual, expected);
}

function ok(cond: unknown, what: string): void {
  if (!cond) throw new ConformanceError(what);
}

async function rejects(p: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p();
  } catch (e) {
    return e;
  }
  throw new ConformanceError(`${what}: expected a rejection, the call succeeded`);
}

function item(counterKey: string, limit: number, charge: number, extra: Partial<ReserveItem> = {}): ReserveItem {
  return { counterKey, limit, charge, expiresAt: T0 + DAY, enforce: true, ...extra };
}

function req(reservationId: string, items: ReserveItem[], extra: Partial<ReserveRequest> = {}): ReserveRequest {
  return { reservationId, now: T0, ttlMs: 15 * MIN, commit: true, items, ...extra };
}

const state = (spent: number, reserved: number): CounterState => ({ spent, reserved });

/** The cases, in order. Extend by appending (a new capability gets a `requires`). */
export function budgetStoreConformanceCases(): ConformanceCase[] {
  return [
    {
      name: 'reserve: every item fits → all are reserved; the result reports the states before the charge',
      async run({ store, key, fresh }) {
        const a = key('a');
        const b = key('b');
        await store.addSpent(a, 3, T0 + DAY, T0);
        const r = await store.reserve(req(fresh(), [item(a, 10, 4), item(b, 10, 6)]));
        eq(r, { ok: true, committed: true, items: [{ spent: 3, reserved: 0, exceeded: false }, { spent: 0, reserved: 0, exceeded: false }] }, 'reserve result');
        eq(await store.peek([a, b], T0), [state(3, 4), state(0, 6)], 'states after the reserve');
      },
    },
    {
      name: 'reserve: a charge that lands exactly on the limit fits; one unit more is exceeded',
      async run({ store, key, fresh }) {
        const k = key('edge');
        eq((await store.reserve(req(fresh(), [item(k, 10, 10)]))).committed, true, 'charge == limit commits');
        const r = await store.reserve(req(fresh(), [item(k, 10, 1)]));
        eq(r, { ok: false, committed: false, items: [{ spent: 0, reserved: 10, exceeded: true }] }, 'one more unit');
        eq(await store.peek([k], T0), [state(0, 10)], 'the refused reserve wrote nothing');
      },
    },
    {
      name: 'reserve: all or nothing — one enforced item over its limit refuses every item',
      async run({ store, key, fresh }) {
        const a = key('a');
        const b = key('b');
        const r = await store.reserve(req(fresh(), [item(a, 10, 5), item(b, 10, 11)]));
        eq(r.ok, false, 'ok');
        eq(r.committed, false, 'committed');
        eq(r.items.map((i) => i.exceeded), [false, true], 'exceeded per item');
        eq(await store.peek([a, b], T0), [state(0, 0), state(0, 0)], 'nothing written');
      },
    },
    {
      name: 'reserve: an item that is not enforced may exceed without blocking, and is reserved with the rest',
      async run({ store, key, fresh }) {
        const a = key('a');
        const b = key('b');
        const r = await store.reserve(req(fresh(), [item(a, 10, 5), item(b, 10, 11, { enforce: false })]));
        eq({ ok: r.ok, committed: r.committed, exceeded: r.items.map((i) => i.exceeded) }, { ok: true, committed: true, exceeded: [false, true] }, 'result');
        eq(await store.peek([a, b], T0), [state(0, 5), state(0, 11)], 'both reserved');
      },
    },
    {
      name: 'reserve: commit false checks only and writes nothing; no items commits nothing',
      async run({ store, key, fresh }) {
        const k = key('dry');
        const r = await store.reserve(req(fresh(), [item(k, 10, 5)], { commit: false }));
        eq(r, { ok: true, committed: false, items: [{ spent: 0, reserved: 0, exceeded: false }] }, 'check-only result');
        const over = await store.reserve(req(fresh(), [item(k, 10, 11)], { commit: false }));
        eq({ ok: over.ok, committed: over.committed }, { ok: false, committed: false }, 'check-only over the limit');
        eq(await store.peek([k], T0), [state(0, 0)], 'nothing written');
        const empty = await store.reserve(req(fresh(), []));
        eq(empty, { ok: true, committed: false, items: [] }, 'an empty reservation');
      },
    },
    {
      name: 'reserve: the same counter twice in one reservation reserves both charges; settle replaces their sum',
      async run({ store, key, fresh }) {
        const k = key('twice');
        const id = fresh();
        const r = await store.reserve(req(id, [item(k, 10, 3), item(k, 10, 4)]));
        eq(r.committed, true, 'committed');
        eq(await store.peek([k], T0), [state(0, 7)], 'both charges reserved');
        eq(await store.settle(id, [{ counterKey: k, amount: 5 }], T0 + 1), { found: true }, 'settle');
        eq(await store.peek([k], T0 + 1), [state(5, 0)], 'the actual replaces the sum');
      },
    },
    {
      name: 'peek: unknown keys read as zeros, in the order asked; an empty list gives an empty list',
      async run({ store, key, fresh }) {
        const k = key('known');
        await store.addSpent(k, 2, null, T0);
        eq(await store.peek([key('u1'), k, key('u2')], T0), [state(0, 0), state(2, 0), state(0, 0)], 'states');
        eq(await store.peek([], T0), [], 'no keys');
      },
    },
    {
      name: 'settle: the actual replaces the estimate; counters missing from the actuals keep theirs; actuals for other counters are ignored',
      async run({ store, key, fresh }) {
        const a = key('a');
        const b = key('b');
        const other = key('other');
        const id = fresh();
        await store.reserve(req(id, [item(a, 100, 40), item(b, 100, 10)]));
        eq(await store.settle(id, [{ counterKey: a, amount: 25 }, { counterKey: other, amount: 7 }], T0 + 1), { found: true }, 'settle');
        eq(await store.peek([a, b, other], T0 + 1), [state(25, 0), state(10, 0), state(0, 0)], 'states after settle');
      },
    },
    {
      name: 'settle: an actual above the estimate is spent in full (spend may pass the limit after the fact)',
      async run({ store, key, fresh }) {
        const k = key('over');
        const id = fresh();
        await store.reserve(req(id, [item(k, 10, 5)]));
        await store.settle(id, [{ counterKey: k, amount: 12 }], T0 + 1);
        eq(await store.peek([k], T0 + 1), [state(12, 0)], 'spent');
        const r = await store.reserve(req(fresh(), [item(k, 10, 0)], { now: T0 + 2 }));
        eq({ ok: r.ok, exceeded: r.items[0]?.exceeded }, { ok: false, exceeded: true }, 'a zero charge over a spent-out counter');
      },
    },
    {
      name: 'settle: once per reservation — a second settle, or a settle of an unknown id, finds nothing and changes nothing',
      async run({ store, key, fresh }) {
        const k = key('once');
        const id = fresh();
        await store.reserve(req(id, [item(k, 100, 40)]));
        eq(await store.settle(id, [{ counterKey: k, amount: 30 }], T0 + 1), { found: true }, 'first settle');
        eq(await store.settle(id, [{ counterKey: k, amount: 1 }], T0 + 2), { found: false }, 'second settle');
        eq(await store.settle(key('never'), [{ counterKey: k, amount: 1 }], T0 + 2), { found: false }, 'unknown id');
        eq(await store.peek([k], T0 + 3), [state(30, 0)], 'states');
      },
    },
    {
      name: 'settle: concurrent settles of one reservation apply exactly once',
      async run({ store, key, fresh }) {
        const k = key('race');
        const id = fresh();
        await store.reserve(req(id, [item(k, 100, 40)]));
        const results = await Promise.all(Array.from({ length: 8 }, () => store.settle(id, [{ counterKey: k, amount: 30 }], T0 + 1)));
        eq(results.filter((r) => r.found).length, 1, 'settles that found the reservation');
        eq(await store.peek([k], T0 + 1), [state(30, 0)], 'states');
      },
    },
    {
      name: 'release: drops a reservation as if nothing was used; idempotent; a settle after it finds nothing',
      async run({ store, key, fresh }) {
        const k = key('rel');
        const id = fresh();
        await store.addSpent(k, 5, T0 + DAY, T0);
        await store.reserve(req(id, [item(k, 100, 30)]));
        eq(await store.release(id, T0 + 1), { found: true }, 'first release');
        eq(await store.peek([k], T0 + 1), [state(5, 0)], 'states after release');
        eq(await store.release(id, T0 + 2), { found: false }, 'second release');
        eq(await store.release(key('never'), T0 + 2), { found: false }, 'release of an unknown id');
        eq(await store.settle(id, [{ counterKey: k, amount: 9 }], T0 + 3), { found: false }, 'settle after release');
        eq(await store.peek([k], T0 + 3), [state(5, 0)], 'states at the end');
      },
    },
    {
      name: 'reservation ids: a reserve with the id of a live reservation commits nothing (it rejects, or reports not committed), on the same or other counters; the first reservation stays intact',
      async run({ store, key, fresh }) {
        const [k, k2] = [key('dup'), key('dup2')];
        const id = fresh();
        eq((await store.reserve(req(id, [item(k, 100, 40)]))).committed, true, 'the first reserve');
        const again = async (items: ReserveItem[], what: string) => {
          let r: { committed: boolean } | undefined;
          try {
            r = await store.reserve(req(id, items, { now: T0 + 1 }));
          } catch {
            r = undefined;
          }
          if (r !== undefined) eq(r.committed, false, `${what}: committed`);
          eq(await store.peek([k, k2], T0 + 1), [state(0, 40), state(0, 0)], `${what}: states`);
        };
        await again([item(k, 100, 30), item(k2, 100, 20)], 'the same id over the same and another counter');
        await again([item(k2, 100, 20)], 'the same id over another counter only');
        eq(await store.settle(id, [{ counterKey: k, amount: 25 }], T0 + 2), { found: true }, 'the first reservation settles');
        eq(await store.peek([k, k2], T0 + 2), [state(25, 0), state(0, 0)], 'states after the settle');
        eq(await store.settle(id, [{ counterKey: k, amount: 1 }], T0 + 3), { found: false }, 'a second settle');
      },
    },
    {
      name: 'settle grace: until expiry + grace a late settle corrects the expired estimate; from then on settle and release find nothing and change nothing',
      requires: 'settleGraceMs',
      async run({ store, key, fresh, capabilities }) {
        const g = capabilities.settleGraceMs!;
        const k = key('grace');
        const ttl = 15 * MIN;
        const [inside, outside, rel] = [fresh(), fresh(), fresh()];
        // the counter's window outlives the grace: only the reservations' grace ends
        const expiresAt = T0 + ttl + 2 * g + DAY;
        for (const [id, charge] of [[inside, 40], [outside, 50], [rel, 60]] as const) await store.reserve(req(id, [item(k, 1000, charge, { expiresAt })], { ttlMs: ttl }));
        const end = T0 + ttl + g;
        eq(await store.peek([k], end - 1), [state(150, 0)], 'all expired, counted as spent');
        eq(await store.settle(inside, [{ counterKey: k, amount: 10 }], end - 1), { found: true }, 'a settle 1 ms before the grace ends');
        eq(await store.peek([k], end - 1), [state(120, 0)], 'corrected by actual − estimate');
        eq(await store.settle(outside, [{ counterKey: k, amount: 10 }], end), { found: false }, 'a settle when the grace has ended');
        eq(await store.release(rel, end + 1), { found: false }, 'a release after the grace');
        eq(await store.settle(outside, [{ counterKey: k, amount: 0 }], end + 2), { found: false }, 'a second try');
        eq(await store.peek([k], end + 2), [state(120, 0)], 'nothing changed after the grace');
      },
    },
    {
      name: 'reservation ids: settling or releasing one reservation leaves the others on the same counter alone',
      async run({ store, key, fresh }) {
        const k = key('ids');
        const [a, b, c] = [key('ra'), key('rb'), key('rc')];
        for (const [id, charge] of [[a, 10], [b, 20], [c, 30]] as const) eq((await store.reserve(req(id, [item(k, 100, charge)]))).committed, true, `reserve ${charge}`);
        await store.settle(b, [{ counterKey: k, amount: 15 }], T0 + 1);
        eq(await store.peek([k], T0 + 1), [state(15, 40)], 'after settling b');
        await store.release(a, T0 + 2);
        eq(await store.peek([k], T0 + 2), [state(15, 30)], 'after releasing a');
        eq(await store.settle(c, [], T0 + 3), { found: true }, 'settle c with no actuals');
        eq(await store.peek([k], T0 + 3), [state(45, 0)], 'c keeps its estimate');
      },
    },
    {
      name: 'concurrency: concurrent reserves against one counter commit exactly up to the limit',
      async run({ store, key, concurrency }) {
        const k = key('hot');
        const fit = Math.floor(concurrency / 2);
        const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => store.reserve(req(key(`r${i}`), [item(k, fit * 7, 7)]))));
        eq(results.filter((r) => r.committed).length, fit, 'committed reserves');
        ok(results.every((r) => r.ok === r.committed), 'ok equals committed for every reserve');
        eq(await store.peek([k], T0), [state(0, fit * 7)], 'reserved exactly the limit');
      },
    },
    {
      name: 'concurrency: concurrent two-counter reserves never pass either limit, and refusals leave nothing behind',
      async run({ store, key, concurrency }) {
        const a = key('a');
        const b = key('b');
        // b is the tighter ceiling: exactly a quarter of the requests fit it.
        const fitB = Math.max(1, Math.floor(concurrency / 4));
        const results = await Promise.all(
          Array.from({ length: concurrency }, (_, i) => store.reserve(req(key(`r${i}`), [item(a, concurrency * 3, 3), item(b, fitB * 5, 5)]))),
        );
        const committed = results.filter((r) => r.committed).length;
        eq(committed, fitB, 'committed reserves');
        eq(await store.peek([a, b], T0), [state(0, fitB * 3), state(0, fitB * 5)], 'states');
        // settle them all concurrently: spend lands exactly
        const ids = results.map((r, i) => (r.committed ? key(`r${i}`) : null)).filter((x): x is string => x !== null);
        const settled = await Promise.all(ids.map((id) => store.settle(id, [{ counterKey: a, amount: 2 }, { counterKey: b, amount: 5 }], T0 + 1)));
        ok(settled.every((s) => s.found), 'every committed reservation settles');
        eq(await store.peek([a, b], T0 + 1), [state(fitB * 2, 0), state(fitB * 5, 0)], 'states after settling');
      },
    },
    {
      name: 'timeouts: an unsettled reservation expires at now + ttlMs and then counts its estimate as spent',
      async run({ store, key, fresh }) {
        const k = key('ttl');
        await store.reserve(req(fresh(), [item(k, 100, 40)], { ttlMs: 15 * MIN }));
        eq(await store.peek([k], T0 + 15 * MIN - 1), [state(0, 40)], 'just before expiry');
        eq(await store.peek([k], T0 + 15 * MIN), [state(40, 0)], 'at expiry');
        const r = await store.reserve(req(fresh(), [item(k, 100, 61)], { now: T0 + 16 * MIN }));
        eq(r.items[0], { spent: 40, reserved: 0, exceeded: true }, 'the expired estimate counts against the limit');
      },
    },
    {
      name: 'timeouts: a late settle corrects an expired estimate by actual − estimate (lower and higher); a late release by −estimate',
      async run({ store, key, fresh }) {
        const k = key('late');
        const [low, high, gone] = [key('low'), key('high'), key('gone')];
        await store.reserve(req(low, [item(k, 1000, 40)]));
        await store.reserve(req(high, [item(k, 1000, 50)]));
        await store.reserve(req(gone, [item(k, 1000, 60)]));
        eq(await store.peek([k], T0 + 20 * MIN), [state(150, 0)], 'all expired');
        eq(await store.settle(low, [{ counterKey: k, amount: 25 }], T0 + 21 * MIN), { found: true }, 'late settle, lower');
        eq(await store.peek([k], T0 + 21 * MIN), [state(135, 0)], 'after the lower settle');
        eq(await store.settle(high, [{ counterKey: k, amount: 70 }], T0 + 22 * MIN), { found: true }, 'late settle, higher');
        eq(await store.peek([k], T0 + 22 * MIN), [state(155, 0)], 'after the higher settle');
        eq(await store.release(gone, T0 + 23 * MIN), { found: true }, 'late release');
        eq(await store.peek([k], T0 + 23 * MIN), [state(95, 0)], 'after the late release');
      },
    },
    {
      name: 'timeouts: reservations expire one by one, each at its own time',
      async run({ store, key, fresh }) {
        const k = key('stagger');
        await store.reserve(req(fresh(), [item(k, 100, 10)], { now: T0, ttlMs: MIN }));
        await store.reserve(req(fresh(), [item(k, 100, 20)], { now: T0 + 1000, ttlMs: MIN }));
        await store.reserve(req(fresh(), [item(k, 100, 30)], { now: T0 + 2000, ttlMs: 10 * MIN }));
        eq(await store.peek([k], T0 + MIN), [state(10, 50)], 'the first expired');
        eq(await store.peek([k], T0 + MIN + 1000), [state(30, 30)], 'the second expired');
        eq(await store.peek([k], T0 + 10 * MIN + 2000), [state(60, 0)], 'all expired');
      },
    },
    {
      name: 'windows and keys: every counter key is its own counter (window index, by-tuple, odd characters), lifetime counters included',
      async run({ store, key, fresh }) {
        const base = key('w');
        const keys = [
          `${base}|day|["acme"]|20454`,
          `${base}|day|["acme"]|20455`,
          `${base}|day|["acme","x"]|20454`,
          `${base}|life|{"a":"}{"}`,
          `${base}|ünïcødé ✓|"quoted" \\ back`,
        ];
        const ends = [T0 + DAY, T0 + 2 * DAY, T0 + DAY, null, T0 + DAY];
        for (let i = 0; i < keys.length; i++) {
          const r = await store.reserve(req(key(`r${i}`), [item(keys[i]!, 100, i + 1, { expiresAt: ends[i]! })]));
          eq(r.items[0], { spent: 0, reserved: 0, exceeded: false }, `first reserve on ${keys[i]}`);
        }
        await store.addSpent(keys[3]!, 1000, null, T0);
        eq(await store.peek(keys, T0), [state(0, 1), state(0, 2), state(0, 3), state(1000, 4), state(0, 5)], 'states');
      },
    },
    {
      name: 'addSpent: adds to spent, counts against the limit, and leaves reservations alone',
      async run({ store, key, fresh }) {
        const k = key('add');
        await store.reserve(req(fresh(), [item(k, 100, 30)]));
        await store.addSpent(k, 60, T0 + DAY, T0);
        await store.addSpent(k, 0, T0 + DAY, T0);
        eq(await store.peek([k], T0), [state(60, 30)], 'states');
        const r = await store.reserve(req(fresh(), [item(k, 100, 11)]));
        eq({ ok: r.ok, exceeded: r.items[0]?.exceeded }, { ok: false, exceeded: true }, 'over the limit');
        eq((await store.reserve(req(fresh(), [item(k, 100, 10)]))).committed, true, 'exactly at the limit');
      },
    },
    {
      name: 'amounts: zero charges reserve, expire and settle; integers up to 2^53 − 1 stay exact',
      async run({ store, key, fresh }) {
        const k = key('zero');
        const z = key('rz');
        eq((await store.reserve(req(z, [item(k, 100, 0)]))).committed, true, 'a zero charge commits');
        eq(await store.peek([k], T0 + 20 * MIN), [state(0, 0)], 'expired zero');
        eq(await store.settle(z, [{ counterKey: k, amount: 0 }], T0 + 20 * MIN), { found: true }, 'settle the expired zero');
        const live = fresh();
        eq((await store.reserve(req(live, [item(k, 100, 0)], { now: T0 + 20 * MIN }))).committed, true, 'a live zero charge commits');
        eq(await store.settle(live, [{ counterKey: k, amount: 2 }], T0 + 20 * MIN), { found: true }, 'settle the live zero');
        eq(await store.peek([k], T0 + 20 * MIN), [state(2, 0)], 'after settling the live zero');
        const big = 4_503_599_627_370_497; // 2^52 + 1
        const b = key('big');
        await store.addSpent(b, big, null, T0);
        const r = await store.reserve(req(fresh(), [item(b, Number.MAX_SAFE_INTEGER, 2, { expiresAt: null })]));
        eq(r.items[0], { spent: big, reserved: 0, exceeded: false }, 'big spent read back exactly');
        eq(await store.peek([b], T0), [state(big, 2)], 'big state');
      },
    },
    {
      name: 'amounts: a charge, limit, actual or amount that is not a non-negative safe integer is refused before anything is written',
      async run({ store, key, fresh }) {
        const k = key('bad');
        for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) {
          await rejects(() => store.reserve(req(fresh(), [item(k, 100, bad)])), `charge ${bad}`);
          await rejects(() => store.reserve(req(fresh(), [item(k, bad, 1)])), `limit ${bad}`);
          await rejects(() => store.addSpent(k, bad, null, T0), `addSpent ${bad}`);
        }
        const id = fresh();
        await store.reserve(req(id, [item(k, 100, 10)]));
        await rejects(() => store.settle(id, [{ counterKey: k, amount: -5 }], T0), 'actual -5');
        eq(await store.peek([k], T0), [state(0, 10)], 'only the valid reserve was written');
        eq(await store.settle(id, [{ counterKey: k, amount: 5 }], T0), { found: true }, 'the reservation is still there');
      },
    },
    {
      name: 'timeoutMs: a store that declares its own call timeout declares a positive number of milliseconds',
      async run({ store }) {
        if (store.timeoutMs === undefined) return;
        ok(typeof store.timeoutMs === 'number' && Number.isFinite(store.timeoutMs) && store.timeoutMs > 0, `timeoutMs must be a positive number, got ${String(store.timeoutMs)}`);
      },
    },
    {
      name: 'release before reserve: the late reserve commits nothing, and the id stays dead',
      requires: 'releaseBeforeReserve',
      async run({ store, key, fresh }) {
        const k = key('tomb');
        const id = fresh();
        eq(await store.release(id, T0), { found: false }, 'release of a reservation not made yet');
        await rejects(() => store.reserve(req(id, [item(k, 100, 40)])), 'the late reserve');
        eq(await store.peek([k], T0), [state(0, 0)], 'the late reserve wrote nothing');
        eq(await store.settle(id, [{ counterKey: k, amount: 1 }], T0), { found: false }, 'settle of the dead id');
        eq(await store.peek([k], T0), [state(0, 0)], 'states at the end');
      },
    },
    {
      name: 'consumeOnce: true the first time a key is consumed, false after; keys are independent',
      requires: 'consumeOnce',
      async run({ store, key, fresh }) {
        ok(typeof store.consumeOnce === 'function', 'the store declares consumeOnce but has no consumeOnce method');
        const consume = store.consumeOnce!.bind(store);
        const [a, b] = [key('nonce-a'), key('nonce-b')];
        const until = Date.now() + 60_000;
        const first = await Promise.all(Array.from({ length: 6 }, () => consume(a, until, Date.now())));
        eq(first.filter(Boolean).length, 1, 'concurrent consumes of one key that succeed');
        eq(await consume(a, until, Date.now()), false, 'consumed again');
        eq(await consume(b, until, Date.now()), true, 'another key');
      },
    },
    {
      name: 'sync support: the declared synchronous twin acts on the same counters as the async methods',
      requires: 'sync',
      async run({ store, key, fresh }) {
        const sync = store.synchronous;
        ok(sync !== null && sync !== undefined, 'the store declares `synchronous`');
        const s = sync!;
        const k = key('twin');
        s.addSpentSync(k, 2, T0 + DAY, T0);
        eq(await store.peek([k], T0), [state(2, 0)], 'addSpentSync seen by peek');
        const id = fresh();
        const r = s.reserveSync(req(id, [item(k, 10, 5)]));
        ok(!(r instanceof Promise), 'reserveSync returns the result itself, not a promise');
        eq(r, { ok: true, committed: true, items: [{ spent: 2, reserved: 0, exceeded: false }] }, 'reserveSync result');
        eq(s.peekSync([k], T0), await store.peek([k], T0), 'peekSync equals peek');
        eq(s.peekSync([k], T0), [state(2, 5)], 'reserved through the twin');
        const over = await store.reserve(req(fresh(), [item(k, 10, 4)]));
        eq(over.ok, false, 'the async reserve sees the twin reservation');
        eq(s.settleSync(id, [{ counterKey: k, amount: 1 }], T0).found, true, 'settleSync finds the reservation');
        eq(await store.peek([k], T0), [state(3, 0)], 'settled through the twin');
        const id2 = fresh();
        await store.reserve(req(id2, [item(k, 10, 4)]));
        eq(s.releaseSync(id2, T0).found, true, 'releaseSync finds an async reservation');
        eq(s.peekSync([k], T0), [state(3, 0)], 'released');
        eq(s.releaseSync(id2, T0).found, false, 'releaseSync is idempotent');
      },
    },
    ...windowCases(),
  ];
}

const HOUR = 60 * MIN;

/** Rolling windows, token buckets and anchored periods (store.ts `CounterMode`, `ReserveItem.rolling`). */
function windowCases(): ConformanceCase[] {
  // A rolling hour: 60 sub-buckets of a minute (windows.ts `rollingShape(3_600_000)`).
  const B = MIN;
  const N = 60;
  const rk = (k: string, t: number) => `${k}:r${Math.floor(t / B)}`;
  const roll = (k: string, t: number, limit: number, charge: number, extra: Partial<ReserveItem> = {}) =>
    item(rk(k, t), limit, charge, { rolling: N, expiresAt: (Math.floor(t / B) + 1 + N) * B, ...extra });
  /** Spent and reserved over the window at t: the key and its N sub-buckets before. */
  const rollingState = async (store: BudgetStore, k: string, t: number): Promise<CounterState> => {
    const cur = Math.floor(t / B);
    const keys: string[] = [];
    for (let j = 0; j <= N; j++) keys.push(`${k}:r${cur - j}`);
    const states = await store.peek(keys, t);
    return states.reduce((a, x) => state(a.spent + x.spent, a.reserved + x.reserved), state(0, 0));
  };
  const bucket = { kind: 'bucket' as const, refill: 1, everyMs: 1000 };
  const bk = (k: string, limit: number, charge: number, extra: Partial<ReserveItem> = {}) => item(k, limit, charge, { mode: bucket, expiresAt: null, ...extra });
  const anchored = { kind: 'anchored' as const, periodMs: 30 * DAY };
  const ak = (k: string, limit: number, charge: number) => item(k, limit, charge, { mode: anchored, expiresAt: null });
  return [
    {
      name: 'rolling: the sub-buckets before the key count; a charge counts for at least the window and less than the window plus two sub-buckets',
      requires: 'rolling',
      async run({ store, key, fresh }) {
        const k = key('roll');
        const id = fresh();
        eq((await store.reserve(req(id, [roll(k, T0, 10, 4)]))).committed, true, 'the first charge');
        eq(await store.settle(id, [{ counterKey: rk(k, T0), amount: 4 }], T0), { found: true }, 'settled');
        const t1 = T0 + 30 * MIN;
        const r = await store.reserve(req(fresh(), [roll(k, t1, 10, 7)], { now: t1 }));
        eq(r, { ok: false, committed: false, items: [{ spent: 4, reserved: 0, exceeded: true }] }, '30 minutes later the first charge still counts');
        const t2 = T0 + HOUR;
        eq((await store.reserve(req(fresh(), [roll(k, t2, 10, 7)], { now: t2, commit: false }))).items[0], { spent: 4, reserved: 0, exceeded: true }, 'one window later it still counts (at least the window)');
        const t3 = T0 - (T0 % B) + HOUR + 2 * B;
        const late = await store.reserve(req(fresh(), [roll(k, t3, 10, 7)], { now: t3 }));
        eq(late, { ok: true, committed: true, items: [{ spent: 0, reserved: 0, exceeded: false }] }, 'the window plus two sub-buckets later it no longer counts');
        eq(await rollingState(store, k, t3), state(0, 7), 'the window at t3');
      },
    },
    {
      name: 'rolling: charges in different sub-buckets add up, so no window admits more than the limit; settle, release and expiry act on their own sub-bucket',
      requires: 'rolling',
      async run({ store, key, fresh }) {
        const k = key('roll2');
        const a = fresh();
        eq((await store.reserve(req(a, [roll(k, T0, 10, 6)]))).committed, true, '6 at T0');
        const t1 = T0 + 10 * MIN;
        eq((await store.reserve(req(fresh(), [roll(k, t1, 10, 5)], { now: t1 }))).ok, false, '5 more ten minutes later is refused');
        const b = fresh();
        eq((await store.reserve(req(b, [roll(k, t1, 10, 4)], { now: t1 }))).committed, true, '4 fits');
        eq(await rollingState(store, k, t1), state(0, 10), 'both reserved');
        eq((await store.settle(a, [{ counterKey: rk(k, T0), amount: 2 }], t1)).found, true, 'settle the first with 2');
        eq(await rollingState(store, k, t1), state(2, 4), 'the actual replaces the estimate');
        eq((await store.release(b, t1)).found, true, 'release the second');
        eq(await rollingState(store, k, t1), state(2, 0), 'released');
        const c = fresh();
        eq((await store.reserve(req(c, [roll(k, t1, 10, 3)], { now: t1, ttlMs: MIN }))).committed, true, 'a short reservation');
        eq(await rollingState(store, k, t1 + MIN), state(5, 0), 'an expired reservation counts as spent in its sub-bucket');
      },
    },
    {
      name: 'rolling: concurrent reserves over three sub-buckets admit exactly the limit',
      requires: 'rolling',
      async run({ store, key, fresh, concurrency }) {
        const k = key('rollc');
        const limit = Math.floor(concurrency / 4);
        const third = Math.ceil(concurrency / 3);
        const times = Array.from({ length: concurrency }, (_, i) => T0 + Math.floor(i / third) * B);
        const results = await Promise.all(times.map((t) => store.reserve(req(fresh(), [roll(k, t, limit, 1)], { now: t }))));
        eq(results.filter((r) => r.committed).length, limit, 'committed reserves');
        eq(await rollingState(store, k, T0 + 2 * B), state(0, limit), 'reserved in the window');
      },
    },
    {
      name: 'bucket: a burst, then whole units refill over time (the level is `spent`)',
      requires: 'bucket',
      async run({ store, key, fresh }) {
        const k = key('bucket');
        for (let i = 0; i < 3; i++) {
          const id = fresh();
          eq((await store.reserve(req(id, [bk(k, 3, 1)]))).committed, true, `burst charge ${i + 1}`);
          eq((await store.settle(id, [{ counterKey: k, amount: 1 }], T0)).found, true, `settled ${i + 1}`);
        }
        eq((await store.reserve(req(fresh(), [bk(k, 3, 1)]))).items[0], { spent: 3, reserved: 0, exceeded: true }, 'the fourth is refused');
        eq((await store.reserve(req(fresh(), [bk(k, 3, 1)], { now: T0 + 999 }))).ok, false, 'nothing refilled after 999 ms');
        eq(await store.peek([k], T0 + 2500), [state(1, 0)], 'two units refilled after 2.5 s');
        eq(await store.peek([k], T0 + 3000), [state(0, 0)], 'the half second left over counts: full after 3 s');
        eq(await store.peek([k], T0 + 60_000), [state(0, 0)], 'a full bucket banks nothing');
        const r = await store.reserve(req(fresh(), [bk(k, 3, 3)], { now: T0 + 60_000 }));
        eq(r.committed, true, 'a full burst again');
        eq((await store.reserve(req(fresh(), [bk(k, 3, 1)], { now: T0 + 60_000 }))).ok, false, 'and no more');
      },
    },
    {
      name: 'bucket: a held reservation does not refill until settled; the actual refills from the settle; release gives it back; expiry spends it',
      requires: 'bucket',
      async run({ store, key, fresh }) {
        const k = key('hold');
        const id = fresh();
        eq((await store.reserve(req(id, [bk(k, 3, 3)]))).committed, true, 'hold the burst');
        eq(await store.peek([k], T0 + 5000), [state(0, 3)], 'held, not refilled');
        eq((await store.settle(id, [{ counterKey: k, amount: 2 }], T0 + 5000)).found, true, 'settle 2');
        eq(await store.peek([k], T0 + 5000), [state(2, 0)], 'the actual is the level');
        eq(await store.peek([k], T0 + 6000), [state(1, 0)], 'refilling from the settle');
        const r2 = fresh();
        eq((await store.reserve(req(r2, [bk(k, 3, 2)], { now: T0 + 6000 }))).committed, true, 'hold 2');
        eq((await store.release(r2, T0 + 6000)).found, true, 'release');
        eq(await store.peek([k], T0 + 6000), [state(1, 0)], 'released');
        const r3 = fresh();
        eq((await store.reserve(req(r3, [bk(k, 3, 2)], { now: T0 + 6000, ttlMs: 1000 }))).committed, true, 'hold 2 for a second');
        eq(await store.peek([k], T0 + 7000), [state(2, 0)], 'expired: spent (the old level refilled first)');
        eq(await store.peek([k], T0 + 9000), [state(0, 0)], 'then refills');
      },
    },
    {
      name: 'bucket and anchored: a late settle of an expired reservation corrects it by actual − estimate, even after the bucket refilled (the counter is kept through the settle grace)',
      requires: 'bucket',
      async run({ store, key, fresh, capabilities }) {
        const g = capabilities.settleGraceMs;
        if (g !== undefined && g < 10 * MIN) return; // the settle below comes 4 minutes after the expiry
        const k = key('late-bucket');
        const id = fresh();
        eq((await store.reserve(req(id, [bk(k, 100, 10)], { ttlMs: MIN }))).committed, true, 'reserve 10 for a minute');
        eq(await store.peek([k], T0 + 2 * MIN), [state(10, 0)], 'expired at T0 + 1 min: taken when swept');
        eq(await store.peek([k], T0 + 3 * MIN), [state(0, 0)], 'then refilled: the bucket is full again');
        // another reservation later on (a store may collect what it no longer needs on its way)
        await store.reserve(req(fresh(), [item(key('other'), 10, 1)], { now: T0 + 3 * MIN + 1 }));
        eq((await store.settle(id, [{ counterKey: k, amount: 30 }], T0 + 4 * MIN)).found, true, 'the late settle finds it');
        eq(await store.peek([k], T0 + 4 * MIN), [state(20, 0)], 'actual 30 − estimate 10 taken at the settle');
        if (!capabilities.anchored) return;
        const a = key('late-anchored');
        const ida = fresh();
        eq((await store.reserve(req(ida, [ak(a, 100, 10)], { ttlMs: MIN }))).committed, true, 'anchored: reserve 10');
        await store.reserve(req(fresh(), [item(key('other2'), 10, 1)], { now: T0 + 3 * MIN }));
        eq((await store.settle(ida, [{ counterKey: a, amount: 30 }], T0 + 4 * MIN)).found, true, 'anchored: the late settle finds it');
        eq(await store.peek([a], T0 + 4 * MIN), [{ spent: 30, reserved: 0, start: T0 }], 'anchored: 10 expired as spent, corrected to 30');
      },
    },
    {
      name: 'bucket: money refills in whole micros, exactly (no floats kept), the refill time rounded up',
      requires: 'bucket',
      async run({ store, key }) {
        const k = key('money');
        const mode = { kind: 'bucket' as const, refill: 333_333, everyMs: 1000 };
        await store.addSpent(k, 5_000_000, null, T0, mode);
        eq(await store.peek([k], T0 + 1500), [state(5_000_000 - 499_999, 0)], 'floor(1500 × 333333 / 1000) micros refilled');
        // the refill time advanced by ceil(499999 × 1000 / 333333) = 1500 ms: rounding up is conservative
        eq(await store.peek([k], T0 + 3000), [state(5_000_000 - 2 * 499_999, 0)], 'the refill time advances in whole ms, rounded up');
      },
    },
    {
      name: 'anchored: the period starts at the key\'s first charge; a new period starts at zero; peek and reserve report the start',
      requires: 'anchored',
      async run({ store, key, fresh }) {
        const k = key('anch');
        const t0 = T0 + 5 * HOUR;
        const a = fresh();
        const first = await store.reserve(req(a, [ak(k, 30, 10)], { now: t0 }));
        eq(first.items[0], { spent: 0, reserved: 0, exceeded: false }, 'a new counter has no start yet');
        eq((await store.settle(a, [{ counterKey: k, amount: 10 }], t0)).found, true, 'settled');
        const t1 = t0 + 29 * DAY;
        eq((await store.reserve(req(fresh(), [ak(k, 30, 25)], { now: t1 }))).items[0], { spent: 10, reserved: 0, exceeded: true, start: t0 }, '29 days later: the same period');
        eq(await store.peek([k], t1), [{ spent: 10, reserved: 0, start: t0 }], 'peek reports the start');
        const t2 = t0 + 30 * DAY;
        const b = fresh();
        eq((await store.reserve(req(b, [ak(k, 30, 5)], { now: t2 - 1 }))).committed, true, 'a reservation just before the period ends');
        eq(await store.peek([k], t2), [{ spent: 0, reserved: 5, start: t2 }], 'a new period: spent starts at 0, the live reservation stays reserved');
        eq((await store.settle(b, [{ counterKey: k, amount: 4 }], t2 + 1)).found, true, 'settled in the new period');
        eq(await store.peek([k], t2 + 1), [{ spent: 4, reserved: 0, start: t2 }], 'its actual counts in the period it settled in');
        eq(await store.peek([key('other')], t2), [state(0, 0)], 'an unknown key has no start');
      },
    },
    {
      name: 'anchored: addSpent anchors a new counter at its time',
      requires: 'anchored',
      async run({ store, key, fresh }) {
        const k = key('anch2');
        await store.addSpent(k, 7, null, T0, anchored);
        eq((await store.reserve(req(fresh(), [ak(k, 30, 24)], { now: T0 + DAY }))).items[0], { spent: 7, reserved: 0, exceeded: true, start: T0 }, 'anchored at the addSpent');
      },
    },
  ];
}

let runCounter = 0;

/** A run id: random, so repeated runs against one persistent store never share keys. */
function runId(): string {
  const rnd = typeof globalThis.crypto?.randomUUID === 'function' ? globalThis.crypto.randomUUID().slice(0, 8) : Math.random().toString(36).slice(2, 10);
  return `conf-${rnd}-${++runCounter}`;
}

/** Runs one case against a store from `opts.store` (then `opts.done`). Rejects with ConformanceError. */
export async function runConformanceCase(c: ConformanceCase, opts: BudgetStoreConformanceOptions): Promise<void> {
  const store = await opts.store();
  const id = runId();
  try {
    let n = 0;
    await c.run({ store, key: (name) => `${id}:${name}`, fresh: () => `${id}:r${++n}`, concurrency: opts.concurrency ?? 200, capabilities: opts.capabilities ?? {} });
  } finally {
    await opts.done?.(store);
  }
}

/**
 * Registers the BudgetStore conformance suite with your test runner:
 *
 * ```ts
 * import { budgetStoreConformance } from 'rein/testing';
 * budgetStoreConformance({ describe, it }, { store: () => myStore, capabilities: { releaseBeforeReserve: true } });
 * ```
 *
 * Cases needing a capability the store does not declare are not registered.
 */
export function budgetStoreConformance(runner: ConformanceRunner, opts: BudgetStoreConformanceOptions, title = 'BudgetStore conformance'): void {
  const caps = opts.capabilities ?? {};
  runner.describe(title, () => {
    for (const c of budgetStoreConformanceCases()) {
      if (c.requires !== undefined && !caps[c.requires]) continue;
      runner.it(c.name, () => runConformanceCase(c, opts));
    }
  });
}
