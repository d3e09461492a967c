// Budget planning: for one request, which budgets apply, their counter keys, windows and charges.
// Pure (no store access); the engine turns plans into store items and decision outcomes.

import type { BudgetView, CompiledBudget, Env } from './compiled.js';
import { canonicalJson } from './hash.js';
import { formatMicros } from './money.js';
import { WindowCache, windowTag, type WindowInfo, type WindowSpan } from './windows.js';
import type { BudgetWindow } from './compiled.js';
import type { CounterMode, StoreWindowKind } from './store.js';

const MODES = new WeakMap<BudgetWindow, CounterMode | null>();

/** The store's `CounterMode` of a token-bucket or anchored window (one object per window), else
 *  undefined. */
export function counterModeOf(window: BudgetWindow): CounterMode | undefined {
  let m = MODES.get(window);
  if (m === undefined) {
    m =
      window.kind === 'bucket'
        ? Object.freeze({ kind: 'bucket' as const, refill: window.refill!, everyMs: window.ms! })
        : window.kind === 'anchored'
          ? Object.freeze({ kind: 'anchored' as const, periodMs: window.ms! })
          : null;
    MODES.set(window, m);
  }
  return m ?? undefined;
}

/** The store capability a window needs (store.ts `windowKinds`), or undefined for fixed windows. */
export function storeKindOf(window: BudgetWindow): StoreWindowKind | undefined {
  return window.kind === 'rolling' || window.kind === 'bucket' || window.kind === 'anchored' ? window.kind : undefined;
}

/** The last time a Date represents (ms). */
const MAX_TIME = 8.64e15;

/**
 * What a decision shows as a budget's `window` for the counter state the store reported: the
 * planned window for fixed and rolling windows; for a token bucket, now until it is full again
 * (level and held reservations refilled); for an anchored period, the current period (from `start`
 * when the counter exists, else the period the first charge would open: now + the period).
 */
export function liveWindow(window: BudgetWindow, planned: WindowInfo['json'], now: number, spent: number, reserved: number, start: number | undefined): { start: string; end: string } | null {
  // An end past the last representable time (a tiny refill, a huge period) shows no window.
  if (window.kind === 'bucket') {
    const full = now + Math.ceil(((spent + reserved) * window.ms!) / window.refill!);
    return full <= MAX_TIME ? { start: new Date(now).toISOString(), end: new Date(full).toISOString() } : null;
  }
  if (window.kind === 'anchored') {
    const s = start ?? now;
    return s + window.ms! <= MAX_TIME ? { start: new Date(s).toISOString(), end: new Date(s + window.ms!).toISOString() } : null;
  }
  return planned;
}

export interface BudgetPlan {
  budget: CompiledBudget;
  /** `when`/`unless` hold. False for non-applicable budgets (which are not charged or reported). */
  applies: boolean;
  /** The `by` tuple (empty for a global counter). */
  key: unknown[];
  /** The store key; null for `per request` budgets (no counter). */
  counterKey: string | null;
  /** The current window (shared between plans of the same window: read-only). */
  window: WindowInfo;
  /** The charge (non-negative safe integer in the budget's unit); 0 when `error` is set. */
  charge: number;
  /** The limit for this request (the budget's constant, or its `limitOf`): what is reserved against. */
  limit: number;
  /** `warn at` for this request (a fraction), if any. */
  warnAt: number | undefined;
  /** A run-time error evaluating `when`/`unless`, `by` or `charge`, or an invalid charge. */
  error?: string;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Why a charge is unusable, or undefined when it is a non-negative safe integer. */
export function chargeProblem(charge: unknown, unit: 'money' | 'number'): string | undefined {
  if (typeof charge !== 'number') return `charge is not a number (${charge === null ? 'null' : typeof charge})`;
  if (Number.isNaN(charge)) return 'charge is NaN';
  if (!Number.isFinite(charge)) return 'charge is infinite';
  // money in currency units (`-0.500000`), as the decision's budget rows show it, never in micros
  if (charge < 0) return `charge is negative (${unit === 'money' && Number.isSafeInteger(charge) ? formatMicros(charge) : charge})`;
  if (!Number.isSafeInteger(charge)) {
    return unit === 'money' ? `charge is not a whole number of micros (${charge})` : `charge must be a whole number (${charge})`;
  }
  return undefined;
}

/**
 * The counter key: `<prefix><budget>:<window kind>:<canonical JSON of the by tuple>:<window index>`.
 * Budget names are identifiers (no `:`), the window kind has no `:` and canonical JSON is
 * self-delimiting, so distinct (budget, window kind, tuple, index) never share a key.
 */
export function counterKeyOf(prefix: string, budget: CompiledBudget, key: unknown[], window: WindowSpan): string | null {
  if (budget.window.kind === 'request') return null;
  const index = window.index === null ? '' : String(window.index);
  return `${prefix}${budget.name}:${windowTag(budget.window)}:${canonicalJson(key)}:${index}`;
}

/** The `by` tuple, checked to be representable in a key (no NaN/Infinity, no cycles). */
export function keyOf(budget: CompiledBudget, env: Env): unknown[] {
  const key = budget.key(env);
  if (!Array.isArray(key)) throw new TypeError('`by` did not produce a tuple');
  for (let i = 0; i < key.length; i++) {
    if (!cacheable(key[i])) {
      canonicalJson(key); // throws on non-finite numbers and cycles
      break;
    }
  }
  return key;
}

/** Per-budget state kept between decisions: the current window and the counter keys built in it. */
interface Slot {
  budget: CompiledBudget;
  /** `<prefix><name>:<window tag>:`, the constant head of every counter key. */
  head: string;
  windows: WindowCache;
  /** The window the cached keys belong to. */
  keysWindow: WindowInfo | null;
  /** Counter keys by single-scalar `by` tuple (the common case), for `keysWindow`. */
  keys: Map<unknown, string>;
  /** The counter key of the empty tuple (a global counter) in `keysWindow`. */
  globalKey: string | null;
}

/** How many counter keys a budget caches per window before starting over (bounds memory). */
const MAX_CACHED_KEYS = 10_000;

/** Whether a `by` tuple element can key the cache: a scalar whose canonical JSON is determined by
 *  its value under SameValueZero (Map's equality): -0 and 0 both write `0`. */
function cacheable(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      return v === null;
    default:
      return false;
  }
}

/**
 * Plans budgets for many requests, caching what does not change between them: each budget's
 * current window (until it ends) and the counter keys built in it. One per engine (per key prefix).
 */
export class BudgetPlanner {
  private readonly slots: Slot[];
  private readonly byName = new Map<string, Slot>();

  /** Budgets whose window the store does not implement → why (they fail closed). */
  private readonly unsupported: Map<CompiledBudget, string>;

  constructor(
    budgets: readonly CompiledBudget[],
    readonly prefix: string,
    storeKinds: readonly StoreWindowKind[] | null = null,
  ) {
    this.unsupported = new Map();
    for (const b of budgets) {
      const k = storeKindOf(b.window);
      if (k !== undefined && storeKinds !== null && !storeKinds.includes(k)) {
        const what = k === 'rolling' ? 'rolling windows' : k === 'bucket' ? 'token buckets' : 'anchored periods';
        this.unsupported.set(b, `the budget store does not implement ${what} (its \`windowKinds\` does not list \`${k}\`)`);
      }
    }
    this.slots = budgets.map((budget) => {
      const slot: Slot = {
        budget,
        head: `${prefix}${budget.name}:${windowTag(budget.window)}:`,
        windows: new WindowCache(budget.window),
        keysWindow: null,
        keys: new Map(),
        globalKey: null,
      };
      if (!this.byName.has(budget.name)) this.byName.set(budget.name, slot);
      return slot;
    });
  }

  /** Plan every budget for one request: only applicable budgets (and those whose `when`/`unless`
   *  failed) are returned. Never throws on run-time errors: problems become `error`. Throws a
   *  RangeError when `env.now` is not a finite time (and a budget applies). */
  plan(env: Env): BudgetPlan[] {
    const slots = this.slots;
    // Null until the first plan, then a list of one (`added`): the first `push` into `[]` would
    // allocate room for 17 (~150 bytes per decision, most of which plan one budget).
    let plans: BudgetPlan[] | null = null;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const budget = slot.budget;
      let applies: boolean;
      try {
        applies = budget.applies(env);
      } catch (e) {
        // an applicability error counts against the request (fail closed)
        plans = added(plans, { budget, applies: true, key: [], counterKey: null, window: slot.windows.at(env.now), charge: 0, limit: budget.limit, warnAt: budget.warnAt, error: `\`when\`/\`unless\` failed: ${message(e)}` });
        continue;
      }
      if (!applies) continue;
      // (after `applies`: a budget that does not apply needs no window)
      const window = slot.windows.at(env.now);
      const plan: BudgetPlan = { budget, applies: true, key: EMPTY_KEY, counterKey: null, window, charge: 0, limit: budget.limit, warnAt: budget.warnAt };
      if (this.unsupported.size > 0 && this.unsupported.has(budget)) {
        plan.error = this.unsupported.get(budget)!;
        plans = added(plans, plan);
        continue;
      }
      if (budget.limitOf !== undefined || budget.warnAtOf !== undefined) {
        let clause = 'limit';
        try {
          if (budget.limitOf !== undefined) plan.limit = budget.limitOf(env);
          clause = 'warn at';
          if (budget.warnAtOf !== undefined) plan.warnAt = budget.warnAtOf(env);
        } catch (e) {
          plan.error = `\`${clause}\` failed: ${message(e)}`;
          plans = added(plans, plan);
          continue;
        }
      }
      try {
        plan.key = keyOf(budget, env);
        plan.counterKey = this.counterKey(slot, plan.key, window);
      } catch (e) {
        plan.key = [];
        plan.error = `\`by\` failed: ${message(e)}`;
        plans = added(plans, plan);
        continue;
      }
      let charge: number;
      try {
        charge = budget.charge(env);
      } catch (e) {
        plan.error = `\`charge\` failed: ${message(e)}`;
        plans = added(plans, plan);
        continue;
      }
      const problem = chargeProblem(charge, budget.unit);
      if (problem) plan.error = problem;
      else plan.charge = charge;
      plans = added(plans, plan);
    }
    return plans ?? [];
  }

  /** The counter key of budget `name` for `env` (null for `per request`, undefined for an unknown
   *  budget). Throws when `by` fails. */
  counterKeyByName(name: string, env: Env): { budget: CompiledBudget; counterKey: string | null } | undefined {
    const slot = this.byName.get(name);
    if (!slot) return undefined;
    const window = slot.windows.at(env.now);
    return { budget: slot.budget, counterKey: this.counterKey(slot, keyOf(slot.budget, env), window) };
  }

  private counterKey(slot: Slot, key: unknown[], window: WindowInfo): string | null {
    if (slot.budget.window.kind === 'request') return null;
    if (slot.keysWindow !== window) {
      slot.keysWindow = window;
      slot.keys.clear();
      slot.globalKey = null;
    }
    // (The window's index as text only when a key is made: the cached keys need none.)
    if (key.length === 0) {
      return (slot.globalKey ??= `${slot.head}[]:${indexText(window)}`);
    }
    if (key.length === 1 && cacheable(key[0])) {
      const k = key[0];
      let ck = slot.keys.get(k);
      if (ck === undefined) {
        if (slot.keys.size >= MAX_CACHED_KEYS) slot.keys.clear();
        ck = `${slot.head}${canonicalJson(key)}:${indexText(window)}`;
        slot.keys.set(k, ck);
      }
      return ck;
    }
    return `${slot.head}${canonicalJson(key)}:${indexText(window)}`;
  }
}

const EMPTY_KEY: unknown[] = [];

/** `list` with `p` added: a new list of one when `list` is null. */
function added(list: BudgetPlan[] | null, p: BudgetPlan): BudgetPlan[] {
  if (list === null) return [p];
  list.push(p);
  return list;
}

/** A counter key's last part: the window's index ('' for a window without one). */
function indexText(window: WindowInfo): string {
  return window.index === null ? '' : String(window.index);
}

/** Plan every budget of the policy for one request. Never throws: problems become `error`.
 *  (One-off form of `BudgetPlanner.plan`; the engine keeps a planner.) */
export function planBudgets(budgets: readonly CompiledBudget[], env: Env, prefix: string): BudgetPlan[] {
  return new BudgetPlanner(budgets, prefix).plan(env);
}

/** What rules see as `name.spent/.remaining/.limit/.used`. */
export function viewOf(limit: number, spent: number, reserved: number): BudgetView {
  return {
    spent,
    remaining: limit - spent - reserved,
    limit,
    used: limit > 0 ? (spent + reserved) / limit : spent + reserved > 0 ? Infinity : 0,
  };
}

/** The smallest total (spent + reserved + charge) that crosses `warn at` (a fraction of the limit). */
export function warnThreshold(limit: number, warnAt: number): number {
  // Round the product to micro precision first so 0.8 × 50_000_000 is 40_000_000, not 40_000_000.000000004.
  return Math.ceil(Math.round(warnAt * limit * 1e6) / 1e6);
}
