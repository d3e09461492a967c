// The check pipeline without the linter and without `rein.json`: parse, check names and types, apply
// `rein-ignore` comments. `check.ts` adds the lint rules and the configuration on top; the policy
// façade (`policy.ts` `compile`) uses this alone — lint and config only add warnings or change
// their levels, and leaving them out keeps the linter and zod out of a browser bundle of the compiler.

import { compareDiagnostics, type Diagnostic } from './diagnostics.js';
import { parse } from './syntax/parser.js';
import type * as A from './syntax/ast.js';
import type { CheckResult, CheckedProgram } from './semantics/program.js';
import { checkProgram, type ParsedFile } from './semantics/checker.js';
import { applySuppressions } from './lint/suppress.js';
import { T } from './semantics/types.js';
import { loadData, type DataFiles } from './runtime/data.js';

export type { ParsedFile } from './semantics/checker.js';

/** What check.ts adds to the core pipeline. */
export interface CheckExtras {
  /** Lint the checked program. */
  lint?: (program: CheckedProgram) => Diagnostic[];
  /** Lint rule names → codes, for `rein-ignore rule-name`. */
  lintNames?: Record<string, string>;
  /** Diagnostics after suppression (unknown suppressions, config problems), and the final levels. */
  finish?: (diagnostics: Diagnostic[], parsed: ParsedFile[]) => Diagnostic[];
  /** The set's data files (docs/data.md): each data document is read and checked against its type.
   *  Undefined: data documents are only type-checked (an editor without the files). */
  data?: DataFiles;
}

/** Parse every file (sorted by name). Never throws. */
export function parseFiles(files: Record<string, string>): ParsedFile[] {
  const parsed: ParsedFile[] = [];
  // Untyped callers: anything but a plain object of file name → source text is an empty set (REIN202
  // from the checker), never a throw.
  if (files === null || typeof files !== 'object' || Array.isArray(files) || files instanceof Map) return parsed;
  for (const file of Object.keys(files).sort()) {
    const text = files[file] as unknown;
    if (typeof text !== 'string') {
      const zero = { line: 0, character: 0, offset: 0 };
      const d: Diagnostic = { file, range: { start: zero, end: zero }, severity: 'error', code: 'REIN101', message: `the source of \`${file}\` is not text (got ${text === null ? 'null' : typeof text})` };
      parsed.push({ file, ast: emptyFile(file), diagnostics: [d], text: '' });
      continue;
    }
    try {
      const r = parse(text, file);
      parsed.push({ file, ast: r.ast, diagnostics: r.diagnostics, text });
    } catch (e) {
      parsed.push({ file, ast: emptyFile(file), diagnostics: [internal(file, 'parsing', e)], text });
    }
  }
  return parsed;
}

/** Check parsed files: names, types, `rein-ignore`, and what `extras` add. Never throws. */
export function checkCore(parsed: ParsedFile[], extras: CheckExtras = {}, before: Diagnostic[] = []): CheckResult {
  const diagnostics: Diagnostic[] = [];
  for (const p of parsed) diagnostics.push(...p.diagnostics);
  diagnostics.push(...before);
  let program: CheckResult['program'];
  try {
    const out = checkProgram(parsed);
    program = out.program;
    diagnostics.push(...out.diagnostics);
    if (extras.data && program.data) {
      const p = program;
      diagnostics.push(...loadData(p, extras.data, (doc) => p.declFile.get(doc.decl) ?? ''));
    }
    if (extras.lint) {
      try {
        diagnostics.push(...extras.lint(program));
      } catch (e) {
        diagnostics.push(internal(parsed[0]?.file ?? '', 'linting', e));
      }
    }
  } catch (e) {
    diagnostics.push(internal(parsed[0]?.file ?? '', 'checking', e));
    program = {
      files: parsed.map((p) => p.ast),
      header: { name: '', default: 'allow', defaultImplicit: true, onError: 'deny', currency: 'USD' },
      inputType: T.error,
      symbols: new Map(),
      lets: [],
      defs: [],
      externs: [],
      rules: [],
      budgets: [],
      tests: [],
      types: new Map(),
      refs: new Map(),
      declFile: new Map(),
    };
  }
  let out = applySuppressions(diagnostics, parsed, extras.lintNames ?? {});
  if (extras.finish) out = extras.finish(out, parsed);
  out.sort(compareDiagnostics);
  return { ok: !out.some((d) => d.severity === 'error'), diagnostics: out, program };
}

function emptyFile(file: string): A.SourceFile {
  const zero = { line: 0, character: 0, offset: 0 };
  return { kind: 'SourceFile', file, decls: [], comments: [], range: { start: zero, end: zero } };
}

function internal(file: string, stage: string, e: unknown): Diagnostic {
  const zero = { line: 0, character: 0, offset: 0 };
  return {
    file,
    range: { start: zero, end: zero },
    severity: 'error',
    code: 'REIN101',
    message: `internal error while ${stage}: ${e instanceof Error ? e.message : String(e)}`,
    help: 'this is a bug in Rein; please report it with the policy that triggered it',
  };
}
