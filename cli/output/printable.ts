// Text that came from a policy or a request (a string literal's value inside a diagnostic message, a
// test's name) as a terminal or a CI log can show it on one line: control characters (an ESC that
// would colour the log or move the cursor, a newline that would break `file:line:col … message`) and
// bidi overrides are written as escapes.

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with every control character and bidi control escaped: `\n`, `\r`, `\t`, else `\u{1b}`. */
export function oneLine(s: string): string {
  return s.replace(UNPRINTABLE, (ch) => SHORT[ch] ?? `\\u{${ch.charCodeAt(0).toString(16)}}`);
}

/** `s` with control characters other than CR and LF escaped (`\u{1b}`), for formats that escape
 *  line breaks their own way (GitHub workflow commands: `%0A`). */
export function withoutControls(s: string): string {
  return s.replace(UNPRINTABLE, (ch) => (ch === '\n' || ch === '\r' ? ch : SHORT[ch] ?? `\\u{${ch.charCodeAt(0).toString(16)}}`));
}
