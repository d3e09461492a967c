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
import { windowOf } from '../../../runtime/windows.js';
import type { BudgetWindow } from '../../../runtime/compiled.js';
import type { CeilingView } from './model.js';

/** What a live ceiling source needs of a store (RedisBudgetStore). */
export interface CounterStore {
  counterKeys(opts?: { max?: number }): AsyncIterable<string>;
  peek(counterKeys: string[], now: number): Promise<CounterState[]>;
}

/** A budget's limit and unit (the limit as shown: dollars for money, not micros). */
export interface BudgetLimit {
  limit: number;
  unit: 'money' | 'number';
}

export interface ParsedCounter {
  budget: string;
  tag: string;
  key: unknown[];
  index: string;
  window: { start: number; end: number } | null;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The window definition a counter key's tag names (`day`, `900000ms`, `life`), or null. */
function windowOfTag(tag: string): BudgetWindow | null {
  if (tag === 'life') return { kind: 'lifetime' };
  const ms = /^(\d+)ms$/.exec(tag);
  if (ms) return { kind: 'fixed', ms: Number(ms[1]) };
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
  if (def.kind === 'lifetime') return index === '' ? { budget, tag, key, index, window: null } : null;
  const at = def.ms !== undefined ? Number(index) * def.ms : timeInIndex(def.unit!, index);
  if (!Number.isFinite(at) || (def.ms !== undefined && !/^-?\d+$/.test(index))) return null;
  const span = windowOf(def, at);
  if (String(span.index) !== index || !span.start || !span.end) return null;
  return { budget, tag, key, index, window: { start: span.start.getTime(), end: span.end.getTime() } };
}

interface Live extends ParsedCounter {
  counterKey: string;
  spent: number;
  reserved: number;
  /** First and latest reading in this window (for the burn rate). */
  firstT: number;
  firstUsed: number;
  lastT: number;
}

export interface LiveCeilingsOptions {
  store: CounterStore;
  /** The limit and unit of a budget (the serving policy, else the newest decision seen); null: unknown. */
  limitOf: (budget: string) => BudgetLimit | null;
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
          if (this.live.size >= max) break;
          this.live.set(k, { ...p, counterKey: k, spent: 0, reserved: 0, firstT: NaN, firstUsed: 0, lastT: NaN });
        }
      }
      for (const [k, c] of this.live) if (c.window !== null && c.window.end <= now) this.live.delete(k);
      const all = [...this.live.values()];
      for (let i = 0; i < all.length; i += 500) {
        const batch = all.slice(i, i + 500);
        const states = await this.opts.store.peek(batch.map((c) => c.counterKey), now);
        batch.forEach((c, j) => {
          const s = states[j]!;
          c.spent = s.spent;
          c.reserved = s.reserved;
          if (Number.isNaN(c.firstT)) {
            c.firstT = now;
            c.firstUsed = s.spent + s.reserved;
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
      const known = this.opts.limitOf(c.budget);
      const scale = known?.unit === 'money' ? 1e6 : 1;
      const used = (c.spent + c.reserved) / scale;
      const firstUsed = c.firstUsed / scale;
      // Observed growth once it covers OBSERVE_MS; before that, the average since the window began.
      const observed = c.lastT - c.firstT;
      let burn = 0; // per second
      if (observed >= OBSERVE_MS) burn = Math.max(0, (used - firstUsed) / (observed / 1000));
      else if (c.window !== null && c.lastT > c.window.start) burn = used / ((c.lastT - c.window.start) / 1000);
      const limit = known ? known.limit : null;
      let projected: string | null = null;
      let alert = false;
      if (limit !== null) {
        const left = limit - used;
        if (left <= 0) projected = new Date(c.lastT).toISOString();
        else if (burn > 0) projected = new Date(c.lastT + (left / burn) * 1000).toISOString();
        alert = left <= 0 || (projected !== null && (c.window === null || Date.parse(projected) < c.window.end));
      }
      out.push({
        name: c.budget,
        key: c.key,
        unit: known?.unit ?? 'number',
        limit,
        spent: c.spent / scale,
        reserved: c.reserved / scale,
        used,
        window_end: c.window ? new Date(c.window.end).toISOString() : null,
        burn_per_hour: burn * 3600,
        projected_limit_at: projected,
        alert,
        last_seq: -1,
      });
    }
    const share = (v: CeilingView) => (v.limit === null ? 0 : v.used / (v.limit || 1));
    return out.sort((a, b) => Number(b.alert) - Number(a.alert) || share(b) - share(a)).slice(0, 200);
  }
}
