// Masking text a request carries joined (issue #18): a guard decides on one string made of several
// pieces (a prompt's messages and tool results, an MCP result's text parts) and must mask the pieces
// themselves. Used by the SDK guards (`rein/ai`, `rein/openai-agents`) and `rein mcp`; not by
// `compile` or `evaluate` (it costs the browser bundle nothing).

import { applyTransforms, type Transform } from './transforms.js';
import { SPAN_FINDERS } from './detectors.js';

/** One piece of a joined text. `json`: the piece is JSON text, so a replacement is JSON-escaped
 *  (a span inside a JSON string then keeps the text JSON). */
export interface Segment {
  text: string;
  json?: boolean;
}

const samePath = (a: readonly (string | number)[], b: readonly (string | number)[]) => a.length === b.length && a.every((k, i) => k === b[i]);

/** The decision's transforms of the string at exactly `path`. */
export function transformsAt(transforms: readonly Transform[] | null | undefined, path: readonly (string | number)[]): Transform[] {
  return (transforms ?? []).filter((t) => !t.key && samePath(t.path, path));
}

/**
 * The transforms of the string at `path`, made of `segments` joined with `sep`, applied to the
 * segments: a span is replaced in the segment where it starts, and the rest of a span that runs on
 * into the next segments is removed from them. Returns the masked texts (unchanged ones are the same
 * strings), or null when no transform is at `path`.
 */
export function maskJoined(segments: readonly Segment[], sep: string, transforms: readonly Transform[] | null | undefined, path: readonly (string | number)[]): string[] | null {
  const ts = transformsAt(transforms, path);
  if (ts.length === 0) return null;
  const at: number[] = [];
  let pos = 0;
  for (const s of segments) {
    at.push(pos);
    pos += s.text.length + sep.length;
  }
  const per: Transform[] = [];
  for (const t of ts) {
    for (const sp of t.spans) {
      segments.forEach((seg, k) => {
        const start = Math.max(sp.start, at[k]) - at[k];
        const end = Math.min(sp.end, at[k] + seg.text.length) - at[k];
        if (start >= end) return;
        const replacement = sp.start >= at[k] ? (seg.json ? JSON.stringify(t.replacement).slice(1, -1) : t.replacement) : '';
        per.push({ ...t, path: ['s', k], replacement, spans: [{ start, end }] });
      });
    }
  }
  return applyTransforms({ s: segments.map((s) => s.text) }, { transforms: per }).s;
}

/**
 * `value` (any JSON value) with every string in it — and every number, through its decimal text
 * (a masked one becomes a string) — masked by the detectors of `transforms` (each with its own
 * replacement): how a structured value that was decided on as JSON text (an MCP
 * result's `structuredContent`, a tool's output object) is masked like that text. Object keys are
 * text in that JSON too, so a detector's spans in a key are masked as well (the entry is renamed in
 * place; a masked key equal to another key of the object gets `#2`, `#3`, … appended, as
 * `applyTransforms` does); a transform without a detector masks whole values, never keys. The same
 * value when nothing is found.
 */
export function maskStrings<T>(value: T, transforms: readonly Transform[]): T {
  const seen = new Set<string>();
  let out: unknown = value;
  for (const t of transforms) {
    const find = t.detector === null ? (s: string) => (s ? [{ start: 0, end: s.length }] : []) : SPAN_FINDERS[t.detector];
    const key = `${t.detector}\0${t.replacement}`;
    if (find === undefined || seen.has(key)) continue;
    seen.add(key);
    out = mapStrings(
      out,
      (s) => {
        const spans = find(s, false);
        return spans.length === 0 ? s : applyTransforms({ s }, { transforms: [{ ...t, path: ['s'], spans, key: undefined }] }).s;
      },
      t.detector !== null,
    );
  }
  return out as T;
}

function mapStrings(v: unknown, f: (s: string) => string, keys: boolean, depth = 0): unknown {
  if (typeof v === 'string') return f(v);
  // a number of this untyped JSON, through its decimal text (a masked one becomes a string)
  if (typeof v === 'number' && Number.isFinite(v)) {
    const s = String(v);
    const m = f(s);
    return m === s ? v : m;
  }
  if (typeof v !== 'object' || v === null || depth > 256) return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    v.forEach((x, i) => {
      const y = mapStrings(x, f, keys, depth + 1);
      if (y !== x) (copy ??= v.slice())[i] = y;
    });
    return copy ?? v;
  }
  const entries = Object.entries(v);
  let changed = false;
  const out: [string, unknown][] = entries.map(([k, x]) => {
    const y = mapStrings(x, f, keys, depth + 1);
    const name = keys ? f(k) : k;
    if (y !== x || name !== k) changed = true;
    return [name, y];
  });
  if (!changed) return v;
  // Renamed keys: the first entry keeps a masked name; one equal to another key gets `#2`, `#3`, …
  const taken = new Set(entries.map(([k]) => k));
  const copy: Record<string, unknown> = {};
  out.forEach(([name, y], i) => {
    let n = name;
    if (name !== entries[i][0]) {
      for (let j = 2; taken.has(n); j++) n = `${name}#${j}`;
      taken.add(n);
    }
    Object.defineProperty(copy, n, { value: y, writable: true, enumerable: true, configurable: true });
  });
  return copy;
}
