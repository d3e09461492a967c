// Run-time values (see compiled.ts for the representation): equality, deep merge, rendering.

import type { Type } from '../semantics/types.js';
import { formatMoney } from './money.js';

/** The largest time (and duration) in ms: ECMAScript's Date range, 8.64e15 ms ≈ 273,790 years either side of 1970. */
export const MAX_TIME_MS = 8.64e15;

/** A run-time error in a policy expression (division by zero, overflow, …). Never escapes `evaluate`. */
export class EvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalError';
  }
}

// Records (validated objects, maps, literals, merges) have no inherited members at all: their
// prototype is a frozen, empty, null-prototype object. So `__proto__`, `constructor`, `toString`
// … are ordinary own keys (or absent), exactly as with `Object.create(null)`, but V8 keeps these
// objects in fast mode (about twice as fast to build and read as dictionary-mode null-prototype objects).
export const RECORD_PROTO: object = Object.freeze(Object.create(null));
function RecordCtor(this: Record<string, unknown>): void {}
RecordCtor.prototype = RECORD_PROTO;

/** `new RecordConstructor()` is `newRecord()` (for generated code, codegen.ts). */
export const RecordConstructor = RecordCtor as unknown as new () => Record<string, unknown>;

/** A new empty record (no inherited members). */
export function newRecord(): Record<string, unknown> {
  return new (RecordCtor as unknown as new () => Record<string, unknown>)();
}

/** True for records from `newRecord` and for null-prototype objects. */
export function isRecord(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === null || p === RECORD_PROTO;
}

/**
 * A plain object as a request may hold one: not an array, and its prototype is null or a root
 * prototype (`Object.prototype` of any realm, the records' prototype). A `Map`, `URLSearchParams`,
 * `Error`, typed array, `Date`, boxed primitive or class instance is not: its data is not in its own
 * enumerable keys, so reading it as an object would silently drop it. May throw on a hostile Proxy.
 */
export function isPlainData(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === null || Object.getPrototypeOf(p) === null;
}

/** What a non-plain object is, for messages (`a Map`, `an Error`), never throwing. */
export function describeNonPlain(v: object): string {
  let tag = 'non-plain object';
  try {
    const t = Object.prototype.toString.call(v).slice(8, -1);
    if (t && t !== 'Object') tag = t;
    else {
      const c = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      if (typeof c === 'string' && c && c !== 'Object') tag = `${c} instance`;
    }
  } catch {
    // a Proxy whose traps throw: keep the generic name
  }
  return `${/^[AEIO]/.test(tag) ? 'an' : 'a'} ${tag} (only plain objects and arrays are read)`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality: lists element-wise, objects key-wise (order-insensitive), scalars with `===`. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // NaN is not equal to itself, as in IEEE.
    return false;
  }
  const aa = Array.isArray(a);
  if (aa !== Array.isArray(b)) return false;
  if (aa) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  // Absent and null are the same for optional fields.
  let nx = 0;
  for (const k of kx) {
    if (x[k] === null || x[k] === undefined) continue;
    nx++;
    if (!Object.prototype.hasOwnProperty.call(y, k) || !deepEqual(x[k], y[k])) return false;
  }
  let ny = 0;
  for (const k of ky) if (y[k] !== null && y[k] !== undefined) ny++;
  return nx === ny;
}

/** `a with b`: deep merge of objects; lists and scalars in `b` replace. Returns new records (no inherited members). */
export function deepMerge(a: unknown, b: unknown): unknown {
  if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? a : b;
  const out = newRecord();
  for (const k of Object.keys(a)) out[k] = a[k];
  for (const k of Object.keys(b)) {
    const bv = b[k];
    const av = out[k];
    out[k] = isPlainObject(av) && isPlainObject(bv) ? deepMerge(av, bv) : bv;
  }
  return out;
}

const DURATION_UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1_000, 's'],
  [1, 'ms'],
];

/** Milliseconds as a duration literal: 300000 → `5m`, 90000 → `1m30s`, 0 → `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0s';
  let rest = Math.abs(ms);
  let out = ms < 0 ? '-' : '';
  for (const [size, unit] of DURATION_UNITS) {
    if (rest >= size || (unit === 'ms' && rest > 0)) {
      const n = unit === 'ms' ? rest : Math.floor(rest / size);
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** Milliseconds since the epoch as RFC 3339 (UTC), without `.000` when the milliseconds are zero. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

function fieldType(t: Type | undefined, name: string): Type | undefined {
  if (!t) return undefined;
  if (t.kind === 'nullable') return fieldType(t.inner, name);
  if (t.kind === 'object') return t.fields.find((f) => f.name === name)?.type;
  if (t.kind === 'map') return t.value;
  return undefined;
}

function elemType(t: Type | undefined): Type | undefined {
  if (!t) return undefined;
  if (t.kind === 'nullable') return elemType(t.inner);
  if (t.kind === 'list') return t.elem;
  return undefined;
}

const MAX_RENDER_DEPTH = 256;

/** A value as text in a message (`${…}`) or `string(x)`, using its static type to render money,
 *  durations and times; in full, however deep. */
export function renderValue(v: unknown, t: Type | undefined, currency: string, depth = 0): string {
  if (v === null || v === undefined) return 'null';
  const k = t?.kind === 'nullable' ? t.inner.kind : t?.kind;
  switch (typeof v) {
    case 'string':
      return depth === 0 ? v : JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (k === 'money') return formatMoney(v, currency);
      if (k === 'duration') return formatDuration(v);
      if (k === 'time') return formatTime(v);
      return String(v);
  }
  // Never cut (a rule tests this text: `secrets.any(string(v))` must see a value the model nested 10
  // deep; a request is at most 64 levels deep by validation). Deeper than any request can be (an
  // extern's answer): a rule error, not a stack overflow or a silent cut.
  if (depth > MAX_RENDER_DEPTH) throw new EvalError(`a value nested deeper than ${MAX_RENDER_DEPTH} levels cannot be rendered as text`);
  if (Array.isArray(v)) {
    const et = elemType(t);
    return `[${v.map((x) => renderValue(x, et, currency, depth + 1)).join(', ')}]`;
  }
  if (isPlainObject(v)) {
    const parts: string[] = [];
    for (const key of Object.keys(v)) parts.push(`${key}: ${renderValue(v[key], fieldType(t, key), currency, depth + 1)}`);
    return `{ ${parts.join(', ')} }`;
  }
  return String(v);
}
