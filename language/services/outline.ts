// Document symbols, workspace symbols and folding ranges.

import type * as A from '../syntax/ast.js';
import type { Analysis } from './policy-set.js';
import type { DocumentSymbol, WorkspaceSymbol, FoldingRange, SymbolKind } from './types.js';
import { walkAll, type AnyNode } from './locate.js';

const KIND: Record<A.Decl['kind'], SymbolKind> = {
  PolicyDecl: 'policy',
  InputDecl: 'input',
  TypeDecl: 'type',
  LetDecl: 'let',
  DefDecl: 'def',
  ExternDecl: 'extern',
  RuleDecl: 'rule',
  BudgetDecl: 'budget',
  TestDecl: 'test',
};

function declName(d: A.Decl): { text: string; range: A.Node['range'] } | undefined {
  switch (d.kind) {
    case 'InputDecl':
      return { text: 'input', range: { start: d.range.start, end: { ...d.range.start, character: d.range.start.character + 5, offset: d.range.start.offset + 5 } } };
    case 'TestDecl':
      return d.name ? { text: d.name.parts.map((p) => (p.kind === 'Text' ? p.value : '${…}')).join(''), range: d.name.range } : undefined;
    default:
      return d.name ? { text: d.name.text, range: d.name.range } : undefined;
  }
}

function fieldSymbols(fields: A.FieldDecl[]): DocumentSymbol[] {
  return fields.map((f) => ({
    name: f.name.text,
    kind: 'field' as const,
    range: f.range,
    selectionRange: f.name.range,
    children: f.type?.kind === 'ObjectType' ? fieldSymbols(f.type.fields) : [],
  }));
}

export function documentSymbols(analysis: Analysis, file: string): DocumentSymbol[] {
  const src = analysis.sources.get(file);
  if (!src) return [];
  const out: DocumentSymbol[] = [];
  for (const d of src.parsed.ast.decls) {
    const n = declName(d);
    if (!n) continue;
    let children: DocumentSymbol[] = [];
    if (d.kind === 'InputDecl') children = fieldSymbols(d.fields);
    else if (d.kind === 'TypeDecl' && d.type?.kind === 'ObjectType') children = fieldSymbols(d.type.fields);
    let detail: string | undefined;
    if (d.kind === 'RuleDecl') {
      const eff = d.body.find((c) => c.kind !== 'When' && c.kind !== 'Unless');
      detail = eff ? (eff.kind === 'RequireApproval' ? 'require approval' : eff.kind.toLowerCase()) : undefined;
    } else if (d.kind === 'BudgetDecl') {
      const lim = d.items.find((i) => i.kind === 'Limit');
      detail = lim ? src.text.slice(lim.range.start.offset, lim.range.end.offset).replace(/\s+/g, ' ') : undefined;
    }
    out.push({ name: n.text, kind: KIND[d.kind], detail, range: d.range, selectionRange: n.range, children });
  }
  return out;
}

/** Fuzzy (subsequence, case-insensitive) match of the query against declaration names. */
export function workspaceSymbols(analyses: Analysis[], query: string): WorkspaceSymbol[] {
  const q = query.toLowerCase();
  const out: WorkspaceSymbol[] = [];
  for (const a of analyses) {
    for (const [file, src] of a.sources) {
      for (const d of src.parsed.ast.decls) {
        const n = declName(d);
        if (!n) continue;
        if (subsequence(q, n.text.toLowerCase())) out.push({ name: n.text, kind: KIND[d.kind], file, range: n.range });
        if (d.kind === 'InputDecl') {
          for (const f of d.fields) if (subsequence(q, f.name.text.toLowerCase())) out.push({ name: f.name.text, kind: 'field', file, range: f.name.range, container: 'input' });
        }
      }
    }
  }
  return out;
}

function subsequence(q: string, s: string): boolean {
  let i = 0;
  for (let j = 0; j < s.length && i < q.length; j++) if (s[j] === q[i]) i++;
  return i === q.length;
}

export function foldingRanges(analysis: Analysis, file: string): FoldingRange[] {
  const src = analysis.sources.get(file);
  if (!src) return [];
  const out: FoldingRange[] = [];
  const add = (start: number, end: number, kind?: FoldingRange['kind']) => {
    if (end > start) out.push({ startLine: start, endLine: end, kind });
  };
  // Declarations, object types, object and list literals spanning lines.
  walkAll(src.parsed.ast as unknown as AnyNode, (n) => {
    if (n.kind === 'SourceFile') return true;
    const multi = n.range.end.line > n.range.start.line;
    if (!multi) return false;
    if (n.kind === 'ObjectType' || n.kind === 'Object' || n.kind === 'List' || /Decl$/.test(n.kind ?? '')) {
      // Fold up to the line before the closing brace so it stays visible.
      const endLine = src.text[n.range.end.offset - 1] === '}' || src.text[n.range.end.offset - 1] === ']' ? n.range.end.line - 1 : n.range.end.line;
      add(n.range.start.line, endLine);
    }
    return true;
  });
  // Comments: block comments, and runs of consecutive line comments.
  const comments = src.parsed.ast.comments;
  for (let i = 0; i < comments.length; i++) {
    const c = comments[i];
    if (c.kind === 'block') {
      add(c.range.start.line, c.range.end.line, 'comment');
      continue;
    }
    let j = i;
    while (j + 1 < comments.length && comments[j + 1].kind === c.kind && comments[j + 1].range.start.line === comments[j].range.end.line + 1) j++;
    add(c.range.start.line, comments[j].range.end.line, 'comment');
    i = j;
  }
  // `// region` … `// endregion` markers.
  const stack: number[] = [];
  for (const c of comments) {
    if (/^\/\/\s*region\b/.test(c.text)) stack.push(c.range.start.line);
    else if (/^\/\/\s*endregion\b/.test(c.text) && stack.length) add(stack.pop()!, c.range.start.line, 'region');
  }
  out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
  // one range per start line, the widest (`let q = [⏎…⏎]`: the declaration and its list fold the same lines)
  return out.filter((r, i) => i === 0 || out[i - 1].startLine !== r.startLine);
}
