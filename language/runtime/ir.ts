// The expression IR: what a checked program's expressions mean, lowered ONCE (lower.ts) and read by
// both backends — the closure backend (closures.ts: CSP-safe, the reference) and the JavaScript
// backend (codegen-rules.ts: generated code). Read fusion (`action.args.amount` is one `read` node),
// constant folding, name resolution (lets, defs, lambda slots) and the static-type decisions
// (money vs number arithmetic, scalar vs deep equality, rendering types) are done by the lowering,
// so a backend only maps nodes to code.
//
// The IR is plain data: no closures, no class instances, no AST references. `JSON.stringify` of an
// `IrProgram` and `reviveIr` of the parsed text give an equivalent program (`test/runtime/ir.test.ts`),
// so a prebuilt bundle can carry it and a backend can load it without the parser or the checker.
// `IR_VERSION` changes whenever a node's meaning or shape changes; `reviveIr` rejects other versions.
//
// Values in `const` nodes use the runtime representation (compiled.ts): money in micros, times and
// durations in ms, lists as arrays, objects as records. Only JSON-safe values are folded (finite
// numbers, strings, booleans, null, lists and records of them), so a constant survives a round trip.

import type { ListLoop, MapYield } from '../semantics/builtins.js';
import type { StringMethodName } from '../semantics/string-methods.js';
import type { Type } from '../semantics/types.js';
import type { ClauseEffect, SourceLocation, BudgetWindow } from './compiled.js';
import type { RedactSpec } from './transforms.js';
import type { IrExtern } from './externs.js';
import { newRecord } from './values.js';

// 2: extern calls, redact transforms, data-driven limits, window kinds (session 6); 3: list methods carry
// their loop (`listMethod.loop`), map methods what they yield, string methods on `any` their list loop;
// 4: `units` (a number from untyped data where money is needed), `.sum()` fails on a non-number
export const IR_VERSION = 4;

/** An input-rooted read of the validated request: `root.keys[0].keys[1]…` (fused into one node).
 *  `safe[i]`: the object read by step i is statically a record (object or map type), so it needs
 *  no shape check. */
export interface ReadNode {
  k: 'read';
  root: string;
  keys: string[];
  safe: boolean[];
  /** Set on the outermost read of an input-rooted chain in rule conditions: what explain records. */
  trace?: Trace;
}

/** What `explain` records for a read: its dotted path and static type (for the JSON rendering). */
export interface Trace {
  path: string;
  type?: Type;
}

export type ArithMode = 'money' | 'string' | 'list' | 'number' | 'duration';

export type Node =
  | { k: 'const'; v: unknown }
  | ReadNode
  /** The whole request. */
  | { k: 'input'; trace?: Trace }
  | { k: 'now' }
  /** A budget's view (`env.budgets[name]`, null when absent). */
  | { k: 'budget'; name: string }
  /** `.spent/.remaining/.limit/.used` of a budget view (a number or null). */
  | { k: 'budgetField'; obj: Node; key: string }
  /** A def parameter or lambda parameter, by frame slot. */
  | { k: 'slot'; i: number }
  /** A `let` that reads the request (index into `IrProgram.lets`). */
  | { k: 'let'; i: number }
  | { k: 'list'; items: Node[] }
  | { k: 'object'; keys: string[]; values: Node[] }
  /** An interpolated string: text parts and values rendered with their static type. */
  | { k: 'str'; parts: (string | { e: Node; type?: Type })[] }
  /** `obj.key` on a value that is not an input-rooted chain (generic member access). */
  | { k: 'member'; obj: Node; key: string; trace?: Trace }
  | { k: 'index'; obj: Node; index: Node; trace?: Trace }
  | { k: 'not'; x: Node }
  | { k: 'neg'; x: Node }
  | { k: 'and'; l: Node; r: Node }
  | { k: 'or'; l: Node; r: Node }
  | { k: 'if'; c: Node; t: Node; f: Node }
  /** `==`/`!=`: strict equality when either side is statically a scalar, else deep equality. */
  | { k: 'eq'; neg: boolean; scalar: boolean; l: Node; r: Node }
  | { k: 'cmp'; op: '<' | '<=' | '>' | '>='; l: Node; r: Node }
  | { k: 'in'; neg: boolean; l: Node; r: Node }
  | { k: 'matches'; l: Node; pattern: string; at: string }
  /** `s matches p` with a pattern not written out: `r` is a string or a list of strings (true when
   *  one matches), compiled when met; an invalid one is a rule error. */
  | { k: 'matchesAny'; l: Node; r: Node; at: string }
  | { k: 'with'; l: Node; r: Node }
  | { k: 'coalesce'; l: Node; r: Node }
  | { k: 'arith'; op: '+' | '-' | '*' | '/' | '%'; mode: ArithMode; l: Node; r: Node; at: string;
      /** `*` with money on the right (`n * $1`): the money operand is evaluated second but passed first. */
      moneyRight?: boolean;
      /** `/` of a duration by a non-duration: the quotient is rounded to whole ms. */
      roundQuotient?: boolean }
  /** Time and duration arithmetic must stay inside JavaScript's Date range (a rule error otherwise). */
  | { k: 'timeRange'; x: Node; kind: 'time' | 'duration'; at: string }
  /** An untyped value where money is needed (lower.ts `toMoney`). `scale`: its numbers are currency
   *  units (JSON as sent: the request, a data document) — a number becomes micros, exactly; a list's
   *  number elements too (`$5 in args.amounts`); any other value passes. `ambiguous`: lowering cannot
   *  tell units from micros (a def parameter, an extern's result, a mix) — a number is a rule error. */
  | { k: 'units'; x: Node; how: 'scale' | 'ambiguous'; at: string }
  | { k: 'call'; fn: 'len' | 'min' | 'max' | 'type_of' | 'hour' | 'weekday'; args: Node[] }
  /** A map method (`m.keys()`, `m.values()`, `m.entries()`): a list, in sorted key order. */
  | { k: 'mapMethod'; m: string; yields: MapYield; obj: Node; at: string }
  /** A def call: arguments go to slots 0…n−1 of a fresh frame of the def's size. */
  | { k: 'def'; i: number; args: Node[] }
  /** A host function (`extern def`), called through `env.externs` (externs.ts); never folded. */
  | { k: 'extern'; name: string; args: Node[] }
  /** A detector (`pii.email(s)`), by name. */
  | { k: 'detect'; name: string; arg: Node }
  /** A string method; `list`: on a receiver typed `any`, a method that is a list method too
   *  (`len`, `contains`) runs as that list method when the value is a list. */
  | { k: 'strMethod'; m: StringMethod; obj: Node; args: Node[]; at: string; list?: ListLoop }
  /** A list method `obj.m(…)`, run as its registry entry's `loop` says (semantics/builtins.ts
   *  `ListLoop`, copied here so the IR is self-contained); `body` and `slot` for a lambda
   *  (`xs.any(x => …)`), `arg` for a value argument (`xs.contains(a)`, evaluated before `obj`);
   *  `money`: the `add` step is exact money arithmetic. `m` names the method in error messages. */
  | ListMethodNode
  /** Evaluates to a run-time error (an expression the checker let through but that cannot run). */
  | { k: 'error'; message: string };

/** The string methods: the names of string-methods.ts's implementations (one list). */
export type StringMethod = StringMethodName;

export interface ListMethodNode {
  k: 'listMethod';
  m: string;
  loop: ListLoop;
  obj: Node;
  body?: Node;
  slot?: number;
  arg?: Node;
  money?: true;
  at: string;
}

/** A callable body (def or request-reading let) with its own frame. */
export interface IrBody {
  name: string;
  frameSize: number;
  body: Node;
}

export interface IrClause {
  kind: 'when' | 'unless';
  /** The clause's source text (explanations). */
  source: string;
  location: SourceLocation;
  expr: Node;
}

export interface IrRule {
  name: string;
  effect: ClauseEffect;
  monitor: boolean;
  annotations: Record<string, string | true>;
  location: SourceLocation;
  /** Frame slots the rule's lambdas use. */
  frameSize: number;
  clauses: IrClause[];
  message?: Node;
  /** `require approval from X`, and X's static type (rendered when not a string). */
  from?: Node;
  fromType?: Type;
  /** `require approval … quorum N` (absent: 1) and `expires D` (ms; absent: no limit). */
  quorum?: number;
  expiresMs?: number;
  /** A `redact` rule: what it masks. Evaluated after the other rules (compile.ts `redactHook`),
   *  never placed by its `effect` (`warn`, a placeholder). */
  redact?: RedactSpec;
}

export interface IrBudget {
  name: string;
  unit: 'money' | 'number';
  /** The constant limit (0 when `limitExpr` is set). */
  limit: number;
  /** A limit read from the request or data (`limit caps[team] ?? $50`), evaluated per request;
   *  `limitIsPlainOnMoney`: a plain number on a money budget (currency units). */
  limitExpr?: Node;
  limitIsPlainOnMoney?: boolean;
  /** A `warn at` read from the request or data, evaluated per request (a fraction). */
  warnAtExpr?: Node;
  window: BudgetWindow;
  warnAt?: number;
  effect: ClauseEffect;
  message?: Node;
  from?: Node;
  /** `on exceed require approval … quorum N` / `expires D` (as for rules). */
  quorum?: number;
  expiresMs?: number;
  annotations: Record<string, string | true>;
  monitor: boolean;
  location: SourceLocation;
  frameSize: number;
  whens: Node[];
  unlesses: Node[];
  /** Absent: the charge is NaN (rejected by the engine). */
  charge?: Node;
  /** A plain number charged to a money budget: currency units, converted to micros. */
  chargeIsPlainOnMoney: boolean;
  keys: Node[];
}

export interface IrProgram {
  version: typeof IR_VERSION;
  currency: string;
  lets: IrBody[];
  defs: IrBody[];
  rules: IrRule[];
  budgets: IrBudget[];
  /** Budgets that rules read (`x.used`), in first-read order. */
  budgetsReadByRules: string[];
  /** `extern def`s (absent when the set declares none). */
  externs?: IrExtern[];
}

/** The operands of a chain of `and`s: `when a and b` is `when a` + `when b` (same short-circuit,
 *  same `=== true` test). */
export function conjuncts(n: Node): Node[] {
  if (n.k === 'and') return [...conjuncts(n.l), ...conjuncts(n.r)];
  return [n];
}

/** Direct sub-nodes of a node. */
export function childNodes(n: Node): Node[] {
  switch (n.k) {
    case 'budgetField':
      return [n.obj];
    case 'list':
      return n.items;
    case 'object':
      return n.values;
    case 'str':
      return n.parts.flatMap((p) => (typeof p === 'string' ? [] : [p.e]));
    case 'member':
      return [n.obj];
    case 'index':
      return [n.obj, n.index];
    case 'not':
    case 'neg':
    case 'timeRange':
    case 'units':
      return [n.x];
    case 'and':
    case 'or':
    case 'eq':
    case 'cmp':
    case 'in':
    case 'with':
    case 'coalesce':
    case 'arith':
      return [n.l, n.r];
    case 'matches':
      return [n.l];
    case 'matchesAny':
      return [n.l, n.r];
    case 'if':
      return [n.c, n.t, n.f];
    case 'call':
    case 'def':
    case 'extern':
      return n.args;
    case 'detect':
      return [n.arg];
    case 'strMethod':
      return [n.obj, ...n.args];
    case 'mapMethod':
      return [n.obj];
    case 'listMethod':
      return [n.obj, ...(n.body ? [n.body] : []), ...(n.arg ? [n.arg] : [])];
    default:
      return [];
  }
}

/** A value a `const` node may hold: survives JSON (finite numbers, no -0, records and lists of them). */
export function isJsonSafe(v: unknown, depth = 0): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (typeof v !== 'object' || depth > 32) return false;
  if (Array.isArray(v)) return v.every((x) => isJsonSafe(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== null && Object.getPrototypeOf(proto) !== null && proto !== Object.prototype) return false;
  for (const k of Object.keys(v)) if (k === '__proto__' || !isJsonSafe((v as Record<string, unknown>)[k], depth + 1)) return false;
  return true;
}

/** A constant in the runtime representation: frozen lists, records without inherited members. */
function reviveValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return Object.freeze(v.map(reviveValue));
  const o = newRecord();
  for (const k of Object.keys(v)) o[k] = reviveValue((v as Record<string, unknown>)[k]);
  return o;
}

function reviveNode(n: Node): void {
  if (n.k === 'const') {
    n.v = reviveValue(n.v);
    return;
  }
  for (const c of childNodes(n)) reviveNode(c);
}

/**
 * An IR program from its JSON form (`JSON.parse(JSON.stringify(ir))`): checks the version and
 * restores the runtime representation of constants. Throws on another version.
 */
export function reviveIr(json: unknown): IrProgram {
  const p = json as IrProgram;
  if (typeof p !== 'object' || p === null || p.version !== IR_VERSION) {
    throw new Error(`rein IR: expected version ${IR_VERSION}, got ${JSON.stringify((p as { version?: unknown } | null)?.version ?? null)}`);
  }
  for (const b of [...p.lets, ...p.defs]) reviveNode(b.body);
  for (const r of p.rules) {
    for (const c of r.clauses) reviveNode(c.expr);
    if (r.message) reviveNode(r.message);
    if (r.from) reviveNode(r.from);
  }
  for (const b of p.budgets) {
    for (const n of [...b.whens, ...b.unlesses, ...b.keys]) reviveNode(n);
    if (b.charge) reviveNode(b.charge);
    if (b.limitExpr) reviveNode(b.limitExpr);
    if (b.warnAtExpr) reviveNode(b.warnAtExpr);
    if (b.message) reviveNode(b.message);
    if (b.from) reviveNode(b.from);
  }
  return p;
}
