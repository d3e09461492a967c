// The default lint rules, in code order.

import { LintRegistry } from './registry.js';
import { unusedDeclaration } from './unused-declaration.js';
import { denyWithoutMessage } from './deny-without-message.js';
import { neverMatches } from './never-matches.js';
import { unreachableRule } from './unreachable-rule.js';
import { duplicateConditions } from './duplicate-conditions.js';
import { missingDefault } from './missing-default.js';
import { anyMethod } from './any-method.js';

export { LintRegistry } from './registry.js';
export type { LintRule, LintContext, Accept, Report, LintCode } from './registry.js';

export const LINT_RULES = [unusedDeclaration, denyWithoutMessage, neverMatches, duplicateConditions, missingDefault, anyMethod, unreachableRule];

export function createLintRegistry(): LintRegistry {
  return new LintRegistry().register(...LINT_RULES);
}

/** Codes of the lint rules: each has a page `docs/rules/<CODE>.md` (Avoid / Prefer / Rationale). */
export const LINT_CODES: ReadonlySet<string> = new Set(LINT_RULES.map((r) => r.code));

/**
 * The documentation link for a diagnostic code, given the URL of `docs/diagnostics.md`: lint codes go
 * to their rule page, every other code to its entry in diagnostics.md. Used by SARIF and the server.
 */
export function diagnosticDocUrl(diagnosticsMd: string, code: string): string {
  if (LINT_CODES.has(code)) return diagnosticsMd.replace(/diagnostics\.md$/, `rules/${code}.md`);
  return `${diagnosticsMd}#${code.toLowerCase()}`;
}

/** Lint rule name (kebab-case) → code, and back. */
export const LINT_NAMES: Record<string, string> = Object.fromEntries(LINT_RULES.map((r) => [r.name, r.code]));
