// The decision (INTERFACES §1): its types (the zod schema and JSON Schema: decision-schema.ts), the
// inputs to assembly, and `assembleDecision` (outcomes as one input object). The accumulator every
// producer pushes into and the one `assemble` that makes a decision of it: entries.ts; the effects
// table: effects.ts.

import type { ClauseEffect, DecisionError, RuleOutcome, SourceLocation } from './compiled.js';
import { assemble, Entries } from './entries.js';
import type { Transform } from './transforms.js';

type Location = { file: string; line: number; column: number };

/** One entry of `reasons`, `warnings` and `monitored`. */
export interface Reason {
  kind: 'rule' | 'budget' | 'default' | 'error';
  /** Rule or budget name (absent for `default` and for request-level errors). */
  name?: string;
  /** The entry's own effect (for `reasons`, always the decision's effect; `redact`: a matched
   *  `redact` rule under `monitored`). */
  effect: 'allow' | 'deny' | 'require_approval' | 'warn' | 'redact';
  message: string | null;
  annotations?: Record<string, string | true>;
  location?: Location;
  /** Set on a `require approval` rule/budget whose approval was granted (it then counts as `allow`). */
  approved?: boolean;
  /** With a verified approval token (Engine `approvalKeys`): who approved, as a member of which group. */
  approved_by?: { approver: string; group: string | null };
  /** With `quorum N`: every approval that counted toward the quorum (`approved_by` is the first). */
  approvers?: { approver: string | null; group: string | null }[];
}

/** A pending approval: who must approve what. */
export interface ApprovalRequest {
  kind: 'rule' | 'budget';
  name: string;
  from: string | null;
  message: string | null;
  location?: Location;
  /** `quorum N` (N > 1): how many distinct approvers must approve. */
  quorum?: number;
  /** `expires D`: how long (ms) an approval counts after it is given. */
  expires_ms?: number;
  /** With a quorum: the distinct approvers whose approvals already count (fewer than `quorum`). */
  approved_by?: string[];
}

/** One budget the request was charged against. Money as a 6-fractional-digit decimal string; counts as numbers. */
export interface BudgetEntry {
  name: string;
  key: unknown[];
  limit: string | number;
  /** The counters before this request; null (with `remaining`) when the budget store failed and they
   *  are unknown (the decision's `errors` has the store error). */
  spent: string | number | null;
  reserved: string | number | null;
  charge: string | number;
  remaining: string | number | null;
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
  /** What the host must change in the request before it goes on (matched `redact` rules, enforce
   *  mode): absent when there is nothing to mask. Apply with `applyTransforms(request, decision)`. */
  transforms?: Transform[];
  /** Only when asked (`explain: true`). */
  explain?: {
    name: string;
    matched: boolean;
    effect: 'allow' | 'deny' | 'require_approval' | 'warn';
    clauses: { kind: 'when' | 'unless'; source: string; value: boolean | null; reads: { path: string; value: unknown }[]; location: Location }[];
    error?: string;
  }[];
  /** Only when asked (`explain: true`, Engine): every budget of the policy, in source order. */
  explain_budgets?: BudgetExplanation[];
  /** The host-function (`extern def`) calls the decision made, one per distinct argument list, with
   *  their results or errors (docs/externs.md); absent when it made none. */
  externs?: { name: string; args: unknown[]; value?: unknown; error?: string }[];
}

/** Why a budget applied or not, and its numbers (`explain: true` with the Engine). Money as decimal strings. */
export interface BudgetExplanation {
  name: string;
  /** Its `when`/`unless` clauses hold for this request (or failed: a failure counts against it). */
  applied: boolean;
  /** In words: why it applied or not, and what it did (counted, reserved, blocked, failed). */
  why: string;
  limit: string | number;
  window: { start: string; end: string } | null;
  /** When applied: the `by` key, the counters before this request, the charge and what remains. */
  key?: unknown[];
  spent?: string | number | null;
  reserved?: string | number | null;
  charge?: string | number;
  remaining?: string | number | null;
  exceeded?: boolean;
  /** Exceeding it blocks the reservation (`on exceed deny`, an ungranted approval; never `@monitor`). */
  enforced?: boolean;
  /** Its `on exceed` effect. */
  on_exceed: 'allow' | 'deny' | 'require_approval' | 'warn';
  error?: string;
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
  /** Who approved (set by the engine from a verified token; reported as the reason's `approved_by`).
   *  `quorum N` counts distinct approvers by this name (approvals without one count as one approver). */
  approver?: string;
  /** When it was given (epoch ms; the engine sets it from a verified token's `iat`). A rule with
   *  `expires D` counts it only until `at + D`; without `at` such a rule does not count it. */
  at?: number;
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
  /** `on exceed require approval … quorum N` (N > 1) / `expires D` (ms). */
  quorum?: number;
  expires_ms?: number;
  location: SourceLocation;
  annotations: Record<string, string | true>;
  /** `@monitor` on the budget: reported under `monitored`, never changes the effect. */
  monitor?: boolean;
  /** Evaluating the budget failed (bad charge, run-time error): fails closed (deny) — only an `on
   *  exceed` message failing once the counters said exceeded counts with the `on error` effect. */
  error?: string;
  /** Exceeded, and its `on exceed … from` approver failed: who may approve is unknown (fails closed). */
  approverFailed?: true;
  /** The budget store failed: `spent`, `reserved` and `remaining` are not known (null in its entry). */
  unknown?: boolean;
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

// The accumulator and the one `assemble` live in entries.ts; this is the documented input-object form.
export { groupSatisfies, ruleErrorReason } from './entries.js';

/**
 * Turn outcomes into a decision (LANGUAGE §5 steps 4–5, INTERFACES §1): the outcomes pushed into one
 * `Entries` (request errors first, then rules, then budgets) and `assemble`d — see entries.ts for the
 * precedence. `request_hash` is computed lazily (on first read; `JSON.stringify` includes it) unless
 * approvals force it.
 */
export function assembleDecision(input: AssembleInput): Decision {
  const E = new Entries(input.hashOf, +input.time, input.approvals ?? [], input.requestHash);
  if (input.errors && input.errors.length > 0) E.failRequest(input.errors, input.onError);
  if (input.explain) E.explain = [];
  E.rules(input.rules, input.onError);
  if (input.budgets) E.budgetList(input.budgets, input.onError);
  const p = input.policy;
  return assemble(
    E,
    { policy: { name: p.name, version: p.version ?? null, hash: p.hash }, defaultEffect: input.defaultEffect, mode: input.mode ?? 'enforce' },
    input.time,
    input.reservation ?? null,
  );
}

/** A decision as a plain object (every field an own data property, `request_hash` computed). */
export function decisionToJSON(d: Decision): Decision {
  const t = (d as unknown as { toJSON?: () => Decision }).toJSON;
  return typeof t === 'function' ? t.call(d) : { ...d };
}
