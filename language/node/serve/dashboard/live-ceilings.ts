// Fleet ceilings read from the live budget counters in Redis (docs/control-room.md, "Ceilings"): what
// every process sharing the store has spent and reserved right now — settles included, and processes
// that write no decision log to this server included — not what the decisions in the log reported.
//
// Every `discoverMs` the store's counters are listed (SCAN); every `pollMs` the counters of current
// windows are read with the store's own `peek` (which also expires overdue reservations, as a decision
// would). A counter key is `<budget>:<window tag>:<canonical JSON of the by tuple>:<window index>`
// (runtime/budgets.ts): the budget, its key and its window come from it; the limit and unit from the
// serving policy when there is one, else from the newest decision seen for that budget.

import type { CounterState } from '../../../runtime/store.js';
import { rollingShape, rollingSiblings, windowOf } from '../../../runtime/windows.js';
import type { BudgetWindow } from '../../../runtime/compiled.js';
import { formatDuration } from '../../../runtime/values.js';
import type { CeilingView } from './model.js';

/** What a live ceiling source needs of a store (RedisBudgetStore). */
export interface CounterStore {
  counterKeys(opts?: { max?: number }): AsyncIterable<string>;
  peek(counterKeys: string[], now: number): Promise<CounterState[]>;
}

/** A budget's limit and unit (the limit as shown: dollars for money, not micros); a null limit: only
 *  the unit is known (a limit read from the request, when no decision for the budget was seen). */
export interface BudgetLimit {
  limit: number | null;
  unit: 'money' | 'number';
}

export interface ParsedCounter {
  budget: string;
  tag: string;
  key: unknown[];
  index: string;
  /** The span the counter counts in: a fixed window; a rolling sub-bucket's from its start to the end
   *  of the last rolling window it counts in; null for lifetime counters, token buckets and anchored
   *  periods (their span is in the store: `peek`). */
  window: { start: number; end: number } | null;
  /** The window definition the key's tag names. */
  def: BudgetWindow;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The window definition a counter key's tag names (`day`, `900000ms`, `life`), or null. */
function windowOfTag(tag: string): BudgetWindow | null {
  if (tag === 'life') return { kind: 'lifetime' };
  const ms = /^(\d+)ms$/.exec(tag);
  if (ms) return { kind: 'fixed', ms: Number(ms[1]) };
  // windows.ts `windowTag`: `roll<ms>ms`, `bucket<refill>per<ms>ms`, `anch<ms>ms`
  const roll = /^roll([1-9]\d*)ms$/.exec(tag);
  if (roll) return { kind: 'rolling', ms: Number(roll[1]) };
  const bucket = /^bucket(\d+)per([1-9]\d*)ms$/.exec(tag);
  if (bucket) return { kind: 'bucket', refill: Number(bucket[1]), ms: Number(bucket[2]) };
  const anch = /^anch([1-9]\d*)ms$/.exec(tag);
  if (anch) return { kind: 'anchored', ms: Number(anch[1]) };
  if (['minute', 'hour', 'day', 'week', 'month'].includes(tag)) return { kind: 'fixed', unit: tag as BudgetWindow['unit'] };
  return null;
}

/** A moment inside the window a calendar index names (checked against `windowOf` by the caller). */
function timeInIndex(unit: string, index: string): number {
  switch (unit) {
    case 'minute':
      return Date.parse(`${index}:00Z`);
    case 'hour':
      return Date.parse(`${index}:00:00Z`);
    case 'day':
      return Date.parse(`${index}T00:00:00Z`);
    case 'month':
      return Date.parse(`${index}-01T00:00:00Z`);
    case 'week': {
      const m = /^(\d{4})-W(\d{2})$/.exec(index);
      if (!m) return NaN;
      // ISO week 1 holds January 4th; its Monday, plus (week - 1) weeks, plus 3 days (Thursday).
      const jan4 = Date.UTC(Number(m[1]), 0, 4);
      const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY;
      return monday + (Number(m[2]) - 1) * 7 * DAY + 3 * DAY;
    }
  }
  return NaN;
}

/** Parses a counter key (engine key prefix ''), or null when it is not one. */
export function parseCounterKey(k: string): ParsedCounter | null {
  const c1 = k.indexOf(':');
  const c2 = c1 < 0 ? -1 : k.indexOf(':', c1 + 1);
  if (c1 <= 0 || c2 < 0) return null;
  const budget = k.slice(0, c1);
  const tag = k.slice(c1 + 1, c2);
  const def = windowOfTag(tag);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(budget) || def === null) return null;
  const rest = k.slice(c2 + 1);
  // The index is after the last ':' (a minute index has one ':' of its own).
  let cut = rest.lastIndexOf(':');
  if (def.unit === 'minute') cut = rest.lastIndexOf(':', cut - 1);
  if (cut < 0) return null;
  const index = rest.slice(cut + 1);
  let key: unknown;
  try {
    key = JSON.parse(rest.slice(0, cut));
  } catch {
    return null;
  }
  if (!Array.isArray(key)) return null;
  if (def.kind === 'lifetime' || def.kind === 'bucket' || def.kind === 'anchored') return index === '' ? { budget, tag, key, index, window: null, def } : null;
  if (def.kind === 'rolling') {
    const m = /^r(-?\d+)$/.exec(index);
    if (!m || !Number.isSafeInteger(def.ms)) return null;
    const { bucketMs, buckets } = rollingShape(def.ms!);
    const n = Number(m[1]);
    return { budget, tag, key, index, window: { start: n * bucketMs, end: (n + buckets + 1) * bucketMs }, def };
  }
  const at = def.ms !== undefined ? Number(index) * def.ms : timeInIndex(def.unit!, index);
  if (!Number.isFinite(at) || (def.ms !== undefined && !/^-?\d+$/.test(index))) return null;
  const span = windowOf(def, at);
  if (String(span.index) !== index || !span.start || !span.end) return null;
  return { budget, tag, key, index, window: { start: span.start.getTime(), end: span.end.getTime() }, def };
}

/** How a window counts, for the page: `rolling 1h`, `token bucket +1/1s`, `anchored 30d`; '' for fixed
 *  and lifetime windows. `scale`: units per shown unit (1e6 for money). */
export function windowKindLabel(def: BudgetWindow, scale = 1): string {
  if (def.kind === 'rolling') return `rolling ${formatDuration(def.ms!)}`;
  if (def.kind === 'bucket') return `token bucket +${(def.refill ?? 0) / scale}/${formatDuration(def.ms!)}`;
  if (def.kind === 'anchored') return `anchored ${formatDuration(def.ms!)}`;
  return '';
}

/** The counter key of a rolling counter's sub-bucket `n` (`…:r<n>`), from any of its keys. */
function rollingKey(k: string, n: number): string {
  return k.slice(0, k.lastIndexOf(':r') + 2) + String(n);
}

interface Live extends ParsedCounter {
  counterKey: string;
  spent: number;
  reserved: number;
  /** The span shown (as a decision's `window` shows it): for a rolling counter the current window, for
   *  a token bucket from now until it is full again, for an anchored one its current period; else
   *  `window`. */
  span: { start: number; end: number } | null;
  /** First and latest reading in this window (for the burn rate). */
  firstT: number;
  firstUsed: number;
  lastT: number;
}

export interface LiveCeilingsOptions {
  store: CounterStore;
  /** The limit and unit of a budget (the serving policy, else the newest decision seen, for this `by`
   *  key first); null: unknown. */
  limitOf: (budget: string, key: unknown[]) => BudgetLimit | null;
  /** How often counters are read (default 1000 ms). */
  pollMs?: number;
  /** How often the store is searched for new counters (default 10 s). */
  discoverMs?: number;
  /** At most this many counters are followed (default 5,000, as the ceilings of the log). */
  max?: number;
  log?: (msg: string) => void;
  clock?: () => number;
}

/** Burn rates need this much observation before the observed rate replaces the window average. */
const OBSERVE_MS = 10_000;

/** The span a counter shows after a read (`first`: the state of its key, the current sub-bucket's for
 *  a rolling counter). */
function spanOf(c: Live, first: CounterState, now: number): { start: number; end: number } | null {
  const d = c.def;
  if (d.kind === 'rolling') {
    const { bucketMs, buckets } = rollingShape(d.ms!);
    const cur = Math.floor(now / bucketMs);
    return { start: (cur - buckets) * bucketMs, end: (cur + 1) * bucketMs };
  }
  if (d.kind === 'bucket') {
    // full again when the level has refilled (whole units, every `ms`); reserved amounts refill once settled
    const periods = d.refill! > 0 ? Math.ceil(first.spent / d.refill!) : 0;
    const end = now + periods * d.ms!;
    return end <= 8.64e15 ? { start: now, end } : null; // past the last representable time: none
  }
  if (d.kind === 'anchored') return first.start === undefined || first.start + d.ms! > 8.64e15 ? null : { start: first.start, end: first.start + d.ms! };
  return c.window;
}

export class LiveCeilings {
  private readonly live = new Map<string, Live>();
  private timer: NodeJS.Timeout | null = null;
  private lastDiscover = -Infinity;
  private stopped = false;
  private running: Promise<void> | null = null;
  /** When the counters were last read, and the last failure (shown on the page). */
  readAt: number | null = null;
  error: string | null = null;
  private readonly clock: () => number;

  constructor(private readonly opts: LiveCeilingsOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Lists new counters when due, then reads every current one. Never throws (records `error`). */
  poll(): Promise<void> {
    this.running ??= this.pollOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pollOnce(): Promise<void> {
    const now = this.clock();
    try {
      if (now - this.lastDiscover >= (this.opts.discoverMs ?? 10_000)) {
        this.lastDiscover = now;
        const max = this.opts.max ?? 5000;
        for await (const k of this.opts.store.counterKeys({ max: max * 4 })) {
          if (this.live.has(k)) continue;
          const p = parseCounterKey(k);
          if (p === null || (p.window !== null && p.window.end <= now)) continue;
          // one row per rolling counter, whichever of its sub-buckets was found
          const id = p.def.kind === 'rolling' ? rollingKey(k, 0) : k;
          if (this.live.has(id)) {
            const had = this.live.get(id)!;
            if (p.window !== null && had.window !== null && p.window.end > had.window.end) had.window = p.window;
            continue;
          }
          if (this.live.size >= max) break;
          this.live.set(id, { ...p, counterKey: k, span: p.window, spent: 0, reserved: 0, firstT: NaN, firstUsed: 0, lastT: NaN });
        }
      }
      for (const [k, c] of this.live) if (c.window !== null && c.window.end <= now) this.live.delete(k);
      const all = [...this.live.values()];
      for (let i = 0; i < all.length; i += 100) {
        const batch = all.slice(i, i + 100);
        // A rolling counter reads its current sub-bucket and the ones before it (their sum, as a decision
        // reads it); every other counter its one key.
        const keys: string[] = [];
        const spans: number[] = [];
        for (const c of batch) {
          if (c.def.kind === 'rolling') {
            const { bucketMs, buckets } = rollingShape(c.def.ms!);
            const cur = rollingKey(c.counterKey, Math.floor(now / bucketMs));
            keys.push(cur, ...rollingSiblings(cur, buckets));
            spans.push(buckets + 1);
          } else {
            keys.push(c.counterKey);
            spans.push(1);
          }
        }
        const states = await this.opts.store.peek(keys, now);
        let at = 0;
        batch.forEach((c, j) => {
          let spent = 0;
          let reserved = 0;
          for (let x = 0; x < spans[j]!; x++) {
            spent += states[at + x]!.spent;
            reserved += states[at + x]!.reserved;
          }
          const first = states[at]!;
          at += spans[j]!;
          c.spent = spent;
          c.reserved = reserved;
          c.span = spanOf(c, first, now);
          // a token bucket full again, or an anchored counter gone (expired): found again if it comes back
          if ((c.def.kind === 'bucket' || c.def.kind === 'anchored') && spent === 0 && reserved === 0) this.live.delete(c.counterKey);
          if (Number.isNaN(c.firstT)) {
            c.firstT = now;
            c.firstUsed = spent + reserved;
          }
          c.lastT = now;
        });
      }
      this.readAt = now;
      this.error = null;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (this.error !== msg) this.opts.log?.(`ceilings from redis: ${msg}`);
      this.error = msg;
    }
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.poll().finally(() => {
          if (!this.stopped) tick();
        });
      }, this.opts.pollMs ?? 1000);
      this.timer.unref?.();
    };
    void this.poll();
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** The ceilings as the page shows them (the shape of the log-derived view, amounts in display units). */
  view(now: number = this.clock()): CeilingView[] {
    const out: CeilingView[] = [];
    for (const c of this.live.values()) {
      if (Number.isNaN(c.lastT)) continue;
      if (c.window !== null && c.window.end <= now) continue;
      if (c.def.kind !== 'fixed' && c.def.kind !== 'lifetime' && c.spent === 0 && c.reserved === 0) continue; // reads like an unknown key
      const known = this.opts.limitOf(c.budget, c.key);
      const scale = known?.unit === 'money' ? 1e6 : 1;
      const used = (c.spent + c.reserved) / scale;
      const firstUsed = c.firstUsed / scale;
      // Observed growth once it covers OBSERVE_MS; before that, the average since the window began.
      const observed = c.lastT - c.firstT;
      let burn = 0; // per second
      const span = c.span;
      if (observed >= OBSERVE_MS) burn = Math.max(0, (used - firstUsed) / (observed / 1000));
      else if (span !== null && c.def.kind !== 'bucket' && c.lastT > span.start) burn = used / ((c.lastT - span.start) / 1000);
      const limit = known ? known.limit : null;
      let projected: string | null = null;
      let alert = false;
      if (limit !== null) {
        const left = limit - used;
        if (left <= 0) projected = new Date(c.lastT).toISOString();
        else if (burn > 0) projected = new Date(c.lastT + (left / burn) * 1000).toISOString();
        alert = left <= 0 || (projected !== null && (span === null || Date.parse(projected) < span.end));
      }
      out.push({
        name: c.budget,
        key: c.key,
        unit: known?.unit ?? 'number',
        limit,
        spent: c.spent / scale,
        reserved: c.reserved / scale,
        used,
        window_end: span ? new Date(span.end).toISOString() : null,
        burn_per_hour: burn * 3600,
        projected_limit_at: projected,
        alert,
        last_seq: -1,
      });
      const kind = windowKindLabel(c.def, scale);
      if (kind !== '') out[out.length - 1]!.window_kind = kind;
    }
    const share = (v: CeilingView) => (v.limit === null ? 0 : v.used / (v.limit || 1));
    return out.sort((a, b) => Number(b.alert) - Number(a.alert) || share(b) - share(a)).slice(0, 200);
  }
}
