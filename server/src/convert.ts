// The ONE place where core types (language/diagnostics.ts, language/services/types.ts) become LSP
// types, and back. Nothing else in the server builds an LSP Range or Diagnostic by hand.

import * as L from 'vscode-languageserver';
import type { Diagnostic, Range } from '../../language/diagnostics.js';
import type * as S from '../../language/services/types.js';
import type { SemanticToken } from '../../language/services/semantic-tokens.js';
import { TOKEN_TYPES, TOKEN_MODIFIERS } from '../../language/services/semantic-tokens.js';

export function toRange(r: Range): L.Range {
  return { start: { line: r.start.line, character: r.start.character }, end: { line: r.end.line, character: r.end.character } };
}

const SEVERITY: Record<Diagnostic['severity'], L.DiagnosticSeverity> = {
  error: L.DiagnosticSeverity.Error,
  warning: L.DiagnosticSeverity.Warning,
  info: L.DiagnosticSeverity.Information,
  hint: L.DiagnosticSeverity.Hint,
};

/** Where a code's documentation lives (`undefined`: no link). */
export type DocsLink = (code: string) => string | undefined;

export function toDiagnostic(d: Diagnostic, uriOf: (file: string) => string, docs?: DocsLink): L.Diagnostic {
  const out: L.Diagnostic = {
    range: toRange(d.range),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'rein',
    message: d.help ? `${d.message}\nhelp: ${d.help}` : d.message,
  };
  const href = docs?.(d.code);
  if (href) out.codeDescription = { href };
  if (d.data) out.data = { ...d.data, file: d.file };
  if (d.code === 'REIN300') out.tags = [L.DiagnosticTag.Unnecessary];
  if (d.related?.length) {
    out.relatedInformation = d.related.map((r) => ({ location: { uri: uriOf(r.file), range: toRange(r.range) }, message: r.message }));
  }
  return out;
}

const COMPLETION_KIND: Record<S.CompletionKind, L.CompletionItemKind> = {
  keyword: L.CompletionItemKind.Keyword,
  field: L.CompletionItemKind.Field,
  variable: L.CompletionItemKind.Variable,
  function: L.CompletionItemKind.Function,
  method: L.CompletionItemKind.Method,
  property: L.CompletionItemKind.Property,
  rule: L.CompletionItemKind.Class,
  budget: L.CompletionItemKind.Struct,
  type: L.CompletionItemKind.TypeParameter,
  'enum-member': L.CompletionItemKind.EnumMember,
  module: L.CompletionItemKind.Module,
  snippet: L.CompletionItemKind.Snippet,
};

export function toCompletionItem(c: S.CompletionItem, snippetSupport: boolean): L.CompletionItem {
  const useSnippet = !!c.snippet && snippetSupport;
  let text = c.insertText ?? c.label;
  if (c.snippet && !snippetSupport) text = stripSnippet(text);
  const item: L.CompletionItem = {
    label: c.label,
    kind: COMPLETION_KIND[c.kind],
    detail: c.detail,
    documentation: c.documentation ? { kind: L.MarkupKind.Markdown, value: c.documentation } : undefined,
    insertTextFormat: useSnippet ? L.InsertTextFormat.Snippet : L.InsertTextFormat.PlainText,
    sortText: c.sortText,
  };
  if (c.replace) item.textEdit = { range: toRange(c.replace), newText: text };
  else item.insertText = text;
  return item;
}

/** `${1:x}` → `x`, `$0`/`${1}` → ``, `${1|a,b|}` → `a`, `\$` → `$`. */
export function stripSnippet(s: string): string {
  return s
    .replace(/\$\{\d+\|([^,|]*)[^|]*\|\}/g, '$1')
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/\$\{\d+\}|\$\d+/g, '')
    .replace(/\\\$/g, '$');
}

export function toLocation(l: S.Location, uriOf: (file: string) => string): L.Location {
  return { uri: uriOf(l.file), range: toRange(l.range) };
}

export function toWorkspaceEdit(edits: S.TextEdit[], uriOf: (file: string) => string): L.WorkspaceEdit {
  const changes: Record<string, L.TextEdit[]> = {};
  for (const e of edits) (changes[uriOf(e.file)] ??= []).push({ range: toRange(e.range), newText: e.newText });
  return { changes };
}

const SYMBOL_KIND: Record<S.SymbolKind, L.SymbolKind> = {
  policy: L.SymbolKind.Namespace,
  input: L.SymbolKind.Interface,
  type: L.SymbolKind.TypeParameter,
  let: L.SymbolKind.Constant,
  def: L.SymbolKind.Function,
  extern: L.SymbolKind.Function,
  rule: L.SymbolKind.Class,
  budget: L.SymbolKind.Struct,
  test: L.SymbolKind.Method,
  field: L.SymbolKind.Field,
};

export function toDocumentSymbol(s: S.DocumentSymbol): L.DocumentSymbol {
  return {
    name: s.name || '(unnamed)',
    kind: SYMBOL_KIND[s.kind],
    detail: s.detail,
    range: toRange(s.range),
    selectionRange: toRange(s.selectionRange),
    children: s.children.map(toDocumentSymbol),
  };
}

export function toWorkspaceSymbol(s: S.WorkspaceSymbol, uriOf: (file: string) => string): L.SymbolInformation {
  return { name: s.name, kind: SYMBOL_KIND[s.kind], location: { uri: uriOf(s.file), range: toRange(s.range) }, containerName: s.container };
}

export function toFoldingRange(f: S.FoldingRange): L.FoldingRange {
  return { startLine: f.startLine, endLine: f.endLine, kind: f.kind === 'comment' ? L.FoldingRangeKind.Comment : f.kind === 'region' ? L.FoldingRangeKind.Region : undefined };
}

export function toSignatureHelp(s: S.SignatureHelp): L.SignatureHelp {
  return {
    signatures: [
      {
        label: s.label,
        documentation: s.doc ? { kind: L.MarkupKind.Markdown, value: s.doc } : undefined,
        parameters: s.params.map((p) => ({ label: p.label, documentation: p.doc })),
        activeParameter: s.activeParameter,
      },
    ],
    activeSignature: 0,
    activeParameter: s.activeParameter,
  };
}

export function toCodeAction(a: S.CodeAction, uriOf: (file: string) => string, diagnostics: L.Diagnostic[]): L.CodeAction {
  return {
    title: a.title,
    kind: L.CodeActionKind.QuickFix,
    isPreferred: a.preferred,
    diagnostics: diagnostics.filter((d) => d.code === a.diagnosticCode),
    edit: toWorkspaceEdit(a.edits, uriOf),
  };
}

export const SEMANTIC_LEGEND: L.SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

/** Encode tokens (sorted, single-line) in the LSP relative format. */
export function toSemanticTokens(tokens: SemanticToken[]): L.SemanticTokens {
  const data: number[] = [];
  let line = 0;
  let char = 0;
  for (const t of tokens) {
    const dl = t.line - line;
    const dc = dl === 0 ? t.character - char : t.character;
    let mods = 0;
    for (const m of t.modifiers) mods |= 1 << TOKEN_MODIFIERS.indexOf(m);
    data.push(dl, dc, t.length, TOKEN_TYPES.indexOf(t.type), mods);
    line = t.line;
    char = t.character;
  }
  return { data };
}

/** An LSP position to an offset in a text (via the core LineIndex). */
export function toOffset(lines: { offsetAt(line: number, character: number): number }, p: L.Position): number {
  return lines.offsetAt(p.line, p.character);
}

/** An LSP range back to a core range (needs the text's line index). */
export function fromRange(lines: { offsetAt(line: number, character: number): number; range(s: number, e: number): Range }, r: L.Range): Range {
  return lines.range(lines.offsetAt(r.start.line, r.start.character), lines.offsetAt(r.end.line, r.end.character));
}
