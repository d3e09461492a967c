// canonicalJson and hashValue write into one buffer kept between calls (language/runtime/hash.ts):
// the text and the digests must be byte-identical to the string writer they replaced, with either
// SHA-256 (portable or node:crypto), after a throw, when a getter writes another value meanwhile,
// and when the buffer must grow.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalJson, hashValue, portableSha256Hex, useSha256 } from '../../language/runtime/hash.js';
import { H0, K } from '../../language/runtime/sha256.js';
import { nodeSha256Hex } from '../../language/node/fast-hash.js';
import { rng, type Rng } from '../helpers/prng.js';

/** The writer before session 9 (string concatenation, Object.keys + sort), as the reference. */
function reference(v: unknown, depth = 0, seen: unknown[] = []): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('non-finite');
      return v === 0 ? '0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      break;
    default:
      return 'null';
  }
  if (v === null) return 'null';
  if (seen.includes(v)) throw new TypeError('cyclic');
  seen.push(v);
  let out: string;
  if (Array.isArray(v)) {
    out = '[' + v.map((x) => reference(x === undefined || typeof x === 'function' ? null : x, depth + 1, seen)).join(',') + ']';
  } else {
    const o = v as Record<string, unknown>;
    const parts = Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined && typeof o[k] !== 'function')
      .map((k) => JSON.stringify(k) + ':' + reference(o[k], depth + 1, seen));
    out = '{' + parts.join(',') + '}';
  }
  seen.pop();
  return out;
}

const sha = (text: string) => 'sha256:' + createHash('sha256').update(text, 'utf8').digest('hex');

const STRINGS = ['', 'a', 'model_call', 'é', '日本語', '😀', '\ud800', 'a\udc00b', '"', '\\', '\n', '\u0000', '\u007f', '\u0080', '~', 'x'.repeat(70), 'ü'.repeat(500), '\u2028'];

function str(r: Rng): string {
  let s = '';
  for (let n = Math.floor(r() * 4); n >= 0; n--) s += STRINGS[Math.floor(r() * STRINGS.length)];
  return s;
}

function value(r: Rng, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0:
      return [0, -0, 1, -1, 0.1, 1e21, 1e-7, 2 ** 53, -123.456, 5e-324][Math.floor(r() * 10)];
    case 1:
      return str(r);
    case 2:
      return r() < 0.5 ? null : r() < 0.5;
    case 3:
      return r() < 0.5 ? undefined : () => 1;
    case 4:
      return BigInt(Math.floor(r() * 1e6)) * 1000000007n;
    case 5:
      return Symbol('s');
    case 6:
    case 7: {
      const a: unknown[] = [];
      for (let n = Math.floor(r() * 5); n > 0; n--) a.push(value(r, depth + 1));
      return a;
    }
    default: {
      const o: Record<string, unknown> = {};
      // 0–40 keys: both sides of the insertion sort's limit (16)
      for (let n = Math.floor(r() * (r() < 0.8 ? 8 : 40)); n > 0; n--) o[str(r)] = value(r, depth + 1);
      return o;
    }
  }
}

describe('canonicalJson and hashValue (one buffer)', () => {
  after(() => useSha256(nodeSha256Hex));

  for (const [name, impl] of [
    ['node:crypto', nodeSha256Hex],
    ['the portable SHA-256', portableSha256Hex],
  ] as const) {
    it(`give the old writer's text and its digest for 3,000 generated values (${name})`, () => {
      useSha256(impl);
      const r = rng(20_09);
      for (let i = 0; i < 3000; i++) {
        const v = value(r, 0);
        const want = reference(v);
        assert.equal(canonicalJson(v), want, `value ${i}`);
        assert.equal(hashValue(v), sha(want), `value ${i}`);
      }
    });
  }

  it('grow the buffer for long values and keep the bytes before the growth', () => {
    for (const n of [1000, 1021, 1022, 1023, 1024, 5000, 300_000]) {
      for (const s of ['x'.repeat(n), 'é'.repeat(n), 'a'.repeat(n - 1) + '😀']) {
        const v = { k: s, list: [s.slice(0, 10), 1] };
        assert.equal(hashValue(v), sha(reference(v)), `length ${n}`);
        assert.equal(canonicalJson(v), reference(v));
      }
    }
  });

  it('are unharmed by a throw in the middle of a value', () => {
    const cyclic: Record<string, unknown> = { a: 'x', b: [1, 2] };
    (cyclic.b as unknown[]).push(cyclic);
    const ok = { z: 1, a: ['é', { q: null }] };
    for (const bad of [cyclic, { a: 1, b: Infinity }, { a: [NaN] }]) {
      assert.throws(() => hashValue({ before: 'x'.repeat(2000), bad }), TypeError);
      assert.throws(() => canonicalJson(bad), TypeError);
      assert.equal(canonicalJson(ok), reference(ok));
      assert.equal(hashValue(ok), sha(reference(ok)));
    }
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    assert.throws(() => hashValue(deep), /nested too deeply/);
    assert.equal(hashValue(ok), sha(reference(ok)));
  });

  it('give the same result when a getter hashes another value meanwhile', () => {
    const inner = { b: 'é', a: [1, 2] };
    let seenInner = '';
    const v: Record<string, unknown> = { m: 'before' };
    Object.defineProperty(v, 'g', {
      enumerable: true,
      get() {
        seenInner = hashValue(inner) + canonicalJson(inner);
        return 'got';
      },
    });
    v.z = [1, { y: 'after' }];
    const want = '{"g":"got","m":"before","z":[1,{"y":"after"}]}';
    assert.equal(hashValue(v), sha(want));
    assert.equal(seenInner, sha(reference(inner)) + reference(inner));
    assert.equal(canonicalJson(v), want);
  });

  it('treat an object written twice side by side as no cycle', () => {
    const shared = { a: 1 };
    assert.equal(canonicalJson([shared, shared, { s: shared }]), '[{"a":1},{"a":1},{"s":{"a":1}}]');
  });
});

describe('useSha256', () => {
  after(() => useSha256(nodeSha256Hex));

  it('refuses a function that hashes text right but bytes wrong', () => {
    const textOnly = (d: string | Uint8Array) => (typeof d === 'string' ? nodeSha256Hex(d) : 'sha256:nope');
    assert.throws(() => useSha256(textOnly), /does not compute SHA-256/);
    // the one installed before is kept
    assert.equal(hashValue({ a: 1 }), sha('{"a":1}'));
  });
});

describe('SHA-256 constants', () => {
  it('are the FIPS 180-4 table (computed from the primes)', () => {
    const table = [
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    assert.deepEqual([...K], table);
    assert.deepEqual(H0, [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  });
});
