// The memory store keeps reservations in a slab of typed arrays (slots recycled through a free list,
// counter keys numbered). These tests check it against a plain model of docs/budgets.md's algorithm
// (an object per reserved item, counters found by key), and that slots and key numbers are reused.
import { strict as assert } from 'node:assert';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Actual, CounterState, ReserveItem, ReserveResult } from '../../language/runtime/store.js';
import { rng as prng } from '../helpers/prng.js';

/** The store's algorithm for plain counters (no rolling window, bucket or anchored period), one object
 *  per reserved item. */
class Model {
  private readonly counters = new Map<string, { spent: number; reserved: number; live: number; dropAt: number | null; items: Item[] }>();
  private readonly records = new Map<string, { expiresAt: number; items: Item[] }>();
  private lastGc = -Infinity;
  constructor(private readonly grace: number) {}

  reserve(id: string, now: number, ttlMs: number, commit: boolean, items: ReserveItem[]): ReserveResult {
    if (now - this.lastGc >= 60_000 || now < this.lastGc) this.gc(now);
    let ok = true;
    const out = items.map((it) => {
      const s = this.state(it.counterKey, now);
      const exceeded = s.spent + s.reserved + it.charge > it.limit;
      if (exceeded && it.enforce) ok = false;
      return { spent: s.spent, reserved: s.reserved, exceeded };
    });
    if (!ok || !commit || items.length === 0) return { ok, committed: false, items: out };
    if (this.records.has(id)) throw new Error(`reservation ${id} already exists`);
    const expiresAt = now + ttlMs;
    const mine: Item[] = [];
    for (const it of items) {
      const dropAt = it.expiresAt === null ? null : it.expiresAt + ttlMs + this.grace;
      let c = this.counters.get(it.counterKey);
      if (!c) this.counters.set(it.counterKey, (c = { spent: 0, reserved: 0, live: 0, dropAt, items: [] }));
      else if (c.dropAt !== null && (dropAt === null || dropAt > c.dropAt)) c.dropAt = dropAt;
      c.reserved += it.charge;
      const dup = mine.find((m) => m.key === it.counterKey);
      if (dup) {
        dup.amount += it.charge;
        continue;
      }
      const item: Item = { key: it.counterKey, amount: it.charge, expiresAt, live: true };
      mine.push(item);
      c.items.push(item);
      c.live++;
    }
    this.records.set(id, { expiresAt, items: mine });
    return { ok, committed: true, items: out };
  }

  settle(id: string, actuals: Actual[], now: number): { found: boolean } {
    const r = this.records.get(id);
    if (!r) return { found: false };
    this.records.delete(id);
    if (now >= r.expiresAt + this.grace) return { found: false };
    for (const it of r.items) {
      const c = this.counters.get(it.key);
      if (!c) continue;
      this.sweep(it.key, now);
      const actual = new Map(actuals.map((a) => [a.counterKey, a.amount])).get(it.key) ?? it.amount; // the last for a key stands
      if (it.live) {
        it.live = false;
        c.live--;
        c.reserved -= it.amount;
        c.spent += actual;
      } else c.spent = Math.max(0, c.spent + actual - it.amount);
    }
    return { found: true };
  }

  release(id: string, now: number): { found: boolean } {
    const r = this.records.get(id);
    return r ? this.settle(id, r.items.map((it) => ({ counterKey: it.key, amount: 0 })), now) : { found: false };
  }

  addSpent(key: string, amount: number, expiresAt: number | null, now: number): void {
    const dropAt = expiresAt === null ? null : expiresAt + this.grace;
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = { spent: 0, reserved: 0, live: 0, dropAt, items: [] }));
    else if (c.dropAt !== null && (dropAt === null || dropAt > c.dropAt)) c.dropAt = dropAt;
    this.sweep(key, now);
    c.spent += amount;
  }

  gc(now: number): void {
    this.lastGc = now;
    for (const [id, r] of this.records) if (now >= r.expiresAt + this.grace) this.records.delete(id);
    for (const [k, c] of this.counters) {
      this.sweep(k, now);
      if (c.dropAt !== null && now >= c.dropAt && c.live === 0) this.counters.delete(k);
    }
  }

  state(key: string, now: number): CounterState {
    const c = this.counters.get(key);
    if (!c) return { spent: 0, reserved: 0 };
    this.sweep(key, now);
    return { spent: c.spent, reserved: c.reserved };
  }

  inspect(now: number): { counters: Record<string, CounterState & { pending: number }>; reservations: string[] } {
    const counters: Record<string, CounterState & { pending: number }> = {};
    for (const [k, c] of this.counters) {
      this.sweep(k, now);
      counters[k] = { spent: c.spent, reserved: c.reserved, pending: c.live };
    }
    return { counters, reservations: [...this.records.keys()] };
  }

  private sweep(key: string, now: number): void {
    const c = this.counters.get(key)!;
    c.items = c.items.filter((it) => {
      if (it.expiresAt > now) return it.live;
      if (it.live) {
        it.live = false;
        c.live--;
        c.reserved -= it.amount;
        c.spent += it.amount;
      }
      return false;
    });
  }
}

interface Item {
  key: string;
  amount: number;
  expiresAt: number;
  live: boolean;
}


/** What a call returned, or the error's message. */
function outcome<T>(f: () => T): T | string {
  try {
    return f();
  } catch (e) {
    return (e as Error).message;
  }
}

const internals = (s: MemoryBudgetStore) => s as unknown as { used: number; capacity: number; pages: { flags: Uint8Array }[]; keys: string[]; keyIds: Map<string, number> };

describe('MemoryBudgetStore slab', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`decides as the one-object-per-item model through random reserves, settles, releases, gc and expiry (seed ${seed})`, () => {
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const grace = 200;
      const store = new MemoryBudgetStore({ settleGraceMs: grace });
      const model = new Model(grace);
      let compactions = 0;
      const inner = store as unknown as { compact: () => void };
      const compact = inner.compact;
      inner.compact = function (this: unknown) {
        compactions++;
        compact.call(this);
      };
      const keys = ['a', 'b', 'c', 'w1', 'w2', 'w3'];
      /** Window ends per windowed key: they move on, so counters are forgotten and made again. */
      const windowEnd = (k: string, now: number): number | null => (k.startsWith('w') ? (Math.floor(now / 300) + 1) * 300 + Number(k[1]) * 7 : null);
      const ids: string[] = [];
      let next = 0;
      let now = 1_000;
      for (let step = 0; step < 6_000; step++) {
        const op = rand();
        let got: unknown;
        let want: unknown;
        if (op < 0.002) {
          // A burst (not enforced: all committed): once forgotten, the slab is compacted.
          const r: unknown[] = [];
          const m: unknown[] = [];
          for (let b = 0; b < 1_500; b++) {
            const id = `b-${(next++).toString(36)}`;
            ids.push(id);
            const items: ReserveItem[] = [pick(keys), pick(keys)].map((k) => ({ counterKey: k, limit: 100, charge: Math.floor(rand() * 9), enforce: false, expiresAt: windowEnd(k, now) }));
            const ttl = 1 + Math.floor(rand() * 80);
            r.push(store.reserveSync({ reservationId: id, now, ttlMs: ttl, commit: true, items }));
            m.push(model.reserve(id, now, ttl, true, items));
          }
          got = r;
          want = m;
        } else if (op < 0.4) {
          // Engine-like ids (a prefix and a base-36 counter) across id groups, and a few others.
          const id = ids.length > 0 && rand() < 0.05 ? pick(ids) : rand() < 0.1 ? `odd_${next++}` : `p-${(next++).toString(36).padStart(3, '0')}`;
          ids.push(id);
          const n = 1 + Math.floor(rand() * 3);
          const items: ReserveItem[] = [];
          for (let i = 0; i < n; i++) {
            const k = pick(keys);
            items.push({ counterKey: k, limit: Math.floor(rand() * 400), charge: Math.floor(rand() * 60), enforce: rand() < 0.7, expiresAt: windowEnd(k, now) });
          }
          const ttl = 1 + Math.floor(rand() * 80);
          const commit = rand() < 0.9;
          got = outcome(() => store.reserveSync({ reservationId: id, now, ttlMs: ttl, commit, items }));
          want = outcome(() => model.reserve(id, now, ttl, commit, items));
        } else if (op < 0.6 && ids.length > 0) {
          const id = pick(ids);
          // Mostly a few keys; sometimes a key twice (the last stands) or many entries.
          const actuals: Actual[] = Array.from({ length: rand() < 0.8 ? Math.floor(rand() * 4) : Math.floor(rand() * 14) }, () => ({ counterKey: pick(keys), amount: Math.floor(rand() * 80) }));
          got = store.settleSync(id, actuals, now);
          want = model.settle(id, actuals, now);
        } else if (op < 0.7 && ids.length > 0) {
          const id = pick(ids);
          got = store.releaseSync(id, now);
          want = model.release(id, now);
        } else if (op < 0.75) {
          const k = pick(keys);
          const amount = Math.floor(rand() * 30);
          store.addSpentSync(k, amount, windowEnd(k, now), now);
          model.addSpent(k, amount, windowEnd(k, now), now);
        } else if (op < 0.78) {
          store.gc(now);
          model.gc(now);
        } else if (op < 0.8) {
          got = store.inspect(now);
          want = model.inspect(now);
          (got as { reservations: string[] }).reservations.sort();
          (want as { reservations: string[] }).reservations.sort();
        } else {
          now += rand() < 0.03 ? -5 : Math.floor(rand() * 12);
        }
        assert.deepEqual(got, want, `step ${step}`);
        const k = pick(keys);
        assert.deepEqual(store.peekSync([k], now), [model.state(k, now)], `step ${step}: ${k}`);
      }
      const end = now + 1_000_000;
      store.gc(end);
      model.gc(end);
      assert.deepEqual(store.inspect(end), model.inspect(end));
      assert.ok(compactions > 0, 'the slab was compacted');
    });
  }

  it('reuses the slots of settled and of forgotten reservations: the slab stays the size of what is live', () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 1_000 });
    const items = [
      { counterKey: 'k', limit: 1e15, charge: 3, enforce: true, expiresAt: null },
      { counterKey: 'j', limit: 1e15, charge: 4, enforce: true, expiresAt: null },
    ];
    for (let i = 0; i < 100_000; i++) {
      s.reserveSync({ reservationId: `r-${i.toString(36)}`, now: i, ttlMs: 10, commit: true, items });
      // Every other reservation is settled; the rest expire and are forgotten after the grace.
      if (i % 2 === 0) s.settleSync(`r-${i.toString(36)}`, [{ counterKey: 'k', amount: 1 }], i);
      if (i % 1_000 === 0) s.gc(i); // (by itself once a minute of decision time)
    }
    const end = 100_000 + 10 + 1_000;
    s.gc(end);
    assert.deepEqual(s.inspect(end), {
      counters: { k: { spent: 50_000 * 1 + 50_000 * 3, reserved: 0, pending: 0 }, j: { spent: 100_000 * 4, reserved: 0, pending: 0 } },
      reservations: [],
    });
    // Held at any time: ~10 settled (still in their counters' heaps) and at most ~2,010 expired within
    // their grace or not yet collected, 2 slots each.
    assert.ok(internals(s).used <= 4_096, `slots handed out: ${internals(s).used}`);
    assert.ok(internals(s).pages.every((p) => p.flags.every((f) => f === 0)), 'every slot is free');
  });

  it('compacts a slab a quarter used after a burst: the reservations left keep their counters, lists and ids', () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 1_000 });
    const items = (charge: number) => [
      { counterKey: 'k', limit: 1e15, charge, enforce: true, expiresAt: null },
      { counterKey: 'j', limit: 1e15, charge: 2 * charge, enforce: true, expiresAt: null },
    ];
    // A burst of short ones; every 100th lives long.
    for (let i = 0; i < 50_000; i++) s.reserveSync({ reservationId: `r-${i.toString(36)}`, now: 0, ttlMs: i % 100 === 0 ? 1e9 : 10, commit: true, items: items(i % 100 === 0 ? 5 : 1) });
    const big = internals(s).capacity;
    assert.ok(big >= 100_000);
    s.gc(2_000); // the short ones expired (counted as spent) and are forgotten
    const small = internals(s).capacity;
    assert.ok(small <= 2_048, `slab of ${small} slots after compaction (was ${big})`);
    assert.equal(internals(s).pages.length, 1);
    assert.deepEqual(s.inspect(2_000).counters, { k: { spent: 49_500, reserved: 2_500, pending: 500 }, j: { spent: 99_000, reserved: 5_000, pending: 500 } });
    // Each kept reservation still settles both its items (its list was renumbered) and only once.
    for (let i = 0; i < 50_000; i += 100) assert.deepEqual(s.settleSync(`r-${i.toString(36)}`, [{ counterKey: 'j', amount: 1 }], 2_000), { found: true }, String(i));
    assert.deepEqual(s.inspect(2_000), { counters: { k: { spent: 49_500 + 2_500, reserved: 0, pending: 0 }, j: { spent: 99_000 + 500, reserved: 0, pending: 0 } }, reservations: [] });
    // And the slab takes new ones.
    s.reserveSync({ reservationId: 'after', now: 3_000, ttlMs: 10, commit: true, items: items(1) });
    assert.deepEqual(s.peekSync(['k', 'j'], 3_005), [
      { spent: 52_000, reserved: 1 },
      { spent: 99_500, reserved: 2 },
    ]);
    assert.deepEqual(s.peekSync(['k', 'j'], 3_010), [
      { spent: 52_001, reserved: 0 },
      { spent: 99_502, reserved: 0 },
    ]);
  });

  it('numbers a counter key while its counter or a reservation names it, then reuses the number', () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 0 });
    for (let w = 0; w < 1_000; w++) {
      const now = w * 100;
      s.reserveSync({ reservationId: `w${w}`, now, ttlMs: 10, commit: true, items: [{ counterKey: `win:${w}`, limit: 100, charge: 1, enforce: true, expiresAt: now + 100 }] });
      s.settleSync(`w${w}`, [], now + 1);
      s.gc(now + 1);
    }
    s.gc(1_000 * 100 + 200);
    assert.deepEqual(s.inspect(1_000 * 100 + 200).counters, {});
    assert.ok(internals(s).keys.length <= 4, `key numbers: ${internals(s).keys.length}`);
    assert.equal(internals(s).keyIds.size, 0);
  });

  it('a late settle finds its counter by key after the counter was forgotten and written again', () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 100 });
    // A window that ended before the reservation: its counter may be forgotten once nothing is live.
    s.reserveSync({ reservationId: 'r-001', now: 0, ttlMs: 10, commit: true, items: [{ counterKey: 'k', limit: 100, charge: 10, enforce: true, expiresAt: -1_000 }] });
    s.gc(10); // the reservation expired (10 spent); the counter is forgotten, the record is not
    assert.deepEqual(s.inspect(10), { counters: {}, reservations: ['r-001'] });
    s.addSpentSync('k', 5, null, 20); // a new counter under the same key
    assert.deepEqual(s.settleSync('r-001', [{ counterKey: 'k', amount: 4 }], 20), { found: true });
    // Corrected by the difference (4 - 10), floored at 0, on the counter the key names now.
    assert.deepEqual(s.peekSync(['k'], 20), [{ spent: 0, reserved: 0 }]);
  });

  it('a reused id throws and leaves the slab as it was', () => {
    const s = new MemoryBudgetStore();
    const req = { reservationId: 'dup-01', now: 0, ttlMs: 10, commit: true, items: [{ counterKey: 'k', limit: 100, charge: 1, enforce: true, expiresAt: null }] };
    s.reserveSync(req);
    const used = internals(s).used;
    for (let i = 0; i < 10; i++) assert.throws(() => s.reserveSync(req), /already exists/);
    assert.equal(internals(s).used, used + 1, 'the claimed slot is returned and taken again');
    assert.deepEqual(s.peekSync(['k'], 0), [{ spent: 0, reserved: 1 }]);
  });
});
