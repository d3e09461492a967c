// REIN340: under `combine first_match`, a rule that can never decide because a rule tried before it
// (higher `@priority`, or the same priority and earlier in source order) matches every request and
// decides: an unconditional `deny`, `require approval` or `allow` (its `when`s fold to true and its
// `unless`es to false, or it has none). `warn` and `@monitor` rules never stop the search.

import type * as A from '../syntax/ast.js';
import { firstMatchRanks } from '../semantics/priority.js';
import { fold } from './const-fold.js';
import type { LintContext, LintRule } from './registry.js';

const decides = (r: A.RuleDecl): boolean => {
  if (r.annotations.some((a) => a.name.text === 'monitor')) return false;
  const eff = r.body.find((i) => i.kind !== 'When' && i.kind !== 'Unless');
  return eff !== undefined && (eff.kind === 'Deny' || eff.kind === 'RequireApproval' || eff.kind === 'Allow');
};

/** The rule's `@priority` value, as `firstMatchRanks` reads it. */
const priorityAnnotation = (r: A.RuleDecl): Record<string, string | true> => {
  const a = r.annotations.find((x) => x.name.text === 'priority');
  const v = a?.value?.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('');
  return v === undefined ? {} : { priority: v };
};

const unconditional = (r: A.RuleDecl, ctx: LintContext): boolean =>
  r.body.every((i) => {
    if (i.kind !== 'When' && i.kind !== 'Unless') return true;
    if (!i.expr) return false;
    const v = fold(i.expr, ctx.program);
    return i.kind === 'When' ? v === true : v === false || v === null;
  });

export const unreachableRule: LintRule = {
  code: 'REIN340',
  name: 'unreachable-rule',
  description: 'under `combine first_match`, a rule after one that always matches can never decide',
  kinds: ['RuleDecl'],
  check(node, ctx, accept) {
    if (node.kind !== 'RuleDecl' || ctx.program.header.combine !== 'first_match' || !node.name || !decides(node)) return;
    const rules = ctx.program.rules.filter((r) => r.name);
    const ranks = firstMatchRanks(rules.map((r) => ({ name: r.name!.text, annotations: priorityAnnotation(r) })));
    const mine = ranks.get(node.name.text) ?? -1;
    let blocker: A.RuleDecl | undefined;
    for (const r of rules) {
      if (r === node || !decides(r)) continue;
      const rank = ranks.get(r.name!.text) ?? Infinity;
      if (rank < mine && (!blocker || rank < ranks.get(blocker.name!.text)!) && unconditional(r, ctx)) blocker = r;
    }
    if (!blocker) return;
    const file = ctx.program.files.find((f) => f.decls.includes(blocker!))?.file ?? ctx.file;
    accept({
      range: node.name.range,
      message: `rule \`${node.name.text}\` can never decide: under \`combine first_match\`, rule \`${blocker.name!.text}\` is tried first and matches every request`,
      help: 'give this rule a higher `@priority("N")`, add a condition to the earlier rule, or remove this one',
      related: [{ file, range: blocker.name!.range, message: `rule \`${blocker.name!.text}\` always matches` }],
    });
  },
};
