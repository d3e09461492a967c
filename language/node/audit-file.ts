// FileAuditLog: a Node sink that appends audit lines to a JSON Lines file, with optional fsync per
// record and rotation by size that keeps the chain across files.
//
//   decisions.jsonl            the active file
//   decisions.1.jsonl, .2 …    rotated files, oldest first (`rein audit verify decisions*.jsonl`
//                              or `auditFiles(path)` lists them in chain order)
//
// Opening an existing log continues its chain. A crash can leave a partial last line: on open it is
// cut off (the log then verifies up to the last complete record) and reported through `onRepair`.
// Writes are queued and performed in order in the background: `write()` never blocks a decision.
//
// A write that fails (a full disk, EIO) loses nothing and leaves no partial line (review h13r1 S3):
// the file is cut back to its last complete record, the records stay queued in order and are retried
// every `retryMs` until the disk takes them (`onStall` once, `onResume` when writing again), so the
// chain continues intact. Only past `maxPendingBytes` of waiting records are new records refused
// (their write rejects: lost, and the chain breaks there — `rein audit verify` names the line).
// `reopen()` continues the chain in a new file at the same path after an outside rotation (logrotate's
// rename + SIGHUP).
//
// One writer per log: opening takes `<log>.lock` (created exclusively, holding the writer's pid and
// host); a second writer gets AuditLogLockedError instead of silently forking the chain. A lock left
// by a process that died on this host is taken over. Give each process its own log file.
//
// Anchors (optional): every `every` records or `intervalMs`, the head (seq, hash) is signed (HMAC or
// Ed25519) and appended to `<log>.anchors` and/or handed to a sink; `rein audit verify --anchors`
// then detects a cut-off tail or a rewritten log up to the last anchor.

import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, ftruncateSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { AuditSink } from '../audit/logger.js';
import { ChainVerifier } from '../audit/record.js';
import { anchorSigner, type Anchor, type AnchorSigningKey } from './audit-anchor.js';

import { nodeSha256Hex } from './fast-hash.js';
import { mkdirs } from './mkdirs.js';

/** SHA-256 with node:crypto (several times faster than the portable one), same `sha256:<hex>` form. */
export const nodeLineHash = nodeSha256Hex;

export interface FileAuditLogOptions {
  /** fsync after every record (durable, slower). Default false. */
  fsync?: boolean;
  /** Rotate when the active file would exceed this many bytes. Default: never. */
  maxBytes?: number;
  /** Called when opening cut off a partial last line left by a crash. */
  onRepair?: (info: { file: string; bytesRemoved: number }) => void;
  /** While writes fail, records wait in memory up to this many bytes (default 64 MiB); a record
   *  beyond it is refused (its `write` rejects: lost). */
  maxPendingBytes?: number;
  /** How often a failed write is retried (ms, default 1000). */
  retryMs?: number;
  /** Writing failed: records now wait in memory (called once per stall). */
  onStall?: (info: { file: string; error: unknown; pending: number }) => void;
  /** Writing works again: `written` records that waited are in the file; `lost` were refused. */
  onResume?: (info: { file: string; stalledMs: number; written: number; lost: number }) => void;
  /** Sign the head every `every` records (default 1000) or `intervalMs` (default 60 s), and on close. */
  anchor?: {
    key: AnchorSigningKey;
    every?: number;
    intervalMs?: number;
    /** The anchor file (default `<log>.anchors`, e.g. `decisions.jsonl.anchors`); null: sink only. */
    path?: string | null;
    /** Also hand each anchor elsewhere (another host, a ticket, a timestamping service). Errors are
     *  reported through `onError`. */
    sink?: (anchor: Anchor) => void | Promise<void>;
    onError?: (err: unknown) => void;
  };
}

/** A second writer tried to open a log that another live process (or this one) writes. */
export class AuditLogLockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: { pid: number; host: string; since?: string },
  ) {
    super(
      `audit log ${path} is already written by process ${holder.pid} on ${holder.host}${holder.since ? ` (since ${holder.since})` : ''}: ` +
        `one writer per log file — give each process its own file (e.g. decisions-<host>-<pid>.jsonl); ` +
        `\`rein audit verify\` checks several logs at once`,
    );
    this.name = 'AuditLogLockedError';
  }
}

const heldLocks = new Set<string>();
let exitHook = false;

/** Whether process `pid` started after `since` (an ISO time): then it is not the process that wrote
 *  the lock at `since`. Linux (/proc); elsewhere, or when unsure, false. A 2 s margin covers clock
 *  ticks and the time between a process's start and its writing the lock. */
function startedAfter(pid: number, since: string | undefined): boolean {
  const at = since === undefined ? NaN : Date.parse(since);
  if (!Number.isFinite(at)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after `(comm)`: state is field 3, starttime field 22 (clock ticks after boot; USER_HZ 100)
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return false;
    return btime * 1000 + ticks * 10 > at + 2000;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<path>.lock` exclusively, taking over a lock whose process died on this host. */
function takeLock(path: string): string {
  const lock = path + '.lock';
  const me = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeAll(fd, Buffer.from(JSON.stringify(me) + '\n'));
      closeSync(fd);
      heldLocks.add(lock);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => {
          for (const l of heldLocks) {
            try {
              unlinkSync(l);
            } catch {
              /* already gone */
            }
          }
        });
      }
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: { pid: number; host: string; since?: string };
    try {
      holder = JSON.parse(readFileSync(lock, 'utf8')) as typeof holder;
    } catch {
      // Being written by its creator right now (or garbage): only a dead writer's lock is taken over.
      holder = { pid: -1, host: '?' };
    }
    // Stale: written on this host by a process that is gone — a dead pid; a live pid that started
    // after the lock was written (the pid was reused: a wrapper, tini); or our own pid while this
    // process does not hold the lock (a container restarted after an unclean exit runs as the same
    // PID 1 on the same host name: review h13r1 S15).
    const sameHost = holder.host === me.host && Number.isSafeInteger(holder.pid) && holder.pid > 0;
    const stale =
      sameHost &&
      (holder.pid === process.pid ? !heldLocks.has(lock) : !pidAlive(holder.pid) || startedAfter(holder.pid, holder.since));
    if (!stale) {
      if (holder.pid === -1 && attempt < 2) continue;
      throw new AuditLogLockedError(path, holder);
    }
    try {
      unlinkSync(lock);
    } catch {
      /* another process took it over first: retry */
    }
  }
  throw new AuditLogLockedError(path, { pid: -1, host: '?' });
}

const SEQ_AT_START = /^\{"v":\d+,"seq":(\d+),/;
const HASH_AT_END = /"hash":"(sha256:[0-9a-f]{64})"\}\n?$/;

/** The log's files in chain order: rotated files by index, then the active file. */
export function auditFiles(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path).replace(/\.jsonl$/, '');
  const rotated = existsSync(dir)
    ? readdirSync(dir)
        .map((f) => ({ f, m: new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.jsonl$`).exec(f) }))
        .filter((x) => x.m)
        .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
        .map((x) => join(dir, x.f))
    : [];
  return existsSync(path) ? [...rotated, path] : rotated;
}

export class FileAuditLog implements AuditSink {
  readonly path: string;
  private fd: number;
  private size: number;
  private readonly fsync: boolean;
  private readonly maxBytes: number;
  private queue: string[] = [];
  private flushing: Promise<void> | null = null;
  private readonly startHead: { seq: number; hash: string } | undefined;
  private closed = false;
  private readonly lock: string;
  /** The last record written (for anchors). */
  private written: { seq: number; hash: string } | undefined;
  private anchored = -1;
  private sinceAnchor = 0;
  private readonly anchorOpts: FileAuditLogOptions['anchor'];
  private readonly sign: ((log: string, seq: number, hash: string, time: Date) => Anchor) | null;
  private readonly anchorPath: string | null;
  private anchorTimer: NodeJS.Timeout | null = null;
  /** Bytes of the records in `queue`. */
  private pendingBytes = 0;
  private readonly maxPendingBytes: number;
  private readonly retryMs: number;
  private readonly onStall: FileAuditLogOptions['onStall'];
  private readonly onResume: FileAuditLogOptions['onResume'];
  /** Set while writes fail: since when, the last error, records refused meanwhile, records that waited. */
  private stall: { since: number; error: unknown; lost: number; waited: number } | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Settles `flushing`. */
  private settle: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  /** `flush()` calls waiting for the queue to drain or to stall. */
  private stallWaiters: (() => void)[] = [];
  /** A failed write may have left bytes past `size` that the truncation could not remove yet. */
  private dirty = false;

  constructor(path: string, opts: FileAuditLogOptions = {}) {
    this.path = path;
    this.maxPendingBytes = opts.maxPendingBytes ?? 64 * 1024 * 1024;
    this.retryMs = opts.retryMs ?? 1000;
    this.onStall = opts.onStall;
    this.onResume = opts.onResume;
    this.fsync = opts.fsync ?? false;
    this.maxBytes = opts.maxBytes ?? Infinity;
    this.anchorOpts = opts.anchor;
    this.sign = opts.anchor ? anchorSigner(opts.anchor.key) : null;
    this.anchorPath = opts.anchor ? (opts.anchor.path === undefined ? path + '.anchors' : opts.anchor.path) : null;
    // The log's folder, like the log itself, is created when missing (`new FileAuditLog('audit/x.jsonl')`).
    mkdirs(dirname(path));
    this.lock = takeLock(path);
    // Find the chain's head across rotated files and repair a partial tail of the active file.
    const files = auditFiles(path);
    // Older rotated files may have been removed (retention): start from the first record's predecessor.
    const v = new ChainVerifier({ hash: nodeLineHash, startFrom: 'declared' });
    let res: ReturnType<ChainVerifier['result']>;
    try {
      files.forEach((f, i) => v.feed(f, readFileSync(f, 'utf8'), i === files.length - 1));
      res = v.result();
      this.fd = openSync(path, 'a+');
    } catch (e) {
      this.unlock();
      throw e;
    }
    this.size = fstatSync(this.fd).size;
    if (res.truncatedTail && res.truncatedTail.source === path) {
      const text = readFileSync(path, 'utf8');
      const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
      ftruncateSync(this.fd, keep);
      opts.onRepair?.({ file: path, bytesRemoved: this.size - keep });
      this.size = keep;
    }
    this.startHead = res.records > 0 ? res.head : undefined;
    this.written = this.startHead;
    if (this.sign && this.anchorOpts?.intervalMs !== 0) {
      this.anchorTimer = setInterval(() => {
        if (this.sinceAnchor > 0 && !this.flushing) {
          try {
            this.writeAnchor();
          } catch (e) {
            this.anchorOpts?.onError?.(e);
          }
        }
      }, this.anchorOpts?.intervalMs ?? 60_000);
      this.anchorTimer.unref?.();
    }
  }

  head(): { seq: number; hash: string } | undefined {
    return this.startHead;
  }

  hash(s: string): string {
    return nodeLineHash(s);
  }

  write(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`audit log ${this.path} is closed`));
    const text = line + '\n';
    const n = Buffer.byteLength(text);
    if (this.queue.length > 0 && this.pendingBytes + n > this.maxPendingBytes) {
      if (this.stall) this.stall.lost++;
      const why = this.stall ? `writing fails (${errorText(this.stall.error)})` : 'writing is behind';
      return Promise.reject(new Error(`audit log ${this.path}: ${why} and ${this.queue.length} records (${Math.round(this.pendingBytes / 1024)} KiB) wait in memory, the most it keeps: this record is lost`));
    }
    this.queue.push(text);
    this.pendingBytes += n;
    return this.kick();
  }

  /** Records waiting to be written (while writes fail, they wait here in order). */
  get pending(): number {
    return this.queue.length;
  }

  /** Whether writes are failing now (records wait in memory and are retried). */
  get stalled(): boolean {
    return this.stall !== null;
  }

  /** Resolves when every queued record is written (and synced, with `fsync`); while writes fail, it
   *  tries once more and throws the error (the records stay queued and are retried). */
  async flush(): Promise<void> {
    while (this.flushing) {
      if (this.stall) {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.attempt();
        if (this.stall) throw this.stall.error;
        continue;
      }
      const current = this.flushing;
      await new Promise<void>((resolve) => {
        current.then(resolve, resolve);
        this.stallWaiters.push(resolve);
      });
    }
  }

  /**
   * Continue the chain in a fresh file at `path` (after logrotate or `mv` renamed the active file;
   * `rein serve` calls it on SIGHUP): the queued records are written first, into the old file.
   */
  async reopen(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    const fd = openSync(this.path, 'a+');
    if (this.fsync) fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  /** Writes what it can and closes; records that cannot be written are lost (their writes reject),
   *  and the error is thrown after the file is closed and unlocked. */
  async close(): Promise<void> {
    let error: unknown = null;
    try {
      await this.flush();
    } catch (e) {
      error = e;
    }
    if (!this.closed) {
      this.closed = true;
      if (this.anchorTimer) clearInterval(this.anchorTimer);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.queue.length > 0) {
        const lost = this.queue.length;
        this.queue = [];
        this.pendingBytes = 0;
        const settle = this.settle;
        this.settle = null;
        this.flushing = null;
        settle?.reject(new Error(`audit log ${this.path}: closed with ${lost} records unwritten (${errorText(error)})`));
      }
      try {
        if (this.dirty) ftruncateSync(this.fd, this.size);
        if (this.sinceAnchor > 0) this.writeAnchor();
      } catch (e) {
        this.anchorOpts?.onError?.(e);
      }
      closeSync(this.fd);
      this.unlock();
    }
    if (error !== null) throw error;
  }

  private unlock(): void {
    heldLocks.delete(this.lock);
    try {
      unlinkSync(this.lock);
    } catch {
      /* already gone */
    }
  }

  /** Signs the current head into the anchor file and/or sink (after syncing the records it covers). */
  private writeAnchor(): void {
    const head = this.written;
    if (!this.sign || !head || head.seq === this.anchored) return;
    fsyncSync(this.fd);
    const anchor = this.sign(basename(this.path), head.seq, head.hash, new Date());
    if (this.anchorPath) {
      const fd = openSync(this.anchorPath, 'a');
      try {
        writeAll(fd, Buffer.from(JSON.stringify(anchor) + '\n'));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.anchored = head.seq;
    this.sinceAnchor = 0;
    const sink = this.anchorOpts?.sink;
    if (sink) {
      try {
        const r = sink(anchor);
        if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, (e) => this.anchorOpts?.onError?.(e));
      } catch (e) {
        this.anchorOpts?.onError?.(e);
      }
    }
  }

  private kick(): Promise<void> {
    if (!this.flushing) {
      this.flushing = new Promise<void>((resolve, reject) => {
        this.settle = { resolve, reject };
        // Defer to a macrotask so a burst of decisions is written in one batch.
        setImmediate(() => this.attempt());
      });
    }
    return this.flushing;
  }

  /** Writes the queue; on failure keeps it and retries after `retryMs`. Settles `flushing` when the
   *  queue is written. */
  private attempt(): void {
    this.retryTimer = null;
    if (this.closed || !this.settle) return;
    const waiting = this.queue.length;
    try {
      this.drain();
    } catch (e) {
      if (this.stall) this.stall.error = e;
      else {
        this.stall = { since: Date.now(), error: e, lost: 0, waited: 0 };
        try {
          this.onStall?.({ file: this.path, error: e, pending: this.queue.length });
        } catch {
          /* a failing callback must not stop the retries */
        }
      }
      this.stall.waited = Math.max(this.stall.waited, waiting);
      this.retryTimer = setTimeout(() => this.attempt(), this.retryMs);
      this.retryTimer.unref?.();
      for (const w of this.stallWaiters.splice(0)) w();
      return;
    }
    const stall = this.stall;
    this.stall = null;
    const settle = this.settle;
    this.settle = null;
    this.flushing = null;
    this.stallWaiters = [];
    settle.resolve();
    if (stall) {
      try {
        this.onResume?.({ file: this.path, stalledMs: Date.now() - stall.since, written: Math.max(stall.waited, waiting), lost: stall.lost });
      } catch {
        /* as above */
      }
    }
  }

  private drain(): void {
    if (this.dirty) {
      ftruncateSync(this.fd, this.size);
      this.dirty = false;
    }
    while (this.queue.length) {
      const batch = this.fsync ? [this.queue.shift()!] : this.queue.splice(0, this.queue.length);
      // Cut the batch where the active file would pass maxBytes: files stay within it (a single record
      // larger than maxBytes gets a file of its own; records are never split).
      let from = 0;
      try {
        this.writeBatch(batch, (to) => (from = to));
      } catch (e) {
        // Nothing is lost and nothing partial stays: the unwritten records go back to the head of the
        // queue (in order) and the file is cut back to its last complete record.
        this.queue = from === 0 ? batch.concat(this.queue) : batch.slice(from).concat(this.queue);
        this.dirty = true;
        try {
          ftruncateSync(this.fd, this.size);
          this.dirty = false;
        } catch {
          /* cut before the next write (drain) */
        }
        throw e;
      }
      if (this.sign && this.sinceAnchor >= (this.anchorOpts?.every ?? 1000)) this.writeAnchor();
    }
  }

  /** Writes `batch` (rotating at maxBytes); `done(to)` after each part is in the file. */
  private writeBatch(batch: string[], done: (to: number) => void): void {
    let from = 0;
    while (from < batch.length) {
      let bytes = 0;
      let to = from;
      if (this.maxBytes === Infinity) to = batch.length;
      else {
        while (to < batch.length) {
          const n = Buffer.byteLength(batch[to]);
          if (this.size + bytes + n > this.maxBytes && (this.size > 0 || to > from)) break;
          bytes += n;
          to++;
        }
        if (to === from) {
          this.rotate();
          continue;
        }
      }
      const buf = Buffer.from(to - from === batch.length ? batch.join('') : batch.slice(from, to).join(''));
      writeAll(this.fd, buf);
      if (this.fsync) fsyncSync(this.fd);
      this.size += buf.length;
      this.pendingBytes -= buf.length;
      this.noteWritten(batch[to - 1], to - from);
      from = to;
      done(to);
    }
  }

  /** Remembers the head after `count` records ending with `line` (for anchors). */
  private noteWritten(line: string, count: number): void {
    if (!this.sign) return;
    const seq = SEQ_AT_START.exec(line);
    const hash = HASH_AT_END.exec(line);
    if (seq && hash) this.written = { seq: Number(seq[1]), hash: hash[1] };
    this.sinceAnchor += count;
  }

  private rotate(): void {
    if (this.fsync) fsyncSync(this.fd);
    const files = auditFiles(this.path).filter((f) => f !== this.path);
    const last = files.length ? Number(/\.(\d+)\.jsonl$/.exec(files[files.length - 1])![1]) : 0;
    // Renamed while open (the descriptor follows the file), then the new file opened, then the old
    // descriptor closed: a failure at any step leaves a usable descriptor, and a retry goes on from it.
    if (existsSync(this.path)) renameSync(this.path, this.path.replace(/\.jsonl$/, '') + `.${last + 1}.jsonl`);
    const fd = openSync(this.path, 'a+');
    closeSync(this.fd);
    this.fd = fd;
    this.size = 0;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}
