// The tamper-evident decision log: one JSON line per decision, each carrying the SHA-256 of the
// previous line, so a changed, removed or reordered line breaks the chain. Browser-safe (no IO):
// sinks decide where lines go (`FileAuditLog` in rein/node writes files).
//
// Record (one line, keys in this order):
//   { "v": 1, "seq": 0, "prev": "sha256:…", "time": "…", "latency_ms": 0.02,
//     "policy": { name, version, hash }, "request_hash": "sha256:…", "request": {…}?,
//     "decision": { effect, reasons, approvals, warnings, monitored, budgets, errors, reservation, mode } }
// …and a last key `"hash"`: the SHA-256 of the line's exact UTF-8 bytes without that key (so a
// changed byte is caught at its own record), which the next record repeats as `prev` (so a removed,
// reordered or rewritten-and-rehashed record is caught where the chain breaks). `prev` of the first
// record of a chain is GENESIS. Verification never re-serialises JSON.

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Decision } from '../runtime/decision.js';

export const GENESIS = 'sha256:' + '0'.repeat(64);
export const AUDIT_FORMAT_VERSION = 1;

export interface AuditRecord {
  v: number;
  seq: number;
  prev: string;
  time: string;
  latency_ms: number | null;
  policy: Decision['policy'];
  request_hash: string | null;
  /** The request with redacted fields replaced by `"[redacted]"`; absent when only the hash is logged. */
  request?: unknown;
  decision: Omit<Decision, 'policy' | 'request_hash' | 'time' | 'explain'>;
  /** SHA-256 of this line without its `hash` key. */
  hash: string;
}

const HASH_SUFFIX = /,"hash":"(sha256:[0-9a-f]{64})"\}$/;

/** Appends the self-hash to a serialised record (`{…}` without `hash`). */
function seal(body: string, hashFn: (s: string) => string = lineHash): { line: string; hash: string } {
  const hash = hashFn(body);
  return { line: body.slice(0, -1) + `,"hash":"${hash}"}`, hash };
}

/** The recorded and recomputed self-hash of a line (null when the line has no hash key at its end). */
function unseal(line: string, hashFn: (s: string) => string = lineHash): { recorded: string; actual: string } | null {
  const m = HASH_SUFFIX.exec(line);
  if (!m) return null;
  return { recorded: m[1], actual: hashFn(line.slice(0, m.index) + '}') };
}

export interface AuditOptions {
  /** Log the request itself (default true); false logs only its hash. */
  includeRequest?: boolean;
  /** Dot paths into the request whose values are replaced by `"[redacted]"` (e.g. `action.text`). */
  redact?: string[];
}

export function lineHash(line: string): string {
  return 'sha256:' + bytesToHex(sha256(utf8ToBytes(line)));
}

function redactCopy(value: unknown, paths: string[][]): unknown {
  if (paths.length === 0) return value;
  const copy = structuredCloneSafe(value);
  for (const path of paths) {
    let cur: unknown = copy;
    for (let i = 0; i < path.length; i++) {
      if (cur === null || typeof cur !== 'object') break;
      const obj = cur as Record<string, unknown>;
      if (!Object.prototype.hasOwnProperty.call(obj, path[i])) break;
      if (i === path.length - 1) obj[path[i]] = '[redacted]';
      else cur = obj[path[i]];
    }
  }
  return copy;
}

function structuredCloneSafe(v: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return null;
  }
}

/** Builds the chain: each `next()` returns the line to append and advances the head. */
export class AuditChain {
  private prev: string;
  private seq: number;
  private readonly redact: string[][];
  private readonly includeRequest: boolean;
  private readonly hashFn: (s: string) => string;

  /** `hash`: a faster SHA-256 of a string as `sha256:<hex>` (e.g. node:crypto); default @noble/hashes. */
  constructor(opts: AuditOptions & { head?: { seq: number; hash: string }; hash?: (s: string) => string } = {}) {
    this.hashFn = opts.hash ?? lineHash;
    this.prev = opts.head?.hash ?? GENESIS;
    this.seq = opts.head ? opts.head.seq + 1 : 0;
    this.redact = (opts.redact ?? []).map((p) => p.split('.').filter(Boolean));
    this.includeRequest = opts.includeRequest ?? true;
  }

  /** The record for a decision as a JSON line (no newline); advances the chain. */
  next(decision: Decision, ctx: { request?: unknown; latencyMs?: number } = {}): string {
    const { policy, request_hash, time, explain: _explain, ...rest } = decision;
    const record: Omit<AuditRecord, 'hash'> = {
      v: AUDIT_FORMAT_VERSION,
      seq: this.seq,
      prev: this.prev,
      time,
      latency_ms: ctx.latencyMs === undefined ? null : Math.round(ctx.latencyMs * 1000) / 1000,
      policy,
      request_hash,
      ...(this.includeRequest && ctx.request !== undefined ? { request: redactCopy(ctx.request, this.redact) } : {}),
      decision: rest,
    };
    const { line, hash } = seal(JSON.stringify(record), this.hashFn);
    this.prev = hash;
    this.seq++;
    return line;
  }

  get head(): { seq: number; hash: string } {
    return { seq: this.seq - 1, hash: this.prev };
  }
}

export interface VerifyProblem {
  /** Which input (file name) and 1-based line. */
  source: string;
  line: number;
  seq: number | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** The first broken record, when not ok. */
  problem?: VerifyProblem;
  /** A final line without a newline that is not a complete record (a crash mid-write): ignored. */
  truncatedTail?: { source: string; line: number };
  head?: { seq: number; hash: string };
}

/**
 * Verifies one chain given as text chunks in order (rotated files oldest first). A broken link, a
 * bad sequence number, a line that is not a record, or a changed line is reported at the first record
 * where it shows. A trailing partial line (no newline, not JSON) is reported as `truncatedTail` and does
 * not fail verification: the log is intact up to the last complete record.
 */
export class ChainVerifier {
  private prev = GENESIS;
  private seq = 0;
  private count = 0;
  private problem?: VerifyProblem;
  private truncated?: { source: string; line: number };
  private last?: { source: string; line: number; seq: number };

  /** `hash`: a faster SHA-256 of a string as `sha256:<hex>` (e.g. node:crypto); default @noble/hashes. */
  constructor(private readonly hashFn: (s: string) => string = lineHash) {}

  /** Feed one file's text. `last` tells whether it is the final chunk (a partial tail is only tolerated there). */
  feed(source: string, text: string, last: boolean): void {
    if (this.problem) return;
    const lines = text.split('\n');
    const endsWithNewline = text.endsWith('\n');
    if (endsWithNewline) lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const lineNo = i + 1;
      const isTail = i === lines.length - 1 && !endsWithNewline;
      let rec: Partial<AuditRecord> | null = null;
      try {
        rec = JSON.parse(line) as Partial<AuditRecord>;
      } catch {
        rec = null;
      }
      if (rec === null || typeof rec !== 'object') {
        if (isTail && last) {
          this.truncated = { source, line: lineNo };
          return;
        }
        this.problem = { source, line: lineNo, seq: null, message: 'line is not a JSON record' };
        return;
      }
      const seal = unseal(line, this.hashFn);
      if (!seal || seal.recorded !== seal.actual) {
        this.problem = { source, line: lineNo, seq: typeof rec.seq === 'number' ? rec.seq : null, message: seal ? 'record was changed: its content does not match its `hash`' : 'record has no `hash`' };
        return;
      }
      if (rec.prev !== this.prev) {
        if (rec.seq === this.seq && this.last) {
          // In sequence, but the previous record is not the one this record chained to: it was rewritten
          // (and re-hashed) after this record was written.
          this.problem = { ...this.last, message: `record was changed: the next record (seq ${this.seq}) chained to a different version of it` };
        } else {
          this.problem = {
            source,
            line: lineNo,
            seq: typeof rec.seq === 'number' ? rec.seq : null,
            message: `chain broken: expected seq ${this.seq} after ${this.count === 0 ? 'the start of the log' : `seq ${this.seq - 1}`}, found seq ${String(rec.seq)} (a record was removed or reordered)`,
          };
        }
        return;
      }
      if (rec.seq !== this.seq) {
        this.problem = { source, line: lineNo, seq: typeof rec.seq === 'number' ? rec.seq : null, message: `sequence broken: \`seq\` is ${String(rec.seq)}, expected ${this.seq}` };
        return;
      }
      this.last = { source, line: lineNo, seq: this.seq };
      this.prev = seal.recorded;
      this.seq++;
      this.count++;
    }
  }

  result(): VerifyResult {
    return {
      ok: !this.problem,
      records: this.count,
      ...(this.problem ? { problem: this.problem } : {}),
      ...(this.truncated ? { truncatedTail: this.truncated } : {}),
      head: { seq: this.seq - 1, hash: this.prev },
    };
  }
}

/** Verifies whole texts (in order). */
export function verifyChain(chunks: { source: string; text: string }[], hash?: (s: string) => string): VerifyResult {
  const v = new ChainVerifier(hash);
  chunks.forEach((c, i) => v.feed(c.source, c.text, i === chunks.length - 1));
  return v.result();
}

/** Parses complete records from log text (skipping a partial tail). */
export function parseRecords(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as AuditRecord);
    } catch {
      /* partial tail */
    }
  }
  return out;
}
