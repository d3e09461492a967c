// The approval queue in Redis, for a fleet: every gateway, `rein serve` and `rein approvals` that
// points at the same Redis sees the same pending approvals. Records and verdicts are JSON strings
// with a TTL (kept 7 days past their expiry), an index sorted set orders them by creation time, and a
// verdict is written with SET NX (the first approver wins).

import { Redis } from 'ioredis';
import { distinctVotes, isApprovalId, type ApprovalRecord, type ApprovalStore, type ApprovalVerdict } from './queue.js';

const KEEP_MS = 7 * 24 * 60 * 60_000;
const LIST_MAX = 1000;

export interface RedisApprovalStoreOptions {
  url?: string;
  client?: Redis;
  /** Key prefix (default `rein:`), the same as the budget store's when they share a Redis. */
  prefix?: string;
}

export class RedisApprovalStore implements ApprovalStore {
  private readonly redis: Redis;
  private readonly owns: boolean;
  private readonly prefix: string;

  constructor(opts: RedisApprovalStoreOptions = {}) {
    this.prefix = opts.prefix ?? 'rein:';
    this.owns = !opts.client;
    this.redis = opts.client ?? new Redis(opts.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
    this.redis.on('error', () => undefined);
  }

  private k(id: string, suffix = ''): string {
    return `${this.prefix}ap:${id}${suffix}`;
  }

  private get index(): string {
    return `${this.prefix}ap:index`;
  }

  async create(rec: ApprovalRecord): Promise<void> {
    if (!isApprovalId(rec.id)) throw new TypeError(`bad approval id ${rec.id}`);
    const { status: _s, verdict: _v, ...body } = rec;
    const keep = Math.max(1, Date.parse(rec.expires) - Date.now()) + KEEP_MS;
    await this.redis.multi().set(this.k(rec.id), JSON.stringify(body), 'PX', keep).zadd(this.index, Date.parse(rec.created), rec.id).exec();
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    if (!isApprovalId(id)) return null;
    const [rec, verdict] = await this.redis.mget(this.k(id), this.k(id, ':v'));
    if (rec === null || rec === undefined) return null;
    const r = JSON.parse(rec) as ApprovalRecord;
    return this.withVotes({ ...r, status: 'pending', ...(verdict ? { verdict: JSON.parse(verdict) as ApprovalVerdict } : {}) });
  }

  /** A quorum record with its votes (a list beside it; first vote per approver). */
  private async withVotes(r: ApprovalRecord): Promise<ApprovalRecord> {
    if (r.quorum === undefined) return r;
    const raw = await this.redis.lrange(this.k(r.id, ':votes'), 0, 999);
    const votes = distinctVotes(raw.flatMap((x) => {
      try {
        return [JSON.parse(x) as ApprovalVerdict];
      } catch {
        return [];
      }
    }));
    return votes.length > 0 ? { ...r, votes } : r;
  }

  /** RPUSH onto the record's vote list (same TTL as the record). */
  async vote(id: string, vote: ApprovalVerdict): Promise<'ok' | 'unknown'> {
    if (!isApprovalId(id)) return 'unknown';
    const ttl = await this.redis.pttl(this.k(id));
    if (ttl === -2) return 'unknown';
    await this.redis.multi().rpush(this.k(id, ':votes'), JSON.stringify(vote)).pexpire(this.k(id, ':votes'), Math.max(1, ttl)).exec();
    return 'ok';
  }

  async list(): Promise<ApprovalRecord[]> {
    const ids = await this.redis.zrevrange(this.index, 0, LIST_MAX - 1);
    if (ids.length === 0) return [];
    const vals = await this.redis.mget(...ids.flatMap((id) => [this.k(id), this.k(id, ':v')]));
    const out: ApprovalRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const rec = vals[2 * i];
      const verdict = vals[2 * i + 1];
      if (rec === null || rec === undefined) {
        gone.push(id);
        return;
      }
      out.push({ ...(JSON.parse(rec) as ApprovalRecord), status: 'pending', ...(verdict ? { verdict: JSON.parse(verdict) as ApprovalVerdict } : {}) });
    });
    if (gone.length > 0) await this.redis.zrem(this.index, ...gone);
    return Promise.all(out.map((r) => this.withVotes(r)));
  }

  async decide(id: string, verdict: ApprovalVerdict): Promise<'ok' | 'decided' | 'unknown'> {
    if (!isApprovalId(id)) return 'unknown';
    const ttl = await this.redis.pttl(this.k(id));
    if (ttl === -2) return 'unknown';
    const r = await this.redis.set(this.k(id, ':v'), JSON.stringify(verdict), 'PX', Math.max(1, ttl), 'NX');
    return r === 'OK' ? 'ok' : 'decided';
  }

  async close(): Promise<void> {
    if (!this.owns) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
