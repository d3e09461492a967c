// `rein check --format json`: INTERFACES §3, 1-based lines and columns (end exclusive, as SARIF).

import type { Diagnostic } from '../../language/diagnostics.js';
import type { SourceLookup, Summary } from './source.js';

export interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Diagnostic['severity'];
  code: string;
  message: string;
  help?: string;
}

export function toJsonDiagnostic(d: Diagnostic, lookup: SourceLookup): JsonDiagnostic {
  const j: JsonDiagnostic = {
    file: lookup.display(d.file),
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
  if (d.help) j.help = d.help;
  return j;
}

export function renderCheckJson(diags: Diagnostic[], summary: Summary & Record<string, unknown>, lookup: SourceLookup): string {
  return JSON.stringify({ diagnostics: diags.map((d) => toJsonDiagnostic(d, lookup)), summary }, null, 2) + '\n';
}
