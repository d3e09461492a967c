// `matches` patterns (REIN211 / REIN212).
//
// Policies' regular expressions run on RE2 (the `re2js` port: pure JavaScript, browser-safe), whose
// automaton-based matcher takes time linear in the input for every pattern — no pattern can make
// evaluation backtrack. The syntax is RE2's (as in OPA and CEL): flags such as `(?i)` and `(?s)`,
// `\pL` classes, `\x{…}` escapes; no back-references and no look-around, which need a backtracking
// engine and are reported as REIN212 with the construct named. Anything else RE2 rejects is REIN211.

import { RE2JS } from 're2js';
import { usePatternEngine, type PolicyPattern } from './patterns.js';

export type { PolicyPattern } from './patterns.js';

/** RE2's "matches only at the beginning of the text" condition (`^…` without `(?m)`, `\A…`). */
const EMPTY_BEGIN_TEXT = 4;

/** Compile a `matches` pattern (RE2 syntax, no flags: use `(?i)` inside the pattern). Throws on an invalid pattern. */
export function compilePattern(pattern: string): PolicyPattern {
  const re = RE2JS.compile(pattern);
  // A pattern that can only match at the start of the text: an anchored attempt at position 0 gives
  // the same answer as the search, without re2js scanning the whole text (3 ms on 1 MB → 25 µs).
  const cond = (re.re2() as { cond?: unknown }).cond;
  if (typeof cond === 'number' && (cond & EMPTY_BEGIN_TEXT) !== 0) return { test: (s) => re.matcher(s).lookingAt() };
  return { test: (s) => re.test(s) };
}

// Loading this module makes RE2 the engine of `matches` (semantics/patterns.ts).
usePatternEngine(compilePattern);

// The check of `matches` patterns lives in semantics/pattern-check.ts (no re2js in it).
export { checkPattern, type PatternProblem } from './pattern-check.js';
