// Human-readable diagnostics: `file:line:col severity code message`, then a source excerpt with a
// caret line under the range, then `= help: …` and related locations.

import type { Diagnostic, Severity } from '../../language/diagnostics.js';
import type { Colors } from './color.js';
import { oneLine } from './printable.js';
import type { SourceLookup, Summary } from './source.js';

const MAX_EXCERPT_LINES = 6;

function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function sevColor(c: Colors, s: Severity): (x: string) => string {
  return s === 'error' ? c.red : s === 'warning' ? c.yellow : c.blue;
}

/** Caret prefix that keeps tabs so the carets line up under the source. */
function pad(prefix: string): string {
  return prefix.replace(/[^\t]/g, ' ');
}

/** The excerpt lines (without trailing newline) for a range in `text`. */
export function excerpt(text: string, d: Diagnostic, c: Colors): string[] {
  const lines = splitLines(text);
  const start = d.range.start;
  let end = d.range.end;
  if (start.line >= lines.length) return [];
  // A range ending at column 0 of the next line ends on the previous line.
  if (end.line > start.line && end.character === 0) {
    const prev = end.line - 1;
    end = { line: prev, character: lines[prev]?.length ?? 0, offset: end.offset };
  }
  const last = Math.min(end.line, lines.length - 1, start.line + MAX_EXCERPT_LINES - 1);
  const width = String(last + 1).length;
  const gutter = (n: string) => c.dim(`${n.padStart(width)} | `);
  const out: string[] = [];
  const mark = sevColor(c, d.severity);
  for (let l = start.line; l <= last; l++) {
    const src = lines[l];
    out.push(gutter(String(l + 1)) + src);
    if (l !== start.line && src.trim() === '') continue;
    const from = Math.min(l === start.line ? start.character : 0, src.length);
    const to = Math.min(l === end.line ? end.character : src.length, src.length);
    // An empty range (or one past the end of the line) still gets one caret.
    const n = Math.max(1, to - from);
    out.push(gutter('') + pad(src.slice(0, from)) + mark('^'.repeat(n)));
  }
  if (last < end.line) out.push(gutter('') + c.dim('…'));
  return out;
}

/** One diagnostic in text form (several lines, no trailing newline). */
export function renderDiagnosticText(d: Diagnostic, lookup: SourceLookup, c: Colors): string {
  const file = lookup.display(d.file);
  const pos = `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}`;
  // The message and help can hold a string's value (`"a\nb"` is not one of …): escaped, so a diagnostic's
  // first line stays `file:line:col severity code message`.
  const head = `${c.bold(pos)} ${sevColor(c, d.severity)(d.severity)} ${c.dim(d.code)} ${oneLine(d.message)}`;
  const lines = [head];
  const text = lookup.text(d.file);
  if (text !== undefined) lines.push(...excerpt(text, d, c).map((l) => '  ' + l));
  if (d.help) lines.push(`  = ${c.cyan('help')}: ${oneLine(d.help)}`);
  for (const r of d.related ?? []) {
    lines.push(`  = ${c.cyan('note')}: ${lookup.display(r.file)}:${r.range.start.line + 1}:${r.range.start.character + 1} ${oneLine(r.message)}`);
  }
  return lines.join('\n');
}

export function renderSummaryText(s: Summary, c: Colors): string {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const body = `${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')} in ${plural(s.files, 'file')}`;
  return s.errors > 0 ? c.red(body) : s.warnings > 0 ? c.yellow(body) : c.green(body);
}

export function renderDiagnosticsText(diags: Diagnostic[], lookup: SourceLookup, c: Colors): string {
  return diags.map((d) => renderDiagnosticText(d, lookup, c) + '\n').join('\n');
}
