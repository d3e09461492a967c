// The Rein abstract syntax tree. Produced by `parse()` (language/syntax/parser.ts), consumed by the
// checker, formatter, compiler and language server. Pure data: no methods, no LSP types.
//
// Invariants:
// - every node has a `range` (0-based line/character plus absolute offsets, end exclusive);
// - a node the parser could not build (error recovery) is an `ErrorExpr` or is simply missing
//   (optional fields are `undefined`); the parser already reported a diagnostic for it;
// - lists keep source order, so the formatter can print what the author wrote.

import type { Position, Range } from '../diagnostics.js';

export interface Node {
  range: Range;
}

/** An identifier occurrence (declaration name, reference, field name, annotation name). */
export interface Name extends Node {
  kind: 'Name';
  text: string;
}

export interface Comment extends Node {
  /** `line` for `//`, `block` for `/* *\/`, `doc` for `///`. */
  kind: 'line' | 'block' | 'doc';
  /** Raw text including the comment markers. */
  text: string;
}

export interface SourceFile extends Node {
  kind: 'SourceFile';
  /** The file name as given to `parse` (relative path or URI). */
  file: string;
  decls: Decl[];
  /** Every comment in the file, in order (including `///` docs, which are also attached to decls). */
  comments: Comment[];
}

export interface Annotation extends Node {
  kind: 'Annotation';
  name: Name;
  /** `@name("value")`: the string literal; absent for a bare `@name`. */
  value?: StringLit;
}

interface DeclBase extends Node {
  /** The `///` block directly above the declaration, markers stripped, lines joined with `\n`. */
  doc?: string;
  annotations: Annotation[];
  /** Where the declaration's keyword (`rule`, `budget`, …) starts, when annotations put `range.start`
   *  before it; absent: `range.start`. A decision's `location` and `rein doc` name this place. */
  head?: Position;
}

export type Decl =
  | PolicyDecl
  | InputDecl
  | TypeDecl
  | LetDecl
  | DefDecl
  | ExternDecl
  | RuleDecl
  | BudgetDecl
  | TestDecl;

// ---------------------------------------------------------------- policy header

export interface PolicyDecl extends DeclBase {
  kind: 'PolicyDecl';
  name?: Name;
  items: PolicyItem[];
}

export type PolicyItem =
  | { kind: 'PolicyVersion'; value: StringLit; range: Range }
  | { kind: 'PolicyDefault'; effect: 'allow' | 'deny'; effectRange: Range; range: Range }
  | { kind: 'PolicyOnError'; effect: 'allow' | 'deny'; effectRange: Range; range: Range }
  | { kind: 'PolicyCurrency'; value: StringLit; range: Range }
  /** `combine ALGORITHM`: how rules combine (`deny_overrides`, the default, or `first_match`). */
  | { kind: 'PolicyCombine'; algorithm: Name; range: Range };

// ---------------------------------------------------------------- types

export interface InputDecl extends DeclBase {
  kind: 'InputDecl';
  fields: FieldDecl[];
}

export interface TypeDecl extends DeclBase {
  kind: 'TypeDecl';
  name?: Name;
  type?: TypeExpr;
}

export interface FieldDecl extends Node {
  kind: 'FieldDecl';
  /** The field name (any word, keywords included). */
  name: Name;
  optional: boolean;
  type?: TypeExpr;
  doc?: string;
}

export type TypeExpr = TypeName | ObjectTypeExpr | UnionTypeExpr;

/** `string`, `int`, `Action`, `list<Step>`, `map<any>`: resolved by the checker. */
export interface TypeName extends Node {
  kind: 'TypeName';
  name: Name;
  args: TypeExpr[];
}

export interface ObjectTypeExpr extends Node {
  kind: 'ObjectType';
  fields: FieldDecl[];
}

/** `"a" | "b" | "c"`. */
export interface UnionTypeExpr extends Node {
  kind: 'UnionType';
  members: StringLit[];
}

// ---------------------------------------------------------------- let / def / extern

export interface LetDecl extends DeclBase {
  kind: 'LetDecl';
  name?: Name;
  type?: TypeExpr;
  value?: Expr;
  /** `data NAME: TYPE from "file.json"`: a data document, a `let` whose value is the JSON file
   *  (docs/data.md); the path as written, relative to the declaring file. No `value`. */
  source?: StringLit;
}

export interface Param extends Node {
  kind: 'Param';
  name: Name;
  type?: TypeExpr;
}

export interface DefDecl extends DeclBase {
  kind: 'DefDecl';
  name?: Name;
  params: Param[];
  returnType?: TypeExpr;
  body?: Expr;
}

/** `extern def name(params): T [timeout D] [on error allow|deny]`: a function the host provides
 *  (docs/externs.md). */
export interface ExternDecl extends DeclBase {
  kind: 'ExternDecl';
  name?: Name;
  params: Param[];
  returnType?: TypeExpr;
  /** `timeout 200ms`. */
  timeout?: DurationLit;
  /** `on error deny` (the effect of a call that fails, times out or returns the wrong type). */
  onError?: { effect: 'allow' | 'deny'; range: Range };
}

// ---------------------------------------------------------------- rules

export interface Condition extends Node {
  kind: 'When' | 'Unless';
  expr?: Expr;
}

export type EffectClause = DenyEffect | ApprovalEffect | WarnEffect | AllowEffect | SetEffect | RedactEffect;

export interface DenyEffect extends Node {
  kind: 'Deny';
  message?: StringLit;
}
export interface ApprovalEffect extends Node {
  kind: 'RequireApproval';
  /** `from EXPR`: who approves (a string expression). */
  from?: Expr;
  /** `quorum N`: N distinct approvers must approve (default 1). */
  quorum?: { value: number; isInt: boolean; raw: string; range: Range };
  /** `expires DURATION`: an approval counts only for this long after it was given. */
  expires?: { ms: number; raw: string; range: Range };
  message?: StringLit;
}
export interface WarnEffect extends Node {
  kind: 'Warn';
  message?: StringLit;
}
export interface AllowEffect extends Node {
  kind: 'Allow';
  message?: StringLit;
}
/** (phase 2) `set PATH = EXPR [MSG]`. */
export interface SetEffect extends Node {
  kind: 'Set';
  path?: Expr;
  value?: Expr;
  message?: StringLit;
}
/** (phase 2) `redact PATH [using DETECTOR] [MSG]`. */
export interface RedactEffect extends Node {
  kind: 'Redact';
  path?: Expr;
  using?: Expr;
  message?: StringLit;
}

export interface RuleDecl extends DeclBase {
  kind: 'RuleDecl';
  name?: Name;
  /** Conditions and effect clauses in source order. A valid rule has exactly one effect clause. */
  body: (Condition | EffectClause)[];
}

// ---------------------------------------------------------------- budgets

export type WindowUnit = 'minute' | 'hour' | 'day' | 'week' | 'month';

export interface LimitClause extends Node {
  kind: 'Limit';
  amount?: Expr;
  /** `per minute` … `per month`, `per 15m` (a DurationLit), `per request`; absent: lifetime. */
  per?: { kind: 'Unit'; unit: WindowUnit; range: Range } | { kind: 'Request'; range: Range } | DurationLit;
  /** `per rolling 1h` (a sliding window): the `rolling` keyword. */
  rolling?: { range: Range };
  /** `per 30d anchored` (periods from the key's first charge): the `anchored` keyword. */
  anchored?: { range: Range };
  /** `burst 3 refill 1 per 1s` (a token bucket, written with `burst` instead of `limit`: `amount` is
   *  the burst): the `burst` keyword. */
  burst?: { range: Range };
  /** The token bucket's `refill` amount (what each `per` adds back). */
  refill?: Expr;
}
export interface ChargeClause extends Node {
  kind: 'Charge';
  expr?: Expr;
}
export interface ByClause extends Node {
  kind: 'By';
  keys: Expr[];
}
export interface WarnAtClause extends Node {
  kind: 'WarnAt';
  /** Usually a PercentLit. */
  threshold?: Expr;
}
export interface OnExceedClause extends Node {
  kind: 'OnExceed';
  effect?: EffectClause;
}

export type BudgetItem = LimitClause | ChargeClause | ByClause | Condition | WarnAtClause | OnExceedClause;

export interface BudgetDecl extends DeclBase {
  kind: 'BudgetDecl';
  name?: Name;
  items: BudgetItem[];
}

// ---------------------------------------------------------------- tests

export interface GivenItem extends Node {
  kind: 'Given';
  expr?: Expr;
}
export interface SpentItem extends Node {
  kind: 'Spent';
  budget?: Name;
  amount?: Expr;
  /** `spent b = 5 at "…"`: when the spend was made (an RFC 3339 string literal); absent: the test's time. */
  at?: StringLit;
}
export interface AtItem extends Node {
  kind: 'At';
  /** An RFC 3339 string literal. */
  time?: StringLit;
}
export interface ApprovedItem extends Node {
  kind: 'Approved';
  names: Name[];
}
export interface ExpectItem extends Node {
  kind: 'Expect';
  effect?: { value: 'allow' | 'deny' | 'require_approval'; range: Range };
  by: Name[];
  /** `with redact PATH, …` (the request paths the decision's transforms mask, exactly) or
   *  `with redact none` (`none: true`, no paths). */
  redact?: { paths: Expr[]; none: boolean; range: Range };
}
export interface ExpectWarningsItem extends Node {
  kind: 'ExpectWarnings';
  /** Empty with `none: true` for `expect warnings none`. */
  names: Name[];
  none: boolean;
}

/** `extern name(args) = value` (one argument list), `extern name = value` (any arguments), or
 *  `= error "why"` (the call fails): a test's stand-in for a host function. */
export interface ExternStubItem extends Node {
  kind: 'ExternStub';
  name?: Name;
  /** Undefined: the stub answers every call of `name`. */
  args?: Expr[];
  value?: Expr;
  /** `= error "message"`: the call fails with this message. */
  fails?: StringLit;
}

/** `data NAME = EXPR`: the test's value of a data document (docs/data.md). */
export interface DataOverrideItem extends Node {
  kind: 'DataOverride';
  name?: Name;
  value?: Expr;
}

export type TestItem = GivenItem | SpentItem | AtItem | ApprovedItem | ExpectItem | ExpectWarningsItem | ExternStubItem | DataOverrideItem;

export interface TestDecl extends DeclBase {
  kind: 'TestDecl';
  name?: StringLit;
  items: TestItem[];
}

// ---------------------------------------------------------------- expressions

export type Expr =
  | NumberLit
  | MoneyLit
  | DurationLit
  | PercentLit
  | StringLit
  | BoolLit
  | NullLit
  | ListExpr
  | ObjectExpr
  | NameExpr
  | MemberExpr
  | IndexExpr
  | CallExpr
  | LambdaExpr
  | UnaryExpr
  | BinaryExpr
  | IfExpr
  | ParenExpr
  | ErrorExpr;

export interface NumberLit extends Node {
  kind: 'Number';
  value: number;
  /** True when written without a fraction or exponent (`1_000`): an `int`. */
  isInt: boolean;
  raw: string;
}
export interface MoneyLit extends Node {
  kind: 'Money';
  /** Exact amount in micro-units (1 = 0.000001 currency units), a safe integer. */
  micros: number;
  raw: string;
}
export interface DurationLit extends Node {
  kind: 'Duration';
  /** Milliseconds. */
  ms: number;
  raw: string;
}
export interface PercentLit extends Node {
  kind: 'Percent';
  /** `80%` → 0.8 */
  value: number;
  raw: string;
}
/** A string literal; `parts` alternates text and `${expr}` interpolations. A plain string has one text part. */
export interface StringLit extends Node {
  kind: 'String';
  parts: (StringText | Interpolation)[];
  /** The literal as written, quotes included. */
  raw: string;
}
export interface StringText extends Node {
  kind: 'Text';
  /** Unescaped text. */
  value: string;
}
export interface Interpolation extends Node {
  kind: 'Interpolation';
  expr?: Expr;
}
export interface BoolLit extends Node {
  kind: 'Bool';
  value: boolean;
}
export interface NullLit extends Node {
  kind: 'Null';
}
export interface ListExpr extends Node {
  kind: 'List';
  items: Expr[];
}
export interface ObjectEntry extends Node {
  kind: 'Entry';
  /** The key: an identifier or any keyword word, or a string literal. */
  key: Name | StringLit;
  value?: Expr;
}
export interface ObjectExpr extends Node {
  kind: 'Object';
  entries: ObjectEntry[];
}
export interface NameExpr extends Node {
  kind: 'NameRef';
  name: Name;
}
export interface MemberExpr extends Node {
  kind: 'Member';
  object: Expr;
  /** Absent when the source stops at the dot (`action.`): kept so completion can work. */
  property?: Name;
}
export interface IndexExpr extends Node {
  kind: 'Index';
  object: Expr;
  index?: Expr;
}
/** `f(a)`, `obj.m(a)` (callee is a MemberExpr), `pii.email(s)`. */
export interface CallExpr extends Node {
  kind: 'Call';
  callee: Expr;
  args: Expr[];
}
export interface LambdaExpr extends Node {
  kind: 'Lambda';
  params: Name[];
  body?: Expr;
}
export interface UnaryExpr extends Node {
  kind: 'Unary';
  op: 'not' | '-';
  operand?: Expr;
}
export type BinaryOp =
  | 'or'
  | 'and'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | 'not in'
  | 'matches'
  | 'with'
  | '??'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%';
export interface BinaryExpr extends Node {
  kind: 'Binary';
  op: BinaryOp;
  opRange: Range;
  left: Expr;
  right?: Expr;
}
export interface IfExpr extends Node {
  kind: 'If';
  cond?: Expr;
  then?: Expr;
  else?: Expr;
}
export interface ParenExpr extends Node {
  kind: 'Paren';
  expr?: Expr;
}
/** Placeholder where the parser recovered from a syntax error. */
export interface ErrorExpr extends Node {
  kind: 'Error';
}

/** Result of `parse()`. Never throws. */
export interface ParseResult {
  ast: SourceFile;
  diagnostics: import('../diagnostics.js').Diagnostic[];
}
