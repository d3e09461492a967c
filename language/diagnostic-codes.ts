// Every diagnostic code with its severity and a one-line summary (SARIF rule descriptions, docs,
// `CODES` in the API). The severities themselves live in diagnostics.ts, which the compiler imports;
// the summaries live here, so that a bundle of `compile` does not carry them.

import { SEVERITIES, type DiagnosticCode, type Severity } from './diagnostics.js';

const SUMMARIES = {
  // ---- REIN1xx: syntax
  REIN100: 'unexpected character',
  REIN101: 'syntax error: unexpected or missing token',
  REIN102: 'unterminated string or block comment',
  REIN103: 'invalid literal (number, money, duration, percent, escape)',
  REIN104: 'reserved word used as a name',
  REIN105: 'not supported yet (phase 2: `set`)',
  REIN106: 'a rule needs exactly one effect clause',

  // ---- REIN2xx: names and types
  REIN200: 'unknown name',
  REIN201: 'duplicate name in the policy set',
  REIN202: 'missing `input` declaration',
  REIN203: 'more than one `input` or `policy` declaration',
  REIN204: 'unknown field',
  REIN205: 'type mismatch',
  REIN206: 'possibly-null value used where a value is required (add `??`)',
  REIN207: 'money mixed with a plain number',
  REIN208: 'unknown type',
  REIN209: 'wrong number or type of arguments',
  REIN210: 'recursive `def`',
  REIN211: 'invalid regular expression',
  REIN212: 'regular expression needs backtracking (back-reference or look-around)',
  REIN213: 'invalid budget (missing `limit`/`charge`, charge type differs from limit, bad window)',
  REIN214: 'string literal is not a value of the enum it is compared with',
  REIN215: '`matches` needs a string or a list of strings as its pattern',
  REIN216: 'invalid policy header value',
  REIN217: 'a pattern needs the RE2 engine, which is not loaded (browser: `loadRegexEngine()`)',
  REIN240: 'invalid approval `quorum` or `expires`',
  REIN241: 'invalid `@priority` (a whole number, with `combine first_match`)',
  REIN250: 'invalid `data` declaration or test override (no type, no file, not a data document)',
  REIN251: 'a data file is missing, unreadable or not JSON',
  REIN252: 'a data file does not fit the declared type',
  REIN230: 'invalid `extern def` (untyped parameter, no result type, a type that cannot cross the host boundary, a zero timeout)',
  REIN231: 'host implementations do not match the `extern def`s (one missing, one extra, or not a function)',
  REIN232: 'invalid `extern` stub in a test (not an `extern def`, wrong number of arguments)',

  // ---- REIN3xx: lint
  REIN300: 'unused `let` or `def`',
  REIN301: '`deny` without a message',
  REIN302: 'rule can never match (a condition is constant false)',
  REIN303: 'two rules with the same conditions',
  REIN304: 'no `default` in the policy header',
  REIN305: 'invalid `rein.json` configuration',
  REIN306: '`rein-ignore` names an unknown code or rule',
  REIN307: 'a deny or approval condition calls a method on an `any` value without testing its type',
  REIN340: 'under `combine first_match`, a rule after one that always matches can never decide',

  // ---- REIN4xx: tests
  REIN400: 'test names an unknown rule or budget',
  REIN401: 'test has no `given` or no `expect`',
  REIN402: 'invalid `at` time in a test',
  REIN403: 'a test failed',
} as const satisfies Record<DiagnosticCode, string>;

// Both tables name the same codes (each `satisfies` checks one direction).
const sameCodes: Record<keyof typeof SUMMARIES, unknown> = SEVERITIES;
void sameCodes;

/** Every diagnostic code: its severity and what it means. */
export const CODES: { readonly [C in DiagnosticCode]: { readonly severity: (typeof SEVERITIES)[C]; readonly summary: (typeof SUMMARIES)[C] } } = Object.fromEntries(
  (Object.keys(SEVERITIES) as DiagnosticCode[]).map((c) => [c, { severity: SEVERITIES[c] as Severity, summary: SUMMARIES[c] }]),
) as never;
