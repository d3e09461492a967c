// A decision without the text its `redact` transforms mask, where it repeats request text (an
// extern's arguments and result, a rule's message, an error, a budget key): what the audit log, the
// approval queues and the gateway's log keep. The transforms themselves name rule, path, detector and
// spans, never the text. Not on the evaluation path (the audit, `rein/ai` and `rein mcp` import it).

import { decisionToJSON, type Decision } from './decision.js';
import type { Transform } from './transforms.js';

/** The texts the decision's transforms mask (longest first), each with its replacement. */
function maskedTexts(request: unknown, d: Decision): { text: string; replacement: string }[] {
  const out: { text: string; replacement: string }[] = [];
  for (const t of d.transforms ?? []) {
    let v: unknown = request;
    for (const k of t.path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
    if (t.key) v = t.path[t.path.length - 1]; // a masked map key
    if (typeof v === 'number' && Number.isFinite(v)) v = String(v); // a masked untyped number
    if (typeof v !== 'string') continue;
    for (const sp of t.spans) {
      const text = v.slice(sp.start, sp.end);
      if (text !== '' && !out.some((x) => x.text === text)) out.push({ text, replacement: t.replacement });
    }
  }
  return out.sort((a, b) => b.text.length - a.text.length);
}

/** `v` with every masked text in its strings replaced (where the decision repeats request text: an
 *  extern's arguments and result, a message, an error, a budget key). */
function scrub(v: unknown, texts: { text: string; replacement: string }[], depth = 0): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (const x of texts) if (s.includes(x.text)) s = s.split(x.text).join(x.replacement);
    return s;
  }
  if (typeof v !== 'object' || v === null || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, texts, depth + 1));
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: scrub(x, texts, depth + 1), enumerable: true, writable: true, configurable: true });
  return o;
}

/** `v` (a decision or a request, as logged) with every occurrence of these texts replaced by
 *  `"[redacted]"` (the audit logger's `redact` paths: their values must not come back through a
 *  message, a warning, an extern's arguments or a budget key). `transforms` is kept as it is. */
export function scrubTexts<T>(v: T, texts: readonly string[], decision = false): T {
  if (texts.length === 0 || v === null || typeof v !== 'object') return v;
  // Whole tokens only (not inside a longer word or number), longest first: a redacted `5` must not
  // turn `2026-12-05` into `2026-12-0[redacted]`. The record's identifiers (policy, time, hashes,
  // reservation, names, locations: `decision`) are never request text and stay as they are.
  const list = [...new Set(texts)].filter((t) => t !== '').sort((a, b) => b.length - a.length);
  const re = new RegExp(list.map((t) => `(?<![\\p{L}\\p{N}_])${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}_])`).join('|'), 'gu');
  const walk = (x: unknown, depth: number): unknown => {
    if (typeof x === 'string') return x.replace(re, '[redacted]');
    if (typeof x !== 'object' || x === null || depth > 64) return x;
    if (Array.isArray(x)) return x.map((y) => walk(y, depth + 1));
    const o: Record<string, unknown> = {};
    for (const [k, y] of Object.entries(x)) Object.defineProperty(o, k, { value: decision && KEEP.has(k) ? y : walk(y, depth + 1), enumerable: true, writable: true, configurable: true });
    return o;
  };
  return walk(v, 0) as T;
}
/** Keys whose values are identifiers of the record, never request text. */
const KEEP = new Set(['transforms', 'policy', 'time', 'request_hash', 'reservation', 'name', 'kind', 'effect', 'would_effect', 'location', 'annotations', 'window', 'expires', 'mode']);

/** The decision as logged: without the text its transforms mask (the transforms themselves name
 *  rule, path, detector and spans, never the text). */
export function maskedDecision<T extends { transforms?: Decision['transforms'] }>(rest: T, request: unknown, d: Decision): T {
  if (!d.transforms || d.transforms.length === 0 || request === undefined) return rest;
  const texts = maskedTexts(request, d);
  if (texts.length === 0) return rest;
  const o: Record<string, unknown> = {};
  // a transform's path names a masked map key (`key: true`, or a value below it): masked there too
  for (const [k, x] of Object.entries(rest)) o[k] = k === 'transforms' ? (x as Transform[]).map((t) => ({ ...t, path: scrub(t.path, texts) as Transform['path'] })) : scrub(x, texts);
  return o as T;
}


/** `d` without the text its transforms mask, as plain data (`decisionToJSON`: `request_hash`
 *  included); `d` itself when it masks nothing. */
export function maskDecision(d: Decision, request: unknown): Decision {
  if (!d.transforms || d.transforms.length === 0) return d;
  return maskedDecision(decisionToJSON(d), request, d);
}
