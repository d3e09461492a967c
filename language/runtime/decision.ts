// The decision (INTERFACES §1): its types (the zod schema: decision-schema.ts), and `assembleDecision`, the ONE
// function that turns rule outcomes, budget outcomes, approvals and errors into a decision
// (LANGUAGE §5 steps 4–5). Used by `policy.evaluate` (no budgets) and by the engine (budgets).

import type { ClauseEffect, DecisionError, Effect, FusedFinish, RuleExplanation, RuleOutcome, SourceLocation } from './compiled.js';
import { formatMicros } from './money.js';
import { hashValue } from './hash.js';

type Location = { file: string; line: number; column: number };

/** One entry of `reasons`, `warnings` and `monitored`. */
export interface Reason {
  kind: 'rule' | 'budget' | 'default' | 'error';
  /** Rule or budget name (absent for `default` and for request-level errors). */
  name?: string;
  /** The entry's own effect (for `reasons`, always the decision's effect). */
  effect: 'allow' | 'deny' | 'require_approval' | 'warn';
  message: string | null;
  annotations?: Record<string, string | true>;
  location?: Location;
  /** Set on a `require approval` rule/budget whose approval was granted (it then counts as `allow`). */
  approved?: boolean;
  /** With a verified approval token (Engine `approvalKeys`): who approved, as a member of which group. */
  approved_by?: { approver: string; group: string | null };
}

/** A pending approval: who must approve what. */
export interface ApprovalRequest {
  kind: 'rule' | 'budget';
  name: string;
  from: string | null;
  message: string | null;
  location?: Location;
}

/** One budget the request was charged against. Money as a 6-fractional-digit decimal string; counts as numbers. */
export interface BudgetEntry {
  name: string;
  key: unknown[];
  limit: string | number;
  spent: string | number;
  reserved: string | number;
  charge: string | number;
  remaining: string | number;
  window: { start: string; end: string } | null;
  exceeded: boolean;
  warned: boolean;
}

/** The decision (docs/evaluation.md): the same JSON from the API, `rein eval` and the decision log. */
export interface Decision {
  effect: 'allow' | 'deny' | 'require_approval';
  reasons: Reason[];
  approvals: ApprovalRequest[];
  warnings: Reason[];
  monitored: Reason[];
  budgets: BudgetEntry[];
  errors: {
    kind: 'input' | 'rule' | 'budget' | 'store' | 'approval';
    message: string;
    path?: string;
    expected?: string;
    name?: string;
    location?: Location;
  }[];
  /** Set by the engine when budget charges were reserved (effect `allow`, enforce mode). */
  reservation: { id: string; expires: string } | null;
  policy: { name: string; version: string | null; hash: string };
  /** SHA-256 of the canonical JSON of the validated request; null only when the request could not be hashed (e.g. cyclic). */
  request_hash: string | null;
  time: string;
  /** `enforce` or `monitor` (dry run: the effect is always `allow`; see `would_effect`). */
  mode: 'enforce' | 'monitor';
  /** Monitor mode only: the effect the decision would have had in enforce mode. */
  would_effect?: 'allow' | 'deny' | 'require_approval';
  /** Only when asked (`explain: true`). */
  explain?: {
    name: string;
    matched: boolean;
    effect: 'allow' | 'deny' | 'require_approval' | 'warn';
    clauses: { kind: 'when' | 'unless'; source: string; value: boolean | null; reads: { path: string; value: unknown }[]; location: Location }[];
    error?: string;
  }[];
}

// ---------------------------------------------------------------- inputs to assembly

/** A granted approval: bound to one request by its hash. `rule` names a rule or a budget. */
export interface Approval {
  rule: string;
  request_hash: string;
  /** A signed approval token (see `signApproval`); with the Engine option `approvalKeys` only the
   *  token counts, and `rule`/`request_hash` are read from it. */
  token?: string;
  /** The approver group that granted it: when set, a rule or budget naming a `from` group is granted
   *  only when the group is the same (the engine sets it from a verified token). */
  group?: string | null;
  /** Who approved (set by the engine from a verified token; reported as the reason's `approved_by`). */
  approver?: string;
}

/**
 * What the engine reports for one applicable budget. Amounts are in the budget's unit: integer
 * micros for `money`, plain numbers for `number`; `assembleDecision` renders them.
 */
export interface BudgetOutcome {
  name: string;
  unit: 'money' | 'number';
  /** The `by` tuple (empty for a global counter). */
  key: unknown[];
  limit: number;
  /** Settled spend for this key and window, before this request. */
  spent: number;
  /** Open reservations for this key and window, before this request. */
  reserved: number;
  /** This request's charge. */
  charge: number;
  /** limit − spent − reserved − charge (may be negative when exceeded). */
  remaining: number;
  /** The current window (ISO strings), null for lifetime / per-request budgets. */
  window: { start: string; end: string } | null;
  /** spent + reserved + charge > limit. */
  exceeded: boolean;
  /** `warn at` threshold crossed by this request. */
  warned: boolean;
  /** The `on exceed` effect (meaningful when `exceeded`). */
  effect: ClauseEffect;
  /** The `on exceed` message, interpolated. */
  message?: string;
  /** `on exceed require approval from X`: X's value. */
  from?: string | null;
  location: SourceLocation;
  annotations: Record<string, string | true>;
  /** `@monitor` on the budget: reported under `monitored`, never changes the effect. */
  monitor?: boolean;
  /** Evaluating the budget failed (bad charge, run-time error): counts with the `on error` effect. */
  error?: string;
}

export interface AssembleInput {
  policy: { name: string; version?: string | null; hash: string };
  /** The set's `default` and `on error` effects. */
  defaultEffect: 'allow' | 'deny';
  onError: 'allow' | 'deny';
  /** Currency code for messages (USD → `$12.30`). */
  currency?: string;
  rules: RuleOutcome[];
  budgets?: BudgetOutcome[];
  /** Granted approvals; only those whose `request_hash` equals this request's hash count. */
  approvals?: readonly Approval[];
  /** The request hash, or a function computing it on demand (it is only needed when approvals are given
   *  or when someone reads `decision.request_hash`). */
  requestHash: string | null | (() => string | null);
  /** With `requestHash: null`: the validated request, hashed (`hashValue`) only when the hash is needed.
   *  Saves creating a closure per decision. */
  hashOf?: unknown;
  mode?: 'enforce' | 'monitor';
  /** Request-level errors (invalid input, unreachable store): each counts with the `on error` effect. */
  errors?: DecisionError[];
  /** Evaluation time. */
  time: number | Date;
  explain?: boolean;
  reservation?: { id: string; expires: string } | null;
}

// ---------------------------------------------------------------- assembly

function ruleReason(o: RuleOutcome, effect: ClauseEffect): Reason {
  const r: Reason = {
    kind: 'rule',
    name: o.name,
    effect,
    message: o.message ?? null,
    annotations: o.annotations,
    location: o.location,
  };
  return r;
}

/** The `error` reason of a failed rule. */
export function ruleErrorReason(o: RuleOutcome, effect: ClauseEffect): Reason {
  return {
    kind: 'error',
    name: o.name,
    effect,
    message: `rule \`${o.name}\` failed: ${o.error}`,
    annotations: o.annotations,
    location: o.location,
  };
}

function budgetReason(b: BudgetOutcome, effect: ClauseEffect, message: string | null): Reason {
  return {
    kind: 'budget',
    name: b.name,
    effect,
    message,
    annotations: b.annotations,
    location: b.location,
  };
}

function renderAmount(n: number, unit: 'money' | 'number'): string | number {
  return unit === 'money' ? formatMicros(n) : n;
}

/** Rendered money limits: a budget's limit is the same in every decision. */
const limitTexts = new Map<number, string>();

function renderLimit(n: number, unit: 'money' | 'number'): string | number {
  if (unit !== 'money') return n;
  let s = limitTexts.get(n);
  if (s === undefined) {
    if (limitTexts.size >= 1024) limitTexts.clear();
    s = formatMicros(n);
    limitTexts.set(n, s);
  }
  return s;
}

function budgetEntry(b: BudgetOutcome): BudgetEntry {
  return {
    name: b.name,
    key: b.key,
    limit: renderLimit(b.limit, b.unit),
    spent: renderAmount(b.spent, b.unit),
    reserved: renderAmount(b.reserved, b.unit),
    charge: renderAmount(b.charge, b.unit),
    remaining: renderAmount(b.remaining, b.unit),
    window: b.window,
    exceeded: b.exceeded,
    warned: b.warned,
  };
}

const EMPTY: never[] = [];

// The `default` reasons are the same for every decision: shared and frozen (the lists holding them are fresh).
const DEFAULT_ALLOW: Reason = Object.freeze({ kind: 'default', effect: 'allow', message: 'no rule decided; the policy default is allow' });
const DEFAULT_DENY: Reason = Object.freeze({ kind: 'default', effect: 'deny', message: 'no rule allowed the request; the policy default is deny' });

/** The request hash, computed at most once and only when needed. */
class HashBox {
  private done: boolean;
  private value: string | null;
  constructor(
    private readonly src: string | null | (() => string | null),
    private readonly of: unknown,
  ) {
    this.done = typeof src !== 'function' && (src !== null || of === undefined);
    this.value = typeof src === 'function' ? null : src;
  }
  get(): string | null {
    if (!this.done) {
      this.done = true;
      if (typeof this.src === 'function') {
        this.value = this.src();
      } else {
        try {
          this.value = hashValue(this.of);
        } catch {
          this.value = null;
        }
      }
    }
    return this.value;
  }
  set(v: string | null): void {
    this.done = true;
    this.value = v;
  }
}

/** Whether an approval's group (when it has one) satisfies `require approval from FROM`. */
export function groupSatisfies(a: Approval, from: string | null | undefined): boolean {
  return a.group === undefined || from === null || from === undefined || a.group === from;
}

/**
 * Accumulates the entries of one decision and holds its request hash (one allocation). Lists are
 * allocated on first use (most decisions have one or two entries in total), and no closure is
 * created per decision.
 */
class Assembly extends HashBox {
  denies: Reason[] | null = null;
  allows: Reason[] | null = null;
  approvalReasons: Reason[] | null = null;
  approvals: ApprovalRequest[] | null = null;
  warnings: Reason[] | null = null;
  monitored: Reason[] | null = null;
  errors: DecisionError[] | null = null;
  constructor(
    src: string | null | (() => string | null),
    of: unknown,
    readonly granted: readonly Approval[],
  ) {
    super(src, of);
  }

  isGranted(name: string, from: string | null | undefined): boolean {
    const g = this.granted;
    if (g.length === 0) return false;
    for (let i = 0; i < g.length; i++) {
      const a = g[i];
      if (a && a.rule === name && groupSatisfies(a, from)) {
        const h = this.get();
        if (h !== null && a.request_hash === h) return true;
      }
    }
    return false;
  }

  error(e: DecisionError): void {
    if (this.errors === null) this.errors = [e];
    else this.errors.push(e);
  }

  place(r: Reason, effect: ClauseEffect, monitor: boolean, approval?: ApprovalRequest): void {
    if (monitor) {
      if (this.monitored === null) this.monitored = [r];
      else this.monitored.push(r);
      return;
    }
    switch (effect) {
      case 'deny':
        if (this.denies === null) this.denies = [r];
        else this.denies.push(r);
        break;
      case 'allow':
        if (this.allows === null) this.allows = [r];
        else this.allows.push(r);
        break;
      case 'warn':
        if (this.warnings === null) this.warnings = [r];
        else this.warnings.push(r);
        break;
      case 'require_approval':
        if (approval && this.isGranted(approval.name, approval.from)) {
          const granted: Reason = { ...r, effect: 'allow', approved: true };
          if (this.allows === null) this.allows = [granted];
          else this.allows.push(granted);
        } else {
          if (this.approvalReasons === null) this.approvalReasons = [r];
          else this.approvalReasons.push(r);
          if (approval) {
            if (this.approvals === null) this.approvals = [approval];
            else this.approvals.push(approval);
          }
        }
        break;
    }
  }
}

/**
 * A decision. `request_hash` is a getter computed on first read (hashing the request is the most
 * expensive step of a decision, and most callers only look at `effect`); `toJSON` (used by
 * `JSON.stringify`) includes it, in the documented field order. An own accessor property would cost
 * ~3 µs per decision in V8, a prototype getter costs nothing. Note: object spread / `Object.keys`
 * do not see `request_hash`; use `decisionToJSON(d)` (or `JSON.parse(JSON.stringify(d))`) for a
 * plain object.
 */
class DecisionObject {
  declare would_effect?: Effect;
  declare explain?: RuleExplanation[];
  /** The request hash; null until first read when the decision was built from `hashOf` alone. */
  #box: HashBox | null;
  /** The validated request, hashed on first read of `request_hash` (when `#box` is null). */
  readonly #of: unknown;
  constructor(
    public effect: Effect,
    public reasons: Reason[],
    public approvals: ApprovalRequest[],
    public warnings: Reason[],
    public monitored: Reason[],
    public budgets: BudgetEntry[],
    public errors: DecisionError[],
    public reservation: { id: string; expires: string } | null,
    public policy: { name: string; version: string | null; hash: string },
    box: HashBox | null,
    public time: string,
    public mode: 'enforce' | 'monitor',
    of?: unknown,
  ) {
    this.#box = box;
    this.#of = of;
  }
  get request_hash(): string | null {
    if (this.#box === null) this.#box = new HashBox(null, this.#of);
    return this.#box.get();
  }
  set request_hash(v: string | null) {
    if (this.#box === null) this.#box = new HashBox(null, this.#of);
    this.#box.set(v);
  }
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = {
      effect: this.effect,
      reasons: this.reasons,
      approvals: this.approvals,
      warnings: this.warnings,
      monitored: this.monitored,
      budgets: this.budgets,
      errors: this.errors,
      reservation: this.reservation,
      policy: this.policy,
      request_hash: this.request_hash,
      time: this.time,
      mode: this.mode,
    };
    if (this.would_effect !== undefined) o.would_effect = this.would_effect;
    if (this.explain !== undefined) o.explain = this.explain;
    return o;
  }
}

/** A decision as a plain object (every field an own data property, `request_hash` computed). */
export function decisionToJSON(d: Decision): Decision {
  const t = (d as unknown as { toJSON?: () => Decision }).toJSON;
  return typeof t === 'function' ? t.call(d) : { ...d };
}

let lastTime = NaN;
let lastIso = '';
function isoTime(t: number | Date): string {
  const ms = t instanceof Date ? t.getTime() : t;
  if (ms !== lastTime) {
    lastIso = new Date(ms).toISOString();
    lastTime = ms;
  }
  return lastIso;
}

/** Budget outcomes into the assembly's lists (exceeded: the `on exceed` effect; `warn at`; errors),
 *  and the decision's `budgets` entries. */
function placeBudgets(A: Assembly, budgets: readonly BudgetOutcome[], onError: AssembleInput['onError']): BudgetEntry[] {
  const budgetEntries: BudgetEntry[] = [];
  for (const b of budgets) {
    budgetEntries.push(budgetEntry(b));
    const monitor = b.monitor === true;
    if (b.error !== undefined) {
      A.error({ kind: 'budget', name: b.name, message: b.error, location: b.location });
      A.place(
        { kind: 'error', name: b.name, effect: onError, message: `budget \`${b.name}\` failed: ${b.error}`, annotations: b.annotations, location: b.location },
        onError,
        monitor,
      );
      // The counters said exceeded and only its `on exceed` message (or approver) failed: the
      // exceed effect still stands (every applicable budget must pass, also under `on error allow`).
      if (b.exceeded) {
        const approval: ApprovalRequest | undefined =
          b.effect === 'require_approval' ? { kind: 'budget', name: b.name, from: b.from ?? null, message: null, location: b.location } : undefined;
        A.place(budgetReason(b, b.effect, null), b.effect, monitor, approval);
      }
      continue;
    }
    if (b.exceeded) {
      const message = b.message ?? null;
      const approval: ApprovalRequest | undefined =
        b.effect === 'require_approval' ? { kind: 'budget', name: b.name, from: b.from ?? null, message, location: b.location } : undefined;
      A.place(budgetReason(b, b.effect, message), b.effect, monitor, approval);
    } else if (b.warned) {
      const pct = b.limit > 0 ? Math.round(((b.spent + b.reserved + b.charge) / b.limit) * 100) : 100;
      A.place(budgetReason(b, 'warn', `budget \`${b.name}\` is at ${pct}% of its limit`), 'warn', monitor);
    }
  }
  return budgetEntries;
}

/** Precedence (and monitor mode, with `would_effect`) over the assembly's lists, and the decision object. */
function decisionOf(
  A: Assembly,
  policy: AssembleInput['policy'],
  defaultEffect: AssembleInput['defaultEffect'],
  mode: 'enforce' | 'monitor',
  budgetEntries: BudgetEntry[],
  time: number | Date,
  reservation: { id: string; expires: string } | null,
): Decision {
  // Precedence.
  let effect: Effect;
  let reasons: Reason[];
  if (A.denies !== null) {
    effect = 'deny';
    reasons = A.denies;
  } else if (A.approvalReasons !== null) {
    effect = 'require_approval';
    reasons = A.approvalReasons;
  } else if (A.allows !== null) {
    effect = 'allow';
    reasons = A.allows;
  } else if (defaultEffect === 'allow') {
    effect = 'allow';
    reasons = [DEFAULT_ALLOW];
  } else {
    effect = 'deny';
    reasons = [DEFAULT_DENY];
  }

  let approvals = A.approvals ?? [];
  let warnings = A.warnings ?? [];
  const monitored = A.monitored ?? [];
  let wouldEffect: Effect | undefined;
  if (mode === 'monitor') {
    // Monitor mode (dry run): report everything that matched under `monitored`, enforce nothing.
    wouldEffect = effect;
    for (const list of [A.denies, A.approvalReasons, A.allows, A.warnings]) if (list !== null) for (const r of list) monitored.push(r);
    effect = 'allow';
    reasons = [];
    approvals = [];
    warnings = [];
  }

  const d = new DecisionObject(
    effect,
    reasons,
    approvals,
    warnings,
    monitored,
    budgetEntries,
    A.errors ?? [],
    reservation,
    { name: policy.name, version: policy.version ?? null, hash: policy.hash },
    A,
    isoTime(time),
    mode,
  ) as unknown as Decision;
  if (wouldEffect !== undefined) d.would_effect = wouldEffect;
  return d;
}

/**
 * The decision from entry lists built in place by generated code (codegen-rules.ts: reasons already
 * sorted by effect, null for empty) plus budget outcomes: the engine's fused path (enforce mode, no
 * granted approvals). The same decision as `assembleParts` with the outcomes of those rules
 * (test/runtime/engine-fused.test.ts). The lists may be appended to.
 */
export function assembleFromLists(
  policy: AssembleInput['policy'],
  defaultEffect: AssembleInput['defaultEffect'],
  onError: AssembleInput['onError'],
  denies: Reason[] | null,
  approvalReasons: Reason[] | null,
  allows: Reason[] | null,
  approvals: ApprovalRequest[] | null,
  warnings: Reason[] | null,
  monitored: Reason[] | null,
  errors: DecisionError[] | null,
  budgets: readonly BudgetOutcome[],
  hashOf: unknown,
  time: number,
  reservation: { id: string; expires: string } | null,
): Decision {
  const A = new Assembly(null, hashOf, EMPTY);
  A.denies = denies;
  A.approvalReasons = approvalReasons;
  A.allows = allows;
  A.approvals = approvals;
  A.warnings = warnings;
  A.monitored = monitored;
  A.errors = errors;
  const entries = placeBudgets(A, budgets, onError);
  return decisionOf(A, policy, defaultEffect, 'enforce', entries, time, reservation);
}

/**
 * `assembleParts` for the common case of `policy.evaluate`: rule outcomes only (matched and failed
 * rules), no budgets, no granted approvals, enforce mode, no request errors, no explanation, the
 * request hash computed from `hashOf` on first read. Gives the same decision as `assembleParts`
 * (test/runtime/perf-codegen.test.ts), with the entry lists kept in local variables and the decision
 * built in one constructor call.
 */
export function assembleRuleDecision(
  policy: { name: string; version: string | null; hash: string },
  defaultEffect: AssembleInput['defaultEffect'],
  onError: AssembleInput['onError'],
  rules: RuleOutcome[],
  hashOf: unknown,
  time: number,
): Decision {
  let denies: Reason[] | null = null;
  let allows: Reason[] | null = null;
  let approvalReasons: Reason[] | null = null;
  let approvals: ApprovalRequest[] | null = null;
  let warnings: Reason[] | null = null;
  let monitored: Reason[] | null = null;
  let errors: DecisionError[] | null = null;
  for (let i = 0; i < rules.length; i++) {
    const o = rules[i];
    let r: Reason;
    let effect: ClauseEffect;
    if (o.error !== undefined) {
      const e: DecisionError = { kind: 'rule', name: o.name, message: o.error, location: o.location };
      if (errors === null) errors = [e];
      else errors.push(e);
      effect = onError;
      r = ruleErrorReason(o, onError);
    } else if (o.matched) {
      effect = o.effect;
      r = { kind: 'rule', name: o.name, effect, message: o.message ?? null, annotations: o.annotations, location: o.location };
    } else continue;
    if (o.monitor) {
      if (monitored === null) monitored = [r];
      else monitored.push(r);
      continue;
    }
    switch (effect) {
      case 'deny':
        if (denies === null) denies = [r];
        else denies.push(r);
        break;
      case 'allow':
        if (allows === null) allows = [r];
        else allows.push(r);
        break;
      case 'warn':
        if (warnings === null) warnings = [r];
        else warnings.push(r);
        break;
      case 'require_approval': {
        if (approvalReasons === null) approvalReasons = [r];
        else approvalReasons.push(r);
        if (o.error === undefined) {
          const a: ApprovalRequest = { kind: 'rule', name: o.name, from: o.from ?? null, message: o.message ?? null, location: o.location };
          if (approvals === null) approvals = [a];
          else approvals.push(a);
        }
        break;
      }
    }
  }
  return finishRuleDecision(policy, defaultEffect, denies, approvalReasons, allows, approvals, warnings, monitored, errors, hashOf, time);
}

/** Precedence and the decision object, from the entry lists (null: empty) of a rules-only decision. */
function finishRuleDecision(
  policy: { name: string; version: string | null; hash: string },
  defaultEffect: AssembleInput['defaultEffect'],
  denies: Reason[] | null,
  approvalReasons: Reason[] | null,
  allows: Reason[] | null,
  approvals: ApprovalRequest[] | null,
  warnings: Reason[] | null,
  monitored: Reason[] | null,
  errors: DecisionError[] | null,
  hashOf: unknown,
  time: number,
): Decision {
  let effect: Effect;
  let reasons: Reason[];
  if (denies !== null) {
    effect = 'deny';
    reasons = denies;
  } else if (approvalReasons !== null) {
    effect = 'require_approval';
    reasons = approvalReasons;
  } else if (allows !== null) {
    effect = 'allow';
    reasons = allows;
  } else if (defaultEffect === 'allow') {
    effect = 'allow';
    reasons = [DEFAULT_ALLOW];
  } else {
    effect = 'deny';
    reasons = [DEFAULT_DENY];
  }
  return new DecisionObject(
    effect,
    reasons,
    approvals ?? [],
    warnings ?? [],
    monitored ?? [],
    [],
    errors ?? [],
    null,
    { name: policy.name, version: policy.version, hash: policy.hash },
    null,
    isoTime(time),
    'enforce',
    hashOf,
  ) as unknown as Decision;
}

/**
 * `finishRuleDecision` bound to a policy, for generated code that builds the entry lists in place
 * (codegen-rules.ts `generateDecide`).
 */
export function ruleDecisionFinisher(
  policy: { name: string; version: string | null; hash: string },
  defaultEffect: AssembleInput['defaultEffect'],
): FusedFinish {
  return (dn, aq, al, ap, wn, mo, er, hashOf, time) => finishRuleDecision(policy, defaultEffect, dn, aq, al, ap, wn, mo, er, hashOf, time);
}

/**
 * Turn outcomes into a decision (LANGUAGE §5 steps 4–5, INTERFACES §1):
 * deny > require_approval (ungranted) > allow (any allow rule, a granted approval, or `default allow`)
 * > deny (kind `default`). Errors count as matched with the `on error` effect. `reasons` holds only the
 * entries whose effect is the decision's effect; `approvals` every ungranted approval (also when the
 * effect is deny); `warnings` every matched `warn` (and budget `warn at` crossings); `monitored` the
 * `@monitor` rules/budgets that matched — and in monitor mode, everything that matched: the effect is
 * then `allow` and `would_effect` holds the effect enforce mode would have produced.
 *
 * `request_hash` is computed lazily (on first read; `JSON.stringify` includes it) unless approvals force it.
 */
export function assembleDecision(input: AssembleInput): Decision {
  return assembleParts(
    input.policy,
    input.defaultEffect,
    input.onError,
    input.rules,
    input.budgets,
    input.approvals,
    input.requestHash,
    input.hashOf,
    input.mode,
    input.errors,
    input.time,
    input.explain,
    input.reservation,
  );
}

/** `assembleDecision` with its input as arguments (`policy.evaluate` calls it without building an input object). */
export function assembleParts(
  policy: AssembleInput['policy'],
  defaultEffect: AssembleInput['defaultEffect'],
  onError: AssembleInput['onError'],
  rules: RuleOutcome[],
  budgetList: BudgetOutcome[] | undefined,
  granted: readonly Approval[] | undefined,
  requestHash: AssembleInput['requestHash'],
  hashOf: unknown,
  modeOpt: AssembleInput['mode'],
  reqErrors: DecisionError[] | undefined,
  time: number | Date,
  explain: boolean | undefined,
  reservation: AssembleInput['reservation'],
): Decision {
  const mode = modeOpt ?? 'enforce';
  // One object accumulates the entries and holds the (lazy) request hash the decision refers to.
  const A = new Assembly(requestHash, hashOf, granted ?? EMPTY);

  // Request-level errors (input, store): no rule ran (input) or the store failed.
  if (reqErrors && reqErrors.length > 0) {
    for (const e of reqErrors) A.error(e);
    const first = reqErrors[0];
    const message =
      first.kind === 'input' ? `invalid request: ${reqErrors.length} error${reqErrors.length === 1 ? '' : 's'}` : first.message;
    A.place({ kind: 'error', effect: onError, message }, onError, false);
  }

  for (let i = 0; i < rules.length; i++) {
    const o = rules[i];
    if (o.error !== undefined) {
      A.error({ kind: 'rule', name: o.name, message: o.error, location: o.location });
      A.place(ruleErrorReason(o, onError), onError, o.monitor);
      continue;
    }
    if (!o.matched) continue;
    const approval: ApprovalRequest | undefined =
      o.effect === 'require_approval'
        ? { kind: 'rule', name: o.name, from: o.from ?? null, message: o.message ?? null, location: o.location }
        : undefined;
    A.place(ruleReason(o, o.effect), o.effect, o.monitor, approval);
  }

  const budgetEntries = placeBudgets(A, budgetList ?? EMPTY, onError);
  const d = decisionOf(A, policy, defaultEffect, mode, budgetEntries, time, reservation ?? null);
  if (explain) {
    const ex: RuleExplanation[] = [];
    for (const o of rules) {
      if (o.explain) ex.push(o.error !== undefined ? ({ ...o.explain, error: o.error } as RuleExplanation) : o.explain);
    }
    d.explain = ex;
  }
  return d;
}
