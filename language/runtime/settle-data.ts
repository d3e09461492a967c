// What the engine keeps per reservation for `settle` (its one home: engine.ts `pending`), and how
// `settle` gets a request back from it. A busy service keeps one `Kept` per unsettled reservation
// until it expires plus the settle grace (bench:reservations), so it is small:
//
// - `settle` evaluates only the counted budgets' `charge` expressions again. Which request fields
//   they read is known when the engine is made (`settlePaths`, from the policy's IR): the engine
//   keeps those fields' values only (`PATHS`), and `settle` rebuilds a request of just those fields.
//   Usage merged into it is validated against the input type with every other field optional
//   (`settleType`), so a usage field is checked against its declared type as before.
// - When the fields cannot be known (a charge reads the whole request, calls a host function, or the
//   policy carries no IR), the whole validated request is kept: as its leaves in field order
//   (`LEAVES`, `flattenerOf`), or as the tree itself when it has fields its type does not declare
//   (`TREE`).
// - When parts of the validated request may be reachable from outside the engine (explanations,
//   `trace`, a list or object in a `by` tuple: the decision's `budgets[].key`), a snapshot of the
//   request as given (`GIVEN`).

import type { IrProgram, Node } from './ir.js';
import { childNodes } from './ir.js';
import type { CompiledBudget } from './compiled.js';
import type { FieldType, Type } from '../semantics/types.js';
import { newRecord } from './values.js';

/** How `Kept.v` holds the request. */
export const KEPT_PATHS = 0;
export const KEPT_LEAVES = 1;
export const KEPT_TREE = 2;
export const KEPT_GIVEN = 3;

/**
 * One reservation's settle data: one small object (5 fields) plus, with several kept fields, one
 * array of their values.
 */
export class Kept {
  constructor(
    /** The decision time, as an offset from the engine's `timeBase` (a small integer, kept unboxed). */
    readonly at: number,
    /** The counted budget, or a list of them. */
    readonly budget: CompiledBudget | readonly CompiledBudget[],
    /** Its counter key, or a list (in the same order). */
    readonly key: string | readonly string[],
    /** KEPT_PATHS, KEPT_LEAVES, KEPT_TREE or KEPT_GIVEN. */
    readonly form: number,
    /** PATHS: the one kept field's value, or the list of them (`settlePaths` order); LEAVES: the list of
     *  leaves; TREE: the validated request; GIVEN: a snapshot of the request as given. */
    readonly v: unknown,
  ) {}
}

// ------------------------------------------------------------------ the fields charges read

/** A request field path: the input's field, then nested declared fields (never into a list, map or
 *  `any` value: the path ends at such a value, which is kept whole). */
export type FieldPath = readonly string[];

/**
 * The request fields the budgets' `charge` expressions read, as paths that end at the first value
 * that is not a declared object (that value is kept whole), without paths that another one contains;
 * null when they cannot be known (a charge reads the whole request, calls a host function, or there
 * is no IR).
 */
export function settlePaths(ir: IrProgram | undefined, inputType: Type | null): FieldPath[] | null {
  if (ir === undefined || inputType === null || !Array.isArray(ir.budgets)) return null;
  const raw: string[][] = [];
  const seenLets = new Set<number>();
  const seenDefs = new Set<number>();
  let unknown = false;
  const walk = (n: Node | undefined): void => {
    if (n === undefined || unknown) return;
    switch (n.k) {
      case 'input':
      case 'extern':
        unknown = true;
        return;
      case 'read':
        raw.push([n.root, ...n.keys]);
        return;
      case 'member': {
        // `input.cost.estimate`: a read of the request's field by its full path.
        const keys: string[] = [];
        let o: Node = n;
        while (o.k === 'member') {
          keys.unshift(o.key);
          o = o.obj;
        }
        if (o.k === 'input') {
          raw.push(keys);
          return;
        }
        break;
      }
      case 'let':
        if (!seenLets.has(n.i)) {
          seenLets.add(n.i);
          const body = ir.lets[n.i];
          if (body === undefined) unknown = true;
          else walk(body.body);
        }
        return;
      case 'def':
        if (!seenDefs.has(n.i)) {
          seenDefs.add(n.i);
          const body = ir.defs[n.i];
          if (body === undefined) unknown = true;
          else walk(body.body);
        }
        break;
    }
    for (const c of childNodes(n)) walk(c);
  };
  for (const b of ir.budgets) walk(b.charge);
  if (unknown) return null;
  // Each path up to its first step that is not a declared field of an object.
  const cut: string[][] = [];
  for (const p of raw) {
    const out: string[] = [];
    let t: Type | undefined = inputType;
    for (const k of p) {
      const o = objectOf(t);
      const f = o?.fields.find((x) => x.name === k);
      if (f === undefined) break;
      out.push(k);
      t = f.type;
    }
    if (out.length === 0) return null; // a read of no declared field: keep everything
    cut.push(out);
  }
  // Without duplicates, and without paths inside another kept path.
  cut.sort((a, b) => a.length - b.length);
  const kept: string[][] = [];
  for (const p of cut) if (!kept.some((q) => q.every((k, i) => p[i] === k))) kept.push(p);
  return kept;
}

function objectOf(t: Type | undefined): Extract<Type, { kind: 'object' }> | undefined {
  if (t === undefined) return undefined;
  if (t.kind === 'nullable') return objectOf(t.inner);
  return t.kind === 'object' ? t : undefined;
}

/** A kept value meaning: the object at this depth of its path was null (an absent optional object). */
class NullAt {
  constructor(readonly depth: number) {}
}
const NULL_AT: NullAt[] = [];
function nullAt(depth: number): NullAt {
  return (NULL_AT[depth] ??= new NullAt(depth));
}

/** The value at `path` of a validated request (a `NullAt` when an object on the way is null). */
function valueAt(input: Record<string, unknown>, path: FieldPath): unknown {
  let v: unknown = input[path[0]!];
  for (let i = 1; i < path.length; i++) {
    if (v === null || v === undefined) return nullAt(i - 1);
    v = (v as Record<string, unknown>)[path[i]!];
  }
  return v;
}

/** The kept values of `paths` (one value, or a list of them). */
export function keepPaths(input: Record<string, unknown>, paths: readonly FieldPath[]): unknown {
  if (paths.length === 1) return valueAt(input, paths[0]!);
  const out = new Array(paths.length);
  for (let i = 0; i < paths.length; i++) out[i] = valueAt(input, paths[i]!);
  return out;
}

/** The request `keepPaths` kept: records holding just those fields (the validated form). */
export function rebuildPaths(v: unknown, paths: readonly FieldPath[]): Record<string, unknown> {
  const root = newRecord();
  paths: for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    const x = paths.length === 1 ? v : (v as unknown[])[i];
    const last = x instanceof NullAt ? x.depth : path.length - 1;
    let o = root;
    for (let j = 0; j < last; j++) {
      const k = path[j]!;
      let next = o[k];
      if (next === null) continue paths; // another path found this object null
      if (next === undefined) o[k] = next = newRecord();
      o = next as Record<string, unknown>;
    }
    o[path[last]!] = x instanceof NullAt ? null : x;
  }
  return root;
}

/**
 * The input type as `settle` validates a kept request merged with usage: the kept fields as
 * declared, every other field optional (it was valid when decided; only the usage's own fields are
 * checked again).
 */
export function settleType(t: Type, paths: readonly FieldPath[]): Type {
  return narrowed(t, paths, 0);
}

function narrowed(t: Type, paths: readonly FieldPath[], depth: number): Type {
  if (t.kind === 'nullable') return { kind: 'nullable', inner: narrowed(t.inner, paths, depth) };
  if (t.kind !== 'object') return t;
  const fields: FieldType[] = t.fields.map((f) => {
    const on = paths.filter((p) => p[depth] === f.name);
    if (on.length === 0) return { ...f, optional: true };
    if (on.some((p) => p.length === depth + 1)) return f; // kept whole
    return { ...f, type: narrowed(f.type, on, depth + 1) };
  });
  return { ...t, fields };
}

// ------------------------------------------------------------------ every leaf (fields not known)

/** Where a flattener put an object-typed value that is null (optional and absent). */
const NULL_RECORD: unknown = Object.freeze({ nullRecord: true });

/**
 * Writes the leaves of a validated value into `out` from index `i`: a record of an object type is
 * its declared fields' leaves in order, anything else one leaf. Returns the index after them, or -1
 * when a record has fields its type does not declare (then the request is kept as a tree).
 */
export type Flattener = (v: unknown, out: unknown[], i: number) => number;

/** The flattener of type `t` (made once per engine) and how many leaves it writes at most. */
export function flattenerOf(t: Type): { flatten: Flattener; leaves: number } {
  if (t.kind !== 'object') {
    return {
      flatten: (v, out, i) => {
        if (v === undefined) return -1;
        out[i] = v;
        return i + 1;
      },
      leaves: 1,
    };
  }
  const names = t.fields.map((f) => f.name);
  const subs = t.fields.map((f) => flattenerOf(f.type));
  const flat = subs.map((x) => x.flatten);
  const n = names.length;
  return {
    flatten: (v, out, i) => {
      if (v === null) {
        out[i] = NULL_RECORD;
        return i + 1;
      }
      if (typeof v !== 'object' || v === undefined || Array.isArray(v)) return -1;
      // Records have a frozen prototype without members: `for in` sees their own fields only.
      let k = 0;
      for (const _ in v) k++;
      if (k !== n) return -1;
      for (let j = 0; j < n && i >= 0; j++) i = flat[j]!((v as Record<string, unknown>)[names[j]!], out, i);
      return i;
    },
    leaves: Math.max(1, subs.reduce((x, y) => x + y.leaves, 0)),
  };
}

/** The inverse of a flattener: the validated request back from its leaves, from `unflatAt` on. */
export type Unflattener = (leaves: readonly unknown[]) => unknown;
/** The read position of the running unflattener (settle is synchronous up to there). */
let unflatAt = 0;

export function unflattenerOf(t: Type): Unflattener {
  if (t.kind !== 'object') return (leaves) => leaves[unflatAt++];
  const names = t.fields.map((f) => f.name);
  const subs = t.fields.map((f) => unflattenerOf(f.type));
  const n = names.length;
  return (leaves) => {
    if (leaves[unflatAt] === NULL_RECORD) {
      unflatAt++;
      return null;
    }
    const out = newRecord();
    for (let j = 0; j < n; j++) out[names[j]!] = subs[j]!(leaves);
    return out;
  };
}

/** `unflatten` from the first leaf. */
export function unflattenAll(unflatten: Unflattener, leaves: readonly unknown[]): unknown {
  unflatAt = 0;
  return unflatten(leaves);
}

// ------------------------------------------------------------------ a copy of the request as given

/**
 * A deep copy of a request for `settle`: plain objects, arrays and Dates copied directly (much
 * cheaper than `structuredClone`), anything else through `structuredClone` (kept as is when it cannot
 * be cloned, e.g. functions).
 */
export function snapshot(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > 64) return cloneOther(v); // deep or cyclic: structuredClone handles cycles
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = snapshot(v[i], depth + 1);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
    for (const k of Object.keys(src)) {
      const x = snapshot(src[k], depth + 1);
      if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
      else out[k] = x;
    }
    return out;
  }
  if (v instanceof Date) return new Date(v.getTime());
  return cloneOther(v);
}

function cloneOther(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}
