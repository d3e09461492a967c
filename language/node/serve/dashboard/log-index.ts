// An in-memory index of the decision logs the control room tails (docs/control-room.md, "Filters and
// drill-downs"): one row per record, built while reading, in typed-array columns — time, effect,
// errors, latency, the rules it names (an interned rule set), its policy, the request's filter tags,
// and where the record lies (chain, file inode, byte offset). A filtered summary is a scan of the
// columns (no log read); a drill-down scans them for the newest matches and reads only those records.
//
// Memory: about 60 bytes per record (60 MB per million) plus the dictionaries, capped: at `maxRows`
// rows the older half is dropped, and queries that would need dropped rows (or values a full
// dictionary could not keep) fall back to reading the log, as before the index.

import type { AuditEventRecord, AuditRecord } from '../../../audit/record.js';
import type { CountRow, EffectName, PolicyRef, RecordFilter, RuleSet } from './model.js';

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

export interface IndexedRow extends CountRow {
  chain: string;
  ino: number;
  offset: number;
}

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

export class LogIndex {
  /** Rows held, and the number of older rows dropped before them. */
  n = 0;
  dropped = 0;
  private cap = 0;
  private t = new Float64Array(0);
  private seq = new Float64Array(0);
  private off = new Float64Array(0);
  private lat = new Float32Array(0);
  private set = new Uint32Array(0);
  private tags = new Uint32Array(0);
  private pol = new Uint32Array(0);
  private chain = new Uint16Array(0);
  private file = new Uint32Array(0);
  private eff = new Uint8Array(0);
  private err = new Uint8Array(0);
  private readonly sets = new Dict<RuleSet>(MAX_SETS, 0);
  private readonly tagDicts = TAGS.map(() => new Dict<string>(MAX_VALUES, 1));
  private readonly policies = new Dict<PolicyRef>(MAX_POLICIES, 0);
  private readonly chains = new Dict<string>(65_000, 0);
  private readonly inos = new Dict<number>(1 << 30, 0);

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

  private grow(): void {
    if (this.n < this.cap) return;
    if (this.cap >= this.maxRows) {
      // Drop the older half: queries then fall back to reading the log for what they would need of it.
      const half = this.cap >> 1;
      for (const col of this.columns()) col.copyWithin(0, half * (col === this.tags ? TAGS.length : 1), this.n * (col === this.tags ? TAGS.length : 1));
      this.n -= half;
      this.dropped += half;
      return;
    }
    const cap = Math.min(this.maxRows, Math.max(1024, this.cap * 2));
    const g = <A extends Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array>(a: A, per = 1): A => {
      const b = new (a.constructor as new (n: number) => A)(cap * per);
      b.set(a);
      return b;
    };
    this.t = g(this.t);
    this.seq = g(this.seq);
    this.off = g(this.off);
    this.lat = g(this.lat);
    this.set = g(this.set);
    this.tags = g(this.tags, TAGS.length);
    this.pol = g(this.pol);
    this.chain = g(this.chain);
    this.file = g(this.file);
    this.eff = g(this.eff);
    this.err = g(this.err);
    this.cap = cap;
  }

  private columns(): (Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array)[] {
    return [this.t, this.seq, this.off, this.lat, this.set, this.tags, this.pol, this.chain, this.file, this.eff, this.err];
  }

  /** Adds a decision record (`set`: its interned rule set) or an event record, read at `offset` of file `ino`. */
  add(chain: string, ino: number, offset: number, rec: AuditRecord | AuditEventRecord, t: number, setId: number | null, tags: Record<string, string>): void {
    this.grow();
    const i = this.n++;
    this.t[i] = t;
    this.seq[i] = typeof rec.seq === 'number' ? rec.seq : -1;
    this.off[i] = offset;
    this.chain[i] = this.chains.id(chain, () => chain);
    this.file[i] = this.inos.id(String(ino), () => ino);
    const p = rec.policy;
    const ph = p?.hash ?? 'unknown';
    this.pol[i] = this.policies.id(ph, () => ({ hash: ph, name: p?.name ?? '', version: p?.version ?? null }));
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
      this.lat[i] = NaN;
      this.set[i] = this.intern({ names: rule ? [rule] : [], bumps: [] });
      return;
    }
    const r = rec as AuditRecord;
    const d = r.decision;
    this.eff[i] = EFFECTS.indexOf(d.effect);
    this.err[i] = Math.min(255, Array.isArray(d.errors) ? d.errors.length : 0);
    this.lat[i] = typeof r.latency_ms === 'number' && Number.isFinite(r.latency_ms) ? r.latency_ms : NaN;
    this.set[i] = setId;
  }

  /**
   * The rows matching `q`, oldest first, as a predicate over row numbers; null when the index cannot
   * answer exactly (rows were dropped, or a filter value a full dictionary could not keep).
   */
  private matcher(q: IndexQuery): ((i: number) => boolean) | null {
    if (!this.complete) return null;
    const tagIds: [number, number][] = [];
    for (let k = 0; k < TAGS.length; k++) {
      const v = q[TAGS[k]!];
      if (v === undefined) continue;
      const id = this.tagDicts[k]!.get(v);
      if (id === undefined) {
        if (this.tagDicts[k]!.overflow) return null;
        return () => false;
      }
      tagIds.push([k, id]);
    }
    let pols: Uint8Array | null = null;
    if (q.policy !== undefined) {
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
    if (chain === -2) return () => false;
    const before = q.before ?? Infinity;
    return (i) => {
      if (eff >= 0 && this.eff[i] !== eff) return false;
      if (chain >= 0 && this.chain[i] !== chain) return false;
      if (!(this.seq[i]! < before)) return false;
      for (const [k, id] of tagIds) if (this.tags[i * TAGS.length + k] !== id) return false;
      if (pols !== null && pols[this.pol[i]!] !== 1) return false;
      if (sets !== null && sets[this.set[i]!] !== 1) return false;
      return true;
    };
  }

  /**
   * Counts every matching decision into `into` (a filtered summary). Rows of one minute with the same
   * rules, policy, effect and error flag are counted together (`count(row, k)`), latencies one by one.
   * False: read the log instead.
   */
  aggregate(q: RecordFilter, into: { count(row: CountRow, k: number): void; addLatency(t: number, lat: number): void }): boolean {
    const m = this.matcher(q);
    if (m === null || this.sets.overflow) return false;
    interface Group {
      row: CountRow;
      k: number;
      last: number;
    }
    let minute = NaN;
    const groups = new Map<number, Group>();
    const lats: number[] = [];
    const flush = () => {
      for (const g of [...groups.values()].sort((a, b) => a.last - b.last)) into.count(g.row, g.k);
      groups.clear();
      for (let j = 0; j < lats.length; j += 2) into.addLatency(lats[j]!, lats[j + 1]!);
      lats.length = 0;
    };
    const SETS = this.sets.values.length + 1;
    for (let i = 0; i < this.n; i++) {
      if (this.eff[i] === EVENT || !m(i)) continue;
      const t = this.t[i]!;
      const mi = Math.floor(t / 60_000);
      if (mi !== minute) {
        flush();
        minute = mi;
      }
      const eff = this.eff[i]!;
      const err = this.err[i]! > 0 ? 1 : 0;
      const key = ((this.pol[i]! * SETS + this.set[i]!) * 4 + eff) * 2 + err;
      const g = groups.get(key);
      if (g) {
        g.k++;
        g.last = i;
        g.row.t = t;
        g.row.seq = this.seq[i]!;
      } else {
        groups.set(key, {
          k: 1,
          last: i,
          row: { t, t0: t, effect: EFFECTS[eff]!, errors: err, lat: null, set: this.sets.values[this.set[i]!]!, policy: this.policies.values[this.pol[i]!]!, seq: this.seq[i]! },
        });
      }
      const lat = this.lat[i]!;
      if (!Number.isNaN(lat)) lats.push(t, lat);
    }
    flush();
    return true;
  }

  /**
   * The newest `limit` matching records (by time, newest first): where to read them. `decisionsOnly`
   * leaves events out; `withErrors` keeps only decisions with errors. Null: read the log instead.
   */
  newest(q: IndexQuery, limit: number, opts: { decisionsOnly?: boolean; withErrors?: boolean } = {}): { chain: string; ino: number; offset: number; seq: number; t: number }[] | null {
    const m = this.matcher(q);
    if (m === null) return null;
    // Rows are in reading order (chain by chain per poll), nearly time order: keep the best `limit`.
    const best: number[] = [];
    for (let i = this.n - 1; i >= 0; i--) {
      if (opts.decisionsOnly && this.eff[i] === EVENT) continue;
      if (opts.withErrors && (this.eff[i] === EVENT || this.err[i] === 0)) continue;
      if (best.length === limit && this.t[i]! <= this.t[best[limit - 1]!]!) continue;
      if (!m(i)) continue;
      let j = best.length;
      while (j > 0 && this.t[best[j - 1]!]! < this.t[i]!) j--;
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
    return this.columns().reduce((s, c) => s + c.byteLength, 0);
  }
}

function setKey(set: RuleSet): string {
  let sig = '';
  for (const n of set.names) sig += n + '\u0001';
  sig += '\u0002';
  for (const [n, k, f] of set.bumps) sig += `${n}\u0003${k}\u0003${f}\u0001`;
  return sig;
}
