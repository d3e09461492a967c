// GitHub Actions workflow commands: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE::message`.

import type { Diagnostic, Severity } from '../../language/diagnostics.js';
import type { SourceLookup } from './source.js';
import { withoutControls } from './printable.js';

/** Escape a command's message (data): `%`, CR and LF as GitHub requires, and other control characters
 *  (an ESC from a test's name would colour the log) as `\u{1b}`. */
export function escapeData(s: string): string {
  return withoutControls(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escape a command property value. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubCommand(sev: Severity): 'error' | 'warning' | 'notice' {
  return sev === 'error' ? 'error' : sev === 'warning' ? 'warning' : 'notice';
}

export function githubAnnotation(
  kind: 'error' | 'warning' | 'notice',
  loc: { file: string; line: number; col: number; endLine?: number; endColumn?: number },
  title: string,
  message: string,
): string {
  const props = [`file=${escapeProperty(loc.file)}`, `line=${loc.line}`, `col=${loc.col}`];
  if (loc.endLine !== undefined) props.push(`endLine=${loc.endLine}`);
  if (loc.endColumn !== undefined) props.push(`endColumn=${loc.endColumn}`);
  props.push(`title=${escapeProperty(title)}`);
  return `::${kind} ${props.join(',')}::${escapeData(message)}`;
}

export function renderDiagnosticGithub(d: Diagnostic, lookup: SourceLookup): string {
  return githubAnnotation(
    githubCommand(d.severity),
    {
      file: lookup.display(d.file),
      line: d.range.start.line + 1,
      col: d.range.start.character + 1,
      endLine: d.range.end.line + 1,
      endColumn: d.range.end.character + 1,
    },
    d.code,
    d.help ? `${d.message}\n${d.help}` : d.message,
  );
}

export function renderDiagnosticsGithub(diags: Diagnostic[], lookup: SourceLookup): string {
  return diags.map((d) => renderDiagnosticGithub(d, lookup) + '\n').join('');
}
