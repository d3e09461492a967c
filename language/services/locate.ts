// Finding things in the AST by offset, and resolving a name occurrence to its target.
// Works on partial ASTs (error recovery): every lookup tolerates missing children.

import type * as A from '../syntax/ast.js';
import type { CheckedProgram, Symbol } from '../semantics/program.js';
import type { Range } from '../diagnostics.js';
import type { Type } from '../semantics/types.js';
import { forEachChild, type AnyNode as VisitNode } from '../syntax/visit.js';
import { RESERVED_WORDS } from '../syntax/parser.js';

export type AnyNode = { kind?: string; range: Range } & Record<string, unknown>;

/** The direct child nodes of a node, in source order (the core walker: language/syntax/visit.ts). */
export function childrenOf(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  forEachChild(node as unknown as VisitNode, (c) => {
    out.push(c as unknown as AnyNode);
  });
  out.sort((a, b) => a.range.start.offset - b.range.start.offset);
  return out;
}

/** Visit every node (pre-order). Return false from `fn` to skip a node's children. */
export function walkAll(root: AnyNode, fn: (node: AnyNode, parent: AnyNode | undefined) => boolean | void): void {
  const visit = (n: AnyNode, p: AnyNode | undefined): void => {
    if (fn(n, p) === false) return;
    for (const c of childrenOf(n)) visit(c, n);
  };
  visit(root, undefined);
}

/**
 * The path of nodes from the root to the innermost node containing `offset`
 * (start <= offset <= end: the cursor right after a word still touches it).
 */
export function pathAt(root: AnyNode, offset: number): AnyNode[] {
  const path: AnyNode[] = [root];
  let cur: AnyNode = root;
  for (;;) {
    const kids = childrenOf(cur);
    let next: AnyNode | undefined;
    for (const k of kids) {
      if (k.range.start.offset <= offset && offset <= k.range.end.offset) {
        // Prefer the later child when the cursor sits between two touching nodes (`a.|b`).
        if (!next || k.range.start.offset === offset) next = k;
      }
    }
    if (!next) return path;
    path.push(next);
    cur = next;
  }
}

/** The `Name` node at the offset (touching it on either side), if any. */
export function nameAt(ast: A.SourceFile, offset: number): { name: A.Name; path: AnyNode[] } | undefined {
  const path = pathAt(ast as unknown as AnyNode, offset);
  const last = path[path.length - 1];
  if (last && last.kind === 'Name') return { name: last as unknown as A.Name, path };
  return undefined;
}

/** The declaration containing the offset (by range). */
export function declAt(ast: A.SourceFile, offset: number): A.Decl | undefined {
  return ast.decls.find((d) => d.range.start.offset <= offset && offset <= d.range.end.offset);
}

// ---------------------------------------------------------------- targets

/** What a name ultimately denotes: a declaring node (identity), with its file and kind. */
export interface Target {
  /** The declaring node (decl, field decl, param, lambda param name) or undefined for built-ins. */
  node?: object;
  /** The name node at the declaration (for go-to-definition and rename). */
  nameNode?: A.Name;
  file?: string;
  symbol: Symbol;
}

export function targetOf(sym: Symbol): Target {
  switch (sym.kind) {
    case 'let':
    case 'def':
    case 'extern':
    case 'rule':
    case 'budget':
    case 'type':
      return { node: sym.decl, nameNode: sym.decl.name, file: sym.file, symbol: sym };
    case 'input':
      return { node: sym.decl, file: sym.file, symbol: sym };
    case 'input-field':
    case 'field':
      return { node: sym.field, nameNode: sym.field.name, file: sym.file, symbol: sym };
    case 'param':
      return { node: sym.param, nameNode: sym.param.name, file: sym.file, symbol: sym };
    case 'lambda-param':
      return { node: sym.node, nameNode: sym.node, file: sym.file, symbol: sym };
    default:
      return { symbol: sym };
  }
}

function declSymbol(program: CheckedProgram, decl: A.Decl): Symbol | undefined {
  const n = 'name' in decl && decl.name && decl.name.kind === 'Name' ? decl.name.text : undefined;
  if (!n) return undefined;
  const s = program.symbols.get(n);
  if (s && 'decl' in s && s.decl === decl) return s;
  return undefined;
}

/**
 * Resolve a name occurrence: a reference (through `program.refs`) or a declaration's own name
 * (decl, field, param, lambda param).
 */
export function resolveName(program: CheckedProgram, file: string, name: A.Name, path: AnyNode[]): Symbol | undefined {
  const ref = program.refs.get(name);
  if (ref) return ref;
  const parent = path[path.length - 2];
  if (!parent) return undefined;
  switch (parent.kind) {
    case 'LetDecl':
    case 'DefDecl':
    case 'RuleDecl':
    case 'BudgetDecl':
    case 'TypeDecl':
    case 'ExternDecl':
      return declSymbol(program, parent as unknown as A.Decl);
    case 'FieldDecl': {
      const field = parent as unknown as A.FieldDecl;
      const inInput = path.some((p) => p.kind === 'InputDecl');
      const isTop = path[path.length - 3]?.kind === 'InputDecl';
      const t = findFieldType(program, field);
      if (inInput && isTop) return { kind: 'input-field', name: name.text, file, field, type: t };
      return { kind: 'field', name: name.text, file, field, type: t };
    }
    case 'Param': {
      const param = parent as unknown as A.Param;
      for (const s of program.refs.values()) if (s.kind === 'param' && s.param === param) return s;
      return { kind: 'param', name: name.text, file, param, type: { kind: 'any' } };
    }
    case 'Lambda':
      for (const s of program.refs.values()) if (s.kind === 'lambda-param' && s.node === name) return s;
      return { kind: 'lambda-param', name: name.text, file, node: name, type: { kind: 'any' } };
    default:
      return undefined;
  }
}

function findFieldType(program: CheckedProgram, field: A.FieldDecl): Type {
  for (const s of program.refs.values()) {
    if ((s.kind === 'field' || s.kind === 'input-field') && s.field === field) return s.type;
  }
  // a field no expression reads: its declared type, found among the types the checker resolved
  // (`input`, type aliases, lets, defs' parameters…) through the field each was declared by
  return declaredFieldType(program, field) ?? { kind: 'any' };
}

function declaredFieldType(program: CheckedProgram, field: A.FieldDecl): Type | undefined {
  const decls = program.fieldDecls;
  if (!decls) return undefined;
  const seen = new Set<Type>();
  const find = (t: Type): Type | undefined => {
    if (seen.has(t)) return undefined;
    seen.add(t);
    switch (t.kind) {
      case 'object':
        for (const ft of t.fields) {
          if (decls.get(ft)?.field === field) return ft.optional ? { kind: 'nullable', inner: ft.type } : ft.type;
          const inner = find(ft.type);
          if (inner) return inner;
        }
        return undefined;
      case 'list':
        return find(t.elem);
      case 'map':
        return find(t.value);
      case 'nullable':
        return find(t.inner);
      case 'function':
        for (const p of t.params) {
          const inner = find(p);
          if (inner) return inner;
        }
        return find(t.result);
      default:
        return undefined;
    }
  };
  const found = find(program.inputType);
  if (found) return found;
  for (const s of program.symbols.values()) {
    if ('type' in s && s.type) {
      const t = find(s.type);
      if (t) return t;
    }
  }
  return undefined;
}

/** True when two symbols denote the same declaration. */
export function sameTarget(a: Symbol, b: Symbol): boolean {
  const ta = targetOf(a);
  const tb = targetOf(b);
  if (ta.node && tb.node) return ta.node === tb.node;
  if (!ta.node && !tb.node) return a.kind === b.kind && a.name === b.name;
  return false;
}

/** Every expression node whose range ends exactly at `offset` (outermost first). */
export function exprsEndingAt(root: AnyNode, offset: number): AnyNode[] {
  const out: AnyNode[] = [];
  walkAll(root, (n) => {
    if (n.range.end.offset < offset || n.range.start.offset > offset) return false;
    if (n.range.end.offset === offset && n.kind && n.kind !== 'Name') out.push(n);
    return true;
  });
  return out;
}

/** Reserved words (never a name): the lexer's list. */
export const RESERVED: ReadonlySet<string> = new Set<string>(RESERVED_WORDS);
export const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
