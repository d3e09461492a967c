// The effects table: every fact about a rule/budget effect, written once. Everything that places an
// entry, decides precedence, asks for an approval or decides whether a budget blocks a reservation
// reads this table (entries.ts `Entries`/`assemble`, the generated code's list choice, the engine's
// reserve step). Adding an effect is one row here, plus its syntax (parser, checker, formatter) and
// editor places; test/runtime/effects.test.ts runs over every row and fails when another runtime file
// restates an effect in a `switch`.

import type { ClauseEffect, Effect } from './compiled.js';
import type { Reason } from './decision.js';

/** The lists of one decision's entries an effect puts its reason into (fields of `Entries`). */
export type EntryList = 'denies' | 'approvalReasons' | 'allows' | 'warnings';

export interface EffectRow {
  readonly effect: ClauseEffect;
  /** The `Entries` list a matched rule/budget with this effect is placed into … */
  readonly list: EntryList;
  /** … and a reader of it (a plain property load where it is hot: `assemble`'s precedence). */
  readonly read: (e: { readonly [L in EntryList]: Reason[] | null }) => Reason[] | null;
  /** Precedence among the effects that can decide (0 wins); null: never decides (`warn`). When the
   *  first non-empty list in precedence order is this row's, the decision's effect is `decides`. */
  readonly rank: number | null;
  readonly decides: Effect | null;
  /** Asks for an approval: placed with an approval request (the decision's `approvals`), unless a
   *  granted approval for it counts: then it is placed as `grantedAs` with `approved: true`. */
  readonly approval: boolean;
  readonly grantedAs: ClauseEffect | null;
  /** A budget exceeded with this `on exceed` effect blocks the reservation (an approval-asking one:
   *  unless its approval was granted; `@monitor` budgets never block). */
  readonly blocksReservation: boolean;
  /** A decision with this effect keeps the reservation made for it (settle replaces its estimate). */
  readonly keepsReservation: boolean;
}

function row(r: EffectRow): EffectRow {
  return Object.freeze(r);
}

/** The table, in precedence order (the order monitor mode lists them under `monitored`). */
export const EFFECTS: { readonly [E in ClauseEffect]: EffectRow } = Object.freeze({
  deny: row({ effect: 'deny', list: 'denies', read: (e) => e.denies, rank: 0, decides: 'deny', approval: false, grantedAs: null, blocksReservation: true, keepsReservation: false }),
  require_approval: row({
    effect: 'require_approval',
    list: 'approvalReasons',
    read: (e) => e.approvalReasons,
    rank: 1,
    decides: 'require_approval',
    approval: true,
    grantedAs: 'allow',
    blocksReservation: true,
    keepsReservation: false,
  }),
  allow: row({ effect: 'allow', list: 'allows', read: (e) => e.allows, rank: 2, decides: 'allow', approval: false, grantedAs: null, blocksReservation: false, keepsReservation: true }),
  warn: row({ effect: 'warn', list: 'warnings', read: (e) => e.warnings, rank: null, decides: null, approval: false, grantedAs: null, blocksReservation: false, keepsReservation: false }),
});

/** Every row, in table order. */
export const EFFECT_ROWS: readonly EffectRow[] = Object.freeze(Object.values(EFFECTS));

/** The rows that can decide, winner first. */
export const PRECEDENCE: readonly EffectRow[] = Object.freeze(
  EFFECT_ROWS.filter((r) => r.rank !== null).sort((a, b) => (a.rank as number) - (b.rank as number)),
);

/** Whether exceeding a budget with `effect` (not `@monitor`) blocks the reservation; `granted`: its
 *  approval was granted for this request. */
export function blocksReservation(effect: ClauseEffect, granted: boolean): boolean {
  const r = EFFECTS[effect];
  return r.blocksReservation && !(r.approval && granted);
}

/** Whether an `on error` effect fails open (a failure counts as an `allow`): then a failed rule is
 *  tried last under `first_match`, and a rule whose conditions held but whose message failed stands
 *  with its own effect (decorating a message never un-denies a rule). */
export function failsOpen(onError: 'allow' | 'deny'): boolean {
  return EFFECTS[onError].decides === 'allow';
}

/** Whether a failed rule counts as not matched: one whose `extern def` call failed with the extern's
 *  own `on error allow` (docs/externs.md). It places no reason (never an `allow` that `default deny`
 *  would take as the rule allowing), and under `combine first_match` the search goes on. */
export function failsUnmatched(o: { readonly errorEffect?: 'allow' | 'deny' }): boolean {
  return o.errorEffect === 'allow';
}
