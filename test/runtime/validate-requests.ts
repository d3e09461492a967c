// Seeded requests for the request validator's tests (validate-backends, validate-golden): an input
// type with every kind a request field can have, valid requests of it, and mutations of them (wrong
// kinds at every depth, holes, nulls, missing and extra fields, Dates, non-plain objects, throwing
// getters, proxies, deep nesting).
import { T, type FieldType, type Type } from '../../language/semantics/types.js';
import type { Rng } from '../helpers/prng.js';

const f = (name: string, type: Type, optional = false): FieldType => ({ name, type, optional });
const obj = (...fields: FieldType[]): Type => ({ kind: 'object', fields });
const list = (elem: Type): Type => ({ kind: 'list', elem });
const map = (value: Type): Type => ({ kind: 'map', value });
const nullable = (inner: Type): Type => ({ kind: 'nullable', inner });
const en = (...values: string[]): Type => ({ kind: 'enum', values });

/** Every kind a request field can have, objects and lists nested (inlined by the generated check) and
 *  maps, `any`, times and durations (closures called from it). */
export const input: Type = obj(
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
export function valid(t: Type, r: Rng, depth = 0): unknown {
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

export const throwing = (): unknown => {
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
export function mutate(v: unknown, r: Rng): unknown {
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

