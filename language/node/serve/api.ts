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
import type { PolicyLike } from '../../runtime/engine.js';
import { logVerdict } from '../approvals/audit.js';
import { verifyRecord, type ApprovalRecord, type DecideOutcome } from '../approvals/queue.js';
import { POLICY_HASH_HEADER, SETS_POLICY_HASH, type ServeContext, type ServePlugin } from './app.js';
import { decisionJson } from './decision-json.js';
import { openApiDocument } from './openapi.js';
import type { PolicyVersion } from './policy-holder.js';
import { approvalVerdictBodySchema, decideBodySchema, issuesOf, settleBodySchema, type DecideBody, type SettleBody } from './schemas.js';

/** How deep a request body may nest (deeper bodies are refused with 400 `too_deep`). */
export const MAX_DEPTH = 64;
/** Items in one batch. */
export const MAX_BATCH_ITEMS = 10_000;
/** Batches may be this many times larger than single bodies. */
export const BATCH_BODY_FACTOR = 16;

/** An NDJSON body, kept as text until the batch handler splits it. */
class NdjsonBody {
  constructor(readonly text: string) {}
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines'];

/** Whether `v` nests deeper than `max`. Recursive, but never more than `max` + 1 calls deep (a
 *  hostile body cannot overflow the stack), and allocation-free (it runs on every request). */
export function tooDeep(v: unknown, max: number = MAX_DEPTH): boolean {
  return typeof v === 'object' && v !== null && deeper(v, 1, max);
}

function deeper(x: object, d: number, max: number): boolean {
  if (d > max) return true;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const c: unknown = x[i];
      if (typeof c === 'object' && c !== null && deeper(c, d + 1, max)) return true;
    }
  } else {
    for (const k in x) {
      const c = (x as Record<string, unknown>)[k];
      if (typeof c === 'object' && c !== null && deeper(c, d + 1, max)) return true;
    }
  }
  return false;
}

export type Parsed = { ok: true; body: DecideBody } | { ok: false; status: number; code: string; message: string; issues?: { path: string; message: string }[] };

/**
 * The body nearly every agent sends, `{ "input": { … } }`, checked without zod: exactly the key
 * `input`, holding an object made by `JSON.parse` (prototype Object.prototype). zod accepts such a
 * body and returns it with `input` copied key by key; here it is returned as it is (nothing else
 * holds the parsed body, and the engine validates and copies `input` itself). Anything else — more
 * keys, another type — is null and goes through zod, which also writes the error messages.
 * test/serve/decide-fast-path.test.ts compares the two on generated bodies.
 */
export function plainDecideBody(raw: object): DecideBody | null {
  if (Object.getPrototypeOf(raw) !== Object.prototype) return null;
  let input: unknown;
  let n = 0;
  for (const k in raw) {
    if (k !== 'input' || n++ > 0) return null;
    input = (raw as Record<string, unknown>).input;
  }
  return typeof input === 'object' && input !== null && Object.getPrototypeOf(input) === Object.prototype ? (raw as DecideBody) : null;
}

/**
 * The settle body nearly every agent sends, `{ "reservation": "…", "usage": { … } }` (usage optional),
 * checked without zod: exactly those keys, made by `JSON.parse` (prototype Object.prototype), a
 * reservation string of 1–256 characters and a usage object. Returned as it is (zod would copy
 * `usage` key by key; the engine merges it into a copy of the request anyway); anything else is null
 * and goes through zod, which writes the error messages. test/serve/settle-fast-path.test.ts compares
 * the two on generated bodies.
 */
export function plainSettleBody(raw: object): SettleBody | null {
  if (Object.getPrototypeOf(raw) !== Object.prototype) return null;
  const b = raw as Record<string, unknown>;
  for (const k in b) if (k !== 'reservation' && k !== 'usage') return null;
  const r = b.reservation;
  if (typeof r !== 'string' || r.length < 1 || r.length > 256) return null;
  if (!('usage' in b)) return b as SettleBody;
  const u = b.usage;
  return typeof u === 'object' && u !== null && Object.getPrototypeOf(u) === Object.prototype ? (b as SettleBody) : null;
}

/** The body parseDecideBody takes without zod (`plainDecideBody`, after its type and depth checks),
 *  or null: parseDecideBody decides. */
export function plainBody(raw: unknown): DecideBody | null {
  if (typeof raw !== 'object' || raw === null || raw instanceof NdjsonBody || Array.isArray(raw) || tooDeep(raw)) return null;
  return plainDecideBody(raw);
}

/** A decide or evaluate body: parsed and checked (depth, then the zod schema), or why not. */
export function parseDecideBody(raw: unknown): Parsed {
  if (raw instanceof NdjsonBody) {
    return { ok: false, status: 415, code: 'unsupported_media_type', message: 'an NDJSON body goes to the batch endpoints (/v1/decide/batch, /v1/evaluate/batch); send one decision as JSON' };
  }
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, status: 400, code: 'invalid_body', message: 'the body must be a JSON object like { "input": { … } }', issues: [{ path: '$', message: 'expected an object' }] };
  }
  if (tooDeep(raw)) return { ok: false, status: 400, code: 'too_deep', message: `the body nests deeper than ${MAX_DEPTH} levels` };
  const plain = plainDecideBody(raw);
  if (plain !== null) return { ok: true, body: plain };
  const r = decideBodySchema.safeParse(raw);
  if (!r.success) {
    const issues = issuesOf(r.error);
    return { ok: false, status: 400, code: 'invalid_body', message: `${issues[0].path}: ${issues[0].message}`, issues };
  }
  return { ok: true, body: r.data };
}

/** The decide and evaluate routes' 200 response schema for fastify: only a key for their serializer
 *  (`decisionJson`); the documented schema is the OpenAPI document's (openapi.ts). */
const DECISION_RESPONSE = Object.freeze({ description: 'a decision (INTERFACES §1)' });

/** Longest wait of GET /v1/approvals/{id}?wait=SECONDS. */
export const MAX_APPROVAL_WAIT_S = 60;

const apiPlugin: ServePlugin = async (app, { ctx }) => {
  const holder = ctx.policy;
  if (!holder) throw new Error('the api plugin needs a policy (--policy DIR|BUNDLE)');
  const onlyApi = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (ctx.authorize(req, reply, 'api')) done();
  };
  const onlySettle = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (ctx.authorize(req, reply, 'settle')) done();
  };
  // Without tokens every scope is open: the hot routes then run no onRequest hook at all.
  const apiHooks = () => (ctx.auth.enabled ? { onRequest: onlyApi } : {});
  const settleHooks = () => (ctx.auth.enabled ? { onRequest: onlySettle } : {});

  for (const t of NDJSON_TYPES) app.addContentTypeParser(t, { parseAs: 'string' }, (_req, body, done) => done(null, new NdjsonBody(body as string)));

  /** Approvals in a body need the approvals token when one is configured (the caller could
   *  self-approve) — unless the engine verifies them as signed tokens (approvalKeys). */
  const approvalsAllowed = (req: FastifyRequest, b: DecideBody): boolean =>
    !b.approvals?.length || ctx.verifiesApprovals || ctx.auth.check(req.headers.authorization, 'approvals') === 'ok';

  const current = (): PolicyVersion => holder.current!;

  /** Decide `b`; without a promise when the version decides synchronously (`PolicyVersion.synchronous`:
   *  the memory store, no externs), so the route can answer in the same turn. */
  function decideOne(v: PolicyVersion, b: DecideBody): Decision | Promise<Decision> {
    const approvals = b.approvals;
    const opts = approvals || b.explain || b.now ? { approvals, explain: b.explain, now: b.now ? new Date(b.now) : undefined } : undefined;
    if (v.synchronous) return tracked(v, v.engine.decideSync(b.input, opts));
    return v.engine.decide(b.input, opts).then((d) => tracked(v, d));
  }

  function tracked(v: PolicyVersion, d: Decision): Decision {
    if (d.reservation) holder!.track(v, d, ctx.settleGraceMs);
    return d;
  }

  function evaluateOne(v: PolicyVersion, b: DecideBody): Decision {
    const t0 = performance.now();
    // Rules only: approvals are taken as `{ rule, request_hash }` (a token cannot be verified here;
    // with approval keys, evaluate refuses approvals — see `evaluateProblem`).
    const approvals = b.approvals?.filter((a): a is Approval => typeof a === 'object');
    const d = v.policy.evaluate(b.input, { approvals, explain: b.explain, now: b.now ? new Date(b.now) : undefined, mode: ctx.options.mode });
    // Logged marked: a request scored (replay, offline scoring), not a decision anyone acted on
    // (review h13r1 S16); `rein report` leaves such records out.
    ctx.onDecision({ ...d, evaluated_only: true } as Decision, { request: b.input, latencyMs: performance.now() - t0 });
    return d;
  }

  /** Why a body cannot be used with an endpoint (400), or null. */
  function bodyProblem(kind: 'decide' | 'evaluate', b: DecideBody): { code: string; message: string } | null {
    if (kind === 'evaluate' && b.request_approval) return { code: 'invalid_body', message: 'request_approval: only /v1/decide queues approvals' };
    if (kind === 'evaluate' && ctx.verifiesApprovals && b.approvals?.length) {
      return { code: 'invalid_body', message: 'approvals: /v1/evaluate cannot verify approval tokens; use /v1/decide' };
    }
    if (kind === 'decide' && b.now !== undefined && !ctx.options.clientTime) {
      return { code: 'invalid_body', message: "now: /v1/decide reserves budgets on the server's clock (start rein serve with --client-time to accept a client's time, for replay or tests)" };
    }
    if (b.request_approval && !ctx.approvals) return { code: 'no_approval_queue', message: 'request_approval: this server has no approval queue (start it with --approvals DIR|redis)' };
    return null;
  }

  // Not an async function: a decision made synchronously is returned as it is (fastify sends it in the
  // same turn, no promise); only what awaits (an async store, externs, the approval queue) returns one.
  const single = (kind: 'decide' | 'evaluate') => (req: FastifyRequest, reply: FastifyReply): unknown => {
    // `{ "input": { … } }` as parseDecideBody takes it, without its `{ ok, body }` wrapper
    let body = plainBody(req.body);
    if (body === null) {
      const p = parseDecideBody(req.body);
      if (!p.ok) return ctx.fail(reply, p.status, p.code, p.message, p.issues);
      body = p.body;
    }
    const problem = bodyProblem(kind, body);
    if (problem) return ctx.fail(reply, 400, problem.code, problem.message);
    if (!approvalsAllowed(req, body)) return ctx.fail(reply, 403, 'forbidden', 'approvals in the body need the approvals token');
    const v = current();
    reply.header(POLICY_HASH_HEADER, v.policy.hash);
    if (kind === 'evaluate') return evaluateOne(v, body);
    const d = decideOne(v, body);
    if (!body.request_approval) return d;
    return Promise.resolve(d).then((d) => queueApprovals(d, body, v.policy, reply));
  };

  /** With `request_approval`: queue each pending approval; the agent polls GET /v1/approvals/{id}
   *  for the verdict and its token. */
  async function queueApprovals(d: Decision, b: DecideBody, policy: PolicyLike, reply: FastifyReply): Promise<unknown> {
    if (d.effect !== 'require_approval') return d;
    // the request too, validated as the engine did: the inbox shows it verified against request_hash
    let recs: Awaited<ReturnType<NonNullable<typeof ctx.approvals>['request']>>;
    try {
      recs = await ctx.approvals!.request(d, b.input, { request: b.input, policy });
    } catch (e) {
      // A queue that cannot be written (a read-only or full disk, Redis down): the agent may retry;
      // nothing was granted (review h13r1 S18).
      const why = e instanceof Error ? e.message : String(e);
      ctx.log(`request_approval: the approval queue cannot be written: ${why}`);
      return ctx.fail(reply, 503, 'approval_queue_unavailable', `the decision is require_approval, but the approval queue cannot be written (${why}); retry later`);
    }
    const out = JSON.parse(JSON.stringify(d)) as Decision & { approval_requests?: unknown };
    out.approval_requests = recs.map((r) => ({ id: r.id, rule: r.rule, from: r.from, expires: r.expires }));
    return out;
  }

  // The hot routes set Rein-Policy-Hash in the handler (app.ts: no onSend hook for them). Their 200
  // answers (a decision; with request_approval a plain copy of one) are written by `decisionJson`,
  // fastify's response serializer for status 200 (the same bytes as JSON.stringify, in one pass,
  // as a Buffer fastify sends as it is: decision-json.ts); error answers keep fastify's default.
  const hot = () => ({ ...apiHooks(), config: { [SETS_POLICY_HASH]: true }, schema: { response: { 200: DECISION_RESPONSE } }, serializerCompiler: () => decisionJson as (d: unknown) => string });
  app.post('/v1/decide', hot(), single('decide'));
  app.post('/v1/evaluate', hot(), single('evaluate'));

  app.post('/v1/settle', settleHooks(), async (req, reply) => {
    const raw = req.body;
    if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return ctx.fail(reply, 400, 'invalid_body', 'the body must be a JSON object like { "reservation": "…", "usage": { … } }', [{ path: '$', message: 'expected an object' }]);
    }
    if (tooDeep(raw)) return ctx.fail(reply, 400, 'too_deep', `the body nests deeper than ${MAX_DEPTH} levels`);
    let body = plainSettleBody(raw);
    if (body === null) {
      const r = settleBodySchema.safeParse(raw);
      if (!r.success) {
        const issues = issuesOf(r.error);
        return ctx.fail(reply, 400, 'invalid_body', `${issues[0].path}: ${issues[0].message}`, issues);
      }
      body = r.data;
    }
    const { reservation, usage } = body;
    const a = await ctx.settle(reservation, usage);
    if (a.status === 200) return a.body;
    const e = (a.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    return ctx.fail(reply, a.status, typeof e?.code === 'string' ? e.code : 'internal_error', typeof e?.message === 'string' ? e.message : 'settle failed');
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
        const problem = p.ok ? (p.body.request_approval ? { code: 'invalid_body', message: 'request_approval: not in a batch' } : bodyProblem(kind, p.body)) : null;
        if (!p.ok) error = { code: p.code, message: p.message };
        else if (problem) error = problem;
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
  app.post('/v1/decide/batch', { ...apiHooks(), bodyLimit: batchLimit }, batch('decide'));
  app.post('/v1/evaluate/batch', { ...apiHooks(), bodyLimit: batchLimit }, batch('evaluate'));

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

  // ---------------------------------------------------------------- approvals (the queue)

  /** A record as the API answers it: with `verified` (its `request` hashes to `request_hash`:
   *  `verified`, `mismatch` or `missing`), as `rein approvals --format json` and the inbox show it. */
  const withVerified = <R extends Pick<ApprovalRecord, 'request' | 'request_hash' | 'policy'>>(r: R): R & { verified: ReturnType<typeof verifyRecord>; policy_replaced?: true } => {
    const out: R & { verified: ReturnType<typeof verifyRecord>; policy_replaced?: true } = { ...r, verified: verifyRecord(r) };
    // Signed tokens are bound to the policy hash: a record asked under a version of this policy that a
    // reload has since replaced can be approved, but its token will not be accepted (review h13r1 S17).
    const cur = ctx.policy?.current?.policy;
    if (ctx.verifiesApprovals && cur && r.policy?.name === cur.name && r.policy.hash !== cur.hash) out.policy_replaced = true;
    return out;
  };

  const onlyApprovals = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (ctx.authorize(req, reply, 'approvals')) done();
  };
  const queue = () => ctx.approvals;
  const noQueue = (reply: FastifyReply) => ctx.fail(reply, 404, 'no_approval_queue', 'this server has no approval queue (start it with --approvals DIR|redis)');

  // The agent polls its own request (api token): the verdict carries the signed token to decide with.
  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>('/v1/approvals/:id', { onRequest: onlyApi }, async (req, reply) => {
    const q = queue();
    if (!q) return noQueue(reply);
    const waitRaw = req.query.wait;
    let waitS = 0;
    if (waitRaw !== undefined) {
      waitS = Number(waitRaw);
      if (!/^\d+(\.\d+)?$/.test(waitRaw) || waitS > MAX_APPROVAL_WAIT_S) {
        return ctx.fail(reply, 400, 'invalid_query', `wait must be a number of seconds between 0 and ${MAX_APPROVAL_WAIT_S}`);
      }
    }
    let rec = await q.get(req.params.id);
    if (rec === null) return ctx.fail(reply, 404, 'unknown_approval', `no approval with id ${JSON.stringify(req.params.id.slice(0, 60))}`);
    if (rec.status === 'pending' && waitS > 0) {
      const ac = new AbortController();
      const onClose = () => ac.abort();
      req.raw.once('close', onClose);
      try {
        await q.wait([rec.id], { timeoutMs: waitS * 1000, signal: ac.signal });
      } finally {
        req.raw.off('close', onClose);
      }
      rec = (await q.get(rec.id)) ?? rec;
    }
    // The agent polls here: a pending quorum's votes without their single-use tokens — presented
    // before the quorum, they were consumed and the request could never be granted. They come with
    // the verdict (`verdict.votes`), all together.
    if (rec.status === 'pending' && rec.votes) return withVerified({ ...rec, votes: rec.votes.map(({ token: _t, ...v }) => v) });
    return withVerified(rec);
  });

  app.get<{ Querystring: { status?: string } }>('/v1/approvals', { onRequest: onlyApprovals }, async (req, reply) => {
    const q = queue();
    if (!q) return noQueue(reply);
    const status = req.query.status ?? 'pending';
    if (!['pending', 'approved', 'denied', 'expired', 'all'].includes(status)) return ctx.fail(reply, 400, 'invalid_query', 'status must be pending, approved, denied, expired or all');
    return { approvals: (await q.list(status as 'pending')).map(withVerified) };
  });

  const verdict = (approve: boolean) => async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const q = queue();
    if (!q) return noQueue(reply);
    const r = approvalVerdictBodySchema.safeParse(req.body ?? {});
    if (!r.success) {
      const issues = issuesOf(r.error);
      return ctx.fail(reply, 400, 'invalid_body', `${issues[0].path}: ${issues[0].message}`, issues);
    }
    const out: DecideOutcome = approve ? await q.approve(req.params.id, r.data.approver, r.data.reason) : await q.deny(req.params.id, r.data.approver, r.data.reason);
    if (out.ok) {
      logVerdict(ctx.verdictLog, out.record);
      return withVerified(out.record);
    }
    const status = { unknown: 404, forbidden: 403, decided: 409, expired: 409, invalid: 400, unverified: 409 }[out.code];
    return ctx.fail(reply, status, out.code === 'unknown' ? 'unknown_approval' : out.code === 'decided' ? 'already_decided' : out.code === 'invalid' ? 'invalid_body' : out.code === 'unverified' ? 'unverified_request' : out.code, out.message);
  };
  app.post<{ Params: { id: string } }>('/v1/approvals/:id/approve', { onRequest: onlyApprovals }, verdict(true));
  app.post<{ Params: { id: string } }>('/v1/approvals/:id/deny', { onRequest: onlyApprovals }, verdict(false));

  const doc = JSON.stringify(openApiDocument());
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(doc));
};

export default apiPlugin;

/** For tests: the context type the plugin reads. */
export type { ServeContext };
