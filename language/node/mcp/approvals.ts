// The approval step of `rein mcp`, behind one small interface. The gateway calls `broker.request()`
// for a tools/call whose decision is `require_approval` and forwards the call only when the broker
// returns approvals that make a second decision `allow` (approvals are bound to the request hash, so
// an approval for one call never unlocks a call with other arguments). The same holds for a tool
// result (`request.phase == "result"`): it reaches the client only once released.
//
// The default broker asks the human through MCP elicitation when the client supports it; otherwise it
// hands over to `fallback` — the approval queue of INTERFACES §7 plugs in there — and without one it
// refuses at once, naming the pending approval's id.

import type { Approval, Decision } from '../../runtime/decision.js';
import type { PolicyLike } from '../../runtime/engine.js';
import type { McpRequest } from './schema.js';
import { escapeInvisible } from '../../runtime/visible.js';

/** The parameters of an MCP `elicitation/create` request (form mode). */
export interface ElicitParams {
  message: string;
  requestedSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
}

/** The client's answer to an elicitation. */
export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}

export interface ApprovalContext {
  /** The id of this pending approval (named in refusals and the queue). */
  id: string;
  /** The `require_approval` decision (its `approvals` name what must be granted, its `request_hash` what they bind to). */
  decision: Decision;
  /** The policy input of the call (as shown: after any `redact`). */
  request: McpRequest;
  /** The policy that decided: the queue validates `request` with it to store it verified (a masked
   *  request does not hash to the decision's `request_hash` and is stored without it). */
  policy?: PolicyLike;
  /** For humans: server, tool and arguments (and, in the result phase, the start of the result). */
  summary: string;
  /** Set when the call's arguments or its result are longer than a person can be shown
   *  (`SHOW_LIMIT`): what is too large, e.g. "its arguments have 31,204 characters". A person must see
   *  everything they approve, so such a request is not elicited (the queue, else refused). */
  tooLarge?: string | null;
  /** Asks the connected client's user; present only when the client declared the elicitation capability. */
  elicit?: (params: ElicitParams, signal: AbortSignal) => Promise<ElicitResult>;
  /** Aborted when the client cancels the call or disconnects. */
  signal: AbortSignal;
  /** Called by a broker that keeps the approval in a queue, with the queue's record ids (`ap_…`):
   *  the gateway's log names those, the ids an operator approves. */
  queued?: (ids: string[]) => void;
}

export type ApprovalOutcome =
  /** `approvals`: plain grants `{ rule, request_hash }` (an Engine without `approvalKeys`) or signed tokens. */
  | { approved: true; approvals: (Approval | string)[]; by?: string }
  | { approved: false; message: string };

export interface ApprovalBroker {
  request(ctx: ApprovalContext): Promise<ApprovalOutcome>;
}

/** The most characters of arguments (or of a held result) a person is shown to approve: all of them
 *  up to this; a longer request is not put to a person (review h12r1 P8). */
export const SHOW_LIMIT = 20_000;

/** Why a request too large to show is refused (no queue). */
export function tooLargeMessage(ctx: Pick<ApprovalContext, 'id' | 'decision' | 'tooLarge' | 'request'>): string {
  return (
    `approval ${ctx.id} is pending: ${approvalText(ctx.decision)}\n` +
    `The ${ctx.request.phase === 'result' ? 'result' : 'call'} is too large to show for approval: ${ctx.tooLarge ?? 'it is too long'}, more than ${SHOW_LIMIT.toLocaleString('en-US')}, ` +
    'and a person must see everything they approve. Make the request smaller' +
    (ctx.request.phase === 'result' ? '' : ' (or configure an approval queue, --approvals, where the whole call is shown)') +
    '.'
  );
}

/** The grants that satisfy every pending approval of a decision, bound to its request hash. */
export function grantsFor(d: Decision): Approval[] {
  const hash = d.request_hash;
  // Given now, by one human: a rule with `expires` counts it from now; one with `quorum N` (N > 1)
  // is not granted by it (fail closed: such rules need the approval queue, docs/mcp.md).
  const at = Date.now();
  return hash === null ? [] : d.approvals.map((a) => ({ rule: a.name, request_hash: hash, ...(a.expires_ms !== undefined ? { at } : {}) }));
}

/** What the pending approvals ask for, one line each (`rule: message`). */
export function approvalText(d: Decision): string {
  return d.approvals.map((a) => `${a.name}${a.from ? ` (from ${a.from})` : ''}: ${a.message ?? 'needs approval'}`).join('\n');
}

export interface ElicitationBrokerOptions {
  /** Used when the client cannot elicit (the §7 approval queue). Default: refuse at once. */
  fallback?: ApprovalBroker;
  /** Turns an accepted elicitation into approvals the engine accepts: signed tokens when the engine
   *  verifies `approvalKeys` (default: plain grants bound to the request hash). */
  sign?: (d: Decision, approver: string) => (Approval | string)[];
  /** false: never elicit (e.g. the engine verifies tokens this process cannot sign); use `fallback`. */
  elicit?: boolean;
  /** How long to wait for the human's answer (default 10 minutes); then the call is refused. */
  timeoutMs?: number;
  /** The approver groups defined by the approvers file (`--approvers`, `$REIN_APPROVERS`). A rule whose
   *  `from` names one of them is not approved by an elicitation — the client's user is not known to be
   *  in the group (approvals.md) — but by the queue (`fallback`), or refused. */
  groups?: ReadonlySet<string>;
}

/** Approval over MCP elicitation, with a fallback for clients that cannot elicit. */
export class ElicitationBroker implements ApprovalBroker {
  constructor(private readonly opts: ElicitationBrokerOptions = {}) {}

  async request(ctx: ApprovalContext): Promise<ApprovalOutcome> {
    const grouped = ctx.decision.approvals.filter((a) => a.from !== null && this.opts.groups?.has(a.from));
    if (grouped.length > 0) {
      if (this.opts.fallback) return this.opts.fallback.request(ctx);
      return {
        approved: false,
        message:
          `approval ${ctx.id} is pending: ${approvalText(ctx.decision)}\n` +
          `${grouped.map((a) => `\`${a.name}\` needs an approver in the group \`${a.from}\``).join('; ')} (--approvers), and a click in the agent's client is not one: ` +
          'configure an approval queue (--approvals) where a member of the group approves it.',
      };
    }
    if (ctx.tooLarge) {
      if (this.opts.fallback) return this.opts.fallback.request(ctx);
      return { approved: false, message: tooLargeMessage(ctx) };
    }
    if (!ctx.elicit || this.opts.elicit === false) {
      if (this.opts.fallback) return this.opts.fallback.request(ctx);
      return {
        approved: false,
        message:
          `approval ${ctx.id} is pending: ${approvalText(ctx.decision)}\n` +
          'The client cannot ask for approval (no elicitation support) and no approval queue is configured (--approvals).',
      };
    }
    const timeoutMs = this.opts.timeoutMs ?? 10 * 60_000;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const answer = await ctx.elicit!(
        {
          // The model chose the arguments (and the result): bidi and invisible characters as \uXXXX.
          message: escapeInvisible(
            ctx.request.phase === 'result'
              ? `Rein: release this tool result to the model?\n${ctx.summary}\n\n${approvalText(ctx.decision)}\n\n` +
                `Approval ${ctx.id}, bound to request ${ctx.decision.request_hash}. Accept to pass this result on; decline to withhold it.`
              : `Rein: approve this tool call?\n${ctx.summary}\n\n${approvalText(ctx.decision)}\n\n` +
                `Approval ${ctx.id}, bound to request ${ctx.decision.request_hash}. Accept to run the call once; decline to refuse it.`,
          ),
          requestedSchema: { type: 'object', properties: {} },
        },
        ac.signal,
      );
      if (answer.action === 'accept') {
        const approver = `mcp-client:${ctx.request.client.name}`;
        return { approved: true, approvals: this.opts.sign ? this.opts.sign(ctx.decision, approver) : grantsFor(ctx.decision), by: `elicitation (${approver})` };
      }
      return { approved: false, message: `approval ${ctx.id} was ${answer.action === 'decline' ? 'declined' : 'cancelled'} by the user: ${approvalText(ctx.decision)}` };
    } catch (e) {
      const why = ctx.signal.aborted ? 'the call was cancelled' : ac.signal.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (e as Error).message;
      return { approved: false, message: `approval ${ctx.id} was not given (${why}): ${approvalText(ctx.decision)}` };
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }
}
