// `rein mcp --listen HOST:PORT --upstream URL`: the remote gateway. Streamable HTTP on both sides:
// each client session (the SDK's StreamableHTTPServerTransport, served by fastify at /mcp) gets its
// own upstream session (StreamableHTTPClientTransport) and its own Gateway, with the policy, budget
// store, audit log and metrics shared. The client's Authorization header is passed to the upstream on
// every request; with REIN_MCP_TOKEN set, the listener requires `X-Rein-Token: <token>` (not passed on).
//
// A session lives until the client ends it (DELETE), the upstream ends it, or it is idle for
// --session-timeout: no HTTP request of the client open (a POST awaiting its answer, or the standalone
// GET stream) and none received for that long. An idle session is closed and its upstream session is
// ended too (DELETE upstream), so a client that vanished leaves nothing open on either side.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { browserRefusal } from '../browser-guard.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalBroker } from './approvals.js';
import { Gateway } from './gateway.js';
import type { PolicyHost } from './host.js';
import type { GatewayMetrics } from './metrics.js';
import { IsolatingFetch } from './isolating-fetch.js';

/** Headers of the client's request that go on to the upstream. */
const PASS_HEADERS = ['authorization'];

interface Session {
  server: StreamableHTTPServerTransport;
  upstream: StreamableHTTPClientTransport;
  gateway: Gateway;
  /** The pass-through headers of the client's latest request (a refreshed token is used from then on). */
  headers: Record<string, string>;
  /** HTTP requests of the client on this session still open (POSTs awaiting answers, the GET stream). */
  open: number;
  /** When the last of them ended or began (ms since the epoch). */
  lastSeen: number;
}

/** The default --session-timeout: 30 minutes. */
export const DEFAULT_SESSION_TIMEOUT_MS = 30 * 60_000;

/**
 * The downstream transport as the gateway sees it: a message related to a request whose stream is
 * already closed goes to the standalone stream instead of being lost. (A plain delegating class: a
 * Proxy would cost a trap and a bound function per message.)
 */
class LenientServerTransport implements Transport {
  constructor(private readonly t: StreamableHTTPServerTransport) {}
  start(): Promise<void> {
    return this.t.start();
  }
  close(): Promise<void> {
    return this.t.close();
  }
  async send(m: JSONRPCMessage, o?: TransportSendOptions): Promise<void> {
    try {
      await this.t.send(m, o);
    } catch (e) {
      if (o?.relatedRequestId === undefined) throw e;
      await this.t.send(m);
    }
  }
  get sessionId(): string | undefined {
    return this.t.sessionId;
  }
  get onmessage(): Transport['onmessage'] {
    return this.t.onmessage;
  }
  set onmessage(f: Transport['onmessage']) {
    this.t.onmessage = f;
  }
  get onerror(): Transport['onerror'] {
    return this.t.onerror;
  }
  set onerror(f: Transport['onerror']) {
    this.t.onerror = f;
  }
  get onclose(): Transport['onclose'] {
    return this.t.onclose;
  }
  set onclose(f: Transport['onclose']) {
    this.t.onclose = f;
  }
}

export interface HttpGatewayOptions {
  listen: { host: string; port: number };
  upstream: URL;
  /** `rein mcp`'s options that the HTTP front end reads. */
  opts: { 'server-name'?: string; 'upstream-timeout': number; 'session-timeout'?: number };
  /** Origins whose pages may connect besides the gateway's own (`--allow-origin`), and Host names a
   *  loopback connection may use besides loopback ones (`--allow-host`): browser-guard.ts. */
  allowOrigins?: ReadonlySet<string>;
  allowHosts?: ReadonlySet<string>;
  /** Resolves the listener's address once it is bound (tests, benchmarks). */
  onListening?: (a: { host: string; port: number }) => void;
  /** Stop serving when this aborts (default: SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/** `30 s`, `5 m`, `1.5 h`: a duration for a log line. */
function words(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)} min`;
  return `${+(ms / 3_600_000).toFixed(1)} h`;
}

/** Where the HTTP front end reads its environment and writes its messages (the CLI passes its `Ctx`). */
export interface HttpGatewayIO {
  io: { env: Record<string, string | undefined> };
  err(s: string): void;
}

/** Serve until stopped; resolves to the process exit code (0). */
export async function serveHttpGateway(
  ctx: HttpGatewayIO,
  r: { host: PolicyHost; broker: ApprovalBroker; metrics?: GatewayMetrics },
  h: HttpGatewayOptions,
): Promise<number> {
  const token = ctx.io.env.REIN_MCP_TOKEN;
  const sessions = new Map<string, Session>();
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  // MCP (Transports, Security Warning): servers MUST validate Origin, 403 when present and invalid;
  // and a loopback listener must not answer a DNS-rebinding Host (browser-guard.ts, review h11r R13).
  const allowOrigins = h.allowOrigins ?? new Set<string>();
  const allowHosts = h.allowHosts ?? new Set<string>();
  app.addHook('onRequest', (req, reply, done) => {
    const r = browserRefusal(req.raw, allowOrigins, allowHosts);
    if (r !== null) {
      void reply.code(403).type('application/json').send({ jsonrpc: '2.0', error: { code: -32000, message: `rein mcp: ${r.message}` }, id: null });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && allowOrigins.has(origin)) {
      // CORS for an origin allowed with --allow-origin (as `rein serve`, review h13r1 S14): a browser
      // client's preflight is answered, and it may read the answers and the session id.
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'mcp-session-id, mcp-protocol-version');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        void reply
          .code(204)
          .header('access-control-allow-methods', 'GET, POST, DELETE')
          .header('access-control-allow-headers', 'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, x-rein-token')
          .header('access-control-max-age', '600')
          .send();
        return;
      }
    }
    done();
  });

  const authorized = (req: FastifyRequest): boolean => {
    if (!token) return true;
    const got = req.headers['x-rein-token'];
    if (typeof got !== 'string') return false;
    const a = Buffer.from(got);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const passHeaders = (req: FastifyRequest): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const name of PASS_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') out[name] = v;
    }
    return out;
  };

  const jsonError = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).header('content-type', 'application/json').send({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });

  // A body fastify cannot read answers as JSON-RPC, not in fastify's own error shape: a body that is not
  // JSON is a -32700 parse error (JSON-RPC 2.0), one over the limit -32600; others keep their status.
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    const code = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError ? -32700 : status === 413 ? -32600 : -32603;
    const message = code === -32700 ? `Parse error: the body is not JSON (${err.message})` : err.message;
    void reply.code(status).header('content-type', 'application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
  });

  async function openSession(req: FastifyRequest): Promise<Session> {
    const headers = passHeaders(req);
    const session = {} as Session;
    session.headers = headers;
    session.open = 0;
    session.lastSeen = Date.now();
    // Per-request headers: fetch reads the session's current ones (a client may refresh its token).
    // Each request gets its own abort signal (isolating-fetch.ts: the transport's shared one would
    // collect a listener per call).
    const isolated = new IsolatingFetch();
    const upstream = new StreamableHTTPClientTransport(h.upstream, {
      fetch: (url, init) => {
        const hdrs = new Headers(init?.headers);
        for (const [k, v] of Object.entries(session.headers)) hdrs.set(k, v);
        return isolated.fetch(url, { ...init, headers: hdrs });
      },
    });
    const server = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, session);
      },
    });
    const gateway = new Gateway(new LenientServerTransport(server), upstream, {
      host: r.host,
      broker: r.broker,
      serverName: h.opts['server-name'],
      upstreamTimeoutMs: h.opts['upstream-timeout'],
      metrics: r.metrics,
      log: (line) => ctx.err(line + '\n'),
      onInitialized: (result) => {
        if (typeof result.protocolVersion === 'string') upstream.setProtocolVersion(result.protocolVersion);
      },
      upstreamCloseReason: () => `the upstream ${h.upstream.href} closed the session`,
      onUpstreamClosed: () => void server.close().catch(() => undefined),
      closeDownStream: (id) => server.closeSSEStream(id),
      closeUpStream: (id) => isolated.closeRequest(id),
      relateMessages: true,
    });
    server.onclose = () => {
      const id = server.sessionId;
      if (id) sessions.delete(id);
      gateway.dispose();
      void upstream.terminateSession().catch(() => undefined).finally(() => upstream.close().catch(() => undefined));
    };
    Object.assign(session, { server, upstream, gateway });
    await gateway.start();
    return session;
  }

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    handler: async (req, reply) => {
      if (!authorized(req)) return jsonError(reply, 401, 'rein mcp: missing or wrong X-Rein-Token');
      const sid = req.headers['mcp-session-id'];
      let session: Session | undefined;
      if (typeof sid === 'string') {
        session = sessions.get(sid);
        if (!session) return jsonError(reply, 404, 'rein mcp: unknown or expired session; initialize again');
        session.headers = passHeaders(req);
      } else if (req.method === 'POST') {
        try {
          session = await openSession(req);
        } catch (e) {
          return jsonError(reply, 502, `rein mcp: cannot reach the upstream ${h.upstream.href}: ${(e as Error).message}`);
        }
      } else {
        return jsonError(reply, 400, 'rein mcp: no mcp-session-id header; initialize with a POST first');
      }
      reply.hijack();
      // The idle clock stops while a request of the client is open (a call awaiting its answer or a
      // human's approval, or the standalone GET stream) and starts again when the last one ends.
      const s = session;
      s.open++;
      s.lastSeen = Date.now();
      reply.raw.once('close', () => {
        s.open--;
        s.lastSeen = Date.now();
      });
      await s.server.handleRequest(req.raw, reply.raw, req.body);
    },
  });

  // Idle sessions: checked a few times per timeout (at most every 30 s), closed with their upstream session.
  const idleMs = h.opts['session-timeout'] ?? DEFAULT_SESSION_TIMEOUT_MS;
  const sweeper =
    idleMs > 0
      ? setInterval(
          () => {
            const now = Date.now();
            for (const [id, s] of sessions) {
              if (s.open > 0 || now - s.lastSeen < idleMs) continue;
              sessions.delete(id);
              ctx.err(`rein mcp: session ${id} idle for ${words(now - s.lastSeen)} (--session-timeout ${words(idleMs)}); closed it and its upstream session\n`);
              void s.server.close().catch(() => undefined);
            }
          },
          Math.max(50, Math.min(30_000, Math.floor(idleMs / 4))),
        )
      : null;
  sweeper?.unref();

  let address = await app.listen({ host: h.listen.host, port: h.listen.port });
  const bound = app.server.address();
  // fastify names the first interface of a wildcard address (127.0.0.1): say what was bound
  if (bound && typeof bound === 'object' && (bound.address === '0.0.0.0' || bound.address === '::')) address = `http://${bound.address === '::' ? '[::]' : bound.address}:${bound.port}`;
  const port = typeof bound === 'object' && bound ? bound.port : h.listen.port;
  ctx.err(`rein mcp: listening at ${address}/mcp, upstream ${h.upstream.href}${token ? ' (X-Rein-Token required)' : ''}\n`);
  h.onListening?.({ host: h.listen.host, port });

  await new Promise<void>((resolve) => {
    if (h.signal) {
      if (h.signal.aborted) return resolve();
      h.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  if (sweeper) clearInterval(sweeper);
  for (const s of sessions.values()) await s.server.close().catch(() => undefined);
  await app.close();
  return 0;
}
