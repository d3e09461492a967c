// REIN303: two rules with the same set of conditions (compared on their normalised source: the
// `when`s and the `unless`es as sets, parentheses and spacing ignored). Usually a copy-paste slip,
// or two rules that should be one. `redact` rules are left out: each masks one path with one
// detector, so two of them (or one and a deciding rule) cannot be one rule.

import type * as A from '../syntax/ast.js';
import { printExpr } from '../semantics/print.js';
import type { LintRule } from './registry.js';

export const duplicateConditions: LintRule = {
  code: 'REIN303',
  name: 'duplicate-conditions',
  description: 'two rules with the same conditions',
  kinds: ['RuleDecl'],
  check(node, ctx, accept, state) {
    if (node.kind !== 'RuleDecl') return;
    // A `redact` rule masks one path with one detector: rules that mask more cannot be merged into it.
    if (node.body.some((item) => item.kind === 'Redact')) return;
    const whens: string[] = [];
    const unlesses: string[] = [];
    for (const item of node.body) {
      if (item.kind !== 'When' && item.kind !== 'Unless') continue;
      if (!item.expr || item.expr.kind === 'Error') return;
      (item.kind === 'When' ? whens : unlesses).push(printExpr(item.expr));
    }
    if (whens.length + unlesses.length === 0) return;
    const key = JSON.stringify([[...new Set(whens)].sort(), [...new Set(unlesses)].sort()]);
    const first = state.get(key) as { rule: A.RuleDecl; file: string } | undefined;
    if (!first) {
      state.set(key, { rule: node, file: ctx.file });
      return;
    }
    accept({
      range: node.name?.range ?? node.range,
      message: `rule \`${node.name?.text ?? ''}\` has the same conditions as rule \`${first.rule.name?.text ?? ''}\``,
      help: 'merge the two rules, or make their conditions differ',
      related: [{ file: first.file, range: first.rule.name?.range ?? first.rule.range, message: `rule \`${first.rule.name?.text ?? ''}\`` }],
    });
  },
};
