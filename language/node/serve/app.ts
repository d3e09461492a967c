// `rein serve`: one fastify server for the decision service (the `api` plugin, docs/service.md) and
// the dashboard (the `dashboard` plugin). This module owns what every plugin shares — the policy and
// its hot reload, the budget store, the audit log, metrics, auth — as a `ServeContext`, and the core
// routes GET /health, /ready, /metrics. Plugins get the context in their options:
//
//   const plugin: ServePlugin = async (app, { ctx }) => { app.get('/x', …) };
//   createServeApp({ …, plugins: [{ name: 'x', plugin }] })          // or SERVE_PLUGINS (plugins.ts)
//
// Plugins are registered with `app.register` (fastify encapsulation: hooks and decorators a plugin
// adds stay inside it) after the core routes, in the order given.

import { statSync } from 'node:fs';
import { createServer, STATUS_CODES, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import { AuditLogger } from '../../audit/logger.js';
import type { Decision } from '../../runtime/decision.js';
import type { ExternImpls } from '../../runtime/externs.js';
import type { DecisionHookContext, EngineMode } from '../../runtime/engine.js';
import { MemoryBudgetStore } from '../../runtime/memory-store.js';
import type { BudgetStore } from '../../runtime/store.js';
import type { ApprovalKey } from '../../runtime/approvals.js';
import { AuditLogLockedError, FileAuditLog } from '../audit-file.js';
import { ioReason, LoadError } from '../errors.js';
import { browserRefusal, type Refusal } from '../browser-guard.js';
import type { ApprovalQueue } from '../approvals/queue.js';
import { Auth, type AuthScope, type ServeTokens } from './auth.js';
import { ServeMetrics } from './metrics.js';
import { PolicyHolder } from './policy-holder.js';
import type { SettleAnswer, SettleRelay } from './settle-relay.js';

export interface ServeOptions {
  /** The policy: a directory, a `.rein` file or a bundle. Required by the `api` plugin. */
  policy?: string;
  /** Watch the policy source and reload on change (default true). SIGHUP-style `ctx.policy.reload()` always works. */
  watch?: boolean;
  /** `redis://…`: budgets shared by every process on this Redis. Default: a memory store. */
  redis?: string;
  /** Key prefix in Redis (default `rein:`). */
  redisPrefix?: string;
  /** A budget store to use instead (tests, embedding); takes precedence over `redis`. */
  store?: BudgetStore;
  /** Append every decision to this hash-chained log (FileAuditLog). */
  audit?: string;
  /** Rotate the audit log when it would pass this many bytes (FileAuditLog `maxBytes`; `--audit-max-bytes`). */
  auditMaxBytes?: number;
  /** Decision logs the dashboard reads (file or directory; default: `audit`). */
  log?: string;
  tokens?: ServeTokens;
  /** Keys that verify signed approval tokens (Engine `approvalKeys`); absent: approvals are trusted as given. */
  approvalKeys?: readonly ApprovalKey[];
  /** Implementations of the policy's `extern def`s (`--externs FILE`; docs/externs.md). */
  externs?: ExternImpls;
  /** The approval queue (pending approvals a human decides): the API's /v1/approvals and the dashboard's inbox. */
  approvals?: ApprovalQueue;
  /** Largest accepted request body in bytes (default 1 MiB; batches 16×). */
  bodyLimit?: number;
  mode?: EngineMode;
  /** Accept `now` in /v1/decide bodies (`--client-time`). Off by default: a decide reserves budgets
   *  on the server's clock, else any caller escapes every windowed ceiling by naming another day. */
  clientTime?: boolean;
  /** Unsettled reservations expire after this long (Engine `reservationTtlMs`, default 15 min). */
  reservationTtlMs?: number;
  /**
   * How long after a reservation expires a `settle` can still correct it (`--settle-grace`; default
   * SERVE_SETTLE_GRACE_MS, 5 min). Given to the Engine, the budget store it creates (memory or Redis)
   * and the reservation index; a later settle is 404 `unknown_reservation` and the estimate stands.
   */
  settleGraceMs?: number;
  /** With `redis`: a settle for a reservation another replica made is passed to it over Redis
   *  pub/sub (default true); how long to wait for it in ms (`settleRelayTimeoutMs`, default 2000). */
  settleRelay?: boolean;
  settleRelayTimeoutMs?: number;
  /** The dashboard plugin's settings (docs/control-room.md). */
  dashboard?: {
    /** The approval queue of the inbox (`--approvals`). */
    queue?: import('../approvals/queue.js').ApprovalQueue | null;
    /** Logins: user → password or `scrypt$…` (`--users`, REIN_SERVE_USERS). */
    users?: Record<string, string>;
    secureCookie?: boolean;
    driftThreshold?: number;
    /** Read the fleet's decisions from the Redis Stream audit sink when `redis` is set (default true). */
    stream?: boolean;
  };
  /** Route plugins, registered in order. */
  plugins?: { name: string; plugin: ServePlugin }[];
  /** Messages for the operator (reloads, failures). Default: none. */
  logger?: (msg: string) => void;
  /** Origins (`https://app.example`) whose browser pages may call the service besides its own
   *  (`--allow-origin`); every other cross-origin request, and a non-loopback Host on a loopback
   *  connection, is refused with 403 (browser-guard.ts). */
  allowOrigins?: ReadonlySet<string>;
  /** Host names a loopback connection may name besides localhost/127.x/[::1] (`--allow-host`: a
   *  reverse proxy on the same machine that passes its own Host). */
  allowHosts?: ReadonlySet<string>;
}

export interface ReadyReport {
  ready: boolean;
  checks: {
    policy: { ok: boolean; hash: string | null; name: string | null; version: string | null; loaded_at: string | null; reload_error: string | null };
    /** `warning`: a Redis whose maxmemory-policy evicts keys (counters could be evicted: docs/redis.md). */
    store: { ok: boolean; kind: 'memory' | 'redis'; error?: string; warning?: string };
  };
}

/** What every plugin shares. */
export interface ServeContext {
  readonly options: Readonly<ServeOptions>;
  /** The policy and its versions; null when serving without `--policy`. */
  readonly policy: PolicyHolder | null;
  readonly store: BudgetStore;
  readonly storeKind: 'memory' | 'redis';
  /** The audit logger every decision goes to (null without `audit`). */
  readonly audit: AuditLogger | null;
  /** Where approval verdicts given through this server are logged (see `verdictLogOf`), or null. */
  readonly verdictLog: AuditLogger | null;
  /** The file `verdictLog` writes, when it is a file the dashboard must read besides `--log`. */
  readonly verdictLogFile: string | null;
  readonly metrics: ServeMetrics;
  readonly auth: Auth;
  /** The approval queue, when configured. */
  readonly approvals: ApprovalQueue | null;
  /** Whether approvals are verified as signed tokens (`approvalKeys` given). */
  readonly verifiesApprovals: boolean;
  /** The max body size for single requests. */
  readonly bodyLimit: number;
  /** How long after expiry a reservation can still be settled (ServeOptions `settleGraceMs`). */
  readonly settleGraceMs: number;
  /** Passes settles of reservations other replicas made to them (with `--redis`), else null. */
  readonly settleRelay: SettleRelay | null;
  /**
   * Settle a reservation: here when this process made it, else at the replica that did (through
   * `settleRelay`). The answer is the HTTP status and body; `unknown_reservation` (404) when no replica
   * knows it.
   */
  settle(reservation: string, usage: unknown): Promise<SettleAnswer>;
  log(msg: string): void;
  /** The engine's onDecision hook: audit log and metrics. */
  onDecision(d: Decision, c: DecisionHookContext): void;
  ready(): Promise<ReadyReport>;
  /** Reply 401 unless the request carries a token for `scope`; returns false when it replied. */
  authorize(req: FastifyRequest, reply: FastifyReply, scope: AuthScope): boolean;
  /** Reply with the error shape of docs/service.md (`{ error: { code, message, issues? } }`). */
  fail(reply: FastifyReply, status: number, code: string, message: string, issues?: { path: string; message: string }[]): FastifyReply;
}

export type ServePlugin = FastifyPluginAsync<{ ctx: ServeContext }>;

export interface ServeApp {
  app: FastifyInstance;
  ctx: ServeContext;
  /** Stop listening, flush the audit log, close the store and watchers. */
  close(): Promise<void>;
  /** Continue the audit logs (`audit`, and the verdict log when it is a file) in fresh files at their
   *  paths, after an outside rotation renamed them (logrotate; `rein serve` on SIGHUP). Never throws:
   *  a failure is logged and writing goes on in the old file. */
  reopenLogs(): Promise<void>;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * `rein serve`'s settle grace: a reservation can be settled until 5 minutes after it expires (the
 * Engine's own default is 24 h). What the engine keeps for `settle` survives in memory until then, so
 * a short grace is what keeps an unsettled decision cheap (docs/service.md, "Reservations").
 */
export const SERVE_SETTLE_GRACE_MS = 5 * 60_000;

/** `5 min`, `24 h`, `0 s`: a grace for messages. */
export function graceText(ms: number): string {
  return ms % 3_600_000 === 0 && ms > 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 && ms > 0 ? `${ms / 60_000} min` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The response header with the serving policy's hash (docs/service.md). */
export const POLICY_HASH_HEADER = 'rein-policy-hash';
/** A route's `config` key: the handler sets POLICY_HASH_HEADER itself (no onSend hook for it). */
export const SETS_POLICY_HASH = 'reinSetsPolicyHash';

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** `plainJson`: the body goes to fastify's JSON parser. */
export const NOT_PLAIN: unique symbol = Symbol('not plain JSON');

/**
 * The value of a JSON body that fastify's JSON parser (secure-json-parse, `__proto__` and
 * `constructor` keys refused) would return as `JSON.parse` returns it — nearly every body: no `\`
 * (so no key can be an escaped `__proto__` or `constructor`), neither word anywhere, valid JSON —
 * parsed here with `JSON.parse` alone, without the parser's two regular-expression scans of the
 * text; NOT_PLAIN for any other body (its error, its byte-order mark, its refusal are the parser's).
 * test/serve/body-parser.test.ts compares the two on generated bodies.
 */
export function plainJson(text: string): unknown {
  if (text.includes('\\') || text.includes('__proto__') || text.includes('constructor')) return NOT_PLAIN;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_PLAIN;
  }
}

/** Statuses fastify's own errors carry, mapped to our stable codes. */
function codeOf(e: FastifyError): { status: number; code: string; message: string } {
  switch (e.code) {
    case 'REIN_PROTO_KEY':
      return { status: 400, code: 'invalid_json', message: e.message };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the body is empty; expected JSON' : 'the body is not valid JSON' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', message: e.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: e.message };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_content_length', message: e.message };
  }
  if (e instanceof SyntaxError || e.name === 'SyntaxError') return { status: 400, code: 'invalid_json', message: `the body is not valid JSON: ${e.message}` };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (status < 500) return { status, code: 'bad_request', message: e.message };
  return { status, code: 'internal_error', message: 'internal error (reported in the server log)' };
}

export async function createServeApp(options: ServeOptions = {}): Promise<ServeApp> {
  const log = options.logger ?? (() => undefined);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const settleGraceMs = options.settleGraceMs ?? SERVE_SETTLE_GRACE_MS;
  if (!Number.isSafeInteger(settleGraceMs) || settleGraceMs < 0) throw new RangeError('rein serve: settleGraceMs must be a non-negative integer (ms)');
  let store: BudgetStore;
  let storeKind: 'memory' | 'redis' = 'memory';
  let closeStore: () => Promise<void> = async () => undefined;
  /** What GET /ready adds to a store that works (an evicting Redis), learned at the first connection. */
  let storeWarning: string | undefined;
  if (options.store) {
    store = options.store;
    // By capability, not by class name: the published library is minified (class names are not
    // kept) and a subclass has its own name. Only a Redis store lists its counters.
    storeKind = typeof (options.store as { counterKeys?: unknown }).counterKeys === 'function' ? 'redis' : 'memory';
  } else if (options.redis) {
    const { RedisBudgetStore, evictionWarning } = await import('../redis-store.js');
    const rs = new RedisBudgetStore({ url: options.redis, prefix: options.redisPrefix, settleGraceMs });
    store = rs;
    storeKind = 'redis';
    let storeClosed = false;
    closeStore = () => {
      storeClosed = true;
      return rs.close();
    };
    // Once connected, say at once what would make the ceilings wrong or every decide fail (the same
    // check answers GET /ready): an evicting maxmemory-policy, a read-only replica, a cluster node.
    void rs.connected().then(async () => {
      const evicts = await rs.evictionPolicy().catch(() => null);
      if (storeClosed) return;
      if (evicts !== null && evicts !== 'noeviction') log((storeWarning = evictionWarning(evicts)));
      await rs.probe().catch((e: unknown) => {
        if (!storeClosed) log(`the budget store cannot serve decisions (GET /ready answers 503; decisions take the policy's \`on error\` effect): ${e instanceof Error ? e.message : String(e)}`);
      });
    });
  } else {
    store = new MemoryBudgetStore({ settleGraceMs });
  }

  const metrics = new ServeMetrics();
  let auditSink: FileAuditLog | null = null;
  let audit: AuditLogger | null = null;
  if (options.audit) {
    try {
      auditSink = new FileAuditLog(options.audit, {
        onRepair: (i) => log(`audit log ${i.file}: cut off a partial last line (${i.bytesRemoved} bytes) left by a crash`),
        ...(options.auditMaxBytes !== undefined ? { maxBytes: options.auditMaxBytes } : {}),
        // A full disk (review h13r1 S3): once when it starts, once when it ends; records wait meanwhile.
        onStall: (i) =>
          log(`audit log ${i.file}: cannot write (${ioReason(i.error)}); decisions go on, their records wait in memory (up to 64 MiB) and are retried every second`),
        onResume: (i) =>
          log(`audit log ${i.file}: writing again after ${graceText(Math.round(i.stalledMs / 1000) * 1000)}; the records that waited are written${i.lost > 0 ? `, ${i.lost} were lost (more than 64 MiB waited): the chain breaks there` : ', none lost: the chain is intact'}`),
      });
    } catch (e) {
      // A path the operator named (read-only, not a directory, held by another writer): an IO error
      // of the command line (`rein serve` exit 2), not an internal one (review h13r1 S2).
      await closeStore().catch(() => undefined);
      throw new LoadError(`cannot open the audit log \`${options.audit}\`: ${e instanceof AuditLogLockedError || (e instanceof Error && e.name === 'AuditLogLockedError') ? e.message : ioReason(e)}`);
    }
    // Lost records: counted each (by the serving policy), logged at most every 10 s.
    let lostSinceLog = 0;
    let lastLossLog = 0;
    audit = new AuditLogger(auditSink, {
      onError: (e) => {
        metrics.decisions.sinkFailure(holder?.current?.policy.name);
        lostSinceLog++;
        const now = Date.now();
        if (now - lastLossLog >= 10_000) {
          log(`audit log write failed${lostSinceLog > 1 ? ` (${lostSinceLog} records since the last message)` : ''}: ${e instanceof Error ? e.message : String(e)}`);
          lastLossLog = now;
          lostSinceLog = 0;
        }
      },
    });
  }

  // Verdicts given in the inbox or through /v1/approvals go to the audit log as events: the server's
  // own log (`audit`); else, for a fleet, the Redis Stream the dashboard reads; else a log of their own
  // beside the logs the dashboard reads (`<dir>/control-room.jsonl`, or `<log>.verdicts.jsonl`).
  let verdictLog: AuditLogger | null = null;
  let verdictLogFile: string | null = null;
  let verdictSink: { close(): Promise<void> } | null = null;
  const hasQueue = Boolean(options.approvals ?? options.dashboard?.queue);
  if (hasQueue) {
    const onError = (e: unknown) => log(`audit log write failed (approval verdict): ${e instanceof Error ? e.message : String(e)}`);
    if (audit) verdictLog = audit;
    else if (options.redis && options.dashboard?.stream !== false && options.plugins?.some((p) => p.name === 'dashboard')) {
      const { RedisStreamAuditSink } = await import('./dashboard/redis-stream.js');
      const sink = new RedisStreamAuditSink({ url: options.redis, prefix: options.redisPrefix, chain: `control-room-${hostname()}-${process.pid}` });
      verdictSink = sink;
      verdictLog = new AuditLogger(sink, { onError });
    } else if (options.log) {
      let dir = false;
      try {
        dir = statSync(options.log).isDirectory();
      } catch {
        dir = false;
      }
      verdictLogFile = dir ? join(options.log, 'control-room.jsonl') : join(dirname(options.log), `${basename(options.log).replace(/\.jsonl$/, '')}.verdicts.jsonl`);
      try {
        const sink = new FileAuditLog(verdictLogFile);
        verdictSink = sink;
        verdictLog = new AuditLogger(sink, { onError });
      } catch (e) {
        log(`approval verdicts are not logged: ${e instanceof Error ? e.message : String(e)}`);
        verdictLogFile = null;
      }
    } else {
      log('approval verdicts are not logged: give --audit FILE (or --log) to keep them in an audit log');
    }
  }

  const onDecision = (d: Decision, c: DecisionHookContext): void => {
    metrics.decision(d, c.latencyMs);
    audit?.record(d, c);
  };

  let holder: PolicyHolder | null = null;
  if (options.policy) {
    holder = new PolicyHolder({
      source: options.policy,
      store,
      engine: { mode: options.mode, onDecision, reservationTtlMs: options.reservationTtlMs, settleGraceMs, ...(options.approvalKeys ? { approvalKeys: options.approvalKeys } : {}), ...(options.externs ? { externs: options.externs } : {}) },
      log,
      onReload: (r) => metrics.reload(r.ok),
    });
    try {
      await holder.init();
      await holder.load();
    } catch (e) {
      await closeStore();
      await auditSink?.close();
      await verdictSink?.close().catch(() => undefined);
      throw e;
    }
    if (options.watch !== false) holder.watch();
  }
  // Signed approvals: the approve endpoints need a token the agent does not hold (review h11r R10).
  const auth = new Auth(options.tokens, { approvalsNeedToken: options.approvalKeys !== undefined });

  const fail = (reply: FastifyReply, status: number, code: string, message: string, issues?: { path: string; message: string }[]) => {
    metrics.error(code);
    // Errors answered by the not-found and error handlers run no route hook: the header is set here.
    const hash = holder?.hash;
    if (hash) reply.header(POLICY_HASH_HEADER, hash);
    return reply.code(status).type('application/json; charset=utf-8').send({ error: issues ? { code, message, issues } : { code, message } });
  };

  const settleError = (status: number, code: string, message: string): SettleAnswer => ({ status, body: { error: { code, message } } });

  /** Settles a reservation this process made; null when it did not make it (or forgot it). */
  const settleLocal = async (reservation: string, usage: unknown): Promise<SettleAnswer | null> => {
    const v = holder?.ownerOf(reservation);
    if (!v) return null;
    try {
      await v.engine.settle({ reservation: { id: reservation } } as unknown as Decision, usage ?? {});
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (/already settled/.test(message)) {
        metrics.settle('already_settled');
        return settleError(409, 'already_settled', message);
      }
      if (/budget store failed/.test(message)) {
        metrics.settle('store_failed');
        return settleError(503, 'store_unavailable', message);
      }
      metrics.settle('invalid_usage');
      return settleError(422, 'invalid_usage', message);
    }
    metrics.settle('ok');
    const pol = v.policy;
    return { status: 200, body: { settled: true, reservation, policy: { name: pol.name, version: pol.version, hash: pol.hash } } };
  };

  let relay: SettleRelay | null = null;
  if (holder && options.redis && storeKind === 'redis' && options.settleRelay !== false) {
    const { SettleRelay } = await import('./settle-relay.js');
    relay = new SettleRelay({ url: options.redis, prefix: options.redisPrefix, timeoutMs: options.settleRelayTimeoutMs, local: settleLocal, log });
  }

  const settle = async (reservation: string, usage: unknown): Promise<SettleAnswer> => {
    const here = await settleLocal(reservation, usage);
    if (here) return here;
    if (relay) {
      let there: SettleAnswer | null;
      try {
        there = await relay.forward(reservation, usage);
      } catch (e) {
        metrics.settle('store_failed');
        return settleError(503, 'store_unavailable', `settle: cannot reach the other replicas through Redis: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (there) {
        metrics.settle('forwarded');
        return there;
      }
    }
    metrics.settle('unknown');
    return settleError(
      404,
      'unknown_reservation',
      relay
        ? `reservation \`${reservation}\` is unknown to every replica on this Redis (its replica may have restarted, or it expired more than ${graceText(settleGraceMs)} ago)`
        : `reservation \`${reservation}\` is unknown here: settle at the process that decided (it may also have expired more than ${graceText(settleGraceMs)} ago)`,
    );
  };

  const ctx: ServeContext = {
    options,
    policy: holder,
    store,
    storeKind,
    audit,
    verdictLog,
    verdictLogFile,
    metrics,
    auth,
    approvals: options.approvals ?? null,
    verifiesApprovals: options.approvalKeys !== undefined,
    bodyLimit,
    settleGraceMs,
    settleRelay: relay,
    settle,
    log,
    onDecision,
    fail,
    authorize(req, reply, scope) {
      const r = auth.check(req.headers.authorization, scope);
      if (r === 'ok') return true;
      if (r === 'closed') {
        fail(
          reply,
          403,
          'forbidden',
          auth.closedBecause() === 'other-tokens'
            ? `the ${scope} endpoints need their own token (--${scope}-token-file or REIN_${scope.toUpperCase()}_TOKEN); the api token is the agent's and does not ${scope === 'approvals' ? 'approve' : 'grant this'}`
            : `approvals are signed tokens here, and approving over the API needs the approvals token (--approvals-token-file or REIN_APPROVALS_TOKEN): without one, the agent that asked could approve itself. Approve in the dashboard (with --users logins) or set the token`,
        );
        return false;
      }
      reply.header('www-authenticate', 'Bearer realm="rein"');
      fail(reply, 401, 'unauthorized', r === 'missing' ? `this endpoint needs \`Authorization: Bearer <${scope} token>\`` : `the bearer token is not valid for ${scope}`);
      return false;
    },
    async ready() {
      const v = holder?.current ?? null;
      const policy = {
        ok: holder === null || v !== null,
        hash: v?.policy.hash ?? null,
        name: v?.policy.name ?? null,
        version: v?.policy.version ?? null,
        loaded_at: v?.loadedAt ?? null,
        reload_error: holder?.lastError?.message ?? null,
      };
      const st: ReadyReport['checks']['store'] = { ok: true, kind: storeKind };
      try {
        // Redis: a write, as every decide makes (a read passes on a read-only replica, an OOM Redis, a
        // cluster node, while every decide fails: review h13r1 S7); the memory store: a read.
        const probe = (store as { probe?: () => Promise<void> }).probe;
        if (typeof probe === 'function') await probe.call(store);
        else await store.peek(['rein-ready-probe'], Date.now());
      } catch (e) {
        st.ok = false;
        st.error = e instanceof Error ? e.message : String(e);
      }
      if (storeWarning) st.warning = storeWarning.replace(/^warning: /, '');
      return { ready: policy.ok && st.ok, checks: { policy, store: st } };
    },
  };

  // Before fastify routes anything: requests a web page sent (another origin, or a DNS-rebinding
  // Host on a loopback connection) get 403 — browser-guard.ts. A server of our own for that; fastify
  // applies the rest of its options to it (getServerInstance's, restated: timeouts, keep-alive).
  const allowOrigins = options.allowOrigins ?? new Set<string>();
  const allowHosts = options.allowHosts ?? new Set<string>();
  const refuse = (res: ServerResponse, r: Refusal): void => {
    metrics.error(r.code);
    const body = JSON.stringify({ error: { code: 'forbidden', message: r.message } });
    const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) };
    const hash = holder?.hash;
    if (hash) headers[POLICY_HASH_HEADER] = hash;
    res.writeHead(403, headers).end(body);
  };
  const app = Fastify({
    serverFactory: (handler, fopts) => {
      const o = fopts as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      const server = createServer((req, res) => {
        const r = browserRefusal(req, allowOrigins, allowHosts);
        if (r !== null) return refuse(res, r);
        const origin = req.headers.origin;
        if (origin !== undefined && allowOrigins.has(origin)) {
          // CORS for an origin allowed with --allow-origin (review h13r1 S14): its page may read the
          // answers, and its preflight (a JSON body, a bearer token) is answered here.
          res.setHeader('Access-Control-Allow-Origin', origin);
          res.setHeader('Vary', 'Origin');
          res.setHeader('Access-Control-Expose-Headers', POLICY_HASH_HEADER);
          if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
            res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Allow-Headers': 'authorization, content-type', 'Access-Control-Max-Age': '600', 'Content-Length': '0' }).end();
            return;
          }
        }
        handler(req, res);
      });
      server.keepAliveTimeout = o.keepAliveTimeout ?? 65_000;
      if (typeof o.requestTimeout === 'number') server.requestTimeout = o.requestTimeout;
      if (typeof o.connectionTimeout === 'number') server.setTimeout(o.connectionTimeout);
      return server;
    },
    bodyLimit,
    logger: false,
    // A client that sends headers and part of a body is not held for ever (fastify's default is no
    // limit): 60 s to send the whole request (review h13r1 S11). Long polls are not affected: the
    // limit is on receiving the request, not on answering it.
    requestTimeout: 60_000,
    // Broken HTTP (both Content-Length and Transfer-Encoding, headers too large, a timeout) answered in
    // the one error shape of docs/service.md, with the policy hash, like every other error.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: import('node:stream').Duplex) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, code, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'the request was not received in full within 60 s']
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'headers_too_large', 'the request headers are too large']
            : [400, 'bad_request', `malformed HTTP request${err.code ? ` (${err.code})` : ''}`];
      metrics.error(code);
      const body = JSON.stringify({ error: { code, message } });
      const hash = holder?.hash;
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `${hash ? `${POLICY_HASH_HEADER}: ${hash}\r\n` : ''}Connection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
    return503OnClosing: true,
    forceCloseConnections: true,
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: true },
  });

  // JSON for any content type (curl -d sends form encoding unless told otherwise); the default parser
  // (secure-json-parse: rejects __proto__ and constructor.prototype keys) for all of them.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // A body that names `__proto__` or `constructor` may be refused for a prototype key although it is
  // valid JSON: only such a body gets a callback of its own, which says so (no closure per request).
  const parseBody = (req: FastifyRequest, body: string | Buffer, done: (e: Error | null, v?: unknown) => void): void => {
    const text = body as string;
    const plain = plainJson(text);
    if (plain !== NOT_PLAIN) return done(null, plain);
    if (!text.includes('__proto__') && !text.includes('constructor')) {
      jsonParser(req, text, done);
      return;
    }
    jsonParser(req, text, (e: Error | null, v?: unknown) => {
      if (e && isJson(text)) {
        return done(Object.assign(new Error('the body has a `__proto__` or `constructor.prototype` key, which is refused (prototype pollution)'), { statusCode: 400, code: 'REIN_PROTO_KEY' }), undefined);
      }
      done(e, v);
    });
  };
  app.addContentTypeParser('*', { parseAs: 'string' }, parseBody);
  // The same parser under `application/json` too: fastify remembers which parser a Content-Type
  // header gets (a cache of 100 header values) for the types registered by name, but not for the
  // catch-all `*`, whose header it parses again on every request (~0.26 µs hot; what agents send is
  // `application/json`). The same function either way: the same answers.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseBody);

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const { status, code, message } = codeOf(err);
    if (status >= 500) log(`internal error: ${err.stack ?? err.message}`);
    return fail(reply, status, code, message);
  });
  // A route that exists with other methods answers 405 with `Allow` (as HTTP says), else 404.
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0];
    const allow = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((method) => method !== req.method && app.hasRoute({ method, url }));
    if (allow.length > 0) return fail(reply.header('allow', allow.join(', ')), 405, 'method_not_allowed', `${req.method} is not allowed on ${url} (allowed: ${allow.join(', ')})`);
    return fail(reply, 404, 'not_found', `no route ${req.method} ${url}`);
  });

  // The policy hash in every response (the decision also carries it in `policy.hash`). Not one
  // app-wide onSend hook: fastify runs a route's onSend hooks through a runner of its own, per
  // request, which the hot routes (decide, evaluate) do not need — they set the header in their
  // handler, from the version that decided (`config: { [SETS_POLICY_HASH]: true }`). Every other
  // route gets the hook as a route-level onSend (below), and `fail` sets the header on every error
  // answer, including the not-found and error handlers'. test/serve/api.test.ts checks every kind.
  if (holder) {
    const h = holder;
    const setHash = (_req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (e: null, p: unknown) => void) => {
      const hash = h.hash;
      if (hash) reply.header(POLICY_HASH_HEADER, hash);
      done(null, payload);
    };
    app.addHook('onRoute', (route) => {
      if ((route.config as Record<string, unknown> | undefined)?.[SETS_POLICY_HASH] === true) return;
      const own = route.onSend;
      route.onSend = own === undefined ? [setHash] : [...(Array.isArray(own) ? own : [own]), setHash];
    });
  }

  app.get('/health', async () => ({ status: 'ok' as const }));
  app.get('/ready', async (_req, reply) => {
    const r = await ctx.ready();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get('/metrics', async (req, reply) => {
    if (!ctx.authorize(req, reply, 'api')) return reply;
    const text = await metrics.scrape();
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  for (const p of options.plugins ?? []) await app.register(p.plugin, { ctx });

  // Forget reservations past their grace once a minute (settle after a reload needs the old engine).
  const sweep = holder
    ? setInterval(() => holder!.sweep(Date.now()), 60_000).unref()
    : null;

  let closed = false;
  return {
    app,
    ctx,
    async reopenLogs() {
      for (const sink of [auditSink, verdictSink]) {
        if (!(sink instanceof FileAuditLog) || closed) continue;
        try {
          await sink.reopen();
        } catch (e) {
          log(`audit log ${sink.path}: cannot reopen (${ioReason(e)}); writing on in the file it had open`);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (sweep) clearInterval(sweep);
      holder?.close();
      await app.close();
      await relay?.close().catch(() => undefined);
      await audit?.flush().catch(() => undefined);
      await auditSink?.close().catch(() => undefined);
      if (verdictLog !== audit) await verdictLog?.flush().catch(() => undefined);
      await verdictSink?.close().catch(() => undefined);
      await closeStore().catch(() => undefined);
      await metrics.close();
    },
  };
}
