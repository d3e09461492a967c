// The approval queue: pending approvals a human decides (docs/approvals.md). Records live in an
// `ApprovalStore` — a local directory by default (`FileApprovalStore`), Redis for a fleet
// (`RedisApprovalStore`). `ApprovalQueue` adds the rules: who may decide (approver groups), the
// signed token an approval yields (`signApproval`), and waiting for a decision (the MCP gateway
// holds a call on `wait`).

import { randomBytes } from 'node:crypto';
import { appendFile, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomNonce, signApproval, type ApprovalSigningKey } from '../../runtime/approvals.js';
import type { Decision } from '../../runtime/decision.js';
import type { PolicyLike } from '../../runtime/engine.js';
import { hashValue } from '../../runtime/hash.js';
import { mkdirs } from '../mkdirs.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** What an approver decided. */
export interface ApprovalVerdict {
  approved: boolean;
  by: string;
  /** The approver's group that allowed the decision (the rule's `from`, else the approver's first group). */
  group: string | null;
  reason: string | null;
  at: string;
  /** The signed approval token (only for an approval, and only when the queue has a signing key). */
  token: string | null;
  /** With a quorum: every approver's vote that made it (each with its own token); `token` is the last. */
  votes?: ApprovalVerdict[];
  /** A quorum vote's own id: of one approver's concurrent votes, the first stored counts, and the
   *  others (told apart by it) are refused. */
  vote_id?: string;
}

/** One pending approval (INTERFACES §7: `{ id, rule, from, message, request_hash, summary, created, expires }`). */
export interface ApprovalRecord {
  id: string;
  /** `rule` or `budget`. */
  kind: 'rule' | 'budget';
  /** The rule or budget that asks for approval. */
  rule: string;
  /** The group that must approve (`require approval from GROUP`), null for any approver. */
  from: string | null;
  message: string | null;
  request_hash: string;
  policy: { name: string; version: string | null; hash: string };
  /** What exactly will run (the request, or the tool and its arguments for the MCP gateway), in the
   *  words of the process that queued it. */
  summary: unknown;
  /** The request itself as the engine hashed it (validated: money in micros, times in epoch ms), when
   *  the caller passed it: `verifyRecord` recomputes `request_hash` from it, so what the inbox shows
   *  as "what will run" is bound to what the token approves (review h12r1 P14). */
  request?: unknown;
  created: string;
  expires: string;
  /** `pending` until decided; `expired` after `expires` without a verdict. */
  status: ApprovalStatus;
  verdict?: ApprovalVerdict;
  /** `require approval … quorum N` (N > 1): distinct approvers needed. */
  quorum?: number;
  /** `require approval … expires D`: a vote counts for this long (ms) after it is given. */
  expires_ms?: number;
  /** With a quorum: the approvals given so far (one per approver, first vote wins), before the verdict. */
  votes?: ApprovalVerdict[];
}

/** Where records live. `decide` is atomic: the first verdict wins. */
export interface ApprovalStore {
  create(rec: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | null>;
  /** Every record still kept (pending, decided and expired ones, newest first). */
  list(): Promise<ApprovalRecord[]>;
  /** Writes the verdict unless one exists: `ok`, `decided` (another verdict was first) or `unknown`. */
  decide(id: string, verdict: ApprovalVerdict): Promise<'ok' | 'decided' | 'unknown'>;
  /** Records one approver's approval toward a quorum (`get` then lists it under `votes`; a second
   *  vote of the same approver is ignored there). Needed only for rules with `quorum`. */
  vote?(id: string, vote: ApprovalVerdict): Promise<'ok' | 'unknown'>;
  close?(): Promise<void>;
}

/** Approver groups: group → approver identities. */
export type ApproverGroups = Record<string, readonly string[]>;

const ID_RE = /^ap_[0-9a-z]{10,40}$/;
/** Decided and expired records are kept this long past their expiry, then removed. */
const KEEP_MS = 7 * 24 * 60 * 60_000;

/** Whether `id` is a well-formed approval id (ids come from untrusted input: CLI, HTTP). */
export function isApprovalId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}

function newId(): string {
  return 'ap_' + BigInt('0x' + randomBytes(10).toString('hex')).toString(36).padStart(16, '0');
}

/** The status at `now` (a pending record past its expiry is `expired`). */
function withStatus(rec: ApprovalRecord, now: number): ApprovalRecord {
  if (rec.verdict) return { ...rec, status: rec.verdict.approved ? 'approved' : 'denied' };
  return { ...rec, status: Date.parse(rec.expires) <= now ? 'expired' : 'pending' };
}

// ---------------------------------------------------------------- file store

/**
 * One directory: `ID.json` (the request, written once) and `ID.verdict.json` (created exclusively —
 * `O_CREAT|O_EXCL` — so two approvers racing cannot both decide). Several processes on one host
 * (the gateway, `rein approvals`, `rein serve`) share it.
 */
export class FileApprovalStore implements ApprovalStore {
  constructor(readonly dir: string) {}

  private async ensure(): Promise<void> {
    mkdirs(this.dir, 0o700);
  }

  async create(rec: ApprovalRecord): Promise<void> {
    if (!isApprovalId(rec.id)) throw new TypeError(`bad approval id ${rec.id}`);
    await this.ensure();
    const { status: _s, verdict: _v, ...body } = rec;
    const tmp = join(this.dir, `.${rec.id}.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(body) + '\n', { mode: 0o600 });
    await rename(tmp, join(this.dir, `${rec.id}.json`));
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    if (!isApprovalId(id)) return null;
    const rec = await readJson<ApprovalRecord>(join(this.dir, `${id}.json`));
    if (rec === null) return null;
    const verdict = await readJson<ApprovalVerdict>(join(this.dir, `${id}.verdict.json`));
    const votes = rec.quorum !== undefined ? await readVotes(join(this.dir, `${id}.votes.jsonl`)) : [];
    return { ...rec, status: 'pending', ...(verdict ? { verdict } : {}), ...(votes.length > 0 ? { votes } : {}) };
  }

  /** One line appended (`O_APPEND`: concurrent votes never interleave); duplicates are dropped on read. */
  async vote(id: string, vote: ApprovalVerdict): Promise<'ok' | 'unknown'> {
    if ((await this.get(id)) === null) return 'unknown';
    await appendFile(join(this.dir, `${id}.votes.jsonl`), JSON.stringify(vote) + '\n', { mode: 0o600 });
    return 'ok';
  }

  async list(): Promise<ApprovalRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const ids = names.filter((n) => n.endsWith('.json') && !n.endsWith('.verdict.json')).map((n) => n.slice(0, -5)).filter(isApprovalId);
    const recs = (await Promise.all(ids.map((id) => this.get(id)))).filter((r): r is ApprovalRecord => r !== null);
    // Records are kept 7 days past their expiry (as in Redis), then removed.
    const cutoff = Date.now() - KEEP_MS;
    const old = recs.filter((r) => Date.parse(r.expires) < cutoff);
    for (const r of old) {
      await rm(join(this.dir, `${r.id}.votes.jsonl`), { force: true });
      await rm(join(this.dir, `${r.id}.verdict.json`), { force: true });
      await rm(join(this.dir, `${r.id}.json`), { force: true });
    }
    return (old.length ? recs.filter((r) => !old.includes(r)) : recs).sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  async decide(id: string, verdict: ApprovalVerdict): Promise<'ok' | 'decided' | 'unknown'> {
    if ((await this.get(id)) === null) return 'unknown';
    try {
      const fh = await open(join(this.dir, `${id}.verdict.json`), 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(verdict) + '\n');
      } finally {
        await fh.close();
      }
      return 'ok';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'decided';
      throw e;
    }
  }
}

/** The votes of a quorum record, first vote per approver (a torn last line is skipped). */
async function readVotes(file: string): Promise<ApprovalVerdict[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: ApprovalVerdict[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as ApprovalVerdict);
    } catch {
      // a vote being written: read as absent for that instant
    }
  }
  return distinctVotes(out);
}

/** The first vote of each approver. */
export function distinctVotes(votes: readonly ApprovalVerdict[]): ApprovalVerdict[] {
  const seen = new Set<string>();
  return votes.filter((v) => v && typeof v.by === 'string' && !seen.has(v.by) && (seen.add(v.by), true));
}

async function readJson<T>(file: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // A verdict file is created empty and then written: read as absent for that instant.
    return null;
  }
}

// ---------------------------------------------------------------- the queue

export interface ApprovalQueueOptions {
  store: ApprovalStore;
  /** Who may approve what. Absent: a rule naming a `from` group cannot be decided (fail closed);
   *  a rule without `from` can be decided by anyone. */
  groups?: ApproverGroups;
  /** Signs a token for every approval (single use: with a nonce). Absent: approvals carry no token
   *  and only an engine without `approvalKeys` (trusted callers) accepts them. */
  signingKey?: ApprovalSigningKey;
  /** How long a pending approval waits for a human (default 15 minutes). */
  ttlMs?: number;
  clock?: () => number;
  /** Refuse to approve a record that carries no `request` (`verifyRecord` → `missing`), not only one
   *  whose request does not match its hash (always refused). Default false: records queued by callers
   *  that do not pass the request stay approvable (their summary is the queue writer's word). */
  requireVerified?: boolean;
  /** Called after every verdict (e.g. to write it to a log). Errors are ignored. */
  onVerdict?: (rec: ApprovalRecord) => void | Promise<void>;
}

export type DecideOutcome =
  | { ok: true; record: ApprovalRecord }
  | { ok: false; code: 'unknown' | 'forbidden' | 'decided' | 'expired' | 'invalid' | 'unverified'; message: string; record?: ApprovalRecord };

/** The approvals a held request needs, and the result of waiting for them. */
export interface WaitResult {
  status: 'approved' | 'denied' | 'expired' | 'timeout';
  records: ApprovalRecord[];
  /** For `approved`: what to pass as `decide(request, { approvals })` — tokens when the queue signs,
   *  else `{ rule, request_hash, approver, group, at }` (trusted callers); one per vote with a quorum. */
  approvals: ({ rule: string; request_hash: string; approver?: string; group?: string | null; at?: number } | string)[];
}

/** What an approved record grants: its token(s), or trusted grants naming each approver and time
 *  (one per vote for a quorum). */
export function grantsOf(r: ApprovalRecord): WaitResult['approvals'] {
  const v = r.verdict;
  if (!v) return [];
  const votes = v.votes && v.votes.length > 0 ? v.votes : [v];
  return votes.map((x) => x.token ?? { rule: r.rule, request_hash: r.request_hash, approver: x.by, group: x.group, at: Date.parse(x.at) });
}

const DEFAULT_TTL = 15 * 60_000;

/** Whether a record's `request` is the request its `request_hash` is of: `verified`; `mismatch`
 *  (another request than the token would approve: never approved); `missing` (no request stored: an
 *  older record, or a caller that did not pass it — what it shows is what the queue's writer says). */
export type RecordCheck = 'verified' | 'mismatch' | 'missing';

export function verifyRecord(r: Pick<ApprovalRecord, 'request' | 'request_hash'>): RecordCheck {
  if (r.request === undefined) return 'missing';
  let h: string | null;
  try {
    h = hashValue(r.request);
  } catch {
    h = null;
  }
  return h !== null && h === r.request_hash ? 'verified' : 'mismatch';
}

/** The request as the engine hashed it, when `request` (given `policy`: validated by it) hashes to
 *  `hash`; else undefined (the record is then `missing`). */
function hashedRequest(hash: string, request: unknown, policy: PolicyLike | undefined): unknown {
  try {
    let v: unknown = request;
    if (policy) {
      const r = policy.compiled.validate(request);
      if (!r.ok) return undefined;
      v = r.value;
    }
    // stored as JSON: the hash of what is read back is what counts
    const plain: unknown = JSON.parse(JSON.stringify(v));
    return hashValue(plain) === hash ? plain : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a stored record has what a verdict needs (a record is data another process wrote). */
export function wellFormed(r: ApprovalRecord): boolean {
  return (
    typeof r.request_hash === 'string' && r.request_hash !== '' &&
    typeof r.rule === 'string' &&
    (r.from === null || typeof r.from === 'string') &&
    typeof r.expires === 'string' && !Number.isNaN(Date.parse(r.expires)) &&
    r.policy !== null && typeof r.policy === 'object' && typeof r.policy.hash === 'string'
  );
}

export class ApprovalQueue {
  readonly store: ApprovalStore;
  private readonly groups: ApproverGroups | null;
  private readonly signingKey: ApprovalSigningKey | null;
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly onVerdict?: ApprovalQueueOptions['onVerdict'];
  private readonly requireVerified: boolean;

  constructor(opts: ApprovalQueueOptions) {
    this.store = opts.store;
    this.groups = opts.groups ?? null;
    this.signingKey = opts.signingKey ?? null;
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL;
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs <= 0) throw new RangeError('ApprovalQueue: ttlMs must be a positive integer');
    this.clock = opts.clock ?? Date.now;
    this.onVerdict = opts.onVerdict;
    this.requireVerified = opts.requireVerified === true;
  }

  /** One pending record per approval the decision still needs (none unless it is `require_approval`).
   *  `opts.request`: the request decided (with `opts.policy`, the engine's policy, to validate it as
   *  the engine did): stored when it hashes to the decision's `request_hash`, so the inbox can show it
   *  verified. */
  async request(decision: Decision, summary: unknown, opts: { ttlMs?: number; request?: unknown; policy?: PolicyLike } = {}): Promise<ApprovalRecord[]> {
    if (decision === null || typeof decision !== 'object' || decision.effect !== 'require_approval') return [];
    // `request_hash` is a getter of the decision `decide` returned: `{ ...d }`, `Object.assign` and
    // `structuredClone` drop it. A record without it could never be approved (review h12r1 P13).
    const hash: unknown = decision.request_hash;
    if (hash === null) return [];
    if (typeof hash !== 'string' || hash === '') {
      throw new TypeError('ApprovalQueue.request: the decision has no `request_hash`: pass the decision engine.decide returned, not a copy ({ ...d } and structuredClone drop it)');
    }
    const now = this.clock();
    const ttl = opts.ttlMs ?? this.ttlMs;
    const request = opts.request === undefined ? undefined : hashedRequest(hash, opts.request, opts.policy);
    const out: ApprovalRecord[] = [];
    for (const a of decision.approvals) {
      const rec: ApprovalRecord = {
        id: newId(),
        kind: a.kind,
        rule: a.name,
        from: a.from,
        message: a.message,
        ...(a.quorum !== undefined ? { quorum: a.quorum } : {}),
        ...(a.expires_ms !== undefined ? { expires_ms: a.expires_ms } : {}),
        request_hash: hash,
        policy: { name: decision.policy.name, version: decision.policy.version ?? null, hash: decision.policy.hash },
        summary,
        ...(request !== undefined ? { request } : {}),
        created: new Date(now).toISOString(),
        expires: new Date(now + ttl).toISOString(),
        status: 'pending',
      };
      await this.store.create(rec);
      out.push(rec);
    }
    return out;
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    const r = await this.store.get(id);
    return r === null ? null : withStatus(r, this.clock());
  }

  /** Records by status (default: pending only), newest first. */
  async list(status: ApprovalStatus | 'all' = 'pending'): Promise<ApprovalRecord[]> {
    const now = this.clock();
    const all = (await this.store.list()).map((r) => withStatus(r, now));
    return status === 'all' ? all : all.filter((r) => r.status === status);
  }

  /** The groups `approver` belongs to. */
  groupsOf(approver: string): string[] {
    if (this.groups === null) return [];
    return Object.keys(this.groups).filter((g) => this.groups![g]!.includes(approver));
  }

  /** Whether `approver` may decide `rec`, and as which group. */
  authorize(rec: Pick<ApprovalRecord, 'from' | 'rule'>, approver: string): { ok: true; group: string | null } | { ok: false; message: string } {
    if (rec.from !== null) {
      if (this.groups === null) return { ok: false, message: `\`${rec.rule}\` needs an approver from \`${rec.from}\`, and no approver groups are configured` };
      if (!(this.groups[rec.from] ?? []).includes(approver)) return { ok: false, message: `${approver} is not in the approver group \`${rec.from}\` that \`${rec.rule}\` requires` };
      return { ok: true, group: rec.from };
    }
    if (this.groups === null) return { ok: true, group: null };
    const gs = this.groupsOf(approver);
    if (gs.length === 0) return { ok: false, message: `${approver} is not in any approver group` };
    return { ok: true, group: gs[0]! };
  }

  approve(id: string, approver: string, reason?: string | null): Promise<DecideOutcome> {
    return this.decide(id, approver, true, reason ?? null);
  }

  deny(id: string, approver: string, reason?: string | null): Promise<DecideOutcome> {
    return this.decide(id, approver, false, reason ?? null);
  }

  private async decide(id: string, approver: string, approved: boolean, reason: string | null): Promise<DecideOutcome> {
    if (typeof approver !== 'string' || approver.trim() === '' || approver.length > 200) return { ok: false, code: 'invalid', message: 'the approver must be a non-empty name (≤ 200 characters)' };
    if (reason !== null && (typeof reason !== 'string' || reason.length > 2000)) return { ok: false, code: 'invalid', message: 'the reason must be text (≤ 2000 characters)' };
    if (!isApprovalId(id)) return { ok: false, code: 'unknown', message: `no approval with id ${JSON.stringify(String(id).slice(0, 60))}` };
    const rec = await this.get(id);
    if (rec === null) return { ok: false, code: 'unknown', message: `no approval with id ${id}` };
    if (!wellFormed(rec)) return { ok: false, code: 'invalid', message: `approval ${id} is malformed (no \`request_hash\`, rule or expiry): it cannot be decided`, record: rec };
    const auth = this.authorize(rec, approver);
    if (!auth.ok) return { ok: false, code: 'forbidden', message: auth.message, record: rec };
    // Never sign for a request other than the one shown (a denial is always possible).
    const check = verifyRecord(rec);
    if (approved && (check === 'mismatch' || (check === 'missing' && this.requireVerified))) {
      return {
        ok: false,
        code: 'unverified',
        message: check === 'mismatch' ? `approval ${id} is unverified: the request it shows does not match its request_hash (it would approve another request)` : `approval ${id} is unverified: the record carries no request to check its request_hash against`,
        record: rec,
      };
    }
    if (rec.status !== 'pending') {
      return rec.status === 'expired'
        ? { ok: false, code: 'expired', message: `approval ${id} expired at ${rec.expires}`, record: rec }
        : { ok: false, code: 'decided', message: `approval ${id} was already ${rec.status} by ${rec.verdict?.by}`, record: rec };
    }
    if (approved && (rec.quorum ?? 1) > 1) return this.vote(rec, approver, auth.group, reason);
    const now = this.clock();
    const token = approved ? this.tokenFor(rec, approver, auth.group, now) : null;
    const verdict: ApprovalVerdict = { approved, by: approver, group: auth.group, reason, at: new Date(now).toISOString(), token };
    return this.finish(rec, verdict);
  }

  /** The signed token of one approver's approval of `rec` (null without a signing key). */
  private tokenFor(rec: ApprovalRecord, approver: string, group: string | null, now: number): string | null {
    if (this.signingKey === null) return null;
    return signApproval(
      { request_hash: rec.request_hash, rule: rec.rule, approver, group, policy_hash: rec.policy.hash, iat: now, exp: Date.parse(rec.expires), nonce: randomNonce() },
      this.signingKey,
    );
  }

  /** The votes that still count at `now`: one per approver, not older than the rule's `expires`. */
  private liveVotes(rec: ApprovalRecord, now: number): ApprovalVerdict[] {
    const x = rec.expires_ms;
    return distinctVotes(rec.votes ?? []).filter((v) => v.approved && (x === undefined || now < Date.parse(v.at) + x));
  }

  /**
   * One approver's approval of a record with a quorum: recorded as a vote (with its own token); the
   * vote that brings the distinct, unexpired votes to the quorum writes the verdict (carrying all the
   * votes). Until then the record stays `pending` and lists its `votes`.
   */
  private async vote(rec: ApprovalRecord, approver: string, group: string | null, reason: string | null): Promise<DecideOutcome> {
    const id = rec.id;
    if (!this.store.vote) return { ok: false, code: 'invalid', message: `\`${rec.rule}\` needs ${rec.quorum} approvers, and this approval store cannot count votes`, record: rec };
    const now = this.clock();
    if (this.liveVotes(rec, now).some((v) => v.by === approver))
      return { ok: false, code: 'decided', message: `${approver} already approved ${id}; \`${rec.rule}\` needs ${rec.quorum} distinct approvers`, record: rec };
    const mine: ApprovalVerdict = { approved: true, by: approver, group, reason, at: new Date(now).toISOString(), token: this.tokenFor(rec, approver, group, now), vote_id: randomNonce() };
    if ((await this.store.vote(id, mine)) === 'unknown') return { ok: false, code: 'unknown', message: `no approval with id ${id}` };
    const again = await this.get(id);
    if (again === null) return { ok: false, code: 'unknown', message: `no approval with id ${id}` };
    // Concurrent votes by one approver all pass the check above; the first one stored counts, and the
    // others are refused like any second vote (review h13r1 S11).
    const x = rec.expires_ms;
    const counted = (again.votes ?? []).find((v) => v.by === approver && (x === undefined || now < Date.parse(v.at) + x));
    if (counted && (counted.vote_id ?? JSON.stringify(counted)) !== (counted.vote_id === undefined ? JSON.stringify(mine) : mine.vote_id))
      return { ok: false, code: 'decided', message: `${approver} already approved ${id}; \`${rec.rule}\` needs ${rec.quorum} distinct approvers`, record: again };
    if (again.status !== 'pending') return { ok: false, code: 'decided', message: `approval ${id} was already ${again.status}`, record: again };
    const live = this.liveVotes(again, now);
    if (live.length < (rec.quorum ?? 1)) return { ok: true, record: again };
    const verdict: ApprovalVerdict = { ...mine, votes: live };
    return this.finish(again, verdict);
  }

  /** Writes `verdict` (first verdict wins) and tells `onVerdict`. */
  private async finish(rec: ApprovalRecord, verdict: ApprovalVerdict): Promise<DecideOutcome> {
    const id = rec.id;
    const approved = verdict.approved;
    const r = await this.store.decide(id, verdict);
    if (r === 'unknown') return { ok: false, code: 'unknown', message: `no approval with id ${id}` };
    if (r === 'decided') {
      const again = await this.get(id);
      return { ok: false, code: 'decided', message: `approval ${id} was already ${again?.status ?? 'decided'}`, ...(again ? { record: again } : {}) };
    }
    const done: ApprovalRecord = { ...rec, status: approved ? 'approved' : 'denied', verdict };
    if (this.onVerdict) {
      try {
        await this.onVerdict(done);
      } catch {
        // a failing hook never undoes a verdict
      }
    }
    return { ok: true, record: done };
  }

  /**
   * Waits until every record is approved (→ `approved`), any is denied (→ `denied`), any expires
   * (→ `expired`), or `timeoutMs` passes (→ `timeout`). Polls the store every `pollMs` (default
   * 100 ms; bounded by the timeout), so it works across processes and hosts.
   */
  async wait(ids: string[], opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<WaitResult> {
    const deadline = Date.now() + Math.max(0, opts.timeoutMs);
    const pollMs = Math.max(10, opts.pollMs ?? 100);
    for (;;) {
      const recs: ApprovalRecord[] = [];
      for (const id of ids) {
        const r = await this.get(id);
        if (r === null) return { status: 'expired', records: recs, approvals: [] };
        recs.push(r);
      }
      if (recs.some((r) => r.status === 'denied')) return { status: 'denied', records: recs, approvals: [] };
      if (recs.some((r) => r.status === 'expired')) return { status: 'expired', records: recs, approvals: [] };
      if (recs.every((r) => r.status === 'approved')) {
        return {
          status: 'approved',
          records: recs,
          approvals: recs.flatMap(grantsOf),
        };
      }
      const left = deadline - Date.now();
      if (left <= 0 || opts.signal?.aborted) return { status: 'timeout', records: recs, approvals: [] };
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(pollMs, left));
        function done() {
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        }
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
