import assert from 'node:assert/strict';
import { addMoney, divMoney, formatMicros, formatMoney, mulMoney, parseDecimalMicros, parseMoney } from '../../language/runtime/money.js';
import { canonicalJson, hashValue, sha256Hex } from '../../language/runtime/hash.js';
import { deepEqual, deepMerge, formatDuration, formatTime, renderValue } from '../../language/runtime/values.js';
import { EvalError } from '../../language/runtime/values.js';
import { T } from '../../language/semantics/types.js';

/** Records have no inherited members: `__proto__`, `constructor`, `toString` … are not there. */
function assertNoInherited(o: unknown): void {
  const r = o as Record<string, unknown>;
  for (const k of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    if (!Object.prototype.hasOwnProperty.call(r, k)) assert.equal(r[k], undefined, `inherited \`${k}\``);
  }
}

describe('money', () => {
  it('parses decimal strings and JSON numbers exactly', () => {
    assert.equal(parseMoney('0.031'), 31_000);
    assert.equal(parseMoney(0.031), 31_000);
    assert.equal(parseMoney(0.1), 100_000);
    assert.equal(parseMoney('12'), 12_000_000);
    assert.equal(parseMoney(1e-6), 1);
    assert.equal(parseMoney('1.000000000'), 1_000_000, 'trailing zeros beyond 6 digits are fine');
    assert.equal(parseMoney('1e2'), 100_000_000);
    assert.equal(parseMoney(0), 0);
    assert.equal(parseMoney(-0), 0);
  });
  it('rejects invalid amounts', () => {
    for (const bad of [NaN, Infinity, -Infinity, -1, -0.01, 1e-7, '0.0000001', '-1', 'abc', '', ' 1', '1.', '.5', '1,5', null, true, {}, [], 1e300, '99999999999999999999'])
      assert.equal(parseMoney(bad), undefined, `expected ${String(bad)} to be invalid`);
  });
  it('a million charges of $0.0001 add up to exactly $100', () => {
    const c = parseMoney('0.0001')!;
    let s = 0;
    for (let i = 0; i < 1_000_000; i++) s = addMoney(s, c);
    assert.equal(formatMicros(s), '100.000000');
  });
  it('formatMicros writes every amount as the decimal of micros / 10^6 with 6 fractional digits', () => {
    // Reference: BigInt arithmetic (formatMicros takes a table for whole non-negative amounts).
    const ref = (m: number) => {
      const a = BigInt(Math.abs(m));
      return `${m < 0 ? '-' : ''}${a / 1_000_000n}.${String(a % 1_000_000n).padStart(6, '0')}`;
    };
    const xs = [0, -0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999_999, 1_000_000, 1_000_001, 12_300_000, 123_456_789, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER, -1, -999_999, -1_234_567, -Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 2000; i++) xs.push(i * 997, i * 1_000_003, Math.floor(i ** 4.7));
    for (const m of xs) assert.equal(formatMicros(m), ref(m), String(m));
  });
  it('formats for decisions and messages', () => {
    assert.equal(formatMicros(12_300_000), '12.300000');
    assert.equal(formatMicros(1), '0.000001');
    assert.equal(formatMicros(-1_500_000), '-1.500000');
    assert.equal(formatMoney(12_300_000, 'USD'), '$12.30');
    assert.equal(formatMoney(31_000, 'USD'), '$0.031');
    assert.equal(formatMoney(50_000_000), '$50.00');
    assert.equal(formatMoney(12_300_000, 'EUR'), '12.30 EUR');
    assert.equal(formatMoney(-5_000_000, 'USD'), '-$5.00');
  });
  it('multiplies and divides with round-half-to-even', () => {
    assert.equal(mulMoney(1_000_000, 0.1), 100_000);
    assert.equal(mulMoney(5, 0.5), 2, '2.5 → 2');
    assert.equal(mulMoney(7, 0.5), 4, '3.5 → 4');
    assert.equal(mulMoney(3, 1.5), 4, '4.5 → 4');
    assert.equal(divMoney(5, 2), 2);
    assert.equal(divMoney(7, 2), 4);
    assert.equal(divMoney(10_000_000, 3), 3_333_333);
    assert.equal(divMoney(1_000_000, 0.5), 2_000_000);
    assert.equal(mulMoney(-5, 0.5), -2);
  });
  it('fails on division by zero and overflow', () => {
    assert.throws(() => divMoney(1, 0), EvalError);
    assert.throws(() => mulMoney(Number.MAX_SAFE_INTEGER, 2), EvalError);
    assert.throws(() => addMoney(Number.MAX_SAFE_INTEGER, 1), EvalError);
    assert.throws(() => mulMoney(1, Infinity), EvalError);
  });
  it('parseDecimalMicros handles exponents', () => {
    assert.equal(parseDecimalMicros('1.5e-3'), 1_500);
    assert.equal(parseDecimalMicros('1e-7'), undefined);
  });
  it('parseDecimalMicros: plain decimals (the one-pass path) as exact BigInt arithmetic says', () => {
    // the reference: the text's exact value in micros by BigInt, undefined when it is not a whole
    // number of micros or not a safe integer (or the text is not an amount at all)
    const exact = (t: string): number | undefined => {
      const m = /^(\d+)(?:\.(\d+))?$/.exec(t);
      if (!m || t.length > 64) return parseDecimalMicros(t); // other forms: not this test's subject
      const frac = m[2] ?? '';
      const num = BigInt(m[1] + frac) * 1_000_000n;
      const den = 10n ** BigInt(frac.length);
      if (num % den !== 0n) return undefined;
      const v = num / den;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
    };
    const fixed = ['0', '00', '0.0', '0.002', '12', '12.3', '1.000001', '1.0000001', '1.0000010', '1.00000000000', '0.0000000', '0.00000001', '007.5',
      '9007199254', '9007199254.740991', '9007199254.740992', '9007199255', '99999999999999999', '1' + '0'.repeat(63), '0'.repeat(60) + '1.5',
      '1.', '.5', '1..2', '1.2.3', '-1', '+1', '1e3', '1.5e-3', '1.0000001e1', '1.00000001x', ' 1', '1 ', '١', '0x10', ''];
    for (const t of fixed) assert.equal(parseDecimalMicros(t), exact(t), JSON.stringify(t));
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const alphabet = '0123456789000000.';
    for (let k = 0; k < 20_000; k++) {
      let t = '';
      const len = 1 + rnd(24);
      for (let i = 0; i < len; i++) t += alphabet[rnd(alphabet.length)];
      assert.equal(parseDecimalMicros(t), exact(t), JSON.stringify(t));
    }
  });
});

describe('canonical JSON and hashing', () => {
  it('sorts keys, drops whitespace, formats numbers like RFC 8785', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1e21, y: 0.1, x: -0 } }), '{"a":[true,null,"x"],"b":1,"c":{"x":0,"y":0.1,"z":1e+21}}');
    const o = Object.create(null);
    o.__proto__ = 1;
    assert.equal(canonicalJson(o), '{"__proto__":1}');
  });
  it('escapes strings exactly like JSON', () => {
    const v = { 'a"b': 'x\\y\n', é: 'ü\u2028', '': '\u0001', long: 'q'.repeat(100) };
    const expected = '{' + Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify((v as Record<string, string>)[k])}`).join(',') + '}';
    assert.equal(canonicalJson(v), expected);
  });
  it('is independent of key order', () => {
    assert.equal(hashValue({ a: 1, b: { c: 2, d: 3 } }), hashValue({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(hashValue({ a: 1 }), hashValue({ a: 2 }));
  });
  it('produces sha256:<hex> matching a known vector', () => {
    assert.equal(sha256Hex('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('rejects cycles and non-finite numbers', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    assert.throws(() => canonicalJson(a), TypeError);
    assert.throws(() => canonicalJson({ x: NaN }), TypeError);
  });
});

describe('values', () => {
  it('structural equality', () => {
    assert.equal(deepEqual([1, { a: 'x' }], [1, { a: 'x' }]), true);
    assert.equal(deepEqual({ a: 1, b: null }, { a: 1 }), true, 'absent and null fields are equal');
    assert.equal(deepEqual([1, 2], [2, 1]), false);
    assert.equal(deepEqual({ a: 1 }, [1]), false);
  });
  it('deep merge: objects merge, lists and scalars replace', () => {
    const m = deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }) as Record<string, unknown>;
    assert.deepEqual(JSON.parse(JSON.stringify(m)), { a: { b: 1, c: [3] }, d: 1, e: 2 });
    assertNoInherited(m);
  });
  it('renders durations, times and typed values', () => {
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(86_400_000 * 7), '7d');
    assert.equal(formatTime(Date.UTC(2026, 0, 5, 10)), '2026-01-05T10:00:00Z');
    assert.equal(renderValue(null, T.string, 'USD'), 'null');
    assert.equal(renderValue(2_000_000, T.money, 'USD'), '$2.00');
    assert.equal(renderValue([1_000_000], { kind: 'list', elem: T.money }, 'EUR'), '[1.00 EUR]');
    assert.equal(renderValue(0.5, T.number, 'USD'), '0.5');
  });
  it('renders a value in full however deep (regression, session 13 review L3: cut to `…` below 9 levels)', () => {
    let v: unknown = 'AKIAIOSFODNN7EXAMPLE';
    for (let i = 0; i < 64; i++) v = i % 2 ? { x: v } : [v];
    const text = renderValue(v, undefined, 'USD');
    assert.ok(text.includes('"AKIAIOSFODNN7EXAMPLE"'), text);
    assert.ok(!text.includes('…'), text);
    // deeper than any request can be: an evaluation error (the rule's `on error`), not a cut or a stack overflow
    for (let i = 0; i < 300; i++) v = [v];
    assert.throws(() => renderValue(v, undefined, 'USD'), (e: Error) => e instanceof EvalError && /nested deeper than 256 levels/.test(e.message));
  });
});
