// The fleet's decision log on a Redis Stream (docs/control-room.md#fleet). Every process writes its
// hash-chained audit lines with `RedisStreamAuditSink` (one chain per process, named by `chain`);
// `rein serve --redis` reads the stream with `RedisStreamSource` (XREAD BLOCK), verifies each chain
// from the first record it still holds, and aggregates the decisions. The stream is capped
// (XADD MAXLEN ~ N), so Redis memory is bounded; files remain the complete record.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { AuditSink } from '../../../audit/logger.js';
import type { AuditRecord } from '../../../audit/record.js';
import { IncrementalChainCheck, type ChainStatus } from './log-source.js';
import type { DashboardModel } from './model.js';

export const DEFAULT_STREAM = 'audit';
const DEFAULT_MAXLEN = 1_000_000;

export interface RedisStreamAuditSinkOptions {
  url?: string;
  client?: Redis;
  /** Key prefix (default `rein:`); the stream is `<prefix>audit`. */
  prefix?: string;
  /** This process's chain name (default `<hostname>-<pid>-<random>`). */
  chain?: string;
  /** Approximate cap on the stream's length (default 1,000,000 entries). */
  maxLen?: number;
}

/** An AuditSink that appends each line to a capped Redis Stream. Writes are pipelined by ioredis. */
export class RedisStreamAuditSink implements AuditSink {
  readonly chain: string;
  private readonly redis: Redis;
  private readonly owns: boolean;
  private readonly key: string;
  private readonly maxLen: number;
  private pending = new Set<Promise<unknown>>();

  constructor(opts: RedisStreamAuditSinkOptions = {}) {
    this.owns = !opts.client;
    this.redis = opts.client ?? new Redis(opts.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
    this.key = `${opts.prefix ?? 'rein:'}${DEFAULT_STREAM}`;
    this.maxLen = opts.maxLen ?? DEFAULT_MAXLEN;
    this.chain = opts.chain ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  write(line: string): Promise<void> {
    const p = this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'chain', this.chain, 'line', line);
    this.pending.add(p);
    return p.then(
      () => void this.pending.delete(p),
      (e) => {
        this.pending.delete(p);
        throw e;
      },
    );
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.owns) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export interface RedisStreamSourceOptions {
  url: string;
  prefix?: string;
  /** Feed records to this model (set by the dashboard plugin through `attach`). */
  model?: DashboardModel;
  log?: (msg: string) => void;
}

interface StreamChain {
  check: IncrementalChainCheck;
  records: number;
  lastTime: string | null;
}

/** Reads the stream into a dashboard model (the plugin calls `attach`, `start` and `stop`). */
export class RedisStreamSource {
  private readonly redis: Redis;
  private readonly key: string;
  private model: DashboardModel | null;
  private readonly chainMap = new Map<string, StreamChain>();
  private lastId = '0';
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: RedisStreamSourceOptions) {
    this.redis = new Redis(opts.url, { maxRetriesPerRequest: null, lazyConnect: false });
    this.redis.on('error', () => undefined);
    this.key = `${opts.prefix ?? 'rein:'}${DEFAULT_STREAM}`;
    this.model = opts.model ?? null;
  }

  attach(model: DashboardModel): void {
    this.model = model;
  }

  private ingest(entries: [string, string[]][]): void {
    for (const [id, fields] of entries) {
      this.lastId = id;
      let chain = '';
      let line = '';
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'chain') chain = fields[i + 1]!;
        else if (fields[i] === 'line') line = fields[i + 1]!;
      }
      if (!chain || !line) continue;
      let c = this.chainMap.get(chain);
      if (!c) {
        c = { check: new IncrementalChainCheck(true), records: 0, lastTime: null };
        this.chainMap.set(chain, c);
      }
      let rec: AuditRecord;
      try {
        rec = JSON.parse(line) as AuditRecord;
      } catch {
        c.check.broken(null, 'an entry is not a JSON record');
        continue;
      }
      c.check.feed(line, rec);
      c.records++;
      c.lastTime = typeof rec.time === 'string' ? rec.time : c.lastTime;
      this.model?.add(rec, chain);
    }
  }

  /** Reads what the stream holds now (used at start, and by tests). */
  async catchUp(): Promise<void> {
    for (;;) {
      const r = (await this.redis.xread('COUNT', 5000, 'STREAMS', this.key, this.lastId)) as [string, [string, string[]][]][] | null;
      if (!r || r[0]![1].length === 0) return;
      this.ingest(r[0]![1]);
    }
  }

  start(): void {
    if (this.loop) return;
    this.loop = (async () => {
      try {
        await this.catchUp();
      } catch (e) {
        this.opts.log?.(`redis audit stream: ${(e as Error).message}`);
      }
      while (!this.stopped) {
        try {
          const r = (await this.redis.xread('COUNT', 5000, 'BLOCK', 500, 'STREAMS', this.key, this.lastId)) as [string, [string, string[]][]][] | null;
          if (r) this.ingest(r[0]![1]);
        } catch (e) {
          if (this.stopped) break;
          this.opts.log?.(`redis audit stream: ${(e as Error).message}`);
          await new Promise((res) => setTimeout(res, 1000));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.redis.disconnect();
    await this.loop?.catch(() => undefined);
  }

  chains(): ChainStatus[] {
    return [...this.chainMap.entries()].map(([name, c]) => ({
      chain: name,
      files: [`redis stream ${this.key} (from seq ${c.check.from})`],
      records: c.records,
      ok: c.check.problem === null,
      head: c.check.count > 0 ? { seq: c.check.seq - 1, hash: c.check.prev } : null,
      problem: c.check.problem,
      last_time: c.lastTime,
    }));
  }

  /** One record from the stream (scans it newest first; the stream is capped). */
  async record(chain: string, seq: number): Promise<AuditRecord | null> {
    if (!this.chainMap.has(chain)) return null;
    let end = '+';
    for (let page = 0; page < 1000; page++) {
      const entries = (await this.redis.xrevrange(this.key, end, '-', 'COUNT', 1000)) as [string, string[]][];
      if (entries.length === 0) return null;
      for (const [id, fields] of entries) {
        end = '(' + id;
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (f.chain !== chain || !f.line) continue;
        try {
          const rec = JSON.parse(f.line) as AuditRecord;
          if (rec.seq === seq) return rec;
          if (typeof rec.seq === 'number' && rec.seq < seq) return null;
        } catch {
          // skip
        }
      }
    }
    return null;
  }
}
