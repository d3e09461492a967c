// The request and response bodies of the decision service as zod schemas: the SAME schemas validate
// requests (api.ts) and generate the OpenAPI 3.1 document (openapi.ts, z.toJSONSchema), so the
// document cannot drift from what the server accepts.

import { z } from 'zod';
import { decisionSchema as publicDecisionSchema } from '../../runtime/decision-schema.js';
import type { Decision } from '../../runtime/decision.js';

// `decisionSchema` is a zod (mini) schema behind its public `Schema<Decision>` type (the package's
// declarations reference no dependency); here it is composed into other zod schemas.
const decisionSchema = publicDecisionSchema as unknown as z.core.$ZodType<Decision>;
const decisionShape = (publicDecisionSchema as unknown as { shape: z.core.$ZodShape }).shape;

const MAX_APPROVALS = 100;

/** A granted approval as the Engine takes it: a signed token (`rein1.…`, from the approval queue), or
 *  `{ rule, request_hash }` bound to the request's hash (trusted callers, when the server has no keys). */
export const approvalSchema = z.union([
  z.string().min(1).max(8192).describe('A signed approval token (`rein1.…`) from an approved request in the queue'),
  z
    .object({
      rule: z.string().min(1).max(256).describe('The rule or budget whose approval is granted'),
      request_hash: z.string().min(1).max(256).describe('The `request_hash` of the decision that asked for it'),
      token: z.string().min(1).max(8192).optional().describe('A signed approval token (then `rule` and `request_hash` are read from it)'),
    })
    .strict(),
]);

const nowSchema = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 time, e.g. 2026-11-24T10:00:00Z' })
  .describe('Evaluation time (default: the server clock). For replay and tests: /v1/decide accepts it only from a server started with --client-time (budgets are reserved on the server clock).');

export const decideBodySchema = z
  .object({
    input: z.record(z.string(), z.unknown()).describe('The request, as the policy set declares it with `input { … }`'),
    approvals: z.array(approvalSchema).max(MAX_APPROVALS).optional().describe('Approvals granted for this exact request'),
    explain: z.boolean().optional().describe('Include `explain`: every rule, matched or not, with the values it read'),
    now: nowSchema.optional(),
    request_approval: z
      .boolean()
      .optional()
      .describe('decide only: when the effect is `require_approval`, put each pending approval in the approval queue and return their ids in `approval_requests`'),
  })
  .strict();

export type DecideBody = z.output<typeof decideBodySchema>;

export const settleBodySchema = z
  .object({
    reservation: z.string().min(1).max(256).describe('`reservation.id` of the decision'),
    usage: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Actual usage, deep-merged into the request before `charge` is evaluated again (e.g. `{ "cost": { "estimate": 0.031 } }`)'),
  })
  .strict();

export type SettleBody = z.output<typeof settleBodySchema>;

export const approvalRequestRefSchema = z.object({
  id: z.string().describe('Poll it with GET /v1/approvals/{id}'),
  rule: z.string(),
  from: z.string().nullable(),
  expires: z.string(),
});

export const decideResponseSchema = z.object({
  ...decisionShape,
  approval_requests: z.array(approvalRequestRefSchema).optional().describe('Only with `request_approval: true` and a `require_approval` effect'),
});

const voteSchema = z.object({
  approved: z.boolean(),
  by: z.string(),
  group: z.string().nullable(),
  reason: z.string().nullable(),
  at: z.string(),
  token: z.string().nullable().describe('The signed approval token to pass in `approvals` (when the server signs)'),
  vote_id: z.string().optional().describe('A quorum vote\'s own id (of one approver\'s concurrent votes, the first stored counts)'),
});

const verdictSchema = voteSchema.extend({
  votes: z.array(voteSchema).optional().describe('With `quorum`: every approver\'s vote that made the verdict (pass every `token`)'),
});

export const approvalRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(['rule', 'budget']),
  rule: z.string(),
  from: z.string().nullable(),
  message: z.string().nullable(),
  request_hash: z.string(),
  policy: z.object({ name: z.string(), version: z.string().nullable(), hash: z.string() }),
  summary: z.unknown(),
  request: z.unknown().optional().describe('The request as the engine hashed it, when the queue writer stored it'),
  verified: z
    .enum(['verified', 'mismatch', 'missing'])
    .describe('`request` hashes to `request_hash` (verified), is another request (mismatch: it cannot be approved), or is not stored (missing: `summary` is the queue writer\'s word)'),
  policy_replaced: z
    .literal(true)
    .optional()
    .describe('With signed approvals: the record was asked under a version of the serving policy that a reload has since replaced; its token would be refused (for another policy version), so the agent must ask again'),
  created: z.string(),
  expires: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired']),
  verdict: verdictSchema.optional(),
  quorum: z.number().int().optional().describe('`require approval … quorum N`: distinct approvers needed'),
  expires_ms: z.number().int().optional().describe('`require approval … expires D`: how long (ms) a vote counts'),
  votes: z.array(voteSchema).optional().describe('With `quorum`: the approvals given so far, before the verdict'),
});

export const approvalVerdictBodySchema = z
  .object({
    approver: z.string().min(1).max(200).describe('Who decides (checked against the approver groups)'),
    reason: z.string().max(2000).optional(),
  })
  .strict();

export const settleResponseSchema = z
  .object({
    settled: z.literal(true),
    reservation: z.string(),
    policy: z.object({ name: z.string(), version: z.string().nullable(), hash: z.string() }),
  });

export const batchItemErrorSchema = z
  .object({
    index: z.number().int().describe('0-based position of the item in the batch'),
    error: z.object({ code: z.string(), message: z.string() }),
  });

export const batchResponseSchema = z
  .object({
    results: z.array(z.union([decisionSchema, batchItemErrorSchema])).describe('One entry per item, in order: a decision or an error'),
    summary: z.object({ items: z.number().int(), allow: z.number().int(), deny: z.number().int(), require_approval: z.number().int(), errors: z.number().int() }),
  });

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. `invalid_body`, `invalid_json`, `body_too_large`, `unauthorized`'),
      message: z.string(),
      issues: z
        .array(z.object({ path: z.string().describe('The field, e.g. `input` or `approvals[0].rule`'), message: z.string() }))
        .optional(),
    }),
  });

export const healthSchema = z.object({ status: z.literal('ok') });

export const readySchema = z
  .object({
    ready: z.boolean(),
    checks: z.object({
      policy: z.object({ ok: z.boolean(), hash: z.string().nullable(), name: z.string().nullable(), version: z.string().nullable(), loaded_at: z.string().nullable(), reload_error: z.string().nullable() }),
      store: z.object({ ok: z.boolean(), kind: z.enum(['memory', 'redis']), error: z.string().optional(), warning: z.string().optional() }),
    }),
  });

export const policyInfoSchema = z
  .object({
    name: z.string(),
    version: z.string().nullable(),
    hash: z.string(),
    loaded_at: z.string(),
    generation: z.number().int(),
    source: z.string(),
    reload_error: z.object({ message: z.string(), time: z.string() }).nullable(),
  });

export { decisionSchema };

/** The named schemas of the OpenAPI document (`#/components/schemas/<name>`). */
export const namedSchemas = {
  Approval: approvalSchema,
  DecideRequest: decideBodySchema,
  SettleRequest: settleBodySchema,
  SettleResponse: settleResponseSchema,
  Decision: decisionSchema,
  DecideResponse: decideResponseSchema,
  ApprovalRequestRef: approvalRequestRefSchema,
  ApprovalRecord: approvalRecordSchema,
  ApprovalVerdictRequest: approvalVerdictBodySchema,
  BatchItemError: batchItemErrorSchema,
  BatchResponse: batchResponseSchema,
  Error: errorSchema,
  Health: healthSchema,
  Ready: readySchema,
  PolicyInfo: policyInfoSchema,
} as const;

/** zod issues → `{ path, message }` with readable paths (`approvals[0].rule`). A union's issues are
 *  those of the branch that got furthest (the object branch for an object), so the field is named. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const add = (i: z.core.$ZodIssue, prefix: PropertyKey[]) => {
    const full = [...prefix, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length > 0) {
      const deeper = i.errors.find((branch) => branch.length > 0 && branch.every((b) => b.path.length > 0 || b.code === 'unrecognized_keys'));
      if (deeper) {
        for (const b of deeper) add(b, full);
        return;
      }
    }
    let p = '';
    for (const seg of full) p += typeof seg === 'number' ? `[${seg}]` : p === '' ? String(seg) : `.${String(seg)}`;
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `\`${k}\``).join(', ')}`;
    out.push({ path: p || '$', message });
  };
  for (const i of error.issues) add(i, []);
  return out;
}
