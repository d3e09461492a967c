// Semantic token classification (full document). The legend below is the contract with editors
// (docs/language-server.md lists it); the server encodes these as LSP relative tokens.

import type * as A from '../syntax/ast.js';
import type { Symbol } from '../semantics/program.js';
import type { Analysis } from './policy-set.js';
import { childrenOf, resolveName, type AnyNode } from './locate.js';
import { tokenize, type SyntaxToken } from '../syntax/parser.js';

const LEXICAL: Partial<Record<SyntaxToken['type'], TokenType>> = {
  keyword: 'keyword',
  string: 'string',
  number: 'number',
  money: 'number',
  duration: 'number',
  percent: 'number',
  annotation: 'decorator',
};

export const TOKEN_TYPES = [
  'keyword',
  'string',
  'number',
  'comment',
  'variable',
  'function',
  'method',
  'property',
  'parameter',
  'type',
  'namespace',
  'enumMember',
  'decorator',
  'class',
  'struct',
  'regexp',
] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary', 'documentation'] as const;

export type TokenType = (typeof TOKEN_TYPES)[number];
export type TokenModifier = (typeof TOKEN_MODIFIERS)[number];

export interface SemanticToken {
  line: number;
  character: number;
  length: number;
  type: TokenType;
  modifiers: TokenModifier[];
  /** Absolute offset (for sorting and tests). */
  offset: number;
}

const DECL_PARENTS = new Set(['LetDecl', 'DefDecl', 'RuleDecl', 'BudgetDecl', 'TypeDecl', 'FieldDecl', 'Param', 'Lambda', 'ExternDecl']);

function classify(sym: Symbol | undefined, parentKind: string | undefined): { type: TokenType; mods: TokenModifier[] } | undefined {
  if (parentKind === 'Annotation') return { type: 'decorator', mods: [] };
  // `combine first_match`: the algorithm's name
  if (parentKind === 'PolicyCombine') return { type: 'enumMember', mods: ['defaultLibrary'] };
  if (!sym) {
    if (parentKind === 'TypeName') return { type: 'type', mods: [] };
    if (parentKind === 'Entry') return { type: 'property', mods: [] };
    return undefined;
  }
  switch (sym.kind) {
    case 'let':
      return { type: 'variable', mods: ['readonly'] };
    case 'def':
      return { type: 'function', mods: [] };
    case 'extern':
      return { type: 'function', mods: ['defaultLibrary'] };
    case 'rule':
      return { type: 'class', mods: [] };
    case 'budget':
      return { type: 'struct', mods: [] };
    case 'type':
      return { type: 'type', mods: [] };
    case 'input':
      return { type: 'variable', mods: ['defaultLibrary'] };
    case 'input-field':
    case 'field':
      return { type: 'property', mods: [] };
    case 'param':
    case 'lambda-param':
      return { type: 'parameter', mods: [] };
    case 'builtin':
      return { type: 'function', mods: ['defaultLibrary'] };
    case 'method':
      return { type: 'method', mods: ['defaultLibrary'] };
    case 'detector':
      return { type: parentKind === 'Member' ? 'function' : 'namespace', mods: ['defaultLibrary'] };
  }
}

export function semanticTokens(analysis: Analysis, file: string): SemanticToken[] {
  const src = analysis.sources.get(file);
  if (!src) return [];
  const text = src.text;
  const lines = src.lines;
  const program = analysis.result.program;
  const raw: { start: number; end: number; type: TokenType; mods: TokenModifier[] }[] = [];

  // Layer 1, the AST: names by what they resolve to, and `matches` patterns.
  const fromAst = new Map<number, { end: number; type: TokenType; mods: TokenModifier[] }>();
  const path: AnyNode[] = [];
  const visit = (n: AnyNode, parent: AnyNode | undefined): void => {
    path.push(n);
    if (n.kind === 'Name') {
      const name = n as unknown as A.Name;
      const sym = resolveName(program, file, name, path);
      const cls = classify(sym, parent?.kind);
      if (cls) {
        const mods = [...cls.mods];
        if (parent && DECL_PARENTS.has(parent.kind ?? '') && (parent as { name?: unknown }).name === n) mods.unshift('declaration');
        if (parent?.kind === 'Lambda') mods.unshift('declaration');
        fromAst.set(name.range.start.offset, { end: name.range.end.offset, type: cls.type, mods });
      }
    } else if (n.kind === 'Binary' && (n as unknown as A.BinaryExpr).op === 'matches') {
      const right = (n as unknown as A.BinaryExpr).right;
      if (right?.kind === 'String') fromAst.set(right.range.start.offset, { end: right.range.end.offset, type: 'regexp', mods: [] });
    }
    for (const k of childrenOf(n)) visit(k, n);
    path.pop();
  };
  visit(src.parsed.ast as unknown as AnyNode, undefined);

  // Layer 2, the lexer (language/syntax/parser.ts tokenize): keywords, strings, literals, annotations.
  const { tokens, comments } = tokenize(text);
  for (const c of comments) raw.push({ start: c.range.start.offset, end: c.range.end.offset, type: 'comment', mods: c.kind === 'doc' ? ['documentation'] : [] });
  for (const t of tokens) {
    const start = t.range.start.offset;
    const ast = fromAst.get(start);
    if (ast) {
      raw.push({ start, end: ast.end, type: ast.type, mods: ast.mods });
      continue;
    }
    const type = LEXICAL[t.type];
    if (type) raw.push({ start, end: t.range.end.offset, type, mods: [] });
  }

  raw.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SemanticToken[] = [];
  let lastEnd = 0;
  for (const r of raw) {
    if (r.start < lastEnd || r.end <= r.start) continue;
    lastEnd = r.end;
    // Split tokens that span lines (block comments).
    const sp = lines.position(r.start);
    const ep = lines.position(r.end);
    for (let line = sp.line; line <= ep.line; line++) {
      const from = line === sp.line ? sp.character : 0;
      const lineStart = lines.offsetAt(line, 0);
      const lineEndOffset = line === ep.line ? r.end : lines.offsetAt(line + 1, 0);
      let to = lineEndOffset - lineStart;
      if (line !== ep.line) {
        while (to > from && (text[lineStart + to - 1] === '\n' || text[lineStart + to - 1] === '\r')) to--;
      }
      if (to > from) out.push({ line, character: from, length: to - from, type: r.type, modifiers: r.mods, offset: lineStart + from });
    }
  }
  return out;
}
