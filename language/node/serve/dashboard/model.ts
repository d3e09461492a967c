// The control room's model: decision-log records aggregated incrementally, in bounded memory
// (docs/control-room.md). Every structure here is capped: per-minute buckets (24 h), per-day buckets
// (3 days), policy versions (8), budget keys (5,000), rules (2,000), recent decisions (200), errors
// (50). Nothing keeps a record after it was counted; drill-downs re-read the log (`LogSource`).

import { isEventRecord, type AuditEventRecord, type AuditRecord } from '../../../audit/record.js';

export type EffectName = 'allow' | 'deny' | 'require_approval';

/** Latency histogram: log-spaced buckets from 1 µs to ~17 s (ratio 1.25), counts in a Uint32Array. */
const H_BUCKETS = 76;
const H_BASE = 0.001; // ms
const H_LOG = Math.log(1.25);
/** The latency histogram's bucket of a value in ms (the log index keeps it per record). */
export const LATENCY_BUCKETS = H_BUCKETS;
export function bucketOf(ms: number): number {
  if (!(ms > H_BASE)) return 0;
  return Math.min(H_BUCKETS - 1, 1 + Math.floor(Math.log(ms / H_BASE) / H_LOG));
}
function bucketValue(i: number): number {
  return i === 0 ? H_BASE : H_BASE * Math.pow(1.25, i);
}
export class Histogram {
  readonly counts = new Uint32Array(H_BUCKETS);
  n = 0;
  add(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.n++;
  }
  /** Adds the counts of another histogram's buckets (`counts[i]` values in bucket i). */
  addCounts(counts: ArrayLike<number>, from = 0): void {
    for (let i = 0; i < H_BUCKETS; i++) {
      const c = counts[from + i]!;
      if (c === 0) continue;
      this.counts[i]! += c;
      this.n += c;
    }
  }
  /** The upper edge of the bucket holding quantile q (0..1); null when empty. */
  quantile(q: number): number | null {
    if (this.n === 0) return null;
    const target = Math.max(1, Math.ceil(q * this.n));
    let acc = 0;
    for (let i = 0; i < H_BUCKETS; i++) {
      acc += this.counts[i]!;
      if (acc >= target) return bucketValue(i);
    }
    return bucketValue(H_BUCKETS - 1);
  }
}

interface EffectCounts {
  n: number;
  allow: number;
  deny: number;
  require_approval: number;
  errors: number;
}
const newCounts = (): EffectCounts => ({ n: 0, allow: 0, deny: 0, require_approval: 0, errors: 0 });

interface MinuteBucket extends EffectCounts {
  minute: number;
  lat: Histogram;
}

interface PeriodStats extends EffectCounts {
  /** rule → how often it matched (reasons, approvals, warnings) in the period. */
  rules: Map<string, number>;
}

export interface RuleStats {
  name: string;
  kind: 'rule' | 'budget' | 'default' | 'error';
  deny: number;
  require_approval: number;
  warn: number;
  allow: number;
  monitored: number;
  lastSeq: number;
}

export interface CeilingState {
  name: string;
  key: unknown[];
  limit: number;
  spent: number;
  reserved: number;
  window: { start: string; end: string } | null;
  unit: 'money' | 'number';
  firstT: number;
  firstUsed: number;
  lastT: number;
  lastUsed: number;
  lastSeq: number;
}

export interface DecisionSummary {
  seq: number;
  chain: string;
  time: string;
  effect: EffectName;
  rules: string[];
  latency_ms: number | null;
  policy: string;
  errors: number;
  request_hash: string | null;
  /** The request's fields the filters use (agent, team, tool, model), when present. */
  tags: Record<string, string>;
}

/** An approval verdict from the log (an event record, docs/control-room.md). */
export interface VerdictSummary {
  seq: number;
  chain: string;
  time: string;
  verdict: 'approved' | 'denied';
  approval_id: string;
  rule: string;
  approver: string;
  group: string | null;
  reason: string | null;
  request_hash: string | null;
  /** Set on a verdict event found in a chain neither the control room nor `rein approvals` writes
   *  (e.g. an agent's own decision log): anyone who can write a log can write such an event, so it is
   *  shown as "claimed by chain X" and not counted (review h12r1 P15). */
  claimed?: true;
}

/** The chains whose verdict events count, by name, for sources that name chains only (a Redis
 *  stream): those `rein serve` (`control-room-…`) and `rein approvals` (`approvals-…`) write. Log
 *  files are judged by their path (LogSource `verdictFiles`). */
export function verdictChainName(chain: string): boolean {
  return chain.startsWith('control-room-') || chain.startsWith('approvals-');
}

const MAX_VERDICTS = 100;
/** Request hashes whose verdicts are kept for the record view (the oldest are dropped). */
const MAX_VERDICT_HASHES = 5000;
const MAX_MINUTES = 24 * 60;
const MAX_DAYS = 3;
const MAX_POLICIES = 8;
const MAX_CEILINGS = 5000;
const MAX_RULES = 2000;
const MAX_RECENT = 200;
const MAX_ERRORS = 50;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Request paths the dashboard offers as filters (the first one present in a record wins). */
export const FILTER_PATHS: Record<string, string[][]> = {
  agent: [['agent', 'id'], ['agent', 'name'], ['agent'], ['client', 'name']],
  team: [['agent', 'team'], ['team']],
  tool: [['action', 'tool'], ['tool', 'name'], ['tool']],
  // `model: { provider, id }` is how rein/ai and rein/openai-agents name a model (docs/sdk.md)
  model: [['action', 'model'], ['action', 'model', 'id'], ['model'], ['model', 'id'], ['cost', 'model']],
};

function at(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** The filterable tags of a request (strings or numbers only). */
export function tagsOf(request: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (request === undefined || request === null) return out;
  for (const [tag, paths] of Object.entries(FILTER_PATHS)) {
    for (const p of paths) {
      const v = at(request, p);
      if (typeof v === 'string' || typeof v === 'number') {
        out[tag] = String(v);
        break;
      }
    }
  }
  return out;
}

/** A filter over records: tag values and/or a policy version or hash. */
export interface RecordFilter {
  agent?: string;
  team?: string;
  tool?: string;
  model?: string;
  /** Policy version or hash. */
  policy?: string;
  effect?: EffectName;
  /** Matched rule or budget name (in reasons, approvals, warnings or monitored). */
  rule?: string;
}

export function matchesFilter(rec: AuditRecord, f: RecordFilter, tags?: Record<string, string>): boolean {
  if (f.effect !== undefined && rec.decision?.effect !== f.effect) return false;
  if (f.policy !== undefined && rec.policy?.version !== f.policy && rec.policy?.hash !== f.policy) return false;
  if (f.agent !== undefined || f.team !== undefined || f.tool !== undefined || f.model !== undefined) {
    const t = tags ?? tagsOf(rec.request);
    for (const k of ['agent', 'team', 'tool', 'model'] as const) if (f[k] !== undefined && t[k] !== f[k]) return false;
  }
  if (f.rule !== undefined && !namesOf(rec).includes(f.rule)) return false;
  return true;
}

/** The rules and budgets a record names (reasons, approvals, warnings, monitored), each once. */
function namesOf(rec: AuditRecord): string[] {
  const d = rec.decision;
  const out: string[] = [];
  if (d === undefined && isEventRecord(rec)) return typeof rec.event.rule === 'string' ? [rec.event.rule] : [];
  const add = (n: unknown) => {
    if (typeof n === 'string' && !out.includes(n)) out.push(n);
  };
  for (const list of [d?.reasons, d?.approvals, d?.warnings, d?.monitored]) if (Array.isArray(list)) for (const r of list) if (r) add(r.name);
  return out;
}

type RuleField = 'deny' | 'require_approval' | 'warn' | 'allow' | 'monitored';

/** The rules a decision names, as the counts need them: each name once (`names`), and which count of
 *  which rule it adds to (`bumps`). Records with the same rules share one (interned by the index). */
export interface RuleSet {
  names: string[];
  bumps: [name: string, kind: RuleStats['kind'], field: RuleField][];
}

/** One decision as `DashboardModel.count` needs it. */
export interface CountRow {
  /** The time (epoch ms); for `k` rows counted at once, the last one's, and `t0` the first one's. */
  t: number;
  t0?: number;
  effect: EffectName;
  errors: number;
  lat: number | null;
  set: RuleSet;
  policy: PolicyRef;
  seq: number;
}

export interface PolicyRef {
  hash: string;
  name: string;
  version: string | null;
}

/** The rule set of a decision record (the effect must be valid). */
export function ruleSetOf(rec: AuditRecord): RuleSet {
  const d = rec.decision;
  const effect = d.effect;
  const bumps: RuleSet['bumps'] = [];
  const bump = (r: { name?: string; kind?: string } | undefined, field: RuleField) => {
    if (r && typeof r.name === 'string') bumps.push([r.name, (r.kind as RuleStats['kind']) ?? 'rule', field]);
  };
  if (Array.isArray(d.reasons)) for (const r of d.reasons) bump(r, effect === 'require_approval' ? 'require_approval' : effect);
  if (effect !== 'require_approval' && Array.isArray(d.approvals)) for (const a of d.approvals) bump(a, 'require_approval');
  if (Array.isArray(d.warnings)) for (const w of d.warnings) bump(w, 'warn');
  if (Array.isArray(d.monitored)) for (const m of d.monitored) bump(m, 'monitored');
  return { names: namesOf(rec), bumps };
}

/** A record's policy as the counts key it. */
export function policyOf(rec: AuditRecord): PolicyRef {
  return { hash: rec.policy?.hash ?? 'unknown', name: rec.policy?.name ?? '', version: rec.policy?.version ?? null };
}

/** What the live table shows of one record. */
export function summarize(rec: AuditRecord, chain: string): DecisionSummary {
  const d = rec.decision;
  return {
    seq: typeof rec.seq === 'number' ? rec.seq : -1,
    chain,
    time: rec.time,
    effect: d.effect,
    rules: namesOf(rec).slice(0, 8),
    latency_ms: typeof rec.latency_ms === 'number' ? rec.latency_ms : null,
    policy: rec.policy?.version ?? rec.policy?.hash?.slice(0, 19) ?? '',
    errors: Array.isArray(d.errors) ? d.errors.length : 0,
    request_hash: rec.request_hash ?? null,
    tags: tagsOf(rec.request),
  };
}

/** Money strings (`"12.300000"`) and numbers to a number (micro precision is enough for charts). */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  return 0;
}

function evictOldest<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) {
    const k = m.keys().next().value as K;
    m.delete(k);
  }
}

export interface SummaryOptions {
  /** Drift: how far (percentage points of all decisions) a rule's hit rate may move before it is flagged. Default 5. */
  driftThreshold?: number;
  /** Drift baseline: `day` (the previous day) or `policy` (the previous policy hash). Default `day`. */
  baseline?: 'day' | 'policy';
  now?: number;
}

/** Aggregates of a stream of decision records. */
export class DashboardModel {
  readonly totals = newCounts();
  readonly latency = new Histogram();
  private readonly minutes = new Map<number, MinuteBucket>();
  private readonly days = new Map<number, PeriodStats>();
  private readonly policies = new Map<string, PeriodStats & { hash: string; name: string; version: string | null; firstT: number; lastT: number }>();
  readonly rules = new Map<string, RuleStats>();
  private readonly ceilings = new Map<string, CeilingState>();
  private readonly recentRecs: { rec: AuditRecord; chain: string }[] = new Array(MAX_RECENT);
  private recentAt = 0;
  private recentCount = 0;
  readonly errors: { seq: number; chain: string; time: string; message: string }[] = [];
  /** Listeners of new decisions (SSE). */
  private readonly listeners = new Set<(d: DecisionSummary) => void>();
  private readonly verdictListeners = new Set<(v: VerdictSummary) => void>();
  /** The newest approval verdicts (event records), newest last. */
  readonly verdicts: VerdictSummary[] = [];
  readonly verdictCounts = { approved: 0, denied: 0 };
  /** Verdict events from chains that do not write verdicts (`claimed`): listed on their request, never counted. */
  claimedVerdicts = 0;
  /** request hash → the verdicts given on it (what the record view of a held decision shows). */
  private readonly verdictsByRequest = new Map<string, VerdictSummary[]>();
  /** The time of the last decision counted (epoch ms), NaN before the first. */
  lastT = NaN;
  private lastPolicy: (PeriodStats & { hash: string; name: string; version: string | null; firstT: number; lastT: number }) | null = null;
  private lastMinute: MinuteBucket | null = null;
  private lastDay: PeriodStats | null = null;
  private lastDayKey = NaN;
  get lastTime(): string | null {
    return Number.isNaN(this.lastT) ? null : new Date(this.lastT).toISOString();
  }
  /** Records that were not decision records (counted, not aggregated). */
  skipped = 0;

  onDecision(fn: (d: DecisionSummary) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onVerdict(fn: (v: VerdictSummary) => void): () => void {
    this.verdictListeners.add(fn);
    return () => this.verdictListeners.delete(fn);
  }

  /** The verdicts given on a request (by its hash), oldest first. */
  verdictsFor(requestHash: string | null | undefined): VerdictSummary[] {
    return requestHash ? (this.verdictsByRequest.get(requestHash) ?? []) : [];
  }

  /** Counts an event record (today: approval verdicts; other kinds are skipped). */
  private addEvent(rec: AuditEventRecord, chain: string, notify: boolean, trusted: boolean): void {
    const e = rec.event;
    if (e.kind !== 'approval_verdict' || (e.verdict !== 'approved' && e.verdict !== 'denied')) {
      this.skipped++;
      return;
    }
    const v: VerdictSummary = {
      seq: typeof rec.seq === 'number' ? rec.seq : -1,
      chain,
      time: rec.time,
      verdict: e.verdict,
      approval_id: String(e.approval_id),
      rule: String(e.rule),
      approver: String(e.approver),
      group: e.group ?? null,
      reason: e.reason ?? null,
      request_hash: rec.request_hash ?? null,
    };
    if (trusted) {
      this.verdictCounts[e.verdict]++;
      this.verdicts.push(v);
      if (this.verdicts.length > MAX_VERDICTS) this.verdicts.shift();
    } else {
      v.claimed = true;
      this.claimedVerdicts++;
    }
    if (v.request_hash) {
      const list = this.verdictsByRequest.get(v.request_hash);
      if (list) {
        if (list.length < 20) list.push(v);
      } else {
        this.verdictsByRequest.set(v.request_hash, [v]);
        evictOldest(this.verdictsByRequest, MAX_VERDICT_HASHES);
      }
    }
    if (notify && trusted) for (const l of this.verdictListeners) l(v);
  }

  /**
   * The counts of one decision — totals, latency, minutes, days, policy versions and rules — from the
   * fields a record and an index row (log-index.ts) both have. `add` calls it for each record; a
   * filtered summary calls it for each matching index row without reading the log.
   */
  count(row: CountRow, k = 1): void {
    const { t, effect, errors: errCount, lat, set, policy, seq } = row;
    const err = errCount > 0 ? k : 0;
    const totals = this.totals;
    totals.n += k;
    totals[effect] += k;
    totals.errors += err;
    if (lat !== null) this.latency.add(lat);

    // Rows come mostly in time order: the last minute, day and policy are looked up once per change.
    const minute = Math.floor(t / MINUTE);
    let mb = this.lastMinute;
    if (mb === null || mb.minute !== minute) {
      mb = this.minutes.get(minute) ?? null;
      if (mb === null) {
        mb = { minute, lat: new Histogram(), ...newCounts() };
        this.minutes.set(minute, mb);
        if (this.minutes.size > MAX_MINUTES) {
          // drop the oldest minute (keys are mostly in time order; find the minimum to be safe)
          let min = Infinity;
          for (const k of this.minutes.keys()) if (k < min) min = k;
          this.minutes.delete(min);
          this.lastMinute = null;
          if (min === minute) mb = { minute, lat: new Histogram(), ...newCounts() }; // counted nowhere: older than 24 h
        }
      }
      this.lastMinute = this.minutes.get(minute) === mb ? mb : null;
    }
    mb.n += k;
    mb[effect] += k;
    mb.errors += err;
    if (lat !== null) mb.lat.add(lat);

    const names = set.names;
    const day = Math.floor(t / DAY);
    let ds = this.lastDay;
    if (ds === null || this.lastDayKey !== day) {
      ds = this.days.get(day) ?? null;
      if (ds === null) {
        ds = { ...newCounts(), rules: new Map() };
        this.days.set(day, ds);
        if (this.days.size > MAX_DAYS) {
          let min = Infinity;
          for (const k of this.days.keys()) if (k < min) min = k;
          this.days.delete(min);
        }
      }
      this.lastDay = this.days.get(day) === ds ? ds : null;
      this.lastDayKey = day;
    }
    ds.n += k;
    ds[effect] += k;
    ds.errors += err;
    for (const n of names) ds.rules.set(n, (ds.rules.get(n) ?? 0) + k);

    let ps = this.lastPolicy;
    if (ps === null || ps.hash !== policy.hash) {
      const ph = policy.hash;
      ps = this.policies.get(ph) ?? null;
      if (ps === null) {
        ps = { ...newCounts(), rules: new Map(), hash: ph, name: policy.name, version: policy.version, firstT: row.t0 ?? t, lastT: t };
        this.policies.set(ph, ps);
        evictOldest(this.policies, MAX_POLICIES);
      } else {
        // most recently seen last (eviction order)
        this.policies.delete(ph);
        this.policies.set(ph, ps);
      }
      this.lastPolicy = this.policies.get(ph) === ps ? ps : null;
    }
    ps.lastT = t;
    ps.n += k;
    ps[effect] += k;
    ps.errors += err;
    for (const n of names) ps.rules.set(n, (ps.rules.get(n) ?? 0) + k);

    for (const [name, kind, field] of set.bumps) {
      let s = this.rules.get(name);
      if (!s) {
        if (this.rules.size >= MAX_RULES) continue;
        s = { name, kind, deny: 0, require_approval: 0, warn: 0, allow: 0, monitored: 0, lastSeq: seq };
        this.rules.set(name, s);
      }
      s[field] += k;
      s.lastSeq = seq;
    }
    this.lastT = t;
  }

  /**
   * Loads the counts of a filtered view at once (log-index.ts: the index counts its matching rows per
   * minute and per group of rows with the same rules, policy, effect and error flag). The model ends
   * as if `count` had been called for each row in index order: the same totals, minutes, days,
   * policies, rules and drift, at a cost proportional to minutes and groups, not to rows.
   */
  loadIndexed(a: IndexedAggregate): void {
    // Minutes: merged by key, the newest MAX_MINUTES kept (count() drops the oldest beyond).
    const am = a.minutes;
    // the oldest minute kept: the MAX_MINUTES-th newest distinct key
    const sorted = Float64Array.from({ length: am.n }, (_, j) => am.key[j]!).sort();
    let oldest = -Infinity;
    for (let j = sorted.length - 1, distinct = 0; j >= 0; j--) {
      if (j === sorted.length - 1 || sorted[j] !== sorted[j + 1]) distinct++;
      if (distinct > MAX_MINUTES) break;
      oldest = sorted[j]!;
    }
    const byMinute = new Map<number, MinuteBucket>();
    for (let j = 0; j < am.n; j++) {
      const key = am.key[j]!;
      if (key < oldest) continue;
      let mb = byMinute.get(key);
      if (!mb) {
        mb = { minute: key, lat: new Histogram(), ...newCounts() };
        byMinute.set(key, mb);
      }
      const c = j * 5;
      mb.n += am.counts[c]!;
      mb.allow += am.counts[c + 1]!;
      mb.deny += am.counts[c + 2]!;
      mb.require_approval += am.counts[c + 3]!;
      mb.errors += am.counts[c + 4]!;
      mb.lat.addCounts(am.lat, j * am.latStride);
    }
    for (const k of [...byMinute.keys()].sort((x, y) => x - y)) this.minutes.set(k, byMinute.get(k)!);
    this.latency.addCounts(a.latency);

    // Groups in the order of their first row: rules and day/policy rule maps get their keys in the
    // order the rows named them.
    const groups = [...a.groups].sort((x, y) => x.firstRow - y.firstRow);
    const dayKeys = new Set<number>();
    for (const g of groups) for (const d of g.days.keys()) dayKeys.add(d);
    const keptDays = [...dayKeys].sort((x, y) => x - y).slice(-MAX_DAYS);
    for (const d of keptDays) this.days.set(d, { ...newCounts(), rules: new Map() });
    // a day's rule map in first-row order within that day
    for (const d of keptDays) {
      const ds = this.days.get(d)!;
      const inDay = groups.filter((g) => g.days.has(d)).sort((x, y) => x.days.get(d)!.firstRow - y.days.get(d)!.firstRow);
      for (const g of inDay) {
        const k = g.days.get(d)!.n;
        ds.n += k;
        ds[g.effect] += k;
        if (g.errors) ds.errors += k;
        for (const n of g.set.names) ds.rules.set(n, (ds.rules.get(n) ?? 0) + k);
      }
    }
    type P = PeriodStats & { hash: string; name: string; version: string | null; firstT: number; lastT: number; lastRow: number };
    const pols = new Map<string, P>();
    let lastRow = -1;
    for (const g of groups) {
      const k = g.n;
      this.totals.n += k;
      this.totals[g.effect] += k;
      if (g.errors) this.totals.errors += k;
      let ps = pols.get(g.policy.hash);
      if (!ps) {
        ps = { ...newCounts(), rules: new Map(), hash: g.policy.hash, name: g.policy.name, version: g.policy.version, firstT: g.firstT, lastT: g.lastT, lastRow: g.lastRow };
        pols.set(g.policy.hash, ps);
      }
      ps.n += k;
      ps[g.effect] += k;
      if (g.errors) ps.errors += k;
      if (g.lastRow > ps.lastRow) {
        ps.lastRow = g.lastRow;
        ps.lastT = g.lastT;
      }
      for (const n of g.set.names) ps.rules.set(n, (ps.rules.get(n) ?? 0) + k);
      for (const [name, kind, field] of g.set.bumps) {
        let r = this.rules.get(name) as (RuleStats & { lastRow?: number }) | undefined;
        if (!r) {
          if (this.rules.size >= MAX_RULES) continue;
          r = { name, kind, deny: 0, require_approval: 0, warn: 0, allow: 0, monitored: 0, lastSeq: g.lastSeq };
          this.rules.set(name, r);
          lastRows.set(name, g.lastRow);
        }
        r[field] += k;
        if (g.lastRow >= (lastRows.get(name) ?? -1)) {
          lastRows.set(name, g.lastRow);
          r.lastSeq = g.lastSeq;
        }
      }
      if (g.lastRow > lastRow) {
        lastRow = g.lastRow;
        this.lastT = g.lastT;
      }
    }
    // Policies: most recently seen last, the newest MAX_POLICIES kept.
    for (const p of [...pols.values()].sort((x, y) => x.lastRow - y.lastRow).slice(-MAX_POLICIES)) {
      const { lastRow: _r, ...rest } = p;
      this.policies.set(p.hash, rest);
    }
    lastRows.clear();
  }

  /** Adds one latency to the totals and to its minute (for rows counted with `count(row, k)` and lat null). */
  addLatency(t: number, lat: number): void {
    this.latency.add(lat);
    const minute = Math.floor(t / MINUTE);
    const mb = this.lastMinute !== null && this.lastMinute.minute === minute ? this.lastMinute : this.minutes.get(minute);
    mb?.lat.add(lat);
  }

  /** Counts one record. `chain` names the log it came from (several processes: several chains).
   *  `trusted`: whether the chain is one that writes approval verdicts (default: by its name,
   *  `verdictChainName`). */
  add(rec: AuditRecord | AuditEventRecord, chain: string, notify = true, set?: RuleSet, trusted?: boolean): void {
    if (isEventRecord(rec)) {
      this.addEvent(rec, chain, notify, trusted ?? verdictChainName(chain));
      return;
    }
    const d = rec.decision;
    const effect = d?.effect;
    if (effect !== 'allow' && effect !== 'deny' && effect !== 'require_approval') {
      this.skipped++;
      return;
    }
    const t = Date.parse(rec.time);
    if (!Number.isFinite(t)) {
      this.skipped++;
      return;
    }
    const errCount = Array.isArray(d.errors) ? d.errors.length : 0;
    const lat = typeof rec.latency_ms === 'number' && Number.isFinite(rec.latency_ms) ? rec.latency_ms : null;
    const seq = typeof rec.seq === 'number' ? rec.seq : -1;
    this.count({ t, effect, errors: errCount, lat, set: set ?? ruleSetOf(rec), policy: policyOf(rec), seq });

    if (Array.isArray(d.budgets)) {
      for (const b of d.budgets) {
        // A row with unknown counters (the store failed: spent null) says nothing about the ceiling.
        if (!b || typeof b.name !== 'string' || b.spent === null) continue;
        const key = `${b.name}\u0000${JSON.stringify(b.key)}\u0000${b.window?.start ?? ''}`;
        const used = num(b.spent) + num(b.reserved) + (effect === 'allow' ? num(b.charge) : 0);
        let c = this.ceilings.get(key);
        if (!c) {
          c = {
            name: b.name,
            key: Array.isArray(b.key) ? b.key : [],
            limit: num(b.limit),
            spent: num(b.spent),
            reserved: num(b.reserved),
            window: b.window ?? null,
            unit: typeof b.limit === 'string' ? 'money' : 'number',
            firstT: t,
            firstUsed: num(b.spent) + num(b.reserved),
            lastT: t,
            lastUsed: used,
            lastSeq: seq,
          };
        } else this.ceilings.delete(key);
        c.limit = num(b.limit);
        c.spent = num(b.spent);
        c.reserved = num(b.reserved);
        c.lastT = t;
        c.lastUsed = used;
        c.lastSeq = seq;
        this.ceilings.set(key, c);
        evictOldest(this.ceilings, MAX_CEILINGS);
      }
    }

    if (errCount > 0) this.addErrors(rec, chain);
    this.addRecent(rec, chain);
    if (notify && this.listeners.size > 0) {
      const summary = summarize(rec, chain);
      for (const l of this.listeners) l(summary);
    }
  }

  /** Keeps a decision's errors in the list of recent errors (not counted: `count` does that). */
  addErrors(rec: AuditRecord, chain: string): void {
    const errs = rec.decision?.errors;
    if (!Array.isArray(errs)) return;
    const seq = typeof rec.seq === 'number' ? rec.seq : -1;
    for (const e of errs) {
      this.errors.push({ seq, chain, time: rec.time, message: `${e.kind}${e.name ? ` ${e.name}` : ''}: ${e.message}` });
      if (this.errors.length > MAX_ERRORS) this.errors.shift();
    }
  }

  /** Keeps a decision in the ring of recent decisions (not counted: `count` does that). */
  addRecent(rec: AuditRecord, chain: string): void {
    // The recent ring keeps the records themselves; their summaries are built when asked.
    this.recentRecs[this.recentAt] = { rec, chain };
    this.recentAt = (this.recentAt + 1) % MAX_RECENT;
    if (this.recentCount < MAX_RECENT) this.recentCount++;
  }

  /** The newest decisions, newest first. */
  get recent(): DecisionSummary[] {
    const out: DecisionSummary[] = [];
    for (let i = 1; i <= this.recentCount; i++) {
      const e = this.recentRecs[(this.recentAt - i + MAX_RECENT) % MAX_RECENT]!;
      out.push(summarize(e.rec, e.chain));
    }
    return out;
  }

  /** Everything the page shows (cheap: proportional to the capped structures, not to the log). */
  summary(opts: SummaryOptions = {}): DashboardSummary {
    const now = opts.now ?? Date.now();
    const minutes = [...this.minutes.values()].sort((a, b) => a.minute - b.minute);
    const series = {
      t: minutes.map((m) => m.minute * 60),
      allow: minutes.map((m) => m.allow),
      deny: minutes.map((m) => m.deny),
      require_approval: minutes.map((m) => m.require_approval),
      errors: minutes.map((m) => m.errors),
      p50: minutes.map((m) => m.lat.quantile(0.5)),
      p99: minutes.map((m) => m.lat.quantile(0.99)),
    };
    const lastMinutes = minutes.filter((m) => m.minute * MINUTE >= (minutes.length ? minutes[minutes.length - 1]!.minute * MINUTE : now) - 5 * MINUTE);
    const rate = lastMinutes.reduce((s, m) => s + m.n, 0) / Math.max(1, lastMinutes.length) / 60;
    const top = (field: 'deny' | 'require_approval' | 'warn') =>
      [...this.rules.values()]
        .filter((r) => r[field] > 0)
        .sort((a, b) => b[field] - a[field])
        .slice(0, 10)
        .map((r) => ({ name: r.name, kind: r.kind, count: r[field] }));
    return {
      totals: { ...this.totals },
      rate_per_s: rate,
      latency: { p50: this.latency.quantile(0.5), p99: this.latency.quantile(0.99), n: this.latency.n },
      series,
      top: { deny: top('deny'), require_approval: top('require_approval'), warn: top('warn') },
      errors: this.errors.slice(-20).reverse(),
      ceilings: this.ceilingsView(now),
      drift: this.drift(opts),
      policies: [...this.policies.values()].map((p) => ({ hash: p.hash, name: p.name, version: p.version, n: p.n, first: new Date(p.firstT).toISOString(), last: new Date(p.lastT).toISOString() })).reverse(),
      recent: this.recent.slice(0, 50),
      verdicts: { ...this.verdictCounts, recent: this.verdicts.slice(-20).reverse(), claimed: this.claimedVerdicts },
      last_time: this.lastTime,
      skipped: this.skipped,
    };
  }

  /** A budget's limit and unit as the newest decision seen reported it (null when none did); with
   *  `key`, the newest for that `by` key first (a limit read from the request differs per key). */
  limitOf(budget: string, key?: unknown[]): { limit: number; unit: 'money' | 'number' } | null {
    let found: CeilingState | null = null;
    let same: CeilingState | null = null;
    const k = key === undefined ? null : JSON.stringify(key);
    for (const c of this.ceilings.values()) {
      if (c.name !== budget) continue;
      if (found === null || c.lastT >= found.lastT) found = c;
      if (k !== null && (same === null || c.lastT >= same.lastT) && JSON.stringify(c.key) === k) same = c;
    }
    const f = same ?? found;
    return f ? { limit: f.limit, unit: f.unit } : null;
  }

  /** Budgets with burn rate and the projected time the limit is reached. */
  ceilingsView(now: number): CeilingView[] {
    const out: CeilingView[] = [];
    for (const c of this.ceilings.values()) {
      const end = c.window ? Date.parse(c.window.end) : null;
      if (end !== null && end <= now - DAY) continue; // long-ended windows are history
      const dt = (c.lastT - c.firstT) / 1000;
      const burn = dt > 0 ? Math.max(0, (c.lastUsed - c.firstUsed) / dt) : 0; // units per second
      const left = c.limit - c.lastUsed;
      let projected: string | null = null;
      if (left <= 0) projected = new Date(c.lastT).toISOString();
      else if (burn > 0) projected = new Date(c.lastT + (left / burn) * 1000).toISOString();
      const alert = left <= 0 || (projected !== null && (end === null || Date.parse(projected) < end));
      out.push({
        name: c.name,
        key: c.key,
        unit: c.unit,
        limit: c.limit,
        spent: c.spent,
        reserved: c.reserved,
        used: c.lastUsed,
        window_end: c.window?.end ?? null,
        burn_per_hour: burn * 3600,
        projected_limit_at: projected,
        alert,
        last_seq: c.lastSeq,
      });
    }
    return out.sort((a, b) => Number(b.alert) - Number(a.alert) || b.used / (b.limit || 1) - a.used / (a.limit || 1)).slice(0, 200);
  }

  /** Effect mix and rule hit rates now vs a baseline (previous day or previous policy hash). */
  drift(opts: SummaryOptions = {}): DriftView {
    const threshold = opts.driftThreshold ?? 5;
    let current: PeriodStats | undefined;
    let baseline: PeriodStats | undefined;
    let label = { current: '', baseline: '' };
    if (opts.baseline === 'policy') {
      const ps = [...this.policies.values()];
      current = ps[ps.length - 1];
      baseline = ps[ps.length - 2];
      label = { current: current ? `policy ${(current as { version?: string | null }).version ?? ''} ${(current as { hash?: string }).hash?.slice(0, 15)}` : '', baseline: baseline ? `policy ${(baseline as { version?: string | null }).version ?? ''} ${(baseline as { hash?: string }).hash?.slice(0, 15)}` : '' };
    } else {
      const days = [...this.days.keys()].sort((a, b) => a - b);
      const cur = days[days.length - 1];
      current = cur !== undefined ? this.days.get(cur) : undefined;
      baseline = cur !== undefined ? this.days.get(cur - 1) : undefined;
      label = { current: cur !== undefined ? new Date(cur * DAY).toISOString().slice(0, 10) : '', baseline: cur !== undefined ? new Date((cur - 1) * DAY).toISOString().slice(0, 10) : '' };
    }
    const pct = (n: number, of: number) => (of > 0 ? (100 * n) / of : 0);
    const mix = (p: PeriodStats | undefined) =>
      p ? { allow: pct(p.allow, p.n), deny: pct(p.deny, p.n), require_approval: pct(p.require_approval, p.n), n: p.n } : null;
    const rules: DriftView['rules'] = [];
    if (current && baseline) {
      const names = new Set([...current.rules.keys(), ...baseline.rules.keys()]);
      for (const n of names) {
        const now = pct(current.rules.get(n) ?? 0, current.n);
        const base = pct(baseline.rules.get(n) ?? 0, baseline.n);
        rules.push({ name: n, current: now, baseline: base, delta: now - base, flagged: Math.abs(now - base) > threshold });
      }
      rules.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
    }
    return { basis: opts.baseline ?? 'day', threshold, label, current: mix(current), baseline: mix(baseline), rules: rules.slice(0, 50) };
  }
}

/** The row of each rule's newest bump while loading (loadIndexed; module scope to reuse the map). */
const lastRows = new Map<string, number>();

/** A filtered view's counts, as the log index computes them (DashboardModel.loadIndexed). */
export interface IndexedAggregate {
  /** Per minute counted (`n` of them, in counting order; a minute may repeat when rows were not in
   *  time order): its key (epoch minute), 5 counts (n, allow, deny, require_approval, errors) and
   *  LATENCY_BUCKETS latency counts (minute j's at j * latStride). */
  minutes: { n: number; key: ArrayLike<number>; counts: ArrayLike<number>; lat: ArrayLike<number>; latStride: number };
  /** Every matching row's latency, by histogram bucket. */
  latency: ArrayLike<number>;
  groups: {
    set: RuleSet;
    policy: PolicyRef;
    effect: EffectName;
    errors: boolean;
    n: number;
    /** Index order of the group's first and last row; the last row's time and seq. */
    firstRow: number;
    lastRow: number;
    firstT: number;
    lastT: number;
    lastSeq: number;
    /** day (epoch day) → the group's rows that day and the first of them. */
    days: Map<number, { n: number; firstRow: number }>;
  }[];
}

export interface CeilingView {
  name: string;
  key: unknown[];
  unit: 'money' | 'number';
  /** null: unknown (live counters of a budget neither the policy nor a decision in the log names). */
  limit: number | null;
  spent: number;
  reserved: number;
  used: number;
  window_end: string | null;
  /** How the window counts when it is not a fixed or lifetime one (`rolling 1h`, `token bucket +1/1s`,
   *  `anchored 30d`); absent otherwise. */
  window_kind?: string;
  burn_per_hour: number;
  projected_limit_at: string | null;
  alert: boolean;
  last_seq: number;
}

export interface DriftView {
  basis: 'day' | 'policy';
  threshold: number;
  label: { current: string; baseline: string };
  current: { allow: number; deny: number; require_approval: number; n: number } | null;
  baseline: { allow: number; deny: number; require_approval: number; n: number } | null;
  rules: { name: string; current: number; baseline: number; delta: number; flagged: boolean }[];
}

export interface DashboardSummary {
  totals: EffectCounts;
  rate_per_s: number;
  latency: { p50: number | null; p99: number | null; n: number };
  series: { t: number[]; allow: number[]; deny: number[]; require_approval: number[]; errors: number[]; p50: (number | null)[]; p99: (number | null)[] };
  top: Record<'deny' | 'require_approval' | 'warn', { name: string; kind: string; count: number }[]>;
  errors: { seq: number; chain: string; time: string; message: string }[];
  ceilings: CeilingView[];
  drift: DriftView;
  policies: { hash: string; name: string; version: string | null; n: number; first: string; last: string }[];
  recent: DecisionSummary[];
  /** Approval verdicts in the log (event records): counts and the newest 20, newest first. */
  verdicts: { approved: number; denied: number; recent: VerdictSummary[]; /** verdict events in other chains, not counted */ claimed: number };
  last_time: string | null;
  skipped: number;
}
