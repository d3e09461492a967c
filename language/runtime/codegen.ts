// Optional code generation for the hot paths of `policy.evaluate`, used when the platform allows
// `new Function` (Node, browsers without a strict Content-Security-Policy). Everything here has a
// closure-based equivalent that is used when code generation is unavailable or disabled
// (`compile(…, { codegen: false })`), and both must give identical results (test/runtime/perf-codegen.test.ts).
//
// Safety rules for generated code (as in ajv's lib/compile/codegen): policy or request text is NEVER
// concatenated into the code. Code is a `Code` value, built only by the `_` template tag, whose
// interpolations are `Code`, `Name` (checked identifiers) or primitives written as literals by `lit()`
// (JSON.stringify of a string, a finite number); `CodeBuilder.line` accepts nothing else. Property
// names are always quoted (`x["name"]`, never `x.name`), local names come from a counter, and anything
// that is not a primitive (sets, functions, regexes) is passed in as an argument array, not written out.

/** Whether to generate code by default: on Node (unless `REIN_CODEGEN=0`) when `new Function` works. Checked once. */
let available: boolean | undefined;
export function codegenAvailable(): boolean {
  if (available === undefined) {
    // Only on server runtimes by default: in a browser, merely probing `new Function` under a CSP
    // without 'unsafe-eval' logs a violation (and may send a report). Browsers opt in with `codegen: true`.
    const g = globalThis as { process?: { versions?: { node?: string }; env?: Record<string, string | undefined> } };
    if (!g.process?.versions?.node || g.process.env?.REIN_CODEGEN === '0') {
      available = false;
      return available;
    }
    available = canGenerate();
  }
  return available;
}

/** A JavaScript literal for a string, finite number, boolean or null. Throws for anything else. */
export function lit(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      // U+2028/2029 are legal in string literals since ES2019 (the runtime itself needs ES2022).
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Error('codegen: non-finite number literal');
      return Object.is(v, -0) ? '-0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      throw new Error('codegen: not a literal');
  }
}

// ---------------------------------------------------------------- typed code (as ajv's codegen)

/** A generated identifier: a local, a parameter or a reference to a value passed in. */
export class Name {
  readonly str: string;
  constructor(name: string) {
    this.str = ident(name);
  }
  toString(): string {
    return this.str;
  }
}

declare const CODE: unique symbol;

/** A piece of JavaScript built only by the `_` tag (or from other Code), never from a raw string. */
export class Code {
  /** @internal A brand for the type checker only: nothing else is a Code. */
  declare readonly [CODE]: true;
  private constructor(readonly str: string) {}
  toString(): string {
    return this.str;
  }
  /** @internal Only the `_` tag and `join` make Code. */
  static of(str: string): Code {
    return new Code(str);
  }
}

/** What may be interpolated into `_`: Code and Names as they are, primitives as literals (`lit`). */
export type Interp = Code | Name | string | number | boolean | null;

function interp(v: Interp): string {
  if (v instanceof Code || v instanceof Name) return v.str;
  return lit(v);
}

/**
 * Tagged template building Code: the template's own text is code written in this repository;
 * every interpolated value is either Code/Name or a primitive written as a literal, so no string from
 * a policy or a request can become code (`_\`${obj}[${key}]\`` reads the property named by `key`).
 */
export function _(strings: TemplateStringsArray, ...values: Interp[]): Code {
  if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw)) throw new Error('codegen: `_` is a template tag');
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += interp(values[i]!) + strings[i + 1]!;
  return Code.of(out);
}

/** Code pieces joined by a separator (itself Code). */
export function join(parts: readonly Code[], sep: Code): Code {
  return Code.of(parts.map((p) => p.str).join(sep.str));
}

/** `obj["key"]` with the key quoted. */
export function prop(obj: Name | Code, key: string): Code {
  return _`${obj}[${key}]`;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(['this', 'arguments', 'eval', 'new', 'function', 'return', 'var', 'let', 'const', 'class', 'delete', 'void', 'typeof', 'in', 'instanceof']);

/** Asserts that a name used in generated code is a plain identifier (generated names only). */
export function ident(name: string): string {
  if (!IDENT.test(name) || RESERVED.has(name)) throw new Error(`codegen: bad identifier ${JSON.stringify(name)}`);
  return name;
}

/** Builds one function body: fresh local names, argument values passed by reference. Accepts Code only. */
export class CodeBuilder {
  private n = 0;
  private lines: string[] = [];
  /** Locals declared at the top of the function body (`let name = init`). */
  private readonly decls: string[] = [];
  /** Lines of the enclosing scope, run once when the function is built (helper functions). */
  private readonly outerLines: string[] = [];
  /** Values the code refers to (as `a3`): sets, functions, symbols, objects. */
  readonly args: unknown[] = [];
  private readonly argNames: Name[] = [];

  /** A fresh local, `prefix` + a number: any prefix but `a`, whose names (`a3`) are the references' (`ref`). */
  local(prefix = 'v'): Name {
    if (prefix === 'a') throw new Error('codegen: `a` + a number names a reference (`ref`), not a local');
    return new Name(`${prefix}${this.n++}`);
  }

  /** The name (`a3`) of a value passed in by reference: a constant of the enclosing scope. */
  ref(value: unknown): Name {
    let i = this.args.indexOf(value);
    if (i < 0) {
      i = this.args.length;
      this.args.push(value);
      this.argNames.push(new Name(`a${i}`));
    }
    return this.argNames[i]!;
  }

  /** Declare a local at the top of the function body (for values assigned in nested blocks and read after them). */
  declare(name: Name, init: string | number | boolean | null = null): void {
    this.decls.push(`${name.str} = ${lit(init)}`);
  }

  /** A line in the enclosing scope (run once, before the function is returned): helper declarations. */
  outer(code: Code): void {
    this.outerLines.push(code.str);
  }

  /** The lines `f` emits, taken out of the function body (for a helper function's body). */
  capture(f: () => void): Code[] {
    const saved = this.lines;
    this.lines = [];
    try {
      f();
      return this.lines.map((l) => Code.of(l));
    } finally {
      this.lines = saved;
    }
  }

  line(code: Code): void {
    if (!(code instanceof Code)) throw new Error('codegen: a line must be Code');
    this.lines.push(code.str);
  }

  /** The function `(A) => { const a0 = A[0], …; return function name(...params) { body } }`, applied to the argument array. */
  build<F>(name: string, params: string[], prelude?: Code): F {
    for (const p of params) ident(p);
    const consts = this.args.length ? `const ${this.args.map((_v, i) => `a${i} = A[${i}]`).join(', ')};\n` : '';
    const decls = this.decls.length ? `let ${this.decls.join(', ')};\n` : '';
    const outer = this.outerLines.length ? `${this.outerLines.join('\n')}\n` : '';
    const body = `"use strict";\n${consts}${outer}${prelude?.str ?? ''}return function ${ident(name)}(${params.join(', ')}) {\n${decls}${this.lines.join('\n')}\n};`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function('A', body) as (a: unknown[]) => F;
    return make(this.args);
  }
}

/** Whether `new Function` works here, probing it (for an explicit `codegen: true`). */
export function canGenerate(): boolean {
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false;
  }
}

/** Resolves the `codegen` option: undefined → the platform default; true → when possible; false → never. */
export function useCodegen(option: boolean | undefined): boolean {
  if (option === false) return false;
  if (option === true) return canGenerate();
  return codegenAvailable();
}
