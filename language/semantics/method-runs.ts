// How the evaluator runs each built-in list and map method: the part of their registry entries
// (semantics/builtins.ts) that lowering reads, kept here so that a prebuilt policy's bundle
// (`rein/runtime`: lowering without the checker) does not carry the entries' documentation, typing
// and examples (3.4 KB gzip, docs/benchmarks.md "Session 9: bundle room"). builtins.ts's
// `LIST_METHODS` and `MAP_METHODS` are these very registries, their entries completed there: a method
// added to them (test/runtime/list-loops.test.ts adds some at test time) is one lowering sees. A
// built-in's entry in builtins.ts spreads its run from here; test/semantics/builtins.test.ts checks
// that every built-in has one.

/**
 * How the evaluator runs a list method: ONE pass over the elements, as plain data. Lowering copies it
 * into the call's IR node (runtime/ir.ts), and both backends read it there: the closure backend runs
 * one closure per step kind, the JavaScript backend emits a loop specialised for it at code
 * generation time. Each element gives a value `v`: the lambda's result (`xs.any(x => …)`), or the
 * element itself when the call has no lambda (`xs.sum()`, `xs.contains(a)`). The elements for which
 * `when` holds do `step`:
 * - `stop`: the result is `stopWith`, the remaining elements are not looked at; when no element stops
 *   the loop (or the list is null), the result is `!stopWith`;
 * - `count`: the result is how many elements act, from 0 (`when: 'always'` is the list's length);
 * - `add`: the result is the sum of their `v`, from 0 (exact money arithmetic when the call's type
 *   is money);
 * - `keep`: the result is a new list of those elements, in order;
 * - `push`: the result is a new list of their `v` (null for a missing value), in order.
 * A null list (an absent field) gives what an empty list gives, or `ifNull` when set. Any other value
 * is a rule error (`\`.m()\` needs a list`).
 */
export type ListLoop = {
  /** `v === true`, `v !== true`, `v` is a number, `v` is a number where any other value but `null`
   *  (skipped) is a rule error (`summand`: runtime/ops.ts), `v` equals the call's argument (deep equality, as
   *  `in`: a null argument equals nothing), or every element. */
  when: 'true' | 'notTrue' | 'number' | 'summand' | 'equalsArg' | 'always';
  /** The result for a null list when it is not the empty list's (`len`: null). */
  ifNull?: null;
} & ({ step: 'stop'; stopWith: boolean } | { step: 'count' | 'add' | 'keep' | 'push' });

export type MapYield = 'key' | 'value' | 'entry';

/** What lowering needs of a list method. */
export interface ListRun {
  /** Whether its argument is a lambda (`x => …`); otherwise its argument (if any) is a value. */
  lambda: boolean;
  min: number;
  max: number;
  /** How the evaluator runs it. */
  loop: ListLoop;
}

/** What lowering needs of a map method: one list item per key, in sorted key order — the key, its
 *  value, or an entry `{ key, value }` (runtime/ops.ts `mapMethod`). */
export interface MapRun {
  yields: MapYield;
}

/** A registry as an object without a prototype: `xs.toString()` or `m.constructor()` name no entry. */
const registry = <T extends object>(entries: T): T => Object.assign(Object.create(null) as T, entries);

export const LIST_RUNS: Record<string, ListRun> = registry({
  any: { lambda: true, min: 1, max: 1, loop: { when: 'true', step: 'stop', stopWith: true } },
  all: { lambda: true, min: 1, max: 1, loop: { when: 'notTrue', step: 'stop', stopWith: false } },
  count: { lambda: true, min: 1, max: 1, loop: { when: 'true', step: 'count' } },
  filter: { lambda: true, min: 1, max: 1, loop: { when: 'true', step: 'keep' } },
  map: { lambda: true, min: 1, max: 1, loop: { when: 'always', step: 'push' } },
  sum: { lambda: true, min: 0, max: 1, loop: { when: 'summand', step: 'add' } },
  len: { lambda: false, min: 0, max: 0, loop: { when: 'always', step: 'count', ifNull: null } },
  contains: { lambda: false, min: 1, max: 1, loop: { when: 'equalsArg', step: 'stop', stopWith: true } },
} satisfies Record<string, ListRun>);

export const MAP_RUNS: Record<string, MapRun> = registry({
  keys: { yields: 'key' },
  values: { yields: 'value' },
  entries: { yields: 'entry' },
} satisfies Record<string, MapRun>);
