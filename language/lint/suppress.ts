// `// rein-ignore CODE[, CODE…]` comments. A comment alone on its line suppresses those codes on
// the next line (and the rest of a construct starting there); a comment after code suppresses them
// on its own line (and the rest of a construct ending there). Syntax errors (REIN1xx)
// cannot be suppressed. Without the source text (checkParsed called without `text`), a comment
// is treated as applying to both its own line and the next one.

import type * as A from '../syntax/ast.js';
import { SEVERITIES, type Diagnostic, type Range } from '../diagnostics.js';

// `// rein-ignore CODE[, CODE…] [-- reason]`: codes and rule names separated by commas or spaces; an
// optional reason after ` -- ` (as in ESLint) is free text.
const IGNORE = /^\/\/\s*rein-ignore\b([^\n]*)$/;

function ignoredCodes(text: string): string[] | undefined {
  const m = IGNORE.exec(text);
  if (!m) return undefined;
  const list = m[1].split(/\s--(?:\s|$)/)[0];
  return list.split(/[\s,]+/).filter(Boolean);
}

/** [first line, last line] of every syntax node of a file (0-based). */
function nodeLines(ast: A.SourceFile): [number, number][] {
  const out: [number, number][] = [];
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) return v.forEach(walk);
    const r = (v as { range?: Range }).range;
    if (r?.start) out.push([r.start.line, r.end.line]);
    for (const k in v) if (k !== 'range') walk((v as Record<string, unknown>)[k]);
  };
  walk(ast.decls);
  return out;
}

/** line (0-based) → suppressed codes or names, for one file. A comment is anchored to the construct
 *  it stands at, so formatting (which may split a one-line rule) never changes what it suppresses:
 *  alone on its line, it covers every line of the constructs that start on the next line; after code,
 *  its own line and every line of the constructs that end there. */
export function suppressions(ast: A.SourceFile, text: string | undefined): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const add = (line: number, codes: string[]) => {
    let s = out.get(line);
    if (!s) out.set(line, (s = new Set()));
    for (const c of codes) s.add(c);
  };
  let nodes: [number, number][] | undefined;
  for (const c of ast.comments) {
    if (c.kind !== 'line') continue;
    const codes = ignoredCodes(c.text);
    if (!codes) continue;
    const line = c.range.start.line;
    if (text === undefined) {
      add(line, codes);
      add(line + 1, codes);
      continue;
    }
    const lineStart = c.range.start.offset - c.range.start.character;
    const alone = text.slice(lineStart, c.range.start.offset).trim() === '';
    let from = alone ? line + 1 : line;
    let to = from;
    for (const [a, b] of (nodes ??= nodeLines(ast))) {
      if (alone && a === from) to = Math.max(to, b);
      else if (!alone && b === line && a < from) from = a;
    }
    for (let l = from; l <= to; l++) add(l, codes);
  }
  return out;
}

/** Drop suppressed diagnostics. `names` maps a lint rule name to its code. */
export function applySuppressions(
  diagnostics: Diagnostic[],
  files: { file: string; ast: A.SourceFile; text?: string }[],
  names: Record<string, string>,
): Diagnostic[] {
  const byFile = new Map<string, Map<number, Set<string>>>();
  for (const f of files) {
    const s = suppressions(f.ast, f.text);
    if (s.size) byFile.set(f.file, s);
  }
  if (byFile.size === 0) return diagnostics;
  return diagnostics.filter((d) => {
    if (d.code.startsWith('REIN1')) return true;
    const set = byFile.get(d.file)?.get(d.range.start.line);
    if (!set) return true;
    if (set.has(d.code)) return false;
    for (const n of set) if (names[n] === d.code) return false;
    return true;
  });
}

/** REIN306 for each code or rule name in a `rein-ignore` comment that does not exist (a typo would
 *  otherwise silently suppress nothing). */
export function unknownSuppressions(files: { file: string; ast: A.SourceFile }[], names: Record<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of files) {
    for (const c of f.ast.comments) {
      if (c.kind !== 'line') continue;
      for (const code of ignoredCodes(c.text) ?? []) {
        if (code in SEVERITIES || code in names) continue;
        out.push({
          file: f.file,
          range: c.range,
          severity: SEVERITIES.REIN306,
          code: 'REIN306',
          message: `\`rein-ignore\` names \`${code}\`, which is not a diagnostic code or lint rule`,
          help: 'use a code such as `REIN300` or a rule name such as `unused-declaration` (see docs/diagnostics.md)',
        });
      }
    }
  }
  return out;
}
