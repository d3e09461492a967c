// `check()`: parse, type-check and lint a policy set (INTERFACES §2). Never throws.
// `checkParsed()` is the same pipeline from already-parsed files (the language server re-parses
// only the file that changed).

import { compareDiagnostics, type Diagnostic } from './diagnostics.js';
import { parse } from './syntax/parser.js';
import type * as A from './syntax/ast.js';
import type { CheckResult } from './semantics/program.js';
import { checkProgram, type ParsedFile } from './semantics/checker.js';
import { createLintRegistry, LINT_NAMES } from './lint/index.js';
import { applySuppressions, unknownSuppressions } from './lint/suppress.js';
import { applyLintLevels, validateConfig, type ReinConfig } from './config.js';
import { T } from './semantics/types.js';

export interface CheckOptions {
  /** The parsed `rein.json` (an object), or an already-validated ReinConfig. */
  config?: unknown;
}

export type { ParsedFile } from './semantics/checker.js';

const lint = createLintRegistry();

export function check(files: Record<string, string>, options: CheckOptions = {}): CheckResult {
  const parsed: ParsedFile[] = [];
  for (const file of Object.keys(files).sort()) {
    const text = files[file];
    try {
      const r = parse(text, file);
      parsed.push({ file, ast: r.ast, diagnostics: r.diagnostics, text });
    } catch (e) {
      parsed.push({ file, ast: emptyFile(file), diagnostics: [internal(file, 'parsing', e)], text });
    }
  }
  return checkParsed(parsed, options);
}

export function checkParsed(parsed: ParsedFile[], options: CheckOptions = {}): CheckResult {
  const diagnostics: Diagnostic[] = [];
  for (const p of parsed) diagnostics.push(...p.diagnostics);
  const { config, diagnostics: configDiagnostics } = readConfig(options.config);
  diagnostics.push(...configDiagnostics);
  let program: CheckResult['program'];
  try {
    const out = checkProgram(parsed);
    program = out.program;
    diagnostics.push(...out.diagnostics);
    try {
      diagnostics.push(...lint.run(program));
    } catch (e) {
      diagnostics.push(internal(parsed[0]?.file ?? '', 'linting', e));
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
      rules: [],
      budgets: [],
      tests: [],
      types: new Map(),
      refs: new Map(),
      declFile: new Map(),
    };
  }
  let out = applySuppressions(diagnostics, parsed, LINT_NAMES).concat(unknownSuppressions(parsed, LINT_NAMES));
  out = applyLintLevels(out, config);
  out.sort(compareDiagnostics);
  return { ok: !out.some((d) => d.severity === 'error'), diagnostics: out, program };
}

function readConfig(raw: unknown): { config: ReinConfig; diagnostics: Diagnostic[] } {
  if (raw === undefined || raw === null) return { config: { lint: {} }, diagnostics: [] };
  return validateConfig(raw);
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
