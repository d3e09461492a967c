// The OpenAPI 3.1 document of the decision service, generated from the zod schemas that validate the
// requests (schemas.ts) with zod v4's z.toJSONSchema (JSON Schema 2020-12, which OpenAPI 3.1 uses).
// Served at GET /openapi.json and written to dist/openapi.json by the build (shipped in the package).

import { z } from 'zod';
import { REIN_VERSION } from '../version.js';
import { namedSchemas } from './schemas.js';

const ref = (name: keyof typeof namedSchemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof namedSchemas, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const errors = (...codes: number[]) => {
  const text: Record<number, string> = {
    400: 'Malformed JSON or a body that does not match the schema (`error.issues` names the fields)',
    401: 'Missing or wrong bearer token',
    403: 'The token does not allow this (e.g. approvals without the approvals token)',
    404: 'Unknown reservation or approval (or no approval queue)',
    409: 'The reservation was already settled, or the approval already decided or expired',
    413: 'The body is larger than the limit (or a batch has too many items)',
    415: 'Unsupported content type',
    422: 'The usage does not merge into a valid request, or a charge is unusable',
    503: 'Not ready (policy not loaded, or the budget store cannot serve decisions: unreachable, read-only, out of memory, a cluster node)',
  };
  return Object.fromEntries(codes.map((c) => [String(c), json('Error', text[c])]));
};

let cached: Record<string, unknown> | null = null;

function componentSchemas(): Record<string, unknown> {
  const reg = z.registry<{ id: string }>();
  for (const [id, s] of Object.entries(namedSchemas)) reg.add(s as z.ZodType, { id });
  const out = z.toJSONSchema(reg, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  for (const s of Object.values(out.schemas)) delete s.$schema;
  for (const s of Object.values(out.schemas)) delete s.$id;
  return out.schemas;
}

export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const bearer = [{ bearer: [] }, {}];
  const decideBody = { required: true, content: { 'application/json': { schema: ref('DecideRequest') } } };
  const batchBody = {
    required: true,
    content: {
      'application/json': { schema: { type: 'array', items: ref('DecideRequest') } },
      'application/x-ndjson': { schema: { type: 'string', description: 'One DecideRequest JSON object per line' } },
    },
  };
  const batchResponses = {
    '200': {
      description: 'One result per item, in order. A JSON array body gets a BatchResponse; an NDJSON body gets NDJSON, one Decision or BatchItemError per line.',
      content: { 'application/json': { schema: ref('BatchResponse') }, 'application/x-ndjson': { schema: { type: 'string' } } },
    },
    ...errors(400, 401, 413, 415),
  };
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Rein decision service',
      version: REIN_VERSION,
      description: 'Policy decisions, budget reservations and settlement for AI agents in any language. See docs/service.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // relative: the server that serves this document (whatever --listen is)
    servers: [{ url: '/' }],
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Only when the server has tokens (--token-file, REIN_API_TOKEN, …)' } },
    },
    paths: {
      '/v1/decide': {
        post: {
          operationId: 'decide',
          summary: 'Decide one request; budgets are checked and reserved',
          security: bearer,
          requestBody: decideBody,
          responses: {
            '200': json('DecideResponse', 'The decision (whatever its effect). `reservation.id` is what /v1/settle takes; `approval_requests` only with `request_approval`.'),
            ...errors(400, 401, 403, 413, 415),
            '503': json('Error', '`approval_queue_unavailable`: with `request_approval`, the decision is require_approval but the approval queue cannot be written (a read-only or full disk, Redis down); retry later'),
          },
        },
      },
      '/v1/settle': {
        post: {
          operationId: 'settle',
          summary: 'Replace a reservation by the actual usage (once per decision)',
          security: bearer,
          requestBody: { required: true, content: { 'application/json': { schema: ref('SettleRequest') } } },
          responses: { '200': json('SettleResponse', 'Settled'), ...errors(400, 401, 404, 409, 413, 415, 422, 503) },
        },
      },
      '/v1/evaluate': {
        post: {
          operationId: 'evaluate',
          summary: 'Decide with the rules and the default only: no budgets, nothing reserved',
          security: bearer,
          requestBody: decideBody,
          responses: { '200': json('Decision', 'The decision'), ...errors(400, 401, 403, 413, 415) },
        },
      },
      '/v1/decide/batch': {
        post: { operationId: 'decideBatch', summary: 'Decide many requests in order (budgets reserved)', security: bearer, requestBody: batchBody, responses: batchResponses },
      },
      '/v1/evaluate/batch': {
        post: { operationId: 'evaluateBatch', summary: 'Evaluate many requests in order (rules only; for replay and offline scoring)', security: bearer, requestBody: batchBody, responses: batchResponses },
      },
      '/v1/policy': {
        get: { operationId: 'policy', summary: 'The policy version serving now', security: bearer, responses: { '200': json('PolicyInfo', 'The policy'), ...errors(401) } },
      },
      '/v1/approvals/{id}': {
        get: {
          operationId: 'approval',
          summary: 'One queued approval: its status and, once approved, the verdict with the signed token to decide with',
          security: bearer,
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'wait', in: 'query', required: false, description: 'Seconds (≤ 60) to wait while it is pending', schema: { type: 'number', minimum: 0, maximum: 60 } },
          ],
          responses: { '200': json('ApprovalRecord', 'The record'), ...errors(400, 401, 404) },
        },
      },
      '/v1/approvals': {
        get: {
          operationId: 'approvals',
          summary: 'Queued approvals (approvals token)',
          security: bearer,
          parameters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['pending', 'approved', 'denied', 'expired', 'all'] } }],
          responses: {
            '200': { description: 'The records, newest first', content: { 'application/json': { schema: { type: 'object', properties: { approvals: { type: 'array', items: ref('ApprovalRecord') } } } } } },
            ...errors(400, 401, 404),
          },
        },
      },
      '/v1/approvals/{id}/approve': {
        post: {
          operationId: 'approve',
          summary: 'Approve (approvals token; the approver must be in the group the rule names)',
          security: bearer,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('ApprovalVerdictRequest') } } },
          responses: { '200': json('ApprovalRecord', 'Approved (with the signed token when the server signs)'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/approvals/{id}/deny': {
        post: {
          operationId: 'deny',
          summary: 'Deny (approvals token)',
          security: bearer,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('ApprovalVerdictRequest') } } },
          responses: { '200': json('ApprovalRecord', 'Denied'), ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/health': { get: { operationId: 'health', summary: 'Liveness: the process answers', responses: { '200': json('Health', 'Alive') } } },
      '/ready': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: the policy is loaded and the budget store answers',
          responses: { '200': json('Ready', 'Ready'), '503': json('Ready', 'Not ready (see checks)') },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus text exposition (OpenTelemetry instruments)',
          security: bearer,
          responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(401) },
        },
      },
      '/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
  };
  return cached;
}
