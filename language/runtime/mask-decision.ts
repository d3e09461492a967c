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
export function scrubTexts<T>(v: T, texts: readonly string[]): T {
  if (texts.length === 0 || v === null || typeof v !== 'object') return v;
  const list = [...new Set(texts)].filter((t) => t !== '').sort((a, b) => b.length - a.length).map((text) => ({ text, replacement: '[redacted]' }));
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = k === 'transforms' ? x : scrub(x, list);
  return o as T;
}

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
