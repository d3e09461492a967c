// The contract between the compiler (language/runtime/compile.ts: rules, expressions, input
// validation, decision assembly) and the engine (language/runtime/engine.ts: budgets, stores,
// approvals, settle). Types only.
//
// Runtime value representation (shared by every part of the evaluator):
// - string → JS string; int/number → JS number; bool → boolean; null/absent → null
// - money → JS number holding an INTEGER count of micro-units (1 = 0.000001); always a safe integer
// - duration → JS number of milliseconds; time → JS number, milliseconds since the Unix epoch (UTC)
// - list → array; object/map → a record without inherited members (values.ts `newRecord`: its prototype
//   is a frozen, empty, null-prototype object, so `__proto__`/`constructor` are ordinary keys or absent;
//   validated input never has `__proto__` effects). Use values.ts `isPlainObject` to test for one.
// The static type (from the checker) tells money from number where it matters (rendering, JSON).

import type { CheckedProgram, PolicyHeader } from '../semantics/program.js';
import type { Expr, WindowUnit } from '../syntax/ast.js';
import type { Decision } from './decision.js';
import type { Entries } from './entries.js';
import type { IrProgram } from './ir.js';
import type { BoundExterns, ExternCalls } from './externs.js';

export type Effect = 'allow' | 'deny' | 'require_approval';
export type ClauseEffect = 'deny' | 'require_approval' | 'warn' | 'allow';

export interface SourceLocation {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** A run-time or validation error as it appears in a decision's `errors`. */
export interface DecisionError {
  /** `input` (validation), `rule`, `budget`, `store`, `approval`. */
  kind: 'input' | 'rule' | 'budget' | 'store' | 'approval';
  message: string;
  /** JSON path into the request, e.g. `$.action.args.amount` (input errors). */
  path?: string;
  /** What the schema expected, e.g. `money`, `"tool_call" | "model_call"` (input errors). */
  expected?: string;
  /** Rule or budget name (run-time errors). */
  name?: string;
  location?: SourceLocation;
}

/** What a budget looks like to rules (`team_daily.used`): values for this request's key, before its charge. */
export interface BudgetView {
  /** Same unit as the limit (micros for money). */
  spent: number;
  remaining: number;
  limit: number;
  /** (spent + reserved) / limit, a fraction. */
  used: number;
}

/** The last step of a fused evaluation (`CompiledPolicy.fused`): the rules' entries (entries.ts
 *  `Entries`, filled in place by the generated code), the validated request, the time, the env the
 *  rules ran on, and the request as given. */
export type FusedFinish = (entries: Entries, input: Record<string, unknown>, now: number, env: Env, request: unknown) => Decision;

/** Everything an expression can read at decision time. */
export interface Env {
  /** The validated request. */
  input: Record<string, unknown>;
  /** Evaluation time, ms since epoch. */
  now: number;
  /** Budget views by budget name (only budgets that rules read need to be present). */
  budgets: Record<string, BudgetView>;
  /** The host-function calls of this decision (externs.ts; absent when the set declares none). */
  externs?: ExternCalls;
}

/** One clause's value in an explanation. */
export interface ClauseExplanation {
  kind: 'when' | 'unless';
  /** The clause's source text. */
  source: string;
  /** Its value (`true`/`false`), or null when it errored or was not evaluated (short-circuited). */
  value: boolean | null;
  /** Input paths the clause read (e.g. `action.tool`) and the values seen. */
  reads: { path: string; value: unknown }[];
  location: SourceLocation;
}

export interface RuleExplanation {
  name: string;
  matched: boolean;
  effect: ClauseEffect;
  clauses: ClauseExplanation[];
}

export interface RuleOutcome {
  name: string;
  /** True when every `when` holds and no `unless` holds (or the rule errored). */
  matched: boolean;
  effect: ClauseEffect;
  /** `@monitor` on the rule. */
  monitor: boolean;
  /** Interpolated message (undefined when none). */
  message?: string;
  /** `require approval from X`: X's value. */
  from?: string;
  /** `require approval … quorum N` (N > 1) / `expires D` (ms), when written. */
  quorum?: number;
  expires_ms?: number;
  annotations: Record<string, string | true>;
  location: SourceLocation;
  /** Set when evaluation failed at run time (the rule then counts as matched with the `on error` effect). */
  error?: string;
  /** The effect of the failure when an `extern def` call failed (its `on error`, deny by default),
   *  instead of the policy's `on error`. */
  errorEffect?: 'allow' | 'deny';
  /** The rule matched, and its message or approver failed in an `extern def` call with `on error
   *  allow`: the rule stands with its effect and no message, and this failure goes into `errors`
   *  (decorating a message must never un-deny a rule whose conditions held). */
  noteError?: string;
  /** The conditions held and the message failed (not an `extern def` with `on error allow`: that is
   *  `noteError`): under the policy's `on error allow` the rule stands with its effect (decorating a
   *  message never un-denies a rule); under `on error deny` it fails as any rule does. */
  afterMatch?: true;
  explain?: RuleExplanation;
}

export interface BudgetWindow {
  /** `rolling`: a sliding window of `ms` (`per rolling 1h`), counted in sub-buckets (windows.ts);
   *  `bucket`: a token bucket holding `limit`, refilled by `refill` every `ms` (`burst 3 refill 1 per
   *  1s`); `anchored`: periods of `ms` starting at the key's first charge (`per 30d anchored`). */
  kind: 'lifetime' | 'request' | 'fixed' | 'rolling' | 'bucket' | 'anchored';
  /** For `fixed`: a calendar unit … */
  unit?: WindowUnit;
  /** … or a duration in ms (`per 15m`); the window length (`rolling`), refill period (`bucket`) or
   *  period (`anchored`). */
  ms?: number;
  /** For `bucket`: what one refill period adds back (the budget's unit; micros for money). */
  refill?: number;
}

export interface CompiledBudget {
  name: string;
  unit: 'money' | 'number';
  /** In the budget's unit (micros for money). For a limit read from the request (`limitOf`): 0. */
  limit: number;
  /** A limit read from the request or data, per request (budgets.ts `BudgetPlan.limit`). Throws on
   *  a null, negative or non-finite limit (the plan's error: fail closed). */
  limitOf?(env: Env): number;
  window: BudgetWindow;
  /** Fraction (0.8 for `warn at 80%`). */
  warnAt?: number;
  /** A `warn at` read from the request or data (a fraction, or undefined for none); throws when out of range. */
  warnAtOf?(env: Env): number | undefined;
  onExceed: { effect: ClauseEffect; from?: (env: Env) => string | null; message?: (env: Env) => string; quorum?: number; expires_ms?: number };
  annotations: Record<string, string | true>;
  monitor: boolean;
  location: SourceLocation;
  /** `when`/`unless` clauses hold. Throws on a run-time error (caller turns it into a decision error). */
  applies(env: Env): boolean;
  /** The charge in the budget's unit. May return NaN/negative/Infinity: the caller must reject those. */
  charge(env: Env): number;
  /** The `by` tuple (empty for a global counter). */
  key(env: Env): unknown[];
}

export interface CompiledPolicy {
  header: PolicyHeader;
  /** `sha256:<hex>` over the canonical set of sources. */
  hash: string;
  program: CheckedProgram;
  /** Validate and normalise a request (money → micros, time → ms). Never throws. */
  validate(request: unknown): { ok: true; value: Record<string, unknown> } | { ok: false; errors: DecisionError[] };
  /** Validation, rules and the decision in one generated function (codegen only; see codegen-rules.ts
   *  `generateFused`): the decision, or undefined for a request the quick validator rejects. */
  fused?: (request: unknown, now: number, views: Env['budgets'], finish: FusedFinish) => Decision | undefined;
  /** The `redact` rules' step (compile.ts `redactStep`), for every `Assembler` of this policy; absent without `redact` rules. */
  redact?: (E: Entries, time: number | Date, mode: 'enforce' | 'monitor') => void;
  budgets: CompiledBudget[];
  /** The program's expressions lowered once (ir.ts): plain, versioned, JSON-serialisable data both
   *  backends compile from (absent in hand-written test doubles). */
  ir?: IrProgram;
  /** The `extern def`s with the implementations given to `compile` (absent when the set declares none). */
  externs?: BoundExterns;
  /** Names of budgets that rules read (`x.used` …): the engine must put their views in `env.budgets`. */
  budgetsReadByRules: string[];
  /** Evaluate every rule. Never throws: a failing rule is an outcome with `error`. */
  evaluateRules(env: Env, opts?: { explain?: boolean }): RuleOutcome[];
  /**
   * Evaluate one expression of this program outside a rule: a test's `given` request or `spent`
   * amount (lets and defs in scope, runtime representation as above: money in micros). `env` defaults
   * to an empty input at time 0. Throws on a run-time error. Used by the test runner (additive; the
   * runner reports every test as failed with a clear message when a compiler lacks it).
   */
  evaluateExpr?(expr: Expr, env?: Env): unknown;
}
