// The decision's JSON text in one pass (the answer of POST /v1/decide and /v1/evaluate): byte for
// byte what `JSON.stringify(decision)` writes, without the object `toJSON` builds first.
//
// `JSON.stringify(d)` calls the decision's `toJSON` (entries.ts), which copies its 12–17 fields into a
// new object, and then walks that object and every list in it. Here the decision's known shape
// (INTERFACES §1: field order of `toJSON`, budget entries and reservations as the engine makes them)
// is written directly, as string pieces; what has no fixed shape (reasons, approvals, errors, the
// optional fields, a budget's `key` with other than strings and numbers) goes to `JSON.stringify`
// per value, and frozen objects shared by many decisions (the policy, the `default` reasons) are
// written once and remembered. Anything that is not a decision made by `assemble`, or whose fields
// are not of the documented types, is written by `JSON.stringify` whole — so the text is the same
// for every value (test/serve/decision-json.test.ts compares them on generated decisions).
//
// Fastify calls it as the 200 response's serializer of the decide and evaluate routes (api.ts:
// `serializerCompiler`), so error answers and the approval-request answer keep fastify's default.

import type { BudgetEntry, Decision, Reason } from '../../runtime/decision.js';
import { isDecisionObject } from '../../runtime/entries.js';

/** A string JSON.stringify writes as it is between quotes (no `"`, `\`, control character or
 *  surrogate: a lone surrogate is escaped, a pair is not — both go to JSON.stringify). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** A JSON number or money string (a budget amount). */
function amount(x: unknown): string {
  if (typeof x === 'string') return str(x);
  if (typeof x === 'number') return Number.isFinite(x) ? String(x) : 'null';
  return JSON.stringify(x) ?? 'null';
}

/** The JSON of a frozen plain object whose own properties are all primitive data properties (it
 *  cannot change), or undefined for any other value. */
const frozenTexts = new WeakMap<object, string>();
function frozenText(o: object): string | undefined {
  const t = frozenTexts.get(o);
  if (t !== undefined) return t;
  if (!Object.isFrozen(o) || Object.getPrototypeOf(o) !== Object.prototype) return undefined;
  const ds = Object.getOwnPropertyDescriptors(o);
  for (const k in ds) {
    const d = ds[k]!;
    if (!('value' in d)) return undefined;
    const v: unknown = d.value;
    if (typeof v === 'object' ? v !== null : typeof v === 'function') return undefined;
  }
  const text = JSON.stringify(o);
  frozenTexts.set(o, text);
  return text;
}

/** `reasons`, `warnings`, `monitored`: shared frozen entries (the `default` reasons) from the cache. */
function reasonList(a: Reason[]): string {
  const n = a.length;
  if (n === 0) return '[]';
  let s = '[';
  for (let i = 0; i < n; i++) {
    const r: unknown = a[i];
    const t = typeof r === 'object' && r !== null ? (frozenText(r) ?? JSON.stringify(r)) : JSON.stringify(r);
    s += (i === 0 ? '' : ',') + (t ?? 'null');
  }
  return s + ']';
}

function list(a: unknown[]): string {
  return a.length === 0 ? '[]' : JSON.stringify(a);
}

/** A budget's `by` key: strings and finite numbers written here, anything else by JSON.stringify. */
function keyText(k: unknown[]): string {
  const n = k.length;
  if (n === 0) return '[]';
  let s = '[';
  for (let i = 0; i < n; i++) {
    const x = k[i];
    if (typeof x === 'string') s += (i === 0 ? '' : ',') + str(x);
    else if (typeof x === 'number' && Number.isFinite(x)) s += (i === 0 ? '' : ',') + String(x);
    else return JSON.stringify(k);
  }
  return s + ']';
}

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

const isAmount = (x: unknown): boolean => typeof x === 'string' || typeof x === 'number';

/** One budget entry, written here when it has the documented fields in that order with their
 *  types; any other value by JSON.stringify. */
function budgetText(b: BudgetEntry): string {
  if (
    typeof b !== 'object' ||
    b === null ||
    !shaped(b, BUDGET_KEYS) ||
    typeof b.name !== 'string' ||
    !Array.isArray(b.key) ||
    !isAmount(b.limit) ||
    !isAmount(b.spent) ||
    !isAmount(b.reserved) ||
    !isAmount(b.charge) ||
    !isAmount(b.remaining) ||
    typeof b.exceeded !== 'boolean' ||
    typeof b.warned !== 'boolean'
  ) {
    return JSON.stringify(b) ?? 'null';
  }
  const w = b.window;
  return (
    '{"name":' +
    str(b.name) +
    ',"key":' +
    keyText(b.key) +
    ',"limit":' +
    amount(b.limit) +
    ',"spent":' +
    amount(b.spent) +
    ',"reserved":' +
    amount(b.reserved) +
    ',"charge":' +
    amount(b.charge) +
    ',"remaining":' +
    amount(b.remaining) +
    ',"window":' +
    (w === null ? 'null' : windowText(w)) +
    ',"exceeded":' +
    b.exceeded +
    ',"warned":' +
    b.warned +
    '}'
  );
}

const WINDOW_KEYS = ['start', 'end'];

/** A budget window: the same object for every decision in the window, so its text is kept. */
let lastWindow: unknown = null;
let lastWindowStart = '';
let lastWindowEnd = '';
let lastWindowText = '';
function windowText(w: { start: string; end: string }): string {
  if (typeof w !== 'object' || !shaped(w, WINDOW_KEYS) || typeof w.start !== 'string' || typeof w.end !== 'string') return JSON.stringify(w) ?? 'null';
  if (w !== lastWindow || w.start !== lastWindowStart || w.end !== lastWindowEnd) {
    lastWindow = w;
    lastWindowStart = w.start;
    lastWindowEnd = w.end;
    lastWindowText = '{"start":' + str(w.start) + ',"end":' + str(w.end) + '}';
  }
  return lastWindowText;
}

function budgetList(a: BudgetEntry[]): string {
  const n = a.length;
  if (n === 0) return '[]';
  let s = '[';
  for (let i = 0; i < n; i++) s += (i === 0 ? '' : ',') + budgetText(a[i]!);
  return s + ']';
}

const RESERVATION_KEYS = ['id', 'expires'];

function reservationText(r: Decision['reservation']): string {
  if (r === null) return 'null';
  if (typeof r !== 'object' || !shaped(r, RESERVATION_KEYS) || typeof r.id !== 'string' || typeof r.expires !== 'string') return JSON.stringify(r) ?? 'null';
  return '{"id":' + str(r.id) + ',"expires":' + str(r.expires) + '}';
}

function optional(name: string, v: unknown): string {
  if (v === undefined) return '';
  const t = JSON.stringify(v);
  return t === undefined ? '' : ',"' + name + '":' + t;
}

/**
 * `JSON.stringify(d)` for a decision, faster for a decision as `assemble` makes it. Throws only
 * where JSON.stringify throws (a cycle or a BigInt somewhere in the decision).
 */
export function decisionJson(d: unknown): string {
  if (!isDecisionObject(d)) return JSON.stringify(d);
  const x = d as Decision;
  const { effect, reasons, approvals, warnings, monitored, budgets, errors, reservation, policy, time, mode } = x;
  const hash = x.request_hash;
  if (
    typeof effect !== 'string' ||
    !Array.isArray(reasons) ||
    !Array.isArray(approvals) ||
    !Array.isArray(warnings) ||
    !Array.isArray(monitored) ||
    !Array.isArray(budgets) ||
    !Array.isArray(errors) ||
    (reservation !== null && typeof reservation !== 'object') ||
    typeof policy !== 'object' ||
    policy === null ||
    (hash !== null && typeof hash !== 'string') ||
    typeof time !== 'string' ||
    typeof mode !== 'string' ||
    Object.prototype.hasOwnProperty.call(d, 'toJSON')
  ) {
    return JSON.stringify(d);
  }
  return (
    '{"effect":' +
    str(effect) +
    ',"reasons":' +
    reasonList(reasons) +
    ',"approvals":' +
    list(approvals) +
    ',"warnings":' +
    reasonList(warnings) +
    ',"monitored":' +
    reasonList(monitored) +
    ',"budgets":' +
    budgetList(budgets) +
    ',"errors":' +
    list(errors) +
    ',"reservation":' +
    reservationText(reservation) +
    ',"policy":' +
    (frozenText(policy) ?? JSON.stringify(policy)) +
    ',"request_hash":' +
    (hash === null ? 'null' : str(hash)) +
    ',"time":' +
    str(time) +
    ',"mode":' +
    str(mode) +
    optional('would_effect', x.would_effect) +
    optional('transforms', x.transforms) +
    optional('explain', x.explain) +
    optional('explain_budgets', x.explain_budgets) +
    optional('externs', x.externs) +
    '}'
  );
}
