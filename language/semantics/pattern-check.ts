// Checking `matches` patterns at compile time (REIN211, REIN212, REIN217). Loading this module makes
// the built-in subset an engine of `matches` (semantics/patterns.ts); the checker imports it.

import { compilePattern, NeedsRe2Error, useSubsetEngine } from './patterns.js';
import { subsetPattern } from './regex-subset.js';

useSubsetEngine(subsetPattern);

export type PatternProblem = { code: 'REIN211' | 'REIN212' | 'REIN217'; message: string; help?: string };

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

/** Validate a `matches` pattern: RE2 syntax (REIN211), constructs that need backtracking (REIN212),
 *  a pattern outside the built-in subset while RE2 is not loaded (REIN217). */
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
    if (e instanceof NeedsRe2Error) return { code: 'REIN217', message: raw, help: 'see docs/evaluation.md, "Regular expressions (RE2)"' };
    const msg = raw.replace(/^error parsing regexp: /, '');
    return { code: 'REIN211', message: `invalid regular expression: ${msg}`, help: 'patterns use RE2 syntax (see docs/evaluation.md)' };
  }
}
