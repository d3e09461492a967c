// The policy façade: text → checked → compiled. `compile` is the package's entry point for policy
// text; it parses and checks (check-core.ts: no linter, no `rein.json` — they only add warnings) and
// hands the checked program to the runtime (`runtime/compile.ts` `compileProgram`), which never
// imports the parser or the checker. Code that only evaluates (a prebuilt policy, the engine)
// depends on the runtime alone. For lint warnings, call `check` and pass its result to `compile`.

import { checkCore, parseFiles } from './check-core.js';
import type { CheckResult } from './semantics/program.js';
import { compileProgram, type CompileOptions, type Policy } from './runtime/compile.js';

export type { Policy, CompileOptions, EvaluateOptions } from './runtime/compile.js';

function isCheckResult(x: unknown): x is CheckResult {
  return typeof x === 'object' && x !== null && 'program' in x && 'diagnostics' in x && 'ok' in x;
}

/**
 * Compile a policy set (file name → source) or an already checked set (`check()`'s result). Throws
 * `PolicyError` carrying every diagnostic when the set has errors.
 */
export function compile(files: Record<string, string> | CheckResult, options: CompileOptions = {}): Policy {
  if (isCheckResult(files)) return compileProgram(files, options);
  // Data documents are read from `options.data` (file name → JSON text or value): none given, any
  // `data` declaration is a missing file (REIN251).
  // Hash the checked program the same way whichever entry point was used: no `sources`.
  return compileProgram(checkCore(parseFiles(files), { data: options.data ?? {} }), { ...options, sources: undefined });
}
