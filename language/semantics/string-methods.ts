// The string methods' implementations (LANGUAGE §6), written once: the builtins registry (builtins.ts:
// signatures, docs, completion) attaches them to its entries, and the evaluator's closure backend
// (runtime/closures.ts) and lowering (runtime/lower.ts) read them here. A leaf without the registry's
// documentation, so the evaluator bundle (`rein/runtime`) stays small.
//
// `s` is the receiver, `a` and `b` the arguments' values (null when absent; of any run-time type,
// since an argument typed `any` may hold anything: check it). Positional: no array per call.

export type StringRun = (s: string, a: unknown, b: unknown) => unknown;

// One plain e-mail address: a local part without spaces, separators or quotes, one `@`, and a host
// name of dot-separated labels. Unambiguous classes only (linear time in V8's engine).
const ONE_ADDRESS = /^[^\s@,;<>()[\]\\":]+@[A-Za-z0-9\u0080-\uFFFF-]+(?:\.[A-Za-z0-9\u0080-\uFFFF-]+)*$/;

/** `s.domain()`: the lower-cased domain when `s` is exactly one plain address, else null — so
 *  `"bob@evil.com, carol@example.com"` or `"Bob <bob@x.com>"` never passes for an internal address. */
export function emailDomain(s: string): string | null {
  if (!ONE_ADDRESS.test(s)) return null;
  return s.slice(s.indexOf('@') + 1).toLowerCase();
}

/** The literal pieces of a glob between its unescaped `*`s (`\*` is a literal star, `\\` a backslash). */
function globPieces(glob: string): string[] {
  const pieces: string[] = [];
  let cur = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\' && (glob[i + 1] === '*' || glob[i + 1] === '\\')) cur += glob[++i];
    else if (c === '*') {
      pieces.push(cur);
      cur = '';
    } else cur += c;
  }
  pieces.push(cur);
  return pieces;
}

// A glob's pieces by glob: a policy's patterns are a few constants, split once rather than at every
// call (a pattern from the request or from data is split again when it is long or the cache is full).
const PIECES = new Map<string, readonly string[]>();

function piecesOf(glob: string): readonly string[] {
  let pieces = PIECES.get(glob);
  if (pieces === undefined) {
    pieces = globPieces(glob);
    if (glob.length <= 256) {
      if (PIECES.size >= 256) PIECES.clear();
      PIECES.set(glob, pieces);
    }
  }
  return pieces;
}

/**
 * `s.like(glob)` (Cedar's `like`): the whole of `s` matches `glob`, where `*` stands for any run of
 * characters (none included), `\*` for a star and `\\` for a backslash. No backtracking: the literal
 * pieces are found left to right, leftmost first (exact for star-only patterns), so the time is at
 * most O(|s|·|glob|) whatever the pattern — safe with patterns taken from the request or from data.
 */
export function globMatch(s: string, glob: string): boolean {
  const pieces = piecesOf(glob);
  if (pieces.length === 1) return s === pieces[0];
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  let pos = first.length;
  const end = s.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const p = pieces[i];
    if (p === '') continue;
    const at = s.indexOf(p, pos);
    if (at < 0 || at + p.length > end) return false;
    pos = at + p.length;
  }
  return true;
}

export const STRING_RUN = {
  len: (s) => s.length,
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  trim: (s) => s.trim(),
  starts_with: (s, p) => typeof p === 'string' && s.startsWith(p),
  ends_with: (s, p) => typeof p === 'string' && s.endsWith(p),
  contains: (s, p) => typeof p === 'string' && s.includes(p),
  split: (s, p) => (typeof p === 'string' ? s.split(p) : [s]),
  replace: (s, p, r) => (typeof p === 'string' && typeof r === 'string' && p.length > 0 ? s.split(p).join(r) : s),
  domain: (s) => emailDomain(s),
  like: (s, p) => typeof p === 'string' && globMatch(s, p),
} satisfies Record<string, StringRun>;

export type StringMethodName = keyof typeof STRING_RUN;
