// IdIndex: the id → record index of the memory store and of the engine's settle data. Ids that share
// all but their last two base-36 characters live in one array of slots; a group the counter has left
// with few ids becomes map entries; any other id is a map entry. Every form answers the same.
import { strict as assert } from 'node:assert';
import { IdIndex } from '../../language/runtime/id-index.js';

const P = 'abcdefghij0123456789-';
const id = (n: number) => P + n.toString(36);
const internals = (x: IdIndex<unknown>) => x as unknown as { groups: Map<string, { slots: unknown[] | null; count: number }>; other: Map<string, unknown> };

describe('IdIndex', () => {
  it('adds, finds and deletes consecutive ids across many groups; a duplicate is refused', () => {
    const x = new IdIndex<number>();
    for (let n = 1; n <= 5000; n++) assert.ok(x.add(id(n), n));
    assert.equal(x.size, 5000);
    assert.ok(!x.add(id(77), -1), 'a duplicate id');
    assert.equal(x.get(id(77)), 77);
    for (const n of [1, 35, 36, 1295, 1296, 1297, 5000]) assert.equal(x.get(id(n)), n, String(n));
    assert.equal(x.get(id(5001)), undefined);
    assert.equal(x.get(`${P}01`), undefined, 'a non-canonical spelling is another id');
    for (let n = 1; n <= 5000; n += 2) x.delete(id(n));
    assert.equal(x.size, 2500);
    assert.equal(x.get(id(3)), undefined);
    assert.equal(x.get(id(4)), 4);
    x.delete(id(3)); // twice: nothing changes
    assert.equal(x.size, 2500);
    assert.deepEqual([...x.ids()].sort(), Array.from({ length: 2500 }, (_, i) => id(2 * i + 2)).sort());
  });

  it('ids of any shape work (map entries), including short ones and other characters', () => {
    const x = new IdIndex<string>();
    for (const k of ['a', 'ab', 'x-Y', 'res_1', 'ÄÖ', '', 'abc', 'ab--', '00']) assert.ok(x.add(k, k), k);
    assert.ok(!x.add('x-Y', 'again'));
    for (const k of ['a', 'ab', 'x-Y', 'res_1', 'ÄÖ', '', 'abc', 'ab--', '00']) assert.equal(x.get(k), k);
    x.delete('abc');
    x.delete('x-Y');
    assert.equal(x.size, 7);
    assert.equal(x.get('abc'), undefined);
  });

  it('a group the counter has left with few ids becomes map entries, and still answers', () => {
    const x = new IdIndex<number>();
    const group = (n: number) => internals(x as IdIndex<unknown>).groups.get(id(n).slice(0, -2))!;
    // the first group (ids whose counter shares all but the last two digits), then the next one
    const first = id(36 * 36).slice(0, -2);
    for (let n = 36 * 36; n < 2 * 36 * 36; n++) x.add(id(n), n);
    assert.equal(group(36 * 36).slots !== null, true, 'dense while full');
    for (let n = 36 * 36; n < 2 * 36 * 36 - 50; n++) x.delete(id(n));
    assert.equal(group(36 * 36).slots !== null, true, 'still the group add uses');
    x.add(id(2 * 36 * 36), 0); // the counter moves to the next group
    assert.equal(internals(x as IdIndex<unknown>).groups.get(first)!.slots, null, 'sparse');
    assert.equal(internals(x as IdIndex<unknown>).other.size, 50);
    for (let n = 2 * 36 * 36 - 50; n < 2 * 36 * 36; n++) assert.equal(x.get(id(n)), n);
    assert.ok(!x.add(id(2 * 36 * 36 - 1), -1), 'a duplicate of a sparse id');
    assert.ok(x.add(id(36 * 36), 9), 'a freed id of the sparse group can be added again');
    assert.equal(x.get(id(36 * 36)), 9);
    assert.equal(x.size, 52);
    for (let n = 2 * 36 * 36 - 50; n < 2 * 36 * 36; n++) x.delete(id(n));
    x.delete(id(36 * 36));
    assert.equal(x.size, 1);
    x.add(id(3 * 36 * 36), 1); // add moves on: the empty group it used is dropped
    assert.equal(internals(x as IdIndex<unknown>).groups.has(first), false, 'an empty group is dropped');
    assert.equal(x.size, 2);
  });

  it('deleteWhere drops what it selects in every form and keeps the rest', () => {
    const x = new IdIndex<number>();
    for (let n = 1; n <= 4000; n++) x.add(id(n), n);
    x.add('other-id', 7);
    x.deleteWhere((v) => v % 10 !== 0);
    assert.equal(x.size, 400);
    for (const n of [10, 1300, 4000]) assert.equal(x.get(id(n)), n);
    assert.equal(x.get(id(11)), undefined);
    assert.equal(x.get('other-id'), undefined);
    // groups the counter has left hold 129–130 ids (> 81): dense; a second pass thins them to sparse
    x.deleteWhere((v) => v % 100 !== 0);
    assert.equal(x.size, 40);
    for (let n = 100; n <= 4000; n += 100) assert.equal(x.get(id(n)), n);
    assert.deepEqual([...x.ids()].length, 40);
    x.deleteWhere(() => true);
    assert.equal(x.size, 0);
    assert.deepEqual([...internals(x as IdIndex<unknown>).groups.keys()], ['other-'], 'only the group add used last is kept (empty): `other-id` ends in two base-36 digits too');
  });

  it('the group add uses stays when it empties (add, delete, add… reuses its array)', () => {
    const x = new IdIndex<number>();
    x.add(id(1296), 1);
    const slots = internals(x as IdIndex<unknown>).groups.get(id(1296).slice(0, -2))!.slots;
    x.delete(id(1296));
    x.add(id(1297), 2);
    x.delete(id(1297));
    assert.equal(internals(x as IdIndex<unknown>).groups.get(id(1297).slice(0, -2))!.slots, slots, 'the same array');
    assert.equal(x.size, 0);
    x.add(id(2592), 3); // the next group: the empty one is dropped
    assert.equal(internals(x as IdIndex<unknown>).groups.has(id(1296).slice(0, -2)), false);
    assert.equal(x.get(id(2592)), 3);
  });
  it('addIn (the group key and slot given) is add: the same groups, lookups, refusals and deletes', () => {
    const x = new IdIndex<number>();
    const y = new IdIndex<number>();
    for (const n of [1296, 1297, 2591, 2592, 5000, 46655, 46656]) {
      const key = id(n).slice(0, -2);
      assert.equal(x.addIn(key, n % 1296, id(n), n), true);
      assert.equal(y.add(id(n), n), true);
    }
    assert.equal(x.addIn(id(1297).slice(0, -2), 1, id(1297), 0), false, 'a duplicate is refused');
    assert.equal(x.add(id(2592), 0), false, 'also by add');
    for (const n of [1296, 1297, 2591, 2592, 5000, 46655, 46656]) assert.equal(x.get(id(n)), n);
    assert.deepEqual([...internals(x as IdIndex<unknown>).groups.keys()], [...internals(y as IdIndex<unknown>).groups.keys()]);
    x.delete(id(5000));
    assert.equal(x.get(id(5000)), undefined);
    assert.equal(x.size, 6);
  });
});
