// The gateway between one MCP client connection ("down") and one upstream MCP server ("up"). It
// forwards raw JSON-RPC messages both ways, unchanged, and governs three things only:
//
//   tools/list   each tool is decided in the `list` phase; denied tools are left out
//   tools/call   decided in the `call` phase before forwarding (deny → an isError result, approval →
//                the ApprovalBroker), and its result in the `result` phase; budgets settle with the
//                usage the upstream reports in `_meta`
//   initialize   read (client name and capabilities, server name), forwarded unchanged
//
// Everything else — resources, prompts, completions, logging, pings, progress, cancellation, and the
// server's own requests (sampling, elicitation, roots) — passes through as is. Messages leave in the
// order they arrived, in each direction: a message waiting for a decision holds back the ones behind
// it (decisions take microseconds; only a human approval is taken out of the line, see `approve`).

import { randomUUID } from 'node:crypto';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Decision } from '../../runtime/decision.js';
import type { Engine } from '../../runtime/engine.js';
import { approvalText, type ApprovalBroker, type ElicitParams, type ElicitResult } from './approvals.js';
import type { PolicyHost } from './host.js';
import type { GatewayMetrics } from './metrics.js';
import { annotationsOf, argumentsOf, resultText, usageOf, type McpRequest, type ToolAnnotations } from './schema.js';

type Id = string | number;

interface Msg {
  jsonrpc: '2.0';
  id?: Id;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** JSON-RPC error codes the gateway answers with. */
export const GATEWAY_ERROR = {
  /** The upstream server exited or its connection closed. */
  upstreamGone: -32000,
  /** The upstream server did not answer within --upstream-timeout. */
  upstreamTimeout: -32001,
} as const;

export interface GatewayOptions {
  host: PolicyHost;
  broker: ApprovalBroker;
  /** `server.name` in every request (default: the upstream's serverInfo.name). */
  serverName?: string;
  /** One id per client connection (default: a random UUID). */
  session?: string;
  /** A forwarded request without an answer for this long is answered with an error (0: never). Progress resets it. */
  upstreamTimeoutMs?: number;
  metrics?: GatewayMetrics;
  /** Log lines (warnings, monitor-mode effects, upstream failures); stderr in the CLI. */
  log?: (line: string) => void;
  /** Called after the upstream's initialize result passed (HTTP: the protocol version for the upstream transport). */
  onInitialized?: (result: Record<string, unknown>) => void;
  /** Why the upstream connection closed, in words (e.g. the child's exit code). */
  upstreamCloseReason?: () => string;
  /** Called once the upstream connection is gone and every pending request was answered. */
  onUpstreamClosed?: (reason: string) => void;
  /**
   * Streamable HTTP: end the client's response stream of a request the client cancelled. It gets no
   * answer, and the SDK's server transport would keep its stream open until the session ends.
   */
  closeDownStream?: (id: Id) => void;
  /** Streamable HTTP: end the upstream's response stream of a request the gateway cancelled upstream (for the same reason). */
  closeUpStream?: (id: Id) => void;
}

interface Forwarded {
  method: string;
  progressToken?: Id;
  timer?: NodeJS.Timeout;
  /** tools/call only: the engine and decision to settle, and the request for the result phase. */
  call?: { engine: Engine; decision: Decision; request: McpRequest };
}

interface Tool {
  annotations: ToolAnnotations;
}

/** Delivers messages in the order they were pushed, each once its (possibly pending) value is known. */
class Outbox {
  private tail: Promise<void> = Promise.resolve();
  constructor(
    private readonly send: (m: Msg) => Promise<void>,
    private readonly onError: (e: unknown) => void,
  ) {}

  push(item: Msg | null | Promise<Msg | null>): void {
    const prev = this.tail;
    if (!(item instanceof Promise)) {
      // The common case (pass-through) without an extra promise per message.
      this.tail = prev.then(() => (item ? this.send(item).catch(this.onError) : undefined));
      return;
    }
    const ready = item.catch((e) => {
      this.onError(e);
      return null;
    });
    this.tail = prev.then(() => ready).then((m) => (m ? this.send(m).catch(this.onError) : undefined));
  }

  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * A client request the gateway holds: while it is decided, or while a human is asked. Cancelling it
 * (the client's `notifications/cancelled`) marks it; its AbortSignal, for the approval broker, is
 * made only when asked for (an AbortController per call costs more than the rest of a decision).
 */
class Hold {
  aborted = false;
  private ac: AbortController | null = null;

  abort(): void {
    this.aborted = true;
    this.ac?.abort();
  }

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort();
    }
    return this.ac.signal;
  }
}

const isRequest = (m: Msg) => m.method !== undefined && m.id !== undefined;
const isNotification = (m: Msg) => m.method !== undefined && m.id === undefined;
const idKey = (id: Id) => (typeof id === 'number' ? `n:${id}` : `s:${id}`);
const GW_PREFIX = 'rein-gw:';
/** How many cancellations of unknown ids a gateway remembers (the oldest are forgotten first). */
const CANCELLED_MEMORY = 1024;

export class Gateway {
  readonly session: string;
  private readonly toUp: Outbox;
  private readonly toDown: Outbox;
  /** Client requests forwarded upstream, by id. */
  private readonly forwarded = new Map<string, Forwarded>();
  /** Client requests the gateway holds (being decided, or an approval pending), by id. */
  private readonly held = new Map<string, Hold>();
  /** Ids the client cancelled that the gateway had not seen (request ids are never reused in a session). */
  private readonly cancelledEarly = new Set<string>();
  /** Requests the gateway itself sent, by id (up: tools/list fetches; down: elicitations). */
  private readonly ownUp = new Map<string, { resolve: (m: Msg) => void }>();
  private readonly ownDown = new Map<string, { resolve: (m: Msg) => void }>();
  private nextOwnId = 1;
  private readonly tools = new Map<string, Tool>();
  private toolsFetch: Promise<void> | null = null;
  private client = { name: 'unknown', version: 'unknown' };
  private clientCanElicit = false;
  private upstreamName: string | null = null;
  private upstreamClosed: string | null = null;
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;

  constructor(
    private readonly down: Transport,
    private readonly up: Transport,
    private readonly opts: GatewayOptions,
  ) {
    this.session = opts.session ?? randomUUID();
    this.log = opts.log ?? (() => undefined);
    this.timeoutMs = opts.upstreamTimeoutMs ?? 0;
    this.toUp = new Outbox(
      (m) => (this.upstreamClosed ? Promise.resolve(this.answerGone(m)) : this.sendUp(m)),
      (e) => this.log(`rein mcp: sending to the upstream failed: ${(e as Error).message}`),
    );
    this.toDown = new Outbox(
      (m) => this.down.send(m as JSONRPCMessage, m.id !== undefined && m.method === undefined ? undefined : { relatedRequestId: this.relatedTo(m) }),
      (e) => this.log(`rein mcp: sending to the client failed: ${(e as Error).message}`),
    );
  }

  /** Wire both transports and start them (the upstream first: a client message needs somewhere to go). */
  async start(): Promise<void> {
    this.up.onmessage = (m) => this.fromUp(m as Msg);
    this.up.onclose = () => this.upstreamGone(this.opts.upstreamCloseReason?.() ?? 'the upstream connection closed');
    this.up.onerror = (e) => this.log(`rein mcp: upstream: ${e.message}`);
    this.down.onmessage = (m) => this.fromDown(m as Msg);
    this.down.onerror = (e) => this.log(`rein mcp: client connection: ${e.message}`);
    await this.up.start();
    await this.down.start();
  }

  /** Resolves when every message accepted so far has been delivered. */
  async drain(): Promise<void> {
    await this.toUp.idle();
    await this.toDown.idle();
  }

  /** Abort held approvals and stop timers (the owner closes the transports). */
  dispose(): void {
    for (const h of this.held.values()) h.abort();
    this.held.clear();
    for (const f of this.forwarded.values()) if (f.timer) clearTimeout(f.timer);
  }

  /** The upstream is gone: answer every request it still owed, then tell the owner. */
  upstreamGone(reason: string): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = reason;
    this.log(`rein mcp: ${reason}`);
    for (const [key, f] of this.forwarded) {
      if (f.timer) clearTimeout(f.timer);
      this.forwarded.delete(key);
      this.toDown.push(errorResponse(idOf(key), GATEWAY_ERROR.upstreamGone, `rein mcp: ${reason} before answering ${f.method}`));
    }
    for (const [key, w] of this.ownUp) {
      this.ownUp.delete(key);
      w.resolve(errorResponse(idOf(key), GATEWAY_ERROR.upstreamGone, reason));
    }
    void this.toDown.idle().then(() => this.opts.onUpstreamClosed?.(reason));
  }

  /** Send upstream; a request that cannot be sent (the upstream unreachable) is answered with an error at once. */
  private async sendUp(m: Msg): Promise<void> {
    try {
      await this.up.send(m as JSONRPCMessage);
    } catch (e) {
      const why = (e as Error).message;
      this.log(`rein mcp: sending ${m.method ?? 'a response'} to the upstream failed: ${why}`);
      if (isRequest(m) && !String(m.id).startsWith(GW_PREFIX)) {
        const f = this.forwarded.get(idKey(m.id!));
        if (f?.timer) clearTimeout(f.timer);
        this.forwarded.delete(idKey(m.id!));
        if (f?.call) this.opts.metrics?.call('failed', f.call.request.tool.name);
        this.toDown.push(errorResponse(m.id!, GATEWAY_ERROR.upstreamGone, `rein mcp: cannot reach the upstream MCP server: ${why}`));
      }
    }
  }

  private answerGone(m: Msg): void {
    if (isRequest(m) && !String(m.id).startsWith(GW_PREFIX)) {
      this.forwarded.delete(idKey(m.id!));
      this.toDown.push(errorResponse(m.id!, GATEWAY_ERROR.upstreamGone, `rein mcp: ${this.upstreamClosed}; ${m.method} was not sent`));
    }
  }

  // ---- client → upstream

  private fromDown(m: Msg): void {
    if (isRequest(m)) {
      if (this.cancelledEarly.size > 0 && this.cancelledEarly.delete(idKey(m.id!))) {
        // The client cancelled it before it arrived (and the cancellation went upstream): drop it.
        this.endDownStream(m.id!);
        return;
      }
      switch (m.method) {
        case 'initialize':
          this.readInitialize(m);
          break;
        case 'tools/call':
          this.toUp.push(this.governCall(m));
          return;
      }
      this.track(m);
      this.toUp.push(m);
      return;
    }
    if (isNotification(m)) {
      if (m.method === 'notifications/cancelled') {
        const target = (m.params as { requestId?: Id } | undefined)?.requestId;
        if (target !== undefined) {
          const key = idKey(target);
          const held = this.held.get(key);
          if (held) {
            // The call never reached the upstream: nothing to tell it.
            held.abort();
            this.held.delete(key);
            this.endDownStream(target);
            return;
          }
          const f = this.forwarded.get(key);
          if (f) {
            if (f.timer) clearTimeout(f.timer);
            this.forwarded.delete(key);
            if (f.call) void this.settle(f.call.engine, f.call.decision, undefined);
            this.toUp.push(m);
            this.endUpStream(target);
            this.endDownStream(target);
            return;
          }
          // Not seen yet (over HTTP a cancellation can overtake its request: they are separate POSTs),
          // or already answered. Remembered: the request, should it come, is not forwarded.
          this.cancelledEarly.add(key);
          if (this.cancelledEarly.size > CANCELLED_MEMORY) this.cancelledEarly.delete(this.cancelledEarly.values().next().value!);
        }
      }
      this.toUp.push(m);
      return;
    }
    // A response: to one of our elicitations, or to a server → client request.
    if (m.id !== undefined && String(m.id).startsWith(GW_PREFIX)) {
      const w = this.ownDown.get(idKey(m.id));
      if (w) {
        this.ownDown.delete(idKey(m.id));
        w.resolve(m);
        return;
      }
    }
    this.toUp.push(m);
  }

  /** Once what is queued for the client went out, end the stream of a request it will get no answer to. */
  private endDownStream(id: Id): void {
    const close = this.opts.closeDownStream;
    if (close) void this.toDown.idle().then(() => close(id));
  }

  /** Once the cancellation went upstream, end the upstream's stream of that request. */
  private endUpStream(id: Id): void {
    const close = this.opts.closeUpStream;
    if (close) void this.toUp.idle().then(() => close(id));
  }

  private readInitialize(m: Msg): void {
    const p = (m.params ?? {}) as { clientInfo?: { name?: unknown; version?: unknown }; capabilities?: { elicitation?: unknown } };
    this.client = {
      name: typeof p.clientInfo?.name === 'string' ? p.clientInfo.name : 'unknown',
      version: typeof p.clientInfo?.version === 'string' ? p.clientInfo.version : 'unknown',
    };
    this.clientCanElicit = p.capabilities?.elicitation !== undefined && p.capabilities.elicitation !== null;
  }

  /** Remember a forwarded request (to route its answer, time it out, and answer it if the upstream dies). */
  private track(m: Msg, call?: Forwarded['call']): void {
    const token = (m.params?._meta as { progressToken?: Id } | undefined)?.progressToken;
    const f: Forwarded = { method: m.method!, progressToken: token, call };
    const key = idKey(m.id!);
    this.forwarded.set(key, f);
    this.arm(key, f);
  }

  private arm(key: string, f: Forwarded): void {
    if (this.timeoutMs <= 0) return;
    if (f.timer) clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      if (this.forwarded.get(key) !== f) return;
      this.forwarded.delete(key);
      const id = idOf(key);
      const secs = this.timeoutMs / 1000;
      this.log(`rein mcp: the upstream did not answer ${f.method} (id ${String(id)}) within ${secs} s; answered with an error and cancelled it upstream`);
      this.opts.metrics?.call('failed', f.call?.request.tool.name ?? f.method);
      if (f.call) void this.settle(f.call.engine, f.call.decision, undefined);
      this.toUp.push({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: `rein mcp: no answer within ${secs} s` } });
      this.endUpStream(id);
      this.toDown.push(errorResponse(id, GATEWAY_ERROR.upstreamTimeout, `rein mcp: the upstream MCP server did not answer ${f.method} within ${secs} s`));
    }, this.timeoutMs);
    f.timer.unref?.();
  }

  // ---- upstream → client

  private fromUp(m: Msg): void {
    if (m.id !== undefined && m.method === undefined) {
      const key = idKey(m.id);
      const own = this.ownUp.get(key);
      if (own) {
        this.ownUp.delete(key);
        own.resolve(m);
        return;
      }
      const f = this.forwarded.get(key);
      // Untracked: late, after a timeout or a cancellation — the client was already answered.
      if (!f) return;
      {
        this.forwarded.delete(key);
        if (f.timer) clearTimeout(f.timer);
        if (f.method === 'initialize' && m.result) {
          const info = (m.result as { serverInfo?: { name?: unknown } }).serverInfo;
          if (typeof info?.name === 'string') this.upstreamName = info.name;
          this.opts.onInitialized?.(m.result);
        } else if (f.method === 'tools/list' && m.result) {
          this.toDown.push(this.filterList(m));
          return;
        } else if (f.call) {
          this.toDown.push(this.governResult(m, f.call));
          return;
        }
      }
      this.toDown.push(m);
      return;
    }
    if (isNotification(m)) {
      if (m.method === 'notifications/progress') {
        const token = (m.params as { progressToken?: Id } | undefined)?.progressToken;
        if (token !== undefined) for (const [key, f] of this.forwarded) if (f.progressToken === token) this.arm(key, f);
      } else if (m.method === 'notifications/tools/list_changed') {
        this.tools.clear();
      } else if (m.method === 'notifications/cancelled') {
        // The server cancelled one of its own requests to the client: pass it on.
      }
    }
    this.toDown.push(m);
  }

  /** Streamable HTTP: a server message goes on the stream of a request still open, else the standalone stream. */
  private relatedTo(m: Msg): Id | undefined {
    if (m.method === 'notifications/progress') {
      const token = (m.params as { progressToken?: Id } | undefined)?.progressToken;
      for (const [key, f] of this.forwarded) if (f.progressToken === token) return idOf(key);
    }
    let last: string | undefined;
    for (const key of this.forwarded.keys()) last = key;
    for (const key of this.held.keys()) last = key;
    return last === undefined ? undefined : idOf(last);
  }

  // ---- governed: tools/list

  private base(tool: string, annotations: ToolAnnotations): McpRequest {
    return {
      phase: 'list',
      server: { name: this.opts.serverName ?? this.upstreamName ?? 'unknown' },
      tool: { name: tool, annotations },
      arguments: {},
      client: this.client,
      session: this.session,
    };
  }

  private async filterList(m: Msg): Promise<Msg> {
    const tools = (m.result as { tools?: unknown }).tools;
    if (!Array.isArray(tools)) return m;
    const engine = this.opts.host.engine;
    const kept: unknown[] = [];
    for (const t of tools) {
      const name = (t as { name?: unknown })?.name;
      if (typeof name !== 'string') {
        kept.push(t);
        continue;
      }
      const annotations = annotationsOf((t as { annotations?: unknown }).annotations);
      this.tools.set(name, { annotations });
      const d = await engine.decide(this.base(name, annotations));
      await this.settleNow(engine, d);
      if (d.effect === 'deny') continue;
      this.note(d, `tools/list ${name}`);
      kept.push(t);
    }
    if (kept.length === tools.length) return m;
    return { ...m, result: { ...m.result, tools: kept } };
  }

  /** The annotations of a tool, asking the upstream's tools/list when the client never listed (or the list changed). */
  private async toolInfo(name: string): Promise<Tool | undefined> {
    const known = this.tools.get(name);
    if (known || this.upstreamClosed) return known;
    if (!this.toolsFetch) {
      this.toolsFetch = this.fetchTools().finally(() => {
        this.toolsFetch = null;
      });
    }
    await this.toolsFetch;
    return this.tools.get(name);
  }

  private async fetchTools(): Promise<void> {
    let cursor: unknown;
    for (let page = 0; page < 100; page++) {
      const r = await this.requestUp('tools/list', cursor === undefined ? {} : { cursor });
      const tools = (r.result as { tools?: unknown } | undefined)?.tools;
      if (!Array.isArray(tools)) return;
      for (const t of tools) {
        const name = (t as { name?: unknown })?.name;
        if (typeof name === 'string') this.tools.set(name, { annotations: annotationsOf((t as { annotations?: unknown }).annotations) });
      }
      cursor = (r.result as { nextCursor?: unknown }).nextCursor;
      if (cursor === undefined || cursor === null) return;
    }
  }

  /** A request of the gateway's own, sent at once (not in line: the call that needs it holds the line). */
  private requestUp(method: string, params: Record<string, unknown>): Promise<Msg> {
    const id = `${GW_PREFIX}${this.nextOwnId++}`;
    return new Promise((resolve) => {
      const key = idKey(id);
      if (this.upstreamClosed) return resolve(errorResponse(id, GATEWAY_ERROR.upstreamGone, this.upstreamClosed));
      this.ownUp.set(key, { resolve });
      this.up.send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage).catch((e: Error) => {
        this.ownUp.delete(key);
        resolve(errorResponse(id, GATEWAY_ERROR.upstreamGone, e.message));
      });
    });
  }

  // ---- governed: tools/call

  private async governCall(m: Msg): Promise<Msg | null> {
    const params = (m.params ?? {}) as { name?: unknown; arguments?: unknown };
    const name = typeof params.name === 'string' ? params.name : '';
    // Held while it is decided: a cancellation arriving meanwhile drops the call (see fromDown).
    const key = idKey(m.id!);
    const hold = new Hold();
    this.held.set(key, hold);
    const done = (out: Msg | null, refusal?: Msg): Msg | null => {
      if (this.held.get(key) === hold) this.held.delete(key);
      if (refusal && !hold.aborted) this.toDown.push(refusal);
      return out;
    };
    // Known tools without an extra await (this path runs for every call).
    const tool = this.tools.get(name) ?? (await this.toolInfo(name));
    const engine = this.opts.host.engine;
    const annotations = tool?.annotations ?? {};
    // A tool the list phase hides cannot be called either.
    const listed = await engine.decide(this.base(name, annotations));
    if (listed.reservation) await this.settleNow(engine, listed);
    if (listed.effect === 'deny') return done(null, this.refuse(m, name, listed, `tool \`${name}\` is not available: ${messageOf(listed)}`));
    const request: McpRequest = { ...this.base(name, annotations), phase: 'call', arguments: argumentsOf(params.arguments) };
    const d = await engine.decide(request);
    if (d.effect === 'deny') return done(null, this.refuse(m, name, d, messageOf(d)));
    if (hold.aborted) {
      // Cancelled while it was decided: never forwarded (a reservation settles with its estimate).
      await this.settle(engine, d, undefined);
      return done(null);
    }
    if (d.effect === 'require_approval') {
      this.ask(m, request, d, hold, {
        granted: (again, engineNow) => {
          this.note(again, `tools/call ${name}`);
          this.track(m, { engine: engineNow, decision: again, request });
          this.opts.metrics?.call('forwarded', name);
          this.toUp.push(m);
        },
        refused: (decision, message) => this.toDown.push(this.refuse(m, name, decision, message)),
      });
      return null;
    }
    this.note(d, `tools/call ${name}`);
    done(null);
    this.track(m, { engine, decision: d, request });
    this.opts.metrics?.call('forwarded', name);
    return m;
  }

  /**
   * Ask the broker whether `request` (a call, or a call's result) may go on; out of line, so other
   * traffic flows while a human decides. Granted: decided again with the approvals (bound to this
   * request's hash), and `granted` runs if that allows; otherwise `refused` says why. A client that
   * cancels the call meanwhile gets neither.
   */
  private ask(
    m: Msg,
    request: McpRequest,
    d: Decision,
    hold: Hold,
    then: { granted: (again: Decision, engine: Engine) => void; refused: (d: Decision, message: string) => void },
  ): void {
    const key = idKey(m.id!);
    this.held.set(key, hold);
    const id = `apr_${randomUUID()}`;
    const name = request.tool.name;
    const call = `${request.server.name} › ${name}(${truncate(JSON.stringify(request.arguments), 500)})`;
    const isResult = request.phase === 'result';
    const summary = isResult ? `${call} returned:\n${truncate(request.result?.text ?? '', 1000)}` : call;
    const what = isResult ? `the result of tools/call ${name}` : `tools/call ${name}`;
    this.log(`rein mcp: approval ${id} requested for ${what}: ${approvalText(d).replace(/\n/g, '; ')}`);
    void this.opts.broker
      .request({
        id,
        decision: d,
        request,
        summary,
        signal: hold.signal,
        elicit: this.clientCanElicit ? (p, signal) => this.elicit(p, signal) : undefined,
      })
      .catch((e): { approved: false; message: string } => ({ approved: false, message: `approval ${id} failed: ${(e as Error).message}` }))
      .then(async (outcome) => {
        if (this.held.get(key) !== hold || hold.aborted) return; // cancelled by the client
        this.held.delete(key);
        if (!outcome.approved) {
          this.log(`rein mcp: approval ${id} refused: ${outcome.message.split('\n')[0]}`);
          then.refused(d, outcome.message);
          return;
        }
        // Decide again with the grants: they count only for this exact request (its hash).
        const engine = this.opts.host.engine;
        const again = await engine.decide(request, { approvals: outcome.approvals });
        if (again.effect !== 'allow') {
          await this.settleNow(engine, again);
          then.refused(again, messageOf(again));
          return;
        }
        this.log(`rein mcp: approval ${id} granted${outcome.by ? ` (${outcome.by})` : ''}; ${isResult ? 'releasing' : 'forwarding'} ${what}`);
        then.granted(again, engine);
      });
  }

  private elicit(params: ElicitParams, signal: AbortSignal): Promise<ElicitResult> {
    const id = `${GW_PREFIX}${this.nextOwnId++}`;
    return new Promise((resolve, reject) => {
      const key = idKey(id);
      const onAbort = () => {
        this.ownDown.delete(key);
        this.toDown.push({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the approval is no longer needed' } });
        reject(new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.ownDown.set(key, {
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          if (r.error) reject(new Error(`the client answered the elicitation with an error: ${r.error.message}`));
          else resolve((r.result ?? { action: 'cancel' }) as unknown as ElicitResult);
        },
      });
      this.toDown.push({ jsonrpc: '2.0', id, method: 'elicitation/create', params: params as unknown as Record<string, unknown> });
    });
  }

  /** The isError result a refused call gets: the model reads why and can adapt. */
  private refuse(m: Msg, tool: string, d: Decision, message: string): Msg {
    this.opts.metrics?.call('refused', tool);
    this.log(`rein mcp: refused tools/call ${tool}: ${message.split('\n')[0]}`);
    return {
      jsonrpc: '2.0',
      id: m.id,
      result: {
        content: [{ type: 'text', text: `Rein policy refused this call to \`${tool}\`: ${message}` }],
        isError: true,
        _meta: { 'rein/decision': decisionMeta(d) },
      },
    };
  }

  // ---- governed: the result

  private async governResult(m: Msg, call: NonNullable<Forwarded['call']>): Promise<Msg | null> {
    const result = m.result;
    if (call.decision.reservation) await this.settle(call.engine, call.decision, result ? usageOf(result) : undefined);
    if (!result) return m; // a JSON-RPC error: nothing to inspect
    const engine = this.opts.host.engine;
    const name = call.request.tool.name;
    const request: McpRequest = { ...call.request, phase: 'result', result: { isError: result.isError === true, text: resultText(result) } };
    const d = await engine.decide(request);
    if (d.reservation) await this.settleNow(engine, d);
    if (d.effect === 'require_approval') {
      // The model sees the result only once a human released it (elicitation, else the queue).
      this.ask(m, request, d, new Hold(), {
        granted: (again) => {
          this.note(again, `result of ${name}`);
          this.toDown.push(m);
        },
        refused: (decision, message) => this.toDown.push(this.withhold(m, name, decision, message)),
      });
      return null;
    }
    if (d.effect !== 'allow') return this.withhold(m, name, d, messageOf(d));
    this.note(d, `result of ${name}`);
    return m;
  }

  /** The isError result that replaces a withheld one. */
  private withhold(m: Msg, tool: string, d: Decision, message: string): Msg {
    this.log(`rein mcp: withheld the result of tools/call ${tool}: ${message.split('\n')[0]}`);
    return {
      ...m,
      result: {
        content: [{ type: 'text', text: `Rein policy withheld the result of \`${tool}\`: ${message}` }],
        isError: true,
        _meta: { 'rein/decision': decisionMeta(d) },
      },
    };
  }

  /** Settle a call's reservation with the upstream's usage (else its estimate stands). */
  private async settle(engine: Engine, d: Decision, usage: Record<string, unknown> | undefined): Promise<void> {
    if (!d.reservation) return;
    try {
      await engine.settle(d, usage ? { usage } : {});
    } catch (e) {
      this.log(`rein mcp: ${(e as Error).message} (the estimate stands)`);
    }
  }

  /** List- and result-phase decisions do not wait for usage: their charges are final at once. */
  private async settleNow(engine: Engine, d: Decision): Promise<void> {
    if (d.reservation) await this.settle(engine, d, undefined);
  }

  /** Log warnings and, in monitor mode, what enforce mode would have done. */
  private note(d: Decision, what: string): void {
    for (const w of d.warnings) this.log(`rein mcp: warn ${what}: ${w.message ?? w.name ?? ''}`);
    if (d.would_effect && d.would_effect !== 'allow') this.log(`rein mcp: monitor: ${what} would be ${d.would_effect}: ${messageOf(d)}`);
  }
}

/** The deciding messages of a decision (its reasons, else its pending approvals). */
export function messageOf(d: Decision): string {
  const parts = d.reasons.filter((r) => r.effect === (d.would_effect ?? d.effect)).map((r) => r.message ?? r.name ?? r.kind);
  if (parts.length === 0 && d.approvals.length) return approvalText(d);
  if (parts.length === 0 && d.monitored.length) return d.monitored.map((r) => r.message ?? r.name ?? '').join('; ');
  const errors = d.errors.map((e) => e.message);
  return [...parts, ...errors].join('; ') || `effect ${d.would_effect ?? d.effect}`;
}

function decisionMeta(d: Decision): Record<string, unknown> {
  return {
    effect: d.effect,
    rules: [...d.reasons.map((r) => r.name ?? r.kind), ...d.approvals.map((a) => a.name)],
    request_hash: d.request_hash,
    policy: d.policy.hash,
  };
}

function errorResponse(id: Id, code: number, message: string): Msg {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function idOf(key: string): Id {
  return key.startsWith('n:') ? Number(key.slice(2)) : key.slice(2);
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
