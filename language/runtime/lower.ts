// Lowering: a checked program → the expression IR (ir.ts), once. Everything that depends on the
// syntax tree, the symbol table or static types is decided here:
// - names: lets (folded to constants when they do not read the request), defs (by index), def and
//   lambda parameters (by frame slot), budgets, `now`;
// - read fusion: an input-rooted member chain (`action.args.amount`) is ONE `read` node, with which
//   steps are statically records;
// - constant folding: a node whose operands are constants is evaluated now (with the closure backend,
//   so folding has exactly the run-time semantics); one that fails is left to fail at run time;
// - operator variants chosen by static type (money, string, list, duration arithmetic; scalar or
//   deep equality), error locations, regex patterns checked, the paths `explain` records.

import { dataValue } from './data.js';
import type * as A from '../syntax/ast.js';
import type { CheckedProgram, Symbol as Sym } from '../semantics/program.js';
import type { Type } from '../semantics/types.js';
import { printExpr } from '../semantics/print.js';
import { compilePattern, NeedsRe2Error } from '../semantics/patterns.js';
import { STRING_RUN } from '../semantics/string-methods.js';
import { LIST_RUNS, MAP_RUNS } from '../semantics/method-runs.js';
import { annotationsOf } from '../semantics/annotations.js';
import { constIndex } from '../semantics/request-path.js';
import type { BudgetWindow, ClauseEffect, Env, SourceLocation } from './compiled.js';
import { DETECTORS } from './detectors.js';
import { DEFAULT_REPLACEMENT, type RedactSpec } from './transforms.js';
import { DEFAULT_EXTERN_TIMEOUT_MS, type IrExtern } from './externs.js';
import { Closures, EMPTY_FRAME } from './closures.js';
import {
  IR_VERSION,
  childNodes,
  isJsonSafe,
  type ArithMode,
  type IrBody,
  type IrBudget,
  type IrClause,
  type IrProgram,
  type IrRule,
  type ListMethodNode,
  type Node,
  type StringMethod,
  type Trace,
} from './ir.js';
import { baseKind, isScalarKind } from './ops.js';
import { newRecord, renderValue } from './values.js';

interface Scope {
  /** Slot of each def param / lambda param (by declaring node). */
  slots: Map<unknown, number>;
  size: number;
  file: string;
  /** Record the paths `explain` reports (rule conditions; not in lets and defs). */
  trace: boolean;
}

const NULL: Node = Object.freeze({ k: 'const', v: null }) as Node;
const EMPTY_ENV: Env = { input: Object.create(null), now: 0, budgets: Object.create(null) };
const STRING_METHODS = new Set<string>(Object.keys(STRING_RUN));
/** Nodes that read the env (the request, the clock, budgets, a request-reading let). */
const ENV_READS = new Set<Node['k']>(['read', 'input', 'now', 'budget', 'let', 'extern']);
const BUILTINS = new Set<string>(['len', 'min', 'max', 'type_of', 'hour', 'weekday']);

/**
 * Where the numbers of a value come from, for an untyped value that meets money (`toMoney`): `units`
 * — JSON as sent (the request, a data document) or a plain number: currency units; `micros` — money
 * (a literal, a money-typed value, money arithmetic): already micros; `none` — no number (a string, a
 * bool, null); `mixed` — both, or unknown (a def parameter whose callers differ, an extern's result).
 */
type Origin = 'none' | 'units' | 'micros' | 'mixed';
function both(a: Origin, b: Origin): Origin {
  if (a === 'none') return b;
  return b === 'none' || a === b ? a : 'mixed';
}
const MONEY: Type = { kind: 'money' };
/** The origin a type alone tells (`undefined`: it holds `any`, look at the expression). */
function typeOrigin(t: Type | undefined, depth = 0): Origin | undefined {
  if (t === undefined || depth > 16) return undefined;
  switch (t.kind) {
    case 'nullable':
      return typeOrigin(t.inner, depth + 1);
    case 'money':
      return 'micros';
    case 'int':
    case 'number':
      return 'units';
    case 'any':
    case 'error':
      return undefined;
    case 'list':
      return typeOrigin(t.elem, depth + 1);
    case 'map':
      return typeOrigin(t.value, depth + 1);
    case 'object': {
      let o: Origin = 'none';
      for (const f of t.fields) {
        const fo = typeOrigin(f.type, depth + 1);
        if (fo === undefined) return undefined;
        o = both(o, fo);
      }
      return o;
    }
    default:
      return 'none';
  }
}
const unparen = (e: A.Expr | undefined): A.Expr | undefined => (e?.kind === 'Paren' ? unparen(e.expr) : e);

/** Every call in the files (rules, lets, defs, budgets, tests): a walk over every node (an object
 *  with a `kind`) and list, without the syntax walker (a prebuilt policy's bundle does not carry it). */
function callsIn(files: readonly A.SourceFile[]): A.CallExpr[] {
  const out: A.CallExpr[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [...files];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    if (typeof (v as { kind?: unknown }).kind !== 'string') continue;
    if ((v as A.Node & { kind: string }).kind === 'Call') out.push(v as A.CallExpr);
    for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) stack.push(x);
  }
  return out;
}

function konst(v: unknown): Node {
  return { k: 'const', v };
}
/**
 * The length of a list a `keep` loop makes (`xs.filter(p).len()`, `len(xs.filter(p))`): the same
 * loop counting instead of collecting — the same elements tested in the same order (the same rule
 * errors, naming the same method), no list built. Undefined for anything else.
 */
function countOfKept(list: Node): Node | undefined {
  if (list.k !== 'listMethod' || list.loop.step !== 'keep') return undefined;
  return { ...list, loop: { when: list.loop.when, step: 'count' } };
}

function isConst(n: Node): n is { k: 'const'; v: unknown } {
  return n.k === 'const';
}

/** Lowers the expressions of one checked program. */
export class Lowering {
  readonly ir: IrProgram;
  private readonly letIndex = new Map<string, Node>();
  private readonly letsLowering = new Set<string>();
  private readonly defIndex = new Map<string, number>();
  private readonly defDecls = new Map<string, A.DefDecl>();
  private readonly defsLowering = new Set<string>();
  private readonly budgetUnits = new Map<string, 'money' | 'number'>();
  private readonly budgetsRead = new Set<string>();
  /** Evaluates constant operands while folding (the reference semantics). */
  private readonly folder: Closures;
  /** A lambda's parameter → the list it runs over (`args.l.sum(x => x)`: `x` is read from `args.l`). */
  private readonly lambdaOver = new Map<unknown, A.Expr>();
  /** Lets whose origin is being computed (a cycle is a checker error; never loop here). */
  private readonly originsComputing = new Set<unknown>();
  private readonly origins = new Map<A.Expr, Origin>();
  /** Each def parameter's origin from the def's callers (`paramOrigin`), read once. */
  private paramOrigins: Map<A.Param, Origin> | undefined;

  constructor(readonly program: CheckedProgram) {
    this.ir = { version: IR_VERSION, currency: program.header.currency, lets: [], defs: [], rules: [], budgets: [], budgetsReadByRules: [] };
    this.folder = new Closures(this.ir);
    for (const d of program.defs) if (d.name) this.defDecls.set(d.name.text, d);
    for (const b of program.budgets) if (b.name) this.budgetUnits.set(b.name.text, budgetUnitOf(program, b));
  }

  /** The whole program: lets, rules, budgets (defs as they are called). */
  lowerProgram(): IrProgram {
    const externs = this.externs();
    if (externs.length > 0) this.ir.externs = externs;
    for (const l of this.program.lets) if (l.name) this.letRef(l.name.text);
    for (const r of this.program.rules) this.ir.rules.push(this.rule(r));
    for (const b of this.program.budgets) this.ir.budgets.push(this.budget(b));
    this.ir.budgetsReadByRules = [...this.budgetsRead];
    return this.ir;
  }

  /** The `extern def`s: signatures from the checker, timeout and `on error` with their defaults. */
  private externs(): IrExtern[] {
    const out: IrExtern[] = [];
    for (const d of this.program.externs ?? []) {
      if (!d.name) continue;
      const sym = this.program.symbols.get(d.name.text);
      const ft = sym && sym.kind === 'extern' && sym.type.kind === 'function' ? sym.type : undefined;
      out.push({
        name: d.name.text,
        params: ft ? ft.params : d.params.map(() => ({ kind: 'any' }) as Type),
        result: ft ? ft.result : ({ kind: 'any' } as Type),
        timeoutMs: d.timeout?.ms ?? DEFAULT_EXTERN_TIMEOUT_MS,
        onError: d.onError?.effect ?? 'deny',
        location: declLocation(this.fileOf(d), d),
      });
    }
    return out;
  }

  typeOf(e: A.Expr | undefined): Type | undefined {
    return e ? this.program.types.get(e) : undefined;
  }

  fileOf(decl: A.Decl): string {
    return this.program.declFile.get(decl) ?? this.program.files.find((f) => f.decls.includes(decl))?.file ?? '';
  }

  newScope(file: string, trace = false): Scope {
    return { slots: new Map(), size: 0, file, trace };
  }

  private at(s: Scope, node: A.Node): string {
    return `${s.file}:${node.range.start.line + 1}:${node.range.start.character + 1}`;
  }

  // ---------------- folding

  /** Whether a node reads the request, the clock, budgets or a request-reading let (directly or through defs). */
  readsEnv(n: Node, seen = new Set<number>()): boolean {
    if (ENV_READS.has(n.k)) return true;
    if (n.k === 'def' && !seen.has(n.i)) {
      seen.add(n.i);
      if (this.readsEnv(this.ir.defs[n.i].body, seen)) return true;
    }
    for (const c of childNodes(n)) if (this.readsEnv(c, seen)) return true;
    return false;
  }

  /** The node as a constant when its operands are constants and evaluating it succeeds with a JSON-safe value. */
  fold(n: Node): Node {
    if (n.k === 'const' || n.k === 'error' || n.k === 'slot') return n;
    if (!childNodes(n).every(isConst) || ENV_READS.has(n.k)) return n;
    // (A list method with a lambda folds only when its body is a constant too.)
    if (n.k === 'def' && this.readsEnv(this.ir.defs[n.i].body)) return n;
    try {
      // a fresh env per folding: each starts its own count of list elements (closures.ts `spendSteps`)
      const v = this.folder.fn(n)({ ...EMPTY_ENV }, EMPTY_FRAME);
      return isJsonSafe(v) ? konst(Array.isArray(v) ? Object.freeze(v) : v) : n;
    } catch {
      return n;
    }
  }

  // ---------------- lets and defs

  /** A let: its constant value, or a reference to its lowered body. */
  letRef(name: string): Node {
    const done = this.letIndex.get(name);
    if (done) return done;
    const decl = this.program.lets.find((l) => l.name?.text === name);
    if (decl?.source) {
      // A data document: its file's value, converted to the declared type (data.ts), is a constant.
      const doc = this.program.data?.find((d) => d.decl === decl);
      const v = doc ? dataValue(this.program, doc) : undefined;
      // compileProgram reads every document before lowering: a missing value here is a bug, never null.
      if (v === undefined) throw new Error(`rein: data document \`${name}\` has no value (its file was not read)`);
      const ref = konst(v);
      this.letIndex.set(name, ref);
      return ref;
    }
    if (!decl || !decl.value || this.letsLowering.has(name)) return NULL;
    this.letsLowering.add(name);
    // Traced (explain): a clause that reads the request through a let lists those reads too. Only the
    // explain closures record them; every other backend ignores the marks.
    const s = this.newScope(this.fileOf(decl), true);
    const body = this.expr(decl.value, s);
    this.letsLowering.delete(name);
    let ref: Node;
    if (isConst(body)) ref = body;
    else {
      ref = { k: 'let', i: this.ir.lets.length };
      this.ir.lets.push({ name, frameSize: s.size, body });
    }
    this.letIndex.set(name, ref);
    return ref;
  }

  /** A def's index in `ir.defs`, lowering it on first use; undefined when it cannot be evaluated. */
  defRef(name: string): number | undefined {
    const done = this.defIndex.get(name);
    if (done !== undefined) return done;
    const decl = this.defDecls.get(name);
    if (!decl || !decl.body || this.defsLowering.has(name)) return undefined; // recursion is a checker error
    this.defsLowering.add(name);
    const s = this.newScope(this.fileOf(decl), true); // traced, as a let's body
    decl.params.forEach((p, i) => s.slots.set(p, i));
    s.size = decl.params.length;
    const body = this.expr(decl.body, s);
    this.defsLowering.delete(name);
    const i = this.ir.defs.length;
    const def: IrBody = { name, frameSize: s.size, body };
    this.ir.defs.push(def);
    this.defIndex.set(name, i);
    return i;
  }

  // ---------------- expressions

  expr(e: A.Expr | undefined, s: Scope, chainInner = false): Node {
    if (!e) return NULL;
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
        return NULL;
      case 'String':
        return this.string(e.parts, s);
      case 'Paren':
        return this.expr(e.expr, s, chainInner);
      case 'List': {
        const items = e.items.map((i) => this.expr(i, s));
        if (items.every(isConst)) {
          const v = Object.freeze(items.map((i) => (i as { v: unknown }).v));
          if (isJsonSafe(v)) return konst(v);
        }
        return { k: 'list', items };
      }
      case 'Object': {
        const keys = e.entries.map((en) => (en.key.kind === 'Name' ? en.key.text : en.key.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('')));
        const values = e.entries.map((en) => this.expr(en.value, s));
        if (values.every(isConst)) {
          const o = newRecord();
          for (let i = 0; i < keys.length; i++) o[keys[i]] = (values[i] as { v: unknown }).v;
          if (isJsonSafe(o)) return konst(o);
        }
        return { k: 'object', keys, values };
      }
      case 'NameRef':
        return this.name(e, s, chainInner);
      case 'Member':
        return this.member(e, s, chainInner);
      case 'Index': {
        const obj = this.expr(e.object, s, true);
        const index = this.expr(e.index, s);
        return this.traced(this.fold({ k: 'index', obj, index }), e, s, chainInner);
      }
      case 'Call':
        return this.call(e, s);
      case 'Lambda':
        // Lambdas only appear as method arguments (handled there).
        return NULL;
      case 'Unary': {
        const x = this.expr(e.operand, s);
        return this.fold(e.op === 'not' ? { k: 'not', x: this.shaped(e.operand, x, 'bool', '`not`') } : { k: 'neg', x });
      }
      case 'Binary':
        return this.binary(e, s);
      case 'If': {
        const c = this.shaped(e.cond, this.expr(e.cond, s), 'bool', '`if`');
        const t = this.expr(e.then, s);
        const f = this.expr(e.else, s);
        if (isConst(c)) return c.v === true ? t : f;
        return { k: 'if', c, t, f };
      }
      case 'Error':
        return { k: 'error', message: 'expression has a syntax error' };
    }
  }

  string(pieces: A.StringLit['parts'], s: Scope): Node {
    const parts: (string | { e: Node; type?: Type })[] = [];
    const text = (t: string) => {
      if (parts.length > 0 && typeof parts[parts.length - 1] === 'string') parts[parts.length - 1] += t;
      else parts.push(t);
    };
    for (const p of pieces) {
      if (p.kind === 'Text') {
        text(p.value);
        continue;
      }
      let type = this.typeOf(p.expr);
      // an untyped value that is money (`(args.c ?? $0) + $1`: converted to micros) renders as money
      if (baseKind(type) === 'any' && this.origin(p.expr) === 'micros') type = MONEY;
      const inner = this.expr(p.expr, s);
      if (isConst(inner)) {
        try {
          text(renderValue(inner.v, type, this.ir.currency));
          continue;
        } catch {
          // left to run time
        }
      }
      parts.push(type === undefined ? { e: inner } : { e: inner, type });
    }
    if (parts.length === 0) return konst('');
    if (parts.length === 1 && typeof parts[0] === 'string') return konst(parts[0]);
    return { k: 'str', parts };
  }

  /** The dotted input path of a member chain (`action.args.amount`), or undefined when not input-rooted. */
  inputPath(e: A.Expr): string | undefined {
    switch (e.kind) {
      case 'NameRef': {
        const sym = this.program.refs.get(e.name);
        if (sym?.kind === 'input-field') return sym.name;
        if (sym?.kind === 'input') return 'input';
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

  /** Marks an input-rooted read for explain (outermost reads of a chain, in rule conditions). */
  private traced(n: Node, e: A.Expr, s: Scope, chainInner: boolean): Node {
    if (!s.trace || chainInner || n.k === 'const') return n;
    if (n.k !== 'read' && n.k !== 'input' && n.k !== 'member' && n.k !== 'index') return n;
    const path = this.inputPath(e);
    if (path === undefined) return n;
    const type = this.typeOf(e);
    const trace: Trace = type === undefined ? { path } : { path, type };
    return { ...n, trace };
  }

  name(e: A.NameExpr, s: Scope, chainInner: boolean): Node {
    const sym: Sym | undefined = this.program.refs.get(e.name);
    const name = e.name.text;
    if (!sym) return { k: 'error', message: `unknown name \`${name}\`` };
    switch (sym.kind) {
      case 'let':
        return this.letRef(name);
      case 'input-field':
        return this.traced({ k: 'read', root: name, keys: [], safe: [] }, e, s, chainInner);
      case 'input':
        return this.traced({ k: 'input' }, e, s, chainInner);
      case 'param': {
        const slot = s.slots.get(sym.param);
        return slot === undefined ? NULL : { k: 'slot', i: slot };
      }
      case 'lambda-param': {
        const slot = s.slots.get(sym.node);
        return slot === undefined ? NULL : { k: 'slot', i: slot };
      }
      case 'builtin':
        return name === 'now' ? { k: 'now' } : NULL;
      case 'budget':
        this.budgetsRead.add(name);
        return { k: 'budget', name };
      default:
        return NULL;
    }
  }

  member(e: A.MemberExpr, s: Scope, chainInner: boolean): Node {
    if (!e.property) return NULL;
    const key = e.property.text;
    if (baseKind(this.typeOf(e.object)) === 'budget') return { k: 'budgetField', obj: this.expr(e.object, s, true), key };
    const chain = this.inputChain(e);
    if (chain) return this.traced({ k: 'read', root: chain.root, keys: chain.keys, safe: chain.safe }, e, s, chainInner);
    const obj = this.expr(e.object, s, true);
    return this.traced(this.fold({ k: 'member', obj, key }), e, s, chainInner);
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
    const sym = this.program.refs.get(cur.name);
    if (sym?.kind !== 'input-field') return undefined;
    return { root: sym.name, keys, safe };
  }

  private logic(op: 'and' | 'or', l: Node, r: Node): Node {
    if (op === 'and') {
      if (isConst(l)) return l.v === true ? this.fold({ k: 'and', l: konst(true), r }) : konst(false);
      return { k: 'and', l, r };
    }
    if (isConst(l)) return l.v === true ? konst(true) : this.fold({ k: 'or', l: konst(false), r });
    return { k: 'or', l, r };
  }

  /**
   * An `any` operand where a bool (a condition, `and`/`or`/`not`/`if`) or a string (`matches`, a
   * detector) is needed: the value itself, `null` as `null`, any other type a rule error — never a
   * silent `false` that lets a request through (`when args.dangerous` with `"yes"`).
   */
  private shaped(e: A.Expr | undefined, n: Node, want: 'bool' | 'string', what: string): Node {
    if (!e || baseKind(this.typeOf(e)) !== 'any' || isConst(n)) return n;
    const isType: Node = { k: 'eq', neg: false, scalar: true, l: { k: 'call', fn: 'type_of', args: [n] }, r: konst(want) };
    const isNull: Node = { k: 'eq', neg: false, scalar: true, l: n, r: NULL };
    return { k: 'if', c: isType, t: n, f: { k: 'if', c: isNull, t: NULL, f: { k: 'error', message: `${what} needs a ${want}, got a value of another type` } } };
  }

  binary(e: A.BinaryExpr, s: Scope): Node {
    const n = this.binaryRaw(e, s);
    // Time and duration arithmetic must stay inside the time range (±8.64e15 ms, JavaScript's
    // Date range): outside it `hour()`/`weekday()` would be NaN and every comparison false, so a
    // rule such as "deny outside business hours" would silently stop matching. A rule error instead.
    const k = e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' ? baseKind(this.typeOf(e)) : undefined;
    if (k !== 'time' && k !== 'duration') return n;
    return this.fold({ k: 'timeRange', x: n, kind: k, at: this.at(s, e) });
  }

  /** Which operands of a binary operator are untyped values that meet money (lowered `toMoney`). */
  private moneyPair(e: A.BinaryExpr): 'left' | 'right' | 'both' | undefined {
    const op = e.op;
    if (!e.right) return undefined;
    const untyped = (x: A.Expr) => typeOrigin(this.typeOf(x)) === undefined;
    let l = false;
    let r = false;
    if (op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=' || op === '+' || op === '-') {
      // (`+`/`-` with a string or a list on one side is not arithmetic on money)
      const other = (x: A.Expr) => this.moneyish(x);
      l = untyped(e.left) && other(e.right);
      r = untyped(e.right) && other(e.left);
    } else if (op === 'in' || op === 'not in') {
      // `args.c in [$500]`; `$500 in args.amounts`
      l = untyped(e.left) && this.origin(e.right) === 'micros';
      r = untyped(e.right) && this.moneyish(e.left);
    }
    return l && r ? 'both' : l ? 'left' : r ? 'right' : undefined;
  }

  private binaryRaw(e: A.BinaryExpr, s: Scope): Node {
    const op = e.op;
    const lk = baseKind(this.typeOf(e.left));
    const rk = baseKind(this.typeOf(e.right));
    const at = this.at(s, e);
    // An untyped operand beside money (`(args.amount ?? $0) > $100`, `args.c in [$500]`,
    // `(args.c ?? $0) + $1`): its numbers read from JSON are currency units, money is micros (`toMoney`).
    const beside = this.moneyPair(e);
    const l = beside === 'left' || beside === 'both' ? this.toMoney(e.left, s) : this.expr(e.left, s);
    const r = beside === 'right' || beside === 'both' ? this.toMoney(e.right, s) : this.expr(e.right, s);
    if (op === 'and' || op === 'or') return this.logic(op, this.shaped(e.left, l, 'bool', `\`${op}\``), this.shaped(e.right, r, 'bool', `\`${op}\``));
    switch (op) {
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (op === '==' || op === '!=') return this.fold({ k: 'eq', neg: op === '!=', scalar: isScalarKind(lk) || isScalarKind(rk), l, r });
        return this.fold({ k: 'cmp', op, l, r });
      }
      case 'in':
      case 'not in':
        return this.fold({ k: 'in', neg: op === 'not in', l, r });
      case 'matches': {
        // A constant pattern (written out, or a `let`) is compiled now, and a constant list of them
        // checked now; one from the request or data — a string or a list of strings — is compiled
        // when met (closures.ts `patternsOf`). An invalid one is a rule error.
        const texts = isConst(r) ? (typeof r.v === 'string' ? [r.v] : Array.isArray(r.v) ? r.v : []) : [];
        for (const t of texts) {
          try {
            if (typeof t === 'string') compilePattern(t);
          } catch (e) {
            // Outside the built-in subset while RE2 is not loaded (a browser): say what to load.
            return { k: 'error', message: e instanceof NeedsRe2Error ? `pattern ${JSON.stringify(t)} at ${at}: ${e.message}` : `invalid pattern at ${at}` };
          }
        }
        const ls = this.shaped(e.left, l, 'string', '`matches`');
        return isConst(r) && typeof r.v === 'string' ? this.fold({ k: 'matches', l: ls, pattern: r.v, at }) : { k: 'matchesAny', l: ls, r, at };
      }
      case 'with':
        return this.fold({ k: 'with', l, r });
      case '??':
        if (isConst(l)) return l.v === null || l.v === undefined ? r : l;
        return { k: 'coalesce', l, r };
      case '+': {
        const mode: ArithMode =
          lk === 'money' || rk === 'money' || beside !== undefined
            ? 'money'
            : lk === 'string' || rk === 'string' || lk === 'enum' || rk === 'enum'
              ? 'string'
              : lk === 'list' || rk === 'list'
                ? 'list'
                : 'number';
        return this.fold({ k: 'arith', op, mode, l, r, at });
      }
      case '-':
        return this.fold({ k: 'arith', op, mode: lk === 'money' || rk === 'money' || beside !== undefined ? 'money' : 'number', l, r, at });
      case '*': {
        if (lk === 'money' && rk !== 'money') return this.fold({ k: 'arith', op, mode: 'money', l, r, at });
        if (rk === 'money' && lk !== 'money') return this.fold({ k: 'arith', op, mode: 'money', l, r, at, moneyRight: true });
        return this.fold({ k: 'arith', op, mode: lk === 'duration' || rk === 'duration' ? 'duration' : 'number', l, r, at });
      }
      case '/':
        if (lk === 'money' && rk !== 'money') return this.fold({ k: 'arith', op, mode: 'money', l, r, at });
        return this.fold({ k: 'arith', op, mode: 'number', l, r, at, roundQuotient: lk === 'duration' && rk !== 'duration' });
      case '%':
        return this.fold({ k: 'arith', op, mode: 'number', l, r, at });
    }
  }

  call(e: A.CallExpr, s: Scope): Node {
    const callee = e.callee.kind === 'Paren' && e.callee.expr ? e.callee.expr : e.callee;
    if (callee.kind === 'NameRef') {
      const sym = this.program.refs.get(callee.name);
      const name = callee.name.text;
      // An untyped argument for a money parameter is lowered as money (`toMoney`).
      const params = (sym?.kind === 'extern' || sym?.kind === 'def') && sym.type.kind === 'function' ? sym.type.params : [];
      const arg = (a: A.Expr, i: number) => (params[i] !== undefined && baseKind(params[i]) === 'money' && typeOrigin(this.typeOf(a)) === undefined ? this.toMoney(a, s) : this.expr(a, s));
      if (sym?.kind === 'extern') return { k: 'extern', name, args: e.args.map(arg) };
      if (sym?.kind === 'def') {
        const args = e.args.map(arg);
        const i = this.defRef(name);
        if (i === undefined) return { k: 'error', message: `\`${name}\` cannot be evaluated` };
        return this.fold({ k: 'def', i, args });
      }
      // `string(x)` renders as interpolation does: `"${x}"`.
      if ((sym?.kind === 'builtin' || !sym) && name === 'string' && e.args.length === 1) return this.string([{ kind: 'Interpolation', expr: e.args[0] } as A.Interpolation], s);
      if (sym?.kind === 'builtin' || !sym) {
        // `min(args.c, $1000)`: an untyped argument beside money is lowered as money (`toMoney`)
        const money = (name === 'min' || name === 'max') && e.args.some((a) => this.moneyish(a));
        const args = e.args.map((a) => (money && typeOrigin(this.typeOf(a)) === undefined ? this.toMoney(a, s) : this.expr(a, s)));
        if (!BUILTINS.has(name)) return { k: 'error', message: `unknown function \`${name}\`` };
        if (name === 'len' && args.length === 1) {
          const counted = countOfKept(args[0]!);
          if (counted !== undefined) return this.fold(counted);
        }
        return this.fold({ k: 'call', fn: name as 'len', args });
      }
      return { k: 'error', message: `\`${name}\` is not a function` };
    }
    if (callee.kind === 'Member' && callee.property) {
      const m = callee.property.text;
      // Detectors: `pii.email(s)`.
      if (callee.object.kind === 'NameRef') {
        const ns = callee.object.name.text;
        const objSym = this.program.refs.get(callee.object.name);
        const name = `${ns}.${m}`;
        if (DETECTORS[name] && (!objSym || objSym.kind === 'detector')) return this.fold({ k: 'detect', name, arg: this.shaped(e.args[0], this.expr(e.args[0], s), 'string', `\`${name}\``) });
      }
      return this.method(callee.object, m, e, s);
    }
    return { k: 'error', message: 'not a function' };
  }

  /** A lambda argument over the list `over`; `money`: its body lowered as money (`toMoney`). */
  private lambda(arg: A.Expr | undefined, s: Scope, over: A.Expr, money = false): { body: Node; slot: number } | undefined {
    const lam = arg && arg.kind === 'Lambda' ? arg : arg && arg.kind === 'Paren' && arg.expr?.kind === 'Lambda' ? arg.expr : undefined;
    if (!lam || lam.params.length === 0) return undefined;
    const slot = s.size++;
    s.slots.set(lam.params[0], slot);
    this.lambdaOver.set(lam.params[0], over);
    return { body: money ? this.toMoney(lam.body, s) : this.expr(lam.body, s), slot };
  }

  /**
   * A method call. List and map methods are lowered from their registry entries (semantics/builtins.ts,
   * whose run is semantics/method-runs.ts) alone: a list method becomes one `listMethod` node carrying the entry's `loop`, a map method a
   * `mapMethod` node carrying what it yields. Nothing here names a method.
   */
  method(objExpr: A.Expr, m: string, e: A.CallExpr, s: Scope, moneySum = false): Node {
    const ok = baseKind(this.typeOf(objExpr));
    // `contains` of money in an untyped list read from JSON (`args.amounts.contains($500)`): its
    // numbers are currency units (`toMoney`), as `$500 in args.amounts` compares
    const equalsArg = LIST_RUNS[m]?.loop.when === 'equalsArg';
    const moneyArg = equalsArg && e.args.length === 1 && typeOrigin(this.typeOf(objExpr)) === undefined && this.moneyish(e.args[0]);
    const obj = moneyArg ? this.toMoney(objExpr, s) : this.expr(objExpr, s);
    const at = this.at(s, e);
    const isList = ok === 'list';
    const isString = ok === 'string' || ok === 'enum';
    const mm = MAP_RUNS[m];
    if (!isList && !isString && mm && e.args.length === 0) return this.fold({ k: 'mapMethod', m, yields: mm.yields, obj, at });
    const lm = LIST_RUNS[m];
    // On a list, or a lambda method on a value that is not statically a string (`any`).
    if (isList || (!isString && lm?.lambda)) {
      if (!lm) return { k: 'error', message: `unknown method \`${m}\`` };
      const lam = lm.lambda ? this.lambda(e.args[0], s, objExpr, moneySum) : undefined;
      if (lm.lambda && !lam && (e.args.length > 0 || lm.min > 0)) return { k: 'error', message: `\`${m}\` needs a lambda (\`x => …\`)` };
      const n: ListMethodNode = { k: 'listMethod', m, loop: lm.loop, obj, at };
      if (lam) {
        n.body = lam.body;
        n.slot = lam.slot;
      } else if (!lm.lambda && e.args.length > 0) {
        // `[$500].contains(args.c)`: an untyped amount against money is in currency units (`toMoney`)
        const a = e.args[0];
        n.arg = equalsArg && baseKind(this.typeOf(a)) === 'any' && this.origin(objExpr) === 'micros' ? this.toMoney(a, s) : this.expr(a, s);
      }
      if (lm.loop.step === 'add' && (moneySum || baseKind(this.typeOf(e)) === 'money')) n.money = true;
      // `xs.filter(p).len()`: every element of the kept list counted is the filter's loop counting.
      if (lm.loop.step === 'count' && lm.loop.when === 'always' && n.body === undefined && n.arg === undefined) {
        const counted = countOfKept(obj);
        if (counted !== undefined) return this.fold(counted);
      }
      return this.fold(n);
    }
    const args = e.args.map((a) => this.expr(a, s));
    if (!STRING_METHODS.has(m)) return { k: 'error', message: `unknown method \`${m}\`` };
    // On an `any`, a method that is a list method too runs as the list method on a list.
    const list = !isString && lm && !lm.lambda ? lm.loop : undefined;
    return this.fold({ k: 'strMethod', m: m as StringMethod, obj, args, at, ...(list ? { list } : {}) });
  }

  // ---------------- rules and budgets

  rule(decl: A.RuleDecl): IrRule {
    const file = this.fileOf(decl);
    const name = decl.name?.text ?? '<unnamed>';
    const s = this.newScope(file, true);
    const effectClause = decl.body.find((b): b is A.EffectClause => b.kind !== 'When' && b.kind !== 'Unless');
    const conds = decl.body.filter((b): b is A.Condition => b.kind === 'When' || b.kind === 'Unless');
    const clauses: IrClause[] = conds.map((c) => ({
      kind: c.kind === 'When' ? 'when' : 'unless',
      source: c.expr ? printExpr(c.expr) : '',
      location: locationOf(file, c.expr ?? c),
      expr: this.shaped(c.expr, this.expr(c.expr, s), 'bool', `\`${c.kind === 'When' ? 'when' : 'unless'}\``),
    }));
    s.trace = false;
    const msgNode = effectClause && 'message' in effectClause ? effectClause.message : undefined;
    const fromNode = effectClause?.kind === 'RequireApproval' ? effectClause.from : undefined;
    const rule: IrRule = {
      name,
      effect: effectOf(effectClause),
      monitor: decl.annotations.some((a) => a.name.text === 'monitor'),
      annotations: annotationsOf(decl),
      location: declLocation(file, decl),
      frameSize: 0,
      clauses,
    };
    if (effectClause?.kind === 'Redact') {
      rule.redact = redactSpec(effectClause);
      const t = this.typeOf(effectClause.path);
      if (t !== undefined && untypedOnly(t)) rule.redact.numbers = true;
    } else if (msgNode) rule.message = this.expr(msgNode, s);
    if (fromNode) {
      rule.from = this.expr(fromNode, s);
      const t = this.typeOf(fromNode);
      if (t) rule.fromType = t;
    }
    approvalTermsOf(effectClause, rule);
    rule.frameSize = s.size;
    return rule;
  }

  budget(decl: A.BudgetDecl): IrBudget {
    const file = this.fileOf(decl);
    const name = decl.name?.text ?? '<unnamed>';
    const s = this.newScope(file);
    const unit = this.budgetUnits.get(name) ?? 'number';
    const limitC = decl.items.find((i): i is A.LimitClause => i.kind === 'Limit');
    const chargeC = decl.items.find((i): i is A.ChargeClause => i.kind === 'Charge');
    const byC = decl.items.find((i): i is A.ByClause => i.kind === 'By');
    const warnC = decl.items.find((i): i is A.WarnAtClause => i.kind === 'WarnAt');
    const exceedC = decl.items.find((i): i is A.OnExceedClause => i.kind === 'OnExceed');
    const conds = decl.items.filter((i): i is A.Condition => i.kind === 'When' || i.kind === 'Unless');

    const limitKind = limitC?.amount !== undefined ? baseKind(this.typeOf(limitC.amount)) : undefined;
    // On a money budget, a number read from untyped data (`map<any>`, an `any` field, a data document:
    // JSON as sent) is in currency units, like a plain number: `caps[team] ?? $50` with `caps:
    // map<any>` and 5 is $5 (`toMoney`).
    const limitNode = limitC?.amount ? (unit === 'money' && limitKind === 'any' ? this.toMoney(limitC.amount, s) : this.expr(limitC.amount, s)) : undefined;
    let limit = constNumber(limitNode) ?? 0;
    // A plain number on a money budget (`limit 50`): currency units. An untyped value was converted above.
    const limitIsPlainOnMoney = unit === 'money' && limitC?.amount !== undefined && limitC.amount.kind !== 'Money' && limitKind !== 'money' && limitKind !== 'any' && limitKind !== 'error';
    // `limit 50` on a money budget: currency units.
    if (limitIsPlainOnMoney) limit = Math.round(limit * 1_000_000);
    const limitExpr = limitNode !== undefined && constNumber(limitNode) === undefined ? limitNode : undefined;
    let window: BudgetWindow = { kind: 'lifetime' };
    const per = limitC?.per;
    if (per) {
      if (per.kind === 'Unit') window = { kind: 'fixed', unit: per.unit };
      else if (per.kind === 'Request') window = { kind: 'request' };
      else if (per.kind === 'Duration') window = { kind: 'fixed', ms: per.ms };
      // Rolling windows, token buckets and anchored periods need a length in ms (`per rolling hour`
      // is `per rolling 1h`; the checker rejects `month` and `request` there).
      const ms = per.kind === 'Duration' ? per.ms : per.kind === 'Unit' ? UNIT_MS[per.unit] : undefined;
      if (ms !== undefined && (limitC!.rolling || limitC!.anchored || limitC!.burst)) {
        if (limitC!.burst) {
          let refill = constNumber(limitC!.refill ? this.expr(limitC!.refill, s) : undefined) ?? 0;
          if (unit === 'money' && limitC!.refill && baseKind(this.typeOf(limitC!.refill)) !== 'money' && limitC!.refill.kind !== 'Money') refill = Math.round(refill * 1_000_000);
          window = { kind: 'bucket', ms, refill };
        } else window = { kind: limitC!.rolling ? 'rolling' : 'anchored', ms };
      }
    }
    const warnNode = warnC?.threshold ? this.expr(warnC.threshold, s) : undefined;
    const warnAt = constNumber(warnNode);
    const whens = conds.filter((c) => c.kind === 'When').map((c) => this.shaped(c.expr, this.expr(c.expr, s), 'bool', '`when`'));
    const unlesses = conds.filter((c) => c.kind === 'Unless').map((c) => this.shaped(c.expr, this.expr(c.expr, s), 'bool', '`unless`'));
    const chargeType = chargeC?.expr ? this.typeOf(chargeC.expr) : undefined;
    // An untyped charge on a money budget (`charge args.cost ?? $0`, `rein mcp`'s `arguments`): as the
    // limit, its numbers read from JSON are currency units (`toMoney`).
    const charge = chargeC?.expr ? (unit === 'money' && baseKind(chargeType) === 'any' ? this.toMoney(chargeC.expr, s) : this.expr(chargeC.expr, s)) : undefined;
    const keys = (byC?.keys ?? []).map((k) => this.expr(k, s));
    const effectClause = exceedC?.effect;
    const msgNode = effectClause && 'message' in effectClause ? effectClause.message : undefined;
    const fromNode = effectClause?.kind === 'RequireApproval' ? effectClause.from : undefined;
    const b: IrBudget = {
      name,
      unit,
      limit,
      window,
      effect: effectClause ? effectOf(effectClause) : 'deny',
      annotations: annotationsOf(decl),
      monitor: decl.annotations.some((a) => a.name.text === 'monitor'),
      location: declLocation(file, decl),
      frameSize: 0,
      whens,
      unlesses,
      chargeIsPlainOnMoney: unit === 'money' && chargeC?.expr !== undefined && baseKind(chargeType) !== 'money' && baseKind(chargeType) !== 'any',
      keys,
    };
    if (warnAt !== undefined) b.warnAt = warnAt;
    else if (warnNode !== undefined) b.warnAtExpr = warnNode;
    if (limitExpr !== undefined) {
      b.limitExpr = limitExpr;
      if (limitIsPlainOnMoney) b.limitIsPlainOnMoney = true;
    }
    if (charge) b.charge = charge;
    if (msgNode) b.message = this.expr(msgNode, s);
    if (fromNode) b.from = this.expr(fromNode, s);
    approvalTermsOf(effectClause, b);
    b.frameSize = s.size;
    return b;
  }

  // ---------------- untyped values as money

  /**
   * Where the numbers of `e` come from (`Origin`): from its type when that says (money is micros, a
   * plain number units), else — an `any` value — from what it reads: the request or a data document
   * (JSON as sent: units), a money literal (micros), through lets, `??`, `if`, members, list methods.
   */
  origin(e: A.Expr | undefined): Origin {
    if (!e) return 'none';
    const byType = typeOrigin(this.typeOf(e));
    if (byType !== undefined) return byType;
    // once per node: operators ask their operands, and their parents ask them again (a long `+`
    // chain of untyped values would otherwise take exponential time)
    const known = this.origins.get(e);
    if (known !== undefined) return known;
    const o = this.originOf(e);
    this.origins.set(e, o);
    return o;
  }

  private originOf(e: A.Expr): Origin {
    switch (e.kind) {
      case 'Paren':
        return this.origin(e.expr);
      case 'Number':
        return 'units';
      case 'Money':
        return 'micros';
      case 'NameRef': {
        const sym = this.program.refs.get(e.name);
        if (sym?.kind === 'input-field' || sym?.kind === 'input') return 'units';
        if (sym?.kind === 'let') {
          if (sym.decl.source) return 'units'; // a data document: JSON as written, like a request
          if (!sym.decl.value || this.originsComputing.has(sym.decl)) return 'mixed';
          this.originsComputing.add(sym.decl);
          const o = this.origin(sym.decl.value);
          this.originsComputing.delete(sym.decl);
          return o;
        }
        if (sym?.kind === 'lambda-param') {
          const over = this.lambdaOver.get(sym.node);
          return over === undefined ? 'mixed' : this.origin(over);
        }
        if (sym?.kind === 'param') return this.paramOrigin(sym.param);
        return 'mixed';
      }
      case 'Member':
        return this.origin(e.object);
      case 'Index':
        return this.origin(e.object);
      case 'Unary':
        return e.op === 'not' ? 'none' : this.origin(e.operand);
      case 'If':
        return both(this.origin(e.then), this.origin(e.else));
      case 'List':
        return e.items.reduce<Origin>((o, i) => both(o, this.origin(i)), 'none');
      case 'Object':
        return e.entries.reduce<Origin>((o, en) => both(o, this.origin(en.value)), 'none');
      case 'Binary': {
        const lk = baseKind(this.typeOf(e.left));
        const rk = baseKind(this.typeOf(e.right));
        // money arithmetic (`(args.c ?? $0) + $1`, `$5 * args.qty`) converted its untyped operands
        if ((e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/') && (lk === 'money' || rk === 'money')) return 'micros';
        if ((e.op === '+' || e.op === '-') && this.moneyPair(e) !== undefined) return 'micros';
        // an amount times or over a plain factor is that amount's kind (`held * 2`, `args.c / 2`)
        const plain = (k: string | undefined) => k === 'int' || k === 'number';
        if ((e.op === '*' || e.op === '/') && plain(rk)) return this.origin(e.left);
        if (e.op === '*' && plain(lk)) return this.origin(e.right);
        return both(this.origin(e.left), this.origin(e.right));
      }
      case 'Call': {
        const callee = unparen(e.callee);
        if (callee?.kind === 'NameRef') {
          const sym = this.program.refs.get(callee.name);
          if ((sym?.kind === 'builtin' || !sym) && (callee.name.text === 'min' || callee.name.text === 'max')) {
            if (e.args.some((a) => this.moneyish(a))) return 'micros';
            return e.args.reduce<Origin>((o, a) => both(o, this.origin(a)), 'none');
          }
          // a def: its body's (its parameters' from every caller); an extern's result: unknown
          if (sym?.kind === 'def' && sym.decl.body && !this.originsComputing.has(sym.decl)) {
            this.originsComputing.add(sym.decl);
            const o = this.origin(sym.decl.body);
            this.originsComputing.delete(sym.decl);
            return o;
          }
          return 'mixed';
        }
        if (callee?.kind === 'Member' && callee.property) {
          // From the registry entries (no method is named here): a map's values and entries, a kept
          // list, a sum or list of elements are what the receiver holds; a lambda's results, what it reads.
          const m = callee.property.text;
          const mm = MAP_RUNS[m];
          if (mm) return mm.yields === 'key' ? 'none' : this.origin(callee.object);
          const step = LIST_RUNS[m]?.loop.step;
          if (step === 'keep') return this.origin(callee.object);
          if (step === 'add' || step === 'push') {
            const lam = this.lambdaOf(e.args[0]);
            if (!lam) return this.origin(callee.object);
            if (lam.params[0]) this.lambdaOver.set(lam.params[0], callee.object);
            return this.origin(lam.body);
          }
          return 'mixed';
        }
        return 'mixed';
      }
      default:
        return 'none';
    }
  }

  /** A def parameter's origin: what every call of the def in the set passes (its body is lowered
   *  once for all of them); `mixed` when callers differ. */
  private paramOrigin(p: A.Param): Origin {
    if (this.paramOrigins === undefined) {
      const out = new Map<A.Param, Origin>();
      this.paramOrigins = new Map(); // while the callers are read, every parameter is `mixed`
      for (const n of callsIn(this.program.files)) {
        const callee = unparen(n.callee);
        const sym = callee?.kind === 'NameRef' ? this.program.refs.get(callee.name) : undefined;
        if (sym?.kind !== 'def') continue;
        sym.decl.params.forEach((q, i) => {
          const o = this.origin(n.args[i]);
          const prev = out.get(q);
          out.set(q, prev === undefined ? o : both(prev, o));
        });
      }
      this.origins.clear(); // computed with every parameter `mixed`
      this.paramOrigins = out;
    }
    return this.paramOrigins.get(p) ?? 'mixed';
  }

  private lambdaOf(arg: A.Expr | undefined): A.LambdaExpr | undefined {
    const x = unparen(arg);
    return x?.kind === 'Lambda' ? x : undefined;
  }

  /** Whether `e` is money where it meets an untyped value: typed money, or untyped made of money. */
  private moneyish(e: A.Expr | undefined): boolean {
    const k = baseKind(this.typeOf(e));
    return k === 'money' || (k === 'any' && this.origin(e) === 'micros');
  }

  /**
   * `e` lowered where money is needed (a comparison with money, `+`/`-` with money, `min`/`max` with
   * money, `in`/`contains` against money, a money budget's limit or charge, a money parameter): an
   * untyped value's numbers are currency units when they come from JSON as sent (`origin` `units`),
   * micros when they come from money. The conversion is pushed through `??`, `if`, `+`, `-`, `*`/`/`
   * by a plain number, `min`/`max`, `.sum(…)` and lets that mix both, down to each operand; what is
   * left unknown (`mixed`) fails the rule when it is a number.
   */
  toMoney(e: A.Expr | undefined, s: Scope): Node {
    if (!e) return NULL;
    // A typed value: money is micros; a plain number meets money only inside an untyped expression
    // (`args.c ?? 0`, `if … then 5 else args.c`): currency units, as a plain number on a money budget.
    const byType = typeOrigin(this.typeOf(e));
    if (byType !== undefined) return byType === 'units' ? this.units(this.expr(e, s), 'scale', e, s) : this.expr(e, s);
    const o = this.origin(e);
    if (o === 'micros' || o === 'none') return this.expr(e, s);
    switch (e.kind) {
      case 'Paren':
        return this.toMoney(e.expr, s);
      case 'If': {
        const c = this.shaped(e.cond, this.expr(e.cond, s), 'bool', '`if`');
        const t = this.toMoney(e.then, s);
        const f = this.toMoney(e.else, s);
        if (isConst(c)) return c.v === true ? t : f;
        return { k: 'if', c, t, f };
      }
      case 'Binary': {
        const lk = baseKind(this.typeOf(e.left));
        const rk = baseKind(this.typeOf(e.right));
        const plain = (x: string | undefined) => x === 'int' || x === 'number';
        const at = this.at(s, e);
        if (e.op === '??') {
          const l = this.toMoney(e.left, s);
          const r = this.toMoney(e.right, s);
          if (isConst(l)) return l.v === null || l.v === undefined ? r : l;
          return { k: 'coalesce', l, r };
        }
        // a sum or difference of amounts: the sum of the amounts
        if ((e.op === '+' || e.op === '-') && (lk === 'any' || plain(lk)) && (rk === 'any' || plain(rk)))
          return this.fold({ k: 'arith', op: e.op, mode: 'money', l: this.toMoney(e.left, s), r: this.toMoney(e.right, s), at });
        // an amount times or over a plain factor
        if ((e.op === '*' || e.op === '/') && plain(rk)) return this.fold({ k: 'arith', op: e.op, mode: 'money', l: this.toMoney(e.left, s), r: this.expr(e.right, s), at });
        if (e.op === '*' && plain(lk)) return this.fold({ k: 'arith', op: '*', mode: 'money', l: this.expr(e.left, s), r: this.toMoney(e.right, s), at, moneyRight: true });
        break;
      }
      case 'Call': {
        const callee = unparen(e.callee);
        if (callee?.kind === 'NameRef') {
          const sym = this.program.refs.get(callee.name);
          const name = callee.name.text;
          if ((sym?.kind === 'builtin' || !sym) && (name === 'min' || name === 'max')) return this.fold({ k: 'call', fn: name, args: e.args.map((a) => this.toMoney(a, s)) });
        }
        // `.sum(x => …)` of amounts: the sum of each amount as money
        if (callee?.kind === 'Member' && callee.property && LIST_RUNS[callee.property.text]?.loop.step === 'add' && o === 'mixed' && this.lambdaOf(e.args[0]))
          return this.method(callee.object, callee.property.text, e, s, true);
        break;
      }
      case 'NameRef': {
        // a let mixing both (`let amount = args.c ?? $0`): its value, as money, at this use
        const sym = this.program.refs.get(e.name);
        if (o === 'mixed' && sym?.kind === 'let' && sym.decl.value && !this.originsComputing.has(sym.decl)) {
          this.originsComputing.add(sym.decl);
          const n = this.toMoney(sym.decl.value, s);
          this.originsComputing.delete(sym.decl);
          return n;
        }
        break;
      }
    }
    return this.units(this.expr(e, s), o === 'units' ? 'scale' : 'ambiguous', e, s);
  }

  private units(n: Node, how: 'scale' | 'ambiguous', e: A.Expr, s: Scope): Node {
    if (isConst(n) && (n.v === null || typeof n.v === 'string' || typeof n.v === 'boolean')) return n;
    return this.fold({ k: 'units', x: n, how, at: this.at(s, e) });
  }
}

/** `quorum N` / `expires D` of a `require approval` effect onto its rule or budget (only when written). */
function approvalTermsOf(e: A.EffectClause | undefined, into: { quorum?: number; expiresMs?: number }): void {
  if (e?.kind !== 'RequireApproval') return;
  if (e.quorum && e.quorum.value > 1) into.quorum = e.quorum.value;
  if (e.expires) into.expiresMs = e.expires.ms;
}
/** A calendar unit's length for rolling windows, buckets and anchored periods (`month` has none). */
const UNIT_MS: Record<string, number | undefined> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

function constNumber(n: Node | undefined): number | undefined {
  return n && n.k === 'const' && typeof n.v === 'number' ? n.v : undefined;
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

export function locationOf(file: string, node: A.Node): SourceLocation {
  return { file, line: node.range.start.line + 1, column: node.range.start.character + 1 };
}

/** A declaration's place in decisions (`reasons[].location`, `errors[].location`) and `rein doc`: its
 *  keyword (`rule`, `budget`, `extern`), after any annotations — INTERFACES §1's `column: 1` for a rule
 *  written at the start of its line. */
export function declLocation(file: string, decl: A.Decl): SourceLocation {
  const p = decl.head ?? decl.range.start;
  return { file, line: p.line + 1, column: p.character + 1 };
}

/** A checked `redact PATH using DETECTOR ["REPLACEMENT"]`: the path's keys and constant indexes
 *  below the input's root, the detector's name, the replacement text. */
function redactSpec(c: A.RedactEffect): RedactSpec {
  const path: (string | number)[] = [];
  const walk = (e: A.Expr | undefined): void => {
    if (e === undefined) return;
    if (e.kind === 'NameRef') {
      if (e.name.text !== 'input') path.push(e.name.text);
    } else if (e.kind === 'Member') {
      walk(e.object);
      if (e.property) path.push(e.property.text);
    } else if (e.kind === 'Index') {
      walk(e.object);
      const i = e.index;
      const n = i === undefined ? undefined : constIndex(i);
      if (n !== undefined) path.push(n);
      else if (i?.kind === 'String') path.push(i.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join(''));
    }
  };
  walk(c.path);
  const u = c.using;
  const detector = u?.kind === 'Member' && u.object.kind === 'NameRef' && u.property ? `${u.object.name.text}.${u.property.text}` : '';
  const replacement = c.message ? c.message.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : DEFAULT_REPLACEMENT;
  return { path, detector, replacement };
}

/** Whether values of type `t` are untyped JSON (`any`, and lists and maps of it): their numbers are
 *  the request's as sent (a typed `money`, `time` or `duration` is held in other units, and a typed
 *  `int` is not turned into a string). */
function untypedOnly(t: Type): boolean {
  switch (t.kind) {
    case 'any':
      return true;
    case 'list':
      return untypedOnly(t.elem);
    case 'map':
      return untypedOnly(t.value);
    case 'nullable':
      return untypedOnly(t.inner);
    default:
      return false;
  }
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
    case 'Redact':
      return 'warn'; // a placeholder: `redact` rules are placed by the redaction step (IrRule.redact)
    default:
      return 'deny';
  }
}

/** Lowers a checked program to the IR. */
export function lowerProgram(program: CheckedProgram): { ir: IrProgram; lowering: Lowering } {
  const lowering = new Lowering(program);
  return { ir: lowering.lowerProgram(), lowering };
}
