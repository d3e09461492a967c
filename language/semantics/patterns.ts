// The `matches` pattern engine, as the runtime sees it: a registry holding one compile function.
// `semantics/regex.ts` (RE2, via re2js) registers itself when it is loaded — the checker loads it, so
// `compile(text)` always has it. A prebuilt policy (`rein/runtime`) loads re2js only when the policy
// uses `matches` (`ensureRegexEngine`), so an evaluator bundle without regexes does not carry it.

/** A compiled `matches` pattern: `test(s)` searches `s` (unanchored, like `RegExp.test`). */
export interface PolicyPattern {
  test(s: string): boolean;
}

let engine: ((pattern: string) => PolicyPattern) | undefined;

/** Register the pattern engine (semantics/regex.ts does, on load). */
export function usePatternEngine(compile: (pattern: string) => PolicyPattern): void {
  engine = compile;
}

export function hasPatternEngine(): boolean {
  return engine !== undefined;
}

/** Compile a `matches` pattern (RE2 syntax). Throws on an invalid pattern, or when no engine is loaded. */
export function compilePattern(pattern: string): PolicyPattern {
  if (engine === undefined) throw new Error('rein: the regular-expression engine is not loaded (a prebuilt policy loads it in `loadCompiled`)');
  return engine(pattern);
}

/** Load the RE2 engine (re2js) if it is not loaded yet. */
export async function ensurePatternEngine(): Promise<void> {
  if (engine === undefined) await import('./regex.js');
}
