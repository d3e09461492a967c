// The decision's zod schema and JSON Schema (INTERFACES §1), apart from decision.ts so that the
// evaluator (`rein/runtime`) does not carry zod: only code that validates decisions imports this.

import * as z from 'zod/mini';
import type { Same, Schema } from '../schema.js';
import type { ApprovalRequest, BudgetEntry, BudgetExplanation, Decision, Reason } from './decision.js';

// ---------------------------------------------------------------- schema

const effectSchema = z.enum(['allow', 'deny', 'require_approval']);
const clauseEffectSchema = z.enum(['allow', 'deny', 'require_approval', 'warn']);

const locationSchema = z.object({
  file: z.string(),
  line: z.int(),
  column: z.int(),
});

const annotationsSchema = z.record(z.string(), z.union([z.string(), z.literal(true)]));

/** One entry of `reasons`, `warnings` and `monitored`. */
const reasonSchema = z.object({
  kind: z.enum(['rule', 'budget', 'default', 'error']),
  /** Rule or budget name (absent for `default` and for request-level errors). */
  name: z.optional(z.string()),
  /** The entry's own effect (for `reasons`, always the decision's effect; `redact`: a matched
   *  `redact` rule under `monitored`). */
  effect: z.enum(['allow', 'deny', 'require_approval', 'warn', 'redact']),
  message: z.nullable(z.string()),
  annotations: z.optional(annotationsSchema),
  location: z.optional(locationSchema),
  /** Set on a `require approval` rule/budget whose approval was granted (it then counts as `allow`). */
  approved: z.optional(z.boolean()),
  /** With a verified approval token (Engine `approvalKeys`): who approved, as a member of which group. */
  approved_by: z.optional(z.object({ approver: z.string(), group: z.nullable(z.string()) })),
  /** With `quorum N`: every approval that counted toward the quorum. */
  approvers: z.optional(z.array(z.object({ approver: z.nullable(z.string()), group: z.nullable(z.string()) }))),
});

const approvalRequestSchema = z.object({
  kind: z.enum(['rule', 'budget']),
  name: z.string(),
  from: z.nullable(z.string()),
  message: z.nullable(z.string()),
  location: z.optional(locationSchema),
  /** `quorum N` (N > 1): how many distinct approvers must approve. */
  quorum: z.optional(z.number()),
  /** `expires D`: how long (ms) an approval counts after it is given. */
  expires_ms: z.optional(z.number()),
  /** With a quorum: the distinct approvers whose approvals already count. */
  approved_by: z.optional(z.array(z.string())),
});

const amountSchema = z.union([z.string(), z.number()]);

const budgetEntrySchema = z.object({
  name: z.string(),
  key: z.array(z.unknown()),
  /** Money as a 6-fractional-digit decimal string; counts as JSON numbers. */
  limit: amountSchema,
  /** The counters before this request; null (with `remaining`) when the budget store failed. */
  spent: z.nullable(amountSchema),
  reserved: z.nullable(amountSchema),
  charge: amountSchema,
  remaining: z.nullable(amountSchema),
  window: z.nullable(z.object({ start: z.string(), end: z.string() })),
  exceeded: z.boolean(),
  warned: z.boolean(),
});

const decisionErrorSchema = z.object({
  kind: z.enum(['input', 'rule', 'budget', 'store', 'approval']),
  message: z.string(),
  path: z.optional(z.string()),
  expected: z.optional(z.string()),
  name: z.optional(z.string()),
  location: z.optional(locationSchema),
});

const clauseExplanationSchema = z.object({
  kind: z.enum(['when', 'unless']),
  source: z.string(),
  value: z.nullable(z.boolean()),
  reads: z.array(z.object({ path: z.string(), value: z.unknown() })),
  location: locationSchema,
});

const ruleExplanationSchema = z.object({
  name: z.string(),
  matched: z.boolean(),
  effect: clauseEffectSchema,
  clauses: z.array(clauseExplanationSchema),
  error: z.optional(z.string()),
});

/** Why a budget applied or not, and its numbers (`explain: true` with the Engine). */
const budgetExplanationSchema = z.object({
  name: z.string(),
  /** Its `when`/`unless` clauses hold for this request (or failed: a failure counts against it). */
  applied: z.boolean(),
  /** In words: why it applied or not, and what it did (counted, reserved, blocked, failed). */
  why: z.string(),
  limit: amountSchema,
  window: z.nullable(z.object({ start: z.string(), end: z.string() })),
  /** When applied: the `by` key, the counters before this request, the charge and what remains. */
  key: z.optional(z.array(z.unknown())),
  spent: z.optional(z.nullable(amountSchema)),
  reserved: z.optional(z.nullable(amountSchema)),
  charge: z.optional(amountSchema),
  remaining: z.optional(z.nullable(amountSchema)),
  exceeded: z.optional(z.boolean()),
  /** Exceeding it blocks the reservation (`on exceed deny`, an ungranted approval; never `@monitor`). */
  enforced: z.optional(z.boolean()),
  /** Its `on exceed` effect. */
  on_exceed: clauseEffectSchema,
  error: z.optional(z.string()),
});

/** One transform (a matched `redact` rule, per string it masks in). */
const transformSchema = z.object({
  rule: z.string(),
  op: z.literal('redact'),
  /** From the request's root: object keys and list indexes. */
  path: z.array(z.union([z.string(), z.number()])),
  detector: z.nullable(z.string()),
  replacement: z.string(),
  /** `[start, end)` in UTF-16 code units of the original string, left to right, not overlapping. */
  spans: z.array(z.object({ start: z.int(), end: z.int() })),
  /** The spans are in the map key that ends `path` (the entry is renamed). */
  key: z.optional(z.literal(true)),
});

const decisionZod = z.object({
  effect: effectSchema,
  reasons: z.array(reasonSchema),
  approvals: z.array(approvalRequestSchema),
  warnings: z.array(reasonSchema),
  monitored: z.array(reasonSchema),
  budgets: z.array(budgetEntrySchema),
  errors: z.array(decisionErrorSchema),
  /** Set by the engine when budget charges were reserved (effect `allow`, enforce mode). */
  reservation: z.nullable(z.object({ id: z.string(), expires: z.string() })),
  policy: z.object({ name: z.string(), version: z.nullable(z.string()), hash: z.string() }),
  /** SHA-256 of the canonical JSON of the validated request; null only when the request could not be hashed (e.g. cyclic). */
  request_hash: z.nullable(z.string()),
  time: z.string(),
  /** `enforce` or `monitor` (dry run: the effect is always `allow`; see `would_effect`). */
  mode: z.enum(['enforce', 'monitor']),
  /** Monitor mode only: the effect the decision would have had in enforce mode. */
  would_effect: z.optional(effectSchema),
  /** What the host must change in the request (matched `redact` rules, enforce mode); absent when nothing. */
  transforms: z.optional(z.array(transformSchema)),
  /** Only when asked (`explain: true`). */
  explain: z.optional(z.array(ruleExplanationSchema)),
  /** Only when asked (`explain: true`, Engine): every budget of the policy, in source order. */
  explain_budgets: z.optional(z.array(budgetExplanationSchema)),
  /** The host-function (`extern def`) calls the decision made, with their results or errors. */
  externs: z.optional(z.array(z.object({ name: z.string(), args: z.array(z.unknown()), value: z.optional(z.unknown()), error: z.optional(z.string()) }))),
});

/** Validates a decision (e.g. one read back from a log). Its JSON Schema: `decisionJsonSchema()`. */
export const decisionSchema: Schema<Decision> = decisionZod;
// The explicit types above mirror the schema exactly (a compile error otherwise).
const same: [Same<z.infer<typeof decisionZod>, Decision>, Same<z.infer<typeof reasonSchema>, Reason>, Same<z.infer<typeof approvalRequestSchema>, ApprovalRequest>, Same<z.infer<typeof budgetEntrySchema>, BudgetEntry>, Same<z.infer<typeof budgetExplanationSchema>, BudgetExplanation>] = [true, true, true, true, true];
void same;

/** The JSON Schema of a decision (written to `dist/decision.schema.json` by the build). */
export function decisionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(decisionZod, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
  return {
    $id: 'https://rein.dev/decision.schema.json',
    title: 'Rein decision',
    ...schema,
  };
}

