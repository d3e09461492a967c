// The in-process budget store: the reference implementation of the algorithm in docs/budgets.md.
// Atomic by construction: every method does all its checks and writes synchronously (no `await`
// between reading a counter and writing it), and JavaScript runs one such block at a time.

import {
  assertAmount,
  type Actual,
  type BudgetStore,
  type CounterMode,
  type CounterState,
  type ReserveItemResult,
  type ReserveRequest,
  type ReserveResult,
  type SettleResult,
  type StoreWindowKind,
  type SyncBudgetStore,
} from './store.js';
import { IdIndex } from './id-index.js';
import { rollingSiblings } from './windows.js';

/**
 * One reservation's charge on one counter. The same object is the counter's heap element and an
 * element of the reservation's list (`next`): one allocation per reserved item.
 */
interface Entry {
  counterKey: string;
  /** The reserved estimate. */
  amount: number;
  /** Reservation expiry (epoch ms): from then on the amount counts as spent. */
  expiresAt: number;
  /** Still counted in its counter's `reserved` (not expired, settled or released). */
  live: boolean;
  /** The reservation's next item. */
  next: Entry | null;
}

interface Counter {
  spent: number;
  reserved: number;
  /** How many live entries the counter has. */
  live: number;
  /** Min-heap by `expiresAt` over the counter's entries; entries no longer live (settled,
   *  released) are dropped lazily. */
  heap: Entry[];
  /** Forget the counter after this time (window end + grace); null = never. */
  dropAt: number | null;
  /** A token bucket or anchored counter (store.ts `CounterMode`), else undefined. */
  mode: CounterMode | undefined;
  /** Token bucket: the time its level last drained to (epoch ms). Anchored: the anchor (first write). */
  t: number;
  /** Anchored: the current period's ordinal since the anchor. */
  period: number;
  /** At least the latest `expiresAt` in `heap` (-Infinity when it never held one): an entry that
   *  expires no earlier is pushed at the end without reading its parent (one TTL per engine makes
   *  that the usual case, and the parent is an old entry, cold in the CPU caches). */
  maxAt: number;
  /** The earliest `expiresAt` in `heap` (its top's; Infinity when empty): `sweep` compares it without
   *  reading the top entry, an old one and cold in the CPU caches. */
  minAt: number;
}

export interface MemoryBudgetStoreOptions {
  /** How long after a reservation expires a late `settle` can still correct it (default 24 h).
   *  Counters of ended windows are also kept this long (plus the reservation TTL). */
  settleGraceMs?: number;
  /** Used only by `gc()` without an argument and `inspect()`; decisions carry their own time. */
  clock?: () => number;
}

const DEFAULT_GRACE = 24 * 60 * 60 * 1000;


const WINDOW_KINDS: readonly StoreWindowKind[] = Object.freeze(['rolling', 'bucket', 'anchored'] as StoreWindowKind[]);

export class MemoryBudgetStore implements BudgetStore {
  /** Rolling windows, token buckets and anchored periods (store.ts `windowKinds`). */
  readonly windowKinds = WINDOW_KINDS;
  private readonly counters = new Map<string, Counter>();
  /** Consumed single-use keys → the time they may be forgotten. */
  private readonly once = new Map<string, number>();
  /** Reservation id → its first entry. The record is forgotten at `expiresAt + graceMs`. */
  private readonly reservations = new IdIndex<Entry>();
  private readonly graceMs: number;
  private readonly clock: () => number;
  private lastGc = -Infinity;

  constructor(opts: MemoryBudgetStoreOptions = {}) {
    this.graceMs = opts.settleGraceMs ?? DEFAULT_GRACE;
    this.clock = opts.clock ?? (() => Date.now());
  }

  /** Sync support (store.ts `SyncBudgetStore`): this store itself, as long as its async methods are
   *  the thin wrappers below; a subclass overriding one (a test double adding latency or failures)
   *  declares none, and the engine calls its async methods. */
  get synchronous(): SyncBudgetStore | null {
    const P = MemoryBudgetStore.prototype;
    return this.reserve === P.reserve && this.peek === P.peek && this.release === P.release && this.settle === P.settle && this.consumeOnce === P.consumeOnce ? this : null;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    return this.reserveSync(req);
  }

  /** The synchronous core of `reserve` (exposed for tests and for hosts that want no microtask). */
  reserveSync(req: ReserveRequest): ReserveResult {
    assertAmount(req.ttlMs, 'ttlMs');
    for (const it of req.items) {
      assertAmount(it.charge, 'charge', it.counterKey);
      assertAmount(it.limit, 'limit', it.counterKey);
    }
    this.maybeGc(req.now);
    // 1. Read (after expiring overdue reservations) and check every item.
    const reqItems = req.items;
    const n = reqItems.length;
    const items: ReserveItemResult[] = new Array(n);
    let ok = true;
    /** The first item's counter as read (reused by the write below: no second lookup). */
    let first: Counter | undefined;
    for (let i = 0; i < n; i++) {
      const it = reqItems[i]!;
      const c = this.counters.get(it.counterKey);
      if (i === 0) first = c;
      let spent = 0;
      let reserved = 0;
      if (c !== undefined) {
        this.sweep(c, req.now);
        spent = c.spent;
        reserved = c.reserved;
      }
      if (it.rolling !== undefined && it.rolling > 0) {
        // A rolling window: the sub-buckets before this one count too.
        for (const k of rollingSiblings(it.counterKey, it.rolling)) {
          const s = this.state(k, req.now);
          spent += s.spent;
          reserved += s.reserved;
        }
      }
      const exceeded = spent + reserved + it.charge > it.limit;
      if (exceeded && it.enforce) ok = false;
      const r: ReserveItemResult = { spent, reserved, exceeded };
      if (c !== undefined && c.mode?.kind === 'anchored') r.start = c.t + c.period * c.mode.periodMs;
      items[i] = r;
    }
    if (!ok || !req.commit || n === 0) return { ok, committed: false, items };
    const id = req.reservationId;
    const expiresAt = req.now + req.ttlMs;
    // Claimed before any write (the first entry, filled in below): a duplicate id changes nothing.
    const head: Entry = { counterKey: reqItems[0]!.counterKey, amount: 0, expiresAt, live: true, next: null };
    if (!this.reservations.add(id, head)) throw new Error(`reservation ${id} already exists`);
    // 2. Write every item (all or nothing: nothing above can fail now).
    let tail: Entry | null = null;
    for (let i = 0; i < n; i++) {
      const it = reqItems[i]!;
      const c = this.counterOf(i === 0 ? first : this.counters.get(it.counterKey), it.counterKey, it.expiresAt, req.ttlMs, it.mode, req.now);
      c.reserved += it.charge;
      // The same counter twice in one reservation: one entry with the sum.
      let dup: Entry | null = null;
      for (let e: Entry | null = tail === null ? null : head; e !== null; e = e.next) {
        if (e.counterKey === it.counterKey) {
          dup = e;
          break;
        }
      }
      if (dup !== null) {
        dup.amount += it.charge;
        continue;
      }
      let e: Entry;
      if (tail === null) {
        e = head;
        e.amount = it.charge;
      } else {
        e = { counterKey: it.counterKey, amount: it.charge, expiresAt, live: true, next: null };
        tail.next = e;
      }
      c.live++;
      heapPush(c, e);
      tail = e;
    }
    return { ok, committed: true, items };
  }

  async peek(counterKeys: string[], now: number): Promise<CounterState[]> {
    return this.peekSync(counterKeys, now);
  }

  peekSync(counterKeys: string[], now: number): CounterState[] {
    const out: CounterState[] = new Array(counterKeys.length);
    for (let i = 0; i < counterKeys.length; i++) out[i] = this.state(counterKeys[i]!, now);
    return out;
  }

  async settle(reservationId: string, actuals: Actual[], now: number): Promise<SettleResult> {
    return this.settleSync(reservationId, actuals, now);
  }

  settleSync(reservationId: string, actuals: Actual[], now: number): SettleResult {
    for (const a of actuals) assertAmount(a.amount, 'actual', a.counterKey);
    const head = this.reservations.get(reservationId);
    if (head === undefined) return { found: false };
    this.reservations.delete(reservationId);
    if (now >= head.expiresAt + this.graceMs) return { found: false };
    const byKey = new Map<string, number>();
    for (const a of actuals) byKey.set(a.counterKey, a.amount);
    for (let e: Entry | null = head; e !== null; e = e.next) {
      const c = this.counters.get(e.counterKey);
      if (!c) continue; // the window's counter is gone: nothing left to correct
      this.sweep(c, now);
      const actual = byKey.get(e.counterKey) ?? e.amount;
      if (e.live) {
        // still pending: the estimate leaves `reserved`, the actual enters `spent`
        e.live = false;
        c.live--;
        c.reserved -= e.amount;
        c.spent += actual;
      } else {
        // expired earlier: its estimate was moved to `spent`; correct by the difference
        c.spent = Math.max(0, c.spent + actual - e.amount);
      }
    }
    return { found: true };
  }

  async release(reservationId: string, now: number): Promise<SettleResult> {
    return this.releaseSync(reservationId, now);
  }

  releaseSync(reservationId: string, now: number): SettleResult {
    const head = this.reservations.get(reservationId);
    if (head === undefined) return { found: false };
    const zeros: Actual[] = [];
    for (let e: Entry | null = head; e !== null; e = e.next) zeros.push({ counterKey: e.counterKey, amount: 0 });
    return this.settleSync(reservationId, zeros, now);
  }

  async addSpent(counterKey: string, amount: number, expiresAt: number | null, now: number, mode?: CounterMode): Promise<void> {
    this.addSpentSync(counterKey, amount, expiresAt, now, mode);
  }

  addSpentSync(counterKey: string, amount: number, expiresAt: number | null, now: number, mode?: CounterMode): void {
    assertAmount(amount, 'amount');
    const c = this.counter(counterKey, expiresAt, 0, mode, now);
    this.sweep(c, now);
    c.spent += amount;
  }

  async consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.consumeOnceSync(key, expiresAt, now);
  }

  /** The synchronous core of `consumeOnce` (single-use approval tokens). */
  consumeOnceSync(key: string, expiresAt: number, now: number): boolean {
    if (typeof key !== 'string') throw new TypeError('consumeOnce: key must be a string');
    const until = this.once.get(key);
    if (until !== undefined && now < until) return false;
    this.once.set(key, expiresAt);
    return true;
  }

  /** Drop expired reservation records and counters of ended windows. Runs by itself at most once a
   *  minute (of decision time); call it explicitly to bound memory in long-lived tests. */
  gc(now: number = this.clock()): void {
    this.lastGc = now;
    const graceMs = this.graceMs;
    this.reservations.deleteWhere((r) => now >= r.expiresAt + graceMs);
    for (const [k, until] of this.once) if (now >= until) this.once.delete(k);
    for (const [k, c] of this.counters) {
      this.sweep(c, now);
      if (c.mode !== undefined && c.mode.kind === 'bucket') {
        // a full token bucket with nothing pending reads the same as an unknown key: forget it, once
        // no late settle can reach it
        if (c.spent === 0 && c.live === 0 && (c.dropAt === null || now >= c.dropAt)) this.counters.delete(k);
      } else if (c.dropAt !== null && now >= c.dropAt && c.live === 0) this.counters.delete(k);
    }
  }

  /** A snapshot for tests and debugging: counters (after expiry at `now`) and live reservation ids. */
  inspect(now: number = this.clock()): { counters: Record<string, CounterState & { pending: number }>; reservations: string[] } {
    const counters: Record<string, CounterState & { pending: number }> = {};
    for (const [k, c] of this.counters) {
      this.sweep(c, now);
      counters[k] = { spent: c.spent, reserved: c.reserved, pending: c.live };
    }
    return { counters, reservations: [...this.reservations.ids()] };
  }

  // ------------------------------------------------------------------ internals

  private maybeGc(now: number): void {
    if (now - this.lastGc >= 60_000 || now < this.lastGc) this.gc(now);
  }

  private state(counterKey: string, now: number): CounterState {
    const c = this.counters.get(counterKey);
    if (!c) return { spent: 0, reserved: 0 };
    this.sweep(c, now);
    if (c.mode?.kind === 'anchored') return { spent: c.spent, reserved: c.reserved, start: c.t + c.period * c.mode.periodMs };
    return { spent: c.spent, reserved: c.reserved };
  }

  private counter(counterKey: string, windowEnd: number | null, ttlMs: number, mode: CounterMode | undefined, now: number): Counter {
    return this.counterOf(this.counters.get(counterKey), counterKey, windowEnd, ttlMs, mode, now);
  }

  /** `counter` with the key's counter already looked up (`c`; undefined: none yet). */
  private counterOf(c: Counter | undefined, counterKey: string, windowEnd: number | null, ttlMs: number, mode: CounterMode | undefined, now: number): Counter {
    // An anchored counter is forgotten one period (plus the reservation TTL and settle grace) after its
    // last write, as the Redis store's key expires: by then its period has ended with nothing pending.
    // A token bucket is kept at least through its reservations' settle grace, so that a late settle
    // of an expired one still corrects it (as in Redis), even once the bucket is full again.
    const dropAt =
      mode?.kind === 'anchored' ? now + ttlMs + this.graceMs + mode.periodMs : mode?.kind === 'bucket' ? now + ttlMs + this.graceMs : windowEnd === null ? null : windowEnd + ttlMs + this.graceMs;
    if (!c) {
      // An anchored counter's anchor, and a bucket's refill time, start at its first write.
      c = { spent: 0, reserved: 0, live: 0, heap: [], dropAt, mode, t: now, period: 0, maxAt: -Infinity, minAt: Infinity };
      this.counters.set(counterKey, c);
    } else {
      if (c.dropAt !== null && (dropAt === null || dropAt > c.dropAt)) c.dropAt = dropAt;
      if (c.mode === undefined && mode !== undefined) {
        c.mode = mode;
        c.t = now;
      }
    }
    return c;
  }

  /** Expired reservations count their estimate as spent (conservative). O(k log n) for k expiries.
   *  First, a token bucket drains and an anchored counter moves to its current period (`touch`). */
  private sweep(c: Counter, now: number): void {
    if (c.mode !== undefined) touch(c, c.mode, now);
    let h = c.heap;
    while (c.minAt <= now) {
      const top = heapPop(c)!;
      if (top.live) {
        top.live = false;
        c.live--;
        c.reserved -= top.amount;
        c.spent += top.amount;
      }
    }
    // Settled entries linger in the heap until they reach the top; rebuild when they dominate.
    if (h.length > 64 && h.length > 2 * c.live) {
      const old = h;
      h = c.heap = [];
      c.minAt = Infinity;
      for (const e of old) if (e.live) heapPush(c, e);
    }
  }
}

/**
 * Brings a token bucket or anchored counter to `now` (store.ts `CounterMode`; the Redis store's
 * `touch` in Lua is the same arithmetic). Integers only: a bucket drains whole units.
 */
function touch(c: Counter, m: CounterMode, now: number): void {
  if (m.kind === 'bucket') {
    if (now <= c.t) return;
    if (c.spent === 0) {
      c.t = now; // a full bucket does not bank refills
      return;
    }
    const credit = Math.floor(((now - c.t) * m.refill) / m.everyMs);
    if (credit >= c.spent) {
      c.spent = 0;
      c.t = now;
    } else if (credit > 0) {
      c.spent -= credit;
      c.t += Math.ceil((credit * m.everyMs) / m.refill);
    }
    return;
  }
  const k = Math.floor((now - c.t) / m.periodMs);
  if (k > c.period) {
    c.period = k;
    c.spent = 0;
  }
}

function heapPush(c: Counter, e: Entry): void {
  const h = c.heap;
  if (e.expiresAt < c.minAt) c.minAt = e.expiresAt;
  if (e.expiresAt >= c.maxAt) {
    c.maxAt = e.expiresAt;
    h.push(e);
    return;
  }
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent]!.expiresAt <= e.expiresAt) break;
    h[i] = h[parent]!;
    i = parent;
  }
  h[i] = e;
}

function heapPop(c: Counter): Entry | undefined {
  const h = c.heap;
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last) {
    const n = h.length;
    const key = last.expiresAt;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mv = key;
      if (l < n && h[l]!.expiresAt < mv) {
        m = l;
        mv = h[l]!.expiresAt;
      }
      if (r < n && h[r]!.expiresAt < mv) m = r;
      if (m === i) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = last;
  }
  c.minAt = h.length > 0 ? h[0]!.expiresAt : Infinity;
  return top;
}
