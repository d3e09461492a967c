// The `matches` pattern engines, as the runtime sees them: a registry of two compile functions.
//   - The built-in subset (semantics/regex-subset.ts): the common part of RE2's syntax, with RE2's
//     semantics. The checker registers it (semantics/pattern-check.ts), so `compile(text)` has it.
//   - RE2 itself (semantics/regex.ts, re2js, 46 KB gzip) registers itself when it is loaded: Node's
//     entry points load it (`rein` under the `node` condition, `rein/node`, the CLI, the language
//     server); a browser loads it with `await loadRegexEngine()` or `import 'rein/re2'`. A pattern
//     outside the subset needs it (docs/evaluation.md, "Regular expressions (RE2)").
// A prebuilt policy (`rein/runtime`) loads re2js only when the policy uses `matches`.

/** A compiled `matches` pattern: `test(s)` searches `s` (unanchored, like `RegExp.test`). */
export interface PolicyPattern {
  test(s: string): boolean;
}

/** The built-in subset's answer: a matcher, RE2's error, or undefined (outside the subset). */
export type SubsetResult = PolicyPattern | { error: string } | undefined;

let engine: ((pattern: string) => PolicyPattern) | undefined;
let subset: ((pattern: string) => SubsetResult) | undefined;

/** Register RE2 (semantics/regex.ts does, on load); undefined unregisters it (tests). */
export function usePatternEngine(compile: ((pattern: string) => PolicyPattern) | undefined): void {
  engine = compile;
}

/** Register the built-in subset (semantics/pattern-check.ts does, on load). */
export function useSubsetEngine(compile: (pattern: string) => SubsetResult): void {
  subset = compile;
}

/** Is RE2 (re2js) loaded? */
export function hasPatternEngine(): boolean {
  return engine !== undefined;
}

/** Thrown for a pattern outside the built-in subset while RE2 is not loaded. */
export class NeedsRe2Error extends Error {}

/** Compile a `matches` pattern (RE2 syntax): on RE2 when it is loaded (its literal prefilters and
 *  DFA are faster on long texts), else on the built-in subset when it covers the pattern. Throws on an
 *  invalid pattern, or (NeedsRe2Error) when the pattern needs RE2 and it is not loaded. */
export function compilePattern(pattern: string): PolicyPattern {
  if (engine !== undefined) return engine(pattern);
  const r = subset?.(pattern);
  if (r !== undefined && !('error' in r)) return r;
  if (r !== undefined) throw new Error(r.error);
  throw new NeedsRe2Error(
    subset === undefined
      ? 'the regular-expression engine is not loaded (a prebuilt policy loads it in `loadCompiled`)'
      : 'this pattern needs the RE2 engine, which is not loaded: `await loadRegexEngine()` (or `import "rein/re2"`) before `compile`',
  );
}

/** Load the RE2 engine (re2js) if it is not loaded yet: after this, `compile` accepts every RE2
 *  pattern (a browser's bundle loads it as a separate chunk). */
export async function loadRegexEngine(): Promise<void> {
  if (engine === undefined) usePatternEngine((await import('./regex.js')).compilePattern);
}

/** The name the prebuilt loader uses. */
export const ensurePatternEngine = loadRegexEngine;
