// The checked program as JSON: what a prebuilt bundle (`rein build`, formatVersion 2) carries so that
// `rein/runtime` can compile a policy without the parser, the checker or the linter.
//
// A `CheckedProgram` is a graph, not a tree: `rules`, `lets`, … point into `files`' ASTs, `types` and
// `refs` are Maps keyed by AST nodes, symbols and types are shared. The encoding keeps that graph:
//   - an object or array reached more than once is written once as `{ "$id": n, "$v": … }` and then
//     as `{ "$ref": n }` (ids in depth-first order, so a `$ref` always follows its `$id`);
//   - a Map is `{ "$map": [[key, value], …] }`;
//   - a plain object whose keys start with `$` is written as `{ "$obj": {…} }`;
//   - everything else is JSON as is (undefined properties are left out, as JSON.stringify does).
// Anything else (a class instance, a function, a non-finite number) throws when encoding: the
// program is plain data by contract (semantics/program.ts). Decoding rebuilds the same graph.
//
// This is an interim payload (`PROGRAM_ENCODING`): when the expression IR (lowered once from the
// checked program) is on main, a prebuilt bundle carries the IR instead and this module goes.

export const PROGRAM_ENCODING = 'checked-program' as const;
/** Changes whenever the encoding (not the program's shape: see REIN_VERSION) changes. */
export const PROGRAM_ENCODING_VERSION = 1 as const;

const MAX_DEPTH = 10_000;

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
  const fail = (at: string, what: string): never => {
    throw new ProgramDecodeError(`compiled program: ${at}: ${what}`);
  };
  const read = (v: unknown, depth: number, at: string, id: number): unknown => {
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'number' && !Number.isFinite(v)) fail(at, 'a non-finite number');
      if (id >= 0) fail(at, '`$id` on a scalar');
      return v;
    }
    if (depth > MAX_DEPTH) fail(at, 'nested too deeply');
    const register = (x: unknown): void => {
      if (id < 0) return;
      if (id !== ids.length) fail(at, `\`$id\` ${id} out of order (expected ${ids.length})`);
      ids.push(x);
    };
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      register(out);
      for (let i = 0; i < v.length; i++) out.push(read(v[i], depth + 1, `${at}[${i}]`, -1));
      return out;
    }
    const o = v as Record<string, unknown>;
    if ('$ref' in o) {
      const n = o.$ref;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= ids.length) fail(at, `bad \`$ref\` ${JSON.stringify(n)}`);
      if (id >= 0) fail(at, '`$id` on a `$ref`');
      return ids[n as number];
    }
    if ('$id' in o) {
      if (id >= 0) fail(at, 'nested `$id`');
      const n = o.$id;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) fail(at, `bad \`$id\` ${JSON.stringify(n)}`);
      return read(o.$v, depth, at, n as number);
    }
    if ('$map' in o) {
      const entries = o.$map;
      if (!Array.isArray(entries)) fail(at, '`$map` is not a list');
      const m = new Map<unknown, unknown>();
      register(m);
      (entries as unknown[]).forEach((e, i) => {
        if (!Array.isArray(e) || e.length !== 2) fail(`${at}[${i}]`, 'a map entry is not a [key, value] pair');
        const pair = e as unknown[];
        const k = read(pair[0], depth + 1, `${at}[key ${i}]`, -1);
        m.set(k, read(pair[1], depth + 1, `${at}[${i}]`, -1));
      });
      return m;
    }
    let src = o;
    if ('$obj' in o) {
      if (typeof o.$obj !== 'object' || o.$obj === null || Array.isArray(o.$obj)) fail(at, '`$obj` is not an object');
      src = o.$obj as Record<string, unknown>;
    } else {
      for (const k of Object.keys(o)) if (k.startsWith('$')) fail(at, `unknown key \`${k}\``);
    }
    const out: Record<string, unknown> = {};
    register(out);
    for (const k of Object.keys(src)) {
      // JSON.parse makes `__proto__` an own property; assigning it would set the prototype instead.
      if (k === '__proto__') Object.defineProperty(out, k, { value: read(src[k], depth + 1, `${at}.${k}`, -1), enumerable: true, writable: true, configurable: true });
      else out[k] = read(src[k], depth + 1, `${at}.${k}`, -1);
    }
    return out;
  };
  return read(data, 0, '$', -1) as T;
}
