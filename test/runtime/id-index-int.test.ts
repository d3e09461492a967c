// IntIdIndex (the memory store's id → slot number, dense groups as Int32Arrays) answers as IdIndex
// for the same calls: checked side by side on random operations over engine-like ids, odd ids,
// sparse groups and deleteWhere.
import { strict as assert } from 'node:assert';
import { IdIndex, IntIdIndex } from '../../language/runtime/id-index.js';
import { rng as prng } from '../helpers/prng.js';

const P = 'abcdefghij0123456789-';
const id = (n: number) => P + n.toString(36);
const internals = (x: IntIdIndex) => x as unknown as { groups: Map<string, { slots: Int32Array | null; count: number }>; other: Map<string, number> };


describe('IntIdIndex', () => {
  for (const seed of [1, 2, 3]) {
    it(`answers as IdIndex<number> through random adds, deletes, deleteWhere and lookups (seed ${seed})`, () => {
      const rand = prng(seed);
      const a = new IdIndex<number>();
      const b = new IntIdIndex();
      let next = 1000;
      const made: string[] = [];
      const any = () => made[Math.floor(rand() * made.length)]!;
      for (let step = 0; step < 40_000; step++) {
        const op = rand();
        if (op < 0.5) {
          // Mostly consecutive ids (the counter moves through groups), some odd ones, some repeats.
          const k = made.length > 0 && rand() < 0.05 ? any() : rand() < 0.05 ? `odd:${Math.floor(rand() * 500)}` : id(next++);
          made.push(k);
          const v = Math.floor(rand() * 0x7fffffff);
          assert.equal(b.add(k, v), a.add(k, v), `add ${k}`);
        } else if (op < 0.9 && made.length > 0) {
          const k = any();
          a.delete(k);
          b.delete(k);
        } else if (op < 0.905) {
          const m = 2 + Math.floor(rand() * 5);
          const seen: number[] = [];
          const seenB: number[] = [];
          a.deleteWhere((v) => (seen.push(v), v % m === 0));
          b.deleteWhere((v) => (seenB.push(v), v % m === 0));
          assert.deepEqual(seenB.sort(), seen.sort(), 'deleteWhere is asked once for each entry');
        } else if (made.length > 0) {
          const k = any();
          assert.equal(b.get(k), a.get(k), `get ${k}`);
        }
        assert.equal(b.size, a.size);
      }
      assert.deepEqual([...b.ids()].sort(), [...a.ids()].sort());
      for (const k of made) assert.equal(b.get(k), a.get(k));
    });
  }

  it('dense groups are Int32Arrays; a group left with few ids becomes map entries and still answers', () => {
    const x = new IntIdIndex();
    for (let n = 1296; n < 2 * 1296; n++) x.add(id(n), n);
    const key = id(1296).slice(0, -2);
    assert.ok(internals(x).groups.get(key)!.slots instanceof Int32Array);
    for (let n = 1296; n < 2 * 1296 - 50; n++) x.delete(id(n));
    x.add(id(2 * 1296), 0); // the counter moves on
    assert.equal(internals(x).groups.get(key)!.slots, null, 'sparse');
    assert.equal(internals(x).other.size, 50);
    for (let n = 2 * 1296 - 50; n < 2 * 1296; n++) assert.equal(x.get(id(n)), n);
    assert.equal(x.get(id(2 * 1296)), 0, 'value 0 is a value');
    assert.equal(x.add(id(2 * 1296), 5), false);
  });

  it('mapValues renumbers every value: dense, sparse and other ids', () => {
    const x = new IntIdIndex();
    for (let n = 1296; n < 3 * 1296; n++) x.add(id(n), n);
    for (let n = 1296; n < 2 * 1296 - 20; n++) x.delete(id(n)); // the first group becomes sparse
    x.add('odd id', 7);
    x.mapValues((v) => v * 2);
    for (let n = 2 * 1296 - 20; n < 3 * 1296; n++) assert.equal(x.get(id(n)), 2 * n);
    assert.equal(x.get('odd id'), 14);
    assert.equal(x.get(id(1296)), undefined);
    assert.equal(x.size, 20 + 1296 + 1);
  });

  it('refuses a value that is not a non-negative 32-bit integer', () => {
    const x = new IntIdIndex();
    for (const v of [-1, 1.5, 2 ** 31, NaN]) assert.throws(() => x.add(id(5000), v), RangeError, String(v));
    assert.equal(x.size, 0);
  });
});
