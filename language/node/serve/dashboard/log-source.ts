// Reads decision logs for the control room: every chain (one active log file and its rotated files)
// under `--log FILE|DIR`, incrementally (new bytes only, by inode, so rotation is followed), in
// fixed-size chunks (bounded memory whatever the log size), verifying each chain as it goes.

import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { GENESIS, isEventRecord, type AuditRecord } from '../../../audit/record.js';
import { auditFiles, nodeLineHash } from '../../audit-file.js';
import { LogIndex, mergeAggregates, type RowRef } from './log-index.js';
import { matchesFilter, ruleSetOf, tagsOf, type DashboardModel, type RecordFilter } from './model.js';

const CHUNK = 1 << 20;
/** Records of a drill-down this close together in a file are read with one read of the span. */
const SPAN_GAP = 256 * 1024;
const SPAN_MAX = 4 << 20;
/** One sparse index point every this many records (record lookup by seq reads at most this many). */
const INDEX_EVERY = 512;
/** A line longer than this is not a record (it is skipped, and the chain reports the problem). */
const MAX_LINE = 16 << 20;

export interface ChainStatus {
  chain: string;
  files: string[];
  records: number;
  ok: boolean;
  /** The last verified record (the chain's head so far): its seq and hash — the anchor to compare. */
  head: { seq: number; hash: string } | null;
  problem: { seq: number | null; message: string } | null;
  last_time: string | null;
  /** The newest signed anchor of the log (`<log>.anchors`, written by FileAuditLog's `anchor`
   *  option), and whether the record it names has that hash here (null: not read yet). Its signature
   *  is checked by `rein audit verify --anchors … --key …`, which holds the key; this server does not. */
  anchor?: { seq: number; hash: string; time: string; alg: string; matches: boolean | null } | null;
}

interface FileCursor {
  offset: number;
  /** Bytes of an incomplete last line, kept until its newline arrives. */
  partial: Buffer | null;
}

/**
 * The chain check of `ChainVerifier` (audit/record.ts) on records already parsed — one JSON.parse per
 * line for verification and aggregation together: each line's self-hash, its `prev` link and `seq`.
 */
export class IncrementalChainCheck {
  prev = GENESIS;
  seq = 0;
  count = 0;
  /** The first seq checked (0 for a whole log; later for a capped stream that dropped its start). */
  from = 0;
  problem: { seq: number | null; message: string } | null = null;

  /** `fromAnywhere`: start at the first record seen (its `prev` is taken as given). */
  constructor(private readonly fromAnywhere = false) {}

  broken(seq: number | null, message: string): void {
    this.problem ??= { seq, message };
  }

  feed(line: string, rec: AuditRecord): void {
    if (this.problem) return;
    const m = HASH_SUFFIX.exec(line);
    const seq = typeof rec.seq === 'number' ? rec.seq : null;
    if (!m) return this.broken(seq, typeof rec.hash === 'string' ? "the line is not in the log's canonical form (re-serialised), so its `hash` cannot be checked" : 'record has no `hash`');
    if (this.fromAnywhere && this.count === 0 && typeof rec.seq === 'number' && typeof rec.prev === 'string') {
      this.prev = rec.prev;
      this.seq = rec.seq;
      this.from = rec.seq;
    }
    if (nodeLineHash(line.slice(0, m.index) + '}') !== m[1]) return this.broken(seq, 'record was changed: its content does not match its `hash`');
    if (rec.prev !== this.prev) return this.broken(seq, `chain broken at seq ${String(rec.seq)}: its \`prev\` is not the hash of the record before it (a record was removed, reordered or rewritten)`);
    if (rec.seq !== this.seq) return this.broken(seq, `sequence broken: \`seq\` is ${String(rec.seq)}, expected ${this.seq}`);
    this.prev = m[1]!;
    this.seq++;
    this.count++;
  }
}

const HASH_SUFFIX = /,"hash":"(sha256:[0-9a-f]{64})"\}$/;

interface Chain {
  active: string;
  check: IncrementalChainCheck;
  records: number;
  lastTime: string | null;
  /** seq → where to start reading to find it: the file (by path at the time) and offset. */
  index: { seq: number; ino: number; offset: number }[];
  files: string[];
  anchor: ChainStatus['anchor'];
  /** Size, mtime and inode of `<log>.anchors` when last read (it is re-read when one changes). */
  anchorSize: string;
  /** Its approval_verdict events count (`LogSource` `verdictFiles`). */
  verdicts: boolean;
}

/** Splits a buffer into complete lines with their byte offsets. */
function* lines(buf: Buffer, base: number): Generator<{ line: string; offset: number; end: number }> {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) return;
    if (nl > start) yield { line: buf.toString('utf8', start, nl), offset: base + start, end: base + nl + 1 };
    start = nl + 1;
  }
}

/** Without a list of verdict logs: the files `rein serve` and `rein approvals` write verdicts to by
 *  default (`control-room.jsonl`, `<log>.verdicts.jsonl`, `<queue dir>/verdicts.jsonl`). */
function defaultVerdictFile(active: string): boolean {
  const n = basename(active);
  return n === 'control-room.jsonl' || n === 'verdicts.jsonl' || n.endsWith('.verdicts.jsonl');
}

export class LogSource {
  private readonly cursors = new Map<number, FileCursor>();
  private readonly chainMap = new Map<string, Chain>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<number> | null = null;
  private stopped = false;
  readonly paths: string[];
  /** Every record read, by rule, effect, tags, policy and time, with its place in the log (log-index.ts). */
  readonly index: LogIndex;
  /** Whether a chain (by its active file) is one the control room or `rein approvals` writes
   *  verdicts to: its approval_verdict events count; others are `claimed` (model.ts). */
  private readonly verdictsFrom: (active: string) => boolean;
  /** Inode → the path it had when last read (rotation renames files). */
  private readonly inoPath = new Map<number, string>();

  /** `path`: one log file (its rotated files are found next to it) or a directory of logs; or several.
   *  `maxIndexRows`: rows the index keeps (default 2,000,000; the older half is dropped beyond). */
  constructor(
    path: string | string[],
    private readonly model: DashboardModel,
    opts: { maxIndexRows?: number; verdictFiles?: readonly string[] } = {},
  ) {
    this.paths = [...new Set((Array.isArray(path) ? path : [path]).map((p) => resolve(p)))];
    const files = opts.verdictFiles ? new Set(opts.verdictFiles.map((f) => resolve(f))) : null;
    this.verdictsFrom = files ? (active) => files.has(resolve(active)) : defaultVerdictFile;
    this.index = new LogIndex(opts.maxIndexRows);
  }

  /** The active log files: each path that is a file, and every `*.jsonl` in each directory that is not a rotated file. */
  private async actives(): Promise<string[]> {
    const out = new Set<string>();
    for (const p of this.paths) {
      let st;
      try {
        st = await stat(p);
      } catch {
        out.add(p); // not there yet: watch for it
        continue;
      }
      if (!st.isDirectory()) {
        out.add(p);
        continue;
      }
      const names = await readdir(p);
      for (const n of names.filter((n) => n.endsWith('.jsonl') && !/\.\d+\.jsonl$/.test(n)).sort()) out.add(join(p, n));
    }
    return [...out];
  }

  private chainOf(active: string): Chain {
    let c = this.chainMap.get(active);
    if (!c) {
      c = { active, check: new IncrementalChainCheck(), records: 0, lastTime: null, index: [], files: [], anchor: null, anchorSize: '', verdicts: this.verdictsFrom(active) };
      this.chainMap.set(active, c);
    }
    return c;
  }

  /** Reads whatever was appended since the last call. Resolves to the number of new records. */
  poll(): Promise<number> {
    if (this.polling) return this.polling;
    this.polling = this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<number> {
    let added = 0;
    for (const active of await this.actives()) {
      const chain = this.chainOf(active);
      chain.files = auditFiles(active);
      for (const f of chain.files) added += await this.readFile(chain, f);
      await this.readAnchor(chain).catch(() => undefined);
    }
    return added;
  }

  /** The newest anchor of `<log>.anchors` (its last 64 KB), checked against the record it names. */
  private async readAnchor(chain: Chain): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(chain.active + '.anchors', 'r');
    } catch {
      chain.anchor = null;
      return;
    }
    let found: { seq: number; hash: string; time: string; alg: string } | null = null;
    try {
      const st = await fh.stat();
      const stamp = `${st.size}/${st.mtimeMs}/${st.ino}`;
      if (stamp === chain.anchorSize && chain.anchor?.matches !== null) return;
      chain.anchorSize = stamp;
      const len = Math.min(st.size, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, st.size - len);
      const lines = buf.toString('utf8').split('\n');
      for (let j = lines.length - 1; j >= 0 && found === null; j--) {
        try {
          const a = JSON.parse(lines[j]!) as Record<string, unknown>;
          if (typeof a.seq === 'number' && typeof a.hash === 'string') found = { seq: a.seq, hash: a.hash, time: String(a.time ?? ''), alg: String(a.alg ?? '') };
        } catch {
          // a partial first line of the tail, or garbage: skip
        }
      }
    } finally {
      await fh.close();
    }
    if (found === null) {
      chain.anchor = null;
      return;
    }
    const rec = found.seq < chain.check.seq ? await this.record(basename(chain.active), found.seq) : null;
    chain.anchor = { ...found, matches: rec ? rec.hash === found.hash : null };
  }

  private async readFile(chain: Chain, file: string): Promise<number> {
    let fh;
    try {
      fh = await open(file, 'r');
    } catch {
      return 0;
    }
    let added = 0;
    try {
      const st = await fh.stat();
      this.inoPath.set(st.ino, file);
      const name = basename(chain.active);
      let cur = this.cursors.get(st.ino);
      if (!cur) {
        cur = { offset: 0, partial: null };
        this.cursors.set(st.ino, cur);
      }
      if (st.size < cur.offset) {
        // truncated (a repaired partial tail): read from its new end on
        cur.offset = st.size;
        cur.partial = null;
      }
      const buf = Buffer.allocUnsafe(CHUNK);
      while (cur.offset < st.size && !this.stopped) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, st.size - cur.offset), cur.offset);
        if (bytesRead === 0) break;
        let data = buf.subarray(0, bytesRead);
        let base = cur.offset;
        if (cur.partial) {
          base -= cur.partial.length;
          data = Buffer.concat([cur.partial, data]);
          cur.partial = null;
        }
        const lastNl = data.lastIndexOf(10);
        const complete = lastNl >= 0 ? data.subarray(0, lastNl + 1) : data.subarray(0, 0);
        const rest = data.subarray(lastNl + 1);
        cur.offset += bytesRead;
        if (rest.length > 0) cur.partial = rest.length > MAX_LINE ? null : Buffer.from(rest);
        if (complete.length === 0) continue;
        for (const { line, offset } of lines(complete, base)) {
          let rec: AuditRecord;
          try {
            rec = JSON.parse(line) as AuditRecord;
          } catch {
            chain.check.broken(null, 'line is not a JSON record');
            continue;
          }
          chain.check.feed(line, rec);
          if (typeof rec.seq === 'number' && rec.seq % INDEX_EVERY === 0) chain.index.push({ seq: rec.seq, ino: st.ino, offset });
          chain.records++;
          chain.lastTime = typeof rec.time === 'string' ? rec.time : chain.lastTime;
          const t = typeof rec.time === 'string' ? Date.parse(rec.time) : NaN;
          if (isEventRecord(rec)) {
            this.index.add(name, st.ino, offset, rec, t, null, {});
            this.model.add(rec, name, true, undefined, chain.verdicts);
          } else if (Number.isFinite(t) && (rec.decision?.effect === 'allow' || rec.decision?.effect === 'deny' || rec.decision?.effect === 'require_approval')) {
            const raw = ruleSetOf(rec);
            const id = this.index.intern(raw);
            const set = this.index.setOf(id) ?? raw;
            this.index.add(name, st.ino, offset, rec, t, id, tagsOf(rec.request));
            this.model.add(rec, name, true, set);
          } else this.model.add(rec, name);
          added++;
        }
      }
    } finally {
      await fh.close();
    }
    return added;
  }

  /** Polls every `ms` (new decisions reach the page within `ms` plus the SSE push). */
  start(ms = 200): void {
    if (this.timer) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        this.poll()
          .catch(() => undefined)
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, ms);
      this.timer.unref?.();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.polling?.catch(() => undefined);
  }

  chains(): ChainStatus[] {
    return [...this.chainMap.values()].map((c) => ({
      chain: basename(c.active),
      files: c.files.map((f) => basename(f)),
      records: c.records,
      ok: c.check.problem === null,
      head: c.check.count > 0 ? { seq: c.check.seq - 1, hash: c.check.prev } : null,
      problem: c.check.problem,
      last_time: c.lastTime,
      anchor: c.anchor,
    }));
  }

  /** Reads the records of one chain from `from` (a sparse index point) on, calling `each` until it returns false. */
  private async readChain(chain: Chain, each: (rec: AuditRecord) => boolean, from?: { ino: number; offset: number }): Promise<void> {
    let started = from === undefined;
    for (const file of chain.files) {
      let fh;
      try {
        fh = await open(file, 'r');
      } catch {
        continue;
      }
      try {
        const st = await fh.stat();
        let pos = 0;
        if (!started) {
          if (st.ino !== from!.ino) continue;
          pos = from!.offset;
          started = true;
        }
        const buf = Buffer.allocUnsafe(CHUNK);
        let partial: Buffer | null = null;
        while (pos < st.size) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, st.size - pos), pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          let data = buf.subarray(0, bytesRead);
          if (partial) data = Buffer.concat([partial, data]);
          const lastNl = data.lastIndexOf(10);
          partial = lastNl >= 0 ? Buffer.from(data.subarray(lastNl + 1)) : Buffer.from(data);
          if (partial.length > MAX_LINE) partial = null;
          if (lastNl < 0) continue;
          for (const { line } of lines(data.subarray(0, lastNl + 1), 0)) {
            let rec: AuditRecord;
            try {
              rec = JSON.parse(line) as AuditRecord;
            } catch {
              continue;
            }
            if (!each(rec)) return;
          }
        }
      } finally {
        await fh.close();
      }
    }
  }

  /** One record by chain and seq (null when absent). Reads at most INDEX_EVERY records. */
  async record(chainName: string, seq: number): Promise<AuditRecord | null> {
    const chain = [...this.chainMap.values()].find((c) => basename(c.active) === chainName);
    if (!chain || !Number.isSafeInteger(seq) || seq < 0) return null;
    const at = this.index.find(chainName, seq);
    if (at) {
      const rec = await this.readAt(chain, at.ino, at.offset);
      if (rec && rec.seq === seq) return rec;
    }
    let from: { ino: number; offset: number } | undefined;
    for (const p of chain.index) if (p.seq <= seq) from = p;
    let found: AuditRecord | null = null;
    await this.readChain(
      chain,
      (rec) => {
        if (rec.seq === seq) {
          found = rec;
          return false;
        }
        return typeof rec.seq !== 'number' || rec.seq < seq;
      },
      from,
    );
    return found;
  }

  /** The record whose line starts at `offset` of the file with inode `ino` (null when gone or not a record). */
  private async readAt(chain: Chain, ino: number, offset: number, handles?: Map<number, FileHandle>): Promise<AuditRecord | null> {
    const tryPath = async (file: string): Promise<AuditRecord | null | undefined> => {
      let fh = handles?.get(ino);
      const shared = fh !== undefined;
      if (!fh) {
        try {
          fh = await open(file, 'r');
        } catch {
          return undefined;
        }
      }
      try {
        if (!shared && (await fh.stat()).ino !== ino) return undefined;
        if (!shared && handles) handles.set(ino, fh);
        let buf = Buffer.allocUnsafe(8 * 1024); // a record is about 1 KB; longer ones grow it
        let len = 0;
        for (;;) {
          if (len === buf.length) {
            if (buf.length >= MAX_LINE) return null;
            const bigger = Buffer.allocUnsafe(buf.length * 4);
            buf.copy(bigger, 0, 0, len);
            buf = bigger;
          }
          const { bytesRead } = await fh.read(buf, len, buf.length - len, offset + len);
          if (bytesRead === 0) return null;
          const nl = buf.indexOf(10, len);
          len += bytesRead;
          if (nl >= 0 && nl < len) {
            try {
              return JSON.parse(buf.toString('utf8', 0, nl)) as AuditRecord;
            } catch {
              return null;
            }
          }
        }
      } finally {
        if (!handles?.has(ino)) await fh.close();
      }
    };
    const known = this.inoPath.get(ino);
    if (known !== undefined) {
      const r = await tryPath(known);
      if (r !== undefined) return r;
    }
    // Renamed by a rotation since it was read: find it among the chain's files.
    for (const f of auditFiles(chain.active)) {
      const r = await tryPath(f);
      if (r !== undefined) {
        this.inoPath.set(ino, f);
        return r;
      }
    }
    return null;
  }

  private chainNamed(name: string): Chain | undefined {
    for (const c of this.chainMap.values()) if (basename(c.active) === name) return c;
    return undefined;
  }

  /** The records at `rows` of the index (null for one that is gone), in that order. */
  async readRows(rows: RowRef[]): Promise<(AuditRecord | null)[]> {
    const handles = new Map<number, FileHandle>();
    const out: (AuditRecord | null)[] = new Array(rows.length).fill(null);
    try {
      // Records near each other in one file (the newest matches usually are) are read with one read
      // of the span between them; the rest one by one.
      const byFile = new Map<number, number[]>();
      rows.forEach((r, i) => {
        const list = byFile.get(r.ino);
        if (list) list.push(i);
        else byFile.set(r.ino, [i]);
      });
      for (const [ino, idxs] of byFile) {
        idxs.sort((a, b) => rows[a]!.offset - rows[b]!.offset);
        const chain = this.chainNamed(rows[idxs[0]!]!.chain);
        if (!chain) continue;
        let j = 0;
        while (j < idxs.length) {
          let k = j + 1;
          while (k < idxs.length && rows[idxs[k]!]!.offset - rows[idxs[k - 1]!]!.offset <= SPAN_GAP && rows[idxs[k]!]!.offset - rows[idxs[j]!]!.offset <= SPAN_MAX) k++;
          const span = k - j > 1 ? await this.readSpan(chain, ino, rows[idxs[j]!]!.offset, rows[idxs[k - 1]!]!.offset, handles) : null;
          for (let x = j; x < k; x++) {
            const i = idxs[x]!;
            const at = rows[i]!.offset;
            let rec: AuditRecord | null | undefined;
            if (span) {
              const from = at - span.start;
              const nl = span.buf.indexOf(10, from);
              if (nl >= 0) {
                try {
                  rec = JSON.parse(span.buf.toString('utf8', from, nl)) as AuditRecord;
                } catch {
                  rec = null;
                }
              }
            }
            out[i] = rec !== undefined ? rec : await this.readAt(chain, ino, at, handles);
          }
          j = k;
        }
      }
    } finally {
      for (const fh of handles.values()) await fh.close().catch(() => undefined);
    }
    return out;
  }

  /** The bytes of file `ino` from `start` to past the line at `last` (null when the file is gone). */
  private async readSpan(chain: Chain, ino: number, start: number, last: number, handles: Map<number, FileHandle>): Promise<{ start: number; buf: Buffer } | null> {
    let fh = handles.get(ino);
    if (!fh) {
      const files = [this.inoPath.get(ino), ...auditFiles(chain.active)].filter((f): f is string => f !== undefined);
      for (const f of files) {
        let h: FileHandle;
        try {
          h = await open(f, 'r');
        } catch {
          continue;
        }
        if ((await h.stat()).ino === ino) {
          fh = h;
          handles.set(ino, h);
          this.inoPath.set(ino, f);
          break;
        }
        await h.close();
      }
      if (!fh) return null;
    }
    const buf = Buffer.allocUnsafe(last - start + 16 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    return { start, buf: buf.subarray(0, bytesRead) };
  }

  /**
   * A filtered summary from the index: counts from its columns, and the newest decisions and errors
   * read from the log by offset. False when the index cannot answer (then `replay`).
   */
  summarizeIndexed(filter: RecordFilter, model: DashboardModel): Promise<boolean> {
    return summarizeSources([this], filter, model);
  }

  /** Aggregates every record matching `filter` into `model` (a filtered view; streams the log). */
  async replay(filter: RecordFilter, model: DashboardModel): Promise<void> {
    for (const chain of this.chainMap.values()) {
      const name = basename(chain.active);
      await this.readChain(chain, (rec) => {
        if (matchesFilter(rec, filter)) model.add(rec, name, false, undefined, chain.verdicts);
        return !this.stopped;
      });
    }
  }

  /** The newest `limit` records matching the filter (optionally with seq < `before`), newest first. */
  async scan(filter: RecordFilter, opts: { limit: number; before?: number; chain?: string; withErrors?: boolean }): Promise<{ chain: string; record: AuditRecord }[]> {
    const indexed = await scanIndexed(this, filter, opts);
    if (indexed !== null) return indexed;
    const out: { chain: string; record: AuditRecord }[] = [];
    for (const chain of this.chainMap.values()) {
      const name = basename(chain.active);
      if (opts.chain !== undefined && opts.chain !== name) continue;
      const ring: AuditRecord[] = [];
      await this.readChain(chain, (rec) => {
        if (opts.before !== undefined && typeof rec.seq === 'number' && rec.seq >= opts.before) return false;
        if (opts.withErrors && !(Array.isArray(rec.decision?.errors) && rec.decision.errors.length > 0)) return true;
        if (matchesFilter(rec, filter, tagsOf(rec.request))) {
          ring.push(rec);
          if (ring.length > opts.limit) ring.shift();
        }
        return true;
      });
      for (const r of ring) out.push({ chain: name, record: r });
    }
    out.sort((a, b) => (a.record.time < b.record.time ? 1 : a.record.time > b.record.time ? -1 : 0));
    return out.slice(0, opts.limit);
  }
}

/** A source of records with a log index: the files of `--log` (LogSource), the fleet's stream. */
export interface IndexedSource {
  readonly index: LogIndex;
  /** The records at `rows` of its index (null for one that is gone), in that order. */
  readRows(rows: RowRef[]): Promise<(AuditRecord | null)[]>;
  /** Counts every record matching `filter` into `model` by reading them again (when the index cannot). */
  replay(filter: RecordFilter, model: DashboardModel): Promise<void>;
  /** The newest `limit` records matching, newest first. */
  scan(filter: RecordFilter, opts: { limit: number; before?: number; chain?: string; withErrors?: boolean }): Promise<{ chain: string; record: AuditRecord }[]>;
}

/** The newest `limit` records matching, newest first, from the source's index and read by their place;
 *  null when the index cannot answer (the source then reads its records). */
export async function scanIndexed(source: Pick<IndexedSource, 'index' | 'readRows'>, filter: RecordFilter, opts: { limit: number; before?: number; chain?: string; withErrors?: boolean }): Promise<{ chain: string; record: AuditRecord }[] | null> {
  const rows = source.index.newest({ ...filter, chain: opts.chain, before: opts.before }, opts.limit, opts.withErrors ? { withErrors: true } : {});
  if (rows === null) return null;
  const recs = await source.readRows(rows);
  const out: { chain: string; record: AuditRecord }[] = [];
  rows.forEach((r, i) => {
    const rec = recs[i];
    if (rec) out.push({ chain: r.chain, record: rec });
  });
  return out;
}

/**
 * A filtered summary over several indexed sources: the counts of each index at once
 * (DashboardModel.loadIndexed), and the newest 50 decisions and 20 with errors across them, read by
 * their place. False when an index cannot answer (then `replay` each).
 */
export async function summarizeSources(sources: IndexedSource[], filter: RecordFilter, model: DashboardModel): Promise<boolean> {
  const aggs = [];
  for (const s of sources) {
    const a = s.index.aggregateOf(filter);
    if (a === null) return false;
    aggs.push(a);
  }
  model.loadIndexed(mergeAggregates(aggs));
  const newest = async (limit: number, opts: { decisionsOnly?: boolean; withErrors?: boolean }, each: (rec: AuditRecord, chain: string) => void) => {
    const rows: { s: number; r: RowRef }[] = [];
    sources.forEach((s, i) => {
      for (const r of s.index.newest(filter, limit, opts) ?? []) rows.push({ s: i, r });
    });
    rows.sort((a, b) => b.r.t - a.r.t);
    rows.length = Math.min(rows.length, limit);
    const recs = new Map<{ s: number; r: RowRef }, AuditRecord | null>();
    for (let i = 0; i < sources.length; i++) {
      const mine = rows.filter((x) => x.s === i);
      if (mine.length === 0) continue;
      const got = await sources[i]!.readRows(mine.map((x) => x.r));
      mine.forEach((x, j) => recs.set(x, got[j] ?? null));
    }
    for (const x of rows.reverse()) {
      const rec = recs.get(x);
      if (rec && !isEventRecord(rec)) each(rec, x.r.chain);
    }
  };
  await newest(50, { decisionsOnly: true }, (rec, chain) => model.addRecent(rec, chain));
  await newest(20, { withErrors: true }, (rec, chain) => model.addErrors(rec, chain));
  return true;
}

/** The newest `limit` records matching across sources, newest first. */
export async function scanSources(sources: IndexedSource[], filter: RecordFilter, opts: { limit: number; before?: number; chain?: string; withErrors?: boolean }): Promise<{ chain: string; record: AuditRecord }[]> {
  if (sources.length === 1) return sources[0]!.scan(filter, opts);
  const all = (await Promise.all(sources.map((s) => s.scan(filter, opts)))).flat();
  all.sort((a, b) => (a.record.time < b.record.time ? 1 : a.record.time > b.record.time ? -1 : 0));
  return all.slice(0, opts.limit);
}
