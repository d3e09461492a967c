// A small walker over the Rein AST: `forEachChild`, `walk` and `nodeAt`. Used by the checker,
// the formatter and the language server. Children are visited in source order. Comments are not
// children (they live in `SourceFile.comments`).

import type * as A from './ast.js';
import type { Range } from '../diagnostics.js';

/** The `per` of a `limit` clause as a node. */
export type WindowNode = NonNullable<A.LimitClause['per']>;

/** Every kind of node in the AST (anything with `kind` and `range`). */
export type AnyNode =
  | A.SourceFile
  | A.Decl
  | A.Annotation
  | A.Name
  | A.PolicyItem
  | A.FieldDecl
  | A.TypeExpr
  | A.Param
  | A.Condition
  | A.EffectClause
  | A.BudgetItem
  | WindowNode
  | A.TestItem
  | A.Expr
  | A.StringText
  | A.Interpolation
  | A.ObjectEntry;

/** Calls `fn` on each direct child of `node`, in source order. */
export function forEachChild(node: AnyNode, fn: (child: AnyNode) => void): void {
  const one = (n: AnyNode | undefined): void => {
    if (n) fn(n);
  };
  const all = (ns: readonly AnyNode[] | undefined): void => {
    if (ns) for (const n of ns) fn(n);
  };
  switch (node.kind) {
    case 'SourceFile':
      return all(node.decls);
    case 'PolicyDecl':
      all(node.annotations);
      one(node.name);
      return all(node.items);
    case 'InputDecl':
      all(node.annotations);
      return all(node.fields);
    case 'TypeDecl':
      all(node.annotations);
      one(node.name);
      return one(node.type);
    case 'LetDecl':
      all(node.annotations);
      one(node.name);
      one(node.type);
      return one(node.value);
    case 'DefDecl':
      all(node.annotations);
      one(node.name);
      all(node.params);
      one(node.returnType);
      return one(node.body);
    case 'ExternDecl':
      all(node.annotations);
      one(node.name);
      all(node.params);
      one(node.returnType);
      return one(node.timeout);
    case 'DataOverride':
      one(node.name);
      return one(node.value);
    case 'ExternStub':
      one(node.name);
      if (node.args) all(node.args);
      one(node.value);
      return one(node.fails);
    case 'RuleDecl':
      all(node.annotations);
      one(node.name);
      return all(node.body);
    case 'BudgetDecl':
      all(node.annotations);
      one(node.name);
      return all(node.items);
    case 'TestDecl':
      all(node.annotations);
      one(node.name);
      return all(node.items);
    case 'Annotation':
      one(node.name);
      return one(node.value);
    case 'PolicyVersion':
    case 'PolicyCurrency':
      return one(node.value);
    case 'PolicyDefault':
    case 'PolicyOnError':
      return;
    case 'PolicyCombine':
      return one(node.algorithm);
    case 'FieldDecl':
      one(node.name);
      return one(node.type);
    case 'TypeName':
      one(node.name);
      return all(node.args);
    case 'ObjectType':
      return all(node.fields);
    case 'UnionType':
      return all(node.members);
    case 'Param':
      one(node.name);
      return one(node.type);
    case 'When':
    case 'Unless':
      return one(node.expr);
    case 'Deny':
    case 'Warn':
    case 'Allow':
      return one(node.message);
    case 'RequireApproval':
      one(node.from);
      return one(node.message);
    case 'Set':
      one(node.path);
      one(node.value);
      return one(node.message);
    case 'Redact':
      one(node.path);
      one(node.using);
      return one(node.message);
    case 'Limit':
      one(node.amount);
      one(node.refill);
      return one(node.per);
    case 'Charge':
      return one(node.expr);
    case 'By':
      return all(node.keys);
    case 'WarnAt':
      return one(node.threshold);
    case 'OnExceed':
      return one(node.effect);
    case 'Unit':
    case 'Request':
      return;
    case 'Given':
      return one(node.expr);
    case 'Spent':
      one(node.budget);
      one(node.amount);
      return one(node.at);
    case 'At':
      return one(node.time);
    case 'Approved':
      return all(node.names);
    case 'Expect':
      all(node.by);
      return all(node.redact?.paths ?? []);
    case 'ExpectWarnings':
      return all(node.names);
    case 'String':
      return all(node.parts);
    case 'Interpolation':
      return one(node.expr);
    case 'List':
      return all(node.items);
    case 'Object':
      return all(node.entries);
    case 'Entry':
      one(node.key);
      return one(node.value);
    case 'NameRef':
      return one(node.name);
    case 'Member':
      one(node.object);
      return one(node.property);
    case 'Index':
      one(node.object);
      return one(node.index);
    case 'Call':
      one(node.callee);
      return all(node.args);
    case 'Lambda':
      all(node.params);
      return one(node.body);
    case 'Unary':
      return one(node.operand);
    case 'Binary':
      one(node.left);
      return one(node.right);
    case 'If':
      one(node.cond);
      one(node.then);
      return one(node.else);
    case 'Paren':
      return one(node.expr);
    case 'Name':
    case 'Text':
    case 'Number':
    case 'Money':
    case 'Duration':
    case 'Percent':
    case 'Bool':
    case 'Null':
    case 'Error':
      return;
    default: {
      const never: never = node;
      void never;
    }
  }
}

/**
 * Visits `node` and all its descendants depth-first, parents before children. Return `false`
 * from `fn` to skip a node's children.
 */
export function walk(node: AnyNode, fn: (node: AnyNode, parent: AnyNode | undefined) => boolean | void): void {
  // explicit stack: deep expressions never overflow the JS stack
  const stack: { node: AnyNode; parent: AnyNode | undefined }[] = [{ node, parent: undefined }];
  while (stack.length) {
    const { node: n, parent } = stack.pop()!;
    if (fn(n, parent) === false) continue;
    const kids: AnyNode[] = [];
    forEachChild(n, (c) => kids.push(c));
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ node: kids[i], parent: n });
  }
}

function contains(r: Range, offset: number): boolean {
  return r.start.offset <= offset && offset <= r.end.offset;
}

/**
 * The path of nodes at `offset`, outermost first (`[SourceFile, RuleDecl, When, Binary, Member, Name]`).
 * A node contains the offsets from its start to its end inclusive, so a cursor right after
 * `action.` is inside the MemberExpr. When two siblings touch at `offset` (`a|+b`), the one that
 * starts there wins over the one that ends there; an offset outside the file gives `[ast]`.
 */
export function nodeAt(ast: A.SourceFile, offset: number): AnyNode[] {
  const path: AnyNode[] = [ast];
  let current: AnyNode = ast;
  for (;;) {
    let inside: AnyNode | undefined;
    let touching: AnyNode | undefined;
    forEachChild(current, (c) => {
      if (inside || !contains(c.range, offset)) return;
      if (offset < c.range.end.offset) inside = c;
      else touching = c;
    });
    const next = inside ?? touching;
    if (!next) return path;
    path.push(next);
    current = next;
  }
}
