// The compiler: a checked program → the expression IR (lower.ts, once) → closures (closures.ts) and,
// where `new Function` is allowed, generated JavaScript (codegen-rules.ts), and the `Policy` object
// with the synchronous, stateless `evaluate` (rules only).
//
// The closures never use `eval`/`new Function`, so they run under a strict Content-Security-Policy.
// On Node (by default) the hot path is also generated as JavaScript from the same IR (validation, and
// every rule's conditions in one function); `compile(…, { codegen: false })` forces the closures.
// Both give identical decisions (test/runtime/perf-codegen.test.ts, test/runtime/ir.test.ts).
//
// Explanations (`explain: true`) use a second closure compilation of the rule conditions that
// records input-rooted reads into the env of the explained evaluation (`TraceEnv`); it is built
// lazily on the first explain request, so the normal path never pays for it.

import type * as A from '../syntax/ast.js';
import type { Diagnostic } from '../diagnostics.js';
import type { CheckResult, CheckedProgram, PolicyHeader } from '../semantics/program.js';
import { hostApprovals, hostExplain, hostMode, hostNow, hostOptions } from './host-options.js';
import { failsOpen, failsUnmatched } from './effects.js';
import { PolicyError } from '../errors.js';
import type { BudgetView, ClauseExplanation, CompiledBudget, CompiledPolicy, DecisionError, Env, RuleOutcome } from './compiled.js';
import type { Approval, Decision, Reason } from './decision.js';
import { redactTransforms, type Transform } from './transforms.js';
import { assemble, Entries, ruleErrorReason, type Assembler } from './entries.js';
import { firstMatch, firstMatchRanks } from './combine.js';
import { canonicalJson, hashValue, sha256Hex } from './hash.js';
import { compileValidator, type Validator } from './validate.js';
import { useCodegen } from './codegen.js';
import { generateFused, generateRules, type DecideHelpers, type FusedEvaluate, type RuleGenHost } from './codegen-rules.js';
import { EvalError, newRecord, renderValue } from './values.js';
import { Closures, EMPTY_FRAME, frameOf, type Fn, type Frame, type TraceEnv } from './closures.js';
import { childNodes, conjuncts, type IrBudget, type IrProgram, type IrRule, type Node } from './ir.js';
import { Lowering } from './lower.js';
import { errorMessage, isScalarKind, typeOfValue } from './ops.js';
import type { Type } from '../semantics/types.js';
import { clock } from './clock.js';
import { loadData } from './data.js';
import { ExternCalls, ExternError, bindExterns, withCalls, type ExternImpls } from './externs.js';

export { emailDomain, toJsonValue } from './ops.js';
export type { IrProgram } from './ir.js';

const EXPLAIN = Object.freeze({ explain: true });
const NO_OUTCOMES: RuleOutcome[] = Object.freeze([]) as unknown as RuleOutcome[];

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
  /**
   * Implementations of the set's `extern def`s, by name (docs/externs.md). Checked here: a missing,
   * extra or non-function one throws `PolicyError` (REIN231). `policy.evaluate` calls synchronous
   * ones only (a Promise is a failed call); `Engine.decide` awaits asynchronous ones. May also be
   * given to the Engine instead.
   */
  externs?: ExternImpls;
  /**
   * The set's data files (`data NAME: TYPE from "file.json"`, docs/data.md) by name relative to the
   * set's root: JSON text or an already parsed value. Used when `compile` is given sources; a
   * CheckResult carries the data it was checked with.
   */
  data?: Record<string, unknown>;
}

// ---------------------------------------------------------------- rules

interface CompiledClause {
  kind: 'when' | 'unless';
  fn: Fn;
}

interface CompiledRule {
  ir: IrRule;
  name: string;
  whens: Fn[];
  unlesses: Fn[];
  clauses: CompiledClause[];
  message?: Fn;
  from?: Fn;
  frameSize: number;
  /** Shared immutable outcome for "did not match". */
  notMatched: RuleOutcome;
  /** What every "matched" outcome of the rule holds besides its message and approver (`matched: true`,
   *  its terms): the one place both backends build a matched outcome from (never handed out). */
  matched: RuleOutcome;
  /** Shared immutable outcome for "matched" when the message and approver are constants. */
  matchedConst?: RuleOutcome;
  /** Clauses recording their reads (explain), compiled lazily. */
  traced?: CompiledClause[];
}

const NULL_GROUP = '`require approval from` gave null: the approver group is unknown';

/** The approver group of `require approval from EXPR`: a string. null, or any other value (only an
 *  `any` value can be one: the checker refuses a typed one, REIN205), fails the rule or the budget
 *  (its `on error` effect) — never a group named `"5"` or `"[\"ops\"]"`. */
function groupOf(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) throw new EvalError(`${what}${NULL_GROUP}`);
  throw new EvalError(`${what}\`require approval from\` needs a string, got ${typeOfValue(v)}`);
}

function compileRule(cl: Closures, r: IrRule): CompiledRule {
  const { name, effect, monitor, annotations, location } = r;
  const clauses: CompiledClause[] = r.clauses.map((c) => ({ kind: c.kind, fn: cl.fn(c.expr) }));
  const message = r.message ? cl.fn(r.message) : undefined;
  let from: Fn | undefined;
  if (r.from) {
    const g = cl.fn(r.from);
    // A group that comes out null (or not a string) is not "any group": the rule fails (its `on error` effect).
    from = (env, f) => {
      try {
        return groupOf(g(env, f), '');
      } catch (e) {
        if (typeof e === 'object' && e !== null) approverErrors.add(e);
        throw e;
      }
    };
  }
  const notMatched: RuleOutcome = Object.freeze({ name, matched: false, effect, monitor, annotations, location }) as RuleOutcome;
  const matched: RuleOutcome = { name, matched: true, effect, monitor, annotations, location };
  termsOf(r, matched);
  // A constant message and approver: the matched outcome is the same object every time.
  let matchedConst: RuleOutcome | undefined;
  const constMessage = !r.message || (r.message.k === 'const' && typeof r.message.v === 'string');
  const constFrom = !r.from || (r.from.k === 'const' && (r.from.v === null || typeof r.from.v === 'string'));
  if (constMessage && constFrom) {
    const o: RuleOutcome = { ...matched };
    if (r.message) o.message = (r.message as { v: string }).v;
    if (r.from) o.from = (r.from as { v: string | null }).v as string;
    matchedConst = Object.freeze(o) as RuleOutcome;
  }
  return {
    ir: r,
    name,
    // `when a and b` is `when a` + `when b` (same short-circuit, same `=== true` test): one call less.
    whens: r.clauses.filter((c) => c.kind === 'when').flatMap((c) => conjuncts(c.expr).map((x) => cl.fn(x))),
    unlesses: clauses.filter((c) => c.kind === 'unless').map((c) => c.fn),
    clauses,
    message,
    from,
    frameSize: r.frameSize,
    notMatched,
    matched,
    matchedConst,
  };
}

/**
 * The redaction step of a policy with `redact` rules (undefined without): run by `assemble` on every
 * path (closures and generated code alike, `policy.evaluate` and the Engine). A matched rule adds its
 * transforms (enforce mode) or a `monitored` entry (`@monitor`, monitor mode); a failed one (its
 * condition, or its path deeper than the limit) counts with the `on error` effect, like any rule.
 * Budgets read in a `redact` rule's conditions read as unspent (the step runs without the store), with
 * their limit evaluated for the request.
 */
function redactStep(cl: Closures, ir: IrProgram, onError: 'allow' | 'deny', views: (input: Record<string, unknown>, now: number) => Env['budgets']): Assembler['redact'] {
  const rs = ir.rules.filter((r) => r.redact !== undefined).map((r) => compileRule(cl, r));
  if (rs.length === 0) return undefined;
  return (E, time, mode) => {
    const input = E.hashOf;
    if (input === undefined || input === null) return; // an invalid request: nothing to rewrite
    const now = typeof time === 'number' ? time : time.getTime();
    const env: Env = { input: input as Record<string, unknown>, now, budgets: views(input as Record<string, unknown>, now) };
    if (E.externs !== null) env.externs = E.externs;
    for (const r of rs) {
      let o = evalRule(r, env);
      let ts: Transform[] = [];
      if (o.matched && o.error === undefined) {
        try {
          ts = redactTransforms(r.name, r.ir.redact!, input);
        } catch (e) {
          o = failedOutcome(r, e);
        }
      }
      if (o.error !== undefined) {
        E.rule(o, onError);
        continue;
      }
      if (!o.matched) continue;
      if (mode === 'monitor' || o.monitor) {
        const reason: Reason = { kind: 'rule', name: r.name, effect: 'redact', message: null, annotations: o.annotations, location: o.location };
        if (E.monitored === null) E.monitored = [reason];
        else E.monitored.push(reason);
      } else if (ts.length > 0) {
        if (E.transforms === null) E.transforms = ts;
        else for (const t of ts) E.transforms.push(t);
      }
    }
  };
}

/** The outcome of a rule whose conditions hold (its message and approver evaluated). May throw. */
function matchedOutcome(r: CompiledRule, env: Env, frame: Frame): RuleOutcome {
  if (r.matchedConst) return r.matchedConst;
  const out: RuleOutcome = { ...r.matched };
  if (r.message) out.message = r.message(env, frame) as string;
  if (r.from) out.from = r.from(env, frame) as string;
  return out;
}

/** A rule's or budget's `quorum` / `expires` onto what it reports (only when written). */
function termsOf(r: { quorum?: number; expiresMs?: number }, into: { quorum?: number; expires_ms?: number }): void {
  if (r.quorum !== undefined) into.quorum = r.quorum;
  if (r.expiresMs !== undefined) into.expires_ms = r.expiresMs;
}

/** A failed rule's outcome; `effect`: the failure's own `on error` (a failed `extern def` call's,
 *  by default), null for the policy's. */
function failedOutcome(r: CompiledRule, e: unknown, effect: 'allow' | 'deny' | null = externEffect(e) ?? null): RuleOutcome {
  const ir = r.ir;
  const o: RuleOutcome = { name: ir.name, matched: true, effect: ir.effect, monitor: ir.monitor, annotations: ir.annotations, location: ir.location, error: errorMessage(e) };
  if (effect !== null) o.errorEffect = effect;
  return o;
}

/** The effect an extern's failure asks for, when `e` is one (never throwing: see ops.ts `thrownText`). */
function externEffect(e: unknown): 'allow' | 'deny' | undefined {
  try {
    return e instanceof ExternError ? e.effect : undefined;
  } catch {
    return undefined;
  }
}

function evalRule(r: CompiledRule, env: Env): RuleOutcome {
  const frame = frameOf(r.frameSize);
  try {
    const w = r.whens;
    for (let i = 0; i < w.length; i++) if (w[i](env, frame) !== true) return r.notMatched;
    const u = r.unlesses;
    for (let i = 0; i < u.length; i++) if (u[i](env, frame) === true) return r.notMatched;
  } catch (e) {
    return failedOutcome(r, e);
  }
  try {
    return matchedOutcome(r, env, frame);
  } catch (e) {
    return failedAfterMatch(r, e, env, frame);
  }
}

/** Errors thrown while a rule's approver (`from`) was evaluated (not its message). */
const approverErrors = new WeakSet<object>();

/** The conditions held and the message or approver failed.
 *  - The approver (`from`): who may approve is unknown, and the rule fails — with the policy's `on
 *    error`, also for an `extern def` failure with `on error allow` (an approval anyone could give, or
 *    none asked, would fail open).
 *  - The message: decorating a message never un-denies a rule. An `extern def` failure with `on error
 *    allow` leaves the rule standing without its message (`noteError`); any other failure is marked
 *    `afterMatch`, and the assembler lets the rule stand under the policy's `on error allow` (and
 *    fails it under `on error deny`, as any rule that fails). */
function failedAfterMatch(r: CompiledRule, e: unknown, env: Env, frame: Frame): RuleOutcome {
  const failed = failedOutcome(r, e);
  if (typeof e === 'object' && e !== null && approverErrors.has(e)) return failsUnmatched(failed) ? failedOutcome(r, e, null) : failed;
  // The message failed; the approver (evaluated after it) is still needed for a rule that stands.
  let from: string | undefined;
  if (r.from) {
    try {
      from = r.from(env, frame) as string;
    } catch (e2) {
      return failedAfterMatch(r, e2, env, frame);
    }
  }
  if (failsUnmatched(failed)) return from === undefined ? { ...r.matched, noteError: failed.error } : { ...r.matched, from, noteError: failed.error };
  failed.afterMatch = true;
  if (from !== undefined) failed.from = from;
  return failed;
}

/** All rules as one generated function (codegen-rules.ts), or undefined when generation fails. */
function generatedRules(cl: Closures, rules: CompiledRule[]): ((env: Env, all: boolean) => RuleOutcome[]) | undefined;
function generatedRules(cl: Closures, rules: CompiledRule[], decide: DecideHelpers, validate: Validator, inPlace?: boolean): FusedEvaluate | undefined;
function generatedRules(cl: Closures, rules: CompiledRule[], decide?: DecideHelpers, validate?: Validator, inPlace?: boolean): unknown {
  try {
    const genRules = rules.map((r) => ({
      rule: r.ir,
      notMatched: r.notMatched,
      matched: r.matched,
      failed: (e: unknown) => failedOutcome(r, e),
      afterMatch: (e: unknown, env: Env, frame: Frame) => failedAfterMatch(r, e, env, frame),
      from: r.from,
      matchedConst: r.matchedConst,
    }));
    const host: RuleGenHost = { closure: (n) => cl.fn(n), defs: cl.ir.defs };
    const helpers = {
      renderValue,
      currency: cl.ir.currency,
      slow: (env: Env, all: boolean) => {
        const out: RuleOutcome[] = [];
        for (const r of rules) {
          const o = evalRule(r, env);
          if (all || o.matched) out.push(o);
        }
        return out;
      },
    };
    if (decide && validate) {
      // The validator's own IR and closures, emitted into the fused function.
      return generateFused(host, genRules, helpers, decide, { validator: validate.emit, inPlace });
    }
    return generateRules(host, genRules, helpers);
  } catch {
    return undefined;
  }
}

function explainRule(traced: Closures, r: CompiledRule, env: Env): RuleOutcome {
  if (!r.traced) r.traced = r.ir.clauses.map((c) => ({ kind: c.kind, fn: traced.fn(c.expr) }));
  const clauses = r.traced;
  const frame = frameOf(r.frameSize);
  const ex: ClauseExplanation[] = r.ir.clauses.map((c) => ({ kind: c.kind, source: c.source, value: null, reads: [], location: c.location }));
  let matched = true;
  let error: string | undefined;
  let errorEffect: 'allow' | 'deny' | undefined;
  try {
    // Evaluate in source order, `when`s first semantics: stop at the first failing clause.
    const order = [...clauses.keys()].sort((a, b) => (clauses[a].kind === clauses[b].kind ? a - b : clauses[a].kind === 'when' ? -1 : 1));
    for (const i of order) {
      const c = clauses[i];
      // The reads of this clause go to its explanation (the env carries the list: no shared state).
      const tenv: TraceEnv = { input: env.input, now: env.now, budgets: env.budgets, externs: env.externs, reads: ex[i].reads };
      const v = c.fn(tenv, frame);
      ex[i].value = v === true;
      if (c.kind === 'when' ? v !== true : v === true) {
        matched = false;
        break;
      }
    }
  } catch (e) {
    error = errorMessage(e);
    errorEffect = externEffect(e);
  }
  const base = error === undefined && matched ? evalRule(r, env) : undefined;
  const ir = r.ir;
  const outcome: RuleOutcome = base
    ? { ...base }
    : error !== undefined
      ? { name: ir.name, matched: true, effect: ir.effect, monitor: ir.monitor, annotations: ir.annotations, location: ir.location, error, ...(errorEffect ? { errorEffect } : {}) }
      : { ...r.notMatched };
  outcome.explain = { name: ir.name, matched: outcome.matched && outcome.error === undefined, effect: ir.effect, clauses: ex };
  return outcome;
}

// ---------------------------------------------------------------- budgets

function compileBudget(cl: Closures, b: IrBudget): CompiledBudget {
  const name = b.name;
  const size = b.frameSize;
  const whens = b.whens.map((n) => cl.fn(n));
  const unlesses = b.unlesses.map((n) => cl.fn(n));
  const chargeFn: Fn = b.charge ? cl.fn(b.charge) : () => NaN;
  const chargeIsPlainOnMoney = b.chargeIsPlainOnMoney;
  const keyFns = b.keys.map((k) => cl.fn(k));
  const msgFn = b.message ? cl.fn(b.message) : undefined;
  const fromFn = b.from ? cl.fn(b.from) : undefined;
  const frame = () => frameOf(size);

  const wrap = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new EvalError(`budget \`${name}\` ${what}: ${errorMessage(e)}`);
    }
  };

  const out: CompiledBudget = {
    name,
    unit: b.unit,
    limit: b.limit,
    window: b.window,
    warnAt: b.warnAt,
    onExceed: {
      effect: b.effect,
      from: fromFn
        ? (env: Env) => {
            const v = wrap('approver', () => fromFn(env, frame()));
            return groupOf(v, `budget \`${name}\` approver: `);
          }
        : undefined,
      message: msgFn ? (env: Env) => wrap('message', () => msgFn(env, frame()) as string) : undefined,
    },
    annotations: b.annotations,
    monitor: b.monitor,
    location: b.location,
    applies(env: Env): boolean {
      const f = frame();
      for (const w of whens) if (w(env, f) !== true) return false;
      for (const u of unlesses) if (u(env, f) === true) return false;
      return true;
    },
    charge(env: Env): number {
      const v = chargeFn(env, frame());
      if (typeof v !== 'number') {
        // Say what it was (it used to read "charge is NaN"): null is an absent optional field.
        if (v === null || v === undefined) throw new EvalError(`the charge is null (an absent optional field? give it a default with \`??\`: \`?? ${b.unit === 'money' ? '$0' : '0'}\`)`);
        throw new EvalError(`the charge is not a number (${Array.isArray(v) ? 'a list' : typeof v})`);
      }
      return chargeIsPlainOnMoney ? Math.round(v * 1_000_000) : v;
    },
    key(env: Env): unknown[] {
      const f = frame();
      // A loop, not `map`: no closure per call.
      const n = keyFns.length;
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = keyFns[i]!(env, f);
        out[i] = v === undefined ? null : v;
      }
      return out;
    },
  };
  if (b.limitExpr) {
    const limitFn = cl.fn(b.limitExpr);
    const plain = b.limitIsPlainOnMoney === true;
    out.limitOf = (env: Env): number => {
      const v = limitFn(env, frame());
      if (v === null || v === undefined) throw new EvalError('the limit is null (give a default with `??`, e.g. `caps[team] ?? $50`)');
      if (typeof v !== 'number') throw new EvalError(`the limit is not a number (${typeof v})`);
      if (!Number.isFinite(v)) throw new EvalError('the limit is not finite');
      if (v < 0) throw new EvalError(`the limit is negative (${plain || b.unit !== 'money' ? v : v / 1_000_000})`);
      // Counters hold whole units (micros for money): a fraction is rounded down (2.5 calls: 2).
      const whole = Math.floor(plain ? Math.round(v * 1_000_000) : v);
      if (!Number.isSafeInteger(whole)) throw new EvalError(`the limit is too large (${plain || b.unit !== 'money' ? v : v / 1_000_000})`);
      return whole;
    };
  }
  if (b.warnAtExpr) {
    const warnFn = cl.fn(b.warnAtExpr);
    out.warnAtOf = (env: Env): number | undefined => {
      const v = warnFn(env, frame());
      if (v === null || v === undefined) return undefined; // no warning threshold for this request
      if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new EvalError(`\`warn at\` must be between 0% and 100%, found ${typeof v === 'number' ? `${v * 100}%` : typeof v}`);
      return v;
    };
  }
  termsOf(b, out.onExceed);
  return out;
}

// ---------------------------------------------------------------- policy hash

/** `sha256:` over the set's files (sorted by name): their ASTs with positions as offsets, so any
 *  edit (including comments and layout) changes the hash, while the same sources always hash the same. */
function policyHash(program: CheckedProgram, sources?: Record<string, string>): string {
  // Data documents are part of the policy: their files' values follow the sources.
  const data = program.data ? canonicalJson(program.data.map((d) => [d.file, d.value ?? null])) : '';
  if (sources) {
    const names = Object.keys(sources).sort();
    return sha256Hex(canonicalJson(names.map((n) => [n, sources[n]])) + data);
  }
  const files = [...program.files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const text = JSON.stringify(files, (key, value) => {
    if ((key === 'range' || key === 'effectRange' || key === 'opRange') && value && typeof value === 'object' && 'start' in value) {
      return [value.start.offset, value.end.offset];
    }
    return value;
  });
  return sha256Hex(text + data);
}

/**
 * Whether the rules may read the request in place (validate-js.ts `inPlaceNodes`): nothing in them
 * sees more of an object than its declared fields' values, where a request's own object and its
 * validated record differ (key order, prototype). Not with `redact` rules, `with`, detectors, the
 * whole `input`, or text made of (or an approver that is) anything but scalars and lists of them.
 */
function readsInPlace(ir: IrProgram): boolean {
  const flat = (t: Type | undefined): boolean => {
    const u = t?.kind === 'nullable' ? t.inner : t;
    return isScalarKind(u?.kind) || (u?.kind === 'list' && flat(u.elem));
  };
  const ok = (n: Node | undefined): boolean => {
    if (n === undefined) return true;
    if (n.k === 'with' || n.k === 'detect' || n.k === 'input' || n.k === 'extern') return false;
    if (n.k === 'str' && n.parts.some((p) => typeof p !== 'string' && !flat(p.type))) return false;
    return childNodes(n).every(ok);
  };
  return (
    ir.rules.every((r) => r.redact === undefined && (r.from === undefined || flat(r.fromType)) && r.clauses.every((c) => ok(c.expr)) && ok(r.message) && ok(r.from)) &&
    ir.lets.every((l) => ok(l.body)) &&
    ir.defs.every((d) => ok(d.body))
  );
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
  /** Synchronous, stateless: rules only (budgets are ignored; budget views read as empty, with the
   *  limit evaluated for the request). Never throws on bad input. */
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
  // A set checked without its data documents (`check(files)` type-checks them only): read them from
  // `options.data` now, or fail with REIN251 — never compile a document as null (a deny-list would deny nothing).
  const p = result.program;
  if (p.data?.some((d) => !('value' in d))) {
    const missing = loadData(p, options.data ?? {}, (doc) => p.declFile.get(doc.decl) ?? '');
    if (missing.length > 0) throw new PolicyError('the policy set has errors', [...result.diagnostics, ...missing]);
  }
  return compileChecked(result.program, options.sources, options.codegen, options.externs);
}

function compileChecked(program: CheckedProgram, sources?: Record<string, string>, codegen?: boolean, externImpls?: ExternImpls): Policy {
  // Expressions are lowered once; both backends read the IR.
  const lowering = new Lowering(program);
  const ir: IrProgram = lowering.lowerProgram();
  const externs = bindExterns(program, ir, externImpls, 'compile');
  const closures = new Closures(ir);
  // `redact` rules run in the redaction step (every path, both backends: `redactStep`), the others here.
  const rules = ir.rules.filter((r) => r.redact === undefined).map((r) => compileRule(closures, r));
  const budgets = ir.budgets.map((b) => compileBudget(closures, b));
  const generate = useCodegen(codegen);
  const validate = compileValidator(program.inputType, { codegen: generate });
  const fastRules = generate ? generatedRules(closures, rules) : undefined;
  const header = program.header;
  const hash = policyHash(program, sources);
  let traced: Closures | undefined;

  // `combine first_match`: the rules' outcomes pass through `firstMatch` (combine.ts); not fused.
  const ranks = header.combine === 'first_match' ? firstMatchRanks(ir.rules.map((r) => ({ name: r.name, annotations: r.annotations, file: r.location.file }))) : null;

  const evaluateAll = (env: Env, opts?: { explain?: boolean }): RuleOutcome[] => {
    const out = new Array<RuleOutcome>(rules.length);
    if (opts?.explain) {
      traced ??= new Closures(ir, true);
      for (let i = 0; i < rules.length; i++) out[i] = explainRule(traced, rules[i], env);
    }
    else if (fastRules) return fastRules(env, true);
    else for (let i = 0; i < rules.length; i++) out[i] = evalRule(rules[i], env);
    return out;
  };

  const evaluateRules = ranks === null ? evaluateAll : (env: Env, opts?: { explain?: boolean }) => firstMatch(evaluateAll(env, opts), ranks, true, failsOpen(header.onError));

  /** Outcomes of the rules that matched or failed (what a decision is assembled from). */
  const matchedOnly: (env: Env) => RuleOutcome[] = fastRules
    ? (env) => fastRules(env, false)
    : (env) => {
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
  const evaluateMatched = ranks === null ? matchedOnly : (env: Env) => firstMatch(matchedOnly(env), ranks, false, failsOpen(header.onError));

  const budgetsReadByRules = [...ir.budgetsReadByRules];
  // Stateless evaluation: budgets read by rules look empty (nothing spent).
  const emptyViews: Record<string, BudgetView> = Object.create(null);
  for (const b of budgets) {
    if (budgetsReadByRules.includes(b.name)) emptyViews[b.name] = Object.freeze({ spent: 0, remaining: b.limit, limit: b.limit, used: 0 });
  }
  // Budgets read by rules whose limit comes from the request or data (`limitOf`): their stateless view
  // shows the limit evaluated for each request; one that fails to evaluate has no view (it reads as
  // null), as with the Engine.
  const dataLimited = budgets.filter((b) => b.limitOf !== undefined && budgetsReadByRules.includes(b.name));
  const viewsFor = (input: Record<string, unknown>, now: number): Env['budgets'] => {
    if (dataLimited.length === 0) return emptyViews;
    const views: Record<string, BudgetView> = Object.assign(Object.create(null), emptyViews);
    const env: Env = { input, now, budgets: views };
    for (const b of dataLimited) {
      try {
        const limit = b.limitOf!(env);
        views[b.name] = { spent: 0, remaining: limit, limit, used: 0 };
      } catch {
        delete views[b.name];
      }
    }
    return views;
  };

  // Test expressions (`given`, `spent`): lowered on first use, cached per expression.
  const exprCache = new WeakMap<A.Expr, { fn: Fn; size: number }>();
  const evaluateExpr = (expr: A.Expr, env?: Env): unknown => {
    let c = exprCache.get(expr);
    if (!c) {
      const file = program.files.find((f) => f.range.start.offset <= expr.range.start.offset && expr.range.end.offset <= f.range.end.offset)?.file ?? '';
      const scope = lowering.newScope(file);
      c = { fn: closures.fn(lowering.expr(expr, scope)), size: scope.size };
      exprCache.set(expr, c);
    }
    const e: Env = env ?? { input: newRecord(), now: 0, budgets: Object.create(null) };
    return c.fn(e, frameOf(c.size));
  };

  const compiled: CompiledPolicy = {
    ir,
    externs: externs ?? undefined,
    header,
    hash,
    program,
    validate,
    budgets,
    budgetsReadByRules,
    evaluateRules,
    evaluateExpr,
  };
  // The decisions' `policy`: one frozen object per compiled policy, shared (docs/evaluation.md).
  const policyInfo: { name: string; version: string | null; hash: string } = Object.freeze({ name: header.name, version: header.version ?? null, hash });
  const onError = header.onError;
  const redact = redactStep(closures, ir, onError, viewsFor);
  if (redact !== undefined) compiled.redact = redact;
  const enforce: Assembler = { policy: policyInfo, defaultEffect: header.default, mode: 'enforce' };
  const monitor: Assembler = { policy: policyInfo, defaultEffect: header.default, mode: 'monitor' };
  if (redact !== undefined) enforce.redact = monitor.redact = redact;
  /** The decision of rules only (enforce mode, no approvals) from their matched/failed outcomes. */
  const rulesDecision = (outcomes: readonly RuleOutcome[], input: Record<string, unknown>, now: number, calls?: ExternCalls): Decision => {
    const E = new Entries(input, now);
    if (calls !== undefined) E.externs = calls;
    E.rules(outcomes, onError);
    return assemble(E, enforce, now);
  };
  // Validation, rules and decision in one generated function (enforce mode, no approvals, no
  // explanation): the common case of `policy.evaluate`, and the engine's.
  const decideHelpers: DecideHelpers = {
    onError,
    errorReason: ruleErrorReason,
    finish: (E: Entries, _input: Record<string, unknown>, now: number) => assemble(E, enforce, now),
  };
  // Host functions need a per-decision call context (and set failed rules' effects): no fused path;
  // neither for `combine first_match` (ranks).
  // Not fused under `on error allow` when a rule's message or approver is computed: a failure there
  // after the conditions held lets the rule stand (`failedAfterMatch`), which the fused body does not do.
  const fusable = !failsOpen(header.onError) || rules.every((r) => r.matchedConst !== undefined);
  const fused = ranks === null && generate && fastRules !== undefined && externs === null && fusable ? generatedRules(closures, rules, decideHelpers, validate) : undefined;
  if (fused !== undefined) compiled.fused = fused;
  // The fused function takes the views before it validates: not for limits read from the request.
  // `policy.evaluate` has its own, validating in place (made on first use) when no rule can tell a
  // request's own object from its validated record (`readsInPlace`); the engine keeps the copying one.
  let fusedEvaluate: FusedEvaluate | undefined | null = dataLimited.length > 0 || fused === undefined ? undefined : readsInPlace(ir) ? null : fused;

  const finishRules = decideHelpers.finish;
  const evaluate = (request: unknown, options?: EvaluateOptions | null): Decision => {
    const opts = options === undefined ? undefined : hostOptions(options, 'evaluate');
    let now: number;
    let mode: 'enforce' | 'monitor' | undefined;
    let approvals: readonly Approval[] | undefined;
    if (opts === undefined) now = clock();
    else {
      // Host options are read once and checked: a bad one is a TypeError naming it.
      const nowOpt = opts.now;
      now = nowOpt === undefined || nowOpt === null ? clock() : hostNow(nowOpt, 'evaluate');
      mode = hostMode(opts.mode, 'evaluate');
      hostExplain(opts.explain, 'evaluate');
      approvals = hostApprovals(opts, 'evaluate');
    }
    // Whether the quick validator has already rejected the request (then only the reporting one is left).
    let quickFailed = false;
    if (opts === undefined || (opts.explain !== true && (mode === undefined || mode === 'enforce') && (approvals === undefined || approvals.length === 0))) {
      // The common case: enforce mode, no approvals, no explanation. Valid request → rules → the
      // decision, without the general assembly (same decision: test/runtime/perf-codegen.test.ts).
      if (fusedEvaluate === null) fusedEvaluate = generatedRules(closures, rules, decideHelpers, validate, true) ?? fused;
      if (fusedEvaluate !== undefined) {
        let d: Decision | undefined;
        if (fusedEvaluate === fused) d = fused(request, now, emptyViews, finishRules);
        else {
          // In place, what a hostile object throws may leave the rules' catch (its `message` a getter
          // that throws): then, as for what the in-place check leaves to a copy (an extra field
          // holding a list, say), the copying function decides.
          try {
            d = fusedEvaluate(request, now, emptyViews, finishRules);
          } catch {
            d = undefined;
          }
          d ??= fused!(request, now, emptyViews, finishRules);
        }
        if (d !== undefined) return d;
      } else {
        const input = validate.quick(request);
        if (input !== undefined) {
          if (externs !== null) {
            const calls = new ExternCalls(externs, 'sync');
            return withCalls(rulesDecision(evaluateMatched({ input, now, budgets: viewsFor(input, now), externs: calls }), input, now, calls), calls);
          }
          const env: Env = { input, now, budgets: viewsFor(input, now) };
          return rulesDecision(evaluateMatched(env), input, now);
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
    // an approval's `expires` counts from the time it was given to this decision's now
    const E = new Entries(input, now, approvals);
    if (errors !== undefined) E.failRequest(errors, onError);
    if (explain) E.explain = [];
    const calls = externs !== null && input !== undefined ? new ExternCalls(externs, 'sync') : undefined;
    if (calls !== undefined) E.externs = calls;
    if (input !== undefined) {
      const env: Env = { input, now, budgets: viewsFor(input, now) };
      if (calls) env.externs = calls;
      // Only matched and failed rules make a decision (unless explaining): fewer outcomes to place.
      E.rules(explain ? evaluateRules(env, EXPLAIN) : evaluateMatched(env), onError);
    }
    const d = assemble(E, mode === 'monitor' ? monitor : enforce, now);
    return calls ? withCalls(d, calls) : d;
  };

  return {
    name: header.name,
    version: header.version ?? null,
    hash,
    header,
    compiled,
    evaluate,
    // With host functions or `first_match` there is no fused function, but the rules are generated.
    codegen: validate.generated && fastRules !== undefined && (fused !== undefined || ranks !== null || externs !== null),
    requestHash(request: unknown): string | null {
      const v = validate(request);
      return v.ok ? hashValue(v.value) : null;
    },
  };
}
