// Semantic token classification (full document). The legend below is the contract with editors
// (docs/language-server.md lists it); the server encodes these as LSP relative tokens.

import type * as A from '../syntax/ast.js';
import type { Symbol } from '../semantics/program.js';
import type { Analysis } from './policy-set.js';
import { childrenOf, resolveName, type AnyNode, RESERVED, CONTEXTUAL_KEYWORDS } from './locate.js';

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
  const masked: [number, number][] = []; // comments and string text: no keywords inside

  for (const c of src.parsed.ast.comments) {
    raw.push({ start: c.range.start.offset, end: c.range.end.offset, type: 'comment', mods: c.kind === 'doc' ? ['documentation'] : [] });
    masked.push([c.range.start.offset, c.range.end.offset]);
  }
  const path: AnyNode[] = [];
  const visit = (n: AnyNode, parent: AnyNode | undefined): void => {
    path.push(n);
    switch (n.kind) {
      case 'Name': {
        const name = n as unknown as A.Name;
        const sym = resolveName(program, file, name, path);
        const cls = classify(sym, parent?.kind);
        if (cls) {
          const mods = [...cls.mods];
          if (parent && DECL_PARENTS.has(parent.kind ?? '') && (parent as { name?: unknown }).name === n) mods.unshift('declaration');
          if (parent?.kind === 'Lambda') mods.unshift('declaration');
          raw.push({ start: name.range.start.offset, end: name.range.end.offset, type: cls.type, mods });
        }
        masked.push([name.range.start.offset, name.range.end.offset]);
        break;
      }
      case 'String': {
        const lit = n as unknown as A.StringLit;
        const isRegex = parent?.kind === 'Binary' && (parent as unknown as A.BinaryExpr).op === 'matches' && (parent as unknown as A.BinaryExpr).right === (lit as unknown);
        let pos = lit.range.start.offset;
        for (const p of lit.parts) {
          if (p.kind === 'Interpolation') {
            if (p.range.start.offset > pos) pushString(pos, p.range.start.offset, isRegex);
            pos = p.range.end.offset;
          }
        }
        if (lit.range.end.offset > pos) pushString(pos, lit.range.end.offset, isRegex);
        break;
      }
      case 'Number':
      case 'Money':
      case 'Duration':
      case 'Percent':
        raw.push({ start: n.range.start.offset, end: n.range.end.offset, type: 'number', mods: [] });
        break;
      case 'Annotation': {
        // The `@` sign.
        raw.push({ start: n.range.start.offset, end: n.range.start.offset + 1, type: 'decorator', mods: [] });
        break;
      }
    }
    const kids = childrenOf(n);
    for (const k of kids) visit(k, n);
    path.pop();
  };
  function pushString(start: number, end: number, regex: boolean): void {
    raw.push({ start, end, type: regex ? 'regexp' : 'string', mods: [] });
    masked.push([start, end]);
  }
  visit(src.parsed.ast as unknown as AnyNode, undefined);

  // Keywords: words the grammar treats as keywords (not covered by a name, string or comment).
  masked.sort((a, b) => a[0] - b[0]);
  const re = /[A-Za-z_][A-Za-z0-9_]*/g;
  let m: RegExpExecArray | null;
  let mi = 0;
  while ((m = re.exec(text))) {
    const s = m.index;
    while (mi < masked.length && masked[mi][1] <= s) mi++;
    let inside = false;
    for (let k = mi; k < masked.length && masked[k][0] <= s; k++) if (masked[k][1] > s) inside = true;
    if (inside) continue;
    if (text[s - 1] === '.' || /[0-9]/.test(text[s - 1] ?? '')) continue;
    if (RESERVED.has(m[0]) || CONTEXTUAL_KEYWORDS.has(m[0])) raw.push({ start: s, end: s + m[0].length, type: 'keyword', mods: [] });
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
