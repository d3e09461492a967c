// `// rein-ignore CODE[, CODE…]` comments. A comment alone on its line suppresses those codes on
// the next line (and the rest of a declaration starting there); a comment after code suppresses them
// on its own line (and the rest of a declaration ending there). Syntax errors (REIN1xx)
// cannot be suppressed. Without the source text (checkParsed called without `text`), a comment
// is treated as applying to both its own line and the next one.

import type * as A from '../syntax/ast.js';
import { SEVERITIES, type Diagnostic } from '../diagnostics.js';

// `// rein-ignore CODE[, CODE…] [-- reason]`: codes and rule names separated by commas or spaces; an
// optional reason after ` -- ` (as in ESLint) is free text.
const IGNORE = /^\/\/\s*rein-ignore\b([^\n]*)$/;

function ignoredCodes(text: string): string[] | undefined {
  const m = IGNORE.exec(text);
  if (!m) return undefined;
  const list = m[1].split(/\s--(?:\s|$)/)[0];
  return list.split(/[\s,]+/).filter(Boolean);
}

/** line (0-based) → suppressed codes or names, for one file. A comment is anchored to the declaration
 *  it stands at, so formatting (which may split a one-line rule) never changes what it suppresses:
 *  alone on its line, it covers every line of a declaration starting on the next line; after code,
 *  every line of a declaration ending on its line. */
export function suppressions(ast: A.SourceFile, text: string | undefined): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const add = (line: number, codes: string[]) => {
    let s = out.get(line);
    if (!s) out.set(line, (s = new Set()));
    for (const c of codes) s.add(c);
  };
  for (const c of ast.comments) {
    if (c.kind !== 'line') continue;
    const codes = ignoredCodes(c.text);
    if (!codes) continue;
    const line = c.range.start.line;
    const alone = text === undefined || text.slice(c.range.start.offset - c.range.start.character, c.range.start.offset).trim() === '';
    let from = alone ? line + 1 : line;
    let to = from;
    for (const { range: r } of ast.decls) {
      if (alone ? r.start.line === from : r.end.line === line) {
        from = Math.min(from, r.start.line);
        to = Math.max(to, r.end.line);
      }
    }
    // without the text, whether code precedes the comment is unknown: its own line counts too
    for (let l = text === undefined ? line : from; l <= to; l++) add(l, codes);
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
