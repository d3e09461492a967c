// An in-memory index of the decision logs the control room tails (docs/control-room.md, "Filters and
// drill-downs"): one row per record, built while reading, in typed-array columns — time, effect,
// errors, latency bucket, the rules it names (an interned rule set), its policy, its group (rows with
// the same rules, policy, effect and error flag share one), the request's filter tags, and where the
// record lies (chain, file inode and byte offset; or a Redis Stream entry id). A filtered summary is
// one tight pass over the columns that counts groups per minute and latency buckets per minute — no
// log read, no per-row allocation, no per-row model update — then loads those counts into a model
// (DashboardModel.loadIndexed); a drill-down walks the rows newest first and stops as soon as no
// older row can be newer than what it holds (a per-block running maximum of the times).
//
// Memory: about 65 bytes per record (65 MB per million) plus the dictionaries, capped: at `maxRows`
// rows the older half is dropped, and queries that would need dropped rows (or values a full
// dictionary could not keep) fall back to reading the log, as before the index.

import type { AuditEventRecord, AuditRecord } from '../../../audit/record.js';
import { bucketOf, LATENCY_BUCKETS, type EffectName, type IndexedAggregate, type PolicyRef, type RecordFilter, type RuleSet } from './model.js';

const EFFECTS: EffectName[] = ['allow', 'deny', 'require_approval'];
/** `eff` of an event record (an approval verdict): drill-downs list it, summaries skip it. */
const EVENT = 3;
const TAGS = ['agent', 'team', 'tool', 'model'] as const;
const NONE = 0;
const OVERFLOW = 0xffffffff;
/** Distinct values kept per tag and distinct rule sets; beyond, queries needing them read the log. */
const MAX_VALUES = 100_000;
const MAX_SETS = 100_000;
const MAX_POLICIES = 65_000;
const MAX_GROUPS = 1 << 20;
/** `lb` of a row without a latency. */
const NO_LATENCY = LATENCY_BUCKETS;
/** Rows per block of the running time maximum (drill-downs stop early with it). */
const BLOCK_SHIFT = 10;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface IndexQuery extends RecordFilter {
  chain?: string;
  /** Only records with `seq` < before. */
  before?: number;
}

class Dict<T> {
  readonly values: T[] = [];
  private readonly ids = new Map<string, number>();
  overflow = false;
  constructor(
    private readonly max: number,
    first: number,
  ) {
    this.values.length = first;
  }
  id(key: string, value: () => T): number {
    let id = this.ids.get(key);
    if (id !== undefined) return id;
    if (this.ids.size >= this.max) {
      this.overflow = true;
      return OVERFLOW;
    }
    id = this.values.length;
    this.values.push(value());
    this.ids.set(key, id);
    return id;
  }
  get(key: string): number | undefined {
    return this.ids.get(key);
  }
}

/** Where a row's record lies (file: inode and byte offset; stream: id sequence and milliseconds). */
export interface RowRef {
  chain: string;
  ino: number;
  offset: number;
  seq: number;
  t: number;
}

/**
 * The aggregates of several indexes as one (the rows of each after those of the ones before it), for
 * a control room reading log files and the fleet's stream at once.
 */
export function mergeAggregates(list: IndexedAggregate[]): IndexedAggregate {
  if (list.length === 1) return list[0]!;
  const latency = new Float64Array(LATENCY_BUCKETS + 1);
  const nm = list.reduce((s, a) => s + a.minutes.n, 0);
  const minutes = { n: nm, key: new Float64Array(nm), counts: new Float64Array(nm * 5), lat: new Uint32Array(nm * LATENCY_BUCKETS), latStride: LATENCY_BUCKETS };
  const out: IndexedAggregate = { minutes, latency, groups: [] };
  let base = 0;
  let at = 0;
  for (const a of list) {
    const m = a.minutes;
    for (let j = 0; j < m.n; j++) minutes.key[at + j] = m.key[j]!;
    for (let j = 0; j < m.n * 5; j++) minutes.counts[at * 5 + j] = m.counts[j]!;
    for (let j = 0; j < m.n; j++) for (let b = 0; b < LATENCY_BUCKETS; b++) minutes.lat[(at + j) * LATENCY_BUCKETS + b] = m.lat[j * m.latStride + b]!;
    at += m.n;
    for (let b = 0; b <= LATENCY_BUCKETS; b++) latency[b]! += a.latency[b] ?? 0;
    let rows = 0;
    for (const g of a.groups) {
      rows = Math.max(rows, g.lastRow + 1);
      const days = new Map<number, { n: number; firstRow: number }>();
      for (const [d, v] of g.days) days.set(d, { n: v.n, firstRow: v.firstRow + base });
      out.groups.push({ ...g, firstRow: g.firstRow + base, lastRow: g.lastRow + base, days });
    }
    base += rows;
  }
  return out;
}

/** The state `endMinute` needs (a filtered aggregation, one minute at a time). */
interface MinuteState {
  G: number;
  nm: number;
  nTouched: number;
  minute: number;
  days: Map<number, { n: Float64Array; first: Float64Array }>;
  touched: Uint32Array;
  gMin: Float64Array;
  gFirstInMinute: Float64Array;
  gEff: number[];
  gErr: number[];
}

/** Ends minute `m.minute`: its counts (from the groups it touched) into the scratch arrays, and the days' group counts. */
function endMinute(m: MinuteState, sc: Scratch): void {
  if (m.nTouched === 0) return;
  const dayKey = Math.floor((m.minute * MINUTE) / DAY);
  let day = m.days.get(dayKey);
  if (!day) {
    day = { n: new Float64Array(m.G), first: new Float64Array(m.G).fill(-1) };
    m.days.set(dayKey, day);
  }
  const cb = m.nm * 5;
  const counts = sc.counts;
  counts[cb] = counts[cb + 1] = counts[cb + 2] = counts[cb + 3] = counts[cb + 4] = 0;
  const { touched, gMin, gEff, gErr } = m;
  for (let j = 0; j < m.nTouched; j++) {
    const g = touched[j]!;
    const k = gMin[g]!;
    gMin[g] = 0;
    counts[cb]! += k;
    counts[cb + 1 + gEff[g]!]! += k;
    if (gErr[g]) counts[cb + 4]! += k;
    if (day.n[g] === 0) day.first[g] = m.gFirstInMinute[g]!;
    day.n[g]! += k;
  }
  sc.key[m.nm] = m.minute;
  m.nm++;
  m.nTouched = 0;
}

interface Scratch {
  key: Float64Array;
  counts: Float64Array;
  lat: Uint32Array;
}

/** A query compiled against the dictionaries: ids to compare with the columns. */
interface Compiled {
  /** Tag column offsets and ids (k, id pairs). */
  tags: number[];
  pols: Uint8Array | null;
  sets: Uint8Array | null;
  eff: number;
  chain: number;
  before: number;
}

export class LogIndex {
  /** Rows held, and the number of older rows dropped before them. */
  n = 0;
  dropped = 0;
  private cap = 0;
  private t = new Float64Array(0);
  private seq = new Float64Array(0);
  private off = new Float64Array(0);
  private set = new Uint32Array(0);
  private grp = new Uint32Array(0);
  private tags = new Uint32Array(0);
  private pol = new Uint32Array(0);
  private chain = new Uint16Array(0);
  private file = new Uint32Array(0);
  private eff = new Uint8Array(0);
  private err = new Uint8Array(0);
  private lb = new Uint8Array(0);
  /** Per block of 2^BLOCK_SHIFT rows: the largest time of every row up to the block's end. */
  private blockMax = new Float64Array(0);
  private maxT = -Infinity;
  /** The rows of decisions with errors, in order (few: the newest-errors list walks only these). */
  private errRows = new Uint32Array(0);
  private nErr = 0;
  private readonly sets = new Dict<RuleSet>(MAX_SETS, 0);
  private readonly tagDicts = TAGS.map(() => new Dict<string>(MAX_VALUES, 1));
  private readonly policies = new Dict<PolicyRef>(MAX_POLICIES, 0);
  private readonly chains = new Dict<string>(65_000, 0);
  private readonly inos = new Dict<number>(1 << 30, 0);
  /** Groups: rows with the same policy, rule set, effect and error flag. */
  private readonly groupIds = new Map<number, number>();
  private readonly gPol: number[] = [];
  private readonly gSet: number[] = [];
  private readonly gEff: number[] = [];
  private readonly gErr: number[] = [];

  constructor(readonly maxRows = 2_000_000) {}

  /** Whether every record read so far is still in the index (nothing dropped, no chain overflow). */
  get complete(): boolean {
    return this.dropped === 0 && !this.chains.overflow;
  }

  /** Interns a decision's rule set: its id (records with the same rules share one), OVERFLOW when full. */
  intern(set: RuleSet): number {
    return this.sets.id(setKey(set), () => set);
  }

  /** The rule set of an id from `intern` (undefined for OVERFLOW). */
  setOf(id: number): RuleSet | undefined {
    return id === OVERFLOW ? undefined : this.sets.values[id];
  }

  private group(pol: number, set: number, eff: number, err: number): number {
    const key = ((pol * 0x100000000 + set) * 4 + eff) * 2 + err;
    let g = this.groupIds.get(key);
    if (g !== undefined) return g;
    if (this.groupIds.size >= MAX_GROUPS) return OVERFLOW;
    g = this.gPol.length;
    this.gPol.push(pol);
    this.gSet.push(set);
    this.gEff.push(eff);
    this.gErr.push(err);
    this.groupIds.set(key, g);
    return g;
  }

  private columns(): (Float64Array | Uint32Array | Uint16Array | Uint8Array)[] {
    return [this.t, this.seq, this.off, this.set, this.grp, this.tags, this.pol, this.chain, this.file, this.eff, this.err, this.lb];
  }

  private grow(): void {
    if (this.n < this.cap) return;
    if (this.cap >= this.maxRows) {
      // Drop the older half: queries then fall back to reading the log for what they would need of it.
      const half = this.cap >> 1;
      for (const col of this.columns()) {
        const per = col === this.tags ? TAGS.length : 1;
        col.copyWithin(0, half * per, this.n * per);
      }
      this.n -= half;
      this.dropped += half;
      let m = -Infinity;
      for (let i = 0; i < this.n; i++) {
        if (this.t[i]! > m) m = this.t[i]!;
        this.blockMax[i >> BLOCK_SHIFT] = m;
      }
      let k = 0;
      for (let j = 0; j < this.nErr; j++) if (this.errRows[j]! >= half) this.errRows[k++] = this.errRows[j]! - half;
      this.nErr = k;
      return;
    }
    const cap = Math.min(this.maxRows, Math.max(1024, this.cap * 2));
    const g = <A extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: A, n: number): A => {
      const b = new (a.constructor as new (n: number) => A)(n);
      b.set(a);
      return b;
    };
    this.t = g(this.t, cap);
    this.seq = g(this.seq, cap);
    this.off = g(this.off, cap);
    this.set = g(this.set, cap);
    this.grp = g(this.grp, cap);
    this.tags = g(this.tags, cap * TAGS.length);
    this.pol = g(this.pol, cap);
    this.chain = g(this.chain, cap);
    this.file = g(this.file, cap);
    this.eff = g(this.eff, cap);
    this.err = g(this.err, cap);
    this.lb = g(this.lb, cap);
    this.blockMax = g(this.blockMax, (cap >> BLOCK_SHIFT) + 1);
    this.cap = cap;
  }

  /**
   * Adds a decision record (`set`: its interned rule set) or an event record (`setId` null). Where it
   * lies: for a file, `ino` and the byte `offset` of its line; for a Redis Stream entry, the id's
   * sequence part and milliseconds.
   */
  add(chain: string, ino: number, offset: number, rec: AuditRecord | AuditEventRecord, t: number, setId: number | null, tags: Record<string, string>): void {
    this.grow();
    const i = this.n++;
    this.t[i] = t;
    if (t > this.maxT) this.maxT = t;
    this.blockMax[i >> BLOCK_SHIFT] = this.maxT;
    this.seq[i] = typeof rec.seq === 'number' ? rec.seq : -1;
    this.off[i] = offset;
    this.chain[i] = this.chains.id(chain, () => chain);
    this.file[i] = this.inos.id(String(ino), () => ino);
    const p = rec.policy;
    const ph = p?.hash ?? 'unknown';
    const pol = this.policies.id(ph, () => ({ hash: ph, name: p?.name ?? '', version: p?.version ?? null }));
    this.pol[i] = pol;
    for (let k = 0; k < TAGS.length; k++) {
      const v = tags[TAGS[k]!];
      this.tags[i * TAGS.length + k] = v === undefined ? NONE : this.tagDicts[k]!.id(v, () => v);
    }
    if (setId === null) {
      // an event: its rule is its only name
      const e = (rec as AuditEventRecord).event;
      const rule = typeof e?.rule === 'string' ? e.rule : null;
      this.eff[i] = EVENT;
      this.err[i] = 0;
      this.lb[i] = NO_LATENCY;
      this.set[i] = this.intern({ names: rule ? [rule] : [], bumps: [] });
      this.grp[i] = OVERFLOW;
      return;
    }
    const r = rec as AuditRecord;
    const d = r.decision;
    const eff = EFFECTS.indexOf(d.effect);
    const errs = Array.isArray(d.errors) ? d.errors.length : 0;
    this.eff[i] = eff;
    this.err[i] = Math.min(255, errs);
    this.lb[i] = typeof r.latency_ms === 'number' && Number.isFinite(r.latency_ms) ? bucketOf(r.latency_ms) : NO_LATENCY;
    this.set[i] = setId;
    if (errs > 0) {
      if (this.nErr === this.errRows.length) {
        const b = new Uint32Array(Math.max(64, this.nErr * 2));
        b.set(this.errRows);
        this.errRows = b;
      }
      this.errRows[this.nErr++] = i;
    }
    this.grp[i] = setId === OVERFLOW || pol === OVERFLOW ? OVERFLOW : this.group(pol, setId, eff, errs > 0 ? 1 : 0);
  }

  /** `q` against the dictionaries; null when the index cannot answer exactly, 'none' when nothing can match. */
  private compile(q: IndexQuery): Compiled | null | 'none' {
    if (!this.complete) return null;
    const tags: number[] = [];
    for (let k = 0; k < TAGS.length; k++) {
      const v = q[TAGS[k]!];
      if (v === undefined) continue;
      const id = this.tagDicts[k]!.get(v);
      if (id === undefined) return this.tagDicts[k]!.overflow ? null : 'none';
      tags.push(k, id);
    }
    let pols: Uint8Array | null = null;
    if (q.policy !== undefined) {
      if (this.policies.overflow) return null;
      pols = new Uint8Array(this.policies.values.length);
      this.policies.values.forEach((p, id) => {
        if (p.hash === q.policy || p.version === q.policy) pols![id] = 1;
      });
    }
    let sets: Uint8Array | null = null;
    if (q.rule !== undefined) {
      if (this.sets.overflow) return null;
      sets = new Uint8Array(this.sets.values.length);
      this.sets.values.forEach((s, id) => {
        if (s.names.includes(q.rule!)) sets![id] = 1;
      });
    }
    const eff = q.effect === undefined ? -1 : EFFECTS.indexOf(q.effect);
    const chain = q.chain === undefined ? -1 : (this.chains.get(q.chain) ?? -2);
    if (chain === -2) return 'none';
    return { tags, pols, sets, eff, chain, before: q.before ?? Infinity };
  }

  /** Whether row `i` matches (everything but the effect, which callers test first). */
  private matches(c: Compiled, i: number): boolean {
    if (c.chain >= 0 && this.chain[i] !== c.chain) return false;
    if (!(this.seq[i]! < c.before)) return false;
    const tags = c.tags;
    for (let j = 0; j < tags.length; j += 2) if (this.tags[i * TAGS.length + tags[j]!] !== tags[j + 1]) return false;
    if (c.pols !== null && c.pols[this.pol[i]!] !== 1) return false;
    if (c.sets !== null && c.sets[this.set[i]!] !== 1) return false;
    return true;
  }

  /**
   * The counts of every matching decision (a filtered summary) loaded into `into`
   * (DashboardModel.loadIndexed). False: read the log instead.
   */
  aggregate(q: RecordFilter, into: { loadIndexed(a: IndexedAggregate): void }): boolean {
    const a = this.aggregateOf(q);
    if (a === null) return false;
    into.loadIndexed(a);
    return true;
  }

  /** The counts of every matching decision (DashboardModel.loadIndexed loads them); null: read the log instead.
   *  The minutes' arrays are this index's scratch buffers: valid until its next `aggregateOf`. */
  aggregateOf(q: RecordFilter): IndexedAggregate | null {
    const c = this.compile(q);
    if (c === null || this.sets.overflow || this.policies.overflow || this.groupIds.size >= MAX_GROUPS) return null;
    const G = this.gPol.length;
    const latency = new Float64Array(LATENCY_BUCKETS + 1);
    const out: IndexedAggregate = { minutes: { n: 0, key: new Float64Array(0), counts: new Float64Array(0), lat: new Uint32Array(0), latStride: LATENCY_BUCKETS }, latency, groups: [] };
    if (c === 'none' || G === 0) return out;
    // Per group: rows (all, this minute, this day), first and last row. Per minute (scratch arrays,
    // grown as needed and reused): key, counts, latency buckets.
    const gN = new Float64Array(G);
    const gMin = new Float64Array(G);
    const gFirst = new Float64Array(G).fill(-1);
    const gLast = new Float64Array(G);
    const touched = new Uint32Array(G);
    const gFirstInMinute = new Float64Array(G);
    const days = new Map<number, { n: Float64Array; first: Float64Array }>();
    let sc = this.scratch;
    const HB = LATENCY_BUCKETS + 1;
    // The minute being counted: ended (its counts written to the scratch arrays) by `endMinute`.
    const m: MinuteState = { G, nm: 0, nTouched: 0, minute: NaN, days, touched, gMin, gFirstInMinute, gEff: this.gEff, gErr: this.gErr };
    let mStart = Infinity;
    let mEnd = -Infinity;
    let lat = 0; // offset of the current minute's latency buckets in sc.lat
    let mlat = sc.lat;
    let nTouched = 0;
    const n = this.n;
    // The row loop: every column and query field in a local, no call per row.
    const { t, eff, grp, lb, seq: sq, chain: ch, pol: pl, set: st, tags: tg } = this;
    const T = TAGS.length;
    const nt = c.tags.length >> 1;
    const k0 = c.tags[0] ?? 0, v0 = c.tags[1] ?? 0, k1 = c.tags[2] ?? 0, v1 = c.tags[3] ?? 0;
    const k2 = c.tags[4] ?? 0, v2 = c.tags[5] ?? 0, k3 = c.tags[6] ?? 0, v3 = c.tags[7] ?? 0;
    const { pols, sets, chain, before } = c;
    const effQ = c.eff;
    for (let i = 0; i < n; i++) {
      const e = eff[i]!;
      if (e === EVENT || (effQ >= 0 && e !== effQ)) continue;
      if (nt > 0) {
        const b = i * T;
        if (tg[b + k0] !== v0) continue;
        if (nt > 1 && (tg[b + k1] !== v1 || (nt > 2 && (tg[b + k2] !== v2 || (nt > 3 && tg[b + k3] !== v3))))) continue;
      }
      if (pols !== null && pols[pl[i]!] !== 1) continue;
      if (sets !== null && sets[st[i]!] !== 1) continue;
      if (chain >= 0 && ch[i] !== chain) continue;
      if (!(sq[i]! < before)) continue;
      const ti = t[i]!;
      if (!(ti >= mStart && ti < mEnd)) {
        m.nTouched = nTouched;
        endMinute(m, sc);
        nTouched = 0;
        const minute = Math.floor(ti / MINUTE);
        m.minute = minute;
        mStart = minute * MINUTE;
        mEnd = mStart + MINUTE;
        if (m.nm + 1 > sc.key.length) {
          sc = this.growScratch(m.nm + 1);
          mlat = sc.lat;
        }
        lat = m.nm * HB;
        mlat.fill(0, lat, lat + HB);
      }
      const g = grp[i]!;
      if (gMin[g] === 0) {
        touched[nTouched++] = g;
        gFirstInMinute[g] = i;
      }
      gMin[g]!++;
      gN[g]!++;
      if (gFirst[g] === -1) gFirst[g] = i;
      gLast[g] = i;
      const b = lb[i]!;
      mlat[lat + b]!++;
      latency[b]!++;
    }
    m.nTouched = nTouched;
    endMinute(m, sc);
    const nm = m.nm;
    out.minutes = { n: nm, key: sc.key.subarray(0, nm), counts: sc.counts.subarray(0, nm * 5), lat: sc.lat, latStride: HB };
    for (let g = 0; g < G; g++) {
      if (gN[g] === 0) continue;
      const gd = new Map<number, { n: number; firstRow: number }>();
      for (const [d, v] of days) if (v.n[g]! > 0) gd.set(d, { n: v.n[g]!, firstRow: v.first[g]! });
      out.groups.push({
        set: this.sets.values[this.gSet[g]!]!,
        policy: this.policies.values[this.gPol[g]!]!,
        effect: EFFECTS[this.gEff[g]!]!,
        errors: this.gErr[g] === 1,
        n: gN[g]!,
        firstRow: gFirst[g]!,
        lastRow: gLast[g]!,
        firstT: t[gFirst[g]!]!,
        lastT: t[gLast[g]!]!,
        lastSeq: this.seq[gLast[g]!]!,
        days: gd,
      });
    }
    return out;
  }

  private scratch: Scratch = { key: new Float64Array(0), counts: new Float64Array(0), lat: new Uint32Array(0) };

  private growScratch(minutes: number): Scratch {
    const cap = Math.max(1024, minutes * 2);
    const s = { key: new Float64Array(cap), counts: new Float64Array(cap * 5), lat: new Uint32Array(cap * (LATENCY_BUCKETS + 1)) };
    s.key.set(this.scratch.key);
    s.counts.set(this.scratch.counts);
    s.lat.set(this.scratch.lat);
    this.scratch = s;
    return s;
  }

  /**
   * The newest `limit` matching records (by time, newest first): where to read them. `decisionsOnly`
   * leaves events out; `withErrors` keeps only decisions with errors. Null: read the log instead.
   */
  newest(q: IndexQuery, limit: number, opts: { decisionsOnly?: boolean; withErrors?: boolean } = {}): RowRef[] | null {
    const c = this.compile(q);
    if (c === null) return null;
    if (c === 'none' || limit <= 0) return [];
    // Rows are in reading order (chain by chain per poll), nearly time order: keep the best `limit`,
    // and stop when no row before this block can be newer than the oldest of them.
    const best: number[] = [];
    const { t, eff, err } = this;
    // Decisions with errors: only their rows are walked.
    const errOnly = opts.withErrors === true;
    for (let r = errOnly ? this.nErr - 1 : this.n - 1; r >= 0; r--) {
      const i = errOnly ? this.errRows[r]! : r;
      if (best.length === limit && (i & ((1 << BLOCK_SHIFT) - 1)) === (1 << BLOCK_SHIFT) - 1 && this.blockMax[i >> BLOCK_SHIFT]! <= t[best[limit - 1]!]!) break;
      const e = eff[i]!;
      if (opts.decisionsOnly && e === EVENT) continue;
      if (opts.withErrors && (e === EVENT || err[i] === 0)) continue;
      if (c.eff >= 0 && e !== c.eff) continue;
      if (best.length === limit && t[i]! <= t[best[limit - 1]!]!) continue;
      if (!this.matches(c, i)) continue;
      let j = best.length;
      while (j > 0 && t[best[j - 1]!]! < t[i]!) j--;
      best.splice(j, 0, i);
      if (best.length > limit) best.pop();
    }
    return best.map((i) => ({ chain: this.chains.values[this.chain[i]!]!, ino: this.inos.values[this.file[i]!]!, offset: this.off[i]!, seq: this.seq[i]!, t: this.t[i]! }));
  }

  /** Where record `seq` of `chain` lies (the newest with that seq), or null. */
  find(chain: string, seq: number): { ino: number; offset: number } | null {
    const c = this.chains.get(chain);
    if (c === undefined) return null;
    for (let i = this.n - 1; i >= 0; i--) {
      if (this.chain[i] === c && this.seq[i] === seq) return { ino: this.inos.values[this.file[i]!]!, offset: this.off[i]! };
    }
    return null;
  }

  /** Bytes held by the columns (for the bench and the docs). */
  get bytes(): number {
    return this.columns().reduce((s, c) => s + c.byteLength, 0) + this.blockMax.byteLength + this.errRows.byteLength;
  }
}

function setKey(set: RuleSet): string {
  let sig = '';
  for (const n of set.names) sig += n + '\u0001';
  sig += '\u0002';
  for (const [n, k, f] of set.bumps) sig += `${n}\u0003${k}\u0003${f}\u0001`;
  return sig;
}
