import { strict as assert } from 'node:assert';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { ReserveItem } from '../../language/runtime/store.js';

const item = (counterKey: string, limit: number, charge: number, enforce = true, expiresAt: number | null = null): ReserveItem => ({
  counterKey,
  limit,
  charge,
  enforce,
  expiresAt,
});

describe('MemoryBudgetStore', () => {
  it('reserves all items or none', async () => {
    const s = new MemoryBudgetStore();
    const r1 = await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: true, items: [item('k1', 10, 6), item('k2', 10, 6)] });
    assert.equal(r1.ok, true);
    assert.equal(r1.committed, true);
    // k1 has room (6 + 3 <= 10) but k2 does not (6 + 5 > 10): nothing is written.
    const r2 = await s.reserve({ reservationId: 'b', now: 0, ttlMs: 1000, commit: true, items: [item('k1', 10, 3), item('k2', 10, 5)] });
    assert.equal(r2.ok, false);
    assert.equal(r2.committed, false);
    assert.deepEqual(r2.items.map((i) => i.exceeded), [false, true]);
    assert.deepEqual(await s.peek(['k1', 'k2'], 0), [
      { spent: 0, reserved: 6 },
      { spent: 0, reserved: 6 },
    ]);
  });

  it('many reservations across id groups: a reused id throws and changes nothing; settle, release and gc find each one', () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 1000 });
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) ids.push(i % 3 === 0 ? `r${i}` : `prefix-${(i * 7919).toString(36)}`);
    for (const [i, id] of ids.entries()) s.reserveSync({ reservationId: id, now: 0, ttlMs: i < 1500 ? 100 : 10_000, commit: true, items: [item('k', 1e9, 1), item('j', 1e9, 2)] });
    assert.equal(s.inspect(0).reservations.length, 3000);
    assert.deepEqual(new Set(s.inspect(0).reservations), new Set(ids));
    assert.throws(() => s.reserveSync({ reservationId: ids[2000]!, now: 0, ttlMs: 10, commit: true, items: [item('k', 1e9, 50)] }), /already exists/);
    assert.deepEqual(s.peekSync(['k', 'j'], 0), [
      { spent: 0, reserved: 3000 },
      { spent: 0, reserved: 6000 },
    ]);
    assert.deepEqual(s.settleSync(ids[2000]!, [{ counterKey: 'k', amount: 0 }], 0), { found: true });
    assert.deepEqual(s.releaseSync(ids[2001]!, 0), { found: true });
    assert.deepEqual(s.settleSync(ids[2000]!, [], 0), { found: false });
    assert.deepEqual(s.peekSync(['k', 'j'], 0), [
      { spent: 0, reserved: 2998 },
      { spent: 2, reserved: 5996 },
    ]);
    // The first 1500 expire at 100 and are forgotten after their grace (1100); the rest stay.
    s.gc(1100);
    assert.equal(s.inspect(1100).reservations.length, 1498);
    assert.deepEqual(s.settleSync(ids[0]!, [], 1100), { found: false });
    assert.deepEqual(s.settleSync(ids[2999]!, [{ counterKey: 'j', amount: 0 }], 1100), { found: true });
  });

  it('a non-enforced item may exceed without blocking, and is still reserved', async () => {
    const s = new MemoryBudgetStore();
    const r = await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: true, items: [item('k1', 10, 20, false), item('k2', 10, 1)] });
    assert.equal(r.ok, true);
    assert.equal(r.items[0]!.exceeded, true);
    assert.deepEqual(await s.peek(['k1'], 0), [{ spent: 0, reserved: 20 }]);
  });

  it('commit: false only reports', async () => {
    const s = new MemoryBudgetStore();
    await s.addSpent('k', 4, null, 0);
    const r = await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: false, items: [item('k', 10, 7)] });
    assert.equal(r.committed, false);
    assert.equal(r.ok, false);
    assert.deepEqual(r.items[0], { spent: 4, reserved: 0, exceeded: true });
    assert.deepEqual(await s.peek(['k'], 0), [{ spent: 4, reserved: 0 }]);
  });

  it('settle replaces the estimate by the actual amount', async () => {
    const s = new MemoryBudgetStore();
    await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: true, items: [item('k', 100, 10)] });
    assert.deepEqual(await s.settle('a', [{ counterKey: 'k', amount: 3 }], 10), { found: true });
    assert.deepEqual(await s.peek(['k'], 10), [{ spent: 3, reserved: 0 }]);
    assert.deepEqual(await s.settle('a', [{ counterKey: 'k', amount: 3 }], 10), { found: false });
    assert.deepEqual(await s.peek(['k'], 10), [{ spent: 3, reserved: 0 }]);
  });

  it('an expired reservation counts its estimate as spent; a late settle corrects it', async () => {
    const s = new MemoryBudgetStore();
    await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: true, items: [item('k', 100, 10)] });
    assert.deepEqual(await s.peek(['k'], 999), [{ spent: 0, reserved: 10 }]);
    assert.deepEqual(await s.peek(['k'], 1000), [{ spent: 10, reserved: 0 }]);
    await s.settle('a', [{ counterKey: 'k', amount: 4 }], 5000);
    assert.deepEqual(await s.peek(['k'], 5000), [{ spent: 4, reserved: 0 }]);
  });

  it('after the settle grace a reservation is forgotten and its estimate stands', async () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 100 });
    await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: true, items: [item('k', 100, 10)] });
    assert.deepEqual(await s.settle('a', [{ counterKey: 'k', amount: 0 }], 1100), { found: false });
    assert.deepEqual(await s.peek(['k'], 1100), [{ spent: 10, reserved: 0 }]);
  });

  it('release drops a reservation (also an expired one)', async () => {
    const s = new MemoryBudgetStore();
    await s.reserve({ reservationId: 'a', now: 0, ttlMs: 1000, commit: true, items: [item('k', 100, 10)] });
    await s.reserve({ reservationId: 'b', now: 0, ttlMs: 1000, commit: true, items: [item('k', 100, 7)] });
    await s.release('a', 10);
    assert.deepEqual(await s.peek(['k'], 10), [{ spent: 0, reserved: 7 }]);
    await s.release('b', 2000);
    assert.deepEqual(await s.peek(['k'], 2000), [{ spent: 0, reserved: 0 }]);
  });

  it('counters of ended windows are collected', async () => {
    const s = new MemoryBudgetStore({ settleGraceMs: 0 });
    await s.reserve({ reservationId: 'a', now: 0, ttlMs: 10, commit: true, items: [item('k', 100, 10, true, 60_000)] });
    await s.settle('a', [{ counterKey: 'k', amount: 10 }], 5);
    assert.ok('k' in s.inspect(5).counters);
    s.gc(60_010);
    assert.ok(!('k' in s.inspect(60_010).counters));
  });

  it('rejects non-integer amounts (a programming error at the boundary)', async () => {
    const s = new MemoryBudgetStore();
    await assert.rejects(s.reserve({ reservationId: 'a', now: 0, ttlMs: 10, commit: true, items: [item('k', 100, 0.5)] }), RangeError);
    await assert.rejects(s.reserve({ reservationId: 'a', now: 0, ttlMs: 10, commit: true, items: [item('k', 100, -1)] }), RangeError);
    await assert.rejects(s.addSpent('k', NaN, null, 0), RangeError);
  });

  it('adds a million charges of $0.0001 to exactly $100', async () => {
    const s = new MemoryBudgetStore();
    let float = 0;
    for (let i = 0; i < 1_000_000; i++) {
      await s.addSpent('k', 100, null, 0); // $0.0001 = 100 micros
      float += 0.0001;
    }
    assert.notEqual(float, 100); // what floats would have given
    assert.deepEqual(await s.peek(['k'], 0), [{ spent: 100_000_000, reserved: 0 }]);
  });

  it('reserve/settle cycles keep exact integer totals', async () => {
    const s = new MemoryBudgetStore();
    for (let i = 0; i < 20_000; i++) {
      s.reserveSync({ reservationId: `r${i}`, now: i, ttlMs: 1000, commit: true, items: [item('k', 10_000_000_000, 150)] });
      await s.settle(`r${i}`, [{ counterKey: 'k', amount: 100 }], i);
    }
    assert.deepEqual(await s.peek(['k'], 20_000), [{ spent: 2_000_000, reserved: 0 }]);
    assert.equal(s.inspect(20_000).reservations.length, 0);
  });

  it('an id group emptied (released, settled, or forgotten by gc) and then reused indexes its new ids', () => {
    const item = { counterKey: 'g', limit: 1_000, charge: 1, expiresAt: null, enforce: true };
    const T = 5_000_000;
    const s = new MemoryBudgetStore({ settleGraceMs: 1000 });
    const reserve = (id: string, now = T) => s.reserveSync({ reservationId: id, now, ttlMs: 100, commit: true, items: [item] });
    reserve('grp-001');
    s.releaseSync('grp-001', T); // the group `grp-` is now empty and dropped
    reserve('grp-002');
    assert.deepEqual(s.inspect(T).reservations, ['grp-002']);
    assert.throws(() => reserve('grp-002'), /already exists/);
    s.settleSync('grp-002', [], T);
    reserve('grp-003', T + 10_000);
    s.gc(T + 20_000); // forgets grp-003 (past its grace): the group is dropped again
    reserve('grp-004', T + 20_000);
    assert.deepEqual(s.inspect(T + 20_000).reservations, ['grp-004']);
    assert.equal(s.settleSync('grp-004', [], T + 20_000).found, true);
    assert.deepEqual(s.inspect(T + 20_000).reservations, []);
  });
});

