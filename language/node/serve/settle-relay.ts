// Settle on any replica (docs/service.md, "Budgets across replicas"). A reservation's request and
// budget plans live in the process that decided (the Engine keeps them for `settle`); counters live in
// Redis. When `POST /v1/settle` reaches a replica that does not know the reservation, it asks every
// replica on the same Redis over pub/sub, and the one that decided settles it and answers:
//
//   PUBLISH <prefix>settle            { rid, from, reservation, usage }     (to every replica)
//   PUBLISH <prefix>settle:<from>     { rid, owner: true, status, body }    (from the replica that decided)
//                                     { rid, owner: false }                 (from every other replica)
//
// The asking replica returns the owner's answer as its own, or 404 `unknown_reservation` once every
// other replica said "not mine" (PUBLISH tells how many replicas listen) or after `timeoutMs`.
// Nothing is stored: a replica that restarted has forgotten its reservations (they expire and count
// their estimate), the same as a single process.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The answer of a settle: an HTTP status and the JSON body. */
export interface SettleAnswer {
  status: number;
  body: unknown;
}

export interface SettleRelayOptions {
  url: string;
  /** Key prefix (default `rein:`): the channels are `<prefix>settle` and `<prefix>settle:<replica>`. */
  prefix?: string;
  /** How long to wait for the replica that decided (default 2000 ms). */
  timeoutMs?: number;
  /** Settle a reservation this replica made; null when it does not know it. */
  local: (reservation: string, usage: unknown) => Promise<SettleAnswer | null>;
  log?: (msg: string) => void;
}

interface Waiting {
  /** Replicas still to answer (besides this one); -1 until PUBLISH returned. */
  left: number;
  notMine: number;
  resolve: (a: SettleAnswer | null) => void;
  timer: NodeJS.Timeout;
}

const MAX_MESSAGE = 4 << 20;

export class SettleRelay {
  /** This replica's name on the channels. */
  readonly id = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private readonly replyChannel: string;
  private readonly timeoutMs: number;
  private readonly waiting = new Map<string, Waiting>();
  private ready: Promise<void>;
  private closed = false;

  constructor(private readonly opts: SettleRelayOptions) {
    const prefix = opts.prefix ?? 'rein:';
    this.channel = `${prefix}settle`;
    this.replyChannel = `${prefix}settle:${this.id}`;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.pub = new Redis(opts.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.sub = new Redis(opts.url, { maxRetriesPerRequest: null, lazyConnect: false });
    this.pub.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    this.sub.on('message', (channel: string, message: string) => {
      if (message.length > MAX_MESSAGE) return;
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(message) as Record<string, unknown>;
      } catch {
        return;
      }
      if (m === null || typeof m !== 'object') return;
      if (channel === this.channel) void this.onRequest(m);
      else if (channel === this.replyChannel) this.onReply(m);
    });
    this.ready = this.sub.subscribe(this.channel, this.replyChannel).then(
      () => undefined,
      (e: unknown) => opts.log?.(`settle relay: cannot subscribe: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** Resolves once this replica listens (tests; requests before that are still answered later). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private async onRequest(m: Record<string, unknown>): Promise<void> {
    const { rid, from, reservation, usage } = m;
    if (typeof rid !== 'string' || typeof from !== 'string' || typeof reservation !== 'string' || from === this.id) return;
    let answer: SettleAnswer | null;
    try {
      answer = await this.opts.local(reservation, usage);
    } catch (e) {
      answer = { status: 500, body: { error: { code: 'internal_error', message: e instanceof Error ? e.message : String(e) } } };
    }
    const reply = answer ? { rid, owner: true, status: answer.status, body: answer.body } : { rid, owner: false };
    await this.pub.publish(`${this.channel}:${from}`, JSON.stringify(reply)).catch(() => undefined);
  }

  private onReply(m: Record<string, unknown>): void {
    const w = typeof m.rid === 'string' ? this.waiting.get(m.rid) : undefined;
    if (!w) return;
    if (m.owner === true && typeof m.status === 'number') {
      this.finish(m.rid as string, { status: m.status, body: m.body });
      return;
    }
    w.notMine++;
    if (w.left >= 0 && w.notMine >= w.left) this.finish(m.rid as string, null);
  }

  private finish(rid: string, a: SettleAnswer | null): void {
    const w = this.waiting.get(rid);
    if (!w) return;
    this.waiting.delete(rid);
    clearTimeout(w.timer);
    w.resolve(a);
  }

  /**
   * Asks the other replicas to settle `reservation`. Resolves to the answer of the replica that
   * decided, or null when none knows it (every other replica said so, or none answered in time).
   * Rejects when Redis cannot be reached.
   */
  async forward(reservation: string, usage: unknown): Promise<SettleAnswer | null> {
    if (this.closed) return null;
    await this.ready;
    const rid = randomUUID();
    const result = new Promise<SettleAnswer | null>((resolve) => {
      const timer = setTimeout(() => this.finish(rid, null), this.timeoutMs);
      timer.unref?.();
      this.waiting.set(rid, { left: -1, notMine: 0, resolve, timer });
    });
    let listeners: number;
    try {
      listeners = await this.pub.publish(this.channel, JSON.stringify({ rid, from: this.id, reservation, usage: usage ?? null }));
    } catch (e) {
      this.finish(rid, null);
      throw e;
    }
    const w = this.waiting.get(rid);
    if (w) {
      // Every listener but this replica answers; none other: nobody can know the reservation.
      w.left = Math.max(0, listeners - 1);
      if (w.notMine >= w.left) this.finish(rid, null);
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const rid of [...this.waiting.keys()]) this.finish(rid, null);
    this.sub.disconnect();
    await this.pub.quit().catch(() => this.pub.disconnect());
    this.pub.disconnect();
  }
}
