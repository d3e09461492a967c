// A small private walker over expressions (the general one is language/syntax/visit.ts).

import type * as A from '../syntax/ast.js';

export function exprChildren(e: A.Expr): (A.Expr | undefined)[] {
  switch (e.kind) {
    case 'String':
      return e.parts.map((p) => (p.kind === 'Interpolation' ? p.expr : undefined));
    case 'List':
      return e.items;
    case 'Object':
      return e.entries.map((en) => en.value);
    case 'Member':
      return [e.object];
    case 'Index':
      return [e.object, e.index];
    case 'Call':
      return [e.callee, ...e.args];
    case 'Lambda':
      return [e.body];
    case 'Unary':
      return [e.operand];
    case 'Binary':
      return [e.left, e.right];
    case 'If':
      return [e.cond, e.then, e.else];
    case 'Paren':
      return [e.expr];
    default:
      return [];
  }
}

/** Visit `e` and every sub-expression, pre-order. */
export function walkExpr(e: A.Expr | undefined, fn: (e: A.Expr) => void): void {
  if (!e) return;
  const stack: A.Expr[] = [e];
  while (stack.length) {
    const x = stack.pop()!;
    fn(x);
    const ch = exprChildren(x);
    for (let i = ch.length - 1; i >= 0; i--) {
      const c = ch[i];
      if (c) stack.push(c);
    }
  }
}
