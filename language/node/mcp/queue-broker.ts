// The approval queue (docs/approvals.md) as the gateway's ApprovalBroker, for clients that cannot
// elicit: a call that needs approval becomes pending records in the queue (`rein approvals list`,
// the `rein serve` inbox). With `--approval-timeout`, the call waits that long for a verdict; without
// one (the default) it is refused at once, naming the pending approval — and once a human approved it,
// the same call (same request hash: same tool, arguments and session) goes through when retried.
// A result that needs approval works the same way: its record carries the result's text, and a
// retried call whose result is the same (same hash) has it released.

import type { Approval } from '../../runtime/decision.js';
import { grantsOf, wellFormed, type ApprovalQueue, type ApprovalRecord } from '../approvals/queue.js';
import { approvalText, SHOW_LIMIT, tooLargeMessage, type ApprovalBroker, type ApprovalContext, type ApprovalOutcome } from './approvals.js';


export interface QueueBrokerOptions {
  /** How long a call waits for a verdict; 0 (default): refuse at once, naming the pending approval. */
  timeoutMs?: number;
  /** How often the queue is polled while waiting (default 200 ms). */
  pollMs?: number;
}

export class QueueBroker implements ApprovalBroker {
  /** Approved records already used for a forwarded call (an approval runs its call once per gateway). */
  private readonly used = new Set<string>();

  constructor(
    private readonly queue: ApprovalQueue,
    private readonly opts: QueueBrokerOptions = {},
  ) {}

  async request(ctx: ApprovalContext): Promise<ApprovalOutcome> {
    const d = ctx.decision;
    const hash = d.request_hash;
    if (hash === null) return { approved: false, message: 'the request is invalid: nothing to approve' };
    // The record shows the whole call (and result): one too large to show is not put to a person.
    const resultChars = ctx.request.phase === 'result' ? (ctx.request.result?.text ?? '').length : 0;
    if (resultChars > SHOW_LIMIT) return { approved: false, message: tooLargeMessage({ ...ctx, tooLarge: `its result has ${resultChars.toLocaleString('en-US')} characters` }) };
    const wanted = d.approvals.map((a) => a.name);
    // Records for this exact request already in the queue: approved ones are used, pending ones reused.
    const mine = (await this.queue.list('all')).filter((r) => wellFormed(r) && r.request_hash === hash && r.policy.hash === d.policy.hash && wanted.includes(r.rule) && !this.used.has(r.id));
    const pick = new Map<string, ApprovalRecord>();
    for (const r of mine) {
      const prev = pick.get(r.rule);
      if (r.status === 'approved' || (r.status === 'pending' && prev?.status !== 'approved')) pick.set(r.rule, r);
    }
    const missing = d.approvals.filter((a) => !pick.has(a.name));
    if (missing.length > 0) {
      // Only the approvals not yet in the queue (a plain object: `request_hash` is a getter on a decision).
      const only = { effect: d.effect, request_hash: hash, approvals: missing, policy: d.policy } as unknown as typeof d;
      const created = await this.queue.request(only, {
        server: ctx.request.server.name,
        tool: ctx.request.tool.name,
        arguments: ctx.request.arguments,
        client: ctx.request.client,
        session: ctx.request.session,
        // A result waiting to be released: what the approver lets the model see.
        ...(ctx.request.phase === 'result' ? { phase: 'result', result: ctx.request.result?.text ?? '' } : {}),
      }, { request: ctx.request, ...(ctx.policy ? { policy: ctx.policy } : {}) });
      for (const r of created) pick.set(r.rule, r);
    }
    const records = [...pick.values()];
    const ids = records.map((r) => r.id);
    ctx.queued?.(ids);
    if (records.every((r) => r.status === 'approved')) return this.grant(records);
    const timeoutMs = this.opts.timeoutMs ?? 0;
    if (timeoutMs > 0) {
      const w = await this.queue.wait(ids, { timeoutMs, pollMs: this.opts.pollMs ?? 200, signal: ctx.signal });
      if (w.status === 'approved') return this.grant(w.records, w.approvals);
      const by = w.records.find((r) => r.status === 'denied')?.verdict?.by;
      const why = w.status === 'denied' ? `denied${by ? ` by ${by}` : ''}` : w.status === 'expired' ? 'expired' : ctx.signal.aborted ? 'cancelled with the call' : `not decided within ${Math.round(timeoutMs / 1000)} s`;
      return { approved: false, message: `approval ${ids.join(', ')} was ${why}: ${approvalText(d)}` };
    }
    return {
      approved: false,
      message:
        `approval ${ids.join(', ')} is pending: ${approvalText(d)}\n` +
        `A human approves it with \`rein approvals approve ${ids[0]} --as NAME\` (or in \`rein serve\`); then retry this exact call` +
        (ctx.request.phase === 'result' ? ' (its result is released if it is the same).' : '.'),
    };
  }

  private grant(records: ApprovalRecord[], approvals?: (Approval | string)[]): ApprovalOutcome {
    for (const r of records) this.used.add(r.id);
    return {
      approved: true,
      approvals: approvals ?? records.flatMap(grantsOf),
      by: records.map((r) => r.verdict?.by).filter(Boolean).join(', ') || 'the approval queue',
    };
  }
}
