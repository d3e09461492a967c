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
import { IntIdIndex } from './id-index.js';
import { rollingSiblings } from './windows.js';

// Reservations live in a slab of typed arrays, not in objects: one slot per reserved item (its
// amount, expiry, counter and the reservation's next item), so an unsettled reservation is no
// object on the JS heap. An object per item was copied by every scavenge it survived, promoted, and
// reached from old objects (the counter's heap, the id index) through the remembered set: under load
// that made each scavenge pause longer (docs/benchmarks.md, "Session 11: reservations off the heap").

/** A slot's flags. */
/** Still counted in its counter's `reserved` (not expired, settled or released). */
const LIVE = 1;
/** An element of its counter's heap. */
const IN_HEAP = 2;
/** Part of a reservation record the id index reaches (until settled, released or forgotten). */
const IN_RECORD = 4;
/** No slot (end of a reservation's list, of the free list). */
const NONE = -1;

/** Slot `s` is at `s & PAGE_MASK` of page `s >>> PAGE_BITS`. The first page grows by doubling up to
 *  PAGE_SLOTS; then a full page is added at a time, so growing never copies more than one page (a
 *  slab of millions of slots copied at once would stall its caller for tens of milliseconds). */
const PAGE_BITS = 16;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;

/** Slots of the slab: the reserved amount, its expiry (epoch ms; from then on the amount counts as
 *  spent), the reservation's next slot (or the next free slot), its counter key's number, flags. */
interface Page {
  amount: Float64Array;
  expiresAt: Float64Array;
  next: Int32Array;
  keyOf: Int32Array;
  flags: Uint8Array;
}

function newPage(n: number): Page {
  return { amount: new Float64Array(n), expiresAt: new Float64Array(n), next: new Int32Array(n), keyOf: new Int32Array(n), flags: new Uint8Array(n) };
}

interface Counter {
  /** The counter key's number (`MemoryBudgetStore.keys`): what a slot records. */
  id: number;
  spent: number;
  reserved: number;
  /** How many live slots the counter has. */
  live: number;
  /** Min-heap by expiry of the counter's slots (`heap[0 .. size)`, their expiries in `at`: no slab
   *  read to order them); slots no longer live (settled, released) are dropped lazily. */
  heap: Int32Array;
  at: Float64Array;
  size: number;
  /** Forget the counter after this time (window end + grace); null = never. */
  dropAt: number | null;
  /** A token bucket or anchored counter (store.ts `CounterMode`), else undefined. */
  mode: CounterMode | undefined;
  /** Token bucket: the time its level last drained to (epoch ms). Anchored: the anchor (first write). */
  t: number;
  /** Anchored: the current period's ordinal since the anchor. */
  period: number;
  /** At least the latest expiry in `heap` (-Infinity when it never held one): a slot that expires no
   *  earlier is pushed at the end without reading its parent (one TTL per engine makes that the
   *  usual case). */
  maxAt: number;
  /** The earliest expiry in `heap` (its top's; Infinity when empty). */
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
/** The slab's first size (slots; doubled when full) and a new counter heap's. */
const INITIAL_SLOTS = 1024;
const INITIAL_HEAP = 16;


const WINDOW_KINDS: readonly StoreWindowKind[] = Object.freeze(['rolling', 'bucket', 'anchored'] as StoreWindowKind[]);

export class MemoryBudgetStore implements BudgetStore {
  /** Rolling windows, token buckets and anchored periods (store.ts `windowKinds`). */
  readonly windowKinds = WINDOW_KINDS;
  private readonly counters = new Map<string, Counter>();
  /** Consumed single-use keys → the time they may be forgotten. */
  private readonly once = new Map<string, number>();
  /** Reservation id → its first slot. The record is forgotten at its expiry + `graceMs`. */
  private readonly reservations = new IntIdIndex();
  private readonly graceMs: number;
  private readonly clock: () => number;
  private lastGc = -Infinity;

  /** The slab (`Page`). */
  private pages: Page[] = [newPage(INITIAL_SLOTS)];
  /** Slots in the pages. */
  private capacity = INITIAL_SLOTS;
  /** Slots `[0, used)` have been handed out; freed ones are listed from `free` through `next`. */
  private used = 0;
  private free = NONE;
  /** Slots in use (handed out and not freed). */
  private taken = 0;

  // Counter keys by number: a slot names its counter by key, as the record it replaces did (a counter
  // forgotten and written again is found by a late settle), without a string per slot. A number is
  // kept while its counter exists or a slot names it (`refs`), then reused.
  private readonly keyIds = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly keyCounter: (Counter | undefined)[] = [];
  private readonly refs: number[] = [];
  private readonly freeKeys: number[] = [];

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
    // Claimed before any write (the first slot, filled in below): a duplicate id changes nothing.
    const head = this.alloc();
    if (!this.reservations.add(id, head)) {
      this.unalloc(head);
      throw new Error(`reservation ${id} already exists`);
    }
    this.pages[head >>> PAGE_BITS]!.flags[head & PAGE_MASK] = IN_RECORD;
    // 2. Write every item (all or nothing: nothing above can fail now).
    let tail = NONE;
    for (let i = 0; i < n; i++) {
      const it = reqItems[i]!;
      const c = this.counterOf(i === 0 ? first : this.counters.get(it.counterKey), it.counterKey, it.expiresAt, req.ttlMs, it.mode, req.now);
      c.reserved += it.charge;
      // The same counter twice in one reservation: one slot with the sum.
      const key = c.id;
      let dup = false;
      for (let e = tail === NONE ? NONE : head; e !== NONE; ) {
        const p = this.pages[e >>> PAGE_BITS]!;
        const o = e & PAGE_MASK;
        if (p.keyOf[o] === key) {
          p.amount[o] += it.charge;
          dup = true;
          break;
        }
        e = p.next[o]!;
      }
      if (dup) continue;
      const e = tail === NONE ? head : this.alloc();
      const p = this.pages[e >>> PAGE_BITS]!;
      const o = e & PAGE_MASK;
      p.amount[o] = it.charge;
      p.expiresAt[o] = expiresAt;
      p.keyOf[o] = key;
      this.refs[key]!++;
      p.flags[o] = LIVE | IN_HEAP | IN_RECORD;
      if (tail !== NONE) this.pages[tail >>> PAGE_BITS]!.next[tail & PAGE_MASK] = e;
      c.live++;
      heapPush(c, e, expiresAt);
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
    if (now >= this.pages[head >>> PAGE_BITS]!.expiresAt[head & PAGE_MASK]! + this.graceMs) {
      this.forget(head);
      return { found: false };
    }
    // By counter key, the last one for a key standing (a map for many; a few, the usual case, are
    // searched from the end).
    const byKey = actuals.length > 8 ? new Map<string, number>() : null;
    if (byKey !== null) for (const a of actuals) byKey.set(a.counterKey, a.amount);
    for (let e = head; e !== NONE; ) {
      const slot = e;
      const p = this.pages[e >>> PAGE_BITS]!;
      const o = e & PAGE_MASK;
      e = p.next[o]!;
      const key = p.keyOf[o]!;
      const c = this.keyCounter[key];
      if (!c) continue; // the window's counter is gone: nothing left to correct
      this.sweep(c, now);
      const amount = p.amount[o]!;
      let actual = amount;
      if (byKey !== null) actual = byKey.get(this.keys[key]!) ?? amount;
      else {
        const k = this.keys[key]!;
        for (let i = actuals.length - 1; i >= 0; i--) {
          const a = actuals[i]!;
          if (a.counterKey === k) {
            actual = a.amount;
            break;
          }
        }
      }
      if (p.flags[o]! & LIVE) {
        // still pending: the estimate leaves `reserved`, the actual enters `spent`
        c.live--;
        c.reserved -= amount;
        c.spent += actual;
        // The heap's last slot (settled in the order reserved): out of the heap now, free below.
        const last = c.size - 1;
        if (last >= 0 && c.heap[last] === slot) {
          c.size = last;
          if (last === 0) c.minAt = Infinity;
          p.flags[o] = p.flags[o]! & ~(LIVE | IN_HEAP);
        } else p.flags[o]! &= ~LIVE;
      } else {
        // expired earlier: its estimate was moved to `spent`; correct by the difference
        c.spent = Math.max(0, c.spent + actual - amount);
      }
    }
    this.forget(head);
    return { found: true };
  }

  async release(reservationId: string, now: number): Promise<SettleResult> {
    return this.releaseSync(reservationId, now);
  }

  releaseSync(reservationId: string, now: number): SettleResult {
    const head = this.reservations.get(reservationId);
    if (head === undefined) return { found: false };
    const zeros: Actual[] = [];
    for (let e = head; e !== NONE; ) {
      const p = this.pages[e >>> PAGE_BITS]!;
      zeros.push({ counterKey: this.keys[p.keyOf[e & PAGE_MASK]!]!, amount: 0 });
      e = p.next[e & PAGE_MASK]!;
    }
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
    this.reservations.deleteWhere((head) => {
      if (now < this.pages[head >>> PAGE_BITS]!.expiresAt[head & PAGE_MASK]! + graceMs) return false;
      this.forget(head);
      return true;
    });
    for (const [k, until] of this.once) if (now >= until) this.once.delete(k);
    for (const [k, c] of this.counters) {
      this.sweep(c, now);
      if (c.mode !== undefined && c.mode.kind === 'bucket') {
        // a full token bucket with nothing pending reads the same as an unknown key: forget it, once
        // no late settle can reach it
        if (c.spent === 0 && c.live === 0 && (c.dropAt === null || now >= c.dropAt)) this.dropCounter(k, c);
      } else if (c.dropAt !== null && now >= c.dropAt && c.live === 0) this.dropCounter(k, c);
    }
    if (this.capacity > INITIAL_SLOTS && this.taken * 4 < this.capacity) this.compact();
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
      const id = this.keyId(counterKey);
      c = { id, spent: 0, reserved: 0, live: 0, heap: new Int32Array(INITIAL_HEAP), at: new Float64Array(INITIAL_HEAP), size: 0, dropAt, mode, t: now, period: 0, maxAt: -Infinity, minAt: Infinity };
      this.counters.set(counterKey, c);
      this.keyCounter[id] = c;
      this.refs[id]!++;
    } else {
      if (c.dropAt !== null && (dropAt === null || dropAt > c.dropAt)) c.dropAt = dropAt;
      if (c.mode === undefined && mode !== undefined) {
        c.mode = mode;
        c.t = now;
      }
    }
    return c;
  }

  /** The number of `key` (a new one unless a counter or a slot has it). */
  private keyId(key: string): number {
    let id = this.keyIds.get(key);
    if (id !== undefined) return id;
    id = this.freeKeys.length > 0 ? this.freeKeys.pop()! : this.keys.length;
    this.keyIds.set(key, id);
    this.keys[id] = key;
    this.keyCounter[id] = undefined;
    this.refs[id] = 0;
    return id;
  }

  private dropCounter(key: string, c: Counter): void {
    this.counters.delete(key);
    // Its heap holds no live slot (`live` is 0); the others were kept only to be dropped lazily.
    for (let i = 0; i < c.size; i++) this.leaveHeap(c.heap[i]!);
    c.size = 0;
    this.keyCounter[c.id] = undefined;
    this.unref(c.id);
  }

  private unref(id: number): void {
    if (--this.refs[id]! > 0) return;
    this.keyIds.delete(this.keys[id]!);
    this.keys[id] = '';
    this.freeKeys.push(id);
  }

  /** A free slot (flags 0, no key, no next). */
  private alloc(): number {
    let s = this.free;
    if (s !== NONE) this.free = this.pages[s >>> PAGE_BITS]!.next[s & PAGE_MASK]!;
    else {
      if (this.used === this.capacity) this.grow();
      s = this.used++;
    }
    this.taken++;
    const p = this.pages[s >>> PAGE_BITS]!;
    p.next[s & PAGE_MASK] = NONE;
    p.keyOf[s & PAGE_MASK] = NONE;
    return s;
  }

  /** Returns a slot `alloc` just gave (nothing names it). */
  private unalloc(s: number): void {
    const p = this.pages[s >>> PAGE_BITS]!;
    p.flags[s & PAGE_MASK] = 0;
    p.next[s & PAGE_MASK] = this.free;
    this.free = s;
    this.taken--;
  }

  /** The first page doubles up to a full page; then a full page is added. */
  private grow(): void {
    if (this.capacity < PAGE_SLOTS) {
      const old = this.pages[0]!;
      const n = this.capacity * 2;
      const p = newPage(n);
      p.amount.set(old.amount);
      p.expiresAt.set(old.expiresAt);
      p.next.set(old.next);
      p.keyOf.set(old.keyOf);
      p.flags.set(old.flags);
      this.pages[0] = p;
      this.capacity = n;
    } else {
      this.pages.push(newPage(PAGE_SLOTS));
      this.capacity += PAGE_SLOTS;
    }
  }

  /**
   * A slab at most a quarter used (after a burst of reservations, once they are forgotten) moves
   * its slots to the front of a smaller one (about twice what is used, at least the first size), in
   * the same order: the heaps, the reservations' lists and the id index are renumbered. Run by `gc`.
   */
  private compact(): void {
    const used = this.used;
    const old = this.pages;
    const to = new Int32Array(used);
    let n = 0;
    for (let i = 0; i < used; i++) to[i] = old[i >>> PAGE_BITS]!.flags[i & PAGE_MASK] === 0 ? NONE : n++;
    let capacity = INITIAL_SLOTS;
    while (capacity < 2 * n && capacity < PAGE_SLOTS) capacity *= 2;
    const pages = [newPage(capacity)];
    while (capacity < n) {
      pages.push(newPage(PAGE_SLOTS));
      capacity += PAGE_SLOTS;
    }
    for (let i = 0; i < used; i++) {
      const j = to[i]!;
      if (j === NONE) continue;
      const p = old[i >>> PAGE_BITS]!;
      const o = i & PAGE_MASK;
      const q = pages[j >>> PAGE_BITS]!;
      const r = j & PAGE_MASK;
      q.amount[r] = p.amount[o]!;
      q.expiresAt[r] = p.expiresAt[o]!;
      const nx = p.next[o]!;
      q.next[r] = nx === NONE ? NONE : to[nx]!;
      q.keyOf[r] = p.keyOf[o]!;
      q.flags[r] = p.flags[o]!;
    }
    this.pages = pages;
    this.capacity = capacity;
    this.used = n;
    this.free = NONE;
    for (const c of this.counters.values()) {
      const h = c.heap;
      for (let i = 0; i < c.size; i++) h[i] = to[h[i]!]!;
    }
    this.reservations.mapValues((s) => to[s]!);
  }

  /** A reservation's record is gone (settled, released, forgotten): its slots no longer in a heap
   *  are free. */
  private forget(head: number): void {
    for (let e = head; e !== NONE; ) {
      const p = this.pages[e >>> PAGE_BITS]!;
      const o = e & PAGE_MASK;
      const n = p.next[o]!;
      const f = p.flags[o]! & ~IN_RECORD;
      p.flags[o] = f;
      if ((f & IN_HEAP) === 0) this.release1(e);
      e = n;
    }
  }

  /** A slot has left its counter's heap: free unless its record still holds it. */
  private leaveHeap(e: number): void {
    const p = this.pages[e >>> PAGE_BITS]!;
    const f = p.flags[e & PAGE_MASK]! & ~IN_HEAP;
    p.flags[e & PAGE_MASK] = f;
    if ((f & IN_RECORD) === 0) this.release1(e);
  }

  private release1(e: number): void {
    const p = this.pages[e >>> PAGE_BITS]!;
    const o = e & PAGE_MASK;
    const key = p.keyOf[o]!;
    p.flags[o] = 0;
    p.next[o] = this.free;
    this.free = e;
    this.taken--;
    if (key !== NONE) this.unref(key);
  }

  /** Expired reservations count their estimate as spent (conservative). O(k log n) for k expiries.
   *  First, a token bucket drains and an anchored counter moves to its current period (`touch`). */
  private sweep(c: Counter, now: number): void {
    if (c.mode !== undefined) touch(c, c.mode, now);
    while (c.minAt <= now) {
      const top = heapPop(c);
      const p = this.pages[top >>> PAGE_BITS]!;
      const o = top & PAGE_MASK;
      if (p.flags[o]! & LIVE) {
        p.flags[o]! &= ~LIVE;
        const amount = p.amount[o]!;
        c.live--;
        c.reserved -= amount;
        c.spent += amount;
      }
      this.leaveHeap(top);
    }
    // Settled slots linger in the heap until they reach the top; rebuild when they dominate.
    const n = c.size;
    if (n > 64 && n > 2 * c.live) {
      // In place: the i-th slot read is pushed at an index no greater than i.
      const h = c.heap;
      const at = c.at;
      c.size = 0;
      c.minAt = Infinity;
      c.maxAt = -Infinity;
      for (let i = 0; i < n; i++) {
        const e = h[i]!;
        if (this.pages[e >>> PAGE_BITS]!.flags[e & PAGE_MASK]! & LIVE) heapPush(c, e, at[i]!);
        else this.leaveHeap(e);
      }
      if (h.length > INITIAL_HEAP && c.size * 4 < h.length) {
        const m = Math.max(INITIAL_HEAP, c.size * 2);
        c.heap = h.slice(0, m);
        c.at = at.slice(0, m);
      }
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

/** Adds slot `e`, expiring at `at`, to the counter's heap. */
function heapPush(c: Counter, e: number, at: number): void {
  let h = c.heap;
  let ats = c.at;
  if (c.size === h.length) {
    const n = h.length * 2;
    const bigger = new Int32Array(n);
    bigger.set(h);
    h = c.heap = bigger;
    const biggerAt = new Float64Array(n);
    biggerAt.set(ats);
    ats = c.at = biggerAt;
  }
  if (at < c.minAt) c.minAt = at;
  if (at >= c.maxAt) {
    c.maxAt = at;
    h[c.size] = e;
    ats[c.size++] = at;
    return;
  }
  let i = c.size++;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pa = ats[parent]!;
    if (pa <= at) break;
    h[i] = h[parent]!;
    ats[i] = pa;
    i = parent;
  }
  h[i] = e;
  ats[i] = at;
}

/** Removes and returns the heap's top slot (the heap is not empty: `minAt` is finite). */
function heapPop(c: Counter): number {
  const h = c.heap;
  const ats = c.at;
  const top = h[0]!;
  const n = --c.size;
  if (n > 0) {
    const last = h[n]!;
    const key = ats[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mv = key;
      if (l < n && ats[l]! < mv) {
        m = l;
        mv = ats[l]!;
      }
      if (r < n && ats[r]! < mv) {
        m = r;
        mv = ats[r]!;
      }
      if (m === i) break;
      h[i] = h[m]!;
      ats[i] = mv;
      i = m;
    }
    h[i] = last;
    ats[i] = key;
  }
  c.minAt = n > 0 ? ats[0]! : Infinity;
  return top;
}
