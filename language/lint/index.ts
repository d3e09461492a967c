// The default lint rules, in code order.

import { LintRegistry } from './registry.js';
import { unusedDeclaration } from './unused-declaration.js';
import { denyWithoutMessage } from './deny-without-message.js';
import { neverMatches } from './never-matches.js';
import { duplicateConditions } from './duplicate-conditions.js';
import { missingDefault } from './missing-default.js';

export { LintRegistry } from './registry.js';
export type { LintRule, LintContext, Accept, Report, LintCode } from './registry.js';

export const LINT_RULES = [unusedDeclaration, denyWithoutMessage, neverMatches, duplicateConditions, missingDefault];

export function createLintRegistry(): LintRegistry {
  return new LintRegistry().register(...LINT_RULES);
}

/** Lint rule name (kebab-case) → code, and back. */
export const LINT_NAMES: Record<string, string> = Object.fromEntries(LINT_RULES.map((r) => [r.name, r.code]));
