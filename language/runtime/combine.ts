// Rule-combining algorithms (the policy header's `combine`, docs/language.md "Combining rules").
// `deny_overrides` (the default) needs nothing here: every matched rule is placed and the effects'
// precedence decides (effects.ts). `first_match` keeps, of the rules that decide (matched or failed,
// not `@monitor`, not `warn`), only the first in priority order: higher `@priority("N")` first
// (default 0), ties in source order. Both backends produce outcomes in source order; this runs on them.

import type { RuleOutcome } from './compiled.js';
import { EFFECTS, failsUnmatched } from './effects.js';
export { firstMatchRanks, priorityOf } from '../semantics/priority.js';

/** Whether an outcome takes part in `first_match`: it decides something (a `warn` and a `@monitor`
 *  rule only report, so they are always kept). A failed rule decides, with the `on error` effect —
 *  except one whose `extern def` failed with `on error allow`: that is as if it had not matched, and
 *  the search goes on to the next rule. */
function decides(o: RuleOutcome): boolean {
  return o.matched && !o.monitor && (o.error !== undefined ? !failsUnmatched(o) : EFFECTS[o.effect].decides !== null);
}

/**
 * `first_match` over one request's outcomes (in source order): the deciding outcome with the lowest
 * rank stays; the other deciding ones are dropped (`keepPositions`: turned into "did not match", so
 * the list still lines up with the rules). Non-deciding outcomes are kept as they are.
 *
 * `errorsLast` (the policy's `on error allow`): a rule that failed is tried after every rule that
 * matched, whatever its priority — its `allow` (fail-open) decides only when no explicit rule does, so
 * a failure (`"amount": "5"` where a number is read) never hides a later `deny`, and its error is still
 * reported. With `on error deny` a failed rule decides in its place (fail closed).
 */
export function firstMatch(outcomes: RuleOutcome[], ranks: ReadonlyMap<string, number>, keepPositions: boolean, errorsLast = false): RuleOutcome[] {
  let win = -1;
  let best = Infinity;
  let deciding = 0;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!;
    if (!decides(o)) continue;
    deciding++;
    const r = (ranks.get(o.name) ?? Infinity) + (errorsLast && o.error !== undefined && !o.afterMatch ? ranks.size + 1 : 0);
    if (r < best) {
      best = r;
      win = i;
    }
  }
  if (deciding <= 1) return outcomes;
  const out: RuleOutcome[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!;
    // A failed rule that did not win still reports its error (`errors`); its `allow` is the
    // weakest effect, so beside the winner it changes nothing.
    if (i === win || !decides(o) || (errorsLast && o.error !== undefined && !o.afterMatch)) out.push(o);
    else if (keepPositions) {
      const shadowed: RuleOutcome = { name: o.name, matched: false, effect: o.effect, monitor: o.monitor, annotations: o.annotations, location: o.location };
      // Explained as not matched (it did not decide), with its conditions' values (all held).
      if (o.explain) shadowed.explain = { ...o.explain, matched: false };
      out.push(shadowed);
    }
  }
  return out;
}
