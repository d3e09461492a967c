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

import { sha256HexOf } from '../runtime/sha256.js';
import type { Decision } from '../runtime/decision.js';
import { applyTransforms } from '../runtime/transforms.js';
import { maskedDecision, scrubTexts } from '../runtime/mask-decision.js';

/** The request as logged: with the decision's `redact` transforms applied (the log never keeps
 *  what a policy masked; the decision's `transforms` say what was masked: rule, path, detector,
 *  spans). A request the transforms do not fit is logged as `"[redacted]"`. */
function maskedRequest(request: unknown, d: Decision): unknown {
  if (!d.transforms || d.transforms.length === 0) return request;
  try {
    return applyTransforms(request, d);
  } catch {
    return '[redacted]';
  }
}

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

/**
 * Something a person did that belongs in the log beside the decisions: today a verdict given on a
 * queued approval (the control room's inbox, `POST /v1/approvals/{id}/approve|deny`). Linked to the
 * decision it answers by `request_hash`.
 */
export interface ApprovalVerdictEvent {
  kind: 'approval_verdict';
  verdict: 'approved' | 'denied';
  /** The queued approval's id (`ap_…`). */
  approval_id: string;
  /** The rule or budget that asked, and which of the two it is. */
  rule: string;
  rule_kind: 'rule' | 'budget';
  /** The group the rule requires (`require approval from GROUP`), null for any approver. */
  required_group: string | null;
  /** Who decided (the logged-in user or the API's `approver`), and the group that allowed it. */
  approver: string;
  group: string | null;
  reason: string | null;
}

export type AuditEvent = ApprovalVerdictEvent;

/** An event record: `{ v, seq, prev, time, policy, request_hash, event, hash }` — no `decision`. Same
 *  chain, same self-hash: `rein audit verify` checks it like any record. */
export interface AuditEventRecord {
  v: number;
  seq: number;
  prev: string;
  time: string;
  policy: Decision['policy'] | null;
  request_hash: string | null;
  event: AuditEvent;
  hash: string;
}

/** Whether a parsed line is an event record (not a decision). */
export function isEventRecord(rec: unknown): rec is AuditEventRecord {
  return typeof rec === 'object' && rec !== null && typeof (rec as { event?: unknown }).event === 'object' && (rec as { event?: unknown }).event !== null && (rec as { decision?: unknown }).decision === undefined;
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
  /** Dot paths into the request whose values are replaced by `"[redacted]"` (e.g. `action.text`) in
   *  the logged request, and wherever the record repeats them (messages, warnings, budget keys,
   *  extern arguments and results: every string and number inside the value, as text). */
  redact?: string[];
}

export function lineHash(line: string): string {
  return 'sha256:' + sha256HexOf(line);
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

/** The strings and numbers (as text) at the `redact` paths of a request, nested ones included: what
 *  the record must not repeat anywhere (rule messages and warnings interpolate request fields, budget
 *  keys and extern arguments carry them). */
function redactedTexts(request: unknown, paths: string[][]): string[] {
  const out: string[] = [];
  const collect = (v: unknown, depth: number): void => {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(String(v));
    else if (v !== null && typeof v === 'object' && depth < 64) for (const x of Object.values(v)) collect(x, depth + 1);
  };
  for (const path of paths) {
    let cur: unknown = request;
    for (const k of path) cur = cur !== null && typeof cur === 'object' && Object.prototype.hasOwnProperty.call(cur, k) ? (cur as Record<string, unknown>)[k] : undefined;
    collect(cur, 0);
  }
  return out;
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

  /** `hash`: a faster SHA-256 of a string as `sha256:<hex>` (e.g. node:crypto); default a portable one (runtime/sha256.ts). */
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
    const secret = this.redact.length > 0 && ctx.request !== undefined ? redactedTexts(ctx.request, this.redact) : [];
    const record: Omit<AuditRecord, 'hash'> = {
      v: AUDIT_FORMAT_VERSION,
      seq: this.seq,
      prev: this.prev,
      time,
      latency_ms: ctx.latencyMs === undefined ? null : Math.round(ctx.latencyMs * 1000) / 1000,
      policy,
      request_hash,
      ...(this.includeRequest && ctx.request !== undefined ? { request: scrubTexts(redactCopy(maskedRequest(ctx.request, decision), this.redact), secret) } : {}),
      decision: scrubTexts(maskedDecision(rest, ctx.request, decision), secret, true),
    };
    const { line, hash } = seal(JSON.stringify(record), this.hashFn);
    this.prev = hash;
    this.seq++;
    return line;
  }

  /** The record for an event (no decision) as a JSON line; advances the chain. */
  nextEvent(event: AuditEvent, ctx: { time: string; policy?: Decision['policy'] | null; requestHash?: string | null }): string {
    const record: Omit<AuditEventRecord, 'hash'> = {
      v: AUDIT_FORMAT_VERSION,
      seq: this.seq,
      prev: this.prev,
      time: ctx.time,
      policy: ctx.policy ?? null,
      request_hash: ctx.requestHash ?? null,
      event,
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
  /** Where verification started when it was not the start of the log (`startFrom: 'declared'`): the
   *  first record's seq and the predecessor it declares (not verified: its file was not given). */
  start?: { seq: number; prev: string };
  /** With anchors: how many matched a record, and how many lie before the verified start (not checked). */
  anchors?: { matched: number; beforeStart: number };
}

/** A signed statement that the log's record `seq` had the hash `hash` (see `rein/node` anchoring). The
 *  core checks records against anchors whose signatures were already verified. */
export interface AnchorPoint {
  seq: number;
  hash: string;
  /** For messages: where the anchor came from (e.g. `decisions.anchors.jsonl:12`) and when it was signed. */
  source?: string;
  time?: string;
}

export interface ChainVerifierOptions {
  /** A faster SHA-256 of a string as `sha256:<hex>` (e.g. node:crypto); default a portable one (runtime/sha256.ts). */
  hash?: (s: string) => string;
  /** `genesis` (default): the first record must be seq 0 after GENESIS. `declared`: start from the
   *  first record's declared predecessor (verifying the newest files of a rotated log). */
  startFrom?: 'genesis' | 'declared';
  /** Signed heads: every anchored record must be present with the anchored hash. An anchor past the
   *  end of the log means the log was cut off; a different hash means it was rewritten. */
  anchors?: AnchorPoint[];
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
  private readonly hashFn: (s: string) => string;
  private readonly declared: boolean;
  private start?: { seq: number; prev: string };
  /** Anchors by seq, and the sorted seqs still to meet. */
  private readonly anchorAt = new Map<number, AnchorPoint>();
  private anchorsMatched = 0;
  private anchorsBefore = 0;

  /** `opts`: a hash function (as before) or the options. */
  constructor(opts: ((s: string) => string) | ChainVerifierOptions = {}) {
    const o: ChainVerifierOptions = typeof opts === 'function' ? { hash: opts } : opts;
    this.hashFn = o.hash ?? lineHash;
    this.declared = o.startFrom === 'declared';
    for (const a of o.anchors ?? []) {
      const seen = this.anchorAt.get(a.seq);
      // Two validly signed anchors for one seq with different hashes: the log was rewritten between them.
      if (seen && seen.hash !== a.hash && !this.problem) {
        this.problem = { source: a.source ?? 'anchors', line: 0, seq: a.seq, message: `two anchors sign different hashes for seq ${a.seq} (${seen.source ?? '?'} and ${a.source ?? '?'}): the log was rewritten between them` };
      }
      this.anchorAt.set(a.seq, a);
    }
  }

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
      if (this.count === 0 && this.declared && typeof rec.seq === 'number' && Number.isSafeInteger(rec.seq) && rec.seq >= 0 && typeof rec.prev === 'string') {
        // Start from the first record's declared predecessor (its file is not part of this run).
        this.prev = rec.prev;
        this.seq = rec.seq;
        if (rec.seq !== 0 || rec.prev !== GENESIS) this.start = { seq: rec.seq, prev: rec.prev };
      }
      const seal = unseal(line, this.hashFn);
      if (!seal || seal.recorded !== seal.actual) {
        this.problem = { source, line: lineNo, seq: typeof rec.seq === 'number' ? rec.seq : null, message: seal ? 'record was changed: its content does not match its `hash`' : typeof rec.hash === 'string' ? 'the line is not in the log\'s canonical form (re-serialised: the exact bytes written end with `,"hash":"sha256:…"}`, no spaces), so its `hash` cannot be checked' : 'record has no `hash`' };
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
      const anchor = this.anchorAt.size ? this.anchorAt.get(this.seq) : undefined;
      if (anchor) {
        if (anchor.hash !== seal.recorded) {
          this.problem = { source, line: lineNo, seq: this.seq, message: `record was rewritten: it differs from the one anchored${anchorWhere(anchor)} (the log was rewritten with recomputed hashes)` };
          return;
        }
        this.anchorsMatched++;
      }
      this.last = { source, line: lineNo, seq: this.seq };
      this.prev = seal.recorded;
      this.seq++;
      this.count++;
    }
  }

  result(): VerifyResult {
    if (!this.problem && this.anchorAt.size) {
      const first = this.start ? this.start.seq : 0;
      const headSeq = this.seq - 1;
      let beyond: AnchorPoint | undefined;
      this.anchorsBefore = 0;
      for (const a of this.anchorAt.values()) {
        if (a.seq < first) this.anchorsBefore++;
        else if (a.seq > headSeq && (!beyond || a.seq > beyond.seq)) beyond = a;
      }
      if (beyond) {
        const where = this.last ? { source: this.last.source, line: this.last.line } : { source: beyond.source ?? 'anchors', line: 0 };
        this.problem = {
          ...where,
          seq: headSeq >= 0 ? headSeq : null,
          message: `log was cut off: it ends at seq ${headSeq}, but seq ${beyond.seq} was anchored${anchorWhere(beyond)} (${beyond.seq - headSeq} records missing at the end)`,
        };
      }
    }
    return {
      ok: !this.problem,
      ...(this.start ? { start: this.start } : {}),
      ...(this.anchorAt.size ? { anchors: { matched: this.anchorsMatched, beforeStart: this.anchorsBefore } } : {}),
      records: this.count,
      ...(this.problem ? { problem: this.problem } : {}),
      ...(this.truncated ? { truncatedTail: this.truncated } : {}),
      head: { seq: this.seq - 1, hash: this.prev },
    };
  }
}

function anchorWhere(a: AnchorPoint): string {
  return `${a.time ? ` at ${a.time}` : ''}${a.source ? ` (${a.source})` : ''}`;
}

/** Verifies whole texts (in the order given, from the start of the log). */
export function verifyChain(chunks: { source: string; text: string }[], hash?: (s: string) => string): VerifyResult {
  const v = new ChainVerifier(hash);
  chunks.forEach((c, i) => v.feed(c.source, c.text, i === chunks.length - 1));
  return v.result();
}

/** The first and last complete records' links of one file (null when it has no complete record). */
function endsOf(text: string): { first: { seq: number; prev: string }; last: { seq: number; hash: string } } | null {
  const firstNl = text.indexOf('\n');
  if (firstNl < 0) return null;
  let first: Partial<AuditRecord>;
  try {
    first = JSON.parse(text.slice(0, firstNl)) as Partial<AuditRecord>;
  } catch {
    return null;
  }
  const end = text.lastIndexOf('\n');
  const lastLine = text.slice(text.lastIndexOf('\n', end - 1) + 1, end);
  let last: Partial<AuditRecord>;
  try {
    last = JSON.parse(lastLine) as Partial<AuditRecord>;
  } catch {
    return null;
  }
  if (typeof first.seq !== 'number' || typeof first.prev !== 'string' || typeof last.seq !== 'number' || typeof last.hash !== 'string') return null;
  return { first: { seq: first.seq, prev: first.prev }, last: { seq: last.seq, hash: last.hash } };
}

export interface LogVerifyResult extends VerifyResult {
  /** Each chain found among the files, in chain order (one per log; several when several logs were given). */
  chains: { sources: string[]; result: VerifyResult }[];
}

/**
 * Verifies the files of one or more logs given in ANY order (e.g. a shell glob, which sorts
 * `decisions.10.jsonl` before `decisions.2.jsonl`): files are ordered by their content — a file follows
 * the one whose last record's hash its first record names as `prev` — not by name. One chain may start
 * after the start of the log (the newest files of a rotated log: verification starts from the first
 * record's declared predecessor, reported as `start`). Several chains are accepted only when each starts
 * at the start of its log (several logs, e.g. one per process); otherwise a file is missing in between.
 */
export function verifyLog(chunks: { source: string; text: string }[], opts: Omit<ChainVerifierOptions, 'startFrom'> = {}): LogVerifyResult {
  const files = chunks.map((c) => ({ ...c, ends: endsOf(c.text) }));
  const withRecords = files.filter((f) => f.ends !== null);
  const fail = (problem: VerifyProblem): LogVerifyResult => ({ ok: false, records: 0, problem, chains: [] });
  // Link files: b follows a when b's first record chains to a's last record.
  const byLastHash = new Map<string, (typeof files)[number]>();
  for (const f of withRecords) byLastHash.set(f.ends!.last.hash, f);
  const next = new Map<(typeof files)[number], (typeof files)[number]>();
  const hasPrev = new Set<(typeof files)[number]>();
  for (const f of withRecords) {
    const before = byLastHash.get(f.ends!.first.prev);
    if (!before || before === f || before.ends!.last.seq + 1 !== f.ends!.first.seq) continue;
    const other = next.get(before);
    if (other) return fail({ source: f.source, line: 1, seq: f.ends!.first.seq, message: `chain forks: ${other.source} and ${f.source} both continue ${before.source}` });
    next.set(before, f);
    hasPrev.add(f);
  }
  // Files without a complete record (an empty active file, a lone partial line) go last, as tails.
  const heads = withRecords.filter((f) => !hasPrev.has(f));
  if (heads.length === 0 && withRecords.length > 0) return fail({ source: withRecords[0].source, line: 1, seq: null, message: 'the files form a cycle' });
  const chains: { sources: string[]; result: VerifyResult }[] = [];
  const loose = files.filter((f) => f.ends === null);
  const orderedHeads = heads.sort((a, b) => a.ends!.first.seq - b.ends!.first.seq);
  const notGenesis = orderedHeads.filter((h) => h.ends!.first.seq !== 0 || h.ends!.first.prev !== GENESIS);
  if (orderedHeads.length > 1 && notGenesis.length > 0) {
    const h = notGenesis[notGenesis.length - 1];
    return fail({
      source: h.source,
      line: 1,
      seq: h.ends!.first.seq,
      message: `no given file ends where this one starts (seq ${h.ends!.first.seq} after ${h.ends!.first.prev}): a file is missing in between, or these files belong to different logs`,
    });
  }
  let total = 0;
  for (const h of orderedHeads.length ? orderedHeads : [undefined]) {
    const seq: { source: string; text: string }[] = [];
    for (let f = h; f; f = next.get(f)) seq.push(f);
    if (orderedHeads.length <= 1) seq.push(...loose);
    const v = new ChainVerifier({ ...opts, startFrom: 'declared' });
    seq.forEach((c, i) => v.feed(c.source, c.text, i === seq.length - 1));
    const result = v.result();
    chains.push({ sources: seq.map((c) => c.source), result });
    total += result.records;
  }
  const broken = chains.find((c) => !c.result.ok);
  const main = broken?.result ?? chains[chains.length - 1].result;
  return { ...main, ok: !broken, records: total, chains };
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
