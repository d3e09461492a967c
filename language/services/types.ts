// Result shapes of the editor services. Core types (no LSP): server/src/convert.ts maps them.

import type { Range } from '../diagnostics.js';

export type CompletionKind =
  | 'keyword'
  | 'field'
  | 'variable'
  | 'function'
  | 'method'
  | 'property'
  | 'rule'
  | 'budget'
  | 'type'
  | 'enum-member'
  | 'module'
  | 'snippet';

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  /** Short type or signature, shown beside the label. */
  detail?: string;
  /** Markdown documentation. */
  documentation?: string;
  /** Text to insert (defaults to the label). */
  insertText?: string;
  /** `insertText` is a snippet (`${1:x}` placeholders). */
  snippet?: boolean;
  /** The range the item replaces (the word being typed, or the string's content). */
  replace?: Range;
  sortText?: string;
}

export interface TextEdit {
  file: string;
  range: Range;
  newText: string;
}

export interface Location {
  file: string;
  range: Range;
}

export interface HoverResult {
  /** Markdown. */
  contents: string;
  range: Range;
}

export type SymbolKind = 'policy' | 'input' | 'type' | 'let' | 'def' | 'rule' | 'budget' | 'test' | 'field' | 'extern';

export interface DocumentSymbol {
  name: string;
  kind: SymbolKind;
  detail?: string;
  range: Range;
  selectionRange: Range;
  children: DocumentSymbol[];
}

export interface WorkspaceSymbol {
  name: string;
  kind: SymbolKind;
  file: string;
  range: Range;
  container?: string;
}

export interface FoldingRange {
  startLine: number;
  endLine: number;
  kind?: 'comment' | 'region';
}

export interface SignatureHelp {
  label: string;
  doc?: string;
  params: { label: string; doc?: string }[];
  activeParameter: number;
}

export interface CodeAction {
  title: string;
  kind: 'quickfix';
  edits: TextEdit[];
  /** The diagnostic code this action fixes. */
  diagnosticCode?: string;
  preferred?: boolean;
}

export interface CodeLensData {
  kind: 'test' | 'rule';
  /** Test name (string) or rule name. */
  name: string;
  file: string;
  range: Range;
}
