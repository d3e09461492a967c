// One diagnostic shape for the whole core. The language server converts these to LSP types in
// exactly one place (server/src/convert.ts); the CLI renders them as text, JSON, SARIF or GitHub
// annotations. Never put LSP types here.

/** 0-based line and character (UTF-16 code units, as LSP), plus the absolute offset in the text. */
export interface Position {
  line: number;
  character: number;
  offset: number;
}

/** End is exclusive. */
export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface Diagnostic {
  /** The file the diagnostic is in (as passed to parse/check). */
  file: string;
  range: Range;
  severity: Severity;
  /** Stable code: REIN1xx syntax, REIN2xx names and types, REIN3xx lint, REIN4xx tests. */
  code: string;
  /** Starts lowercase, no final period, user text in backticks. */
  message: string;
  /** Extra help shown separately from the message (optional). */
  help?: string;
  /** Machine-readable hints for quick fixes (e.g. `{ suggestion: "blocked_tools" }`). */
  data?: DiagnosticData;
  /** Secondary locations (e.g. the first declaration of a duplicate name). */
  related?: { file: string; range: Range; message: string }[];
}

export interface DiagnosticData {
  /** "did you mean" replacement for the diagnostic's range. */
  suggestion?: string;
  /** The expression at the range may be null: a `?? default` guard fixes it. */
  nullGuard?: boolean;
  [k: string]: unknown;
}

/**
 * Every diagnostic code Rein emits, with its default severity and a one-line summary.
 * `docs/diagnostics.md` lists the same table; a test keeps the two in sync.
 */
export const CODES = {
  // ---- REIN1xx: syntax
  REIN100: { severity: 'error', summary: 'unexpected character' },
  REIN101: { severity: 'error', summary: 'syntax error: unexpected or missing token' },
  REIN102: { severity: 'error', summary: 'unterminated string or block comment' },
  REIN103: { severity: 'error', summary: 'invalid literal (number, money, duration, percent, escape)' },
  REIN104: { severity: 'error', summary: 'reserved word used as a name' },
  REIN105: { severity: 'error', summary: 'not supported yet (phase 2: `set`, `redact`)' },
  REIN106: { severity: 'error', summary: 'a rule needs exactly one effect clause' },

  // ---- REIN2xx: names and types
  REIN200: { severity: 'error', summary: 'unknown name' },
  REIN201: { severity: 'error', summary: 'duplicate name in the policy set' },
  REIN202: { severity: 'error', summary: 'missing `input` declaration' },
  REIN203: { severity: 'error', summary: 'more than one `input` or `policy` declaration' },
  REIN204: { severity: 'error', summary: 'unknown field' },
  REIN205: { severity: 'error', summary: 'type mismatch' },
  REIN206: { severity: 'error', summary: 'possibly-null value used where a value is required (add `??`)' },
  REIN207: { severity: 'error', summary: 'money mixed with a plain number' },
  REIN208: { severity: 'error', summary: 'unknown type' },
  REIN209: { severity: 'error', summary: 'wrong number or type of arguments' },
  REIN210: { severity: 'error', summary: 'recursive `def`' },
  REIN211: { severity: 'error', summary: 'invalid regular expression' },
  REIN212: { severity: 'error', summary: 'regular expression needs backtracking (back-reference or look-around)' },
  REIN213: { severity: 'error', summary: 'invalid budget (missing `limit`/`charge`, charge type differs from limit, bad window)' },
  REIN214: { severity: 'error', summary: 'string literal is not a value of the enum it is compared with' },
  REIN215: { severity: 'error', summary: '`matches` needs a string or a list of strings as its pattern' },
  REIN216: { severity: 'error', summary: 'invalid policy header value' },
  REIN240: { severity: 'error', summary: 'invalid approval `quorum` or `expires`' },
  REIN241: { severity: 'error', summary: 'invalid `@priority` (a whole number, with `combine first_match`)' },
  REIN250: { severity: 'error', summary: 'invalid `data` declaration or test override (no type, no file, not a data document)' },
  REIN251: { severity: 'error', summary: 'a data file is missing, unreadable or not JSON' },
  REIN252: { severity: 'error', summary: 'a data file does not fit the declared type' },
  REIN230: { severity: 'error', summary: 'invalid `extern def` (untyped parameter, no result type, a type that cannot cross the host boundary, a zero timeout)' },
  REIN231: { severity: 'error', summary: 'host implementations do not match the `extern def`s (one missing, one extra, or not a function)' },
  REIN232: { severity: 'error', summary: 'invalid `extern` stub in a test (not an `extern def`, wrong number of arguments)' },

  // ---- REIN3xx: lint
  REIN300: { severity: 'warning', summary: 'unused `let` or `def`' },
  REIN301: { severity: 'warning', summary: '`deny` without a message' },
  REIN302: { severity: 'warning', summary: 'rule can never match (a condition is constant false)' },
  REIN303: { severity: 'warning', summary: 'two rules with the same conditions' },
  REIN304: { severity: 'hint', summary: 'no `default` in the policy header' },
  REIN305: { severity: 'warning', summary: 'invalid `rein.json` configuration' },
  REIN306: { severity: 'warning', summary: '`rein-ignore` names an unknown code or rule' },
  REIN307: { severity: 'warning', summary: 'a deny or approval condition calls a method on an `any` value without testing its type' },
  REIN340: { severity: 'warning', summary: 'under `combine first_match`, a rule after one that always matches can never decide' },

  // ---- REIN4xx: tests
  REIN400: { severity: 'error', summary: 'test names an unknown rule or budget' },
  REIN401: { severity: 'error', summary: 'test has no `given` or no `expect`' },
  REIN402: { severity: 'error', summary: 'invalid `at` time in a test' },
  REIN403: { severity: 'error', summary: 'a test failed' },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type DiagnosticCode = keyof typeof CODES;

export function isError(d: Diagnostic): boolean {
  return d.severity === 'error';
}

/** Sort by file, then position, then code (stable output for CLI and tests). */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.range.start.offset !== b.range.start.offset) return a.range.start.offset - b.range.start.offset;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

/** Maps offsets to 0-based line/character positions for one text. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }
  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo], offset: o };
  }
  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }
  offsetAt(line: number, character: number): number {
    if (line < 0) return 0;
    if (line >= this.starts.length) return this.text.length;
    const next = line + 1 < this.starts.length ? this.starts[line + 1] : this.text.length;
    return Math.min(this.starts[line] + Math.max(0, character), next);
  }
  get lineCount(): number {
    return this.starts.length;
  }
}
