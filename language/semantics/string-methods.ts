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
} satisfies Record<string, StringRun>;

export type StringMethodName = keyof typeof STRING_RUN;
