// The decision's JSON in one pass (the answer of POST /v1/decide and /v1/evaluate): byte for byte
// the UTF-8 of `JSON.stringify(decision)`, without the object `toJSON` builds first and without
// the string fastify would then encode.
//
// `JSON.stringify(d)` calls the decision's `toJSON` (entries.ts), which copies its 12–17 fields into a
// new object, walks that object and every list in it into a string, and node's http then encodes the
// string as UTF-8. Here the decision's known shape (INTERFACES §1: the field order of `toJSON`,
// budget entries, windows and reservations as the engine makes them — checked on each object, key
// order included) is written as UTF-8 straight into a slab that successive answers share, and sent
// as a Buffer over the answer's own bytes there. What has no fixed shape (reasons, approvals, errors, the
// optional fields, a `key` with other than strings and numbers) goes to `JSON.stringify` per value;
// frozen objects shared by many decisions (the policy, the `default` reasons) and the budget window
// are written once and remembered, and so are the runs of an answer that repeat from one answer to
// the next for the same values (`Piece`: the head of a default allow, a budget's name and limit, …).
// Anything that is not a decision made by `assemble`, or whose fields are not of the documented
// types, is JSON.stringify's string, whole. So the bytes are the
// same for every value (test/serve/decision-json.test.ts compares them on generated decisions).
//
// Fastify calls it as the 200 response's serializer of the decide and evaluate routes (api.ts:
// `serializerCompiler`) and sends the Buffer as it is; error answers and the approval-request answer
// keep fastify's default.

import type { BudgetEntry, Decision, Reason } from '../../runtime/decision.js';
import { isDecisionObject } from '../../runtime/entries.js';

/** Answers are written straight into a slab (SLAB bytes, allocated when the last one is full) and
 *  each is sent as a Buffer over its own bytes there — no copy, no Buffer of its own (the copy into
 *  `Buffer.allocUnsafe` cost ~0.2 µs per answer in process, and node's 8 KB pool behind it a new
 *  ArrayBuffer every ~10 answers). A slab is freed when the answers written in it are: ~40 answers of
 *  ~800 bytes each. An answer that does not fit what is left moves to a new slab; one larger than
 *  SLAB gets a slab of its own, not kept for the next answers. */
const SLAB = 32 * 1024;
let out = Buffer.allocUnsafeSlow(SLAB);
/** Where the answer being written starts in `out`. */
let start = 0;
let pos = 0;
let busy = false;

function room(n: number): void {
  if (pos + n <= out.length) return;
  const len = pos - start;
  const next = Buffer.allocUnsafeSlow(Math.max(SLAB, 2 * (len + n)));
  out.copy(next, 0, start, pos);
  out = next;
  start = 0;
  pos = len;
}

/** `s` as UTF-8, with no check (text JSON.stringify wrote, or ASCII of our own). Lone surrogates
 *  never reach here: JSON.stringify escapes them, `str` sends every surrogate to JSON.stringify. */
function text(s: string): void {
  const n = s.length;
  room(n * 3);
  const b = out;
  let p = pos;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) b[p++] = c;
    else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      b[p++] = 0xf0 | (cp >> 18);
      b[p++] = 0x80 | ((cp >> 12) & 63);
      b[p++] = 0x80 | ((cp >> 6) & 63);
      b[p++] = 0x80 | (cp & 63);
    } else {
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 63);
      b[p++] = 0x80 | (c & 63);
    }
  }
  pos = p;
}

/** ASCII text of our own (keys, brackets, numbers): one byte per character, no check. */
function ascii(s: string): void {
  const n = s.length;
  room(n);
  const b = out;
  let p = pos;
  for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
  pos = p;
}

/** Bytes encoded before (the texts kept below). */
function bytes(b: Uint8Array): void {
  room(b.length);
  out.set(b, pos);
  pos += b.length;
}

/**
 * A piece of an answer that is the same for many answers — the head up to `"budgets":` of every
 * `allow` by default, a budget's name and limit, the policy — remembered with what it was written
 * from: when an answer's values are the same (`===`: strings, or frozen objects, which cannot
 * change), its bytes are copied instead of written again. The bytes are the ones the writer wrote
 * for those values the first time, so the answer is the same either way.
 */
class Piece {
  a: unknown = Piece;
  b: unknown = Piece;
  bytes: Uint8Array = new Uint8Array(0);
  /** Writes the remembered bytes when `a` and `b` are what they were written from. */
  hit(a: unknown, b: unknown): boolean {
    if (a !== this.a || b !== this.b) return false;
    bytes(this.bytes);
    return true;
  }
  /** Remembers the bytes written since `from` (an offset from the answer's start: `room` may move
   *  the answer), copied into this piece's own array (a new one only when the length changes: the
   *  time and expiry pieces change every millisecond, their length does not). */
  keep(a: unknown, b: unknown, from: number): void {
    this.a = a;
    this.b = b;
    const at = start + from;
    const n = pos - at;
    if (this.bytes.length !== n) this.bytes = new Uint8Array(n);
    const dst = this.bytes;
    const src = out;
    for (let i = 0; i < n; i++) dst[i] = src[at + i];
  }
}

/** A JSON string: written here when JSON.stringify would write it between quotes as it is (no `"`,
 *  `\`, control character or surrogate), else JSON.stringify's text. */
function str(s: string): void {
  const n = s.length;
  room(n * 3 + 2);
  const b = out;
  const at = pos;
  let p = at;
  b[p++] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 || c === 34 || c === 92) return escaped(s, at);
      b[p++] = c;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) return escaped(s, at);
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 63);
      b[p++] = 0x80 | (c & 63);
    }
  }
  b[p++] = 34;
  pos = p;
}

function escaped(s: string, at: number): void {
  pos = at;
  text(JSON.stringify(s));
}

/** Any value as JSON.stringify writes it (`undefined` in a list: null). */
function value(x: unknown): void {
  text(JSON.stringify(x) ?? 'null');
}

/** A JSON number or money string (a budget amount). */
function amount(x: string | number): void {
  if (typeof x === 'string') str(x);
  else ascii(Number.isFinite(x) ? String(x) : 'null');
}

/** The JSON of a frozen plain object whose own properties are all primitive data properties (it
 *  cannot change) as UTF-8, or undefined for any other value. */
const frozenBytes = new WeakMap<object, Uint8Array>();
function frozenJson(o: object): Uint8Array | undefined {
  const t = frozenBytes.get(o);
  if (t !== undefined) return t;
  if (!Object.isFrozen(o) || Object.getPrototypeOf(o) !== Object.prototype) return undefined;
  const ds = Object.getOwnPropertyDescriptors(o);
  for (const k in ds) {
    const d = ds[k]!;
    if (!('value' in d)) return undefined;
    const v: unknown = d.value;
    if (typeof v === 'object' ? v !== null : typeof v === 'function') return undefined;
  }
  const json = Buffer.from(JSON.stringify(o), 'utf8');
  frozenBytes.set(o, json);
  return json;
}

/** A JSON array of `a`, each item written by `write`. */
function items<T>(a: T[], write: (x: T) => void): void {
  const n = a.length;
  if (n === 0) return ascii('[]');
  ascii('[');
  for (let i = 0; i < n; i++) {
    if (i > 0) ascii(',');
    write(a[i]!);
  }
  ascii(']');
}

/** One of `reasons`, `warnings`, `monitored`: shared frozen entries (the `default` reasons) from the cache. */
function reasonItem(r: unknown): void {
  const t = typeof r === 'object' && r !== null ? frozenJson(r) : undefined;
  if (t !== undefined) bytes(t);
  else value(r);
}

function reasonList(a: Reason[]): void {
  items(a, reasonItem);
}

function list(a: unknown[]): void {
  if (a.length === 0) ascii('[]');
  else value(a);
}

/** A budget's `by` key: strings and finite numbers written here, anything else by JSON.stringify. */
function keyList(k: unknown[]): void {
  const n = k.length;
  for (let i = 0; i < n; i++) {
    const x = k[i];
    if (typeof x !== 'string' && (typeof x !== 'number' || !Number.isFinite(x))) return value(k);
  }
  ascii('[');
  for (let i = 0; i < n; i++) {
    if (i > 0) ascii(',');
    const x = k[i] as string | number;
    if (typeof x === 'string') str(x);
    else ascii(String(x));
  }
  ascii(']');
}

/** A budget entry's `{"name":…,"key":`, `,"limit":…,"spent":` and `,"charge":…,"remaining":`: the
 *  same from one decision to the next for a budget's name and limit (and, often, its charge). */
const NAME = new Piece();
const LIMIT = new Piece();
const CHARGE = new Piece();

/** The field order of entries.ts's `budgetEntry` (and of INTERFACES §1). */
const BUDGET_KEYS = ['name', 'key', 'limit', 'spent', 'reserved', 'charge', 'remaining', 'window', 'exceeded', 'warned'];

/** Whether `o` is a plain object whose enumerable keys are exactly `keys`, in that order (no
 *  allocation: `for…in` over a plain object walks V8's enum cache). */
function shaped(o: object, keys: readonly string[]): boolean {
  if (Object.getPrototypeOf(o) !== Object.prototype) return false;
  let i = 0;
  for (const k in o) if (k !== keys[i++]) return false;
  return i === keys.length;
}

const isAmount = (x: unknown): x is string | number => typeof x === 'string' || typeof x === 'number';

/** One budget entry, written here when it has the documented fields in that order with their
 *  types; any other value by JSON.stringify. */
function budget(b: BudgetEntry): void {
  if (typeof b !== 'object' || b === null || !shaped(b, BUDGET_KEYS)) return value(b);
  const { name, key, limit, spent, reserved, charge, remaining, window: w, exceeded, warned } = b;
  if (
    typeof name !== 'string' ||
    !Array.isArray(key) ||
    !isAmount(limit) ||
    !isAmount(spent) ||
    !isAmount(reserved) ||
    !isAmount(charge) ||
    !isAmount(remaining) ||
    (w !== null && typeof w !== 'object') ||
    typeof exceeded !== 'boolean' ||
    typeof warned !== 'boolean'
  ) {
    return value(b);
  }
  if (!NAME.hit(name, null)) {
    const from = pos - start;
    ascii('{"name":');
    str(name);
    ascii(',"key":');
    NAME.keep(name, null, from);
  }
  keyList(key);
  if (!LIMIT.hit(limit, null)) {
    const from = pos - start;
    ascii(',"limit":');
    amount(limit);
    ascii(',"spent":');
    LIMIT.keep(limit, null, from);
  }
  amount(spent);
  ascii(',"reserved":');
  amount(reserved);
  if (!CHARGE.hit(charge, null)) {
    const from = pos - start;
    ascii(',"charge":');
    amount(charge);
    ascii(',"remaining":');
    CHARGE.keep(charge, null, from);
  }
  amount(remaining);
  ascii(',"window":');
  if (w === null) ascii('null');
  else budgetWindow(w);
  ascii(exceeded ? ',"exceeded":true' : ',"exceeded":false');
  ascii(warned ? ',"warned":true}' : ',"warned":false}');
}

const WINDOW_KEYS = ['start', 'end'];

/** A budget window: the same object for every decision in the window, so its text is kept. */
let lastWindow: unknown = null;
let lastWindowStart = '';
let lastWindowEnd = '';
let lastWindowJson: Uint8Array = new Uint8Array(0);
function budgetWindow(w: { start: string; end: string }): void {
  if (!shaped(w, WINDOW_KEYS)) return value(w);
  const { start, end } = w;
  if (typeof start !== 'string' || typeof end !== 'string') return value(w);
  if (w !== lastWindow || start !== lastWindowStart || end !== lastWindowEnd) {
    lastWindow = w;
    lastWindowStart = start;
    lastWindowEnd = end;
    lastWindowJson = Buffer.from(JSON.stringify({ start, end }), 'utf8');
  }
  bytes(lastWindowJson);
}

function budgetList(a: BudgetEntry[]): void {
  items(a, budget);
}

const RESERVATION_KEYS = ['id', 'expires'];

function reservation(r: Decision['reservation']): void {
  if (r === null) return ascii('null');
  if (typeof r !== 'object' || !shaped(r, RESERVATION_KEYS)) return value(r);
  const { id, expires } = r;
  if (typeof id !== 'string' || typeof expires !== 'string') return value(r);
  ascii('{"id":');
  str(id);
  if (!EXPIRES.hit(expires, null)) {
    const from = pos - start;
    ascii(',"expires":');
    str(expires);
    ascii('}');
    EXPIRES.keep(expires, null, from);
  }
}

/** `,"expires":…}`: the same for the reservations made in the same millisecond. */
const EXPIRES = new Piece();

function optional(field: string, v: unknown): void {
  if (v === undefined) return;
  const t = JSON.stringify(v);
  if (t === undefined) return;
  ascii(field);
  text(t);
}

/** The head of a decision (see `decisionJson`); `,"policy":…,"request_hash":` for a frozen policy;
 *  `,"time":…,"mode":…` (decisions in the same millisecond share it). */
const HEAD = new Piece();
const POLICY = new Piece();
const TIME = new Piece();

/**
 * `JSON.stringify(d)` for a decision, as its UTF-8 bytes in a Buffer (what fastify sends as it is;
 * a view of a slab later answers are written to after it, never over it: its `.buffer` holds other
 * answers too, as a Buffer from node's pool does), written in one pass for a decision as `assemble` makes it; any other value — not
 * a decision, or a decision whose fields are not of the documented types — as JSON.stringify's
 * string. Throws only where JSON.stringify throws (a cycle or a BigInt somewhere in the decision).
 */
export function decisionJson(d: unknown): string | Buffer {
  // `busy`: a toJSON in the decision that serializes a decision gets JSON.stringify's text
  if (busy || !isDecisionObject(d)) return JSON.stringify(d);
  const x = d as Decision;
  const { effect, reasons, approvals, warnings, monitored, budgets, errors, policy, time, mode } = x;
  const r = x.reservation;
  const hash = x.request_hash;
  if (
    typeof effect !== 'string' ||
    !Array.isArray(reasons) ||
    !Array.isArray(approvals) ||
    !Array.isArray(warnings) ||
    !Array.isArray(monitored) ||
    !Array.isArray(budgets) ||
    !Array.isArray(errors) ||
    (r !== null && typeof r !== 'object') ||
    typeof policy !== 'object' ||
    policy === null ||
    (hash !== null && typeof hash !== 'string') ||
    typeof time !== 'string' ||
    typeof mode !== 'string' ||
    Object.prototype.hasOwnProperty.call(d, 'toJSON')
  ) {
    return JSON.stringify(d);
  }
  busy = true;
  try {
    // The head up to `"budgets":` of a decision with one shared frozen reason (the `default` one)
    // and no approvals, warnings or monitored entries: one piece per effect and reason.
    const empty = approvals.length === 0 && warnings.length === 0 && monitored.length === 0;
    const r0 = empty && reasons.length === 1 ? reasons[0] : undefined;
    if (r0 !== undefined && HEAD.hit(effect, r0)) {
      // written
    } else if (empty) {
      const from = pos - start;
      ascii('{"effect":');
      str(effect);
      ascii(',"reasons":');
      reasonList(reasons);
      // the usual run of empty lists as one piece
      ascii(',"approvals":[],"warnings":[],"monitored":[],"budgets":');
      if (r0 !== undefined && typeof r0 === 'object' && r0 !== null && frozenBytes.has(r0)) HEAD.keep(effect, r0, from);
    } else {
      ascii('{"effect":');
      str(effect);
      ascii(',"reasons":');
      reasonList(reasons);
      ascii(',"approvals":');
      list(approvals);
      ascii(',"warnings":');
      reasonList(warnings);
      ascii(',"monitored":');
      reasonList(monitored);
      ascii(',"budgets":');
    }
    budgetList(budgets);
    if (errors.length === 0) ascii(',"errors":[],"reservation":');
    else {
      ascii(',"errors":');
      list(errors);
      ascii(',"reservation":');
    }
    reservation(r);
    if (!POLICY.hit(policy, null)) {
      const from = pos - start;
      ascii(',"policy":');
      const p = frozenJson(policy);
      if (p !== undefined) bytes(p);
      else value(policy);
      ascii(',"request_hash":');
      if (p !== undefined) POLICY.keep(policy, null, from);
    }
    if (hash === null) ascii('null');
    else str(hash);
    if (!TIME.hit(time, mode)) {
      const from = pos - start;
      ascii(',"time":');
      str(time);
      ascii(',"mode":');
      str(mode);
      TIME.keep(time, mode, from);
    }
    optional(',"would_effect":', x.would_effect);
    optional(',"transforms":', x.transforms);
    optional(',"explain":', x.explain);
    optional(',"explain_budgets":', x.explain_budgets);
    optional(',"externs":', x.externs);
    ascii('}');
    const answer = out.subarray(start, pos);
    start = pos;
    return answer;
  } finally {
    // after a throw: the partial answer's bytes are reused
    pos = start;
    if (out.length > SLAB) {
      out = Buffer.allocUnsafeSlow(SLAB);
      start = pos = 0;
    }
    busy = false;
  }
}

/** `decisionJson` as a string (tests, and callers that want text). */
export function decisionJsonText(d: unknown): string {
  const a = decisionJson(d);
  return typeof a === 'string' ? a : a.toString('utf8');
}
