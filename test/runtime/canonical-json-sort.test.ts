// canonicalJson sorts the keys of small objects with an insertion sort (no work arrays) and of large
// ones with Array.prototype.sort: both give RFC 8785's order (UTF-16 code units), the order a plain
// `Object.keys(o).sort()` gives, for every kind of key.
import assert from 'node:assert/strict';
import { canonicalJson } from '../../language/runtime/hash.js';
import { rng, type Rng } from '../helpers/prng.js';

/** The reference: the same writer with the built-in sort. */
function reference(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : reference(x))).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const parts = Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => JSON.stringify(k) + ':' + reference(o[k]));
    return '{' + parts.join(',') + '}';
  }
  return v === 0 ? '0' : v === undefined ? 'null' : JSON.stringify(v);
}

const KEY_PARTS = ['a', 'b', 'Z', '_', 'aa', 'é', '\u{1F600}', '\uFFFF', '0', '9', '10', '01', '-1', ' ', '~', 'A', 'ab'];

function key(r: Rng): string {
  let k = '';
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) k += KEY_PARTS[Math.floor(r() * KEY_PARTS.length)];
  return k;
}

function value(r: Rng, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 4 : 6));
  if (k === 0) return Math.floor(r() * 1000) - 500;
  if (k === 1) return key(r);
  if (k === 2) return r() < 0.5 ? null : r() < 0.5;
  if (k === 3) return undefined;
  if (k === 4) return [value(r, depth + 1), value(r, depth + 1)];
  const o: Record<string, unknown> = {};
  // 0–40 keys: both sides of the insertion sort's limit (16), inserted in random order
  for (let n = Math.floor(r() * (r() < 0.8 ? 8 : 40)); n > 0; n--) o[key(r)] = value(r, depth + 1);
  return o;
}

describe('canonicalJson key order', () => {
  it('matches Object.keys().sort() for 2,000 generated values with 0–40 keys of every kind', () => {
    const r = rng(8785);
    for (let i = 0; i < 2000; i++) {
      const v = value(r, 0);
      assert.equal(canonicalJson(v), reference(v), `value ${i}`);
    }
  });

  it('orders integer-like keys as strings, not numbers (Object.keys lists them numerically)', () => {
    assert.equal(canonicalJson({ 9: 1, 10: 2, 1: 3, b: 4, a: 5 }), '{"1":3,"10":2,"9":1,"a":5,"b":4}');
    const many: Record<string, number> = {};
    for (let i = 30; i >= 0; i--) many[String(i)] = i;
    assert.equal(canonicalJson(many), reference(many));
  });
});
