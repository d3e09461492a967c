// REIN301: a rule's `deny` without a message. The agent (and the person reading the decision log)
// deserves to know why.

import type { LintRule } from './registry.js';

export const denyWithoutMessage: LintRule = {
  code: 'REIN301',
  name: 'deny-without-message',
  description: '`deny` without a message',
  kinds: ['RuleDecl'],
  check(node, _ctx, accept) {
    if (node.kind !== 'RuleDecl') return;
    for (const item of node.body) {
      if (item.kind === 'Deny' && !item.message)
        accept({
          range: item.range,
          message: `rule \`${node.name?.text ?? ''}\` denies without a message`,
          help: 'say why, e.g. `deny "tool ${action.tool} is blocked"`',
        });
    }
  },
};
