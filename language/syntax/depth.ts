// One limit for how deep an expression tree may be (issue 11 §5). The parser caps nesting of
// brackets and prefixes while parsing (MAX_DEPTH); but operator chains (`a + b + … + z` is a tree as
// deep as it is long), member and method chains (`x.a.b.c…`, `s.lower().lower()…`) and nested
// `${…}` build deep trees too, and every later pass (checker, linter, formatter, compiler, language
// server) walks trees recursively. Instead of letting those overflow the stack somewhere, the parser
// reports one clear REIN101 at the first node past the limit and cuts the tree there (an `Error`
// expression), so nothing downstream ever sees a tree deeper than MAX_EXPR_DEPTH.

import type * as A from './ast.js';
import type { Range } from '../diagnostics.js';

/** Expression levels allowed (each operator, member, call, index … is one level). */
export const MAX_EXPR_DEPTH = 500;

const EXPR_KINDS = new Set([
  'Number', 'Money', 'Duration', 'Percent', 'String', 'Bool', 'Null', 'List', 'Object', 'NameRef', 'Member', 'Index',
  'Call', 'Lambda', 'Unary', 'Binary', 'If', 'Paren', 'Error', 'Interpolation',
]);

type AnyNode = { kind?: unknown; range?: Range } & Record<string, unknown>;

/** Walks `root` without recursion and cuts every expression deeper than the limit; calls `report`
 *  once per outermost expression (a condition, a `let` value …) that had to be cut. */
export function limitExprDepth(root: object, report: (range: Range) => void): void {
  const reported = new Set<object>();
  // value, depth, parent, key in the parent, the parent's kind, the outermost expression above
  const stack: [unknown, number, Record<string | number, unknown> | null, string | number, string, object | null][] = [[root, 0, null, '', '', null]];
  while (stack.length > 0) {
    const [v, d, parent, key, parentKind, outer] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], d, v as unknown as Record<number, unknown>, i, parentKind, outer]);
      continue;
    }
    const n = v as AnyNode;
    const kind = typeof n.kind === 'string' ? n.kind : '';
    let depth = d;
    let top = outer;
    // An object key written as a string is a name, not a nested expression.
    if (EXPR_KINDS.has(kind) && !(parentKind === 'Entry' && key === 'key')) {
      depth = d + 1;
      top ??= n;
      if (depth > MAX_EXPR_DEPTH && parent !== null && n.range) {
        if (!reported.has(top)) {
          reported.add(top);
          report(n.range);
        }
        if (kind === 'Interpolation') n.expr = undefined;
        else parent[key] = { kind: 'Error', range: n.range } satisfies A.ErrorExpr;
        continue;
      }
    }
    for (const k of Object.keys(n)) {
      if (k === 'range' || k === 'opRange') continue;
      const c = n[k];
      if (typeof c === 'object' && c !== null) stack.push([c, depth, n, k, kind || parentKind, top]);
    }
  }
}
