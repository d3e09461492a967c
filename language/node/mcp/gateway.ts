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
//
// The per-call path is kept lean (bench/mcp.ts measures it): with a synchronous budget store (the
// memory store) and no host functions (`extern def`, which may need awaiting), a known tool's call
// and its result are decided and forwarded synchronously, with no promise per message; a tool's
// list-phase check is made once per session while the policy cannot
// change it (phases.ts `listStable`); a result is not decided when no rule or budget can match the
// `result` phase (phases.ts); one timer serves every pending request's --upstream-timeout; and a
// message forwarded unchanged over stdio is written as the bytes it arrived as (stdio.ts).

import { randomUUID } from 'node:crypto';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Decision } from '../../runtime/decision.js';
import type { Engine } from '../../runtime/engine.js';
import { approvalText, SHOW_LIMIT, type ApprovalBroker, type ElicitParams, type ElicitResult } from './approvals.js';
import { findSpans } from '../../runtime/detectors.js';
import type { PolicyHost } from './host.js';
import type { GatewayMetrics } from './metrics.js';
import { phaseFacts } from './phases.js';
import { isOrdered, type OrderedTransport } from './stdio.js';
import { annotationsOf, argumentsOf, maskResult, resultText, usageOf, type McpRequest, type ToolAnnotations } from './schema.js';
import { applyTransforms, maskedSummary } from '../../runtime/transforms.js';
import { maskDecision } from '../../runtime/mask-decision.js';

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
/** How long answerStreamLost waits for the upstream to answer its ping. */
const PROBE_MS = 10_000;

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
  /**
   * Streamable HTTP: give every message to the client the request it relates to (`relatedRequestId`),
   * so it goes on that request's response stream. Stdio has one stream and does not need it.
   */
  relateMessages?: boolean;
}

interface Forwarded {
  method: string;
  progressToken?: Id;
  /** When --upstream-timeout answers it (performance.now() ms; 0: never). */
  deadline: number;
  /** tools/call (and tasks/result) only: the engine and decision to settle, and the request for the result phase. */
  call?: CallContext;
}

/** What a forwarded tools/call's answer is decided with. */
interface CallContext {
  engine: Engine;
  /** The call-phase decision (its reservation settles with the answer's usage). */
  decision: Decision;
  /** The call as the upstream received it (masked arguments): the result phase's request. */
  request: McpRequest;
  /** A task-augmented call (`params.task`): its answer may be a CreateTaskResult. */
  task?: boolean;
  /** The call's reservation was settled already (a task's result, fetched with tasks/result). */
  settled?: boolean;
}

interface Tool {
  annotations: ToolAnnotations;
  /** This session's list-phase decision of the tool, kept while the policy cannot change it (phases.ts). */
  listed?: { engine: Engine; decision: Decision };
}

type Sent = void | Promise<void>;
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Delivers messages in the order they were pushed, each once its (possibly pending) value is known.
 * Over an ordered transport (stdio: a write is in order the moment it is made), a message pushed
 * while nothing waits ahead of it is sent at once, without a promise.
 */
class Outbox {
  private tail: Promise<void> = RESOLVED;
  /** Messages pushed and not yet handed to `send`. */
  private waiting = 0;
  constructor(
    private readonly send: (m: Msg) => Sent,
    private readonly onError: (e: unknown) => void,
    private readonly ordered: boolean,
  ) {}

  push(item: Msg | null | Promise<Msg | null>): void {
    const isPromise = item instanceof Promise;
    if (this.ordered && this.waiting === 0 && !isPromise) {
      if (item) this.deliver(item);
      return;
    }
    this.waiting++;
    const prev = this.tail;
    if (!isPromise) {
      this.tail = prev.then(() => {
        this.waiting--;
        return item ? this.deliver(item) : undefined;
      });
      return;
    }
    const ready = item.catch((e) => {
      this.onError(e);
      return null;
    });
    this.tail = prev
      .then(() => ready)
      .then((m) => {
        this.waiting--;
        return m ? this.deliver(m) : undefined;
      });
  }

  private deliver(m: Msg): Sent {
    try {
      const r = this.send(m);
      return r ? r.catch(this.onError) : undefined;
    } catch (e) {
      this.onError(e);
    }
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
/** The client requests the gateway decides on (or routes by what it decided): never forwarded without an id. */
const GOVERNED: ReadonlySet<string> = new Set(['tools/call', 'tools/list', 'tasks/result']);
const isNotification = (m: Msg) => m.method !== undefined && m.id === undefined;
/** The gateway's own request ids (strings: a Map keyed by id tells 1 and "1" apart). */
const GW_PREFIX = 'rein-gw:';
const isOwn = (id: Id) => typeof id === 'string' && id.startsWith(GW_PREFIX);
const now = () => performance.now();
/** Per policy (engine): whether the result phase was found to be a plain allow (see `resultDecisionNeeded`). */
const cleanResultPhase = new WeakMap<Engine, boolean>();
/** How many cancellations of unknown ids a gateway remembers (the oldest are forgotten first). */
const CANCELLED_MEMORY = 1024;

export class Gateway {
  readonly session: string;
  private readonly toUp: Outbox;
  private readonly toDown: Outbox;
  /** Client requests forwarded upstream, by id. */
  private readonly forwarded = new Map<Id, Forwarded>();
  /** Client requests the gateway holds (being decided, or an approval pending), by id. */
  private readonly held = new Map<Id, Hold>();
  /** Ids the client cancelled that the gateway had not seen (request ids are never reused in a session). */
  private readonly cancelledEarly = new Set<Id>();
  /** Requests the gateway itself sent, by id (up: tools/list fetches; down: elicitations). */
  private readonly ownUp = new Map<Id, { resolve: (m: Msg) => void }>();
  private readonly ownDown = new Map<Id, { resolve: (m: Msg) => void }>();
  private nextOwnId = 1;
  private readonly tools = new Map<string, Tool>();
  /** Tasks created by this session's task-augmented tools/call, by taskId: what their tasks/result is decided with. */
  private readonly tasks = new Map<string, CallContext>();
  private toolsFetch: Promise<void> | null = null;
  /** Why the gateway's own tools/list failed (an error answer, a malformed one), until one succeeds. */
  private toolsProblem: string | null = null;
  private client = { name: 'unknown', version: 'unknown' };
  private clientCanElicit = false;
  private upstreamName: string | null = null;
  private upstreamClosed: string | null = null;
  /** A ping after a lost answer stream is under way (answerStreamLost). */
  private probing = false;
  private disposed = false;
  private readonly log: (line: string) => void;
  private readonly timeoutMs: number;
  /** The one timer of --upstream-timeout: due at `timerDue` (performance.now() ms), for the earliest deadline. */
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  /** Stdio: the transports' synchronous, in-order send (null over HTTP). */
  private readonly upNow: OrderedTransport['sendNow'] | null;
  private readonly downNow: OrderedTransport['sendNow'] | null;

  constructor(
    private readonly down: Transport,
    private readonly up: Transport,
    private readonly opts: GatewayOptions,
  ) {
    this.session = opts.session ?? randomUUID();
    this.log = opts.log ?? (() => undefined);
    this.timeoutMs = opts.upstreamTimeoutMs ?? 0;
    this.upNow = isOrdered(up) ? (m) => up.sendNow(m) : null;
    this.downNow = isOrdered(down) ? (m) => down.sendNow(m) : null;
    this.toUp = new Outbox(
      (m) => this.sendUp(m),
      (e) => this.log(`rein mcp: sending to the upstream failed: ${(e as Error).message}`),
      this.upNow !== null,
    );
    this.toDown = new Outbox(
      (m) => this.sendDown(m),
      (e) => this.log(`rein mcp: sending to the client failed: ${(e as Error).message}`),
      this.downNow !== null,
    );
  }

  /** Wire both transports and start them (the upstream first: a client message needs somewhere to go). */
  async start(): Promise<void> {
    this.up.onmessage = (m) => this.fromUp(m as Msg);
    this.up.onclose = () => this.upstreamGone(this.opts.upstreamCloseReason?.() ?? 'the upstream connection closed');
    this.up.onerror = (e) => {
      this.log(`rein mcp: upstream: ${e.message}`);
      this.answerStreamLost(e);
    };
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

  /** Abort held approvals and stop the timer (the owner closes the transports). */
  dispose(): void {
    this.disposed = true;
    for (const h of this.held.values()) h.abort();
    this.held.clear();
    this.stopTimer();
  }

  /**
   * An HTTP upstream's answer stream broke (the SDK's StreamableHTTPClientTransport says so only through
   * `onerror`: "SSE stream disconnected: …", then, for a resumable stream, "Failed to reconnect…" and
   * "Maximum reconnection attempts … exceeded"). The requests whose answers were on it would wait for
   * --upstream-timeout. So the gateway pings the upstream: when the ping cannot be sent or is refused,
   * the upstream is unreachable and every request it still owed is answered now with -32000, as the
   * stdio gateway does when its server exits (review h12r1 P4). When the upstream answers the ping, it is
   * alive and the owed requests keep waiting (a resumed stream may still bring their answers). The
   * session stays: a later request tries the upstream again.
   */
  private answerStreamLost(e: Error): void {
    const m = e.message;
    if (this.probing || this.forwarded.size === 0 || this.upstreamClosed) return;
    if (!/^(SSE stream disconnected|Failed to reconnect|Maximum reconnection attempts)/.test(m)) return;
    this.probing = true;
    let timer: NodeJS.Timeout | undefined;
    const noAnswer = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer to a ping within ${PROBE_MS / 1000} s`), PROBE_MS);
      timer.unref?.();
    });
    // A send that fails (connection refused, reset) resolves with the gateway's own -32000 error
    const ping = this.requestUp('ping', {}).then((r) => (r.error && (r.error as { code?: unknown }).code === GATEWAY_ERROR.upstreamGone ? String((r.error as { message?: unknown }).message) : null));
    void Promise.race([ping, noAnswer]).then((unreachable) => {
      clearTimeout(timer);
      this.probing = false;
      if (unreachable === null || this.disposed || this.upstreamClosed) return;
      const why = `the upstream's answer stream was lost (${m}) and the upstream cannot be reached (${unreachable})`;
      for (const [id, f] of this.forwarded) {
        this.forwarded.delete(id);
        this.opts.metrics?.call('failed', f.call?.request.tool.name ?? f.method);
        if (f.call) void this.settle(f.call.engine, f.call.decision, undefined);
        this.endUpStream(id);
        this.toDown.push(errorResponse(id, GATEWAY_ERROR.upstreamGone, `rein mcp: ${why} before answering ${f.method}`));
      }
      this.log(`rein mcp: ${why}; answered what it owed with an error`);
    });
  }

  /** The upstream is gone: answer every request it still owed, then tell the owner. */
  upstreamGone(reason: string): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = reason;
    // After dispose() the owner is stopping the upstream itself: not worth a line (nor a failure).
    if (!this.disposed) this.log(`rein mcp: ${reason}`);
    this.stopTimer();
    for (const [id, f] of this.forwarded) {
      this.forwarded.delete(id);
      this.toDown.push(errorResponse(id, GATEWAY_ERROR.upstreamGone, `rein mcp: ${reason} before answering ${f.method}`));
    }
    for (const [id, w] of this.ownUp) {
      this.ownUp.delete(id);
      w.resolve(errorResponse(id, GATEWAY_ERROR.upstreamGone, reason));
    }
    void this.toDown.idle().then(() => this.opts.onUpstreamClosed?.(reason));
  }

  /** Send upstream (in line: the Outbox calls this in order). */
  private sendUp(m: Msg): Sent {
    if (this.upstreamClosed) return this.answerGone(m);
    if (this.upNow === null) return this.sendUpAsync(m);
    try {
      this.upNow(m as JSONRPCMessage);
    } catch (e) {
      this.sendUpFailed(m, e);
    }
  }

  private async sendUpAsync(m: Msg): Promise<void> {
    try {
      await this.up.send(m as JSONRPCMessage);
    } catch (e) {
      this.sendUpFailed(m, e);
    }
  }

  /** A request that cannot be sent (the upstream unreachable) is answered with an error at once. */
  private sendUpFailed(m: Msg, e: unknown): void {
    const why = (e as Error).message;
    this.log(`rein mcp: sending ${m.method ?? 'a response'} to the upstream failed: ${why}`);
    if (isRequest(m) && !isOwn(m.id!)) {
      const f = this.forwarded.get(m.id!);
      this.forwarded.delete(m.id!);
      if (f?.call) this.opts.metrics?.call('failed', f.call.request.tool.name);
      this.toDown.push(errorResponse(m.id!, GATEWAY_ERROR.upstreamGone, `rein mcp: cannot reach the upstream MCP server: ${why}`));
    }
  }

  private sendDown(m: Msg): Sent {
    if (this.downNow !== null) return this.downNow(m as JSONRPCMessage);
    const related = this.opts.relateMessages && !(m.id !== undefined && m.method === undefined) ? { relatedRequestId: this.relatedTo(m) } : undefined;
    return this.down.send(m as JSONRPCMessage, related);
  }

  private answerGone(m: Msg): void {
    if (isRequest(m) && !isOwn(m.id!)) {
      this.forwarded.delete(m.id!);
      this.toDown.push(errorResponse(m.id!, GATEWAY_ERROR.upstreamGone, `rein mcp: ${this.upstreamClosed}; ${m.method} was not sent`));
    }
  }

  // ---- client → upstream

  private fromDown(m: Msg): void {
    if (isRequest(m)) {
      if (this.cancelledEarly.size > 0 && this.cancelledEarly.delete(m.id!)) {
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
        case 'tasks/result': {
          // A task's result is a tools/call's result: decided like one. Only for a task this session
          // created through the gateway (the call decided); any other id is refused, never forwarded.
          const taskId = (m.params as { taskId?: unknown } | undefined)?.taskId;
          const ctx = typeof taskId === 'string' ? this.tasks.get(taskId) : undefined;
          if (ctx === undefined) {
            this.toDown.push(errorResponse(m.id!, -32602, `rein mcp: invalid tasks/result: task ${JSON.stringify(taskId ?? null)} was not created through this gateway session, so its result cannot be checked against the policy`));
            return;
          }
          this.track(m, { ...ctx, settled: true });
          // Re-serialised (not the bytes it arrived as): the upstream reads the taskId that was looked up.
          this.toUp.push(copyOf(m));
          return;
        }
      }
      this.track(m);
      this.toUp.push(m);
      return;
    }
    if (isNotification(m)) {
      if (GOVERNED.has(m.method!)) {
        // A governed request sent as a notification (no id): nothing can be answered, and forwarding
        // it would let a lax server run a call no rule decided. Dropped, and said.
        this.log(`rein mcp: dropped a ${m.method} without an id (a notification): governed requests need an id`);
        return;
      }
      if (m.method === 'notifications/cancelled') {
        const target = (m.params as { requestId?: Id } | undefined)?.requestId;
        if (target !== undefined) {
          const held = this.held.get(target);
          if (held) {
            // The call never reached the upstream: nothing to tell it.
            held.abort();
            this.held.delete(target);
            this.endDownStream(target);
            return;
          }
          const f = this.forwarded.get(target);
          if (f) {
            this.forwarded.delete(target);
            if (f.call) void this.settle(f.call.engine, f.call.decision, undefined);
            this.toUp.push(m);
            this.endUpStream(target);
            this.endDownStream(target);
            return;
          }
          // Not seen yet (over HTTP a cancellation can overtake its request: they are separate POSTs),
          // or already answered. Remembered: the request, should it come, is not forwarded.
          this.cancelledEarly.add(target);
          if (this.cancelledEarly.size > CANCELLED_MEMORY) this.cancelledEarly.delete(this.cancelledEarly.values().next().value!);
        }
      }
      this.toUp.push(m);
      return;
    }
    // A response: to one of our elicitations, or to a server → client request.
    if (m.id !== undefined && isOwn(m.id)) {
      const w = this.ownDown.get(m.id);
      if (w) {
        this.ownDown.delete(m.id);
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
    // The request every decision sees changed: no list decision made before stays valid.
    this.tools.clear();
  }

  /** Remember a forwarded request (to route its answer, time it out, and answer it if the upstream dies). */
  private track(m: Msg, call?: Forwarded['call']): void {
    const token = (m.params?._meta as { progressToken?: Id } | undefined)?.progressToken;
    const f: Forwarded = { method: m.method!, progressToken: token, deadline: 0, call };
    this.forwarded.set(m.id!, f);
    this.arm(f);
  }

  /** (Re)start a forwarded request's --upstream-timeout clock. */
  private arm(f: Forwarded): void {
    if (this.timeoutMs <= 0) return;
    f.deadline = now() + this.timeoutMs;
    // The timer fires for the earliest deadline; one due later than this is moved earlier, one
    // already due earlier (the common case: deadlines only grow) serves.
    if (this.timer === null || this.timerDue > f.deadline) this.startTimer(f.deadline);
  }

  private startTimer(due: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(due - now())));
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  /** The timer fired: answer every request past its deadline, and wait for the next deadline. */
  private expire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const t = now();
    let next = Infinity;
    for (const [id, f] of this.forwarded) {
      if (f.deadline === 0) continue;
      if (f.deadline > t) {
        if (f.deadline < next) next = f.deadline;
        continue;
      }
      this.forwarded.delete(id);
      const secs = this.timeoutMs / 1000;
      this.log(`rein mcp: the upstream did not answer ${f.method} (id ${String(id)}) within ${secs} s; answered with an error and cancelled it upstream`);
      this.opts.metrics?.call('failed', f.call?.request.tool.name ?? f.method);
      if (f.call) void this.settle(f.call.engine, f.call.decision, undefined);
      this.toUp.push({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: `rein mcp: no answer within ${secs} s` } });
      this.endUpStream(id);
      this.toDown.push(errorResponse(id, GATEWAY_ERROR.upstreamTimeout, `rein mcp: the upstream MCP server did not answer ${f.method} within ${secs} s`));
    }
    if (next !== Infinity && !this.upstreamClosed) this.startTimer(next);
  }

  // ---- upstream → client

  private fromUp(m: Msg): void {
    if (m.id !== undefined && m.method === undefined) {
      const id = m.id;
      if (this.ownUp.size > 0 && isOwn(id)) {
        const own = this.ownUp.get(id);
        if (own) {
          this.ownUp.delete(id);
          own.resolve(m);
          return;
        }
      }
      const f = this.forwarded.get(id);
      // Untracked: late, after a timeout or a cancellation — the client was already answered.
      if (!f) return;
      this.forwarded.delete(id);
      if (f.call) {
        if (f.call.task && this.taskCreated(m, f.call)) return;
        this.toDown.push(this.governResult(m, f.call));
        return;
      }
      if (f.method === 'initialize' && m.result) {
        const info = (m.result as { serverInfo?: { name?: unknown } }).serverInfo;
        if (typeof info?.name === 'string') this.upstreamName = info.name;
        this.tools.clear();
        this.opts.onInitialized?.(m.result);
      } else if (f.method === 'tools/list' && m.result) {
        this.toDown.push(this.filterList(m));
        return;
      }
      this.toDown.push(m);
      return;
    }
    if (isNotification(m)) {
      if (m.method === 'notifications/progress') {
        const token = (m.params as { progressToken?: Id } | undefined)?.progressToken;
        if (token !== undefined) for (const f of this.forwarded.values()) if (f.progressToken === token) this.arm(f);
      } else if (m.method === 'notifications/tools/list_changed') {
        this.tools.clear();
      }
      // notifications/cancelled here: the server cancelled one of its own requests to the client; passed on.
    }
    this.toDown.push(m);
  }

  /** Streamable HTTP: a server message goes on the stream of a request still open, else the standalone stream. */
  private relatedTo(m: Msg): Id | undefined {
    if (m.method === 'notifications/progress') {
      const token = (m.params as { progressToken?: Id } | undefined)?.progressToken;
      for (const [id, f] of this.forwarded) if (f.progressToken === token) return id;
    }
    let last: Id | undefined;
    for (const id of this.forwarded.keys()) last = id;
    for (const id of this.held.keys()) last = id;
    return last;
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
      const tool: Tool = { annotations: annotationsOf((t as { annotations?: unknown }).annotations) };
      this.tools.set(name, tool);
      const d = await this.listed(engine, name, tool);
      if (d.effect === 'deny') continue;
      this.note(d, 'tools/list', name);
      kept.push(t);
    }
    // A copy either way: the client reads the tools as decided, not the bytes they arrived as (a
    // duplicate key would let the client's parser read another name).
    if (kept.length === tools.length) return copyOf(m);
    return { ...m, result: { ...m.result, tools: kept } };
  }

  /**
   * The list-phase decision of a tool in this session. Made once and kept on the tool while the
   * policy cannot change it (phases.ts `listStable`: no budget, clock, budget view or extern in the
   * list phase) and the same engine decides, and only when it has no `errors` (a failure may pass);
   * otherwise made each time (its charges settle at once).
   */
  private listed(engine: Engine, name: string, tool: Tool | undefined): Decision | Promise<Decision> {
    const kept = tool?.listed;
    if (kept !== undefined && kept.engine === engine) return kept.decision;
    const request = this.base(name, tool?.annotations ?? {});
    const keep = (d: Decision) => {
      if (tool !== undefined && d.errors.length === 0 && phaseFacts(irOf(engine)).listStable) tool.listed = { engine, decision: d };
      return d;
    };
    if (engine.decidesSynchronously) {
      const d = engine.decideSync(request);
      // A synchronous store settles synchronously: nothing to wait for.
      if (d.reservation) void this.settle(engine, d, undefined);
      return keep(d);
    }
    return engine.decide(request).then(async (d) => {
      await this.settleNow(engine, d);
      return keep(d);
    });
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
    this.toolsProblem = null;
    for (let page = 0; page < 100; page++) {
      const r = await this.requestUp('tools/list', cursor === undefined ? {} : { cursor });
      const tools = (r.result as { tools?: unknown } | undefined)?.tools;
      if (!Array.isArray(tools)) {
        // Fail closed: a call is not decided without the tool's annotations when the list could not be read.
        this.toolsProblem = r.error ? `the upstream answered tools/list with an error (${String(r.error.message)})` : 'the upstream answered tools/list without a list of tools';
        return;
      }
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
    // An id no one can guess: the client's requests are forwarded with their own ids, and a client
    // sending ids like ours first (a `ping` answered before our tools/list) must not answer for the upstream.
    const id = `${GW_PREFIX}${randomUUID()}:${this.nextOwnId++}`;
    return new Promise((resolve) => {
      if (this.upstreamClosed) return resolve(errorResponse(id, GATEWAY_ERROR.upstreamGone, this.upstreamClosed));
      this.ownUp.set(id, { resolve });
      this.up.send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage).catch((e: Error) => {
        this.ownUp.delete(id);
        resolve(errorResponse(id, GATEWAY_ERROR.upstreamGone, e.message));
      });
    });
  }

  // ---- governed: tools/call

  private governCall(m: Msg): Msg | null | Promise<Msg | null> {
    // Only a well-formed call is decided: a name that is not a string (decided as what?) or arguments
    // that are not an object would be forwarded as something other than what was decided.
    const problem = callProblem(m.params);
    if (problem !== null) {
      this.log(`rein mcp: refused an invalid tools/call: ${problem}`);
      this.toDown.push(errorResponse(m.id!, -32602, `rein mcp: invalid tools/call: ${problem}`));
      return null;
    }
    const params = m.params as { name: string; arguments?: unknown; task?: unknown };
    const name = params.name;
    const tool = this.tools.get(name);
    const engine = this.opts.host.engine;
    if (tool === undefined || !engine.decidesSynchronously) return this.governCallAsync(m, name, params.arguments);
    // A known tool and a synchronous store (the memory store): decided and answered right here. Nothing
    // can arrive meanwhile (a cancellation), so the call needs no Hold.
    const listed = this.listed(engine, name, tool) as Decision;
    if (listed.effect === 'deny') {
      this.toDown.push(this.refuse(m, name, listed, `tool \`${name}\` is not available: ${messageOf(listed)}`));
      return null;
    }
    const request = this.callRequest(name, tool.annotations, params.arguments);
    return this.afterCall(m, engine, request, engine.decideSync(request), null);
  }

  /** A tools/call that must wait: for the tool's annotations (never listed) or an asynchronous store. */
  private async governCallAsync(m: Msg, name: string, args: unknown): Promise<Msg | null> {
    // Held while it is decided: a cancellation arriving meanwhile drops the call (see fromDown).
    const id = m.id!;
    const hold = new Hold();
    this.held.set(id, hold);
    const tool = this.tools.get(name) ?? (await this.toolInfo(name));
    const engine = this.opts.host.engine;
    if (tool === undefined && this.toolsProblem !== null) {
      if (this.held.get(id) === hold) this.held.delete(id);
      if (!hold.aborted) {
        this.opts.metrics?.call('refused', name);
        this.log(`rein mcp: refused tools/call ${name}: ${this.toolsProblem}`);
        this.toDown.push({
          jsonrpc: '2.0',
          id,
          result: { content: [{ type: 'text', text: `Rein could not check this call to \`${name}\`: ${this.toolsProblem}, so the tool's list decision and annotations are unknown` }], isError: true },
        });
      }
      return null;
    }
    // A tool the list phase hides cannot be called either.
    const listed = await this.listed(engine, name, tool);
    if (listed.effect === 'deny') {
      if (this.held.get(id) === hold) this.held.delete(id);
      if (!hold.aborted) this.toDown.push(this.refuse(m, name, listed, `tool \`${name}\` is not available: ${messageOf(listed)}`));
      return null;
    }
    const request = this.callRequest(name, tool?.annotations ?? {}, args);
    return this.afterCall(m, engine, request, await engine.decide(request), hold);
  }

  private callRequest(name: string, annotations: ToolAnnotations, args: unknown): McpRequest {
    return {
      phase: 'call',
      server: { name: this.opts.serverName ?? this.upstreamName ?? 'unknown' },
      tool: { name, annotations },
      arguments: argumentsOf(args),
      client: this.client,
      session: this.session,
    };
  }

  /** What the call-phase decision does: refuse, ask a human, or forward (the call is then tracked). */
  private afterCall(m: Msg, engine: Engine, request: McpRequest, d: Decision, hold: Hold | null): Msg | null {
    const id = m.id!;
    const name = request.tool.name;
    const release = () => {
      if (hold !== null && this.held.get(id) === hold) this.held.delete(id);
    };
    if (d.effect === 'deny') {
      release();
      if (!hold?.aborted) this.toDown.push(this.refuse(m, name, d, messageOf(d)));
      return null;
    }
    if (hold?.aborted) {
      // Cancelled while it was decided: never forwarded (a reservation settles with its estimate).
      release();
      void this.settle(engine, d, undefined);
      return null;
    }
    if (d.effect === 'require_approval') {
      this.ask(m, request, d, hold ?? new Hold(), {
        granted: (again, engineNow) => {
          this.note(again, 'tools/call', name);
          // The result phase sees the call as the upstream received it (masked arguments).
          const sent = applyTransforms(request, again);
          this.track(m, { engine: engineNow, decision: again, request: sent, task: isTaskCall(m) });
          this.opts.metrics?.call('forwarded', name);
          this.toUp.push(this.maskCall(m, request, sent, again));
        },
        refused: (decision, message) => this.toDown.push(this.refuse(m, name, decision, message)),
      });
      return null;
    }
    release();
    this.note(d, 'tools/call', name);
    const sent = applyTransforms(request, d);
    this.track(m, { engine, decision: d, request: sent, task: isTaskCall(m) });
    this.opts.metrics?.call('forwarded', name);
    return this.maskCall(m, request, sent, d);
  }

  /** The tools/call as the upstream receives it: the decision's transforms applied to its
   *  arguments (what a `redact action…`/`redact arguments…` rule masked); unchanged without any. */
  private maskCall(m: Msg, request: McpRequest, sent: McpRequest, d: Decision): Msg {
    // Always a copy, serialised from what was decided: never the bytes the call arrived as (with a
    // duplicate key, or text that is not valid UTF-8, the upstream could read other values).
    if (sent === request) return copyOf(m);
    this.logMasked(d, 'tools/call', request.tool.name);
    if (sent.arguments === request.arguments) return copyOf(m);
    return { ...m, params: { ...(m.params as Record<string, unknown>), arguments: sent.arguments } } as Msg;
  }

  /** What was masked (rule, path, detector, span count), never the text. */
  private logMasked(d: Decision, what: string, tool: string): void {
    for (const x of maskedSummary(d.transforms)) this.log(`rein mcp: masked ${what} ${tool}: ${x.path} (${x.detector ?? 'whole string'}, ${x.spans} span${x.spans === 1 ? '' : 's'}) by rule ${x.rule}`);
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
    const key = m.id!;
    this.held.set(key, hold);
    const id = `apr_${randomUUID()}`;
    // the name in the log: the queue's record ids once a queue holds the approval (what an operator approves)
    let logId = id;
    const name = request.tool.name;
    // What a person sees, and the queue keeps, is the call as it would go on: masked (`redact`).
    const shown = applyTransforms(request, d);
    // All of it (review h12r1 P8): a person sees everything they approve; a call or result longer
    // than SHOW_LIMIT is not elicited (`tooLarge`: the queue, else refused).
    const args = JSON.stringify(shown.arguments ?? {}) ?? '{}';
    const isResult = request.phase === 'result';
    const text = isResult ? (shown.result?.text ?? '') : '';
    const tooLarge =
      text.length > SHOW_LIMIT ? `its result has ${text.length.toLocaleString('en-US')} characters`
      : args.length > SHOW_LIMIT ? `its arguments have ${args.length.toLocaleString('en-US')} characters`
      : null;
    const call = `${request.server.name} › ${name}(${truncate(args, SHOW_LIMIT)})`;
    const summary = isResult ? `${call} returned:\n${truncate(text, SHOW_LIMIT)}${findingsText(text)}` : call;
    const what = isResult ? `the result of tools/call ${name}` : `tools/call ${name}`;
    // Nor does the log or the queue keep the masked text in the decision's messages.
    const masked = maskDecision(d, request);
    this.log(`rein mcp: approval ${id} requested for ${what}: ${approvalText(masked).replace(/\n/g, '; ')}`);
    void this.opts.broker
      .request({
        id,
        decision: masked,
        request: shown,
        policy: this.opts.host.engine.policy,
        summary,
        tooLarge,
        signal: hold.signal,
        elicit: this.clientCanElicit ? (p, signal) => this.elicit(p, signal) : undefined,
        queued: (ids) => {
          if (ids.join(', ') === logId) return;
          logId = ids.join(', ');
          this.log(`rein mcp: approval ${id} is in the approval queue as ${logId}`);
        },
      })
      .catch((e): { approved: false; message: string } => ({ approved: false, message: `approval ${id} failed: ${(e as Error).message}` }))
      .then(async (outcome) => {
        if (this.held.get(key) !== hold || hold.aborted) return; // cancelled by the client
        this.held.delete(key);
        if (!outcome.approved) {
          this.log(`rein mcp: approval ${logId} refused: ${outcome.message.split('\n')[0]}`);
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
        this.log(`rein mcp: approval ${logId} granted${outcome.by ? ` (${outcome.by})` : ''}; ${isResult ? 'releasing' : 'forwarding'} ${what}`);
        then.granted(again, engine);
      });
  }

  private elicit(params: ElicitParams, signal: AbortSignal): Promise<ElicitResult> {
    // An id no one can guess: the upstream's own requests to the client pass through with their ids,
    // and an upstream sending ids like ours must not get its answers taken for the user's approval.
    const id = `${GW_PREFIX}elicit:${randomUUID()}`;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.ownDown.delete(id);
        this.toDown.push({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the approval is no longer needed' } });
        reject(new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.ownDown.set(id, {
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

  /**
   * A task-augmented tools/call answered with a CreateTaskResult (`result.task.taskId`): the task is
   * remembered with the call, for its tasks/result to be decided; the call's reservation settles now
   * (the usage the answer reports, else the estimate). False when the answer is not a task (a server
   * may run a task-augmented call at once): it is then decided as a result.
   */
  private taskCreated(m: Msg, call: CallContext): boolean {
    const r = m.result as { task?: { taskId?: unknown }; content?: unknown; structuredContent?: unknown } | undefined;
    const taskId = r?.task?.taskId;
    if (typeof taskId !== 'string' || r!.content !== undefined || r!.structuredContent !== undefined) return false;
    if (call.decision.reservation) void this.settle(call.engine, call.decision, usageOf(r));
    this.tasks.set(taskId, { ...call, settled: true });
    // Bounded: the oldest task of a very long session is forgotten (its result is then refused).
    if (this.tasks.size > MAX_TASKS) this.tasks.delete(this.tasks.keys().next().value!);
    this.toDown.push(copyOf(m));
    return true;
  }

  private governResult(m: Msg, call: NonNullable<Forwarded['call']>): Msg | null | Promise<Msg | null> {
    const engine = this.opts.host.engine;
    if (!engine.decidesSynchronously || !call.engine.decidesSynchronously) return this.governResultAsync(m, call);
    // A synchronous store settles synchronously: the result is decided and answered right here.
    const result = m.result ?? errorAsResult(m.error);
    if (call.decision.reservation && !call.settled) void this.settle(call.engine, call.decision, m.result ? usageOf(m.result) : undefined);
    if (!result || !this.resultDecisionNeeded(engine, call.decision)) return m;
    const request = this.resultRequest(call.request, result);
    const d = engine.decideSync(request);
    if (d.reservation) void this.settle(engine, d, undefined);
    return this.afterResult(m, engine, request, d);
  }

  private async governResultAsync(m: Msg, call: NonNullable<Forwarded['call']>): Promise<Msg | null> {
    const result = m.result ?? errorAsResult(m.error);
    if (call.decision.reservation && !call.settled) await this.settle(call.engine, call.decision, m.result ? usageOf(m.result) : undefined);
    const engine = this.opts.host.engine;
    if (!result || !this.resultDecisionNeeded(engine, call.decision)) return m;
    const request = this.resultRequest(call.request, result);
    const d = await engine.decide(request);
    await this.settleNow(engine, d);
    return this.afterResult(m, engine, request, d);
  }

  private resultRequest(call: McpRequest, result: Record<string, unknown>): McpRequest {
    return { ...call, phase: 'result', result: { isError: result.isError === true, text: resultText(result) } };
  }

  /**
   * Whether a result must be decided. Not when no rule or budget of the policy can match the
   * `result` phase (phases.ts) and that phase has been seen to give a plain allow: the first result
   * under each policy is decided, and only if that decision is a clean allow (no reason, warning,
   * error, approval, monitored rule or charge: so the default is allow and the request validates)
   * are later ones skipped. A call whose own decision had errors always has its result decided.
   */
  private resultDecisionNeeded(engine: Engine, callDecision: Decision): boolean {
    if (phaseFacts(irOf(engine)).canMatch.result || callDecision.errors.length > 0) return true;
    return cleanResultPhase.get(engine) !== true;
  }

  /** What the result-phase decision does: pass the result on, hold it for a human, or withhold it. */
  private afterResult(m: Msg, engine: Engine, request: McpRequest, d: Decision): Msg | null {
    if (!cleanResultPhase.has(engine) && !phaseFacts(irOf(engine)).canMatch.result) cleanResultPhase.set(engine, isPlainAllow(d));
    const name = request.tool.name;
    if (d.effect === 'require_approval') {
      // The model sees the result only once a human released it (elicitation, else the queue).
      this.ask(m, request, d, new Hold(), {
        granted: (again) => {
          this.note(again, 'result of', name);
          this.toDown.push(this.maskResultMsg(m, name, again));
        },
        refused: (decision, message) => this.toDown.push(this.withhold(m, name, decision, message)),
      });
      return null;
    }
    if (d.effect !== 'allow') return this.withhold(m, name, d, messageOf(d));
    this.note(d, 'result of', name);
    return this.maskResultMsg(m, name, d);
  }

  /** The result as the model reads it: the decision's transforms of `result.text` applied to the
   *  result's text parts (schema.ts `maskResult`). */
  private maskResultMsg(m: Msg, name: string, d: Decision): Msg {
    // A copy either way: the client reads the result as decided, not the bytes it arrived as.
    if (!d.transforms || d.transforms.length === 0) return copyOf(m);
    this.logMasked(d, 'result of', name);
    if (m.result) return { ...m, result: maskResult(m.result as Record<string, unknown>, d.transforms) } as Msg;
    const e = errorAsResult(m.error);
    if (!e) return copyOf(m);
    // A JSON-RPC error was decided as a result (`errorAsResult`): its message and data masked the same way.
    const masked = maskResult(e, d.transforms) as { content: { text: string }[]; structuredContent?: unknown };
    const error: Msg['error'] = { ...m.error!, message: masked.content[0].text };
    if ('structuredContent' in masked) error.data = masked.structuredContent;
    return { ...m, error } as Msg;
  }

  /** The isError result that replaces a withheld one. */
  private withhold(m: Msg, tool: string, d: Decision, message: string): Msg {
    this.log(`rein mcp: withheld the result of tools/call ${tool}: ${message.split('\n')[0]}`);
    // A new answer (an error answer is replaced by this result, not merged with it).
    return {
      jsonrpc: '2.0',
      id: m.id,
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

  /** Log warnings and, in monitor mode, what enforce mode would have done (`what tool`: e.g. "tools/call echo"). */
  private note(d: Decision, what: string, tool: string): void {
    if (d.warnings.length === 0 && (d.would_effect === undefined || d.would_effect === 'allow')) return;
    for (const w of d.warnings) this.log(`rein mcp: warn ${what} ${tool}: ${w.message ?? w.name ?? ''}`);
    if (d.would_effect && d.would_effect !== 'allow') this.log(`rein mcp: monitor: ${what} ${tool} would be ${d.would_effect}: ${messageOf(d)}`);
  }
}

/** A decision that changes nothing: allow by the policy's default, with nothing to log, report or charge. */
function isPlainAllow(d: Decision): boolean {
  return (
    d.effect === 'allow' &&
    (d.would_effect === undefined || d.would_effect === 'allow') &&
    d.reasons.every((r) => r.kind === 'default' && r.effect === 'allow') &&
    d.warnings.length === 0 &&
    d.errors.length === 0 &&
    d.approvals.length === 0 &&
    d.monitored.length === 0 &&
    d.budgets.length === 0 &&
    d.reservation === null &&
    d.transforms === undefined
  );
}

function irOf(engine: Engine) {
  return engine.policy.compiled.ir;
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
    // each rule once: a require_approval rule is both a reason and a pending approval
    rules: [...new Set([...d.reasons.map((r) => r.name ?? r.kind), ...d.approvals.map((a) => a.name)])],
    request_hash: d.request_hash,
    policy: d.policy.hash,
  };
}

function errorResponse(id: Id, code: number, message: string): Msg {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** What the detectors find in a held result, masked (the approver sees why it was held and where):
 *  one line per detector with the matches' positions and their first characters. */
function findingsText(text: string): string {
  if (text === '') return '';
  const lines: string[] = [];
  for (const detector of ['secrets.any', 'pii.any']) {
    const spans = findSpans(detector, text);
    if (spans.length === 0) continue;
    const shown = spans.slice(0, 10).map((sp) => `${sp.start}–${sp.end} "${text.slice(sp.start, Math.min(sp.end, sp.start + 4))}…" (${sp.end - sp.start} chars)`);
    lines.push(`${detector}: ${spans.length} match${spans.length === 1 ? '' : 'es'} at ${shown.join(', ')}${spans.length > 10 ? ', …' : ''}`);
  }
  return lines.length === 0 ? '' : `\n\nFound in the result (positions in characters, masked):\n${lines.join('\n')}`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** How many tasks a session remembers for tasks/result (the oldest are forgotten first). */
const MAX_TASKS = 10_000;

/** A copy of a message: sent serialised from its parsed value, never as the bytes it arrived as (stdio.ts). */
function copyOf(m: Msg): Msg {
  return { ...m };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why a tools/call's params cannot be decided (MCP: `name` a string, `arguments` an object when present, or null), or null. */
function callProblem(params: unknown): string | null {
  if (!isObject(params)) return 'params must be an object with the tool `name`';
  if (typeof params.name !== 'string') return `params.name must be a string (the tool's name), got ${params.name === undefined ? 'nothing' : JSON.stringify(params.name)}`;
  // `null` is taken as absent (clients that write every optional field send it): decided as {}.
  if (params.arguments !== undefined && params.arguments !== null && !isObject(params.arguments)) return `params.arguments must be an object, got ${JSON.stringify(params.arguments)}`;
  return null;
}

const isTaskCall = (m: Msg): boolean => isObject(m.params) && isObject(m.params.task);

/**
 * A JSON-RPC error answer to a tools/call, as the result phase reads it: an `isError` result whose
 * text is the error's message and whose structured content is its `data` (clients show tool errors to
 * the model, so a result-phase rule must see them). Undefined for no error.
 */
function errorAsResult(error: Msg['error'] | undefined): Record<string, unknown> | undefined {
  if (!isObject(error)) return undefined;
  const out: Record<string, unknown> = { isError: true, content: [{ type: 'text', text: typeof error.message === 'string' ? error.message : JSON.stringify(error.message ?? '') }] };
  if (error.data !== undefined) out.structuredContent = error.data;
  return out;
}
