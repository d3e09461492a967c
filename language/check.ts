// `check()`: parse, type-check and lint a policy set (INTERFACES §2). Never throws.
// `checkParsed()` is the same pipeline from already-parsed files (the language server re-parses
// only the file that changed). The pipeline without lint and config is check-core.ts.

import type { Diagnostic } from './diagnostics.js';
import type { CheckResult } from './semantics/program.js';
import { checkCore, parseFiles, type ParsedFile } from './check-core.js';
import { createLintRegistry, LINT_NAMES } from './lint/index.js';
import { unknownSuppressions } from './lint/suppress.js';
import { applyLintLevels, jsonLocator, validateConfig, type ReinConfig } from './config.js';
import { LineIndex } from './diagnostics.js';

export interface CheckOptions {
  /** The parsed `rein.json` (an object), or an already-validated ReinConfig. */
  config?: unknown;
  /** The set's data files by name relative to the set's root: JSON text or a parsed value
   *  (docs/data.md). Without it, data documents are type-checked but not read. */
  data?: Record<string, unknown>;
}

export type { ParsedFile } from './check-core.js';

const lint = createLintRegistry();

export function check(files: Record<string, string>, options: CheckOptions = {}): CheckResult {
  return checkParsed(parseFiles(files), options);
}

export function checkParsed(parsed: ParsedFile[], options: CheckOptions = {}): CheckResult {
  const { config, diagnostics: configDiagnostics } = readConfig(options.config);
  return checkCore(
    parsed,
    {
      lint: (program) => lint.run(program),
      lintNames: LINT_NAMES,
      finish: (out, files) => {
        const all = applyLintLevels(out.concat(unknownSuppressions(files, LINT_NAMES)), config);
        return options.data ? placeDataDiagnostics(all, options.data) : all;
      },
      data: options.data,
    },
    configDiagnostics,
  );
}

function readConfig(raw: unknown): { config: ReinConfig; diagnostics: Diagnostic[] } {
  if (raw === undefined || raw === null) return { config: { lint: {} }, diagnostics: [] };
  return validateConfig(raw);
}

/**
 * Move the diagnostics on data files (given as JSON text), which the core reports at the file's
 * start (runtime/data.ts), to what they are about: REIN252 to the bad member (its key) or list item,
 * by the JSON path in `data.jsonPath`; REIN251 to where the JSON parser stopped.
 */
function placeDataDiagnostics(diagnostics: Diagnostic[], files: Record<string, unknown>): Diagnostic[] {
  return diagnostics.map((d) => {
    const text = Object.prototype.hasOwnProperty.call(files, d.file) ? files[d.file] : undefined;
    if (typeof text !== 'string' || (d.code !== 'REIN251' && d.code !== 'REIN252')) return d;
    let span: [number, number] | undefined;
    if (d.code === 'REIN252') {
      const path = [...String(d.data?.jsonPath ?? '$').matchAll(/\.([A-Za-z_]\w*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)].map(
        (m) => m[1] ?? m[2] ?? (JSON.parse(m[3]) as string),
      );
      span = jsonLocator(text)(path);
    } else {
      const m = /position (\d+)/.exec(d.message);
      const at = m ? Math.min(Number(m[1]), text.length) : /end of JSON/.test(d.message) ? text.length : 0;
      span = [at, at];
    }
    if (!span) return d;
    return { ...d, range: new LineIndex(text).range(span[0], span[1]) };
  });
}
