// The checked program as JSON: what a prebuilt bundle (`rein build`, formatVersion 2) carries so that
// `rein/runtime` can compile a policy without the parser, the checker or the linter.
//
// A `CheckedProgram` is a graph, not a tree: `rules`, `lets`, … point into `files`' ASTs, `types` and
// `refs` are Maps keyed by AST nodes, symbols and types are shared. The encoding keeps that graph:
//   - an object or array reached more than once is written once as `{ "$id": n, "$v": … }` and then
//     as `{ "$ref": n }` (ids in depth-first order, so a `$ref` always follows its `$id`);
//   - a Map is `{ "$map": [[key, value], …] }`;
//   - a plain object whose keys start with `$` is written as `{ "$obj": {…} }`;
//   - a source range `{ start: { line, character, offset }, end: { … } }` (those keys, in that order,
//     integers, none of the three objects shared) is written as `{ "$r": [6 integers] }`: ranges are
//     most of a program, and this halves the encoded size and the time to load it;
//   - everything else is JSON as is (undefined properties are left out, as JSON.stringify does).
// Anything else (a class instance, a function, a non-finite number) throws when encoding: the
// program is plain data by contract (semantics/program.ts). Decoding rebuilds the same graph.
//
// This is an interim payload (`PROGRAM_ENCODING`): when the expression IR (lowered once from the
// checked program) is on main, a prebuilt bundle carries the IR instead and this module goes.

export const PROGRAM_ENCODING = 'checked-program' as const;
/** Changes whenever the encoding (not the program's shape: see REIN_VERSION) or what the bundle's
 *  integrity digest covers changes (2: `$r` ranges; the digest covers the sources and the config too;
 *  3: and the data files' text, runtime/prebuilt.ts). */
export const PROGRAM_ENCODING_VERSION = 3 as const;

const MAX_DEPTH = 10_000;

const POSITION_KEYS = ['line', 'character', 'offset'];
const isIntegers = (xs: unknown[]): boolean => xs.every((x) => typeof x === 'number' && Number.isInteger(x) && !Object.is(x, -0));

/** A position `{ line, character, offset }` (exactly those keys, in that order, integers). */
function isPosition(v: unknown): v is { line: number; character: number; offset: number } {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Map || !isPlain(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 3 && keys[0] === 'line' && keys[1] === 'character' && keys[2] === 'offset' && isIntegers(POSITION_KEYS.map((k) => (v as Record<string, unknown>)[k]));
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Encode a checked program (or any graph of plain data and Maps) as JSON-safe data. Throws on other values. */
export function encodeProgram(value: unknown): unknown {
  // Pass 1: which objects are reached more than once.
  const count = new Map<object, number>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const n = count.get(v) ?? 0;
    count.set(v, n + 1);
    if (n > 0) continue;
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
  }
  // A range `{ start, end }` of positions none of which is shared: its six integers.
  const compactRange = (v: object): number[] | undefined => {
    if (!isPlain(v)) return undefined;
    const keys = Object.keys(v);
    if (keys.length !== 2 || keys[0] !== 'start' || keys[1] !== 'end') return undefined;
    const { start, end } = v as { start: unknown; end: unknown };
    if (!isPosition(start) || !isPosition(end) || (count.get(start) ?? 0) > 1 || (count.get(end) ?? 0) > 1) return undefined;
    return [start.line, start.character, start.offset, end.line, end.character, end.offset];
  };
  // Pass 2: write, depth first.
  const ids = new Map<object, number>();
  const write = (v: unknown, depth: number, at: string): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v) || Object.is(v, -0)) throw new TypeError(`encodeProgram: ${at}: ${String(v)} has no JSON form`);
        return v;
      case 'object':
        break;
      default:
        throw new TypeError(`encodeProgram: ${at}: a ${typeof v} is not plain data`);
    }
    if (v === null) return null;
    if (depth > MAX_DEPTH) throw new TypeError(`encodeProgram: ${at}: nested too deeply`);
    const seen = ids.get(v);
    if (seen !== undefined) return { $ref: seen };
    const shared = (count.get(v) ?? 0) > 1;
    let id = -1;
    if (shared) {
      id = ids.size;
      ids.set(v, id);
    }
    let out: unknown;
    if (v instanceof Map) {
      const entries: unknown[] = [];
      let i = 0;
      for (const [k, x] of v) {
        entries.push([write(k, depth + 1, `${at}[key ${i}]`), write(x, depth + 1, `${at}[${i}]`)]);
        i++;
      }
      out = { $map: entries };
    } else if (Array.isArray(v)) {
      const items = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        if (v[i] === undefined) throw new TypeError(`encodeProgram: ${at}[${i}]: undefined in a list`);
        items[i] = write(v[i], depth + 1, `${at}[${i}]`);
      }
      out = items;
    } else if (!shared && compactRange(v) !== undefined) {
      out = { $r: compactRange(v) };
    } else {
      if (!isPlain(v)) throw new TypeError(`encodeProgram: ${at}: a ${v.constructor?.name ?? 'class'} instance is not plain data`);
      const o: Record<string, unknown> = {};
      let dollar = false;
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        if (k.startsWith('$')) dollar = true;
        o[k] = write(x, depth + 1, `${at}.${k}`);
      }
      out = dollar ? { $obj: o } : o;
    }
    return shared ? { $id: id, $v: out } : out;
  };
  return write(value, 0, '$');
}

/** The error `decodeProgram` throws on data that `encodeProgram` cannot have written. */
export class ProgramDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramDecodeError';
  }
}

/** Decode `encodeProgram`'s output (after a JSON round trip). Throws ProgramDecodeError on malformed data. */
export function decodeProgram<T = unknown>(data: unknown): T {
  const ids: unknown[] = [];
  // The path to the value being read, built only for an error message (building it for every value
  // took half of the decoding time).
  const path: (string | number)[] = [];
  const fail = (what: string): never => {
    const at = '$' + path.map((k) => (typeof k === 'number' ? `[${k}]` : k.startsWith('key ') ? `[${k}]` : `.${k}`)).join('');
    throw new ProgramDecodeError(`compiled program: ${at}: ${what}`);
  };
  const child = (v: unknown, depth: number, key: string | number): unknown => {
    path.push(key);
    const x = read(v, depth, -1);
    path.pop();
    return x;
  };
  const read = (v: unknown, depth: number, id: number): unknown => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'number' && !Number.isFinite(v)) fail('a non-finite number');
      if (id >= 0) fail('`$id` on a scalar');
      return v;
    }
    if (depth > MAX_DEPTH) fail('nested too deeply');
    const register = (x: unknown): void => {
      if (id < 0) return;
      if (id !== ids.length) fail(`\`$id\` ${id} out of order (expected ${ids.length})`);
      ids.push(x);
    };
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      register(out);
      for (let i = 0; i < v.length; i++) out.push(child(v[i], depth + 1, i));
      return out;
    }
    const o = v as Record<string, unknown>;
    if ('$ref' in o) {
      const n = o.$ref;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= ids.length) fail(`bad \`$ref\` ${JSON.stringify(n)}`);
      if (id >= 0) fail('`$id` on a `$ref`');
      return ids[n as number];
    }
    if ('$id' in o) {
      if (id >= 0) fail('nested `$id`');
      const n = o.$id;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) fail(`bad \`$id\` ${JSON.stringify(n)}`);
      return read(o.$v, depth, n as number);
    }
    if ('$map' in o) {
      const entries = o.$map;
      if (!Array.isArray(entries)) fail('`$map` is not a list');
      const m = new Map<unknown, unknown>();
      register(m);
      (entries as unknown[]).forEach((e, i) => {
        path.push(i);
        if (!Array.isArray(e) || e.length !== 2) fail('a map entry is not a [key, value] pair');
        path.pop();
        const pair = e as unknown[];
        const k = child(pair[0], depth + 1, `key ${i}`);
        m.set(k, child(pair[1], depth + 1, i));
      });
      return m;
    }
    if ('$r' in o) {
      const r = o.$r;
      if (!Array.isArray(r) || r.length !== 6 || !isIntegers(r) || Object.keys(o).length !== 1) fail('`$r` is not a list of 6 integers');
      const n = r as number[];
      const out = { start: { line: n[0], character: n[1], offset: n[2] }, end: { line: n[3], character: n[4], offset: n[5] } };
      register(out);
      return out;
    }
    let src = o;
    if ('$obj' in o) {
      if (typeof o.$obj !== 'object' || o.$obj === null || Array.isArray(o.$obj)) fail('`$obj` is not an object');
      src = o.$obj as Record<string, unknown>;
    } else {
      for (const k in o) if (k.charCodeAt(0) === 36 /* $ */ && Object.hasOwn(o, k)) fail(`unknown key \`${k}\``);
    }
    const out: Record<string, unknown> = {};
    register(out);
    for (const k of Object.keys(src)) {
      // JSON.parse makes `__proto__` an own property; assigning it would set the prototype instead.
      if (k === '__proto__') Object.defineProperty(out, k, { value: child(src[k], depth + 1, k), enumerable: true, writable: true, configurable: true });
      else out[k] = child(src[k], depth + 1, k);
    }
    return out;
  };
  return read(data, 0, -1) as T;
}
