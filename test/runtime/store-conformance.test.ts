// The exported BudgetStore conformance suite (`rein/testing`) against the memory store, and checks
// that the suite itself fails stores that break the contract (a suite that passes everything proves nothing).
import { strict as assert } from 'node:assert';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore, ReserveRequest } from '../../language/runtime/store.js';
import { budgetStoreConformance, budgetStoreConformanceCases, runConformanceCase, ConformanceError, type ConformanceCase } from '../../language/testing/index.js';

describe('MemoryBudgetStore', () => {
  budgetStoreConformance({ describe, it }, { store: () => new MemoryBudgetStore(), capabilities: { consumeOnce: true, sync: true, rolling: true, bucket: true, anchored: true } });
  describe('with a declared settle grace of 1 h', () => {
    budgetStoreConformance({ describe, it }, { store: () => new MemoryBudgetStore({ settleGraceMs: 3_600_000 }), capabilities: { settleGraceMs: 3_600_000 } });
  });
});

/** A memory store with one defect injected. */
function broken(defect: Partial<BudgetStore>): () => BudgetStore {
  return () => {
    const s = new MemoryBudgetStore();
    return Object.assign(Object.create(s) as BudgetStore, defect);
  };
}

async function failures(make: () => BudgetStore, caps = {}): Promise<string[]> {
  const out: string[] = [];
  for (const c of budgetStoreConformanceCases()) {
    if (c.requires && !(caps as Record<string, boolean>)[c.requires]) continue;
    try {
      await runConformanceCase(c, { store: make, concurrency: 40 });
    } catch (e) {
      assert.ok(e instanceof ConformanceError, `case "${c.name}" threw ${String(e)}`);
      out.push(c.name);
    }
  }
  return out;
}

describe('the conformance suite catches broken stores', () => {
  const byName = (part: string) => (names: string[]) => names.some((n) => n.includes(part));

  it('a store whose check and write are not atomic (read, await, write) fails the concurrency cases', async () => {
    const make = () => {
      const s = new MemoryBudgetStore();
      return Object.assign(Object.create(s) as BudgetStore, {
        async reserve(r: ReserveRequest) {
          const before = await s.peek(r.items.map((i) => i.counterKey), r.now);
          const items = r.items.map((it, i) => ({ ...before[i]!, exceeded: before[i]!.spent + before[i]!.reserved + it.charge > it.limit }));
          const ok = r.items.every((it, i) => !it.enforce || !items[i]!.exceeded);
          await new Promise((res) => setTimeout(res, 1));
          if (!ok || !r.commit || r.items.length === 0) return { ok, committed: false, items };
          s.reserveSync({ ...r, items: r.items.map((it) => ({ ...it, limit: Number.MAX_SAFE_INTEGER })) });
          return { ok, committed: true, items };
        },
      });
    };
    const failed = await failures(make);
    assert.deepEqual(failed.filter((n) => n.startsWith('concurrency:')).length, 2, failed.join('\n'));
    assert.ok(!byName('exactly on the limit')(failed), 'sequentially it behaves');
  });

  it('a release that is not idempotent, a settle that applies twice, and a missing expiry each fail', async () => {
    const s1 = broken({
      async release(id: string, now: number) {
        const s = Object.getPrototypeOf(this) as MemoryBudgetStore;
        await s.release(id, now);
        return { found: true };
      },
    });
    assert.ok(byName('release: drops a reservation')(await failures(s1)));
    const s2 = () => {
      const s = new MemoryBudgetStore();
      return Object.assign(Object.create(s) as BudgetStore, {
        async settle(id: string, actuals: { counterKey: string; amount: number }[], now: number) {
          const r = await s.settle(id, actuals, now);
          if (!r.found) for (const a of actuals) await s.addSpent(a.counterKey, a.amount, null, now);
          return { found: true };
        },
      });
    };
    const f2 = await failures(s2);
    assert.ok(byName('settle: once per reservation')(f2), f2.join('\n'));
    const s3 = () => {
      const s = new MemoryBudgetStore();
      return Object.assign(Object.create(s) as BudgetStore, {
        reserve: (r: ReserveRequest) => s.reserve({ ...r, ttlMs: r.ttlMs * 1000 }),
      });
    };
    assert.ok(byName('timeouts: an unsettled reservation expires')(await failures(s3)));
  });

  it('a store that accepts a duplicate reservation id, or forgets its grace, fails the case about it', async () => {
    // a second reserve with a live id overwrites the first (as a store keyed by id without a claim would)
    const dup = () => {
      const s = new MemoryBudgetStore();
      let n = 0;
      return Object.assign(Object.create(s) as BudgetStore, {
        reserve: (r: ReserveRequest) => s.reserve({ ...r, reservationId: `${r.reservationId}#${++n}` }),
        settle: (id: string, a: { counterKey: string; amount: number }[], now: number) => s.settle(`${id}#1`, a, now),
        release: (id: string, now: number) => s.release(`${id}#1`, now),
      });
    };
    const f1 = await failures(dup);
    assert.ok(byName('the id of a live reservation')(f1), f1.join('\n'));
    // declares a 1 h grace but keeps reservations for 24 h
    const grace = budgetStoreConformanceCases().find((x) => x.requires === 'settleGraceMs') as ConformanceCase;
    await assert.rejects(runConformanceCase(grace, { store: () => new MemoryBudgetStore(), capabilities: { settleGraceMs: 3_600_000 } }), ConformanceError);
    await runConformanceCase(grace, { store: () => new MemoryBudgetStore(), capabilities: { settleGraceMs: 24 * 3_600_000 } });
  });

  it('the memory store declares no tombstones: the release-before-reserve case fails it (so the capability means something)', async () => {
    const c = budgetStoreConformanceCases().find((x) => x.requires === 'releaseBeforeReserve') as ConformanceCase;
    await assert.rejects(runConformanceCase(c, { store: () => new MemoryBudgetStore() }), ConformanceError);
  });

  it('registers only the cases whose capabilities the store declares, inside one describe', () => {
    const names: string[] = [];
    let described = '';
    budgetStoreConformance({ describe: (n, body) => ((described = n), body()), it: (n) => void names.push(n) }, { store: () => new MemoryBudgetStore() }, 'title');
    assert.equal(described, 'title');
    const all = budgetStoreConformanceCases();
    assert.equal(names.length, all.filter((c) => !c.requires).length);
    assert.ok(names.length >= 20);
  });
});
