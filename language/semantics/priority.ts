// Rule order under `combine first_match` (docs/language.md "Combining rules"): higher
// `@priority("N")` first (default 0), then a base layer's rules (files named `../…`, docs/layering.md)
// before the team's, then source order (file name, position). Used by the runtime (runtime/combine.ts)
// and the lint (REIN340), so it lives below both.

/** A rule's `@priority("N")` (default 0; the checker rejects anything but a whole number). */
export function priorityOf(r: { annotations: Record<string, string | true> }): number {
  const v = r.annotations.priority;
  if (typeof v !== 'string') return 0;
  const n = Number.parseInt(v.trim(), 10);
  return Number.isSafeInteger(n) ? n : 0;
}

/** Each rule's place in `first_match` order (0 is tried first), by name. */
export function firstMatchRanks(rules: readonly { name: string; annotations: Record<string, string | true>; file?: string }[]): Map<string, number> {
  // A team file whose name sorts before `../` (`-team.rein`, `#x.rein`) must not beat the base.
  const order = rules.map((r, i) => ({ name: r.name, i, p: priorityOf(r), team: r.file?.startsWith('../') ? 0 : 1 }));
  order.sort((a, b) => b.p - a.p || a.team - b.team || a.i - b.i);
  const ranks = new Map<string, number>();
  order.forEach((x, k) => ranks.set(x.name, k));
  return ranks;
}

