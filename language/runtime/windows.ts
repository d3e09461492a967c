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
  if (window.kind === 'lifetime' || window.kind === 'request') return { index: null, start: null, end: null };
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
  if (window.ms !== undefined) return `${window.ms}ms`;
  return window.unit ?? 'unknown';
}

/** A window span with what the engine needs per decision precomputed (ISO strings, epoch ms). */
export interface WindowInfo extends WindowSpan {
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
    const s = windowOf(this.window, nowMs);
    const startIso = s.start ? s.start.toISOString() : null;
    const endIso = s.end ? s.end.toISOString() : null;
    const info: WindowInfo = {
      index: s.index,
      start: s.start,
      end: s.end,
      startIso,
      endIso,
      endMs: s.end ? s.end.getTime() : null,
      startMs: s.start ? s.start.getTime() : -Infinity,
      json: startIso !== null && endIso !== null ? Object.freeze({ start: startIso, end: endIso }) : null,
    };
    this.cur = info;
    return info;
  }
}
