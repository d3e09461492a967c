// Quick fixes from diagnostics: "did you mean" (`data.suggestion`), add a `??` guard
// (`data.nullGuard`), and suppress a lint (`// rein-ignore CODE` on the line above).

import type { Diagnostic, Range } from '../diagnostics.js';
import { stripNull, type Type } from '../semantics/types.js';
import type { Analysis } from './policy-set.js';
import type { CodeAction } from './types.js';
import { walkAll, type AnyNode } from './locate.js';

function overlaps(a: Range, b: Range): boolean {
  return a.start.offset <= b.end.offset && b.start.offset <= a.end.offset;
}

function defaultFor(t: Type | undefined): string {
  const b = t ? stripNull(t) : undefined;
  switch (b?.kind) {
    case 'money':
      return '$0';
    case 'string':
    case 'enum':
      return '""';
    case 'bool':
      return 'false';
    case 'list':
      return '[]';
    case 'map':
    case 'object':
      return '{}';
    case 'duration':
      return '0s';
    default:
      return '0';
  }
}

/** Diagnostics of the set that touch `range` in `file`. */
export function diagnosticsIn(analysis: Analysis, file: string, range: Range): Diagnostic[] {
  return analysis.result.diagnostics.filter((d) => d.file === file && overlaps(d.range, range));
}

export function codeActions(analysis: Analysis, file: string, range: Range, only?: Diagnostic[]): CodeAction[] {
  const src = analysis.sources.get(file);
  if (!src) return [];
  const diags = only ?? diagnosticsIn(analysis, file, range);
  const out: CodeAction[] = [];
  for (const d of diags) {
    if (d.file !== file) continue;
    const suggestion = d.data?.suggestion;
    if (typeof suggestion === 'string' && suggestion) {
      out.push({
        title: `Change to \`${suggestion}\``,
        kind: 'quickfix',
        edits: [{ file, range: d.range, newText: suggestion }],
        diagnosticCode: d.code,
        preferred: true,
      });
    }
    if (d.data?.nullGuard) {
      const exprText = src.text.slice(d.range.start.offset, d.range.end.offset);
      let t: Type | undefined;
      walkAll(src.parsed.ast as unknown as AnyNode, (n) => {
        if (n.range.end.offset < d.range.start.offset || n.range.start.offset > d.range.end.offset) return false;
        if (n.range.start.offset === d.range.start.offset && n.range.end.offset === d.range.end.offset) {
          const ty = analysis.result.program.types.get(n as never);
          if (ty && !t) t = ty;
        }
        return true;
      });
      const def = defaultFor(t);
      out.push({
        title: `Add a \`?? ${def}\` guard`,
        kind: 'quickfix',
        edits: [{ file, range: d.range, newText: `(${exprText} ?? ${def})` }],
        diagnosticCode: d.code,
        preferred: !suggestion,
      });
    }
    if (/^REIN3\d\d$/.test(d.code)) {
      const line = d.range.start.line;
      const lineStart = src.lines.offsetAt(line, 0);
      const indent = /^[ \t]*/.exec(src.text.slice(lineStart))![0];
      const at = src.lines.range(lineStart, lineStart);
      out.push({
        title: `Suppress ${d.code} on this line`,
        kind: 'quickfix',
        edits: [{ file, range: at, newText: `${indent}// rein-ignore ${d.code}\n` }],
        diagnosticCode: d.code,
      });
    }
  }
  return out;
}
