// Options a host passes to `policy.evaluate` and `engine.decide`: programming errors there are
// `TypeError`s naming the option (issue 11 §8), never an internal message or a silent default.

import { MAX_TIME_MS } from './values.js';

function shown(v: unknown): string {
  if (v instanceof Date) return 'an invalid Date';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return v === null ? 'null' : typeof v;
}

/** The options argument itself: undefined or null (no options), or an object; anything else is a
 *  TypeError (a host that passes `5` or `"explain"` made a mistake, never a silent default). */
export function hostOptions<O extends object>(v: O | null | undefined, where: string): O | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object') throw new TypeError(`${where}: the options must be an object such as { explain: true }, got ${shown(v)}`);
  return v;
}

/** `now` as epoch milliseconds: a valid `Date`, or (where allowed) a finite number within the time range. */
export function hostNow(v: unknown, where: string, numbers = true): number {
  if (v instanceof Date) {
    const t = v.getTime();
    if (!Number.isNaN(t)) return t;
  } else if (numbers && typeof v === 'number' && Math.abs(v) <= MAX_TIME_MS) return v;
  throw new TypeError(`${where}: option \`now\` must be a valid Date${numbers ? ' or epoch milliseconds' : ''}, got ${shown(v)}`);
}

/** `mode`: undefined, `enforce` or `monitor`. */
export function hostMode(v: unknown, where: string): 'enforce' | 'monitor' | undefined {
  if (v === undefined || v === 'enforce' || v === 'monitor') return v;
  throw new TypeError(`${where}: option \`mode\` must be "enforce" or "monitor", got ${shown(v)}`);
}

/** Reads `opts.approvals` once: undefined/null or an array; a throwing getter is reported by name. */
export function hostApprovals<A>(opts: { approvals?: readonly A[] | null }, where: string): readonly A[] | undefined {
  let v: unknown;
  try {
    v = opts.approvals;
  } catch (e) {
    throw new TypeError(`${where}: reading option \`approvals\` threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new TypeError(`${where}: option \`approvals\` must be a list of approvals, got ${shown(v)}`);
  return v as readonly A[];
}

/** `explain`: undefined, null or a boolean (`"yes"` or `1` is a host's mistake, not a silent choice). */
export function hostExplain(v: unknown, where: string): void {
  if (v !== undefined && v !== null && typeof v !== 'boolean') throw new TypeError(`${where}: option \`explain\` must be true or false, got ${shown(v)}`);
}
