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

import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, ftruncateSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AuditSink } from '../audit/logger.js';
import { ChainVerifier } from '../audit/record.js';

import { nodeSha256Hex } from './fast-hash.js';

/** SHA-256 with node:crypto (several times faster than the portable one), same `sha256:<hex>` form. */
export const nodeLineHash = nodeSha256Hex;

export interface FileAuditLogOptions {
  /** fsync after every record (durable, slower). Default false. */
  fsync?: boolean;
  /** Rotate when the active file would exceed this many bytes. Default: never. */
  maxBytes?: number;
  /** Called when opening cut off a partial last line left by a crash. */
  onRepair?: (info: { file: string; bytesRemoved: number }) => void;
}

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

  constructor(path: string, opts: FileAuditLogOptions = {}) {
    this.path = path;
    this.fsync = opts.fsync ?? false;
    this.maxBytes = opts.maxBytes ?? Infinity;
    // Find the chain's head across rotated files and repair a partial tail of the active file.
    const files = auditFiles(path);
    const v = new ChainVerifier(nodeLineHash);
    files.forEach((f, i) => v.feed(f, readFileSync(f, 'utf8'), i === files.length - 1));
    const res = v.result();
    this.fd = openSync(path, 'a+');
    this.size = fstatSync(this.fd).size;
    if (res.truncatedTail && res.truncatedTail.source === path) {
      const text = readFileSync(path, 'utf8');
      const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
      ftruncateSync(this.fd, keep);
      opts.onRepair?.({ file: path, bytesRemoved: this.size - keep });
      this.size = keep;
    }
    this.startHead = res.records > 0 ? res.head : undefined;
  }

  head(): { seq: number; hash: string } | undefined {
    return this.startHead;
  }

  hash(s: string): string {
    return nodeLineHash(s);
  }

  write(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`audit log ${this.path} is closed`));
    this.queue.push(line + '\n');
    return this.kick();
  }

  /** Resolves when every queued record is written (and synced, with `fsync`). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
  }

  private kick(): Promise<void> {
    if (!this.flushing) {
      this.flushing = new Promise<void>((resolve, reject) => {
        // Defer to a macrotask so a burst of decisions is written in one batch.
        setImmediate(() => {
          try {
            this.drain();
            resolve();
          } catch (e) {
            reject(e);
          } finally {
            this.flushing = null;
            if (this.queue.length) void this.kick().catch(() => undefined);
          }
        });
      });
    }
    return this.flushing;
  }

  private drain(): void {
    while (this.queue.length) {
      const batch = this.fsync ? [this.queue.shift()!] : this.queue.splice(0, this.queue.length);
      let buf = Buffer.from(batch.join(''));
      if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate();
      // A batch larger than maxBytes still goes in one file: records are never split.
      writeAll(this.fd, buf);
      if (this.fsync) fsyncSync(this.fd);
      this.size += buf.length;
      buf = Buffer.alloc(0);
    }
  }

  private rotate(): void {
    if (this.fsync) fsyncSync(this.fd);
    closeSync(this.fd);
    const files = auditFiles(this.path).filter((f) => f !== this.path);
    const last = files.length ? Number(/\.(\d+)\.jsonl$/.exec(files[files.length - 1])![1]) : 0;
    renameSync(this.path, this.path.replace(/\.jsonl$/, '') + `.${last + 1}.jsonl`);
    this.fd = openSync(this.path, 'a+');
    this.size = 0;
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}
