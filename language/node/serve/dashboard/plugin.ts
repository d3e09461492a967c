// The control room: a fastify plugin serving the dashboard page, its JSON API, live updates (SSE)
// and the approvals inbox (docs/control-room.md). Registered by `rein serve` (serve/app.ts), or on
// any fastify instance: `app.register(dashboardPlugin({ log, queue, users }))`.

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isEventRecord, type AuditEventRecord, type AuditRecord } from '../../../audit/record.js';
import { logVerdict } from '../../approvals/audit.js';
import { verifyRecord, type ApprovalQueue, type ApprovalRecord, type ApprovalVerdict } from '../../approvals/queue.js';
import { dashboardAssets, type DashboardAssets } from './assets.js';
import { LiveCeilings } from './live-ceilings.js';
import { LogSource, scanSources, summarizeSources, type ChainStatus, type IndexedSource } from './log-source.js';
import { DashboardModel, type DecisionSummary, type RecordFilter, type VerdictSummary } from './model.js';
import type { DashboardOptions } from './options.js';
import { SESSION_COOKIE, Sessions, cookieValue, sameToken, type Session } from './session.js';

export type { DashboardOptions } from './options.js';

const filterSchema = z
  .object({
    agent: z.string().max(200).optional(),
    team: z.string().max(200).optional(),
    tool: z.string().max(200).optional(),
    model: z.string().max(200).optional(),
    policy: z.string().max(200).optional(),
  })
  .strict();

const summaryQuery = filterSchema.extend({ baseline: z.enum(['day', 'policy']).optional() }).strict();
const recordsQuery = filterSchema
  .extend({
    rule: z.string().max(200).optional(),
    effect: z.enum(['allow', 'deny', 'require_approval']).optional(),
    chain: z.string().max(200).optional(),
    errors: z.enum(['true'], { error: '`errors` takes only `true` (decisions with errors)' }).optional(),
    before: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();
const loginBody = z.object({ user: z.string().min(1).max(200), password: z.string().min(1).max(1000) }).strict();
const verdictBody = z.object({ reason: z.string().max(2000).optional() }).strict();
const approvalsQuery = z.object({ status: z.enum(['pending', 'all']).optional() }).strict();
const emptyQuery = z.object({}).strict();

function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({ error: { code, message } });
}

function issueText(e: z.ZodError): string {
  const i = e.issues[0]!;
  if (i.code === 'unrecognized_keys') return `unknown parameter ${i.keys.map((k) => `\`${k}\``).join(', ')}`;
  return `${i.path.length ? `\`${i.path.join('.')}\`: ` : ''}${i.message}`;
}

/** The approval as the page sees it: never a signed token (a bearer credential), neither the
 *  verdict's nor a quorum vote's. */
export function pageRecord(r: ApprovalRecord): Record<string, unknown> {
  const { verdict, votes, ...rest } = r;
  // whether `request` is what `request_hash` (the token) approves: the page shows it as what will run
  const out: Record<string, unknown> = { ...rest, verified: verifyRecord(r) };
  if (votes) out.votes = votes.map(withoutToken);
  if (verdict) {
    const v = withoutToken(verdict);
    if (verdict.votes) v.votes = verdict.votes.map(withoutToken);
    out.verdict = v;
  }
  return out;
}

function withoutToken(v: ApprovalVerdict): Record<string, unknown> {
  const { token: _t, votes: _v, ...rest } = v;
  return rest;
}

/** Plain-language lines for a record: what decided and why (or, for an event, what happened). */
export function explain(rec: AuditRecord | AuditEventRecord): string[] {
  if (isEventRecord(rec)) {
    const e = rec.event;
    if (e.kind !== 'approval_verdict') return [`Event: ${String((e as { kind?: unknown }).kind)}.`];
    const out = [
      `${e.verdict === 'approved' ? 'Approved' : 'Denied'} by ${e.approver}${e.group ? ` (${e.group})` : ''} at ${rec.time}: ${e.rule_kind} \`${e.rule}\`${e.required_group ? ` (requires ${e.required_group})` : ''}, approval ${e.approval_id}.`,
      e.reason ? `Reason: ${e.reason}` : 'No reason given.',
    ];
    if (rec.request_hash) out.push(`For the request ${rec.request_hash}.`);
    return out;
  }
  const d = rec.decision;
  const out: string[] = [];
  out.push(`Effect: ${d.effect}${d.mode === 'monitor' ? ' (monitor mode)' : ''}.`);
  for (const r of d.reasons ?? []) {
    const where = r.location ? ` (${r.location.file}:${r.location.line})` : '';
    if (r.kind === 'default') out.push(`No rule decided; the policy's default is ${r.effect}.`);
    else {
      const by = r.approved_by ? ` (approved by ${r.approved_by.approver}${r.approved_by.group ? `, ${r.approved_by.group}` : ''})` : r.approved ? ' (approved)' : '';
      out.push(`${r.kind} \`${r.name ?? '?'}\`${where} → ${r.effect}${by}${r.message ? `: ${r.message}` : ''}`);
    }
  }
  for (const a of d.approvals ?? []) out.push(`Needs approval: ${a.kind} \`${a.name}\`${a.from ? ` from ${a.from}` : ''}${a.message ? `: ${a.message}` : ''}`);
  for (const w of d.warnings ?? []) out.push(`Warning: \`${w.name ?? w.kind}\`${w.message ? `: ${w.message}` : ''}`);
  for (const m of d.monitored ?? []) out.push(`Monitored (not enforced): \`${m.name ?? m.kind}\` would ${m.effect}`);
  for (const b of d.budgets ?? []) {
    if (b.exceeded || b.warned) out.push(`Budget \`${b.name}\`${b.key.length ? ` [${b.key.join(', ')}]` : ''}: ${b.spent === null ? 'counters unknown (the store failed), charge' : `spent ${b.spent} + reserved ${b.reserved} + charge`} ${b.charge} of ${b.limit}${b.exceeded ? ' — exceeded' : ' — warning threshold crossed'}`);
  }
  for (const e of d.errors ?? []) out.push(`Error (${e.kind}${e.name ? ` ${e.name}` : ''}): ${e.message}`);
  return out;
}

export function dashboardPlugin(opts: DashboardOptions = {}): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const prefix = opts.prefix ?? '/dashboard';
    const model = new DashboardModel();
    const source = opts.log ? new LogSource(opts.log, model, opts.verdictFiles ? { verdictFiles: opts.verdictFiles } : {}) : null;
    const sources = opts.sources ?? [];
    /** The sources filters and drill-downs read: the log files and every source with an index. */
    const indexedSources: IndexedSource[] = [...(source ? [source] : []), ...sources.filter((s): s is (typeof sources)[number] & IndexedSource => s.index !== undefined && typeof s.readRows === 'function' && typeof s.replay === 'function' && typeof s.scan === 'function')];
    const sessions = new Sessions(opts.users ?? {});
    const queue = opts.queue ?? null;
    const maxStreams = opts.maxStreams ?? 100;
    let assets: DashboardAssets | null = null;
    const streams = new Set<(d: DecisionSummary) => void>();
    const verdictStreams = new Set<(v: VerdictSummary) => void>();

    // The first read of a large log takes a while (about 1 GB per minute here): wait for it up to
    // `initialReadMs`, then serve while it continues (`loading` in the summary), so the server starts
    // within fastify's plugin timeout whatever the log size.
    let loading = false;
    if (source) {
      loading = true;
      const first = source.poll().finally(() => {
        loading = false;
      });
      first.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([first.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, opts.initialReadMs ?? 5000)))]);
      clearTimeout(timer);
      source.start(opts.pollMs ?? 200);
    }
    for (const s of sources) {
      s.attach?.(model);
      s.start();
    }
    // The policy's limit; for one read from the request, the newest decision seen (same key first).
    const limitOf = (b: string, k: unknown[]) => {
      const p = opts.limits?.(b) ?? null;
      return p !== null && p.limit !== null ? p : (model.limitOf(b, k) ?? p);
    };
    const live = opts.ceilingStore ? new LiveCeilings({ store: opts.ceilingStore, limitOf, pollMs: opts.ceilingsPollMs }) : null;
    if (live) {
      await live.poll();
      live.start();
    }
    model.onDecision((d) => {
      for (const s of streams) s(d);
    });
    model.onVerdict((v) => {
      for (const s of verdictStreams) s(v);
    });
    app.addHook('onClose', async () => {
      await live?.stop();
      await source?.stop();
      for (const s of sources) await s.stop();
    });

    const sessionOf = (req: FastifyRequest): Session | null => sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));

    /** Reads: open without logins; with logins, a session. */
    const canRead = (req: FastifyRequest, reply: FastifyReply): boolean => {
      if (!sessions.enabled || sessionOf(req) !== null) return true;
      fail(reply, 401, 'unauthorized', 'log in first (POST ' + prefix + '/api/login)');
      return false;
    };

    /** State-changing requests: a session, its CSRF token, and a same-origin request. */
    const canWrite = (req: FastifyRequest, reply: FastifyReply): Session | null => {
      if (!sessions.enabled) {
        fail(reply, 401, 'unauthorized', 'no logins are configured (REIN_SERVE_USERS): the dashboard is read-only');
        return null;
      }
      const s = sessionOf(req);
      if (s === null) {
        fail(reply, 401, 'unauthorized', 'log in first (POST ' + prefix + '/api/login)');
        return null;
      }
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== 'null') {
        let host: string | null = null;
        try {
          host = new URL(origin).host;
        } catch {
          host = null;
        }
        if (host !== req.headers.host) {
          fail(reply, 403, 'csrf', 'cross-origin request refused');
          return null;
        }
      }
      const token = req.headers['x-csrf-token'];
      if (!sameToken(typeof token === 'string' ? token : undefined, s.csrf)) {
        fail(reply, 403, 'csrf', 'missing or wrong x-csrf-token header (read it from GET ' + prefix + '/api/session)');
        return null;
      }
      return s;
    };

    const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');
    const ceilingsSource = () =>
      live
        ? { kind: 'redis' as const, read_at: live.readAt === null ? null : new Date(live.readAt).toISOString(), error: live.error }
        : { kind: 'log' as const, read_at: null, error: null };

    // ------------------------------------------------------------ page and assets
    const page = async (_req: FastifyRequest, reply: FastifyReply) => {
      assets ??= await dashboardAssets();
      return reply
        .header('content-security-policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        .header('x-frame-options', 'DENY')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(assets.html(prefix));
    };
    app.get('/', page);
    app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
    app.get(prefix, page);
    app.get(`${prefix}/assets/:name`, async (req, reply) => {
      assets ??= await dashboardAssets();
      const name = (req.params as { name: string }).name;
      const a = assets.files[name];
      if (!a) return fail(reply, 404, 'not_found', `no asset ${name}`);
      return reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').type(a.type).send(a.body);
    });

    // ------------------------------------------------------------ session
    app.get(`${prefix}/api/session`, async (req, reply) => {
      noStore(reply);
      const s = sessionOf(req);
      return { login_required: sessions.enabled, user: s?.user ?? null, csrf: s?.csrf ?? null, groups: s && queue ? queue.groupsOf(s.user) : [] };
    });
    app.post(`${prefix}/api/login`, async (req, reply) => {
      noStore(reply);
      if (!sessions.enabled) return fail(reply, 404, 'no_logins', 'no logins are configured (REIN_SERVE_USERS)');
      const addr = req.ip;
      const wait = sessions.retryAfter(addr);
      if (wait > 0) return fail(reply.header('retry-after', String(wait)), 429, 'too_many_attempts', `too many failed logins; try again in ${wait} s`);
      const b = loginBody.safeParse(req.body);
      if (!b.success) return fail(reply, 400, 'bad_request', `expected { "user": "…", "password": "…" }: ${issueText(b.error)}`);
      const s = sessions.login(b.data.user, b.data.password, addr);
      if (s === null) return fail(reply, 401, 'unauthorized', 'wrong user or password');
      reply.header('set-cookie', `${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict${opts.secureCookie ? '; Secure' : ''}; Max-Age=${8 * 3600}`);
      return { user: s.user, csrf: s.csrf, groups: queue ? queue.groupsOf(s.user) : [] };
    });
    app.post(`${prefix}/api/logout`, async (req, reply) => {
      const s = canWrite(req, reply);
      if (!s) return reply;
      sessions.logout(s.id);
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return reply.code(204).send();
    });

    // ------------------------------------------------------------ reads
    const chains = (): ChainStatus[] => [...(source?.chains() ?? []), ...sources.flatMap((s) => s.chains())];

    app.get(`${prefix}/api/summary`, async (req, reply) => {
      noStore(reply);
      if (!canRead(req, reply)) return reply;
      const q = summaryQuery.safeParse(req.query);
      if (!q.success) return fail(reply, 400, 'bad_request', issueText(q.error));
      const { baseline, ...filter } = q.data;
      const filtered = Object.values(filter).some((v) => v !== undefined);
      let m = model;
      let indexed = false;
      if (filtered) {
        if (indexedSources.length === 0) return fail(reply, 400, 'bad_request', 'filters need a decision log (--log) or the fleet\'s audit stream (--redis)');
        m = new DashboardModel();
        // From the indexes (no log read) when they hold every record; else the records are read again.
        indexed = await summarizeSources(indexedSources, filter as RecordFilter, m);
        if (!indexed) {
          m = new DashboardModel();
          for (const s of indexedSources) await s.replay(filter as RecordFilter, m);
        }
      }
      const pending = queue ? (await queue.list('pending')).length : null;
      const s = m.summary({ baseline, driftThreshold: opts.driftThreshold });
      // With a live store, ceilings are its counters (unfiltered: a counter is the fleet's, not one agent's).
      const ceilings_source = ceilingsSource();
      if (live) s.ceilings = live.view();
      // The index keeps no budget figures: a filtered view shows every ceiling (as the live counters do).
      else if (indexed) s.ceilings = model.ceilingsView(Date.now());
      return { ...s, ceilings_source, filter, chains: chains(), approvals_pending: pending, loading };
    });

    // The ceilings alone: the page polls it while they come from live counters (decisions of other
    // processes move them without any decision reaching this server).
    app.get(`${prefix}/api/ceilings`, async (req, reply) => {
      noStore(reply);
      if (!canRead(req, reply)) return reply;
      const q = emptyQuery.safeParse(req.query);
      if (!q.success) return fail(reply, 400, 'bad_request', issueText(q.error));
      return { ceilings: live ? live.view() : model.ceilingsView(Date.now()), ceilings_source: ceilingsSource() };
    });

    app.get(`${prefix}/api/records`, async (req, reply) => {
      noStore(reply);
      if (!canRead(req, reply)) return reply;
      const q = recordsQuery.safeParse(req.query);
      if (!q.success) return fail(reply, 400, 'bad_request', issueText(q.error));
      if (indexedSources.length === 0) return { records: [] };
      const { limit, before, chain, errors, ...filter } = q.data;
      const found = await scanSources(indexedSources, filter as RecordFilter, { limit: limit ?? 50, ...(before !== undefined ? { before } : {}), ...(chain !== undefined ? { chain } : {}), ...(errors ? { withErrors: true } : {}) });
      return {
        records: found.map(({ chain: c, record: r }) =>
          isEventRecord(r)
            ? { chain: c, seq: r.seq, time: r.time, effect: null, event: r.event.kind, verdict: r.event.verdict ?? null, rules: [r.event.rule].filter(Boolean), request_hash: r.request_hash, policy: r.policy }
            : {
                chain: c,
                seq: r.seq,
                time: r.time,
                effect: r.decision.effect,
                rules: [...(r.decision.reasons ?? []), ...(r.decision.approvals ?? [])].map((x) => x.name).filter(Boolean),
                request_hash: r.request_hash,
                policy: r.policy,
              },
        ),
      };
    });

    app.get(`${prefix}/api/records/:chain/:seq`, async (req, reply) => {
      noStore(reply);
      if (!canRead(req, reply)) return reply;
      const p = z.object({ chain: z.string().min(1).max(200), seq: z.coerce.number().int().nonnegative() }).safeParse(req.params);
      if (!p.success) return fail(reply, 400, 'bad_request', issueText(p.error));
      let rec = source ? await source.record(p.data.chain, p.data.seq) : null;
      for (const s of sources) if (rec === null && s.record) rec = await s.record(p.data.chain, p.data.seq);
      if (rec === null) return fail(reply, 404, 'not_found', `no record ${p.data.seq} in ${p.data.chain}`);
      const status = chains().find((c) => c.chain === p.data.chain);
      const verified = status ? status.ok ? p.data.seq <= (status.head?.seq ?? -1) : status.problem?.seq !== null && p.data.seq < (status.problem?.seq ?? 0) : false;
      // A held decision shows the verdicts given on its request; a verdict links back by the same hash.
      const verdicts = model.verdictsFor(rec.request_hash);
      let explanation = explain(rec);
      // a verdict event in a chain that does not write verdicts: what it claims, marked (review h12r1 P15)
      if (isEventRecord(rec) && verdicts.some((v) => v.claimed && v.chain === p.data.chain && v.seq === p.data.seq)) {
        explanation = [`Claimed by chain ${p.data.chain}, not verified: this log is not one the control room or \`rein approvals\` writes verdicts to, and it is not counted.`, ...explanation];
      }
      return { chain: p.data.chain, record: rec, explanation, verified, verdicts };
    });

    // ------------------------------------------------------------ live updates
    app.get(`${prefix}/api/events`, async (req, reply) => {
      if (!canRead(req, reply)) return reply;
      if (streams.size >= maxStreams) return fail(reply, 503, 'too_many_streams', `at most ${maxStreams} live clients`);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': rein control room\n\n');
      let pending: DecisionSummary[] = [];
      let flush: NodeJS.Timeout | null = null;
      const send = (d: DecisionSummary) => {
        pending.push(d);
        if (pending.length > 200) pending.shift();
        // batch the decisions of 50 ms into one event (a burst of thousands stays one write per tick)
        flush ??= setTimeout(() => {
          flush = null;
          const batch = pending;
          pending = [];
          res.write(`event: decisions\ndata: ${JSON.stringify(batch)}\n\n`);
        }, 50);
      };
      streams.add(send);
      const sendVerdict = (v: VerdictSummary) => res.write(`event: verdict\ndata: ${JSON.stringify(v)}\n\n`);
      verdictStreams.add(sendVerdict);
      const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      const done = () => {
        streams.delete(send);
        verdictStreams.delete(sendVerdict);
        clearInterval(beat);
        if (flush) clearTimeout(flush);
      };
      req.raw.on('close', done);
      res.on('error', done);
    });

    // ------------------------------------------------------------ approvals inbox
    app.get(`${prefix}/api/approvals`, async (req, reply) => {
      noStore(reply);
      if (!canRead(req, reply)) return reply;
      const q = approvalsQuery.safeParse(req.query);
      if (!q.success) return fail(reply, 400, 'bad_request', issueText(q.error));
      if (!queue) return { enabled: false, approvals: [] };
      const recs = await queue.list(q.data.status === 'all' ? 'all' : 'pending');
      return { enabled: true, approvals: recs.slice(0, 500).map(pageRecord) };
    });

    for (const verb of ['approve', 'deny'] as const) {
      app.post(`${prefix}/api/approvals/:id/${verb}`, async (req, reply) => {
        noStore(reply);
        const s = canWrite(req, reply);
        if (!s) return reply;
        if (!queue) return fail(reply, 404, 'no_queue', 'this server has no approval queue (--approvals)');
        const b = verdictBody.safeParse(req.body ?? {});
        if (!b.success) return fail(reply, 400, 'bad_request', `expected { "reason"?: "…" }: ${issueText(b.error)}`);
        const id = (req.params as { id: string }).id;
        const r = verb === 'approve' ? await queue.approve(id, s.user, b.data.reason ?? null) : await queue.deny(id, s.user, b.data.reason ?? null);
        if (r.ok) {
          logVerdict(opts.verdictLog, r.record);
          return { approval: pageRecord(r.record) };
        }
        const status = r.code === 'unknown' ? 404 : r.code === 'forbidden' ? 403 : r.code === 'invalid' ? 400 : 409;
        // the same codes as the API's /v1/approvals (docs/service.md)
        const code = r.code === 'unknown' ? 'unknown_approval' : r.code === 'decided' ? 'already_decided' : r.code === 'invalid' ? 'invalid_body' : r.code === 'unverified' ? 'unverified_request' : r.code;
        return fail(reply, status, code, r.message);
      });
    }
  };
}
