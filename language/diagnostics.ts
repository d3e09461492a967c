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
/** The severity of each diagnostic code (their one-line summaries, for SARIF and docs, are in
 *  diagnostic-codes.ts: the compiler needs only this table, and a browser bundle of `compile` only
 *  carries what the compiler needs). */
export const SEVERITIES = {
  // ---- REIN1xx: syntax
  REIN100: 'error',
  REIN101: 'error',
  REIN102: 'error',
  REIN103: 'error',
  REIN104: 'error',
  REIN105: 'error',
  REIN106: 'error',

  // ---- REIN2xx: names and types
  REIN200: 'error',
  REIN201: 'error',
  REIN202: 'error',
  REIN203: 'error',
  REIN204: 'error',
  REIN205: 'error',
  REIN206: 'error',
  REIN207: 'error',
  REIN208: 'error',
  REIN209: 'error',
  REIN210: 'error',
  REIN211: 'error',
  REIN212: 'error',
  REIN213: 'error',
  REIN214: 'error',
  REIN215: 'error',
  REIN216: 'error',
  REIN217: 'error',
  REIN240: 'error',
  REIN241: 'error',
  REIN250: 'error',
  REIN251: 'error',
  REIN252: 'error',
  REIN230: 'error',
  REIN231: 'error',
  REIN232: 'error',

  // ---- REIN3xx: lint
  REIN300: 'warning',
  REIN301: 'warning',
  REIN302: 'warning',
  REIN303: 'warning',
  REIN304: 'hint',
  REIN305: 'warning',
  REIN306: 'warning',
  REIN307: 'warning',
  REIN340: 'warning',

  // ---- REIN4xx: tests
  REIN400: 'error',
  REIN401: 'error',
  REIN402: 'error',
  REIN403: 'error',
} as const satisfies Record<string, Severity>;

export type DiagnosticCode = keyof typeof SEVERITIES;

export function isError(d: Diagnostic): boolean {
  return d.severity === 'error';
}

/** Sort by file, then position, then code (stable output for CLI and tests). */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.range.start.offset !== b.range.start.offset) return a.range.start.offset - b.range.start.offset;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

/**
 * Maps offsets to 0-based line/character positions for one text. A leading byte-order mark is not a
 * character of line 0 (editors do not show it, and strip it from the text they send): columns on the
 * first line count from after it, as the editor's do.
 */
export class LineIndex {
  private readonly starts: number[];
  constructor(readonly text: string) {
    this.starts = [text.charCodeAt(0) === 0xfeff ? 1 : 0];
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
    return { line: lo, character: Math.max(0, o - this.starts[lo]), offset: o };
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
