// REIN307: a deny or approval rule whose condition calls a method on an `any` value (or `len(…)`)
// without testing its type. `cmd.contains("rm -rf")` with `cmd: any` is null when the command comes
// as a list or a number; the evaluator then fails the rule (the `on error` effect, see
// docs/evaluation.md), but the author meant to handle both shapes: test the type with `type_of`.

import type * as A from '../syntax/ast.js';
import { walkExpr } from '../semantics/expr-walk.js';
import { printExpr } from '../semantics/print.js';
import { LIST_METHODS, MAP_METHODS, STRING_METHODS } from '../semantics/builtins.js';
import type { LintRule } from './registry.js';

function isAny(t: { kind: string; inner?: { kind: string } } | undefined): boolean {
  if (!t) return false;
  return t.kind === 'any' || (t.kind === 'nullable' && t.inner?.kind === 'any');
}

/** Source texts of the expressions whose type a condition tests with `type_of(x)`. */
function typeTested(e: A.Expr): Set<string> {
  const out = new Set<string>();
  walkExpr(e, (x) => {
    if (x.kind === 'Call' && x.callee.kind === 'NameRef' && x.callee.name.text === 'type_of' && x.args[0]) out.add(printExpr(x.args[0]));
  });
  return out;
}

export const anyMethod: LintRule = {
  code: 'REIN307',
  name: 'untyped-any-condition',
  description: 'a deny or approval condition calls a method on an `any` value without testing its type',
  kinds: ['RuleDecl'],
  check(node, ctx, accept) {
    if (node.kind !== 'RuleDecl') return;
    if (!node.body.some((i) => i.kind === 'Deny' || i.kind === 'RequireApproval')) return;
    // Type tests anywhere in the rule's conditions count (`when type_of(cmd) == "string"` on its own line).
    const tested = new Set<string>();
    for (const item of node.body) if ((item.kind === 'When' || item.kind === 'Unless') && item.expr) for (const t of typeTested(item.expr)) tested.add(t);
    for (const item of node.body) {
      if ((item.kind !== 'When' && item.kind !== 'Unless') || !item.expr) continue;
      walkExpr(item.expr, (x) => {
        if (x.kind !== 'Call' || x.callee.kind !== 'Member' || !x.callee.property) return;
        const recv = x.callee.object;
        const m0 = x.callee.property.text;
        if (!(m0 in STRING_METHODS) && !(m0 in LIST_METHODS) && !(m0 in MAP_METHODS)) return; // unknown methods are errors already
        if (recv.kind === 'NameRef' && ctx.program.refs.get(recv.name)?.kind !== undefined && ctx.program.refs.get(recv.name)?.kind === 'detector') return;
        if (!isAny(ctx.program.types.get(recv))) return;
        const text = printExpr(recv);
        if (tested.has(text)) return;
        const m = x.callee.property.text;
        accept({
          range: x.range,
          message: `\`${text}\` is \`any\`: \`.${m}()\` assumes one shape of it; a list, number or map there tests something else or fails the rule`,
          help: `test the type first, e.g. \`type_of(${text}) == "string" and …\` (and handle \`"list"\`), or give the field a type in \`input\``,
        });
      });
    }
  },
};
