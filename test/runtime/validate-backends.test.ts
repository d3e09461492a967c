// Request validation, differential: the generated quick check and the closure validator (the CSP
// backend) accept the same requests, normalise them to the same value and report the same errors, on
// valid requests and on seeded mutations of them (wrong kinds at every depth, holes, nulls, missing
// and extra fields, Dates, non-plain objects, throwing getters, proxies, deep nesting). The quick
// entry (`validate.quick`) accepts exactly what the validator accepts, with the same value.
import assert from 'node:assert/strict';
import { compileValidator } from '../../language/runtime/validate.js';
import { T, type FieldType, type Type } from '../../language/semantics/types.js';
import { rng, type Rng } from '../helpers/prng.js';

const f = (name: string, type: Type, optional = false): FieldType => ({ name, type, optional });
const obj = (...fields: FieldType[]): Type => ({ kind: 'object', fields });
const list = (elem: Type): Type => ({ kind: 'list', elem });
const map = (value: Type): Type => ({ kind: 'map', value });
const nullable = (inner: Type): Type => ({ kind: 'nullable', inner });
const en = (...values: string[]): Type => ({ kind: 'enum', values });

/** Every kind a request field can have, objects and lists nested (inlined by the generated check) and
 *  maps, `any`, times and durations (closures called from it). */
const input: Type = obj(
  f('s', T.string),
  f('i', T.int),
  f('n', T.number),
  f('b', T.bool, true),
  f('m', T.money),
  f('d', T.duration, true),
  f('t', T.time, true),
  f('e', en('a', 'b', 'c')),
  f('big', en('v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9'), true),
  f('z', T.null, true),
  f('nn', nullable(T.int)),
  f('a', T.any, true),
  f('o', obj(f('x', T.string), f('y', nullable(obj(f('k', T.money, true)))), f('tags', list(T.string), true))),
  f('items', list(obj(f('id', T.string), f('cost', T.money, true), f('meta', map(T.any), true))), true),
  f('grid', list(list(T.int)), true),
  f('prices', map(T.money), true),
  f('deep', map(list(obj(f('q', en('p', 'r'))))), true),
);

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A valid JSON value of type `t`. */
function valid(t: Type, r: Rng, depth = 0): unknown {
  switch (t.kind) {
    case 'string':
      return pick(r, ['', 'x', 'hello world', 'ünïcödé', '__proto__']);
    case 'int':
      return pick(r, [0, 1, -7, 2 ** 40]);
    case 'number':
      return pick(r, [0, 1.5, -2.25, 1e300]);
    case 'bool':
      return r() < 0.5;
    case 'money':
      return pick(r, [0, 1, '0.25', '12.000001', 3.5]);
    case 'duration':
      return pick(r, [0, 1500, '5m', '1h30m', '250ms']);
    case 'time':
      return pick(r, ['2026-01-05T10:00:00Z', '2026-02-28T23:59:60Z', '2026-03-01T01:02:03.5+02:00']);
    case 'enum':
      return pick(r, t.values);
    case 'null':
      return null;
    case 'nullable':
      return r() < 0.3 ? null : valid(t.inner, r, depth);
    case 'any':
      return pick(r, [1, 'x', true, null, [1, 'two', { three: 3 }], { k: { v: [null] } }]);
    case 'list': {
      const n = depth > 3 ? 0 : Math.floor(r() * 4);
      return Array.from({ length: n }, () => valid(t.elem, r, depth + 1));
    }
    case 'map': {
      const o: Record<string, unknown> = {};
      const n = depth > 3 ? 0 : Math.floor(r() * 3);
      for (let i = 0; i < n; i++) o[pick(r, ['a', 'b', 'key with space', 'constructor'])] = valid(t.value, r, depth + 1);
      return o;
    }
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const fl of t.fields) {
        if (fl.optional && r() < 0.3) continue;
        o[fl.name] = valid(fl.type, r, depth + 1);
      }
      return o;
    }
    default:
      return null;
  }
}

const throwing = (): unknown => {
  const o = {};
  Object.defineProperty(o, 'x', { enumerable: true, get: () => { throw new Error('getter'); } });
  return o;
};
const nested = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

/** Values made by `wrong`: never walked into by `mutate` (getters and proxies throw). */
const made = new WeakSet<object>();

/** A replacement value that is usually wrong for the place it lands in. */
function wrong(r: Rng): unknown {
  const v = pick(r, [
    undefined, null, 'str', '', 42, 1.5, -1, NaN, Infinity, true, [], [1, , 3], {}, { extra: 1 },
    new Date(0), new Date(NaN), new Map([['a', 1]]), new URLSearchParams('a=1'), new Error('e'), new Uint8Array(2),
    Object.create(null), Object.create({ inherited: 1 }), '5m', '2026-01-05T10:00:00Z', '1e3', '0.0000001', 2 ** 60,
    new Proxy({}, { get: () => { throw new Error('proxy'); } }), throwing(), nested(80), [[1], [2, 'x']], { id: 'x' },
  ]);
  if (typeof v === 'object' && v !== null) made.add(v);
  return v;
}

/** `v` with one place (the root, a field, an element, a map value, or a new extra field) replaced. */
function mutate(v: unknown, r: Rng): unknown {
  if (v === null || typeof v !== 'object' || made.has(v) || r() < 0.15) return wrong(r);
  if (Array.isArray(v)) {
    const out = [...v];
    if (out.length === 0 || r() < 0.2) out.push(wrong(r));
    else {
      const i = Math.floor(r() * out.length);
      out[i] = mutate(out[i], r);
    }
    return out;
  }
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(out);
  if (keys.length === 0 || r() < 0.15) out[pick(r, ['extra', 'b', 'nn', 'zz'])] = wrong(r);
  else if (r() < 0.1) delete out[pick(r, keys)];
  else {
    const k = pick(r, keys);
    out[k] = mutate(out[k], r);
  }
  return out;
}

const gen = compileValidator(input, { codegen: true });
const clo = compileValidator(input, { codegen: false });

function same(req: unknown, what: string): boolean {
  const a = gen(req);
  const b = clo(req);
  assert.deepStrictEqual(a, b, `${what}: generated and closure validators differ`);
  const qa = gen.quick(req);
  const qb = clo.quick(req);
  assert.deepStrictEqual(qa, a.ok ? a.value : undefined, `${what}: the generated quick check disagrees with the validator`);
  assert.deepStrictEqual(qb, b.ok ? b.value : undefined, `${what}: the closures' quick path disagrees with the validator`);
  return a.ok;
}

describe('request validation: generated and closure backends', () => {
  it('the generated form is generated, the other is closures', () => {
    assert.equal(gen.generated, true);
    assert.equal(clo.generated, false);
  });

  it('agree on valid requests (value and normalisation) and on seeded mutations (errors identical)', () => {
    const r = rng(16);
    let ok = 0;
    let bad = 0;
    for (let n = 0; n < 1500; n++) {
      const base = valid(input, r);
      assert.equal(same(base, `valid #${n}`), true, `valid #${n} was rejected: ${JSON.stringify(gen(base))}`);
      ok++;
      let m = base;
      const times = 1 + Math.floor(r() * 3);
      for (let k = 0; k < times; k++) m = mutate(m, r);
      if (!same(m, `mutation #${n}`)) bad++;
    }
    assert.ok(ok === 1500 && bad > 600, `too few invalid mutations to mean anything (${bad})`);
  });

  it('a Date where any value is expected: both quick paths accept it as its ISO string, as the reporting path does', () => {
    const base = { s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: { x: 'x', y: null }, a: new Date(0) };
    assert.equal(same(base, 'date in any'), true);
    const v = gen.quick(base) as Record<string, unknown>;
    assert.equal(v.a, '1970-01-01T00:00:00.000Z');
  });

  it('report every error with its path, the same on both backends', () => {
    const req = { s: 1, i: 1.5, n: 'x', m: -1, e: 'zz', nn: 'x', o: { x: 1, y: { k: 'bad' }, tags: [1, , 'ok'] }, items: [{ cost: 1 }], grid: [[1], ['x']] };
    const a = gen(req);
    assert.equal(a.ok, false);
    assert.deepStrictEqual(a, clo(req));
    const paths = (a as { errors: { path: string }[] }).errors.map((e) => e.path);
    assert.deepStrictEqual(paths, ['$.s', '$.i', '$.n', '$.m', '$.e', '$.nn', '$.o.x', '$.o.y.k', '$.o.tags[0]', '$.o.tags[1]', '$.items[0].id', '$.grid[1][0]']);
  });

  it('a throwing getter leaves the closures usable (the quiet path restores its state)', () => {
    for (let i = 0; i < 3; i++) assert.equal(same({ s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: throwing() }, `getter ${i}`), false);
    assert.equal(same({ s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: { x: 'x', y: null }, prices: { a: '1.5' } }, 'after'), true);
  });
});
