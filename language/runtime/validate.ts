// Request validation (LANGUAGE §2): check a JSON request against the checked `input` type and
// normalise it into the runtime representation (money → integer micros, time → epoch ms, duration →
// ms, objects → records without inherited members (see values.ts `newRecord`)). Collects ALL errors (up to a cap), never throws, and is
// safe against `__proto__`/`constructor` keys, cycles and absurd nesting.
//
// The validator for a type is compiled once into closures (`compileValidator`), so validating a
// request does no type interpretation. The same closures serve the quick path (quiet mode: nothing
// recorded, the first problem ends the check) and the reporting path; with `new Function` the quick
// path is generated code that inlines objects, lists and scalars and calls these closures for the
// rest (maps, `any`, durations, times, recursive types). Errors always come from the closures.

import type { DecisionError } from './compiled.js';
import type { FieldType, Type } from '../semantics/types.js';
import { typeToString } from '../semantics/types.js';
import { parseMoney } from './money.js';
import { MAX_TIME_MS, RECORD_PROTO, describeNonPlain, isPlainData, newRecord } from './values.js';
import { CodeBuilder, Name, _, join, prop, useCodegen, type Code } from './codegen.js';

export const MAX_ERRORS = 100;
export const MAX_DEPTH = 64;

interface Ctx {
  errors: DecisionError[];
  /** Keys from the root to the value being checked; the JSON path is only built for an error. */
  stack: (string | number)[];
  /** Quiet mode (the quick path): nothing is recorded, the first problem ends the check with `BAD`. */
  quiet?: boolean;
}

/** Returns the normalised value, or `BAD` after reporting an error. */
type Check = (v: unknown, ctx: Ctx, depth: number) => unknown;

function pathOf(ctx: Ctx): string {
  let p = '$';
  for (const k of ctx.stack) p = typeof k === 'number' ? `${p}[${k}]` : pathMember(p, k);
  return p;
}

const BAD = Symbol('bad');
const hasOwn = Object.prototype.hasOwnProperty;

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

/** A duration in milliseconds: finite, non-negative, within the time range. */
function isDurationMs(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= MAX_TIME_MS;
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
  if (depth > MAX_DEPTH) return report(ctx, 'a JSON value', `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
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

function compileCheck(t: Type, memo: Map<Type, Check>): Check {
  const cached = memo.get(t);
  if (cached) return cached;
  // Placeholder for recursive types: resolved after construction.
  let impl: Check | undefined;
  const lazy: Check = (v, c, d) => impl!(v, c, d);
  memo.set(t, lazy);
  impl = build(t, memo);
  memo.set(t, impl);
  return impl;
}

function build(t: Type, memo: Map<Type, Check>): Check {
  const expected = typeToString(t);
  switch (t.kind) {
    case 'string':
      return (v, c) => (typeof v === 'string' ? v : mismatch(c, 'string', v));
    case 'number':
      return (v, c) => (typeof v === 'number' && Number.isFinite(v) ? v : mismatch(c, 'number', v));
    case 'int':
      return (v, c) =>
        typeof v === 'number' && Number.isSafeInteger(v)
          ? v
          : typeof v === 'number' && Number.isFinite(v)
            ? report(c, 'int', `expected an integer, got number \`${v}\``)
            : mismatch(c, 'int', v);
    case 'bool':
      return (v, c) => (typeof v === 'boolean' ? v : mismatch(c, 'bool', v));
    case 'money':
      return (v, c) => {
        const m = parseMoney(v);
        if (m !== undefined) return m;
        return report(
          c,
          'money',
          typeof v === 'number' || typeof v === 'string'
            ? `expected money (a non-negative decimal with at most 6 fractional digits), got ${describe(v)}`
            : `expected money (a number or decimal string), got ${describe(v)}`,
        );
      };
    case 'duration':
      return (v, c) => {
        if (isDurationMs(v)) return v;
        if (typeof v === 'string') {
          const ms = parseDuration(v);
          if (ms !== undefined) return ms;
        }
        if (typeof v === 'number' && v > MAX_TIME_MS && v !== Infinity)
          return report(c, 'duration', `expected a duration of at most ${MAX_TIME_MS} ms (the time range), got ${describe(v)}`);
        return report(c, 'duration', `expected a duration (milliseconds or \`5m\`-style text), got ${describe(v)}`);
      };
    case 'time':
      return (v, c) => {
        if (typeof v === 'string') {
          const ms = parseTime(v);
          if (ms !== undefined) return ms;
          return report(c, 'time', `expected an RFC 3339 time (e.g. \`2026-01-05T10:00:00Z\`), got ${describe(v)}`);
        }
        if (v instanceof Date && !Number.isNaN(v.getTime())) return v.getTime();
        return mismatch(c, 'time', v);
      };
    case 'null':
      return (v, c) => (v === null || v === undefined ? null : mismatch(c, 'null', v));
    case 'any':
    case 'error':
      return copyAny;
    case 'enum': {
      const values = new Set(t.values);
      return (v, c) => {
        if (typeof v === 'string' && values.has(v)) return v;
        if (typeof v === 'string') return report(c, expected, `expected ${expected}, got ${describe(v)}`);
        return mismatch(c, expected, v);
      };
    }
    case 'nullable': {
      const inner = compileCheck(t.inner, memo);
      return (v, c, d) => (v === null || v === undefined ? null : inner(v, c, d));
    }
    case 'list': {
      const elem = compileCheck(t.elem, memo);
      return (v, c, d) => {
        if (!Array.isArray(v)) return mismatch(c, expected, v);
        if (d > MAX_DEPTH) return report(c, expected, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
        const out = new Array(v.length);
        let bad = false;
        for (let i = 0; i < v.length; i++) {
          c.stack.push(i);
          const x = hasOwn.call(v, i) ? elem(v[i], c, d + 1) : report(c, typeToString(t.elem), `expected ${typeToString(t.elem)}, got ${HOLE}`);
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
      const val = compileCheck(t.value, memo);
      return (v, c, d) => {
        if (!isPlainData(v)) return mismatch(c, expected, v);
        if (d > MAX_DEPTH) return report(c, expected, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
        const src = v as Record<string, unknown>;
        const out = newRecord();
        let bad = false;
        for (const k of Object.keys(src)) {
          const raw = src[k];
          if (raw === undefined) continue;
          c.stack.push(k);
          const x = val(raw, c, d + 1);
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
    case 'object':
      return buildObject(t.fields, expected, memo);
    case 'function':
    case 'budget':
      return (v, c) => mismatch(c, expected, v);
  }
}

function buildObject(fields: FieldType[], expected: string, memo: Map<Type, Check>): Check {
  const n = fields.length;
  const names = fields.map((f) => f.name);
  const known = new Set(names);
  const optional = fields.map((f) => f.optional || f.type.kind === 'nullable' || f.type.kind === 'null' || f.type.kind === 'any');
  const fieldExpected = fields.map((f) => typeToString(f.type));
  let checks: Check[] | undefined;
  return (v, c, d) => {
    if (!isPlainData(v)) return mismatch(c, expected, v);
    if (d > MAX_DEPTH) return report(c, expected, `nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
    if (!checks) checks = fields.map((f) => compileCheck(f.type, memo));
    const src = v as Record<string, unknown>;
    const out = newRecord();
    let bad = false;
    for (let i = 0; i < n; i++) {
      const k = names[i];
      // Own properties only: never read a field through the prototype chain.
      const raw = Object.prototype.hasOwnProperty.call(src, k) ? src[k] : undefined;
      if (raw === undefined || raw === null) {
        if (optional[i]) {
          out[k] = null;
          continue;
        }
        c.stack.push(k);
        report(
          c,
          fieldExpected[i],
          raw === null ? `expected ${fieldExpected[i]}, got null` : `missing required field \`${k}\` (expected ${fieldExpected[i]})`,
        );
        c.stack.pop();
        bad = true;
        if (c.quiet) return BAD;
        continue;
      }
      c.stack.push(k);
      const x = checks[i](raw, c, d + 1);
      c.stack.pop();
      if (x === BAD) {
        if (c.quiet) return BAD;
        bad = true;
      }
      out[k] = x;
    }
    // Unknown extra fields: allowed and ignored by rules, but kept (so the request hash covers them).
    for (const k in src) {
      if (known.has(k) || !Object.prototype.hasOwnProperty.call(src, k)) continue;
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

// ---------------------------------------------------------------- quiet mode (the quick path of the closures)
//
// Most requests are valid. The quick path is the same closures in quiet mode: `report` records
// nothing and builds no path or message, so a valid request costs its checks and its copy; on the
// first problem the closures return `BAD` and `compileValidator` runs them again reporting (which
// collects every error with its JSON path). One closure form checks and normalises, quiet or
// reporting: there is no second closure validator to keep in step.

/** The quiet context: no errors are recorded, and its key stack records nothing (its push and pop
 *  do nothing), so the quick path carries no path state, and a getter that throws leaves none behind. */
const QUIET: Ctx = { errors: [], stack: Object.assign([] as (string | number)[], { push: () => 0, pop: () => undefined }), quiet: true };

export type Fast = (v: unknown, depth: number) => unknown;

/** `check` in quiet mode: the normalised value, or `BAD`. */
function quietly(check: Check): Fast {
  return (v, depth) => check(v, QUIET, depth);
}

/** Extra (undeclared) own keys of `v` copied into `out`, as the object closure does; `BAD` on a bad value. */
function quietExtras(v: Record<string, unknown>, out: Record<string, unknown>, d: number): unknown {
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

// ---------------------------------------------------------------- generated fast path
//
// With `new Function` available, the fast checker for the input type is generated as one straight-line
// function: every declared field is read with a constant key (monomorphic property access) and the
// normalised record is built with constant-key stores, which V8 turns into a fixed hidden class. This
// is what makes validating AND copying a request cost about as much as reading it. Object types are
// inlined; lists, maps, `any`, durations, times and recursive types call the closure checkers above.
// Names and keys are quoted by codegen.ts (`lit`), never concatenated.

/** The quick validator as generated code: the normalised request, or undefined (invalid, or it threw). */
function generateQuick(t: Type, closures: Map<Type, Check>): (request: unknown) => Record<string, unknown> | undefined {
  const b = new CodeBuilder();
  const input = new Name('input');
  b.line(_`try {`);
  const { result } = emitQuickValidator(b, t, closures, input);
  b.line(_`return ${result};`);
  // Getters that throw, proxies: the reporting validator reads the request again and reports it.
  b.line(_`} catch (e) { return undefined; }`);
  return b.build<(request: unknown) => Record<string, unknown> | undefined>('generatedValidator', ['input']);
}

/** What `emitQuickValidator` leaves behind: the local holding the normalised request, and the locals
 *  holding the normalised value of each inlined field, by path (`JSON.stringify(["action", "kind"])`). */
export interface EmittedValidator {
  result: Name;
  /** Path → a local declared with `b.declare` (null when the field is absent or null). */
  fields: Map<string, Name>;
}

/**
 * Emit the quick validator of `t` into `b`, reading the request from the local `src`. The emitted
 * lines `return undefined` on the first problem and may throw on hostile objects (getters, proxies):
 * the caller wraps them in `try`. Used alone (`generateQuick`) and fused with the rules of a policy
 * (codegen-rules.ts `generateFused`), where the rules read the field locals instead of the records.
 */
export function emitQuickValidator(b: CodeBuilder, t: Type, closures: Map<Type, Check>, src: Name): EmittedValidator {
  const FAILr = b.ref(BAD);
  const hasOwnR = b.ref(hasOwn);
  const extrasR = b.ref(quietExtras);
  // One record constructor per object type, setting every declared field (in declaration order) in
  // one allocation: V8 sizes each type's records exactly (one shared constructor gives every record
  // the largest type's size, or spills fields to a second allocation) and builds them without map
  // transitions. Their prototype is the records' (values.ts): no inherited members.
  const protoR = b.ref(RECORD_PROTO);
  const ctors = new Map<Type, Name>();
  const ctorOf = (ty: Type, names: string[]): Name => {
    let c = ctors.get(ty);
    if (c === undefined) {
      c = b.local('K');
      const params = names.map((_n, i) => new Name(`v${i}`));
      const sets = names.map((n, i) => _`this[${n}] = ${params[i]!};`);
      b.outer(_`function ${c}(${join(params.map((p) => _`${p}`), _`, `)}) { ${join(sets, _` `)} }`);
      b.outer(_`${c}.prototype = ${protoR};`);
      ctors.set(ty, c);
    }
    return c;
  };
  const inlining = new Set<Type>();
  const OPl = b.ref(Object.prototype);
  const fields = new Map<string, Name>();
  // What a failed check does: leave the function (undefined) or, inside a list helper, return BAD.
  let fail = _`return undefined;`;
  let inHelper = false;

  /**
   * `list<T>` at static depth `d`: a helper function in the enclosing scope checking and copying the
   * elements with T's checks inline (as the list closure does: holes fail, depth capped).
   */
  const emitList = (elem: Type, x: Name, d: number, out: Name): Name => {
    const h = b.local('V');
    const xs = b.local('x');
    const saved = { fail, inHelper };
    fail = _`return ${FAILr};`;
    inHelper = true;
    let body: Code[];
    try {
      body = b.capture(() => {
        const i = b.local('i');
        const res = b.local('o');
        const e = b.local('e');
        b.line(_`if (!Array.isArray(${xs})) return ${FAILr};`);
        b.line(_`const ${res} = new Array(${xs}.length);`);
        b.line(_`for (let ${i} = 0; ${i} < ${xs}.length; ${i}++) {`);
        b.line(_`if (!${hasOwnR}.call(${xs}, ${i})) return ${FAILr};`);
        b.line(_`const ${e} = ${xs}[${i}];`);
        const v = emit(elem, e, d + 1, []);
        b.line(_`${res}[${i}] = ${v};`);
        b.line(_`}`);
        b.line(_`return ${res};`);
      });
    } finally {
      fail = saved.fail;
      inHelper = saved.inHelper;
    }
    b.outer(_`function ${h}(${xs}) { ${join(body, _`
`)} }`);
    b.line(_`const ${out} = ${h}(${x});`);
    b.line(_`if (${out} === ${FAILr}) ${fail}`);
    return out;
  };

  /** Emit code checking `x` (a local) against `ty` at static depth `d`, leaving the normalised value in a new local. */
  const emit = (ty: Type, x: Name, d: number, path: string[]): Name => {
    const out = b.local('r');
    switch (ty.kind) {
      case 'string':
        b.line(_`if (typeof ${x} !== "string") ${fail}`);
        b.line(_`const ${out} = ${x};`);
        return out;
      case 'bool':
        b.line(_`if (typeof ${x} !== "boolean") ${fail}`);
        b.line(_`const ${out} = ${x};`);
        return out;
      case 'int':
        b.line(_`if (typeof ${x} !== "number" || !Number.isSafeInteger(${x})) ${fail}`);
        b.line(_`const ${out} = ${x};`);
        return out;
      case 'number':
        b.line(_`if (typeof ${x} !== "number" || !Number.isFinite(${x})) ${fail}`);
        b.line(_`const ${out} = ${x};`);
        return out;
      case 'money':
        b.line(_`const ${out} = ${b.ref(parseMoney)}(${x});`);
        b.line(_`if (${out} === undefined) ${fail}`);
        return out;
      case 'enum':
        if (ty.values.length <= 8) {
          const cond = ty.values.length > 0 ? join(ty.values.map((v) => _`${x} !== ${v}`), _` && `) : _`true`;
          b.line(_`if (typeof ${x} !== "string" || (${cond})) ${fail}`);
        } else {
          b.line(_`if (typeof ${x} !== "string" || !${b.ref(new Set(ty.values))}.has(${x})) ${fail}`);
        }
        b.line(_`const ${out} = ${x};`);
        return out;
      case 'object':
        if (!inlining.has(ty) && d <= MAX_DEPTH) return emitObject(ty.fields, x, d, out, ty, path);
        break;
      case 'list':
        if (d + 2 <= MAX_DEPTH) return emitList(ty.elem, x, d, out);
        break;
      default:
        break;
    }
    const f = b.ref(quietly(compileCheck(ty, closures)));
    b.line(_`const ${out} = ${f}(${x}, ${d});`);
    b.line(_`if (${out} === ${FAILr}) ${fail}`);
    return out;
  };

  const emitObject = (objFields: FieldType[], x: Name, d: number, out: Name, ty: Type, path: string[]): Name => {
    inlining.add(ty);
    b.line(_`if (typeof ${x} !== "object" || ${x} === null) ${fail}`);
    // The first field is read before the prototype test: after that load V8 knows the object's
    // possible hidden classes (when there are few) and folds `Object.getPrototypeOf(x) ===
    // Object.prototype` into a constant; tested first, it is a call (~15 ns an object).
    // For an object whose prototype is Object.prototype, a field value that is not undefined can only
    // be inherited when Object.prototype itself has that key (polluted or built in): only then is the
    // own-property check needed. A getter run by that first read may have changed the prototype, so
    // when the test says Object.prototype the first field is read again, in the state the test saw.
    // Arrays, Dates, Maps, Errors, typed arrays … (any non-plain object) are never objects here.
    const raws = objFields.map(() => b.local('f'));
    if (objFields.length > 0) b.line(_`let ${raws[0]!} = ${prop(x, objFields[0]!.name)};`);
    const plain = b.local('p');
    b.line(_`const ${plain} = Object.getPrototypeOf(${x}) === ${OPl};`);
    b.line(_`if (Array.isArray(${x}) || (!${plain} && !${b.ref(isPlainData)}(${x}))) ${fail}`);
    if (objFields.length > 0) b.line(_`if (${plain}) ${raws[0]!} = ${prop(x, objFields[0]!.name)};`);
    for (let i = 1; i < objFields.length; i++) b.line(_`let ${raws[i]!} = ${prop(x, objFields[i]!.name)};`);
    const seen = b.local('s');
    b.line(_`let ${seen} = 0;`);
    const helds: Name[] = [];
    objFields.forEach((f, i) => {
      const optional = f.optional || f.type.kind === 'nullable' || f.type.kind === 'null' || f.type.kind === 'any';
      const fieldPath = [...path, f.name];
      // The field's normalised value, for code that follows (fused rules).
      const held = b.local('h');
      if (inHelper) b.line(_`let ${held} = null;`);
      else {
        b.declare(held);
        fields.set(JSON.stringify(fieldPath), held);
      }
      helds.push(held);
      const raw = raws[i]!;
      // Own properties only: never read a field through the prototype chain.
      b.line(_`if (${raw} !== undefined && !(${plain} && ${prop(OPl, f.name)} === undefined) && !${hasOwnR}.call(${x}, ${f.name})) ${raw} = undefined;`);
      b.line(_`if (${raw} === undefined || ${raw} === null) {`);
      if (optional) {
        b.line(_`if (${raw} === null) ${seen}++;`);
        b.line(_`${held} = null;`);
      } else {
        b.line(fail);
      }
      b.line(_`} else {`);
      b.line(_`${seen}++;`);
      const inner = f.type.kind === 'nullable' ? f.type.inner : f.type;
      const v = emit(inner, raw, d + 1, fieldPath);
      b.line(_`${held} = ${v};`);
      b.line(_`}`);
    });
    b.line(_`const ${out} = new ${ctorOf(ty, objFields.map((f) => f.name))}(${join(helds.map((h) => _`${h}`), _`, `)});`);
    const keys = b.local('k');
    const key = b.local('q');
    b.line(_`let ${keys} = 0;`);
    b.line(_`for (const ${key} in ${x}) ${keys}++;`);
    b.line(_`if (${keys} !== ${seen} && ${extrasR}(${x}, ${out}, ${d}) === ${FAILr}) ${fail}`);
    inlining.delete(ty);
    return out;
  };

  const result = emit(t, src, 0, []);
  return { result, fields };
}

/** The closures behind a quick validator, shared by every function generated for one input type. */
export function newValidatorClosures(): Map<Type, Check> {
  return new Map<Type, Check>();
}

export type ValidationResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: DecisionError[] };

export interface ValidatorOptions {
  /** Generate the fast path with `new Function` (default: when available). `false` forces closures. */
  codegen?: boolean;
}

/** A compiled validator for the input type. Never throws. */
export function compileValidator(
  inputType: Type,
  options: ValidatorOptions = {},
): ((request: unknown) => ValidationResult) & {
  /** The fast path is generated code. */
  generated: boolean;
  /** The normalised request, or undefined when it is invalid: call the validator for the errors. */
  quick: (request: unknown) => Record<string, unknown> | undefined;
} {
  const memo = new Map<Type, Check>();
  const check = compileCheck(inputType, memo);
  let fast: Fast | undefined;
  let generatedQuick: ((request: unknown) => Record<string, unknown> | undefined) | undefined;
  if (useCodegen(options.codegen)) {
    try {
      const g = generateQuick(inputType, memo);
      generatedQuick = g;
      fast = (v) => {
        const r = g(v);
        return r === undefined ? BAD : r;
      };
    } catch {
      fast = undefined; // e.g. a CSP that forbids eval: the closures below are equivalent
    }
  }
  const generated = fast !== undefined;
  if (!fast) fast = quietly(check);
  const validator = (request: unknown): ValidationResult => {
    let quick: unknown = BAD;
    try {
      quick = fast!(request, 0);
    } catch {
      quick = BAD; // the reporting path below reads the request again and reports the problem
    }
    if (quick !== BAD) return { ok: true, value: quick as Record<string, unknown> };
    const ctx: Ctx = { errors: [], stack: [] };
    let value: unknown;
    try {
      value = check(request, ctx, 0);
    } catch (e) {
      // Getters that throw, proxies, stack exhaustion: still a result, never an exception.
      ctx.errors.push({ kind: 'input', path: '$', expected: typeToString(inputType), message: `request could not be read: ${(e as Error)?.message ?? String(e)}` });
      value = BAD;
    }
    if (value === BAD || ctx.errors.length > 0) {
      if (ctx.errors.length === 0) ctx.errors.push({ kind: 'input', path: '$', expected: typeToString(inputType), message: 'invalid request' });
      return { ok: false, errors: ctx.errors };
    }
    return { ok: true, value: value as Record<string, unknown> };
  };
  // The normalised request, or undefined when it is invalid (or unreadable): then call the validator
  // itself for the errors. Allocates nothing but the copy.
  const quick =
    generatedQuick ??
    ((request: unknown): Record<string, unknown> | undefined => {
      try {
        const v = fast!(request, 0);
        return v === BAD ? undefined : (v as Record<string, unknown>);
      } catch {
        return undefined;
      }
    });
  return Object.assign(validator, { generated, quick });
}

/** One-shot validation (compiles the validator each time; prefer `compileValidator`). */
export function validateRequest(inputType: Type, request: unknown): ValidationResult {
  return compileValidator(inputType)(request);
}
