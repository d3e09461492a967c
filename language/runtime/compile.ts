// The compiler: a checked program → closures (no policy text at decision time), and the `Policy`
// object with the synchronous, stateless `evaluate` (rules only).
//
// Every expression compiles to a `Fn = (env, frame) => value`. `frame` holds def parameters and
// lambda parameters by slot (lexical addressing resolved at compile time). Constant sub-expressions
// are folded, `let`s are evaluated once at compile time when they do not read the request, regexes
// are built once, and membership in a constant list uses a Set.
//
// The closures never use `eval`/`new Function`, so they run under a strict Content-Security-Policy.
// On Node (by default) the hot path is also generated as JavaScript (codegen.ts, codegen-rules.ts:
// validation, and every rule's conditions in one function, calling the closures for anything but the
// simple forms); `compile(…, { codegen: false })` forces the closures. Both give identical decisions.
//
// Explanations (`explain: true`) use a second, instrumented compilation of the rule conditions that
// records input-rooted reads; it is built lazily on the first explain request, so the normal
// path never pays for it.

import type * as A from '../syntax/ast.js';
import type { Diagnostic } from '../diagnostics.js';
import type { CheckResult, CheckedProgram, PolicyHeader, Symbol as Sym } from '../semantics/program.js';
import type { Type } from '../semantics/types.js';
import { printExpr } from '../semantics/print.js';
import { compilePattern, type PolicyPattern } from '../semantics/patterns.js';
import { hostApprovals, hostMode, hostNow } from './host-options.js';
import { PolicyError } from '../errors.js';
import type {
  BudgetView,
  BudgetWindow,
  ClauseEffect,
  ClauseExplanation,
  CompiledBudget,
  CompiledPolicy,
  DecisionError,
  Env,
  RuleOutcome,
  SourceLocation,
} from './compiled.js';
import type { Approval, Decision } from './decision.js';
import { assemble, Entries, ruleErrorReason, type Assembler } from './entries.js';
import { DETECTORS } from './detectors.js';
import { canonicalJson, hashValue, sha256Hex } from './hash.js';
import { addMoney, divMoney, formatMicros, mulMoney } from './money.js';
import { compileValidator, emitQuickValidator, newFastClosures } from './validate.js';
import { useCodegen } from './codegen.js';
import { generateDecide, generateFused, generateRules, type DecideHelpers, type FusedEvaluate, type RuleGenHost } from './codegen-rules.js';
import { EvalError, MAX_TIME_MS, deepEqual, deepMerge, formatTime, isPlainObject, newRecord, renderValue } from './values.js';

type Frame = unknown[];
type Fn = (env: Env, frame: Frame) => unknown;

interface Compiled {
  fn: Fn;
  /** Set when the expression is a compile-time constant. */
  constant: boolean;
  value?: unknown;
}

const EXPLAIN = Object.freeze({ explain: true });
const NO_OUTCOMES: RuleOutcome[] = Object.freeze([]) as unknown as RuleOutcome[];
const EMPTY_FRAME: Frame = Object.freeze([]) as unknown as Frame;

function konst(value: unknown): Compiled {
  return { fn: () => value, constant: true, value };
}
function dyn(fn: Fn): Compiled {
  return { fn, constant: false };
}

/** A compile-time-constant closure, or the closure itself. Folding errors are left for run time. */
function fold(c: Compiled, deps: Compiled[]): Compiled {
  if (c.constant || !deps.every((d) => d.constant)) return c;
  try {
    const v = c.fn(EMPTY_ENV, EMPTY_FRAME);
    return konst(v);
  } catch {
    return c;
  }
}

const EMPTY_ENV: Env = { input: Object.create(null), now: 0, budgets: Object.create(null) };

// ---------------------------------------------------------------- read recording (explain)

interface ReadLog {
  reads: { path: string; value: unknown }[];
}
let currentLog: ReadLog | null = null;

// ---------------------------------------------------------------- helpers

function isNullish(v: unknown): boolean {
  return v === null || v === undefined;
}

function member(v: unknown, k: string): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const r = (v as Record<string, unknown>)[k];
  return r === undefined || typeof r === 'function' ? null : r;
}

function baseKind(t: Type | undefined): Type['kind'] | undefined {
  if (!t) return undefined;
  return t.kind === 'nullable' ? t.inner.kind : t.kind;
}

function isScalarKind(k: Type['kind'] | undefined): boolean {
  return (
    k === 'string' || k === 'number' || k === 'int' || k === 'bool' || k === 'money' || k === 'duration' || k === 'time' || k === 'enum' || k === 'null'
  );
}

function lt(a: unknown, b: unknown): boolean {
  if (isNullish(a) || isNullish(b)) return false;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string')) return (a as number) < (b as number);
  return false;
}
function le(a: unknown, b: unknown): boolean {
  if (isNullish(a) || isNullish(b)) return false;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string')) return (a as number) <= (b as number);
  return false;
}

// Reads of `root`, `root.k0`, `root.k0.k1` of the validated request where every step's object is
// statically a record (object or map type): small module-level functions, so closures calling them get
// them inlined (a closure calling another closure cannot be inlined: those calls are megamorphic).
function read0(input: Record<string, unknown>, root: string): unknown {
  const v = input[root];
  return v === undefined ? null : v;
}
function read1(input: Record<string, unknown>, root: string, k0: string): unknown {
  const a = input[root] as Record<string, unknown> | null | undefined;
  if (a === null || a === undefined) return null;
  const v = a[k0];
  return v === undefined || typeof v === 'function' ? null : v;
}
function read2(input: Record<string, unknown>, root: string, k0: string, k1: string): unknown {
  const a = input[root] as Record<string, unknown> | null | undefined;
  if (a === null || a === undefined) return null;
  const b = a[k0] as Record<string, unknown> | null | undefined;
  if (b === null || b === undefined) return null;
  const v = b[k1];
  return v === undefined || typeof v === 'function' ? null : v;
}

function memberOf(x: unknown, coll: unknown): boolean {
  if (isNullish(x) || isNullish(coll)) return false;
  if (Array.isArray(coll)) {
    if (typeof x !== 'object') return coll.includes(x);
    for (const y of coll) if (deepEqual(x, y)) return true;
    return false;
  }
  if (typeof coll === 'string') return typeof x === 'string' && coll.includes(x);
  if (typeof coll === 'object') return typeof x === 'string' && Object.prototype.hasOwnProperty.call(coll, x);
  return false;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new EvalError(`${what} needs a number, got ${v === null ? 'null' : typeof v}`);
  return v;
}

function checkedNumber(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new EvalError(`${what} is not a finite number`);
  return v;
}


const WEEKDAYS = 7;

/** `type_of(x)`: the shape of a run-time value (money, durations and times are numbers). */
function typeOfValue(v: unknown): 'string' | 'number' | 'bool' | 'list' | 'map' | 'null' {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'list' : 'map';
}

// One plain e-mail address: a local part without spaces, separators or quotes, one `@`, and a host
// name of dot-separated labels. Unambiguous classes only (linear time in V8's engine).
const ONE_ADDRESS = /^[^\s@,;<>()[\]\\":]+@[A-Za-z0-9\u0080-\uFFFF-]+(?:\.[A-Za-z0-9\u0080-\uFFFF-]+)*$/;

/** `s.domain()`: the lower-cased domain when `s` is exactly one plain address, else null — so
 *  `"bob@evil.com, carol@example.com"` or `"Bob <bob@x.com>"` never passes for an internal address. */
export function emailDomain(s: string): string | null {
  if (!ONE_ADDRESS.test(s)) return null;
  return s.slice(s.indexOf('@') + 1).toLowerCase();
}

function inTimeRange(v: unknown, kind: 'time' | 'duration', where: string): unknown {
  if (typeof v === 'number' && !(Math.abs(v) <= MAX_TIME_MS))
    throw new EvalError(`the ${kind} is outside the supported range (±${MAX_TIME_MS} ms, about ±273,790 years) at ${where}`);
  return v;
}

/** A time's UTC date, or a run-time error when it is not a valid time (never NaN). */
function utcDate(t: number): Date {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new EvalError(`the time ${t} is outside the supported range`);
  return d;
}

// ---------------------------------------------------------------- compiler

interface DefInfo {
  decl: A.DefDecl;
  compiled?: { body: Fn; frameSize: number; constant: boolean };
  compiling?: boolean;
}

interface Scope {
  /** Slot of each def param / lambda param (by declaring node). */
  slots: Map<unknown, number>;
  size: { n: number };
}

interface Ctx {
  program: CheckedProgram;
  file: string;
  currency: string;
  /** Instrument input-rooted reads (explain). */
  trace: boolean;
  scope: Scope;
}

export interface CompileOptions {
  /** Sources, when `compile` is given a CheckResult (only used for the hash when present). */
  sources?: Record<string, string>;
  /**
   * Generate JavaScript for request validation and rule conditions with `new Function` (faster).
   * Default: on Node (unless the environment has `REIN_CODEGEN=0`); never by default in a browser, where
   * a Content-Security-Policy may forbid it. `true` generates whenever the platform allows it, `false`
   * never does. Both paths give identical decisions.
   */
  codegen?: boolean;
}

class Compiler {
  readonly lets = new Map<string, Compiled>();
  readonly letsCompiling = new Set<string>();
  readonly defs = new Map<string, DefInfo>();
  readonly budgetsRead = new Set<string>();
  readonly budgetUnits = new Map<string, 'money' | 'number'>();

  constructor(readonly program: CheckedProgram) {
    for (const d of program.defs) if (d.name) this.defs.set(d.name.text, { decl: d });
    for (const b of program.budgets) if (b.name) this.budgetUnits.set(b.name.text, budgetUnitOf(program, b));
  }

  typeOf(e: A.Expr | undefined): Type | undefined {
    return e ? this.program.types.get(e) : undefined;
  }

  loc(ctx: Ctx, node: A.Node): string {
    return `${ctx.file}:${node.range.start.line + 1}:${node.range.start.character + 1}`;
  }

  fileOf(decl: A.Decl): string {
    return this.program.declFile.get(decl) ?? this.program.files.find((f) => f.decls.includes(decl))?.file ?? '';
  }

  newCtx(file: string, trace = false): Ctx {
    return { program: this.program, file, currency: this.program.header.currency, trace, scope: { slots: new Map(), size: { n: 0 } } };
  }

  // ---------------- lets

  letValue(name: string): Compiled {
    const done = this.lets.get(name);
    if (done) return done;
    const decl = this.program.lets.find((l) => l.name?.text === name);
    if (!decl || !decl.value || this.letsCompiling.has(name)) return konst(null);
    this.letsCompiling.add(name);
    const ctx = this.newCtx(this.fileOf(decl));
    let c = this.expr(decl.value, ctx);
    this.letsCompiling.delete(name);
    if (!c.constant && ctx.scope.size.n > 0) {
      // A let that needs lambda slots gets its own frame.
      const g = c.fn;
      const size = ctx.scope.size.n;
      c = dyn((env) => g(env, new Array(size)));
    }
    this.lets.set(name, c);
    return c;
  }

  // ---------------- defs

  def(name: string): { body: Fn; frameSize: number; constant: boolean } | undefined {
    const info = this.defs.get(name);
    if (!info) return undefined;
    if (info.compiled) return info.compiled;
    if (info.compiling || !info.decl.body) return undefined; // recursion is a checker error
    info.compiling = true;
    const ctx = this.newCtx(this.fileOf(info.decl));
    info.decl.params.forEach((p, i) => ctx.scope.slots.set(p, i));
    ctx.scope.size.n = info.decl.params.length;
    const body = this.expr(info.decl.body, ctx);
    info.compiled = { body: body.fn, frameSize: ctx.scope.size.n, constant: body.constant };
    info.compiling = false;
    return info.compiled;
  }

  /** Whether an expression reads the request, the clock or budgets (directly or through lets/defs). */
  readsEnv(e: A.Expr | undefined, seen = new Set<string>()): boolean {
    if (!e) return false;
    if (e.kind === 'NameRef') {
      const s = this.program.refs.get(e.name);
      if (!s) return true;
      switch (s.kind) {
        case 'input-field':
        case 'input':
        case 'budget':
          return true;
        case 'builtin':
          return s.name === 'now';
        case 'let':
          return !this.letValue(s.name).constant;
        case 'def': {
          if (seen.has(s.name)) return false;
          seen.add(s.name);
          return this.readsEnv(s.decl.body, seen);
        }
        default:
          return false;
      }
    }
    for (const c of children(e)) if (this.readsEnv(c, seen)) return true;
    return false;
  }

  // ---------------- expressions

  expr(e: A.Expr | undefined, ctx: Ctx, chainInner = false): Compiled {
    if (!e) return konst(null);
    switch (e.kind) {
      case 'Number':
        return konst(e.value);
      case 'Money':
        return konst(e.micros);
      case 'Duration':
        return konst(e.ms);
      case 'Percent':
        return konst(e.value);
      case 'Bool':
        return konst(e.value);
      case 'Null':
        return konst(null);
      case 'String':
        return this.string(e, ctx);
      case 'Paren':
        return this.expr(e.expr, ctx, chainInner);
      case 'List': {
        const items = e.items.map((i) => this.expr(i, ctx));
        if (items.every((i) => i.constant)) return konst(Object.freeze(items.map((i) => i.value)));
        const fns = items.map((i) => i.fn);
        return dyn((env, f) => fns.map((g) => g(env, f)));
      }
      case 'Object': {
        const keys = e.entries.map((en) => (en.key.kind === 'Name' ? en.key.text : en.key.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('')));
        const vals = e.entries.map((en) => this.expr(en.value, ctx));
        const build = (get: (i: number) => unknown) => {
          const o = newRecord();
          for (let i = 0; i < keys.length; i++) o[keys[i]] = get(i);
          return o;
        };
        if (vals.every((v) => v.constant)) return konst(build((i) => vals[i].value));
        const fns = vals.map((v) => v.fn);
        return dyn((env, f) => build((i) => fns[i](env, f)));
      }
      case 'NameRef':
        return this.name(e, ctx, chainInner);
      case 'Member':
        return this.member(e, ctx, chainInner);
      case 'Index':
        return this.index(e, ctx, chainInner);
      case 'Call':
        return this.call(e, ctx);
      case 'Lambda':
        // Lambdas only appear as method arguments (handled there).
        return konst(null);
      case 'Unary':
        return this.unary(e, ctx);
      case 'Binary':
        return this.binary(e, ctx);
      case 'If': {
        const c = this.expr(e.cond, ctx);
        const t = this.expr(e.then, ctx);
        const f = this.expr(e.else, ctx);
        if (c.constant) return c.value === true ? t : f;
        const cf = c.fn;
        const tf = t.fn;
        const ff = f.fn;
        return dyn((env, fr) => (cf(env, fr) === true ? tf(env, fr) : ff(env, fr)));
      }
      case 'Error':
        return dyn(() => {
          throw new EvalError('expression has a syntax error');
        });
    }
  }

  string(e: A.StringLit, ctx: Ctx): Compiled {
    if (e.parts.every((p) => p.kind === 'Text')) return konst(e.parts.map((p) => (p as A.StringText).value).join(''));
    const currency = ctx.currency;
    const parts: Compiled[] = e.parts.map((p) => {
      if (p.kind === 'Text') return konst(p.value);
      const t = this.typeOf(p.expr);
      const inner = this.expr(p.expr, ctx);
      const g = inner.fn;
      return fold(dyn((env, f) => renderValue(g(env, f), t, currency)), [inner]);
    });
    if (parts.every((p) => p.constant)) return konst(parts.map((p) => p.value).join(''));
    const fns = parts.map((p) => p.fn);
    return dyn((env, f) => {
      let s = '';
      for (let i = 0; i < fns.length; i++) s += fns[i](env, f) as string;
      return s;
    });
  }

  /** The dotted input path of a member chain (`action.args.amount`), or undefined when not input-rooted. */
  inputPath(e: A.Expr): string | undefined {
    switch (e.kind) {
      case 'NameRef': {
        const s = this.program.refs.get(e.name);
        if (s?.kind === 'input-field') return s.name;
        if (s?.kind === 'input') return 'input';
        return undefined;
      }
      case 'Member': {
        if (!e.property) return undefined;
        const base = this.inputPath(e.object);
        if (base === undefined) return undefined;
        return base === 'input' ? e.property.text : `${base}.${e.property.text}`;
      }
      case 'Index': {
        const base = this.inputPath(e.object);
        if (base === undefined || !e.index) return undefined;
        if (e.index.kind === 'Number') return `${base}[${e.index.value}]`;
        if (e.index.kind === 'String' && e.index.parts.every((p) => p.kind === 'Text'))
          return `${base}[${JSON.stringify(e.index.parts.map((p) => (p as A.StringText).value).join(''))}]`;
        return `${base}[…]`;
      }
      case 'Paren':
        return e.expr ? this.inputPath(e.expr) : undefined;
      default:
        return undefined;
    }
  }

  /** Wrap an input-rooted read so it is recorded in explain mode. */
  traced(c: Compiled, e: A.Expr, ctx: Ctx, chainInner: boolean): Compiled {
    if (!ctx.trace || chainInner || c.constant) return c;
    const path = this.inputPath(e);
    if (path === undefined) return c;
    const t = this.typeOf(e);
    const g = c.fn;
    return dyn((env, f) => {
      const v = g(env, f);
      const log = currentLog;
      if (log && !log.reads.some((r) => r.path === path)) log.reads.push({ path, value: toJsonValue(v, t) });
      return v;
    });
  }

  name(e: A.NameExpr, ctx: Ctx, chainInner: boolean): Compiled {
    const s: Sym | undefined = this.program.refs.get(e.name);
    const name = e.name.text;
    if (!s) return dyn(() => { throw new EvalError(`unknown name \`${name}\``); });
    switch (s.kind) {
      case 'let':
        return this.letValue(name);
      case 'input-field':
        return this.traced(dyn((env) => {
          const v = env.input[name];
          return v === undefined ? null : v;
        }), e, ctx, chainInner);
      case 'input':
        return this.traced(dyn((env) => env.input), e, ctx, chainInner);
      case 'param': {
        const slot = ctx.scope.slots.get(s.param);
        if (slot === undefined) return konst(null);
        return dyn((_env, f) => f[slot]);
      }
      case 'lambda-param': {
        const slot = ctx.scope.slots.get(s.node);
        if (slot === undefined) return konst(null);
        return dyn((_env, f) => f[slot]);
      }
      case 'builtin':
        if (name === 'now') return dyn((env) => env.now);
        return konst(null);
      case 'budget': {
        this.budgetsRead.add(name);
        return dyn((env) => env.budgets[name] ?? null);
      }
      default:
        return konst(null);
    }
  }

  member(e: A.MemberExpr, ctx: Ctx, chainInner: boolean): Compiled {
    if (!e.property) return konst(null);
    const k = e.property.text;
    const objType = this.typeOf(e.object);
    if (baseKind(objType) === 'budget') {
      const o = this.expr(e.object, ctx, true);
      const g = o.fn;
      return dyn((env, f) => {
        const view = g(env, f) as BudgetView | null;
        if (!view) return null;
        const v = (view as unknown as Record<string, unknown>)[k];
        return typeof v === 'number' ? v : null;
      });
    }
    const fused = this.fusedInputRead(e);
    if (fused) return this.traced(dyn(fused), e, ctx, chainInner);
    const o = this.expr(e.object, ctx, true);
    const g = o.fn;
    const c = fold(dyn((env, f) => member(g(env, f), k)), [o]);
    return this.traced(c, e, ctx, chainInner);
  }

  /**
   * `action.args.amount` as ONE closure walking the validated request (instead of one closure per
   * `.`). Steps whose static type is an object or map are records by validation (null or an object
   * without inherited members), so they skip the generic shape checks.
   */
  fusedInputRead(e: A.MemberExpr): Fn | undefined {
    const chain = this.inputChain(e);
    if (!chain) return undefined;
    const { root, keys, safe } = chain;
    const n = keys.length;
    if (n === 1 && safe[0]) {
      const k0 = keys[0];
      return (env) => {
        const a = env.input[root] as Record<string, unknown> | null | undefined;
        if (a === null || a === undefined) return null;
        const v = a[k0];
        return v === undefined || typeof v === 'function' ? null : v;
      };
    }
    if (n === 2 && safe[0] && safe[1]) {
      const k0 = keys[0];
      const k1 = keys[1];
      return (env) => {
        const a = env.input[root] as Record<string, unknown> | null | undefined;
        if (a === null || a === undefined) return null;
        const b = a[k0] as Record<string, unknown> | null | undefined;
        if (b === null || b === undefined) return null;
        const v = b[k1];
        return v === undefined || typeof v === 'function' ? null : v;
      };
    }
    return (env) => {
      let v: unknown = env.input[root];
      for (let i = 0; i < n; i++) {
        if (v === null || v === undefined) return null;
        if (!safe[i] && (typeof v !== 'object' || Array.isArray(v))) return null;
        v = (v as Record<string, unknown>)[keys[i]];
      }
      return v === undefined || typeof v === 'function' ? null : v;
    };
  }

  /** An input-rooted member chain (`action.args.amount`): root field, keys, and whether each step's object is statically a record. */
  inputChain(e: A.MemberExpr): { root: string; keys: string[]; safe: boolean[] } | undefined {
    const keys: string[] = [];
    const safe: boolean[] = [];
    let cur: A.Expr = e;
    while (cur.kind === 'Member' || cur.kind === 'Paren') {
      if (cur.kind === 'Paren') {
        if (!cur.expr) return undefined;
        cur = cur.expr;
        continue;
      }
      if (!cur.property) return undefined;
      const ok = baseKind(this.typeOf(cur.object));
      if (ok === 'budget') return undefined;
      keys.unshift(cur.property.text);
      safe.unshift(ok === 'object' || ok === 'map');
      cur = cur.object;
    }
    if (cur.kind !== 'NameRef') return undefined;
    const s = this.program.refs.get(cur.name);
    if (s?.kind !== 'input-field') return undefined;
    return { root: s.name, keys, safe };
  }

  /** `field`, `field.a`, `field.a.b` on the request with record steps, untraced: readable with read0/1/2. */
  simpleRead(e: A.Expr | undefined, ctx: Ctx): { root: string; keys: string[] } | undefined {
    if (!e || ctx.trace) return undefined;
    while (e.kind === 'Paren') {
      if (!e.expr) return undefined;
      e = e.expr;
    }
    if (e.kind === 'NameRef') {
      const s = this.program.refs.get(e.name);
      return s?.kind === 'input-field' ? { root: e.name.text, keys: [] } : undefined;
    }
    if (e.kind !== 'Member') return undefined;
    const chain = this.inputChain(e);
    if (!chain || chain.keys.length > 2 || !chain.safe.every((x) => x)) return undefined;
    return { root: chain.root, keys: chain.keys };
  }

  /** A closure computing `test(value read)` for a simple read (see `simpleRead`). */
  fusedTest(read: { root: string; keys: string[] }, test: (v: unknown) => boolean): Fn {
    const { root, keys } = read;
    if (keys.length === 0) return (env) => test(read0(env.input, root));
    const k0 = keys[0];
    if (keys.length === 1) return (env) => test(read1(env.input, root, k0));
    const k1 = keys[1];
    return (env) => test(read2(env.input, root, k0, k1));
  }

  symbolOf(e: A.NameExpr): { kind: string; name: string } | undefined {
    const s = this.program.refs.get(e.name);
    return s ? { kind: s.kind, name: e.name.text } : undefined;
  }

  index(e: A.IndexExpr, ctx: Ctx, chainInner: boolean): Compiled {
    const o = this.expr(e.object, ctx, true);
    const i = this.expr(e.index, ctx);
    const og = o.fn;
    const ig = i.fn;
    const c = fold(
      dyn((env, f) => {
        const v = og(env, f);
        const k = ig(env, f);
        if (Array.isArray(v)) {
          if (typeof k !== 'number' || !Number.isInteger(k)) return null;
          const x = v[k < 0 ? v.length + k : k];
          return x === undefined ? null : x;
        }
        if (typeof k === 'string') return member(v, k);
        return null;
      }),
      [o, i],
    );
    return this.traced(c, e, ctx, chainInner);
  }

  unary(e: A.UnaryExpr, ctx: Ctx): Compiled {
    const x = this.expr(e.operand, ctx);
    const g = x.fn;
    if (e.op === 'not') return fold(dyn((env, f) => g(env, f) !== true), [x]);
    return fold(
      dyn((env, f) => {
        const v = g(env, f);
        if (v === null) return null;
        const n = -num(v, 'unary `-`');
        return n === 0 ? 0 : n;
      }),
      [x],
    );
  }

  binary(e: A.BinaryExpr, ctx: Ctx): Compiled {
    const c = this.binaryRaw(e, ctx);
    // Time and duration arithmetic must stay inside the time range (±8.64e15 ms, JavaScript's
    // Date range): outside it `hour()`/`weekday()` would be NaN and every comparison false, so a
    // rule such as "deny outside business hours" would silently stop matching. A rule error instead.
    const k = e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' ? baseKind(this.typeOf(e)) : undefined;
    if (k !== 'time' && k !== 'duration') return c;
    const g = c.fn;
    const where = this.loc(ctx, e);
    return fold(dyn((env, f) => inTimeRange(g(env, f), k, where)), [c]);
  }

  private binaryRaw(e: A.BinaryExpr, ctx: Ctx): Compiled {
    const op = e.op;
    const l = this.expr(e.left, ctx);
    const r = this.expr(e.right, ctx);
    const lf = l.fn;
    const rf = r.fn;
    const lt_ = this.typeOf(e.left);
    const rt_ = this.typeOf(e.right);
    const lk = baseKind(lt_);
    const rk = baseKind(rt_);
    const where = this.loc(ctx, e);
    const d = [l, r];
    switch (op) {
      case 'and':
        if (l.constant) return l.value === true ? fold(dyn((env, f) => rf(env, f) === true), [r]) : konst(false);
        return dyn((env, f) => lf(env, f) === true && rf(env, f) === true);
      case 'or':
        if (l.constant) return l.value === true ? konst(true) : fold(dyn((env, f) => rf(env, f) === true), [r]);
        return dyn((env, f) => lf(env, f) === true || rf(env, f) === true);
      case '==':
      case '!=': {
        const neg = op === '!=';
        if (isScalarKind(lk) || isScalarKind(rk)) {
          // Scalars: strict equality (null == null; absent fields are null).
          if (r.constant) {
            const rv = r.value;
            const sr = l.constant ? undefined : this.simpleRead(e.left, ctx);
            if (sr) return dyn(neg ? this.fusedTest(sr, (v) => v !== rv) : this.fusedTest(sr, (v) => v === rv));
            return fold(dyn((env, f) => (lf(env, f) === rv) !== neg), d);
          }
          return fold(dyn((env, f) => (lf(env, f) === rf(env, f)) !== neg), d);
        }
        return fold(dyn((env, f) => deepEqual(nz(lf(env, f)), nz(rf(env, f))) !== neg), d);
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (r.constant && typeof r.value === 'number' && !l.constant) {
          // The common `x > 1000` shape: one closure call and a typeof check.
          const rv = r.value;
          const sr = this.simpleRead(e.left, ctx);
          if (sr) {
            if (op === '<') return dyn(this.fusedTest(sr, (a) => typeof a === 'number' && a < rv));
            if (op === '<=') return dyn(this.fusedTest(sr, (a) => typeof a === 'number' && a <= rv));
            if (op === '>') return dyn(this.fusedTest(sr, (a) => typeof a === 'number' && a > rv));
            return dyn(this.fusedTest(sr, (a) => typeof a === 'number' && a >= rv));
          }
          if (op === '<') return dyn((env, f) => { const a = lf(env, f); return typeof a === 'number' && a < rv; });
          if (op === '<=') return dyn((env, f) => { const a = lf(env, f); return typeof a === 'number' && a <= rv; });
          if (op === '>') return dyn((env, f) => { const a = lf(env, f); return typeof a === 'number' && a > rv; });
          return dyn((env, f) => { const a = lf(env, f); return typeof a === 'number' && a >= rv; });
        }
        if (op === '<') return fold(dyn((env, f) => lt(lf(env, f), rf(env, f))), d);
        if (op === '<=') return fold(dyn((env, f) => le(lf(env, f), rf(env, f))), d);
        if (op === '>') return fold(dyn((env, f) => lt(rf(env, f), lf(env, f))), d);
        return fold(dyn((env, f) => le(rf(env, f), lf(env, f))), d);
      case 'in':
      case 'not in': {
        const neg = op === 'not in';
        if (r.constant && Array.isArray(r.value) && r.value.every((x) => typeof x !== 'object' || x === null)) {
          const set = new Set(r.value.filter((x) => x !== null));
          const sr = l.constant ? undefined : this.simpleRead(e.left, ctx);
          if (sr)
            return dyn(neg ? this.fusedTest(sr, (x) => !(x !== null && set.has(x))) : this.fusedTest(sr, (x) => x !== null && set.has(x)));
          return fold(dyn((env, f) => {
            const x = lf(env, f);
            return (x !== null && x !== undefined && set.has(x)) !== neg;
          }), d);
        }
        return fold(dyn((env, f) => memberOf(lf(env, f), rf(env, f)) !== neg), d);
      }
      case 'matches': {
        let re: PolicyPattern | undefined;
        const pattern = e.right && e.right.kind === 'String' && e.right.parts.every((p) => p.kind === 'Text')
          ? e.right.parts.map((p) => (p as A.StringText).value).join('')
          : undefined;
        if (pattern !== undefined) {
          try {
            re = compilePattern(pattern);
          } catch {
            re = undefined;
          }
        }
        if (!re) return dyn(() => { throw new EvalError(`invalid pattern at ${where}`); });
        const rx = re;
        return fold(dyn((env, f) => {
          const s = lf(env, f);
          return typeof s === 'string' && rx.test(s);
        }), [l]);
      }
      case 'with':
        return fold(dyn((env, f) => deepMerge(lf(env, f), rf(env, f))), d);
      case '??':
        if (l.constant) return l.value === null || l.value === undefined ? r : l;
        return dyn((env, f) => {
          const v = lf(env, f);
          return v === null || v === undefined ? rf(env, f) : v;
        });
      case '+':
        if (lk === 'money' || rk === 'money')
          return fold(dyn((env, f) => addMoney(num(lf(env, f), '`+`'), num(rf(env, f), '`+`'))), d);
        if (lk === 'string' || rk === 'string' || lk === 'enum' || rk === 'enum')
          return fold(dyn((env, f) => String(lf(env, f) ?? 'null') + String(rf(env, f) ?? 'null')), d);
        if (lk === 'list' || rk === 'list')
          return fold(dyn((env, f) => [...((lf(env, f) as unknown[]) ?? []), ...((rf(env, f) as unknown[]) ?? [])]), d);
        return fold(dyn((env, f) => {
          const a = lf(env, f);
          const b = rf(env, f);
          if (typeof a === 'string' || typeof b === 'string') return String(a) + String(b);
          return checkedNumber(num(a, '`+`') + num(b, '`+`'), 'the sum');
        }), d);
      case '-':
        if (lk === 'money' || rk === 'money')
          return fold(dyn((env, f) => addMoney(num(lf(env, f), '`-`'), -num(rf(env, f), '`-`'))), d);
        return fold(dyn((env, f) => checkedNumber(num(lf(env, f), '`-`') - num(rf(env, f), '`-`'), 'the difference')), d);
      case '*':
        if (lk === 'money' && rk !== 'money') return fold(dyn((env, f) => mulMoney(num(lf(env, f), '`*`'), num(rf(env, f), '`*`'))), d);
        if (rk === 'money' && lk !== 'money') return fold(dyn((env, f) => mulMoney(num(rf(env, f), '`*`'), num(lf(env, f), '`*`'))), d);
        if (lk === 'duration' || rk === 'duration')
          return fold(dyn((env, f) => Math.round(checkedNumber(num(lf(env, f), '`*`') * num(rf(env, f), '`*`'), 'the product'))), d);
        return fold(dyn((env, f) => checkedNumber(num(lf(env, f), '`*`') * num(rf(env, f), '`*`'), 'the product')), d);
      case '/':
        if (lk === 'money' && rk !== 'money')
          return fold(dyn((env, f) => {
            try {
              return divMoney(num(lf(env, f), '`/`'), num(rf(env, f), '`/`'));
            } catch (err) {
              throw new EvalError(`${(err as Error).message} at ${where}`);
            }
          }), d);
        return fold(dyn((env, f) => {
          const a = num(lf(env, f), '`/`');
          const b = num(rf(env, f), '`/`');
          if (b === 0) throw new EvalError(`division by zero at ${where}`);
          const q = a / b;
          return lk === 'duration' && rk !== 'duration' ? Math.round(q) : checkedNumber(q, 'the quotient');
        }), d);
      case '%':
        return fold(dyn((env, f) => {
          const a = num(lf(env, f), '`%`');
          const b = num(rf(env, f), '`%`');
          if (b === 0) throw new EvalError(`modulo by zero at ${where}`);
          const m = a % b;
          return m === 0 ? 0 : m;
        }), d);
    }
  }

  call(e: A.CallExpr, ctx: Ctx): Compiled {
    const callee = e.callee.kind === 'Paren' && e.callee.expr ? e.callee.expr : e.callee;
    // Global functions and defs.
    if (callee.kind === 'NameRef') {
      const s = this.program.refs.get(callee.name);
      const name = callee.name.text;
      if (s?.kind === 'def') return this.callDef(name, e, ctx);
      if (s?.kind === 'builtin' || !s) return this.callBuiltin(name, e, ctx);
      return dyn(() => { throw new EvalError(`\`${name}\` is not a function`); });
    }
    if (callee.kind === 'Member' && callee.property) {
      const m = callee.property.text;
      // Detectors: `pii.email(s)`.
      if (callee.object.kind === 'NameRef') {
        const ns = callee.object.name.text;
        const objSym = this.program.refs.get(callee.object.name);
        const det = DETECTORS[`${ns}.${m}`];
        if (det && (!objSym || objSym.kind === 'detector')) {
          const a = this.expr(e.args[0], ctx);
          const g = a.fn;
          return fold(dyn((env, f) => {
            const s = g(env, f);
            return typeof s === 'string' && det(s);
          }), [a]);
        }
      }
      return this.method(callee.object, m, e, ctx);
    }
    return dyn(() => { throw new EvalError('not a function'); });
  }

  callDef(name: string, e: A.CallExpr, ctx: Ctx): Compiled {
    const args = e.args.map((a) => this.expr(a, ctx));
    const info = this.def(name);
    if (!info) return dyn(() => { throw new EvalError(`\`${name}\` cannot be evaluated`); });
    const fns = args.map((a) => a.fn);
    const n = fns.length;
    const body = info.body;
    const size = info.frameSize;
    const c = dyn((env, f) => {
      const frame: Frame = new Array(size);
      for (let i = 0; i < n; i++) frame[i] = fns[i](env, f);
      return body(env, frame);
    });
    return args.every((a) => a.constant) && !this.readsEnv(this.defs.get(name)?.decl.body) ? fold(c, args) : c;
  }

  callBuiltin(name: string, e: A.CallExpr, ctx: Ctx): Compiled {
    const args = e.args.map((a) => this.expr(a, ctx));
    const fns = args.map((a) => a.fn);
    const a0 = fns.length > 0 ? fns[0] : () => null;
    const a1 = fns.length > 1 ? fns[1] : () => null;
    switch (name) {
      case 'len':
        return fold(dyn((env, f) => lengthOf(a0(env, f))), args);
      case 'min':
      case 'max': {
        const isMin = name === 'min';
        return fold(dyn((env, f) => {
          const a = a0(env, f);
          const b = a1(env, f);
          if (isNullish(a)) return isNullish(b) ? null : b;
          if (isNullish(b)) return a;
          return isMin ? (lt(b, a) ? b : a) : lt(a, b) ? b : a;
        }), args);
      }
      case 'type_of':
        return fold(dyn((env, f) => typeOfValue(a0(env, f))), args);
      case 'hour':
        return fold(dyn((env, f) => {
          const t = a0(env, f);
          return typeof t === 'number' ? utcDate(t).getUTCHours() : null;
        }), args);
      case 'weekday':
        // ISO weekday: Monday = 1 … Sunday = 7 (UTC).
        return fold(dyn((env, f) => {
          const t = a0(env, f);
          if (typeof t !== 'number') return null;
          const d = utcDate(t).getUTCDay();
          return d === 0 ? WEEKDAYS : d;
        }), args);
      default:
        return dyn(() => { throw new EvalError(`unknown function \`${name}\``); });
    }
  }

  lambda(arg: A.Expr | undefined, ctx: Ctx): { body: Fn; slot: number } | undefined {
    const lam = arg && arg.kind === 'Lambda' ? arg : arg && arg.kind === 'Paren' && arg.expr?.kind === 'Lambda' ? arg.expr : undefined;
    if (!lam || lam.params.length === 0) return undefined;
    const slot = ctx.scope.size.n++;
    ctx.scope.slots.set(lam.params[0], slot);
    const body = this.expr(lam.body, ctx);
    return { body: body.fn, slot };
  }

  method(objExpr: A.Expr, m: string, e: A.CallExpr, ctx: Ctx): Compiled {
    const objType = this.typeOf(objExpr);
    const ok = baseKind(objType);
    const o = this.expr(objExpr, ctx);
    const og = o.fn;
    const where = this.loc(ctx, e);
    const isList = ok === 'list';
    const isString = ok === 'string' || ok === 'enum';
    if (isList || (!isString && ['any', 'all', 'count', 'filter', 'map', 'sum'].includes(m))) {
      const elemType = objType && baseKind(objType) === 'list' ? (objType.kind === 'nullable' ? objType.inner : objType) : undefined;
      const sumMoney = m === 'sum' && baseKind(this.typeOf(e)) === 'money';
      const lam = this.lambda(e.args[0], ctx);
      const arg = lam ? undefined : this.expr(e.args[0], ctx);
      void elemType;
      return this.listMethod(m, o, lam, arg, sumMoney, where);
    }
    const args = e.args.map((a) => this.expr(a, ctx));
    const a0 = args.length > 0 ? args[0].fn : () => null;
    const a1 = args.length > 1 ? args[1].fn : () => null;
    const deps = [o, ...args];
    const str = (fn: (s: string, env: Env, f: Frame) => unknown): Compiled =>
      fold(dyn((env, f) => {
        const s = og(env, f);
        if (typeof s !== 'string') {
          if (Array.isArray(s) && m === 'contains') return memberOf(a0(env, f), s);
          if (Array.isArray(s) && m === 'len') return s.length;
          if (s === null || s === undefined) return null;
          // Only an `any` value can be of another type here: fail the rule rather than let a wrong
          // shape (a command sent as a number, a map) silently not match.
          throw new EvalError(`\`.${m}()\` needs a string, got ${typeOfValue(s)} at ${where}`);
        }
        return fn(s, env, f);
      }), deps);
    switch (m) {
      case 'len':
        return str((s) => s.length);
      case 'lower':
        return str((s) => s.toLowerCase());
      case 'upper':
        return str((s) => s.toUpperCase());
      case 'trim':
        return str((s) => s.trim());
      case 'starts_with':
        return str((s, env, f) => {
          const p = a0(env, f);
          return typeof p === 'string' && s.startsWith(p);
        });
      case 'ends_with':
        return str((s, env, f) => {
          const p = a0(env, f);
          return typeof p === 'string' && s.endsWith(p);
        });
      case 'contains':
        return str((s, env, f) => {
          const p = a0(env, f);
          return typeof p === 'string' && s.includes(p);
        });
      case 'split':
        return str((s, env, f) => {
          const p = a0(env, f);
          return typeof p === 'string' ? s.split(p) : [s];
        });
      case 'replace':
        return str((s, env, f) => {
          const p = a0(env, f);
          const r = a1(env, f);
          return typeof p === 'string' && typeof r === 'string' && p.length > 0 ? s.split(p).join(r) : s;
        });
      case 'domain':
        return str(emailDomain);
      default:
        return dyn(() => { throw new EvalError(`unknown method \`${m}\``); });
    }
  }

  listMethod(m: string, o: Compiled, lam: { body: Fn; slot: number } | undefined, arg: Compiled | undefined, sumMoney: boolean, where: string): Compiled {
    const og = o.fn;
    const list = (env: Env, f: Frame): unknown[] | null => {
      const v = og(env, f);
      if (Array.isArray(v)) return v;
      if (v === null || v === undefined) return null;
      // Only an `any` value can be of another type here (see `method`): a rule error, not a silent
      // `false` from `any`/`count` or a vacuous `true` from `all`.
      throw new EvalError(`\`.${m}()\` needs a list, got ${typeOfValue(v)} at ${where}`);
    };
    if (m === 'len') return fold(dyn((env, f) => lengthOf(og(env, f))), [o]);
    if (m === 'contains') {
      const ag = arg?.fn ?? (() => null);
      return fold(dyn((env, f) => memberOf(ag(env, f), list(env, f))), arg ? [o, arg] : [o]);
    }
    if (m === 'sum' && !lam) {
      return fold(dyn((env, f) => {
        const xs = list(env, f);
        let s = 0;
        if (xs) for (const x of xs) if (typeof x === 'number') s = sumMoney ? addMoney(s, x) : s + x;
        return s;
      }), [o]);
    }
    if (!lam) return dyn(() => { throw new EvalError(`\`${m}\` needs a lambda (\`x => …\`)`); });
    const { body, slot } = lam;
    switch (m) {
      case 'any':
        return dyn((env, f) => {
          const xs = list(env, f);
          if (!xs) return false;
          for (let i = 0; i < xs.length; i++) {
            f[slot] = xs[i];
            if (body(env, f) === true) return true;
          }
          return false;
        });
      case 'all':
        return dyn((env, f) => {
          const xs = list(env, f);
          if (!xs) return true;
          for (let i = 0; i < xs.length; i++) {
            f[slot] = xs[i];
            if (body(env, f) !== true) return false;
          }
          return true;
        });
      case 'count':
        return dyn((env, f) => {
          const xs = list(env, f);
          let n = 0;
          if (xs)
            for (let i = 0; i < xs.length; i++) {
              f[slot] = xs[i];
              if (body(env, f) === true) n++;
            }
          return n;
        });
      case 'filter':
        return dyn((env, f) => {
          const xs = list(env, f);
          const out: unknown[] = [];
          if (xs)
            for (let i = 0; i < xs.length; i++) {
              f[slot] = xs[i];
              if (body(env, f) === true) out.push(xs[i]);
            }
          return out;
        });
      case 'map':
        return dyn((env, f) => {
          const xs = list(env, f);
          const out: unknown[] = [];
          if (xs)
            for (let i = 0; i < xs.length; i++) {
              f[slot] = xs[i];
              const v = body(env, f);
              out.push(v === undefined ? null : v);
            }
          return out;
        });
      case 'sum':
        return dyn((env, f) => {
          const xs = list(env, f);
          let s = 0;
          if (xs)
            for (let i = 0; i < xs.length; i++) {
              f[slot] = xs[i];
              const v = body(env, f);
              if (typeof v === 'number') s = sumMoney ? addMoney(s, v) : s + v;
            }
          return s;
        });
      default:
        return dyn(() => { throw new EvalError(`unknown method \`${m}\``); });
    }
  }
}

/** Direct sub-expressions. */
function children(e: A.Expr): A.Expr[] {
  const out: (A.Expr | undefined)[] = [];
  switch (e.kind) {
    case 'String':
      for (const p of e.parts) if (p.kind === 'Interpolation') out.push(p.expr);
      break;
    case 'List':
      out.push(...e.items);
      break;
    case 'Object':
      for (const en of e.entries) out.push(en.value);
      break;
    case 'Member':
      out.push(e.object);
      break;
    case 'Index':
      out.push(e.object, e.index);
      break;
    case 'Call':
      out.push(e.callee, ...e.args);
      break;
    case 'Lambda':
      out.push(e.body);
      break;
    case 'Unary':
      out.push(e.operand);
      break;
    case 'Binary':
      out.push(e.left, e.right);
      break;
    case 'If':
      out.push(e.cond, e.then, e.else);
      break;
    case 'Paren':
      out.push(e.expr);
      break;
    default:
      break;
  }
  return out.filter((x): x is A.Expr => x !== undefined);
}

function nz(v: unknown): unknown {
  return v === undefined ? null : v;
}

function lengthOf(v: unknown): number | null {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isPlainObject(v)) return Object.keys(v).length;
  return null;
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
  if (Array.isArray(v)) {
    const et = t && baseKind(t) === 'list' ? ((t.kind === 'nullable' ? t.inner : t) as { elem: Type }).elem : undefined;
    return v.map((x) => toJsonValue(x, et, depth + 1));
  }
  const tt = t?.kind === 'nullable' ? t.inner : t;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const ft = tt?.kind === 'object' ? tt.fields.find((f) => f.name === key)?.type : tt?.kind === 'map' ? tt.value : undefined;
    Object.defineProperty(out, key, { value: toJsonValue((v as Record<string, unknown>)[key], ft, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function budgetUnitOf(program: CheckedProgram, b: A.BudgetDecl): 'money' | 'number' {
  if (b.name) {
    const s = program.symbols.get(b.name.text);
    if (s?.kind === 'budget' && s.type.kind === 'budget') return s.type.unit;
  }
  const limit = b.items.find((i): i is A.LimitClause => i.kind === 'Limit');
  const t = limit?.amount ? program.types.get(limit.amount) : undefined;
  if (limit?.amount?.kind === 'Money' || baseKind(t) === 'money') return 'money';
  return 'number';
}

// ---------------------------------------------------------------- rules

interface CompiledClause {
  kind: 'when' | 'unless';
  fn: Fn;
  source: string;
  location: SourceLocation;
  expr: A.Expr | undefined;
}

interface CompiledRule {
  name: string;
  decl: A.RuleDecl;
  effect: ClauseEffect;
  monitor: boolean;
  annotations: Record<string, string | true>;
  location: SourceLocation;
  whens: Fn[];
  unlesses: Fn[];
  clauses: CompiledClause[];
  message?: Fn;
  /** The message expression (generated code renders interpolations inline). */
  messageNode?: A.Expr;
  from?: Fn;
  frameSize: { n: number };
  /** The compile context of the clauses (lambda slots), reused by generated code. */
  ctx: Ctx;
  /** Shared immutable outcome for "did not match". */
  notMatched: RuleOutcome;
  /** Shared immutable outcome for "matched" when the message and approver are constants. */
  matchedConst?: RuleOutcome;
  /** Instrumented clauses (explain), compiled lazily. */
  traced?: CompiledClause[];
}

function annotationsOf(decl: A.RuleDecl | A.BudgetDecl): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const a of decl.annotations) {
    const name = a.name.text;
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    out[name] = a.value ? a.value.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : true;
  }
  return out;
}

function locationOf(file: string, node: A.Node): SourceLocation {
  return { file, line: node.range.start.line + 1, column: node.range.start.character + 1 };
}

function effectOf(c: A.EffectClause | undefined): ClauseEffect {
  switch (c?.kind) {
    case 'Deny':
      return 'deny';
    case 'RequireApproval':
      return 'require_approval';
    case 'Warn':
      return 'warn';
    case 'Allow':
      return 'allow';
    default:
      return 'deny';
  }
}

function errorMessage(e: unknown): string {
  if (e instanceof EvalError) return e.message;
  if (e instanceof RangeError) return 'evaluation exceeded its limits';
  return `internal evaluation error: ${(e as Error)?.message ?? String(e)}`;
}

function compileRule(cp: Compiler, decl: A.RuleDecl): CompiledRule {
  const file = cp.fileOf(decl);
  const name = decl.name?.text ?? '<unnamed>';
  const ctx = cp.newCtx(file);
  const effectClause = decl.body.find((b): b is A.EffectClause => b.kind !== 'When' && b.kind !== 'Unless');
  const conds = decl.body.filter((b): b is A.Condition => b.kind === 'When' || b.kind === 'Unless');
  const clauses: CompiledClause[] = conds.map((c) => ({
    kind: c.kind === 'When' ? 'when' : 'unless',
    fn: cp.expr(c.expr, ctx).fn,
    source: c.expr ? printExpr(c.expr) : '',
    location: locationOf(file, c.expr ?? c),
    expr: c.expr,
  }));
  const msgNode = effectClause && 'message' in effectClause ? effectClause.message : undefined;
  const messageC = msgNode ? cp.expr(msgNode, ctx) : undefined;
  const message = messageC?.fn;
  const fromNode = effectClause?.kind === 'RequireApproval' ? effectClause.from : undefined;
  const fromC = fromNode ? cp.expr(fromNode, ctx) : undefined;
  const fromT = fromNode ? cp.typeOf(fromNode) : undefined;
  const from = fromC
    ? ((env: Env, f: Frame) => {
        const v = fromC.fn(env, f);
        return v === null || v === undefined ? null : typeof v === 'string' ? v : renderValue(v, fromT, ctx.currency);
      })
    : undefined;
  const annotations = annotationsOf(decl);
  const monitor = decl.annotations.some((a) => a.name.text === 'monitor');
  const effect = effectOf(effectClause);
  const location = locationOf(file, decl.name ?? decl);
  const notMatched: RuleOutcome = Object.freeze({ name, matched: false, effect, monitor, annotations, location }) as RuleOutcome;
  // A constant message and approver: the matched outcome is the same object every time.
  let matchedConst: RuleOutcome | undefined;
  const constMessage = !messageC || (messageC.constant && typeof messageC.value === 'string');
  const constFrom = !fromC || (fromC.constant && (fromC.value === null || fromC.value === undefined || typeof fromC.value === 'string'));
  if (constMessage && constFrom) {
    const o: RuleOutcome = { name, matched: true, effect, monitor, annotations, location };
    if (messageC) o.message = messageC.value as string;
    if (fromC) o.from = (fromC.value ?? null) as string;
    matchedConst = Object.freeze(o) as RuleOutcome;
  }
  return {
    ctx,
    matchedConst,
    messageNode: msgNode,
    name,
    decl,
    effect,
    monitor,
    annotations,
    location,
    // `when a and b` is `when a` + `when b` (same short-circuit, same `=== true` test): one call less.
    whens: conds.filter((c) => c.kind === 'When').flatMap((c) => conjuncts(c.expr).map((x) => cp.expr(x, ctx).fn)),
    unlesses: clauses.filter((c) => c.kind === 'unless').map((c) => c.fn),
    clauses,
    message,
    from,
    frameSize: ctx.scope.size,
    notMatched,
  };
}

/** The operands of a chain of `and`s (parentheses looked through). */
function conjuncts(e: A.Expr | undefined): (A.Expr | undefined)[] {
  if (e?.kind === 'Paren' && e.expr) return conjuncts(e.expr);
  if (e?.kind === 'Binary' && e.op === 'and' && e.right) return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

function traceClauses(cp: Compiler, r: CompiledRule): CompiledClause[] {
  if (r.traced) return r.traced;
  const ctx = cp.newCtx(r.location.file, true);
  r.traced = r.clauses.map((c) => ({ ...c, fn: cp.expr(c.expr, ctx).fn }));
  r.frameSize.n = Math.max(r.frameSize.n, ctx.scope.size.n);
  return r.traced;
}

/** The outcome of a rule whose conditions hold (its message and approver evaluated). May throw. */
function matchedOutcome(r: CompiledRule, env: Env, frame: Frame): RuleOutcome {
  if (r.matchedConst) return r.matchedConst;
  const out: RuleOutcome = {
    name: r.name,
    matched: true,
    effect: r.effect,
    monitor: r.monitor,
    annotations: r.annotations,
    location: r.location,
  };
  if (r.message) out.message = r.message(env, frame) as string;
  if (r.from) out.from = r.from(env, frame) as string;
  return out;
}

function failedOutcome(r: CompiledRule, e: unknown): RuleOutcome {
  return { name: r.name, matched: true, effect: r.effect, monitor: r.monitor, annotations: r.annotations, location: r.location, error: errorMessage(e) };
}

function evalRule(r: CompiledRule, env: Env): RuleOutcome {
  const frame: Frame = r.frameSize.n > 0 ? new Array(r.frameSize.n) : EMPTY_FRAME;
  try {
    const w = r.whens;
    for (let i = 0; i < w.length; i++) if (w[i](env, frame) !== true) return r.notMatched;
    const u = r.unlesses;
    for (let i = 0; i < u.length; i++) if (u[i](env, frame) === true) return r.notMatched;
    return matchedOutcome(r, env, frame);
  } catch (e) {
    return failedOutcome(r, e);
  }
}

/** All rules as one generated function (codegen-rules.ts), or undefined when generation fails. */
function generatedRules(cp: Compiler, rules: CompiledRule[]): ((env: Env, all: boolean) => RuleOutcome[]) | undefined;
function generatedRules(cp: Compiler, rules: CompiledRule[], decide: DecideHelpers): ((env: Env) => Decision) | undefined;
function generatedRules(cp: Compiler, rules: CompiledRule[], decide: DecideHelpers, fused: true): FusedEvaluate | undefined;
function generatedRules(cp: Compiler, rules: CompiledRule[], decide?: DecideHelpers, fused?: true): unknown {
  try {
    const host: RuleGenHost = {
      expr: (e, scope) => cp.expr(e, scope as Ctx),
      typeOf: (e) => cp.typeOf(e),
      inputChain: (e) => cp.inputChain(e),
      symbolOf: (e) => cp.symbolOf(e),
      letValue: (name) => cp.letValue(name),
    };
    const genRules = rules.map((r) => ({
      scope: r.ctx,
      frameSize: () => r.frameSize.n,
      whens: r.clauses.filter((c) => c.kind === 'when').map((c) => c.expr as A.Expr),
      unlesses: r.clauses.filter((c) => c.kind === 'unless').map((c) => c.expr as A.Expr),
      notMatched: r.notMatched,
      matched: (env: Env, frame: unknown[]) => matchedOutcome(r, env, frame),
      failed: (e: unknown) => failedOutcome(r, e),
      outcome: r.matchedConst
        ? undefined
        : {
            name: r.name,
            effect: r.effect,
            monitor: r.monitor,
            annotations: r.annotations,
            location: r.location,
            message: r.message ? { node: r.messageNode, fn: r.message } : undefined,
            from: r.from,
          },
      matchedConst: r.matchedConst,
    }));
    const helpers = {
      lt,
      le,
      memberOf,
      renderValue,
      currency: cp.program.header.currency,
      slow: (env: Env, all: boolean) => {
        const out: RuleOutcome[] = [];
        for (const r of rules) {
          const o = evalRule(r, env);
          if (all || o.matched) out.push(o);
        }
        return out;
      },
    };
    if (decide && fused) {
      return generateFused(host, genRules, helpers, decide, {
        validator: (b, src) => emitQuickValidator(b, cp.program.inputType, newFastClosures(), src),
      });
    }
    return decide ? generateDecide(host, genRules, helpers, decide) : generateRules(host, genRules, helpers);
  } catch {
    return undefined;
  }
}

function explainRule(cp: Compiler, r: CompiledRule, env: Env): RuleOutcome {
  const clauses = traceClauses(cp, r);
  const frame: Frame = r.frameSize.n > 0 ? new Array(r.frameSize.n) : EMPTY_FRAME;
  const ex: ClauseExplanation[] = clauses.map((c) => ({ kind: c.kind, source: c.source, value: null, reads: [], location: c.location }));
  let matched = true;
  let error: string | undefined;
  const prev = currentLog;
  try {
    // Evaluate in source order, `when`s first semantics: stop at the first failing clause.
    const order = [...clauses.keys()].sort((a, b) => (clauses[a].kind === clauses[b].kind ? a - b : clauses[a].kind === 'when' ? -1 : 1));
    for (const i of order) {
      const c = clauses[i];
      const log: ReadLog = { reads: ex[i].reads };
      currentLog = log;
      let v: unknown;
      try {
        v = c.fn(env, frame);
      } finally {
        currentLog = prev;
      }
      ex[i].value = v === true;
      if (c.kind === 'when' ? v !== true : v === true) {
        matched = false;
        break;
      }
    }
  } catch (e) {
    error = errorMessage(e);
  }
  const base = error === undefined && matched ? evalRule(r, env) : undefined;
  const outcome: RuleOutcome = base
    ? { ...base }
    : error !== undefined
      ? { name: r.name, matched: true, effect: r.effect, monitor: r.monitor, annotations: r.annotations, location: r.location, error }
      : { ...r.notMatched };
  outcome.explain = { name: r.name, matched: outcome.matched && outcome.error === undefined, effect: r.effect, clauses: ex };
  return outcome;
}

// ---------------------------------------------------------------- budgets

function constNumber(c: Compiled | undefined): number | undefined {
  return c && c.constant && typeof c.value === 'number' ? c.value : undefined;
}

function compileBudget(cp: Compiler, decl: A.BudgetDecl): CompiledBudget {
  const file = cp.fileOf(decl);
  const name = decl.name?.text ?? '<unnamed>';
  const ctx = cp.newCtx(file);
  const unit = cp.budgetUnits.get(name) ?? 'number';
  const limitC = decl.items.find((i): i is A.LimitClause => i.kind === 'Limit');
  const chargeC = decl.items.find((i): i is A.ChargeClause => i.kind === 'Charge');
  const byC = decl.items.find((i): i is A.ByClause => i.kind === 'By');
  const warnC = decl.items.find((i): i is A.WarnAtClause => i.kind === 'WarnAt');
  const exceedC = decl.items.find((i): i is A.OnExceedClause => i.kind === 'OnExceed');
  const conds = decl.items.filter((i): i is A.Condition => i.kind === 'When' || i.kind === 'Unless');

  let limit = constNumber(limitC?.amount ? cp.expr(limitC.amount, ctx) : undefined) ?? 0;
  if (unit === 'money' && limitC?.amount && baseKind(cp.typeOf(limitC.amount)) !== 'money' && limitC.amount.kind !== 'Money') {
    // `limit 50` on a money budget: currency units.
    limit = Math.round(limit * 1_000_000);
  }
  let window: BudgetWindow = { kind: 'lifetime' };
  const per = limitC?.per;
  if (per) {
    if (per.kind === 'Unit') window = { kind: 'fixed', unit: per.unit };
    else if (per.kind === 'Request') window = { kind: 'request' };
    else if (per.kind === 'Duration') window = { kind: 'fixed', ms: per.ms };
  }
  const warnAt = constNumber(warnC?.threshold ? cp.expr(warnC.threshold, ctx) : undefined);

  const whens = conds.filter((c) => c.kind === 'When').map((c) => cp.expr(c.expr, ctx).fn);
  const unlesses = conds.filter((c) => c.kind === 'Unless').map((c) => cp.expr(c.expr, ctx).fn);
  const chargeCompiled = chargeC?.expr ? cp.expr(chargeC.expr, ctx) : konst(NaN);
  const chargeType = chargeC?.expr ? cp.typeOf(chargeC.expr) : undefined;
  const chargeIsPlainOnMoney = unit === 'money' && chargeC?.expr !== undefined && baseKind(chargeType) !== 'money' && baseKind(chargeType) !== 'any';
  const chargeFn = chargeCompiled.fn;
  const keyFns = (byC?.keys ?? []).map((k) => cp.expr(k, ctx).fn);
  const size = () => ctx.scope.size.n;

  const effectClause = exceedC?.effect;
  const effect: ClauseEffect = effectClause ? effectOf(effectClause) : 'deny';
  const msgNode = effectClause && 'message' in effectClause ? effectClause.message : undefined;
  const msgFn = msgNode ? cp.expr(msgNode, ctx).fn : undefined;
  const fromNode = effectClause?.kind === 'RequireApproval' ? effectClause.from : undefined;
  const fromFn = fromNode ? cp.expr(fromNode, ctx).fn : undefined;
  const frame = () => (size() > 0 ? new Array(size()) : EMPTY_FRAME);

  const wrap = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new EvalError(`budget \`${name}\` ${what}: ${errorMessage(e)}`);
    }
  };

  return {
    name,
    unit,
    limit,
    window,
    warnAt,
    onExceed: {
      effect,
      from: fromFn
        ? (env: Env) => {
            const v = wrap('approver', () => fromFn(env, frame()));
            return v === null || v === undefined ? null : String(v);
          }
        : undefined,
      message: msgFn ? (env: Env) => wrap('message', () => msgFn(env, frame()) as string) : undefined,
    },
    annotations: annotationsOf(decl),
    monitor: decl.annotations.some((a) => a.name.text === 'monitor'),
    location: locationOf(file, decl.name ?? decl),
    applies(env: Env): boolean {
      const f = frame();
      for (const w of whens) if (w(env, f) !== true) return false;
      for (const u of unlesses) if (u(env, f) === true) return false;
      return true;
    },
    charge(env: Env): number {
      const v = chargeFn(env, frame());
      if (typeof v !== 'number') return NaN;
      return chargeIsPlainOnMoney ? Math.round(v * 1_000_000) : v;
    },
    key(env: Env): unknown[] {
      const f = frame();
      return keyFns.map((k) => {
        const v = k(env, f);
        return v === undefined ? null : v;
      });
    },
  };
}

// ---------------------------------------------------------------- policy hash

/** `sha256:` over the set's files (sorted by name): their ASTs with positions as offsets, so any
 *  edit (including comments and layout) changes the hash, while the same sources always hash the same. */
function policyHash(program: CheckedProgram, sources?: Record<string, string>): string {
  if (sources) {
    const names = Object.keys(sources).sort();
    return sha256Hex(canonicalJson(names.map((n) => [n, sources[n]])));
  }
  const files = [...program.files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const text = JSON.stringify(files, (key, value) => {
    if ((key === 'range' || key === 'effectRange' || key === 'opRange') && value && typeof value === 'object' && 'start' in value) {
      return [value.start.offset, value.end.offset];
    }
    return value;
  });
  return sha256Hex(text);
}

// ---------------------------------------------------------------- clock

// Reading the clock (`Date.now()`) costs 40–90 ns on some virtual machines, a fifth of a decision. A
// burst of decisions in one synchronous task shares one reading: the clock is read again after
// CLOCK_REUSE decisions, and at the next microtask. So a decision's time (and `now` in its rules) is
// never older than the CLOCK_REUSE − 1 decisions made before it in the same task.
const CLOCK_REUSE = 16;
let clockValue = 0;
let clockLeft = 0;
let clockResetQueued = false;
const clockReset = (): void => {
  clockLeft = 0;
  clockResetQueued = false;
};
const queueTask: ((f: () => void) => void) | undefined = typeof queueMicrotask === 'function' ? queueMicrotask : undefined;
function clock(): number {
  if (clockLeft > 0) {
    clockLeft--;
    return clockValue;
  }
  clockValue = Date.now();
  if (queueTask === undefined) return clockValue;
  clockLeft = CLOCK_REUSE - 1;
  if (!clockResetQueued) {
    clockResetQueued = true;
    queueTask(clockReset);
  }
  return clockValue;
}

// ---------------------------------------------------------------- public API

export interface EvaluateOptions {
  /** Approvals granted for this exact request (bound by `request_hash`). */
  approvals?: readonly Approval[];
  /** Evaluation time (default: now). */
  now?: Date | number;
  /** Include a per-rule, per-clause explanation. */
  explain?: boolean;
  /** `monitor`: decide everything, enforce nothing (the effect is `allow`; see `would_effect`). */
  mode?: 'enforce' | 'monitor';
}

export interface Policy {
  name: string;
  version: string | null;
  /** `sha256:<hex>` identifying the policy set. */
  hash: string;
  header: PolicyHeader;
  compiled: CompiledPolicy;
  /** Synchronous, stateless: rules only (budgets are ignored; budget views read as empty). Never throws on bad input. */
  evaluate(request: unknown, opts?: EvaluateOptions): Decision;
  /** The `request_hash` a decision for this request carries (null when the request is invalid). */
  requestHash(request: unknown): string | null;
  /** Whether validation and rule conditions run generated code (see `CompileOptions.codegen`). */
  codegen: boolean;
}

/**
 * Compile an already checked policy set (the runtime never parses or checks: text → checked is
 * `language/policy.ts`, whose `compile` is the public entry point). Throws `PolicyError` carrying every
 * diagnostic when the set has errors.
 */
export function compileProgram(result: CheckResult, options: CompileOptions = {}): Policy {
  const errors: Diagnostic[] = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.ok || errors.length > 0) throw new PolicyError('the policy set has errors', result.diagnostics);
  return compileChecked(result.program, options.sources, options.codegen);
}

function compileChecked(program: CheckedProgram, sources?: Record<string, string>, codegen?: boolean): Policy {
  const cp = new Compiler(program);
  // Lets once, in dependency order.
  for (const l of program.lets) if (l.name) cp.letValue(l.name.text);
  const rules = program.rules.map((r) => compileRule(cp, r));
  const budgets = program.budgets.map((b) => compileBudget(cp, b));
  const generate = useCodegen(codegen);
  const validate = compileValidator(program.inputType, { codegen: generate });
  const fastRules = generate ? generatedRules(cp, rules) : undefined;
  const header = program.header;
  const hash = policyHash(program, sources);

  const evaluateRules = (env: Env, opts?: { explain?: boolean }): RuleOutcome[] => {
    const out = new Array<RuleOutcome>(rules.length);
    if (opts?.explain) for (let i = 0; i < rules.length; i++) out[i] = explainRule(cp, rules[i], env);
    else if (fastRules) return fastRules(env, true);
    else for (let i = 0; i < rules.length; i++) out[i] = evalRule(rules[i], env);
    return out;
  };

  /** Outcomes of the rules that matched or failed (closure path). */
  const evaluateMatched = (env: Env): RuleOutcome[] => {
    let out: RuleOutcome[] | null = null;
    for (let i = 0; i < rules.length; i++) {
      const o = evalRule(rules[i], env);
      if (o.matched) {
        if (out === null) out = [o];
        else out.push(o);
      }
    }
    return out ?? NO_OUTCOMES;
  };

  const budgetsReadByRules = [...cp.budgetsRead];
  // Stateless evaluation: budgets read by rules look empty (nothing spent).
  const emptyViews: Record<string, BudgetView> = Object.create(null);
  for (const b of budgets) {
    if (budgetsReadByRules.includes(b.name)) emptyViews[b.name] = Object.freeze({ spent: 0, remaining: b.limit, limit: b.limit, used: 0 });
  }

  // Test expressions (`given`, `spent`): compiled on first use, cached per expression.
  const exprCache = new WeakMap<A.Expr, { fn: Fn; size: { n: number } }>();
  const evaluateExpr = (expr: A.Expr, env?: Env): unknown => {
    let c = exprCache.get(expr);
    if (!c) {
      const ctx = cp.newCtx(program.files.find((f) => f.range.start.offset <= expr.range.start.offset && expr.range.end.offset <= f.range.end.offset)?.file ?? '');
      c = { fn: cp.expr(expr, ctx).fn, size: ctx.scope.size };
      exprCache.set(expr, c);
    }
    const e: Env = env ?? { input: newRecord(), now: 0, budgets: Object.create(null) };
    return c.fn(e, c.size.n > 0 ? new Array(c.size.n) : EMPTY_FRAME);
  };

  const compiled: CompiledPolicy = {
    header,
    hash,
    program,
    validate,
    budgets,
    budgetsReadByRules,
    evaluateRules,
    evaluateExpr,
  };
  const policyInfo: { name: string; version: string | null; hash: string } = { name: header.name, version: header.version ?? null, hash };
  const enforce: Assembler = { policy: policyInfo, defaultEffect: header.default, mode: 'enforce' };
  const monitor: Assembler = { policy: policyInfo, defaultEffect: header.default, mode: 'monitor' };
  const onError = header.onError;
  /** The decision of rules only (enforce mode, no approvals) from their matched/failed outcomes. */
  const rulesDecision = (outcomes: readonly RuleOutcome[], input: Record<string, unknown>, now: number): Decision => {
    const E = new Entries(input);
    E.rules(outcomes, onError);
    return assemble(E, enforce, now);
  };
  // Rules and decision in one generated function (enforce mode, no approvals, no explanation).
  const decideHelpers: DecideHelpers = {
    onError,
    errorReason: ruleErrorReason,
    finish: (E: Entries, _input: Record<string, unknown>, now: number) => assemble(E, enforce, now),
    slow: (env: Env) => rulesDecision(evaluateMatched(env), env.input, env.now),
  };
  const fastDecide = generate ? generatedRules(cp, rules, decideHelpers) : undefined;
  // Validation, rules and decision in one function (the common case of `policy.evaluate`, and the engine's).
  const fused = generate && fastDecide !== undefined ? generatedRules(cp, rules, decideHelpers, true) : undefined;
  if (fused !== undefined) compiled.fused = fused;

  const finishRules = decideHelpers.finish;
  const evaluate = (request: unknown, opts?: EvaluateOptions): Decision => {
    let now: number;
    let mode: 'enforce' | 'monitor' | undefined;
    let approvals: readonly Approval[] | undefined;
    if (opts === undefined) now = clock();
    else {
      // Host options are read once and checked: a bad one is a TypeError naming it.
      const nowOpt = opts.now;
      now = nowOpt === undefined || nowOpt === null ? clock() : hostNow(nowOpt, 'evaluate');
      mode = hostMode(opts.mode, 'evaluate');
      approvals = hostApprovals(opts, 'evaluate');
    }
    // Whether the quick validator has already rejected the request (then only the reporting one is left).
    let quickFailed = false;
    if (opts === undefined || (opts.explain !== true && (mode === undefined || mode === 'enforce') && (approvals === undefined || approvals.length === 0))) {
      // The common case: enforce mode, no approvals, no explanation. Valid request → rules → the
      // decision, in one function when code is generated.
      if (fused !== undefined) {
        const d = fused(request, now, emptyViews, finishRules);
        if (d !== undefined) return d;
      } else {
        const input = validate.quick(request);
        if (input !== undefined) {
          const env: Env = { input, now, budgets: emptyViews };
          if (fastDecide !== undefined) return fastDecide(env);
          return rulesDecision(fastRules ? fastRules(env, false) : evaluateMatched(env), input, now);
        }
      }
      quickFailed = true;
    }
    const explain = opts?.explain === true;
    // The reporting validator runs only when the quick one finds a problem.
    let input = quickFailed ? undefined : validate.quick(request);
    let errors: DecisionError[] | undefined;
    if (input === undefined) {
      const v = validate(request);
      if (v.ok) input = v.value;
      else errors = v.errors;
    }
    const E = new Entries(input, approvals);
    if (errors !== undefined) E.failRequest(errors, onError);
    if (explain) E.explain = [];
    if (input !== undefined) {
      const env: Env = { input, now, budgets: emptyViews };
      // Only matched and failed rules make a decision (unless explaining): fewer outcomes to place.
      E.rules(explain ? evaluateRules(env, EXPLAIN) : fastRules ? fastRules(env, false) : evaluateMatched(env), onError);
    }
    return assemble(E, mode === 'monitor' ? monitor : enforce, now);
  };

  return {
    name: header.name,
    version: header.version ?? null,
    hash,
    header,
    compiled,
    evaluate,
    codegen: validate.generated && fastRules !== undefined && fastDecide !== undefined,
    requestHash(request: unknown): string | null {
      const v = validate(request);
      return v.ok ? hashValue(v.value) : null;
    },
  };
}
