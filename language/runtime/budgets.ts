// Budget planning: for one request, which budgets apply, their counter keys, windows and charges.
// Pure (no store access); the engine turns plans into store items and decision outcomes.

import type { BudgetView, CompiledBudget, Env } from './compiled.js';
import { canonicalJson } from './hash.js';
import { windowOf, windowTag, type WindowSpan } from './windows.js';

export interface BudgetPlan {
  budget: CompiledBudget;
  /** `when`/`unless` hold. False for non-applicable budgets (which are not charged or reported). */
  applies: boolean;
  /** The `by` tuple (empty for a global counter). */
  key: unknown[];
  /** The store key; null for `per request` budgets (no counter). */
  counterKey: string | null;
  window: WindowSpan;
  /** The charge (non-negative safe integer in the budget's unit); 0 when `error` is set. */
  charge: number;
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
  if (charge < 0) return `charge is negative (${charge})`;
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
  canonicalJson(key); // throws on non-finite numbers and cycles
  return key;
}

/** Plan every budget of the policy for one request. Never throws: problems become `error`. */
export function planBudgets(budgets: readonly CompiledBudget[], env: Env, prefix: string): BudgetPlan[] {
  const plans: BudgetPlan[] = [];
  for (const budget of budgets) {
    const window = windowOf(budget.window, env.now);
    const plan: BudgetPlan = { budget, applies: false, key: [], counterKey: null, window, charge: 0 };
    try {
      plan.applies = budget.applies(env);
    } catch (e) {
      plan.applies = true; // an applicability error counts against the request (fail closed)
      plan.error = `\`when\`/\`unless\` failed: ${message(e)}`;
      plans.push(plan);
      continue;
    }
    if (!plan.applies) continue;
    try {
      plan.key = keyOf(budget, env);
      plan.counterKey = counterKeyOf(prefix, budget, plan.key, window);
    } catch (e) {
      plan.error = `\`by\` failed: ${message(e)}`;
      plans.push(plan);
      continue;
    }
    let charge: number;
    try {
      charge = budget.charge(env);
    } catch (e) {
      plan.error = `\`charge\` failed: ${message(e)}`;
      plans.push(plan);
      continue;
    }
    const problem = chargeProblem(charge, budget.unit);
    if (problem) plan.error = problem;
    else plan.charge = charge;
    plans.push(plan);
  }
  return plans;
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
