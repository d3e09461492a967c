// Text a person reads before approving something (the MCP elicitation question, the inbox, `rein
// approvals`): characters that change how text looks without being seen — bidi controls (U+202A–202E,
// U+2066–2069, U+200E/U+200F), zero-width and other format characters (Unicode category Cf), line and
// paragraph separators, control characters other than newline and tab, lone surrogates — are shown
// as `\uXXXX`. The model chooses tool arguments; `notes\u202Etxt.hs` must not read as `notessh.txt`
// (review h12r1 P16). Applied to JSON text it keeps the JSON valid and equal in value: those
// characters can only occur inside its strings, where `\uXXXX` is the same character.

const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u0000-\u0008\u000B-\u001F\u007F-\u009F]/gu;

const hex = (c: string) => {
  let out = '';
  for (let i = 0; i < c.length; i++) out += '\\u' + c.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
  return out;
};

/** `text` with every invisible or reordering character written as `\uXXXX`. */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE, hex);
}
