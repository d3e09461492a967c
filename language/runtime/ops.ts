// The run-time operations of expressions, written once and called by both backends (closures.ts and
// the generated code of codegen-rules.ts): null handling, comparisons, membership, arithmetic checks,
// string and time helpers. Semantics: LANGUAGE.md §3.

import type { Type } from '../semantics/types.js';
import type { MapYield } from '../semantics/builtins.js';
import { formatMicros } from './money.js';
import { microsOfUnits } from './money.js';
import { EvalError, MAX_TIME_MS, formatTime, isPlainObject, deepEqual, newRecord } from './values.js';

export function isNullish(v: unknown): boolean {
  return v === null || v === undefined;
}

/** `v.k` on any value: null unless `v` is a record with an own (non-function) `k`. */
export function member(v: unknown, k: string): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const r = (v as Record<string, unknown>)[k];
  return r === undefined || typeof r === 'function' ? null : r;
}

/** `v[k]`: list index (negative from the end) or record key. */
export function indexOf(v: unknown, k: unknown): unknown {
  if (Array.isArray(v)) {
    if (typeof k !== 'number' || !Number.isInteger(k)) return null;
    const x = v[k < 0 ? v.length + k : k];
    return x === undefined ? null : x;
  }
  // Own keys only: a request's object read in place (validate-js.ts `inPlaceNodes`) inherits `__proto__` …
  if (typeof k === 'string') return typeof v === 'object' && v !== null && !Object.prototype.hasOwnProperty.call(v, k) ? null : member(v, k);
  return null;
}

// Ordering compares two numbers (money, times and durations are numbers) or two strings; with a
// `null` it is false. Any other pair can only come from an `any` value, and is a rule error (the
// `on error` effect), never a silent `false`: `(args.amount ?? 0) > 1000` must not let "5000" through.
export function lt(a: unknown, b: unknown): boolean {
  if (isNullish(a) || isNullish(b)) return false;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string')) return (a as number) < (b as number);
  return unordered(a, b);
}
export function le(a: unknown, b: unknown): boolean {
  if (isNullish(a) || isNullish(b)) return false;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string')) return (a as number) <= (b as number);
  return unordered(a, b);
}
/** The other side of `x < 1000` when `x` is not a number: false for null, else the rule error. */
export function notNumber(v: unknown): false {
  return isNullish(v) ? false : unordered(v, 0);
}
function unordered(a: unknown, b: unknown): never {
  throw new EvalError(`ordering needs two numbers or two strings, got ${typeOfValue(a)} and ${typeOfValue(b)}`);
}

// Reads of `root`, `root.k0`, `root.k0.k1` of the validated request where every step's object is
// statically a record (object or map type): small module-level functions, so closures calling them get
// them inlined (a closure calling another closure cannot be inlined: those calls are megamorphic).
export function read0(input: Record<string, unknown>, root: string): unknown {
  const v = input[root];
  return v === undefined ? null : v;
}
export function read1(input: Record<string, unknown>, root: string, k0: string): unknown {
  const a = input[root] as Record<string, unknown> | null | undefined;
  if (a === null || a === undefined) return null;
  const v = a[k0];
  return v === undefined || typeof v === 'function' ? null : v;
}
export function read2(input: Record<string, unknown>, root: string, k0: string, k1: string): unknown {
  const a = input[root] as Record<string, unknown> | null | undefined;
  if (a === null || a === undefined) return null;
  const b = a[k0] as Record<string, unknown> | null | undefined;
  if (b === null || b === undefined) return null;
  const v = b[k1];
  return v === undefined || typeof v === 'function' ? null : v;
}
/** Any input read (`safe[i]`: step i's object is statically a record). */
export function readN(input: Record<string, unknown>, root: string, keys: readonly string[], safe: readonly boolean[]): unknown {
  let v: unknown = input[root];
  for (let i = 0; i < keys.length; i++) {
    if (v === null || v === undefined) return null;
    if (!safe[i] && (typeof v !== 'object' || Array.isArray(v))) return null;
    v = (v as Record<string, unknown>)[keys[i]];
  }
  return v === undefined || (keys.length > 0 && typeof v === 'function') ? null : v;
}

/** The list a list method (`.m()`, at `at`) runs on: the list, null for null, a rule error for another
 *  shape (only an `any` value can be one: a rule error, not a silent `false` from `any`/`count` or a
 *  vacuous `true` from `all`). */
export function asList(v: unknown, m: string, at: string): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined) return null;
  throw new EvalError(`\`.${m}()\` needs a list, got ${typeOfValue(v)} at ${at}`);
}

/** A map method `m` (`m.keys()`, `m.values()`, `m.entries()`, at `at`): one item per key, in sorted key
 *  order (code units, so the order does not depend on the request's JSON) — the key, its value or an
 *  entry `{ key, value }`, as the registry entry's `yields` says; null for null; a rule error for
 *  another shape (an `any`). */
export function mapMethod(v: unknown, yields: MapYield, m: string, at: string): unknown[] | null {
  if (v === null || v === undefined) return null;
  if (!isPlainObject(v)) throw new EvalError(`\`.${m}()\` needs a map, got ${typeOfValue(v)} at ${at}`);
  const keys = Object.keys(v).sort();
  if (yields === 'key') return keys;
  const out: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const x = v[keys[i]];
    const value = x === undefined ? null : x;
    if (yields === 'value') out[i] = value;
    else {
      const e = newRecord();
      e.key = keys[i];
      e.value = value;
      out[i] = e;
    }
  }
  return out;
}

export function memberOf(x: unknown, coll: unknown): boolean {
  if (isNullish(x) || isNullish(coll)) return false;
  if (Array.isArray(coll)) {
    if (typeof x !== 'object') return coll.includes(x);
    for (const y of coll) if (deepEqual(x, y)) return true;
    return false;
  }
  if (typeof coll === 'object') return typeof x === 'string' && Object.prototype.hasOwnProperty.call(coll, x);
  // Only an `any` value gets here (the checker refuses a typed one, REIN205): a string, number or
  // bool on the right is the wrong shape, a rule error as for the other operators — never a silent
  // `false` (`x not in blocklist` would allow everything) nor a substring test.
  throw new EvalError(`\`in\` needs a list or a map on the right, got ${typeof coll === 'string' ? 'a string (for substrings use `.contains()`)' : `a ${typeof coll}`}`);
}

export function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new EvalError(`${what} needs a number, got ${v === null ? 'null' : typeof v}`);
  return v;
}

export function checkedNumber(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new EvalError(`${what} is not a finite number`);
  return v;
}

export function nz(v: unknown): unknown {
  return v === undefined ? null : v;
}

/** A value from untyped data (JSON as sent: currency units) where money is needed (ir.ts `units`):
 *  a number is $1 × the number in micros, exactly (1.1 is 1,100,000; more than 6 fractional digits or
 *  an overflow is a rule error, never a rounding); a list's number elements too; anything else as it is. */
export function moneyOfUnits(v: unknown, at: string): unknown {
  try {
    if (typeof v === 'number') return microsOfUnits(v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? microsOfUnits(x) : x));
  } catch (e) {
    if (e instanceof EvalError) throw new EvalError(`${e.message} at ${at}`);
    throw e;
  }
  return v;
}

/** An untyped value where money is needed whose unit lowering cannot tell (ir.ts `units`): a number
 *  (or a list holding one) is a rule error, never a guess that may be a million times off. */
export function notAmbiguous(v: unknown, at: string): unknown {
  if (typeof v === 'number' || (Array.isArray(v) && v.some((x) => typeof x === 'number')))
    throw new EvalError(`a number of unknown unit (an untyped value) is used as money at ${at}: give it a type (\`money\`), or read it straight from the request`);
  return v;
}

/** `len(x)`: a string's, list's or map's length; `null` for `null`. Any other value can only come
 *  from an `any` value of the wrong shape: a rule error, as `x.len()` is (never a silent `null`, which
 *  would make `len(args.v) > 3` false). */
export function lengthOf(v: unknown): number | null {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isPlainObject(v)) return Object.keys(v).length;
  if (v === null || v === undefined) return null;
  throw new EvalError(`\`len\` needs a string, a list or a map, got ${typeOfValue(v)}`);
}

/** Whether `.sum()` adds an element's value: a number does, `null` is skipped (an absent amount);
 *  any other value (only from `any` data: `"5000"`, `true`, a list) is a rule error — dropping it
 *  silently would let `items.sum(i => i.amount) > 1000` through for amounts sent as text. */
export function summand(v: unknown, m: string, at: string | undefined): boolean {
  if (typeof v === 'number') return true;
  if (v === null || v === undefined) return false;
  throw new EvalError(`\`.${m}()\` needs numbers, got ${typeOfValue(v)}${at === undefined ? '' : ` at ${at}`}`);
}

/** The argument of `hour()` / `weekday()`: a time (a number of ms), or `null`. Any other value (only
 *  from `any` data: an RFC 3339 string, a bool, a list) is a rule error, never a silent `null` that
 *  would stop "deny outside business hours" from matching. Strings are not parsed. */
export function timeArg(v: unknown, fn: string): number | null {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return null;
  throw new EvalError(`\`${fn}\` needs a time, got ${typeOfValue(v)}`);
}

export const WEEKDAYS = 7;

/** `type_of(x)`: the shape of a run-time value (money, durations and times are numbers). */
export function typeOfValue(v: unknown): 'string' | 'number' | 'bool' | 'list' | 'map' | 'null' {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'list' : 'map';
}

export { emailDomain } from '../semantics/string-methods.js';

export function inTimeRange(v: unknown, kind: 'time' | 'duration', where: string): unknown {
  if (typeof v === 'number' && !(Math.abs(v) <= MAX_TIME_MS))
    throw new EvalError(`the ${kind} is outside the supported range (±${MAX_TIME_MS} ms, about ±273,790 years) at ${where}`);
  return v;
}

/** A time's UTC date, or a run-time error when it is not a valid time (never NaN). */
export function utcDate(t: number): Date {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new EvalError(`the time ${t} is outside the supported range`);
  return d;
}

export function baseKind(t: Type | undefined): Type['kind'] | undefined {
  if (!t) return undefined;
  return t.kind === 'nullable' ? t.inner.kind : t.kind;
}

export function isScalarKind(k: Type['kind'] | undefined): boolean {
  return (
    k === 'string' || k === 'number' || k === 'int' || k === 'bool' || k === 'money' || k === 'duration' || k === 'time' || k === 'enum' || k === 'null'
  );
}

/** A runtime value as JSON (money as a 6-digit decimal string, time as RFC 3339). */
export function toJsonValue(v: unknown, t: Type | undefined, depth = 0): unknown {
  if (v === null || v === undefined) return null;
  const k = baseKind(t);
  if (typeof v === 'number') {
    if (k === 'money') return formatMicros(v);
    if (k === 'time') return formatTime(v);
    return v;
  }
  if (typeof v !== 'object' || depth > 32) return v;
  return mapChildren(v, (x, key) => toJsonValue(x, childType(t, key), depth + 1));
}

/** The declared type of a list's element or an object's (or map's) field `key`, in a value of type `t`. */
export function childType(t: Type | undefined, key: string | number): Type | undefined {
  const b = t?.kind === 'nullable' ? t.inner : t;
  if (typeof key === 'number') return b?.kind === 'list' ? b.elem : undefined;
  return b?.kind === 'object' ? b.fields.find((f) => f.name === key)?.type : b?.kind === 'map' ? b.value : undefined;
}

/** A list or an object rebuilt with `f` of each element / field (own data properties, so keys such
 *  as `__proto__` stay data). */
export function mapChildren(v: object, f: (x: unknown, key: string | number) => unknown): unknown[] | Record<string, unknown> {
  if (Array.isArray(v)) return v.map((x, i) => f(x, i));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) Object.defineProperty(out, key, { value: f((v as Record<string, unknown>)[key], key), enumerable: true, writable: true, configurable: true });
  return out;
}

/** The message of a run-time error as a rule outcome carries it. */
export function errorMessage(e: unknown): string {
  try {
    if (e instanceof EvalError) return e.message;
    if (e instanceof RangeError) return 'evaluation exceeded its limits';
  } catch {
    // `instanceof` on a Proxy whose traps throw
  }
  return `internal evaluation error: ${thrownText(e)}`;
}

/** What was thrown, as text, never throwing (a getter of the request may throw a Proxy whose every trap throws). */
export function thrownText(e: unknown): string {
  try {
    return String((e as Error)?.message ?? e);
  } catch {
    return 'an unreadable value';
  }
}
