// REIN300: a `let` or `def` that nothing reads (rules, budgets, other lets/defs, tests all count).
// A reference from inside the declaration's own body (recursion, an error anyway) is not a use.

import type * as A from '../syntax/ast.js';
import { walkExpr } from '../semantics/expr-walk.js';
import type { LintRule } from './registry.js';

export const unusedDeclaration: LintRule = {
  code: 'REIN300',
  name: 'unused-declaration',
  description: 'a `let` or `def` that is never used',
  kinds: [],
  finish(ctx, accept) {
    const count = new Map<A.Decl, number>();
    for (const sym of ctx.program.refs.values())
      if (sym.kind === 'let' || sym.kind === 'def') count.set(sym.decl, (count.get(sym.decl) ?? 0) + 1);
    for (const decl of [...ctx.program.lets, ...ctx.program.defs]) {
      if (!decl.name) continue;
      const total = count.get(decl) ?? 0;
      if (total > 0) {
        let self = 0;
        walkExpr(decl.kind === 'LetDecl' ? decl.value : decl.body, (e) => {
          if (e.kind === 'NameRef' && e.name.text === decl.name!.text) {
            const s = ctx.program.refs.get(e.name);
            if (s && (s.kind === 'let' || s.kind === 'def') && s.decl === decl) self++;
          }
        });
        if (total > self) continue;
      }
      const what = decl.kind === 'LetDecl' ? (decl.source ? '`data`' : '`let`') : '`def`';
      accept({
        file: ctx.program.declFile.get(decl),
        range: decl.name.range,
        message: `${what} \`${decl.name.text}\` is never used`,
        help: 'remove it, or use it in a rule, budget or test',
      });
    }
  },
};
