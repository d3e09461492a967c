// Built-in names: globals, detectors, list/string methods and budget properties (LANGUAGE §4, §6).

import { T, type Type } from './types.js';

const fn = (params: Type[], result: Type): Type => ({ kind: 'function', params, result });

/** Global functions and values. `now` is a value; the others are functions. */
export const GLOBALS: Record<string, Type> = {
  len: fn([T.any], T.int),
  min: fn([T.any, T.any], T.any),
  max: fn([T.any, T.any], T.any),
  now: T.time,
  hour: fn([T.time], T.int),
  weekday: fn([T.time], T.int),
  type_of: fn([T.any], { kind: 'enum', values: ['string', 'number', 'bool', 'list', 'map', 'null'] }),
};

/** Detector namespaces: `pii.email(s)` … every detector is `(string) => bool`. */
export const DETECTORS: Record<string, string[]> = {
  pii: ['email', 'phone', 'card', 'iban', 'any'],
  secrets: ['any'],
};
export const DETECTOR_TYPE: Type = fn([T.string], T.bool);

/** List methods and their arity (lambda-taking ones take exactly one lambda). */
export const LIST_METHODS: Record<string, { lambda: boolean; min: number; max: number }> = {
  any: { lambda: true, min: 1, max: 1 },
  all: { lambda: true, min: 1, max: 1 },
  count: { lambda: true, min: 1, max: 1 },
  filter: { lambda: true, min: 1, max: 1 },
  map: { lambda: true, min: 1, max: 1 },
  sum: { lambda: true, min: 0, max: 1 },
  len: { lambda: false, min: 0, max: 0 },
  contains: { lambda: false, min: 1, max: 1 },
};

/** String methods: parameter types and result. */
export const STRING_METHODS: Record<string, { params: Type[]; result: Type }> = {
  len: { params: [], result: T.int },
  lower: { params: [], result: T.string },
  upper: { params: [], result: T.string },
  trim: { params: [], result: T.string },
  starts_with: { params: [T.string], result: T.bool },
  ends_with: { params: [T.string], result: T.bool },
  contains: { params: [T.string], result: T.bool },
  split: { params: [T.string], result: { kind: 'list', elem: T.string } },
  replace: { params: [T.string, T.string], result: T.string },
  domain: { params: [], result: { kind: 'nullable', inner: T.string } },
};

/** Budget properties (LANGUAGE §6): `used` is a fraction; the others are in the limit's unit. */
export function budgetProperty(unit: 'money' | 'number', name: string): Type | undefined {
  if (name === 'used') return T.number;
  if (name === 'spent' || name === 'remaining' || name === 'limit') return unit === 'money' ? T.money : T.number;
  return undefined;
}
export const BUDGET_PROPERTIES = ['spent', 'remaining', 'limit', 'used'];

/** Builtin type names usable in type positions. */
export const BUILTIN_TYPES = ['string', 'number', 'int', 'bool', 'money', 'duration', 'time', 'any', 'list', 'map'];
