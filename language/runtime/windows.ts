// Budget windows: which fixed, UTC-aligned time bucket a moment falls in.
//
// - `minute`, `hour`, `day`: aligned to UTC (a day starts at 00:00 UTC).
// - `week`: ISO 8601 weeks, Monday 00:00 UTC to the next Monday 00:00 UTC; the index names the ISO
//   week-numbering year (`2026-W01` may start in December 2025).
// - `month`: the 1st of the month 00:00 UTC to the 1st of the next month (28 to 31 days).
// - a duration (`per 15m`): epoch-aligned buckets of that length (`floor(now / ms)`), so every
//   process computes the same bucket without coordination.
// - lifetime (no `per`): one bucket forever; no index, no start, no end.
// - `per request`: no counter at all; the limit caps a single charge.
// - `per rolling 1h`: a sliding window counted in sub-buckets of b = ceil(W / 60) ms (`rollingShape`):
//   the counter key names the current sub-bucket (`r<ordinal>`), and the store adds the N = ceil(W / b)
//   sub-buckets before it. A charge counts for at least W and less than W + 2b after it was made, so
//   no interval of length W ever admits more than the limit (docs/budgets.md).
// - token buckets (`burst 3 refill 1 per 1s`) and anchored periods (`per 30d anchored`): one counter
//   per key, whose state (level and refill time; anchor and period) the store keeps; no index.
//
// The index is part of the counter key, so no reset job exists: a new window is a new key.

import type { BudgetWindow } from './compiled.js';

export interface WindowSpan {
  /** Part of the counter key. Strings for calendar units (`2026-11-24`, `2026-W48`), a number for
   *  duration buckets (the bucket ordinal since the epoch); null for lifetime and per-request. */
  index: string | number | null;
  /** Inclusive start; null for lifetime and per-request. */
  start: Date | null;
  /** Exclusive end; null for lifetime and per-request. */
  end: Date | null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-01 was a Thursday: the ISO week containing it started Monday 1969-12-29. */
const EPOCH_MONDAY = -3 * DAY;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function floorTo(nowMs: number, size: number, origin = 0): number {
  return Math.floor((nowMs - origin) / size) * size + origin;
}

/** The window containing `nowMs` (epoch milliseconds). */
export function windowOf(window: BudgetWindow, nowMs: number): WindowSpan {
  if (!Number.isFinite(nowMs)) throw new RangeError(`windowOf: invalid time ${nowMs}`);
  if (window.kind === 'lifetime' || window.kind === 'request' || window.kind === 'bucket' || window.kind === 'anchored') return { index: null, start: null, end: null };
  if (window.kind === 'rolling') {
    // The current sub-bucket (the span the counter key names).
    const { bucketMs } = rollingShape(window.ms!);
    const n = Math.floor(nowMs / bucketMs);
    return { index: `r${n}`, start: new Date(n * bucketMs), end: new Date((n + 1) * bucketMs) };
  }
  if (window.ms !== undefined) {
    const ms = window.ms;
    if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`windowOf: invalid window length ${ms}`);
    const n = Math.floor(nowMs / ms);
    return { index: n, start: new Date(n * ms), end: new Date((n + 1) * ms) };
  }
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const ymd = (t: Date) => `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
  switch (window.unit) {
    case 'minute': {
      const s = floorTo(nowMs, MINUTE);
      const sd = new Date(s);
      return { index: `${ymd(sd)}T${pad(sd.getUTCHours())}:${pad(sd.getUTCMinutes())}`, start: sd, end: new Date(s + MINUTE) };
    }
    case 'hour': {
      const s = floorTo(nowMs, HOUR);
      const sd = new Date(s);
      return { index: `${ymd(sd)}T${pad(sd.getUTCHours())}`, start: sd, end: new Date(s + HOUR) };
    }
    case 'day': {
      const s = floorTo(nowMs, DAY);
      const sd = new Date(s);
      return { index: ymd(sd), start: sd, end: new Date(s + DAY) };
    }
    case 'week': {
      const s = floorTo(nowMs, WEEK, EPOCH_MONDAY);
      const thursday = new Date(s + 3 * DAY);
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / WEEK) + 1;
      return { index: `${pad(isoYear, 4)}-W${pad(week)}`, start: new Date(s), end: new Date(s + WEEK) };
    }
    case 'month':
      return { index: `${pad(y, 4)}-${pad(mo + 1)}`, start: new Date(Date.UTC(y, mo, 1)), end: new Date(Date.UTC(y, mo + 1, 1)) };
    default:
      throw new RangeError(`windowOf: unknown window ${JSON.stringify(window)}`);
  }
}

/** A short, stable tag for the window's kind, part of the counter key so that changing a budget's
 *  window (e.g. `per day` → `per hour`) never reuses the old counters. */
export function windowTag(window: BudgetWindow): string {
  if (window.kind === 'lifetime') return 'life';
  if (window.kind === 'request') return 'req';
  if (window.kind === 'rolling') return `roll${window.ms}ms`;
  if (window.kind === 'bucket') return `bucket${window.refill}per${window.ms}ms`;
  if (window.kind === 'anchored') return `anch${window.ms}ms`;
  if (window.ms !== undefined) return `${window.ms}ms`;
  return window.unit ?? 'unknown';
}

/** How many sub-buckets a rolling window is cut into (at most). */
export const ROLLING_BUCKETS = 60;

/** A rolling window of `ms`: sub-buckets of `bucketMs` (ceil(ms / 60)), and `buckets` (ceil(ms /
 *  bucketMs), at most 60) of them before the current one count. A charge made at t counts while the
 *  current sub-bucket is at most `buckets` after t's: for at least `ms` and less than `ms + 2·bucketMs`. */
export function rollingShape(ms: number): { bucketMs: number; buckets: number } {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new RangeError(`rolling window: invalid length ${ms}`);
  const bucketMs = Math.ceil(ms / ROLLING_BUCKETS);
  return { bucketMs, buckets: Math.ceil(ms / bucketMs) };
}

/** The keys of the `n` sub-buckets before a rolling counter key's (`…:r<ordinal>`), newest first; []
 *  for a key of another shape. The stores count them with the key (store.ts `ReserveItem.rolling`). */
export function rollingSiblings(counterKey: string, n: number): string[] {
  const m = /:r(-?\d+)$/.exec(counterKey);
  if (m === null) return [];
  const head = counterKey.slice(0, counterKey.length - m[1]!.length);
  const cur = Number(m[1]);
  const out: string[] = new Array(n);
  for (let j = 1; j <= n; j++) out[j - 1] = `${head}${cur - j}`;
  return out;
}

/** A window span with what the engine needs per decision precomputed (ISO strings, epoch ms). */
export interface WindowInfo extends WindowSpan {
  /** When the store may forget the counter the key names (epoch ms): the window's end (fixed), the
   *  end of the last rolling window its sub-bucket counts in (rolling); null: never (lifetime, token
   *  buckets, anchored periods). */
  expiresAt: number | null;
  /** For rolling windows: how many sub-buckets before this one the store counts with it; else 0. */
  rolling: number;
  /** `start.toISOString()`, null for lifetime and per-request. */
  startIso: string | null;
  /** `end.toISOString()`, null for lifetime and per-request. */
  endIso: string | null;
  /** `end.getTime()`, null for lifetime and per-request. */
  endMs: number | null;
  /** `start.getTime()`; -Infinity for lifetime and per-request (valid for every finite time). */
  startMs: number;
  /** `{ start: startIso, end: endIso }` as a decision's `budgets[].window` shows it (frozen, shared
   *  by every decision in the window); null for lifetime and per-request. */
  json: Readonly<{ start: string; end: string }> | null;
}

/**
 * The current window of one budget window definition, cached until it ends (a decision usually
 * falls in the same window as the previous one). The returned span is shared between calls: treat
 * it (and its Dates) as read-only.
 */
export class WindowCache {
  private cur: WindowInfo | null = null;
  constructor(readonly window: BudgetWindow) {}

  at(nowMs: number): WindowInfo {
    const c = this.cur;
    // NaN fails both comparisons and reaches windowOf, which throws.
    if (c !== null && nowMs >= c.startMs && (c.endMs === null || nowMs < c.endMs)) return c;
    const info = windowInfo(this.window, nowMs);
    this.cur = info;
    return info;
  }
}

/** The window containing `nowMs`, with the precomputed fields of `WindowInfo`. */
export function windowInfo(window: BudgetWindow, nowMs: number): WindowInfo {
  const s = windowOf(window, nowMs);
  const startIso = s.start ? s.start.toISOString() : null;
  const endIso = s.end ? s.end.toISOString() : null;
  const endMs = s.end ? s.end.getTime() : null;
  let json: Readonly<{ start: string; end: string }> | null = startIso !== null && endIso !== null ? Object.freeze({ start: startIso, end: endIso }) : null;
  let expiresAt = endMs;
  let rolling = 0;
  if (window.kind === 'rolling' && endMs !== null) {
    // The decision shows the span the rolling counter covers: the oldest counted sub-bucket's start
    // to the current one's end (when the oldest leaves the window).
    const { bucketMs, buckets } = rollingShape(window.ms!);
    rolling = buckets;
    expiresAt = endMs + buckets * bucketMs;
    json = Object.freeze({ start: new Date(endMs - (buckets + 1) * bucketMs).toISOString(), end: endIso! });
  }
  return {
    index: s.index,
    start: s.start,
    end: s.end,
    startIso,
    endIso,
    endMs,
    startMs: s.start ? s.start.getTime() : -Infinity,
    json,
    expiresAt,
    rolling,
  };
}
