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
  /** The spans are in the map key that ends `path` (the entry is renamed), not in its value. Keys are
   *  masked by a detector only (`using`): without one, a key is structure, not text. */
  key?: true;
}

/** What a `redact` rule masks (lowered from its effect clause). */
export interface RedactSpec {
  /** Keys and constant indexes from the request's root (a negative index counts from the end). */
  path: (string | number)[];
  /** `ns.name`; "" without `using` (the whole string). */
  detector: string;
  replacement: string;
  /** The path holds untyped JSON (`any`, lists and maps of it): its numbers are masked too, through
   *  their decimal text (`String(n)`, as JSON writes it), and a masked one becomes a string. Typed
   *  values are not (a `money` or `time` is held in other units; an `int` stays an `int`). */
  numbers?: true;
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
 * detector found something; with `spec.numbers`, per number too (its decimal text). An absent path or
 * another leaf masks nothing.
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
    if (typeof x === 'string' || (spec.numbers && typeof x === 'number' && Number.isFinite(x))) {
      const spans = find(typeof x === 'string' ? x : String(x), false);
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
      const ks = spec.detector ? find(k, false) : [];
      if (ks.length > 0) out.push({ rule, op: 'redact', path: path.slice(), detector: spec.detector, replacement: spec.replacement, spans: ks, key: true });
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
 * The request with the decision's transforms applied, exactly: per string (or number, as its decimal
 * text: the masked result is a string), every span of every
 * transform at that path (overlapping spans merged; the replacement of the one starting first) is
 * replaced, right to left, so each span's offsets hold in the original string. A `key` transform
 * renames the map entry (deepest first, keeping the entries' order); a masked key equal to another
 * key of the map gets `#2`, `#3`, … appended. The original request is not touched: the containers
 * along each transformed path are copied (the rest is shared). Without transforms, `request` itself
 * is returned. Throws a `RangeError` when a transform does not fit the request (no string at its path,
 * a span outside it): the decision was made for another request. The second argument is the
 * decision or its `transforms` list; anything else (null, a string) is a `TypeError`.
 */
export function applyTransforms<T>(request: T, decision: { transforms?: readonly Transform[] | null } | readonly Transform[]): T {
  // the decision or its `transforms` list; anything else would return the request unmasked (fail open)
  if (decision === null || typeof decision !== 'object') throw new TypeError(`applyTransforms: expected the decision (or its \`transforms\` list) as the second argument, got ${decision === null ? 'null' : typeof decision}`);
  const ts = Array.isArray(decision) ? (decision as readonly Transform[]) : (decision as { transforms?: readonly Transform[] | null }).transforms;
  if (!ts || ts.length === 0) return request;
  // Group the spans by path: spans of several rules on one string refer to the same original text.
  const groups = new Map<string, { path: (string | number)[]; key?: true; spans: { start: number; end: number; replacement: string }[] }>();
  for (const t of ts) {
    const id = JSON.stringify([t.key, t.path]);
    let g = groups.get(id);
    if (g === undefined) groups.set(id, (g = { path: t.path, key: t.key, spans: [] }));
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
  // values first (their paths name the original keys), then keys, deepest first
  const rank = (g: { path: unknown[]; key?: true }) => (g.key ? 1e6 - g.path.length : 0);
  const order = [...groups.values()].sort((a, b) => rank(a) - rank(b));
  for (const g of order) {
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
    const found = g.key ? (Object.prototype.hasOwnProperty.call(parent, last!) ? last : undefined) : last === undefined ? undefined : (parent as Record<string | number, unknown>)[last];
    // a number (an untyped one a `redact` masks through its decimal text) becomes a string
    const s = !g.key && typeof found === 'number' && Number.isFinite(found) ? String(found) : found;
    if (typeof s !== 'string') throw new RangeError(`applyTransforms: no ${g.key ? 'key' : 'string'} at \`${where}\` in the request`);
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
    if (!g.key) {
      setOwn(parent, last as string | number, out);
      continue;
    }
    const entries = Object.entries(parent);
    let name = out;
    for (let n = 2; name !== s && entries.some(([k]) => k === name); n++) name = `${out}#${n}`;
    for (const [k] of entries) delete (parent as Record<string, unknown>)[k];
    for (const [k, v] of entries) setOwn(parent, k === s ? name : k, v);
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

/** The audit/settle view of transforms: rule, path, detector and the number of spans. A map key a
 *  transform masks (`key: true`) is shown masked in every path through it. */
export function maskedSummary(transforms: readonly Transform[] | null | undefined): MaskedSummary[] {
  const ts = transforms ?? [];
  const renamed = new Map<string, string>();
  for (const t of ts) {
    const k = t.path[t.path.length - 1];
    if (t.key && typeof k === 'string' && !renamed.has(JSON.stringify(t.path))) renamed.set(JSON.stringify(t.path), applyTransforms({ k }, { transforms: [{ ...t, path: ['k'], key: undefined }] }).k);
  }
  return ts.map((t) => ({ rule: t.rule, path: pathText(t.path.map((k, i) => renamed.get(JSON.stringify(t.path.slice(0, i + 1))) ?? k)), detector: t.detector, spans: t.spans.length }));
}
