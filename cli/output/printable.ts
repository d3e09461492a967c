// Text that came from a policy or a request (a string literal's value inside a diagnostic message, a
// test's name) as a terminal or a CI log can show it on one line: control characters (an ESC that
// would colour the log or move the cursor, a newline that would break `file:line:col … message`) and
// bidi overrides are written as escapes.

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `ch` as `\u{1b}`. */
export const codePoint = (ch: string): string => `\\u{${ch.charCodeAt(0).toString(16)}}`;

/** `s` with each control character and bidi control replaced by `escape(ch)` (the one list of what a
 *  terminal or CI log must not get raw). */
export function escapeControls(s: string, escape: (ch: string) => string): string {
  return s.replace(UNPRINTABLE, escape);
}

/** `s` with every control character and bidi control escaped: `\n`, `\r`, `\t`, else `\u{1b}`. */
export function oneLine(s: string): string {
  return escapeControls(s, (ch) => SHORT[ch] ?? codePoint(ch));
}

/** `s` with control characters other than CR and LF escaped (`\u{1b}`), for formats that escape
 *  line breaks their own way (GitHub workflow commands: `%0A`). */
export function withoutControls(s: string): string {
  return escapeControls(s, (ch) => (ch === '\n' || ch === '\r' ? ch : SHORT[ch] ?? codePoint(ch)));
}
