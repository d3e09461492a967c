// REIN302: a rule that can never match because one of its conditions is constant: `when false`,
// `when 1 > 2`, `unless true`, or a `when` on a `let` that folds to false.

import { fold } from './const-fold.js';
import type { LintRule } from './registry.js';

export const neverMatches: LintRule = {
  code: 'REIN302',
  name: 'never-matches',
  description: 'rule can never match (a condition is constant false)',
  kinds: ['RuleDecl'],
  check(node, ctx, accept) {
    if (node.kind !== 'RuleDecl') return;
    for (const item of node.body) {
      if ((item.kind !== 'When' && item.kind !== 'Unless') || !item.expr) continue;
      const v = fold(item.expr, ctx.program);
      const dead = item.kind === 'When' ? v === false || v === null : v === true;
      if (dead)
        accept({
          range: item.expr.range,
          message: `rule \`${node.name?.text ?? ''}\` can never match: this \`${item.kind === 'When' ? 'when' : 'unless'}\` is always ${item.kind === 'When' ? 'false' : 'true'}`,
          help: 'remove the rule, or fix the condition',
        });
    }
  },
};
