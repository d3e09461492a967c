// What the engine keeps per reservation for `settle` (its one home: engine.ts `pending`, a
// `SettleData`), and how `settle` gets a request back from it. A busy service keeps it for every
// unsettled reservation until it expires plus the settle grace (bench:reservations), so it is small,
// and in the usual case a row of typed arrays outside the JavaScript heap (`SettleData`, below):
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
import { IdIndex } from './id-index.js';
import { counterOfId } from './settled-ids.js';

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
 * declared, every other field optional at every depth (it was valid when decided; only the usage's
 * own fields are checked again, against their declared types).
 */
export function settleType(t: Type, paths: readonly FieldPath[]): Type {
  return narrowed(t, paths, 0);
}

function narrowed(t: Type, paths: readonly FieldPath[], depth: number): Type {
  if (t.kind === 'nullable') return { kind: 'nullable', inner: narrowed(t.inner, paths, depth) };
  if (t.kind !== 'object') return t;
  const fields: FieldType[] = t.fields.map((f) => {
    const on = paths.filter((p) => p[depth] === f.name);
    if (on.length === 0) return { ...f, optional: true, type: partial(f.type) };
    if (on.some((p) => p.length === depth + 1)) return f; // kept whole
    return { ...f, type: narrowed(f.type, on, depth + 1) };
  });
  return { ...t, fields };
}

/**
 * A type whose objects (and map values) have every field optional, at every depth: a field no charge
 * reads is not kept, so a usage naming part of it (`{ agent: { team: "t" } }`) merges into nothing
 * and must validate alone, as it would merged into the whole request (objects and maps merge key by
 * key). A list is replaced whole by the usage's, so its elements keep their declared type; every
 * value is still checked against it.
 */
function partial(t: Type): Type {
  switch (t.kind) {
    case 'nullable':
      return { kind: 'nullable', inner: partial(t.inner) };
    case 'object':
      return { ...t, fields: t.fields.map((f) => ({ ...f, optional: true, type: partial(f.type) })) };
    case 'map':
      return { ...t, value: partial(t.value) };
    default:
      return t;
  }
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

// ------------------------------------------------------------------ the kept data's home

/** Counters per chunk of columns (`SettleData`). */
const CHUNK = 2048;
/** A chunk that no longer takes new reservations and holds at most this many moves them to `Kept`
 *  objects (a chunk costs ~16 bytes per counter whether used or not). */
const SPARSE_AT = CHUNK >>> 4;
/** Kept fields at most for the columns (more: `Kept` objects). */
const MAX_COLUMN_PATHS = 8;

/** A free slot of `SettleData`'s interned values. */
const FREE: unknown = Object.freeze({ free: true });

/** Whether engines made from now on keep settle data in columns (tests: the differential test
 *  compares them with engines that keep `Kept` objects only). */
export const settleColumns = { on: true };

/** One run of `CHUNK` consecutive reservation counters: what each kept reservation needs, in typed
 *  arrays (outside the JavaScript heap: nothing here is copied by a scavenge). */
interface Chunk {
  /** The first counter. */
  readonly base: number;
  /** The decision time (`Kept.at`) of the chunk's first row: rows keep theirs as an offset from it. */
  readonly t0: number;
  /** The decision time minus `t0` (a long-running engine's `Kept.at` outgrows 32 bits; a chunk's
   *  rows are decided within seconds of one another). */
  readonly at: Int32Array;
  /** The first counted budget's interned (budget, counter key), 0 where no reservation is kept. */
  readonly k0: Int32Array;
  /** The second counted budget's, 0 for none (made when first needed). */
  k1: Int32Array | null;
  /** The kept fields' values (`PATHS` order), `paths` per counter (null without fields). */
  readonly vals: Float64Array | null;
  /** Per value of `vals`: 1 where it is the index of an interned value (a short string, a boolean,
   *  null, an absent optional object), 0 for a number (made when first needed). */
  tags: Uint8Array | null;
  /** Kept reservations. */
  count: number;
  /** The latest `at` written. */
  maxAt: number;
}

/**
 * The engine's settle data by reservation id (engine.ts `pending`, its one home). A reservation of
 * the engine's own id shape (`<prefix><base-36 counter>`) whose kept fields are numbers (the usual
 * case: `charge cost.estimate` keeps the micros) with one or two counted budgets is a row of typed
 * arrays indexed by its counter: the time, the (budget, counter key) pairs as indexes into a table
 * of interned pairs (thousands of decisions share one key), the kept numbers. Nothing per
 * reservation on the JavaScript heap: the young generation's scavenges copy none of it. Anything
 * else (other ids, other values, other forms) is a `Kept` object in an `IdIndex`, as before. `get`
 * gives the same `Kept` for either.
 */
export class SettleData {
  private readonly objects = new IdIndex<Kept>();
  private readonly chunks = new Map<number, Chunk>();
  /** The chunk written last (consecutive reservations mostly share one). */
  private last: Chunk | null = null;
  /** Interned (budget, counter key) pairs: index ≥ 1 by key, and their parts by index. */
  private readonly interned = new Map<string, number>();
  private readonly keys: string[] = [''];
  private readonly budgets: (CompiledBudget | null)[] = [null];
  private readonly free: number[] = [];
  /** How many pairs the table held after its last sweep (`deleteWhere`). */
  private internedAfterSweep = 0;
  /** The last interned key and its index (a run of decisions of one counter). */
  private lastKey = '';
  private lastIndex = 0;
  /** The id `counterOf` read last, and its counter. */
  private lastId = '';
  private lastCounter = -1;
  /** The kept fields (null: no columns). */
  private readonly paths: readonly FieldPath[] | null;
  private readonly width: number;
  private readonly scratch: Float64Array;
  /** Whether `scratch[i]` is an interned value's index. */
  private readonly scratchTags: Uint8Array;
  /** Interned kept values that are not numbers, by index, and their indexes. */
  private readonly values: unknown[] = [];
  private readonly valueIndex = new Map<unknown, number>();
  private readonly freeValues: number[] = [];
  private valuesAfterSweep = 0;

  /** `prefix`: what the engine's ids start with (the counter follows in base 36). */
  constructor(
    private readonly prefix: string,
    paths: readonly FieldPath[] | null,
    columns: boolean,
  ) {
    this.paths = columns && paths !== null && paths.length <= MAX_COLUMN_PATHS ? paths : null;
    this.width = this.paths === null ? 0 : this.paths.length;
    this.scratch = new Float64Array(this.width);
    this.scratchTags = new Uint8Array(this.width);
  }

  /** Kept reservations. */
  get size(): number {
    let n = this.objects.size;
    for (const c of this.chunks.values()) n += c.count;
    return n;
  }

  /** The counter of one of the engine's ids, or -1 (settled-ids.ts `counterOfId`). */
  private counterOf(id: string): number {
    if (id === this.lastId) return this.lastCounter;
    const n = counterOfId(id, this.prefix);
    this.lastId = id;
    this.lastCounter = n;
    return n;
  }

  /** The chunk and row of a counter kept in columns, or null. */
  private rowOf(n: number): Chunk | null {
    if (n < 0 || this.paths === null) return null;
    const l = this.last;
    const c = l !== null && n >= l.base && n < l.base + CHUNK ? l : this.chunks.get(Math.floor(n / CHUNK));
    return c !== undefined && c.k0[n - c.base] !== 0 ? c : null;
  }

  get(id: string): Kept | undefined {
    const n = this.counterOf(id);
    const c = this.rowOf(n);
    return c !== null ? this.keptOf(c, n - c.base) : this.objects.get(id);
  }

  /** Adds a `Kept` object (any form, any id). */
  add(id: string, kept: Kept): void {
    this.objects.add(id, kept);
  }

  /** `add` of an id the engine just made, with its group key and slot (id-index.ts `addIn`). */
  addIn(groupKey: string, slot: number, id: string, kept: Kept): void {
    this.objects.addIn(groupKey, slot, id, kept);
  }

  /**
   * Keeps a `PATHS` reservation in the columns: `n` is the id's counter (-1: read it from `id`).
   * False (nothing kept) when it does not fit them: then the caller keeps a `Kept` object.
   */
  keepPaths(id: string, n: number, at: number, counted: readonly { budget: CompiledBudget; counterKey: string | null }[], input: Record<string, unknown>): boolean {
    const paths = this.paths;
    if (paths === null) return false;
    const m = counted.length;
    if (m === 0 || m > 2) return false;
    const w = this.width;
    const s = this.scratch;
    const st = this.scratchTags;
    let tagged = false;
    for (let i = 0; i < w; i++) {
      const v = valueAt(input, paths[i]!);
      if (typeof v === 'number') {
        s[i] = v;
        st[i] = 0;
      } else {
        const x = this.internValue(v);
        if (x < 0) return false;
        s[i] = x;
        st[i] = 1;
        tagged = true;
      }
    }
    if (n < 0) n = this.counterOf(id);
    if (n < 0) return false;
    const a = this.intern(counted[0]!.budget, counted[0]!.counterKey);
    if (a === 0) return false;
    const b = m === 2 ? this.intern(counted[1]!.budget, counted[1]!.counterKey) : 0;
    if (m === 2 && b === 0) return false;
    const c = this.chunkOf(n, at);
    const r = n - c.base;
    if (c.k0[r] !== 0) return true; // present: kept once (as `IdIndex.add`)
    const dt = at - c.t0;
    if ((dt | 0) !== dt || c.t0 + dt !== at) return false;
    c.at[r] = dt;
    if (at > c.maxAt) c.maxAt = at;
    if (b !== 0) (c.k1 ??= new Int32Array(CHUNK))[r] = b;
    const vals = c.vals;
    if (vals !== null) for (let i = 0, o = r * w; i < w; i++) vals[o + i] = s[i]!;
    if (tagged) c.tags ??= new Uint8Array(CHUNK * w);
    const tags = c.tags;
    if (tags !== null) for (let i = 0, o = r * w; i < w; i++) tags[o + i] = st[i]!;
    c.k0[r] = a;
    c.count++;
    return true;
  }

  delete(id: string): void {
    const n = this.counterOf(id);
    const c = this.rowOf(n);
    if (c === null) {
      this.objects.delete(id);
      return;
    }
    this.clear(c, n - c.base);
    this.leave(c);
  }

  /** Deletes the reservations whose decision time (an `at`) `drop` selects; `drop` is monotone:
   *  when it selects a time it selects every earlier one. */
  deleteWhere(drop: (at: number) => boolean): void {
    this.objects.deleteWhere((p) => drop(p.at));
    for (const c of [...this.chunks.values()]) {
      if (drop(c.maxAt)) {
        this.dropChunk(c);
        continue;
      }
      const k0 = c.k0;
      const at = c.at;
      const t0 = c.t0;
      for (let r = 0; r < CHUNK; r++) if (k0[r] !== 0 && drop(t0 + at[r]!)) this.clear(c, r);
      this.leave(c);
    }
    this.sweep();
  }

  private clear(c: Chunk, r: number): void {
    c.k0[r] = 0;
    if (c.k1 !== null) c.k1[r] = 0;
    c.count--;
  }

  /** The chunk of counter `n` (made when new, its `t0` then `at`). */
  private chunkOf(n: number, at: number): Chunk {
    const l = this.last;
    if (l !== null && n >= l.base && n < l.base + CHUNK) return l;
    const k = Math.floor(n / CHUNK);
    let c = this.chunks.get(k);
    if (c === undefined) {
      const w = this.width;
      c = { base: k * CHUNK, t0: at, at: new Int32Array(CHUNK), k0: new Int32Array(CHUNK), k1: null, vals: w > 0 ? new Float64Array(CHUNK * w) : null, tags: null, count: 0, maxAt: -Infinity };
      this.chunks.set(k, c);
    }
    this.last = c;
    if (l !== null && l !== c) this.leave(l);
    return c;
  }

  /** A chunk not written to now: dropped when empty; with few reservations, they become `Kept`
   *  objects (the chunk's columns cost the same used or not). */
  private leave(c: Chunk): void {
    if (c === this.last) return;
    if (c.count === 0) {
      this.dropChunk(c);
      return;
    }
    if (c.count > SPARSE_AT) return;
    const k0 = c.k0;
    for (let r = 0; r < CHUNK; r++) if (k0[r] !== 0) this.objects.add(this.prefix + (c.base + r).toString(36), this.keptOf(c, r));
    this.dropChunk(c);
  }

  private dropChunk(c: Chunk): void {
    this.chunks.delete(Math.floor(c.base / CHUNK));
    if (this.last === c) this.last = null;
  }

  /** Row `r`'s settle data as a `Kept` (what `keepPaths` of `Kept` objects would have kept). */
  private keptOf(c: Chunk, r: number): Kept {
    const a = c.k0[r]!;
    const b = c.k1 !== null ? c.k1[r]! : 0;
    const w = this.width;
    const vals = c.vals;
    let v: unknown;
    const tags = c.tags;
    if (w === 1) v = tags !== null && tags[r] === 1 ? this.values[vals![r]!] : vals![r]!;
    else {
      const list = new Array(w);
      for (let i = 0, o = r * w; i < w; i++) list[i] = tags !== null && tags[o + i] === 1 ? this.values[vals![o + i]!] : vals![o + i]!;
      v = list;
    }
    const ks = this.keys;
    const bs = this.budgets;
    const at = c.t0 + c.at[r]!;
    return b === 0 ? new Kept(at, bs[a]!, ks[a]!, KEPT_PATHS, v) : new Kept(at, [bs[a]!, bs[b]!], [ks[a]!, ks[b]!], KEPT_PATHS, v);
  }

  /** The index (≥ 1) of a (budget, counter key) pair, or 0 when it cannot be interned (no key, or
   *  the key is another budget's). */
  private intern(budget: CompiledBudget, key: string | null): number {
    if (key === null) return 0;
    let i: number | undefined;
    if (key === this.lastKey) i = this.lastIndex;
    else {
      i = this.interned.get(key);
      if (i === undefined) {
        i = this.free.pop() ?? this.keys.length;
        this.keys[i] = key;
        this.budgets[i] = budget;
        this.interned.set(key, i);
      }
      this.lastKey = key;
      this.lastIndex = i;
    }
    return this.budgets[i] === budget ? i : 0;
  }

  /** The index of an interned kept value that is not a number (a string of up to 64 characters, a
   *  boolean, null, undefined (an absent optional field), an absent optional object), or -1 for any other (kept as a `Kept` object). */
  private internValue(v: unknown): number {
    if (!(v === null || v === undefined || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 64) || v instanceof NullAt)) return -1;
    let i = this.valueIndex.get(v);
    if (i === undefined) {
      i = this.freeValues.pop() ?? this.values.length;
      this.values[i] = v;
      this.valueIndex.set(v, i);
    }
    return i;
  }

  /** Forgets the interned values no row refers to, once their table has doubled since the last sweep. */
  private sweepValues(): void {
    if (this.valueIndex.size <= 2 * this.valuesAfterSweep + 1024) return;
    const used = new Uint8Array(this.values.length);
    const w = this.width;
    for (const c of this.chunks.values()) {
      const tags = c.tags;
      if (tags === null) continue;
      const vals = c.vals!;
      const k0 = c.k0;
      for (let r = 0; r < CHUNK; r++) {
        if (k0[r] === 0) continue;
        for (let i = 0, o = r * w; i < w; i++) if (tags[o + i] === 1) used[vals[o + i]!] = 1;
      }
    }
    for (let i = 0; i < used.length; i++) {
      if (used[i] === 1 || this.values[i] === FREE) continue;
      this.valueIndex.delete(this.values[i]);
      this.values[i] = FREE;
      this.freeValues.push(i);
    }
    this.valuesAfterSweep = this.valueIndex.size;
  }

  /** Forgets the interned pairs no row refers to, once the table has doubled since the last sweep. */
  private sweep(): void {
    this.sweepValues();
    const size = this.interned.size;
    if (size <= 2 * this.internedAfterSweep + 1024) return;
    const used = new Uint8Array(this.keys.length);
    for (const c of this.chunks.values()) {
      const k0 = c.k0;
      const k1 = c.k1;
      for (let r = 0; r < CHUNK; r++) {
        used[k0[r]!] = 1;
        if (k1 !== null) used[k1[r]!] = 1;
      }
    }
    for (let i = 1; i < used.length; i++) {
      if (used[i] === 1 || this.budgets[i] === null) continue;
      this.interned.delete(this.keys[i]!);
      this.keys[i] = '';
      this.budgets[i] = null;
      this.free.push(i);
    }
    this.lastKey = '';
    this.lastIndex = 0;
    this.internedAfterSweep = this.interned.size;
  }
}
