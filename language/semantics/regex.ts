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

export type PatternProblem = { code: 'REIN211' | 'REIN212'; message: string; help?: string };

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

const LOOK = /\(\?(<=|<!|=|!)/;
const BACKREF = /\\(?:[1-9]|k<)/;

/** The backtracking-only construct a pattern uses, if any: only consulted after RE2 rejected it. */
function backtrackingConstruct(pattern: string): string | undefined {
  // Skip escaped characters so `\(?=` (a literal parenthesis) is not taken for a look-ahead.
  let plain = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      const m = BACKREF.exec(pattern.slice(i, i + 3));
      if (m && m.index === 0) return `the back-reference \`${m[0]}\``;
      plain += '__';
      i++;
    } else plain += pattern[i];
  }
  const look = LOOK.exec(plain);
  if (look) return `the look-${look[1].startsWith('<') ? 'behind' : 'ahead'} \`(?${look[1]}\``;
  return undefined;
}

/** Validate a `matches` pattern: RE2 syntax (REIN211), constructs that need backtracking (REIN212). */
export function checkPattern(pattern: string): PatternProblem | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (e) {
    const what = backtrackingConstruct(pattern);
    if (what)
      return {
        code: 'REIN212',
        message: `regular expression needs backtracking: ${what} is not supported (patterns run on RE2, in linear time)`,
        help: 'rewrite without back-references and look-around, e.g. as two `matches` joined with `and` / `not`',
      };
    const raw = e instanceof Error ? e.message : String(e);
    const msg = raw.replace(/^error parsing regexp: /, '');
    return { code: 'REIN211', message: `invalid regular expression: ${msg}`, help: 'patterns use RE2 syntax (see docs/evaluation.md)' };
  }
}
