// The decision service (`rein serve --api`, docs/service.md): an OPA-style REST API over the Engine.
//
//   POST /v1/decide            decision JSON (INTERFACES §1), budgets reserved
//   POST /v1/settle            { reservation, usage } → the reservation replaced by actual usage
//   POST /v1/evaluate          rules only (policy.evaluate): nothing reserved
//   POST /v1/decide/batch      a JSON array or NDJSON of decide bodies, decided in order
//   POST /v1/evaluate/batch    the same, rules only
//   GET  /v1/policy            the policy serving now (name, version, hash, last reload error)
//   GET  /openapi.json         the OpenAPI 3.1 document, generated from the zod schemas in schemas.ts
//
// Request bodies are validated by the zod schemas of schemas.ts; every failure is a 4xx with
// `{ error: { code, message, issues } }` naming the field. Bad input never reaches a 5xx.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Approval, Decision } from '../../runtime/decision.js';
import type { ServeContext, ServePlugin } from './app.js';
import { openApiDocument } from './openapi.js';
import type { PolicyVersion } from './policy-holder.js';
import { decideBodySchema, issuesOf, settleBodySchema, type DecideBody } from './schemas.js';

/** How deep a request body may nest (deeper bodies are refused with 400 `too_deep`). */
export const MAX_DEPTH = 64;
/** Items in one batch. */
export const MAX_BATCH_ITEMS = 10_000;
/** Batches may be this many times larger than single bodies. */
export const BATCH_BODY_FACTOR = 16;
/** How long after a reservation expires `settle` can still correct it (the Engine's grace). */
const SETTLE_GRACE_MS = 24 * 60 * 60 * 1000;

/** An NDJSON body, kept as text until the batch handler splits it. */
class NdjsonBody {
  constructor(readonly text: string) {}
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines'];

/** Whether `v` nests deeper than `max` (iterative: a hostile body cannot overflow the stack). */
export function tooDeep(v: unknown, max: number = MAX_DEPTH): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > max) return true;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const c = x[i];
        if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
      }
    } else {
      for (const k in x as Record<string, unknown>) {
        const c = (x as Record<string, unknown>)[k];
        if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
      }
    }
  }
  return false;
}

type Parsed = { ok: true; body: DecideBody } | { ok: false; status: number; code: string; message: string; issues?: { path: string; message: string }[] };

function parseDecideBody(raw: unknown): Parsed {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, status: 400, code: 'invalid_body', message: 'the body must be a JSON object like { "input": { … } }', issues: [{ path: '$', message: 'expected an object' }] };
  }
  if (tooDeep(raw)) return { ok: false, status: 400, code: 'too_deep', message: `the body nests deeper than ${MAX_DEPTH} levels` };
  const r = decideBodySchema.safeParse(raw);
  if (!r.success) {
    const issues = issuesOf(r.error);
    return { ok: false, status: 400, code: 'invalid_body', message: `${issues[0].path}: ${issues[0].message}`, issues };
  }
  return { ok: true, body: r.data };
}

function approvalsOf(b: DecideBody): readonly Approval[] | undefined {
  return b.approvals;
}

const apiPlugin: ServePlugin = async (app, { ctx }) => {
  const holder = ctx.policy;
  if (!holder) throw new Error('the api plugin needs a policy (--policy DIR|BUNDLE)');
  const onlyApi = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (ctx.authorize(req, reply, 'api')) done();
  };
  const onlySettle = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (ctx.authorize(req, reply, 'settle')) done();
  };

  for (const t of NDJSON_TYPES) app.addContentTypeParser(t, { parseAs: 'string' }, (_req, body, done) => done(null, new NdjsonBody(body as string)));

  /** Approvals in a body need the approvals token when one is configured (the caller could self-approve). */
  const approvalsAllowed = (req: FastifyRequest, b: DecideBody): boolean => !b.approvals?.length || ctx.auth.check(req.headers.authorization, 'approvals') === 'ok';

  const current = (): PolicyVersion => holder.current!;

  async function decideOne(v: PolicyVersion, b: DecideBody): Promise<Decision> {
    const now = b.now ? new Date(b.now) : undefined;
    const approvals = approvalsOf(b);
    const d = await v.engine.decide(b.input, approvals || b.explain || now ? { approvals, explain: b.explain, now } : undefined);
    if (d.reservation) holder!.track(v, d, SETTLE_GRACE_MS);
    return d;
  }

  function evaluateOne(v: PolicyVersion, b: DecideBody): Decision {
    const t0 = performance.now();
    const d = v.policy.evaluate(b.input, { approvals: approvalsOf(b), explain: b.explain, now: b.now ? new Date(b.now) : undefined, mode: ctx.options.mode });
    ctx.onDecision(d, { request: b.input, latencyMs: performance.now() - t0 });
    return d;
  }

  const single = (kind: 'decide' | 'evaluate') => async (req: FastifyRequest, reply: FastifyReply) => {
    const p = parseDecideBody(req.body);
    if (!p.ok) return ctx.fail(reply, p.status, p.code, p.message, p.issues);
    if (!approvalsAllowed(req, p.body)) return ctx.fail(reply, 403, 'forbidden', 'approvals in the body need the approvals token');
    const v = current();
    return kind === 'decide' ? decideOne(v, p.body) : evaluateOne(v, p.body);
  };

  app.post('/v1/decide', { onRequest: onlyApi }, single('decide'));
  app.post('/v1/evaluate', { onRequest: onlyApi }, single('evaluate'));

  app.post('/v1/settle', { onRequest: onlySettle }, async (req, reply) => {
    const raw = req.body;
    if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return ctx.fail(reply, 400, 'invalid_body', 'the body must be a JSON object like { "reservation": "…", "usage": { … } }', [{ path: '$', message: 'expected an object' }]);
    }
    if (tooDeep(raw)) return ctx.fail(reply, 400, 'too_deep', `the body nests deeper than ${MAX_DEPTH} levels`);
    const r = settleBodySchema.safeParse(raw);
    if (!r.success) {
      const issues = issuesOf(r.error);
      return ctx.fail(reply, 400, 'invalid_body', `${issues[0].path}: ${issues[0].message}`, issues);
    }
    const { reservation, usage } = r.data;
    const v = holder.ownerOf(reservation);
    if (!v) {
      ctx.metrics.settle('unknown');
      return ctx.fail(reply, 404, 'unknown_reservation', `reservation \`${reservation}\` is unknown here: settle at the process that decided (it may also have expired more than 24 h ago)`);
    }
    try {
      await v.engine.settle({ reservation: { id: reservation } } as unknown as Decision, usage ?? {});
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/already settled/.test(message)) {
        ctx.metrics.settle('already_settled');
        return ctx.fail(reply, 409, 'already_settled', message);
      }
      if (/budget store failed/.test(message)) {
        ctx.metrics.settle('store_failed');
        return ctx.fail(reply, 503, 'store_unavailable', message);
      }
      ctx.metrics.settle('invalid_usage');
      return ctx.fail(reply, 422, 'invalid_usage', message);
    }
    ctx.metrics.settle('ok');
    const pol = v.policy;
    return { settled: true, reservation, policy: { name: pol.name, version: pol.version, hash: pol.hash } };
  });

  const batch = (kind: 'decide' | 'evaluate') => async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.body;
    const ndjson = raw instanceof NdjsonBody;
    let items: { value?: unknown; error?: { code: string; message: string } }[];
    if (ndjson) {
      items = [];
      const lines = raw.text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i].trim();
        if (line === '') continue;
        try {
          items.push({ value: JSON.parse(line) });
        } catch (e) {
          items.push({ error: { code: 'invalid_json', message: `line ${i + 1}: ${(e as Error).message}` } });
        }
      }
    } else if (Array.isArray(raw)) {
      items = raw.map((value) => ({ value }));
    } else {
      return ctx.fail(reply, 400, 'invalid_body', 'expected a JSON array of decide bodies, or NDJSON (Content-Type: application/x-ndjson) with one per line');
    }
    if (items.length > MAX_BATCH_ITEMS) return ctx.fail(reply, 413, 'too_many_items', `a batch holds at most ${MAX_BATCH_ITEMS} items (got ${items.length})`);
    const v = current();
    const results: unknown[] = [];
    const summary = { items: items.length, allow: 0, deny: 0, require_approval: 0, errors: 0 };
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      let error = it.error;
      if (!error) {
        const p = parseDecideBody(it.value);
        if (!p.ok) error = { code: p.code, message: p.message };
        else if (!approvalsAllowed(req, p.body)) error = { code: 'forbidden', message: 'approvals in the body need the approvals token' };
        else {
          const d = kind === 'decide' ? await decideOne(v, p.body) : evaluateOne(v, p.body);
          summary[d.effect]++;
          results.push(d);
          continue;
        }
      }
      summary.errors++;
      results.push({ index: i, error });
    }
    if (ndjson) {
      return reply.type('application/x-ndjson').send(results.map((r) => JSON.stringify(r)).join('\n') + (results.length ? '\n' : ''));
    }
    return { results, summary };
  };

  const batchLimit = ctx.bodyLimit * BATCH_BODY_FACTOR;
  app.post('/v1/decide/batch', { onRequest: onlyApi, bodyLimit: batchLimit }, batch('decide'));
  app.post('/v1/evaluate/batch', { onRequest: onlyApi, bodyLimit: batchLimit }, batch('evaluate'));

  app.get('/v1/policy', { onRequest: onlyApi }, async () => {
    const v = current();
    return {
      name: v.policy.name,
      version: v.policy.version,
      hash: v.policy.hash,
      loaded_at: v.loadedAt,
      generation: v.generation,
      source: holder.source,
      reload_error: holder.lastError,
    };
  });

  const doc = JSON.stringify(openApiDocument());
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(doc));
};

export default apiPlugin;

/** For tests: the context type the plugin reads. */
export type { ServeContext };
