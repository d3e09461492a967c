// REIN340: under `combine first_match`, a rule that can never decide because a rule tried before it
// (higher `@priority`, or the same priority and earlier in source order) matches every request and
// decides: an unconditional `deny`, `require approval` or `allow` (its `when`s fold to true and its
// `unless`es to false, or it has none). `warn` and `@monitor` rules never stop the search.

import type * as A from '../syntax/ast.js';
import { annotationsOf } from '../semantics/annotations.js';
import type { CheckedProgram } from '../semantics/program.js';
import { firstMatchRanks } from '../semantics/priority.js';
import { fold } from './const-fold.js';
import type { LintRule } from './registry.js';

const decides = (r: A.RuleDecl): boolean => {
  if (r.annotations.some((a) => a.name.text === 'monitor')) return false;
  const eff = r.body.find((i) => i.kind !== 'When' && i.kind !== 'Unless');
  return eff !== undefined && (eff.kind === 'Deny' || eff.kind === 'RequireApproval' || eff.kind === 'Allow');
};

const unconditional = (r: A.RuleDecl, program: CheckedProgram): boolean =>
  r.body.every((i) => {
    if (i.kind !== 'When' && i.kind !== 'Unless') return true;
    if (!i.expr) return false;
    const v = fold(i.expr, program);
    return i.kind === 'When' ? v === true : v === false || v === null;
  });

/** Each unreachable rule of a `first_match` program → the first unconditional deciding rule tried
 *  before it. One pass in rank order per program (the lint runs on every keystroke in the editor). */
const blockersCache = new WeakMap<CheckedProgram, Map<A.RuleDecl, A.RuleDecl>>();

function blockersOf(program: CheckedProgram): Map<A.RuleDecl, A.RuleDecl> {
  let out = blockersCache.get(program);
  if (out) return out;
  out = new Map();
  const rules = program.rules.filter((r) => r.name && decides(r));
  const ranks = firstMatchRanks(rules.map((r) => ({ name: r.name!.text, annotations: annotationsOf(r), file: program.declFile.get(r) })));
  const rankOf = (r: A.RuleDecl) => ranks.get(r.name!.text) ?? Infinity;
  let blocker: A.RuleDecl | undefined;
  for (const r of [...rules].sort((a, b) => rankOf(a) - rankOf(b))) {
    if (blocker) out.set(r, blocker);
    else if (unconditional(r, program)) blocker = r;
  }
  blockersCache.set(program, out);
  return out;
}

export const unreachableRule: LintRule = {
  code: 'REIN340',
  name: 'unreachable-rule',
  description: 'under `combine first_match`, a rule after one that always matches can never decide',
  kinds: ['RuleDecl'],
  check(node, ctx, accept) {
    if (node.kind !== 'RuleDecl' || ctx.program.header.combine !== 'first_match' || !node.name) return;
    const blocker = blockersOf(ctx.program).get(node);
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
