// The fleet's decision log on a Redis Stream (docs/control-room.md#fleet). Every process writes its
// hash-chained audit lines with `RedisStreamAuditSink` (one chain per process, named by `chain`);
// `rein serve --redis` reads the stream with `RedisStreamSource` (XREAD BLOCK), verifies each chain
// from the first record it still holds, and aggregates the decisions. The stream is capped
// (XADD MAXLEN ~ N), so Redis memory is bounded; files remain the complete record. Every entry read
// goes into a log index (log-index.ts) as the files' records do, so filtered summaries and drill-downs
// over the fleet are answered from it; the records they list are read back by entry id (XRANGE).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { AuditSink } from '../../../audit/logger.js';
import { isEventRecord, type AuditRecord } from '../../../audit/record.js';
import { LogIndex, type RowRef } from './log-index.js';
import { IncrementalChainCheck, scanIndexed, type ChainStatus, type IndexedSource } from './log-source.js';
import { matchesFilter, ruleSetOf, tagsOf, type DashboardModel, type RecordFilter } from './model.js';

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
  /** Rows the index keeps (default 2,000,000; the older half is dropped beyond). */
  maxIndexRows?: number;
}

/** A stream entry id `ms-seq` as the index keeps a place: [seq, ms]. */
function idParts(id: string): [number, number] | null {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) return null;
  const ms = Number(m[1]);
  const seq = Number(m[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? [seq, ms] : null;
}

/** Pages read when the index cannot answer and the stream is scanned instead (1000 entries each). */
const MAX_PAGES = 1000;

interface StreamChain {
  check: IncrementalChainCheck;
  records: number;
  lastTime: string | null;
}

/** Reads the stream into a dashboard model (the plugin calls `attach`, `start` and `stop`). */
export class RedisStreamSource implements IndexedSource {
  /** Every entry read, as the files' records are indexed (filters and drill-downs over the fleet). */
  readonly index: LogIndex;
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
    this.index = new LogIndex(opts.maxIndexRows);
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
      const place = idParts(id);
      const t = typeof rec.time === 'string' ? Date.parse(rec.time) : NaN;
      if (place === null) this.model?.add(rec, chain);
      else if (isEventRecord(rec)) {
        this.index.add(chain, place[0], place[1], rec, t, null, {});
        this.model?.add(rec, chain);
      } else if (Number.isFinite(t) && (rec.decision?.effect === 'allow' || rec.decision?.effect === 'deny' || rec.decision?.effect === 'require_approval')) {
        const raw = ruleSetOf(rec);
        const setId = this.index.intern(raw);
        this.index.add(chain, place[0], place[1], rec, t, setId, tagsOf(rec.request));
        this.model?.add(rec, chain, true, this.index.setOf(setId) ?? raw);
      } else this.model?.add(rec, chain);
    }
  }

  /** The records at `rows` of the index, read back by entry id (null for one trimmed by the cap). */
  async readRows(rows: RowRef[]): Promise<(AuditRecord | null)[]> {
    if (rows.length === 0) return [];
    const p = this.redis.pipeline();
    for (const r of rows) {
      const id = `${r.offset}-${r.ino}`;
      p.xrange(this.key, id, id);
    }
    const res = (await p.exec()) ?? [];
    return rows.map((_r, i) => {
      const [err, entries] = res[i] ?? [null, null];
      const e = !err && Array.isArray(entries) ? (entries as [string, string[]][])[0] : undefined;
      if (!e) return null;
      const fields = e[1];
      for (let j = 0; j + 1 < fields.length; j += 2) {
        if (fields[j] !== 'line') continue;
        try {
          return JSON.parse(fields[j + 1]!) as AuditRecord;
        } catch {
          return null;
        }
      }
      return null;
    });
  }

  /** Every entry the stream holds, oldest first (or newest first), to `each` until it returns false. */
  private async walk(newestFirst: boolean, each: (chain: string, rec: AuditRecord) => boolean): Promise<void> {
    let from = newestFirst ? '+' : '-';
    for (let page = 0; page < MAX_PAGES; page++) {
      const entries = (newestFirst ? await this.redis.xrevrange(this.key, from, '-', 'COUNT', 1000) : await this.redis.xrange(this.key, from, '+', 'COUNT', 1000)) as [string, string[]][];
      if (entries.length === 0) return;
      for (const [id, fields] of entries) {
        from = '(' + id;
        let chain = '';
        let line = '';
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'chain') chain = fields[i + 1]!;
          else if (fields[i] === 'line') line = fields[i + 1]!;
        }
        if (!chain || !line || !this.chainMap.has(chain)) continue;
        let rec: AuditRecord;
        try {
          rec = JSON.parse(line) as AuditRecord;
        } catch {
          continue;
        }
        if (!each(chain, rec)) return;
      }
    }
  }

  /** Counts what the stream still holds of the records matching `filter` (when the index dropped rows). */
  async replay(filter: RecordFilter, model: DashboardModel): Promise<void> {
    await this.walk(false, (chain, rec) => {
      if (matchesFilter(rec, filter)) model.add(rec, chain, false);
      return !this.stopped;
    });
  }

  /** The newest `limit` records matching the filter (optionally of one chain, with seq < `before`), newest first. */
  async scan(filter: RecordFilter, opts: { limit: number; before?: number; chain?: string; withErrors?: boolean }): Promise<{ chain: string; record: AuditRecord }[]> {
    const indexed = await scanIndexed(this, filter, opts);
    if (indexed !== null) return indexed;
    const out: { chain: string; record: AuditRecord }[] = [];
    // Processes write in batches, so stream order is not time order: keep the newest `limit` by time
    // (ties: the later entry first, as the index does).
    await this.walk(true, (chain, rec) => {
      if (opts.chain !== undefined && chain !== opts.chain) return true;
      if (opts.before !== undefined && !(typeof rec.seq === 'number' && rec.seq < opts.before)) return true;
      if (opts.withErrors && !(Array.isArray(rec.decision?.errors) && rec.decision.errors.length > 0)) return true;
      if (!matchesFilter(rec, filter, tagsOf(rec.request))) return true;
      if (out.length === opts.limit && !(rec.time > out[out.length - 1]!.record.time)) return true;
      let j = out.length;
      while (j > 0 && out[j - 1]!.record.time < rec.time) j--;
      out.splice(j, 0, { chain, record: rec });
      if (out.length > opts.limit) out.pop();
      return !this.stopped;
    });
    return out;
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
    const at = this.index.find(chain, seq);
    if (at) {
      const [rec] = await this.readRows([{ chain, ino: at.ino, offset: at.offset, seq, t: 0 }]);
      if (rec && rec.seq === seq) return rec;
    }
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
