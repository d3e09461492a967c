// One decision's entries and the one function that turns them into a decision (LANGUAGE §5 steps
// 4–5, INTERFACES §1). Every producer pushes into the same accumulator — the closures
// (`Entries.rule`), the generated code (which writes the lists below directly, see `Entries`), the
// engine (budget outcomes, request-level errors) — and `assemble` applies precedence and builds the
// decision. Which list an effect goes to, precedence, approvals: effects.ts (the table), read here.

import type { ClauseEffect, DecisionError, Effect, RuleExplanation, RuleOutcome } from './compiled.js';
import type { Approval, ApprovalRequest, BudgetEntry, BudgetExplanation, BudgetOutcome, Decision, Reason } from './decision.js';
import { EFFECTS, EFFECT_ROWS, PRECEDENCE, type EffectRow, type EntryList, failsOpen, failsUnmatched } from './effects.js';
import { formatMicros } from './money.js';
import { formatDuration } from './values.js';
import { hashValue } from './hash.js';
import type { Transform } from './transforms.js';
import type { ExternCalls } from './externs.js';

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

/** What `require approval` asks of the approvals that grant it (`quorum N`, `expires D`). */
export interface ApprovalTerms {
  quorum?: number;
  expires_ms?: number;
}

/** The approvals given for one rule or budget, judged against its group, quorum and expiry. */
export interface GrantCount {
  /** Reached the quorum: the rule or budget is granted. */
  granted: boolean;
  /** The approvals that count (one per distinct approver, in the order given). */
  counted: Approval[];
  /** Approvals for it, from the right group, that `expires` rules out (too old, or no time). */
  expired: Approval[];
}

const ANONYMOUS = '\u0000anonymous';

/**
 * The approvals that grant `name` for the request with hash `hash` at `now`: bound to the request,
 * from a group that satisfies `from`, given no more than `expires_ms` before `now` (an approval
 * without a time does not count when there is an `expires`), one per distinct approver (approvals
 * without an `approver` count as one); granted when they reach `quorum` (default 1).
 */
export function countGrants(given: readonly Approval[], name: string, from: string | null | undefined, terms: ApprovalTerms, hash: string | null, now: number): GrantCount {
  const quorum = terms.quorum ?? 1;
  const counted: Approval[] = [];
  const expired: Approval[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < given.length; i++) {
    const a = given[i];
    if (!a || a.rule !== name || !groupSatisfies(a, from) || hash === null || a.request_hash !== hash) continue;
    if (terms.expires_ms !== undefined && (typeof a.at !== 'number' || !(now < a.at + terms.expires_ms))) {
      expired.push(a);
      continue;
    }
    const who = a.approver ?? ANONYMOUS;
    if (seen.has(who)) continue;
    seen.add(who);
    counted.push(a);
  }
  return { granted: counted.length >= quorum, counted, expired };
}

/** The `errors` entries for approvals that did not (yet) grant `name`: expired ones, a quorum not met. */
export function grantErrors(kind: 'rule' | 'budget', name: string, terms: ApprovalTerms, g: GrantCount): DecisionError[] {
  const out: DecisionError[] = [];
  for (const a of g.expired) {
    const who = a.approver !== undefined ? ` by ${a.approver}` : '';
    const why = typeof a.at !== 'number' ? 'it carries no approval time (`at`)' : `it was given at ${new Date(a.at).toISOString()}`;
    out.push({ kind: 'approval', name, message: `approval for \`${name}\`${who} expired: ${why}, and the ${kind} counts an approval for ${formatDuration(terms.expires_ms!)} (\`expires\`)` });
  }
  const quorum = terms.quorum ?? 1;
  if (!g.granted && g.counted.length > 0) {
    const names = g.counted.map((a) => a.approver ?? '(anonymous)').join(', ');
    out.push({ kind: 'approval', name, message: `approval for \`${name}\` not granted yet: ${g.counted.length} of ${quorum} distinct approvers (quorum ${quorum}): ${names}` });
  }
  return out;
}

/** An approval request with its rule's or budget's `quorum` / `expires` (only when written). */
function withTerms(r: ApprovalRequest, t: ApprovalTerms): ApprovalRequest {
  if (t.quorum !== undefined) r.quorum = t.quorum;
  if (t.expires_ms !== undefined) r.expires_ms = t.expires_ms;
  return r;
}

/** Whether an approval's group (when it has one) satisfies `require approval from FROM`. */
export function groupSatisfies(a: Approval, from: string | null | undefined): boolean {
  return a.group === undefined || from === null || from === undefined || a.group === from;
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

/** The effect of a budget that could not be checked (fail closed). */
const FAILED_BUDGET = 'deny' satisfies ClauseEffect;

/** The message of a rule that matched and whose message failed (the failure is in `errors`). */
export function ruleMessageFailed(name: string): string {
  return `rule \`${name}\` matched; its message failed (see errors)`;
}

function budgetReason(b: { name: string; annotations: Record<string, string | true>; location: BudgetOutcome['location'] }, effect: ClauseEffect, message: string | null): Reason {
  return { kind: 'budget', name: b.name, effect, message, annotations: b.annotations, location: b.location };
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
  const e = entryOf(b.name, b.unit, b.key, b.limit, b.spent, b.reserved, b.charge, b.remaining, b.window, b.exceeded, b.warned);
  if (b.unknown === true) {
    // The store failed: nothing was read, so the counters are not shown as zeros.
    e.spent = null;
    e.reserved = null;
    e.remaining = null;
  }
  return e;
}

/** A decision's `budgets` entry (money amounts rendered): the one place its fields and their order are written. */
function entryOf(
  name: string,
  unit: 'money' | 'number',
  key: unknown[],
  limit: number,
  spent: number,
  reserved: number,
  charge: number,
  remaining: number,
  window: { start: string; end: string } | null,
  exceeded: boolean,
  warned: boolean,
): BudgetEntry {
  return {
    name,
    key,
    limit: renderLimit(limit, unit),
    spent: renderAmount(spent, unit),
    reserved: renderAmount(reserved, unit),
    charge: renderAmount(charge, unit),
    remaining: renderAmount(remaining, unit),
    window,
    exceeded,
    warned,
  };
}

/** What `Entries.budgetWithin` reads of a budget (a `CompiledBudget` has it). */
export interface BudgetFacts {
  name: string;
  unit: 'money' | 'number';
  annotations: Record<string, string | true>;
  location: BudgetOutcome['location'];
  monitor?: boolean;
}

const NO_GRANTS: readonly Approval[] = Object.freeze([]);

/**
 * The entries of one decision, accumulated by whoever evaluates its rules and budgets, and its
 * request hash (computed on first read: the decision refers to this object for `request_hash`).
 *
 * The lists are null until their first entry (most decisions have one or two entries in all). Code
 * that knows an entry's effect statically (the generated rule code) may push into the lists
 * directly — the list of an effect is `EFFECTS[effect].list` (effects.ts), an approval-asking effect
 * also pushes an `ApprovalRequest` into `approvals` — with exactly what `rule` would push: `rule` is
 * the reference. Everything else goes through the methods. Then `assemble` (once) makes the decision.
 */
export class Entries {
  denies: Reason[] | null;
  approvalReasons: Reason[] | null;
  allows: Reason[] | null;
  warnings: Reason[] | null;
  /** Pending (ungranted) approval requests. */
  approvals: ApprovalRequest[] | null;
  /** `@monitor` rules and budgets that matched. */
  monitored: Reason[] | null;
  errors: DecisionError[] | null;
  /** The decision's `budgets` entries. */
  budgets: BudgetEntry[] | null;
  /** Set (to a list) to have the decision carry an explanation (`explain`). */
  explain: RuleExplanation[] | null;
  /** Set (to a list) to have the decision carry budget explanations (`explain_budgets`). */
  budgetExplain: BudgetExplanation[] | null;
  /** The matched `redact` rules' transforms (enforce mode; the decision's `transforms`). */
  transforms: Transform[] | null;
  /** The decision's host-function calls (`extern def`), for the `redact` rules run at assembly. */
  externs: ExternCalls | null;
  /** Granted approvals: a `require approval` entry whose approval is here (bound to this request's
   *  hash, from the right group) is placed as allowed. */
  granted: readonly Approval[];
  /** The approvals that granted an entry (null: none did): the single-use tokens a decision that
   *  allows consumes (engine.ts `spendNonces`). */
  used: Approval[] | null;
  /** The decision time (epoch ms): approvals of a rule with `expires` count until their time plus it.
   *  A constructor argument, so that no producer can leave it unset (an unset time once made an
   *  expired approval count). */
  readonly now: number;
  /** The validated request (hashed when the hash is first needed). */
  readonly hashOf: unknown;
  /** The request hash once asked for before the decision exists (approvals); else the decision
   *  makes it on first read. (Not kept by the decision otherwise: the entries are garbage after `assemble`.) */
  box: HashBox | null;

  /**
   * @param hashOf the validated request, hashed on first read of the hash (undefined: no request, the hash is null)
   * @param now the decision time (epoch ms), what an approval's `expires` is measured against
   * @param granted granted approvals
   * @param requestHash the hash itself (or a function computing it), instead of `hashOf`
   */
  constructor(hashOf: unknown, now: number, granted: readonly Approval[] = NO_GRANTS, requestHash: string | null | (() => string | null) = null) {
    this.denies = null;
    this.approvalReasons = null;
    this.allows = null;
    this.warnings = null;
    this.approvals = null;
    this.monitored = null;
    this.errors = null;
    this.budgets = null;
    this.explain = null;
    this.budgetExplain = null;
    this.transforms = null;
    this.externs = null;
    this.granted = granted;
    this.used = null;
    this.now = now;
    this.hashOf = hashOf;
    this.box = requestHash === null ? null : new HashBox(requestHash, hashOf);
  }

  /** The request hash (computed once). */
  get(): string | null {
    if (this.box === null) this.box = new HashBox(null, this.hashOf);
    return this.box.get();
  }

  /** The approvals that grant `approval` (`countGrants`: bound to this request, group satisfied,
   *  and with `quorum` / `expires` enough distinct unexpired ones), or null when they do not (yet);
   *  then the request names who approved so far, and the errors say why the others did not count. */
  private grantsOf(approval: ApprovalRequest): Approval[] | null {
    const given = this.granted;
    let named = false;
    for (let i = 0; i < given.length && !named; i++) named = given[i]?.rule === approval.name;
    if (!named) return null; // (no request hash to compute)
    const terms: ApprovalTerms = { quorum: approval.quorum, expires_ms: approval.expires_ms };
    const g = countGrants(given, approval.name, approval.from, terms, this.get(), this.now);
    for (const e of grantErrors(approval.kind, approval.name, terms, g)) this.error(e);
    if (g.granted) return g.counted;
    if (g.counted.length > 0) approval.approved_by = g.counted.map((a) => a.approver ?? '(anonymous)');
    return null;
  }

  private add(list: EntryList, r: Reason): void {
    const l = this[list];
    if (l === null) this[list] = [r];
    else l.push(r);
  }

  error(e: DecisionError): void {
    if (this.errors === null) this.errors = [e];
    else this.errors.push(e);
  }

  /** One entry: `@monitor` ones under `monitored`, the others into their effect's list (effects.ts).
   *  `approval`: the request an approval-asking effect makes (it counts as granted when one is). */
  place(r: Reason, effect: ClauseEffect, monitor: boolean, approval?: ApprovalRequest): void {
    if (monitor) {
      if (this.monitored === null) this.monitored = [r];
      else this.monitored.push(r);
      return;
    }
    const row = EFFECTS[effect];
    if (row.approval && approval !== undefined) {
      const grants = row.grantedAs !== null ? this.grantsOf(approval) : null;
      if (grants !== null) {
        // Who approved (the first approval that counts) goes into the decision and the audit log;
        // with `quorum` / `expires`, every approval that counted.
        const first = grants[0]!;
        if (this.used === null) this.used = grants.slice();
        else for (const a of grants) this.used.push(a);
        const granted: Reason = { ...r, effect: row.grantedAs!, approved: true };
        if (first.approver !== undefined) granted.approved_by = { approver: first.approver, group: first.group ?? null };
        if (approval.quorum !== undefined || approval.expires_ms !== undefined) granted.approvers = grants.map((a) => ({ approver: a.approver ?? null, group: a.group ?? null }));
        this.add(EFFECTS[row.grantedAs!].list, granted);
        return;
      }
      if (this.approvals === null) this.approvals = [approval];
      else this.approvals.push(approval);
    }
    this.add(row.list, r);
  }

  /** Request-level errors (invalid input, a failing store): each is an error, and one reason with the
   *  `on error` effect stands for them. They come first in their lists, whenever they are added. */
  failRequest(errors: readonly DecisionError[], onError: 'allow' | 'deny'): void {
    if (errors.length === 0) return;
    this.errors = this.errors === null ? errors.slice() : [...errors, ...this.errors];
    const first = errors[0]!;
    const message = first.kind === 'input' ? `invalid request: ${errors.length} error${errors.length === 1 ? '' : 's'}` : first.message;
    const r: Reason = { kind: 'error', effect: onError, message };
    const list = EFFECTS[onError].list;
    const l = this[list];
    if (l === null) this[list] = [r];
    else l.unshift(r);
  }

  /** One rule outcome: a failed rule counts with the `on error` effect, a matched one with its own;
   *  with `explain` on, its explanation is kept. */
  rule(o: RuleOutcome, onError: 'allow' | 'deny'): void {
    if (this.explain !== null && o.explain) this.explain.push(o.error !== undefined ? ({ ...o.explain, error: o.error } as RuleExplanation) : o.explain);
    let message: string | null;
    if (o.error !== undefined) {
      this.error({ kind: 'rule', name: o.name, message: o.error, location: o.location });
      // A failed `extern def` call takes its own `on error`: `allow` goes on as if the rule had not
      // matched (docs/externs.md) — no reason at all, never an allow that `default deny` or a
      // `first_match` would take as the rule allowing.
      if (failsUnmatched(o)) return;
      const effect = o.errorEffect ?? onError;
      if (!(o.afterMatch && failsOpen(effect))) {
        this.place(ruleErrorReason(o, effect), effect, o.monitor);
        return;
      }
      // Its conditions held and only its message failed, under `on error allow`: the rule stands with
      // its own effect (decorating a message never un-denies a rule).
      message = ruleMessageFailed(o.name);
    } else {
      if (!o.matched) return;
      message = o.message ?? null;
      if (o.noteError !== undefined) {
        this.error({ kind: 'rule', name: o.name, message: o.noteError, location: o.location });
        // The rule stands; its message failed: say which rule it is instead of no message at all.
        message = ruleMessageFailed(o.name);
      }
    }
    const approval: ApprovalRequest | undefined = EFFECTS[o.effect].approval
      ? withTerms({ kind: 'rule', name: o.name, from: o.from ?? null, message, location: o.location }, o)
      : undefined;
    this.place({ kind: 'rule', name: o.name, effect: o.effect, message, annotations: o.annotations, location: o.location }, o.effect, o.monitor, approval);
  }

  rules(outcomes: readonly RuleOutcome[], onError: 'allow' | 'deny'): void {
    for (let i = 0; i < outcomes.length; i++) this.rule(outcomes[i]!, onError);
  }

  /** One budget outcome: its `budgets` entry; exceeded: its `on exceed` effect; `warn at` crossed: a
   *  warning; failed: an error with the `on error` effect. */
  budget(b: BudgetOutcome, onError: 'allow' | 'deny'): void {
    const e = budgetEntry(b);
    if (this.budgets === null) this.budgets = [e];
    else this.budgets.push(e);
    const monitor = b.monitor === true;
    const asks = EFFECTS[b.effect].approval;
    if (b.error !== undefined) {
      this.error({ kind: 'budget', name: b.name, message: b.error, location: b.location });
      // A budget that could not be checked (its `when`, `by`, `limit` or `charge` failed: a charge
      // that is not a valid amount) fails closed whatever `on error` says — LANGUAGE §6, "charges that
      // are NaN, infinite or negative are errors (fail closed)"; every applicable budget must pass, so
      // `on error allow` never opens a ceiling to a charge the agent made invalid. Only its `on
      // exceed` message or approver failing (the counters said exceeded) takes the `on error` effect.
      const effect = b.exceeded && b.approverFailed !== true ? onError : FAILED_BUDGET;
      this.place({ kind: 'error', name: b.name, effect, message: `budget \`${b.name}\` failed: ${b.error}`, annotations: b.annotations, location: b.location }, effect, monitor);
      // The counters said exceeded and only its `on exceed` message (or approver) failed: the
      // exceed effect still stands (every applicable budget must pass, also under `on error allow`).
      // Its message: the default one naming the budget and its limit when `on exceed`'s failed.
      if (b.exceeded && b.approverFailed !== true) {
        const message = b.message ?? null;
        const approval: ApprovalRequest | undefined = asks ? withTerms({ kind: 'budget', name: b.name, from: b.from ?? null, message, location: b.location }, b) : undefined;
        this.place(budgetReason(b, b.effect, message), b.effect, monitor, approval);
      }
      return;
    }
    if (b.exceeded) {
      // without an `on exceed` message, say which budget and which limit (a host shows the message;
      // the engine's outcomes carry it with money in the policy's currency, engine.ts `outcome`)
      const message = b.message ?? `budget \`${b.name}\` would go over its limit of ${e.limit}`;
      const approval: ApprovalRequest | undefined = asks ? withTerms({ kind: 'budget', name: b.name, from: b.from ?? null, message, location: b.location }, b) : undefined;
      this.place(budgetReason(b, b.effect, message), b.effect, monitor, approval);
    } else if (b.warned) this.warnBudget(b, b.limit, b.spent + b.reserved + b.charge, monitor);
  }

  /**
   * `budget` for an outcome that neither failed nor is exceeded, from its facts, without the outcome
   * object (the engine's fused path): its `budgets` entry and, when `warn at` is crossed, the warning —
   * exactly what `budget` places for such an outcome (test/runtime/engine-fused.test.ts).
   */
  budgetWithin(b: BudgetFacts, key: unknown[], limit: number, spent: number, reserved: number, charge: number, window: { start: string; end: string } | null, warned: boolean): void {
    const total = spent + reserved + charge;
    const e = entryOf(b.name, b.unit, key, limit, spent, reserved, charge, limit - total, window, false, warned);
    if (this.budgets === null) this.budgets = [e];
    else this.budgets.push(e);
    if (warned) this.warnBudget(b, limit, total, b.monitor === true);
  }

  private warnBudget(b: { name: string; annotations: Record<string, string | true>; location: BudgetOutcome['location'] }, limit: number, total: number, monitor: boolean): void {
    const pct = limit > 0 ? Math.round((total / limit) * 100) : 100;
    this.place(budgetReason(b, 'warn', `budget \`${b.name}\` is at ${pct}% of its limit`), 'warn', monitor);
  }

  /** A budget's explanation: `outcome` when it applied (as placed with `budget`), else its limit and
   *  window. `enforced`: exceeding it blocks the reservation. */
  explainBudget(
    b: { name: string; unit: 'money' | 'number'; limit: number; onExceed: { effect: ClauseEffect } },
    outcome: BudgetOutcome | undefined,
    why: string,
    enforced: boolean,
    window: { start: string; end: string } | null,
  ): void {
    const x: BudgetExplanation =
      outcome === undefined
        ? { name: b.name, applied: false, why, limit: renderLimit(b.limit, b.unit), window, on_exceed: b.onExceed.effect }
        : { ...budgetEntry(outcome), applied: true, why, enforced, on_exceed: b.onExceed.effect };
    if (outcome?.error !== undefined) x.error = outcome.error;
    delete (x as { warned?: boolean }).warned;
    if (this.budgetExplain === null) this.budgetExplain = [x];
    else this.budgetExplain.push(x);
  }

  budgetList(outcomes: readonly BudgetOutcome[], onError: 'allow' | 'deny'): void {
    for (let i = 0; i < outcomes.length; i++) this.budget(outcomes[i]!, onError);
  }

  /** The row whose list decides: the first non-empty one in precedence order; null: none. */
  decidingRow(): EffectRow | null {
    for (let i = 0; i < PRECEDENCE.length; i++) {
      const row = PRECEDENCE[i]!;
      if (row.read(this) !== null) return row;
    }
    return null;
  }

  /** The effect of the entries so far (enforce mode), with `extra` counted as one more entry (e.g.
   *  failed budgets' `on error` effect before they are placed). */
  effectSoFar(defaultEffect: 'allow' | 'deny', extra: ClauseEffect | null = null): Effect {
    const x = extra === null ? null : EFFECTS[extra];
    for (let i = 0; i < PRECEDENCE.length; i++) {
      const row = PRECEDENCE[i]!;
      if (row.read(this) !== null || x === row) return row.decides as Effect;
    }
    return defaultEffect;
  }
}

/** What `assemble` needs besides the entries: the same for every decision of a policy (and mode). */
export interface Assembler {
  /** The decisions' `policy` (shared by them as it is: frozen, or made for one decision). */
  policy: { name: string; version: string | null; hash: string };
  defaultEffect: 'allow' | 'deny';
  mode: 'enforce' | 'monitor';
  /** The policy's `redact` rules (compile.ts `redactStep`), run on the entries before precedence:
   *  they add transforms, `monitored` entries and errors. Absent: the policy has none. */
  redact?: (E: Entries, time: number | Date, mode: 'enforce' | 'monitor') => void;
}

// The `default` reasons are the same for every decision: shared and frozen (the lists holding them are fresh).
const DEFAULT_REASON: Record<'allow' | 'deny', Reason> = {
  allow: Object.freeze({ kind: 'default', effect: 'allow', message: 'no rule decided; the policy default is allow' }),
  deny: Object.freeze({ kind: 'default', effect: 'deny', message: 'no rule allowed the request; the policy default is deny' }),
};

/**
 * A decision. `request_hash` is a getter computed on first read (hashing the request is the most
 * expensive step of a decision, and most callers only look at `effect`); `toJSON` (used by
 * `JSON.stringify`) includes it, in the documented field order. An own accessor property would cost
 * ~3 µs per decision in V8, a prototype getter costs nothing. Note: object spread / `Object.keys`
 * do not see `request_hash`; use `decisionToJSON(d)` (inside the runtime; users: `JSON.parse(JSON.stringify(d))`) for a
 * plain object.
 */
class DecisionObject {
  declare would_effect?: Effect;
  declare explain?: Decision['explain'];
  declare explain_budgets?: Decision['explain_budgets'];
  declare transforms?: Transform[];
  declare externs?: Decision['externs'];
  /** The request hash; null until first read when the decision was built from `#of` alone. */
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
    of: unknown,
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
    if (this.transforms !== undefined) o.transforms = this.transforms;
    if (this.explain !== undefined) o.explain = this.explain;
    if (this.explain_budgets !== undefined) o.explain_budgets = this.explain_budgets;
    if (this.externs !== undefined) o.externs = this.externs;
    return o;
  }
}

/** Whether `x` is a decision made by `assemble` (its JSON is `toJSON`'s, in the documented order:
 *  language/node/serve/decision-json.ts writes it directly). */
export function isDecisionObject(x: unknown): boolean {
  return x instanceof DecisionObject;
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

/**
 * The decision from its entries (call once per `Entries`): deny > require_approval (ungranted) >
 * allow (any allow entry, a granted approval, or `default allow`) > deny (kind `default`) — the
 * precedence of the effects table. `reasons` holds the entries of the deciding list; `approvals`
 * every ungranted approval (also when the effect is deny); `warnings` every `warn`; `monitored` the
 * `@monitor` entries — and in monitor mode everything that matched: the effect is then `allow` and
 * `would_effect` the effect enforce mode would have.
 */
export function assemble(E: Entries, how: Assembler, time: number | Date, reservation: { id: string; expires: string } | null = null): Decision {
  if (how.redact !== undefined) how.redact(E, time, how.mode);
  if (how.mode !== 'enforce' || E.explain !== null) return assembleFull(E, how, time, reservation);
  // Enforce mode without explanation (kept small: it is inlined into the evaluation's last step).
  const row = E.decidingRow();
  if (row === null) return decisionOf(E, how, how.defaultEffect, [DEFAULT_REASON[how.defaultEffect]], E.approvals ?? [], E.warnings ?? [], E.monitored ?? [], time, reservation);
  return decisionOf(E, how, row.decides as Effect, row.read(E) as Reason[], E.approvals ?? [], E.warnings ?? [], E.monitored ?? [], time, reservation);
}

function decisionOf(
  E: Entries,
  how: Assembler,
  effect: Effect,
  reasons: Reason[],
  approvals: ApprovalRequest[],
  warnings: Reason[],
  monitored: Reason[],
  time: number | Date,
  reservation: { id: string; expires: string } | null,
): Decision {
  const p = how.policy;
  const d = new DecisionObject(
    effect,
    reasons,
    approvals,
    warnings,
    monitored,
    E.budgets ?? [],
    E.errors ?? [],
    reservation,
    // The assembler's own: frozen and shared by every decision of a compiled policy or an Engine.
    p,
    E.box,
    isoTime(time),
    how.mode,
    E.hashOf,
  ) as unknown as Decision;
  if (E.transforms !== null && how.mode === 'enforce') d.transforms = E.transforms;
  return d;
}

/** `assemble` in monitor mode or with an explanation. */
function assembleFull(E: Entries, how: Assembler, time: number | Date, reservation: { id: string; expires: string } | null): Decision {
  const row = E.decidingRow();
  const effect = row !== null ? (row.decides as Effect) : how.defaultEffect;
  let d: Decision;
  if (how.mode === 'monitor') {
    // Monitor mode (dry run): report everything that matched under `monitored`, enforce nothing.
    const monitored = E.monitored ?? [];
    for (let i = 0; i < EFFECT_ROWS.length; i++) {
      const list = EFFECT_ROWS[i]!.read(E);
      if (list !== null) for (const r of list) monitored.push(r);
    }
    d = decisionOf(E, how, 'allow', [], [], [], monitored, time, reservation);
    d.would_effect = effect;
  } else {
    const reasons = row !== null ? (row.read(E) as Reason[]) : [DEFAULT_REASON[how.defaultEffect]];
    d = decisionOf(E, how, effect, reasons, E.approvals ?? [], E.warnings ?? [], E.monitored ?? [], time, reservation);
  }
  if (E.explain !== null) d.explain = E.explain;
  if (E.budgetExplain !== null) d.explain_budgets = E.budgetExplain;
  return d;
}
