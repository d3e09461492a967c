// The closure backend of request validation (the reference, CSP-safe): one closure per node of the
// validation IR (validate-ir.ts) that checks a value and returns it normalised into the runtime
// representation (objects → records without inherited members, values.ts `newRecord`), or `BAD`.
// It is the only backend that reports errors: every error (up to a cap) with its JSON path, the
// expected type and a message. Never throws on data (a getter or proxy that throws is the caller's
// to catch), and is safe against `__proto__`/`constructor` keys, cycles and absurd nesting.
//
// The same closures run quiet (the quick path: nothing recorded, the first problem ends the check):
// the generated backend (validate-js.ts) calls them, quiet, for the nodes it does not inline.

import type { DecisionError } from './compiled.js';
import { parseMoney } from './money.js';
import { MAX_TIME_MS, describeNonPlain, isPlainData, newRecord } from './values.js';
import type { ValidationIr, VNode } from './validate-ir.js';

export const MAX_ERRORS = 100;
export const MAX_DEPTH = 64;

export interface Ctx {
  errors: DecisionError[];
  /** Keys from the root to the value being checked; the JSON path is only built for an error. */
  stack: (string | number)[];
  /** Quiet mode (the quick path): nothing is recorded, the first problem ends the check with `BAD`. */
  quiet?: boolean;
}

/** Returns the normalised value, or `BAD` after reporting an error. */
export type Check = (v: unknown, ctx: Ctx, depth: number) => unknown;

export const BAD = Symbol('bad');
export const hasOwn = Object.prototype.hasOwnProperty;

function pathOf(ctx: Ctx): string {
  let p = '$';
  for (const k of ctx.stack) p = typeof k === 'number' ? `${p}[${k}]` : pathMember(p, k);
  return p;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function pathMember(path: string, key: string): string {
  return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return v.length > 40 ? `string \`${JSON.stringify(v.slice(0, 37))}…\`` : `string \`${JSON.stringify(v)}\``;
    case 'number':
      return `number \`${v}\``;
    case 'boolean':
      return `\`${v}\``;
    case 'object':
      return isPlainData(v) ? 'an object' : describeNonPlain(v as object);
    default:
      return typeof v;
  }
}

const HOLE = 'a hole (sparse list): every item must be present';

function report(ctx: Ctx, expected: string, message: string): typeof BAD {
  if (ctx.quiet) return BAD;
  if (ctx.errors.length < MAX_ERRORS) ctx.errors.push({ kind: 'input', path: pathOf(ctx), expected, message });
  return BAD;
}

function mismatch(ctx: Ctx, expected: string, v: unknown): typeof BAD {
  if (ctx.quiet) return BAD;
  return report(ctx, expected, `expected ${expected}, got ${describe(v)}`);
}

function tooDeep(ctx: Ctx, expected: string): typeof BAD {
  return report(ctx, expected, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 date-time → epoch ms, or undefined. */
export function parseTime(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(se) > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  // Leap seconds (`:60`) are read as the next second's start.
  const t = Date.parse(Number(se) === 60 ? s.replace(/:60(?=[.Zz+-])/, ':59') : s);
  if (Number.isNaN(t)) return undefined;
  return Number(se) === 60 ? t + 1000 : t;
}

const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+)(ms|s|m|h|d)/g;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `5m`, `1h30m`, `500ms` → ms, or undefined. */
export function parseDuration(s: string): number | undefined {
  if (s.length > 64 || !DURATION.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(DURATION_PART)) total += Number(m[1]) * DURATION_MS[m[2]];
  return Number.isSafeInteger(total) && total <= MAX_TIME_MS ? total : undefined;
}

/** After a problem: stop here (quiet mode, or the error cap is reached). */
function stop(ctx: Ctx): boolean {
  return ctx.quiet === true || ctx.errors.length >= MAX_ERRORS;
}

/** A plain JSON-ish value copied into records (for `any` and unknown extra fields). */
function copyAny(v: unknown, ctx: Ctx, depth: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) return report(ctx, 'a JSON value', `expected a JSON value, got \`${v}\``);
      return v;
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      return report(ctx, 'a JSON value', `expected a JSON value, got ${typeof v}`);
  }
  if (v === null) return null;
  if (depth > MAX_DEPTH) return tooDeep(ctx, 'a JSON value');
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    let bad = false;
    for (let i = 0; i < v.length; i++) {
      ctx.stack.push(i);
      // Own items only: a hole is never read through (a possibly polluted) Array.prototype.
      const x = hasOwn.call(v, i) ? copyAny(v[i], ctx, depth + 1) : report(ctx, 'a JSON value', `expected a JSON value, got ${HOLE}`);
      ctx.stack.pop();
      if (x === BAD) bad = true;
      out[i] = x;
      if (bad && stop(ctx)) break;
    }
    return bad ? BAD : out;
  }
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? report(ctx, 'a JSON value', 'invalid Date') : v.toISOString();
  }
  if (!isPlainData(v)) return report(ctx, 'a JSON value', `expected a JSON value, got ${describeNonPlain(v)}`);
  const src = v as Record<string, unknown>;
  const out = newRecord();
  let bad = false;
  for (const k of Object.keys(src)) {
    const x = src[k];
    if (x === undefined) continue;
    ctx.stack.push(k);
    const c = copyAny(x, ctx, depth + 1);
    ctx.stack.pop();
    if (c === BAD) bad = true;
    out[k] = c;
    if (bad && stop(ctx)) break;
  }
  return bad ? BAD : out;
}

/** The closures of the IR's nodes, by index (the root is `[0]`). A node's children are built first
 *  and captured; only a child that is being built (a recursive type) is called through `fns`. */
export function validationClosures(ir: ValidationIr): Check[] {
  const fns: Check[] = [];
  const kid = (i: number): Check => {
    let f = fns[i];
    if (f === undefined) {
      fns[i] = (v, c, d) => f!(v, c, d); // what a child refers to while its parent is built
      fns[i] = f = build(ir[i]!, ir, kid);
    }
    return f;
  };
  kid(0); // every node is reachable from the root
  return fns;
}

/** The closure of one node; `kid` gives a child's. */
function build(n: VNode, ir: ValidationIr, kid: (i: number) => Check): Check {
  const expected = n.expected;
  switch (n.kind) {
    case 'string':
      return (v, c) => (typeof v === 'string' ? v : mismatch(c, expected, v));
    case 'number':
      return (v, c) => (typeof v === 'number' && Number.isFinite(v) ? v : mismatch(c, expected, v));
    case 'bool':
      return (v, c) => (typeof v === 'boolean' ? v : mismatch(c, expected, v));
    case 'int':
      return (v, c) =>
        typeof v === 'number' && Number.isSafeInteger(v)
          ? v
          : typeof v === 'number' && Number.isFinite(v)
            ? report(c, expected, `expected an integer, got number \`${v}\``)
            : mismatch(c, expected, v);
    case 'money':
      return (v, c) => {
        const m = parseMoney(v);
        if (m !== undefined) return m;
        return report(
          c,
          expected,
          typeof v === 'number' || typeof v === 'string'
            ? `expected money (a non-negative decimal with at most 6 fractional digits), got ${describe(v)}`
            : `expected money (a number or decimal string), got ${describe(v)}`,
        );
      };
    case 'duration':
      return (v, c) => {
        if (typeof v === 'number' && v >= 0 && v <= MAX_TIME_MS) return v;
        if (typeof v === 'string') {
          const ms = parseDuration(v);
          if (ms !== undefined) return ms;
        }
        if (typeof v === 'number' && v > MAX_TIME_MS && v !== Infinity)
          return report(c, expected, `expected a duration of at most ${MAX_TIME_MS} ms (the time range), got ${describe(v)}`);
        return report(c, expected, `expected a duration (milliseconds or \`5m\`-style text), got ${describe(v)}`);
      };
    case 'time':
      return (v, c) => {
        if (typeof v === 'string') {
          const ms = parseTime(v);
          if (ms !== undefined) return ms;
          return report(c, expected, `expected an RFC 3339 time (e.g. \`2026-01-05T10:00:00Z\`), got ${describe(v)}`);
        }
        if (v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime();
        return mismatch(c, expected, v);
      };
    case 'null':
      return (v, c) => (v === null || v === undefined ? null : mismatch(c, expected, v));
    case 'any':
      return copyAny;
    case 'never':
      return (v, c) => mismatch(c, expected, v);
    case 'enum': {
      const values = new Set(n.values);
      return (v, c) => {
        if (typeof v === 'string' && values.has(v)) return v;
        if (typeof v === 'string') return report(c, expected, `expected ${expected}, got ${describe(v)}`);
        return mismatch(c, expected, v);
      };
    }
    case 'nullable': {
      const inner = kid(n.inner);
      return (v, c, d) => (v === null || v === undefined ? null : inner(v, c, d));
    }
    case 'list': {
      const check = kid(n.elem);
      const ex = ir[n.elem]!.expected;
      return (v, c, d) => {
        if (!Array.isArray(v)) return mismatch(c, expected, v);
        if (d > MAX_DEPTH) return tooDeep(c, expected);
        const out = new Array(v.length);
        let bad = false;
        for (let i = 0; i < v.length; i++) {
          c.stack.push(i);
          const x = hasOwn.call(v, i) ? check(v[i], c, d + 1) : report(c, ex, `expected ${ex}, got ${HOLE}`);
          c.stack.pop();
          if (x === BAD) {
            bad = true;
            if (stop(c)) break;
          }
          out[i] = x;
        }
        return bad ? BAD : out;
      };
    }
    case 'map': {
      const check = kid(n.value);
      return (v, c, d) => {
        if (!isPlainData(v)) return mismatch(c, expected, v);
        if (d > MAX_DEPTH) return tooDeep(c, expected);
        const src = v as Record<string, unknown>;
        const out = newRecord();
        let bad = false;
        for (const k of Object.keys(src)) {
          const raw = src[k];
          if (raw === undefined) continue;
          c.stack.push(k);
          const x = check(raw, c, d + 1);
          c.stack.pop();
          if (x === BAD) {
            bad = true;
            if (stop(c)) break;
          }
          out[k] = x;
        }
        return bad ? BAD : out;
      };
    }
    case 'object': {
      const fields = n.fields;
      const names = fields.map((f) => f.name);
      const known = new Set(names);
      const checks = fields.map((f) => kid(f.node));
      return (v, c, d) => {
        if (!isPlainData(v)) return mismatch(c, expected, v);
        if (d > MAX_DEPTH) return tooDeep(c, expected);
        const src = v as Record<string, unknown>;
        const out = newRecord();
        let bad = false;
        for (let i = 0; i < names.length; i++) {
          const k = names[i]!;
          // Own properties only: never read a field through the prototype chain.
          const raw = hasOwn.call(src, k) ? src[k] : undefined;
          if (raw === undefined || raw === null) {
            const f = fields[i]!;
            if (f.optional) {
              out[k] = null;
              continue;
            }
            c.stack.push(k);
            report(c, f.expected, raw === null ? `expected ${f.expected}, got null` : `missing required field \`${k}\` (expected ${f.expected})`);
            c.stack.pop();
            bad = true;
            if (c.quiet) return BAD;
            continue;
          }
          c.stack.push(k);
          const x = checks[i]!(raw, c, d + 1);
          c.stack.pop();
          if (x === BAD) {
            if (c.quiet) return BAD;
            bad = true;
          }
          out[k] = x;
        }
        // Unknown extra fields: allowed and ignored by rules, but kept (so the request hash covers them).
        for (const k in src) {
          if (known.has(k) || !hasOwn.call(src, k)) continue;
          const raw = src[k];
          if (raw === undefined) continue;
          c.stack.push(k);
          const x = copyAny(raw, c, d + 1);
          c.stack.pop();
          if (x === BAD) {
            if (c.quiet) return BAD;
            bad = true;
          }
          out[k] = x;
        }
        return bad ? BAD : out;
      };
    }
  }
}

// ---------------------------------------------------------------- quiet mode (the quick path)
//
// Most requests are valid. The quick path is the same closures in quiet mode: `report` records
// nothing and builds no path or message, so a valid request costs its checks and its copy; on the
// first problem the closures return `BAD` and the validator runs them again reporting.

/** The quiet context: no errors are recorded, and its key stack records nothing (its push and pop
 *  do nothing), so the quick path carries no path state, and a getter that throws leaves none behind. */
const QUIET: Ctx = { errors: [], stack: Object.assign([] as (string | number)[], { push: () => 0, pop: () => undefined }), quiet: true };

export type Fast = (v: unknown, depth: number) => unknown;

/** `check` in quiet mode: the normalised value, or `BAD`. */
export function quietly(check: Check): Fast {
  return (v, depth) => check(v, QUIET, depth);
}

/** Extra (undeclared) own keys of `v` copied into `out`, as the object closure does; `BAD` on a bad value. */
export function quietExtras(v: Record<string, unknown>, out: Record<string, unknown>, d: number): unknown {
  for (const k in v) {
    if (!hasOwn.call(v, k) || k in out) continue;
    const raw = v[k];
    if (raw === undefined) continue;
    const x = copyAny(raw, QUIET, d + 1);
    if (x === BAD) return BAD;
    out[k] = x;
  }
  return out;
}

/** For an object validated in place: `v` when its extra (undeclared, not in `known`) own keys hold
 *  only JSON scalars (the record would hold the same); else `BAD` (a bad value, or one the copy would
 *  change: `undefined`, a Date …, or a list or object — the copying path then decides). */
export function quietExtrasIn(v: Record<string, unknown>, known: Set<string>): unknown {
  for (const k in v) {
    if (!hasOwn.call(v, k) || known.has(k)) continue;
    const x = v[k];
    if (x !== null && typeof x !== 'string' && typeof x !== 'boolean' && !Number.isFinite(x)) return BAD;
  }
  return v;
}
