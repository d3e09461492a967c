// The closure backend: IR nodes (ir.ts) → `Fn = (env, frame) => value`. The reference semantics of
// expressions, and what runs where `new Function` may not (a strict Content-Security-Policy): no
// `eval`, no generated code. `frame` holds def and lambda parameters by slot (resolved by lowering).
//
// With `trace`, reads marked by lowering (`trace` on read/member/index/input nodes) record their path
// and value into the env's `reads` list (`TraceEnv`), for `explain`. Nothing is module-global: the
// list travels with the env of one explained evaluation.

import type { BudgetView, Env } from './compiled.js';
import type { IrBody, IrProgram, ListMethodNode, Node, ReadNode, Trace } from './ir.js';
import type { ListLoop } from '../semantics/builtins.js';
import { compilePattern, type PolicyPattern } from '../semantics/patterns.js';
import { STRING_RUN } from '../semantics/string-methods.js';
import { DETECTORS } from './detectors.js';
import { toHost } from './externs.js';
import { addMoney, divMoney, mulMoney } from './money.js';
import {
  WEEKDAYS,
  asList,
  checkedNumber,
  inTimeRange,
  indexOf,
  isNullish,
  lengthOf,
  le,
  mapMethod,
  moneyOfUnits,
  notAmbiguous,
  lt,
  notNumber,
  member,
  memberOf,
  num,
  nz,
  read0,
  read1,
  read2,
  readN,
  summand,
  timeArg,
  toJsonValue,
  typeOfValue,
  utcDate,
} from './ops.js';
import { EvalError, deepEqual, deepMerge, newRecord, renderValue } from './values.js';

export type Frame = unknown[];
export type Fn = (env: Env, frame: Frame) => unknown;

/** An env that records input reads (explain). */
export interface TraceEnv extends Env {
  reads?: { path: string; value: unknown }[];
}

export const EMPTY_FRAME: Frame = Object.freeze([]) as unknown as Frame;

/** A frame for a body of `size` slots. */
export function frameOf(size: number): Frame {
  return size > 0 ? new Array(size) : EMPTY_FRAME;
}

/** `field`, `field.a`, `field.a.b` with record steps: readable with read0/1/2. */
function isSimpleRead(n: Node): n is ReadNode {
  return n.k === 'read' && n.keys.length <= 2 && n.safe.every((x) => x);
}

/** A closure computing `test(value read)` for a simple read. */
function fusedTest(n: ReadNode, test: (v: unknown) => boolean): Fn {
  const { root, keys } = n;
  if (keys.length === 0) return (env) => test(read0(env.input, root));
  const k0 = keys[0];
  if (keys.length === 1) return (env) => test(read1(env.input, root, k0));
  const k1 = keys[1];
  return (env) => test(read2(env.input, root, k0, k1));
}

function thrower(message: string): Fn {
  return () => {
    throw new EvalError(message);
  };
}

/** Closures for the nodes of one IR program (lets and defs compiled once, on first use). */
export class Closures {
  private readonly lets: (Fn | undefined)[] = [];
  private readonly defs: (Fn | undefined)[] = [];

  constructor(
    readonly ir: Pick<IrProgram, 'lets' | 'defs' | 'currency'>,
    /** Record traced reads into `TraceEnv.reads`. */
    readonly trace = false,
  ) {}

  private body(list: (Fn | undefined)[], bodies: IrBody[], i: number): Fn {
    let f = list[i];
    if (f === undefined) {
      f = this.fn(bodies[i].body);
      list[i] = f;
    }
    return f;
  }

  /** A closure for the node. */
  fn(n: Node): Fn {
    const f = this.raw(n);
    if (!this.trace) return f;
    const t = (n as { trace?: Trace }).trace;
    if (t === undefined) return f;
    const { path, type } = t;
    return (env, fr) => {
      const v = f(env, fr);
      const log = (env as TraceEnv).reads;
      if (log && !log.some((r) => r.path === path)) log.push({ path, value: toJsonValue(v, type) });
      return v;
    };
  }

  /** A simple read the fast forms may fuse (never in trace mode when the read is traced). */
  private simple(n: Node): ReadNode | undefined {
    if (!isSimpleRead(n)) return undefined;
    if (this.trace && n.trace !== undefined) return undefined;
    return n;
  }

  private raw(n: Node): Fn {
    switch (n.k) {
      case 'const': {
        const v = n.v;
        return () => v;
      }
      case 'read':
        return this.read(n);
      case 'input':
        return (env) => env.input;
      case 'now':
        return (env) => env.now;
      case 'budget': {
        const name = n.name;
        return (env) => env.budgets[name] ?? null;
      }
      case 'budgetField': {
        const g = this.fn(n.obj);
        const k = n.key;
        return (env, f) => {
          const view = g(env, f) as BudgetView | null;
          if (!view) return null;
          const v = (view as unknown as Record<string, unknown>)[k];
          return typeof v === 'number' ? v : null;
        };
      }
      case 'slot': {
        const slot = n.i;
        return (_env, f) => f[slot];
      }
      case 'let': {
        const i = n.i;
        const size = this.ir.lets[i].frameSize;
        const g = this.body(this.lets, this.ir.lets, i);
        // A let that needs lambda slots gets its own frame.
        if (size > 0) return (env) => g(env, new Array(size));
        return g;
      }
      case 'list': {
        const fns = n.items.map((i) => this.fn(i));
        return (env, f) => fns.map((g) => g(env, f));
      }
      case 'object': {
        const keys = n.keys;
        const fns = n.values.map((v) => this.fn(v));
        return (env, f) => {
          const o = newRecord();
          for (let i = 0; i < keys.length; i++) o[keys[i]] = fns[i](env, f);
          return o;
        };
      }
      case 'str': {
        const currency = this.ir.currency;
        const fns: Fn[] = n.parts.map((p) => {
          if (typeof p === 'string') return () => p;
          const g = this.fn(p.e);
          const t = p.type;
          return (env, f) => renderValue(g(env, f), t, currency);
        });
        return (env, f) => {
          let s = '';
          for (let i = 0; i < fns.length; i++) s += fns[i](env, f) as string;
          return s;
        };
      }
      case 'member': {
        const g = this.fn(n.obj);
        const k = n.key;
        return (env, f) => member(g(env, f), k);
      }
      case 'index': {
        const og = this.fn(n.obj);
        const ig = this.fn(n.index);
        return (env, f) => {
          const v = og(env, f);
          return indexOf(v, ig(env, f));
        };
      }
      case 'not': {
        const g = this.fn(n.x);
        return (env, f) => g(env, f) !== true;
      }
      case 'neg': {
        const g = this.fn(n.x);
        return (env, f) => {
          const v = g(env, f);
          if (v === null) return null;
          const r = -num(v, 'unary `-`');
          return r === 0 ? 0 : r;
        };
      }
      case 'and': {
        const rf = this.fn(n.r);
        if (n.l.k === 'const') return n.l.v === true ? (env, f) => rf(env, f) === true : () => false;
        const lf = this.fn(n.l);
        return (env, f) => lf(env, f) === true && rf(env, f) === true;
      }
      case 'or': {
        const rf = this.fn(n.r);
        if (n.l.k === 'const') return n.l.v === true ? () => true : (env, f) => rf(env, f) === true;
        const lf = this.fn(n.l);
        return (env, f) => lf(env, f) === true || rf(env, f) === true;
      }
      case 'if': {
        const cf = this.fn(n.c);
        const tf = this.fn(n.t);
        const ff = this.fn(n.f);
        return (env, fr) => (cf(env, fr) === true ? tf(env, fr) : ff(env, fr));
      }
      case 'eq':
        return this.eq(n);
      case 'cmp':
        return this.cmp(n);
      case 'in':
        return this.in(n);
      case 'matches': {
        const lf = this.fn(n.l);
        const rx = compilePattern(n.pattern);
        return (env, f) => {
          const s = lf(env, f);
          return typeof s === 'string' && rx.test(s);
        };
      }
      case 'matchesAny': {
        const lf = this.fn(n.l);
        const at = n.at;
        if (n.r.k === 'const') {
          const rxs = this.patternsOf(n.r.v, at);
          return (env, f) => {
            const s = lf(env, f);
            if (typeof s !== 'string' || rxs === null) return false;
            for (let i = 0; i < rxs.length; i++) if (rxs[i].test(s)) return true;
            return false;
          };
        }
        const rf = this.fn(n.r);
        return (env, f) => {
          const s = lf(env, f);
          const rxs = this.patternsOf(rf(env, f), at);
          if (typeof s !== 'string' || rxs === null) return false;
          for (let i = 0; i < rxs.length; i++) if (rxs[i].test(s)) return true;
          return false;
        };
      }
      case 'with': {
        const lf = this.fn(n.l);
        const rf = this.fn(n.r);
        return (env, f) => deepMerge(lf(env, f), rf(env, f));
      }
      case 'coalesce': {
        const lf = this.fn(n.l);
        const rf = this.fn(n.r);
        return (env, f) => {
          const v = lf(env, f);
          return v === null || v === undefined ? rf(env, f) : v;
        };
      }
      case 'arith':
        return this.arith(n);
      case 'timeRange': {
        const g = this.fn(n.x);
        const { kind, at } = n;
        return (env, f) => inTimeRange(g(env, f), kind, at);
      }
      case 'units': {
        const g = this.fn(n.x);
        const { at } = n;
        return n.how === 'scale' ? (env, f) => moneyOfUnits(g(env, f), at) : (env, f) => notAmbiguous(g(env, f), at);
      }
      case 'call':
        return this.call(n);
      case 'def': {
        const fns = n.args.map((a) => this.fn(a));
        const count = fns.length;
        const i = n.i;
        const size = this.ir.defs[i].frameSize;
        const body = this.body(this.defs, this.ir.defs, i);
        return (env, f) => {
          const frame: Frame = new Array(size);
          for (let j = 0; j < count; j++) frame[j] = fns[j](env, f);
          return body(env, frame);
        };
      }
      case 'extern':
        return this.extern(n);
      case 'detect': {
        const det = DETECTORS[n.name];
        const g = this.fn(n.arg);
        return (env, f) => {
          const s = g(env, f);
          return typeof s === 'string' && det(s);
        };
      }
      case 'strMethod':
        return this.strMethod(n);
      case 'listMethod':
        return this.listMethod(n);
      case 'mapMethod': {
        const og = this.fn(n.obj);
        const { m, yields, at } = n;
        return (env, f) => mapMethod(og(env, f), yields, m, at);
      }
      case 'error':
        return thrower(n.message);
    }
  }

  /** A host-function call through the decision's `ExternCalls` (externs.ts): cached per distinct
   *  argument list; a failure throws `ExternError` (the rule fails with the extern's `on error`). In
   *  trace mode the call and its value are recorded as a read: `name(args)`. */
  private extern(n: Extract<Node, { k: 'extern' }>): Fn {
    const fns = n.args.map((a) => this.fn(a));
    const name = n.name;
    const call: Fn = (env, f) => {
      const calls = env.externs;
      if (calls === undefined) throw new EvalError(`extern \`${name}\` cannot be called here (no host functions in this evaluation)`);
      const args = new Array<unknown>(fns.length);
      for (let i = 0; i < fns.length; i++) args[i] = fns[i](env, f);
      return calls.call(name, args);
    };
    if (!this.trace) return call;
    return (env, f) => {
      const v = call(env, f);
      const log = (env as TraceEnv).reads;
      if (log) {
        const args = fns.map((g) => toHost(g(env, f)));
        const path = `${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
        if (!log.some((r) => r.path === path)) log.push({ path, value: toHost(v) });
      }
      return v;
    };
  }

  private read(n: ReadNode): Fn {
    const { root, keys, safe } = n;
    const count = keys.length;
    if (count === 0) return (env) => read0(env.input, root);
    if (count === 1 && safe[0]) {
      const k0 = keys[0];
      return (env) => read1(env.input, root, k0);
    }
    if (count === 2 && safe[0] && safe[1]) {
      const k0 = keys[0];
      const k1 = keys[1];
      return (env) => read2(env.input, root, k0, k1);
    }
    return (env) => readN(env.input, root, keys, safe);
  }

  private eq(n: Extract<Node, { k: 'eq' }>): Fn {
    const neg = n.neg;
    const lf = this.fn(n.l);
    if (!n.scalar) {
      const rf = this.fn(n.r);
      return (env, f) => deepEqual(nz(lf(env, f)), nz(rf(env, f))) !== neg;
    }
    // Scalars: strict equality (null == null; absent fields are null).
    if (n.r.k === 'const') {
      const rv = n.r.v;
      const test = neg ? (v: unknown) => v !== rv : (v: unknown) => v === rv;
      const sr = this.simple(n.l);
      return sr ? fusedTest(sr, test) : (env, f) => test(lf(env, f));
    }
    const rf = this.fn(n.r);
    return (env, f) => (lf(env, f) === rf(env, f)) !== neg;
  }

  private cmp(n: Extract<Node, { k: 'cmp' }>): Fn {
    const op = n.op;
    const lf = this.fn(n.l);
    if (n.r.k === 'const' && typeof n.r.v === 'number' && n.l.k !== 'const') {
      // The common `x > 1000` shape: one closure call and a typeof check.
      const rv = n.r.v;
      const test =
        op === '<'
          ? (a: unknown) => (typeof a === 'number' ? a < rv : notNumber(a))
          : op === '<='
            ? (a: unknown) => (typeof a === 'number' ? a <= rv : notNumber(a))
            : op === '>'
              ? (a: unknown) => (typeof a === 'number' ? a > rv : notNumber(a))
              : (a: unknown) => (typeof a === 'number' ? a >= rv : notNumber(a));
      const sr = this.simple(n.l);
      return sr ? fusedTest(sr, test) : (env, f) => test(lf(env, f));
    }
    const rf = this.fn(n.r);
    if (op === '<') return (env, f) => lt(lf(env, f), rf(env, f));
    if (op === '<=') return (env, f) => le(lf(env, f), rf(env, f));
    // `a > b` is `b < a`, the right operand evaluated first (as the generated code does).
    if (op === '>') return (env, f) => lt(rf(env, f), lf(env, f));
    return (env, f) => le(rf(env, f), lf(env, f));
  }

  private in(n: Extract<Node, { k: 'in' }>): Fn {
    const neg = n.neg;
    const lf = this.fn(n.l);
    const r = n.r;
    if (r.k === 'const' && Array.isArray(r.v) && r.v.every((x) => typeof x !== 'object' || x === null)) {
      // (the set holds no null, and a JSON-safe constant no undefined)
      const set = new Set(r.v.filter((x) => x !== null));
      const test = neg ? (x: unknown) => !(x !== null && set.has(x)) : (x: unknown) => x !== null && set.has(x);
      const sr = this.simple(n.l);
      return sr ? fusedTest(sr, test) : (env, f) => test(lf(env, f));
    }
    const rf = this.fn(r);
    return (env, f) => memberOf(lf(env, f), rf(env, f)) !== neg;
  }

  private arith(n: Extract<Node, { k: 'arith' }>): Fn {
    const lf = this.fn(n.l);
    const rf = this.fn(n.r);
    const at = n.at;
    switch (n.op) {
      case '+':
        switch (n.mode) {
          case 'money':
            return (env, f) => addMoney(num(lf(env, f), '`+`'), num(rf(env, f), '`+`'));
          case 'string':
            return (env, f) => String(lf(env, f) ?? 'null') + String(rf(env, f) ?? 'null');
          case 'list':
            return (env, f) => [...((lf(env, f) as unknown[]) ?? []), ...((rf(env, f) as unknown[]) ?? [])];
          default:
            return (env, f) => {
              const a = lf(env, f);
              const b = rf(env, f);
              if (typeof a === 'string' || typeof b === 'string') return String(a) + String(b);
              return checkedNumber(num(a, '`+`') + num(b, '`+`'), 'the sum');
            };
        }
      case '-':
        if (n.mode === 'money') return (env, f) => addMoney(num(lf(env, f), '`-`'), -num(rf(env, f), '`-`'));
        return (env, f) => checkedNumber(num(lf(env, f), '`-`') - num(rf(env, f), '`-`'), 'the difference');
      case '*':
        if (n.mode === 'money') {
          if (n.moneyRight) return (env, f) => mulMoney(num(rf(env, f), '`*`'), num(lf(env, f), '`*`'));
          return (env, f) => mulMoney(num(lf(env, f), '`*`'), num(rf(env, f), '`*`'));
        }
        if (n.mode === 'duration') return (env, f) => Math.round(checkedNumber(num(lf(env, f), '`*`') * num(rf(env, f), '`*`'), 'the product'));
        return (env, f) => checkedNumber(num(lf(env, f), '`*`') * num(rf(env, f), '`*`'), 'the product');
      case '/':
        if (n.mode === 'money')
          return (env, f) => {
            try {
              return divMoney(num(lf(env, f), '`/`'), num(rf(env, f), '`/`'));
            } catch (err) {
              throw new EvalError(`${(err as Error).message} at ${at}`);
            }
          };
        {
          const round = n.roundQuotient === true;
          return (env, f) => {
            const a = num(lf(env, f), '`/`');
            const b = num(rf(env, f), '`/`');
            if (b === 0) throw new EvalError(`division by zero at ${at}`);
            const q = a / b;
            return round ? Math.round(q) : checkedNumber(q, 'the quotient');
          };
        }
      case '%':
        return (env, f) => {
          const a = num(lf(env, f), '`%`');
          const b = num(rf(env, f), '`%`');
          if (b === 0) throw new EvalError(`modulo by zero at ${at}`);
          const m = a % b;
          return m === 0 ? 0 : m;
        };
    }
  }

  /** Compiled patterns not written in the policy (from a `let`, the request or data), by text.
   *  Bounded: emptied when full, so hostile requests cannot grow it. */
  private readonly patternCache = new Map<string, PolicyPattern>();

  /** A `matches` pattern value — a string, a list of strings, or null (matches nothing) — compiled.
   *  An invalid pattern, or a value of another shape, is a rule error (fail closed). */
  patternsOf(v: unknown, at: string): PolicyPattern[] | null {
    if (v === null || v === undefined) return null;
    const texts = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
    if (texts === undefined) throw new EvalError(`\`matches\` needs a pattern (a string or a list of strings), got ${typeOfValue(v)} at ${at}`);
    const out: PolicyPattern[] = [];
    for (const t of texts) {
      if (t === null || t === undefined) continue;
      if (typeof t !== 'string') throw new EvalError(`\`matches\` needs string patterns, got ${typeOfValue(t)} at ${at}`);
      let rx = this.patternCache.get(t);
      if (rx === undefined) {
        try {
          rx = compilePattern(t);
        } catch (e) {
          const why = (e instanceof Error ? e.message : String(e)).replace(/^error parsing regexp: /, '');
          throw new EvalError(`invalid pattern ${JSON.stringify(t.length > 80 ? t.slice(0, 80) + '…' : t)} at ${at}: ${why}`);
        }
        if (this.patternCache.size >= 1024) this.patternCache.clear();
        this.patternCache.set(t, rx);
      }
      out.push(rx);
    }
    return out;
  }

  private call(n: Extract<Node, { k: 'call' }>): Fn {
    const fns = n.args.map((a) => this.fn(a));
    const a0: Fn = fns.length > 0 ? fns[0] : () => null;
    const a1: Fn = fns.length > 1 ? fns[1] : () => null;
    switch (n.fn) {
      case 'len':
        return (env, f) => lengthOf(a0(env, f));
      case 'min':
      case 'max': {
        const isMin = n.fn === 'min';
        return (env, f) => {
          const a = a0(env, f);
          const b = a1(env, f);
          if (isNullish(a)) return isNullish(b) ? null : b;
          if (isNullish(b)) return a;
          return isMin ? (lt(b, a) ? b : a) : lt(a, b) ? b : a;
        };
      }
      case 'type_of':
        return (env, f) => typeOfValue(a0(env, f));
      case 'hour':
        return (env, f) => {
          const t = timeArg(a0(env, f), 'hour');
          return t === null ? null : utcDate(t).getUTCHours();
        };
      case 'weekday':
        // ISO weekday: Monday = 1 … Sunday = 7 (UTC).
        return (env, f) => {
          const t = timeArg(a0(env, f), 'weekday');
          if (t === null) return null;
          const d = utcDate(t).getUTCDay();
          return d === 0 ? WEEKDAYS : d;
        };
    }
  }

  private strMethod(n: Extract<Node, { k: 'strMethod' }>): Fn {
    const og = this.fn(n.obj);
    const fns = n.args.map((a) => this.fn(a));
    const a0: Fn = fns.length > 0 ? fns[0] : () => null;
    const a1: Fn = fns.length > 1 ? fns[1] : () => null;
    const { m, at } = n;
    // On an `any` receiver, a method that is a list method too runs as that list method on a list.
    const list = n.list === undefined ? undefined : listLoop(n.list, undefined, 0, false);
    const run = STRING_RUN[m];
    return (env, f) => {
      const s = og(env, f);
      if (typeof s === 'string') return run(s, a0(env, f), a1(env, f));
      if (list !== undefined && Array.isArray(s)) return list(a0(env, f), s, env, f);
      if (s === null || s === undefined) return null;
      // Only an `any` value can be of another type here: fail the rule rather than let a wrong
      // shape (a command sent as a number, a map) silently not match.
      throw new EvalError(`\`.${m}()\` needs a string, got ${typeOfValue(s)} at ${at}`);
    };
  }

  /** A list method: its registry entry's loop (semantics/builtins.ts `ListLoop`) over the list. */
  private listMethod(n: ListMethodNode): Fn {
    const og = this.fn(n.obj);
    const { m, at } = n;
    const run = listLoop(n.loop, n.body === undefined ? undefined : this.fn(n.body), n.slot ?? 0, n.money === true, m, at);
    // The argument first, then the list (as `v in xs`).
    const ag = n.arg === undefined ? undefined : this.fn(n.arg);
    return (env, f) => run(ag === undefined ? null : ag(env, f), asList(og(env, f), m, at), env, f);
  }
}

/**
 * A `ListLoop` (semantics/builtins.ts) as a closure over the call's argument `a` and an evaluated list
 * (`null`: absent): each element's value `v` is the lambda `body`'s (the element in frame slot
 * `slot`), or the element itself without one. The JavaScript backend emits the same loop with the
 * lambda inline (codegen-rules.ts `listMethod`), and calls this one for a method without a lambda.
 */
/** How many list elements the list methods of one evaluation (one `Env`: a decision's rules, one
 *  budget step, one explained clause) may visit, all loops together — a nested loop's inner list
 *  counts once per outer element. Always-terminating is not bounded: `xs.any(a => xs.any(b => …))`
 *  is quadratic in a list the request chooses (session 13 review L13); past this the rule fails (its
 *  `on error` effect) instead of holding the process for seconds. A lambda's element counts 1; an
 *  element a method without a lambda scans (`contains`, `sum()`: a native loop, ~30× cheaper) counts
 *  1/32, so a large data list (a 1,000,000-entry blocklist) can be searched by many rules. */
export const MAX_LOOP_STEPS = 10_000_000;
/** What one element scanned without a lambda counts, in lambda elements. */
const SCAN_COST = 1 / 32;
let stepsEnv: object | null = null;
let stepsLeft = MAX_LOOP_STEPS;

/** Counts `n` elements against the evaluation's `MAX_LOOP_STEPS` (a new `env` starts a new count). */
export function spendSteps(env: object, n: number): void {
  if (env !== stepsEnv) {
    stepsEnv = env;
    stepsLeft = MAX_LOOP_STEPS;
  }
  if ((stepsLeft -= n) < 0) {
    stepsEnv = null;
    throw new EvalError(`evaluation visited more than ${MAX_LOOP_STEPS.toLocaleString('en-US')} list elements (nested list methods over a long list): the rule fails rather than run on`);
  }
}

export function listLoop(loop: ListLoop, body: Fn | undefined, slot: number, money: boolean, m = '', at?: string): Loop {
  const { when, step } = loop;
  const stop = step === 'stop';
  const stopWith = stop && loop.stopWith;
  const list = step === 'keep' || step === 'push';
  const length = step === 'count' && when === 'always' && body === undefined;
  // The loops of the built-in lambda methods each have a closure of their own, so that V8's type
  // feedback for one is not shared with the others (one shared closure was ~10 % slower on list-heavy
  // policies: docs/benchmarks.md, "Session 9: bundle room"). They depend on the loop's shape only;
  // any other shape runs the general loop below.
  if (body !== undefined && loop.ifNull === undefined) {
    if (stop && (when === 'true' || when === 'notTrue')) {
      const acts = when === 'true';
      return (_a, xs, env, f) => {
        if (xs !== null) {
          spendSteps(env, xs.length);
          for (let i = 0; i < xs.length; i++) {
            f[slot] = xs[i];
            if ((body(env, f) === true) === acts) return stopWith;
          }
        }
        return !stopWith;
      };
    }
    if (step === 'count' && when === 'true')
      return (_a, xs, env, f) => {
        let n = 0;
        if (xs !== null) spendSteps(env, xs.length);
        if (xs !== null)
          for (let i = 0; i < xs.length; i++) {
            f[slot] = xs[i];
            if (body(env, f) === true) n++;
          }
        return n;
      };
    if (step === 'keep' && when === 'true')
      return (_a, xs, env, f) => {
        const r: unknown[] = [];
        if (xs !== null) spendSteps(env, xs.length);
        if (xs !== null)
          for (let i = 0; i < xs.length; i++) {
            const x = xs[i];
            f[slot] = x;
            if (body(env, f) === true) r.push(x);
          }
        return r;
      };
    if (step === 'push' && when === 'always')
      return (_a, xs, env, f) => {
        const r: unknown[] = [];
        if (xs !== null) spendSteps(env, xs.length);
        if (xs !== null)
          for (let i = 0; i < xs.length; i++) {
            f[slot] = xs[i];
            const v = body(env, f);
            r.push(v === undefined ? null : v);
          }
        return r;
      };
  }
  // `contains` (an element equal to the argument, no lambda): a scalar by `===` (indexOf), as `equalsArg`.
  if (body === undefined && stop && when === 'equalsArg' && loop.ifNull === undefined)
    return (a, xs, env) => {
      if (xs !== null) {
        spendSteps(env, xs.length * SCAN_COST);
        if (typeof a !== 'object') {
          if (a !== undefined && xs.indexOf(a) >= 0) return stopWith;
        } else if (a !== null) for (let i = 0; i < xs.length; i++) if (deepEqual(a, xs[i])) return stopWith;
      }
      return !stopWith;
    };
  return (a, xs, env, f) => {
    if (xs === null) return loop.ifNull === null ? null : stop ? !stopWith : list ? [] : 0;
    if (length) return xs.length;
    spendSteps(env, body === undefined ? xs.length * SCAN_COST : xs.length);
    let r: unknown = stop ? !stopWith : list ? [] : 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      let v = x;
      if (body !== undefined) {
        f[slot] = x;
        v = body(env, f);
      }
      // `when`, tested inline (through a table of functions, a call per element costs a quarter of the loop)
      if (when === 'true' ? v === true : when === 'notTrue' ? v !== true : when === 'number' ? typeof v === 'number' : when === 'summand' ? typeof v === 'number' || summand(v, m, at) : when === 'always' || equalsArg(v, a)) {
        if (stop) return stopWith;
        if (list) (r as unknown[]).push(step === 'keep' ? x : v === undefined ? null : v);
        else r = step === 'count' ? (r as number) + 1 : money ? addMoney(r as number, v as number) : (r as number) + (v as number);
      }
    }
    return r;
  };
}

/** `equalsArg`: an element `v` equal to the call's argument `a`, as `a in xs` compares: a null `a`
 *  equals nothing; scalars by `===`, lists and maps by deep equality. */
function equalsArg(v: unknown, a: unknown): boolean {
  return typeof a !== 'object' ? a !== undefined && v === a : a !== null && deepEqual(a, v);
}

/** A list method's loop over the call's argument and an evaluated list (null: absent). */
export type Loop = (a: unknown, xs: unknown[] | null, env: Env, f: Frame) => unknown;


