// Transforms (issue #18): what a matched `redact PATH using DETECTOR ["REPLACEMENT"]` rule asks the
// host to change in the request, and `applyTransforms`, which makes the changed request exactly.
// A transform names the rule, the path (keys and list indexes from the request's root), the detector,
// the replacement and the spans (`[start, end)` in UTF-16 code units of the string at that path).

import { SPAN_FINDERS, type Span } from './detectors.js';

export type { Span } from './detectors.js';

/** One transform of a decision (`decision.transforms`). */
export interface Transform {
  rule: string;
  op: 'redact';
  /** From the request's root: object keys and list indexes, e.g. `["action", "args", "query"]`. */
  path: (string | number)[];
  /** The detector that found the spans; null: no `using`, the whole string. */
  detector: string | null;
  replacement: string;
  spans: Span[];
}

/** What a `redact` rule masks (lowered from its effect clause). */
export interface RedactSpec {
  /** Keys and constant indexes from the request's root (a negative index counts from the end). */
  path: (string | number)[];
  /** `ns.name`; "" without `using` (the whole string). */
  detector: string;
  replacement: string;
}

/** The replacement when a `redact` rule gives none. */
export const DEFAULT_REPLACEMENT = '[REDACTED]';

const MAX_DEPTH = 256;

function step(v: unknown, k: string | number): { v: unknown; k: string | number } | undefined {
  if (typeof k === 'number') {
    if (!Array.isArray(v)) return undefined;
    const i = k < 0 ? v.length + k : k;
    return i >= 0 && i < v.length ? { v: v[i], k: i } : undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
  return { v: (v as Record<string, unknown>)[k], k };
}

/**
 * The transforms of one matched `redact` rule over the (validated) request: one per string at the
 * path — or, when the path holds a list or an object, per string anywhere inside it — in which the
 * detector found something. An absent path or a non-string leaf masks nothing.
 */
export function redactTransforms(rule: string, spec: RedactSpec, input: unknown): Transform[] {
  let v: unknown = input;
  const path: (string | number)[] = [];
  for (const seg of spec.path) {
    const s = step(v, seg);
    if (s === undefined) return [];
    v = s.v;
    path.push(s.k);
  }
  const find = spec.detector ? SPAN_FINDERS[spec.detector] : (s: string) => (s ? [{ start: 0, end: s.length }] : []);
  if (find === undefined) throw new Error(`unknown detector \`${spec.detector}\``);
  const out: Transform[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (typeof x === 'string') {
      const spans = find(x, false);
      if (spans.length > 0) out.push({ rule, op: 'redact', path: path.slice(), detector: spec.detector || null, replacement: spec.replacement, spans });
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    if (depth >= MAX_DEPTH) throw new Error(`\`redact\` went deeper than ${MAX_DEPTH} levels into the request`);
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        path.push(i);
        walk(x[i], depth + 1);
        path.pop();
      }
      return;
    }
    for (const k of Object.keys(x)) {
      path.push(k);
      walk((x as Record<string, unknown>)[k], depth + 1);
      path.pop();
    }
  };
  walk(v, 0);
  return out;
}

/** A path as text: `action.args.query`, `messages[0].text`, `args["a b"]`. */
export function pathText(path: readonly (string | number)[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) s += s === '' ? k : `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

function setOwn(o: Record<string, unknown> | unknown[], k: string | number, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/**
 * The request with the decision's transforms applied, exactly: per string, every span of every
 * transform at that path (overlapping spans merged; the replacement of the one starting first) is
 * replaced, right to left, so each span's offsets hold in the original string. The original request is
 * not touched: the containers along each transformed path are copied (the rest is shared). Without
 * transforms, `request` itself is returned. Throws a `RangeError` when a transform does not fit the
 * request (no string at its path, a span outside it): the decision was made for another request.
 */
export function applyTransforms<T>(request: T, decision: { transforms?: readonly Transform[] | null }): T {
  const ts = decision.transforms;
  if (!ts || ts.length === 0) return request;
  // Group the spans by path: spans of several rules on one string refer to the same original text.
  const groups = new Map<string, { path: (string | number)[]; spans: { start: number; end: number; replacement: string }[] }>();
  for (const t of ts) {
    const key = JSON.stringify(t.path);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { path: t.path, spans: [] }));
    for (const s of t.spans) g.spans.push({ start: s.start, end: s.end, replacement: t.replacement });
  }
  const copied = new Set<unknown>();
  const copy = (x: unknown): Record<string, unknown> | unknown[] => {
    const c = Array.isArray(x) ? x.slice() : Object.defineProperties({}, Object.getOwnPropertyDescriptors(x as object));
    copied.add(c);
    return c;
  };
  if (typeof request !== 'object' || request === null) throw new RangeError('applyTransforms: the request is not an object');
  const root = copy(request);
  for (const g of groups.values()) {
    const where = pathText(g.path);
    let parent: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < g.path.length - 1; i++) {
      const k = g.path[i];
      const child = (parent as Record<string | number, unknown>)[k];
      if (typeof child !== 'object' || child === null) throw new RangeError(`applyTransforms: no value at \`${where}\` in the request`);
      const c = copied.has(child) ? (child as Record<string, unknown>) : copy(child);
      setOwn(parent, k, c);
      parent = c;
    }
    const last = g.path[g.path.length - 1];
    const s = last === undefined ? undefined : (parent as Record<string | number, unknown>)[last];
    if (typeof s !== 'string') throw new RangeError(`applyTransforms: no string at \`${where}\` in the request`);
    const spans = g.spans.slice().sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: typeof spans = [];
    for (const x of spans) {
      if (!(Number.isInteger(x.start) && Number.isInteger(x.end) && x.start >= 0 && x.start < x.end && x.end <= s.length))
        throw new RangeError(`applyTransforms: span [${x.start}, ${x.end}) does not fit the ${s.length}-character string at \`${where}\``);
      const prev = merged[merged.length - 1];
      if (prev !== undefined && x.start < prev.end) prev.end = Math.max(prev.end, x.end);
      else merged.push({ ...x });
    }
    let out = s;
    for (let i = merged.length - 1; i >= 0; i--) out = out.slice(0, merged[i].start) + merged[i].replacement + out.slice(merged[i].end);
    setOwn(parent, last as string | number, out);
  }
  return root as T;
}

/** What an audit record keeps of a decision's transforms: never the masked text. */
export interface MaskedSummary {
  rule: string;
  path: string;
  detector: string | null;
  spans: number;
}

/** The audit/settle view of transforms: rule, path, detector and the number of spans. */
export function maskedSummary(transforms: readonly Transform[] | null | undefined): MaskedSummary[] {
  return (transforms ?? []).map((t) => ({ rule: t.rule, path: pathText(t.path), detector: t.detector, spans: t.spans.length }));
}
