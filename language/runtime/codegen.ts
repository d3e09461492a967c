// Optional code generation for the hot paths of `policy.evaluate`, used when the platform allows
// `new Function` (Node, browsers without a strict Content-Security-Policy). Everything here has a
// closure-based equivalent that is used when code generation is unavailable or disabled
// (`compile(…, { codegen: false })`), and both must give identical results (test/runtime/perf-codegen.test.ts).
//
// Safety rules for generated code (as in ajv): policy or request text is NEVER concatenated into the
// code. Literals go through `lit()` (JSON.stringify of a string or a finite number), property names are
// always quoted (`x["name"]`, never `x.name`), local variable names come from a counter, and anything
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
    try {
      available = new Function('return 1')() === 1;
    } catch {
      available = false;
    }
  }
  return available;
}

/** A JavaScript literal for a string, finite number, boolean or null. Throws for anything else. */
export function lit(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string': {
      const s = JSON.stringify(v);
      // U+2028/2029 are legal in string literals since ES2019; escape them anyway for older parsers.
      return s.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
    }
    case 'number':
      if (!Number.isFinite(v)) throw new Error('codegen: non-finite number literal');
      return Object.is(v, -0) ? '-0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      throw new Error('codegen: not a literal');
  }
}

/** A property read `obj["key"]` with the key quoted. `obj` must be a generated identifier. */
export function prop(obj: string, key: string): string {
  return `${ident(obj)}[${lit(key)}]`;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(['this', 'arguments', 'eval', 'new', 'function', 'return', 'var', 'let', 'const', 'class', 'delete', 'void', 'typeof', 'in', 'instanceof']);

/** Asserts that a name used in generated code is a plain identifier (generated names only). */
export function ident(name: string): string {
  if (!IDENT.test(name) || RESERVED.has(name)) throw new Error(`codegen: bad identifier ${JSON.stringify(name)}`);
  return name;
}

/** Builds one function body: fresh local names, argument values passed by reference. */
export class CodeBuilder {
  private n = 0;
  private readonly lines: string[] = [];
  /** Locals declared at the top of the function body (`let name = init`). */
  private readonly decls: string[] = [];
  /** Lines of the enclosing scope, run once when the function is built (helper functions). */
  private readonly outerLines: string[] = [];
  /** Values the code refers to (as `a3`): sets, functions, symbols, objects. */
  readonly args: unknown[] = [];

  local(prefix = 'v'): string {
    return ident(`${prefix}${this.n++}`);
  }

  /** The name (`a3`) of a value passed in by reference: a constant of the enclosing scope. */
  ref(value: unknown): string {
    let i = this.args.indexOf(value);
    if (i < 0) {
      i = this.args.length;
      this.args.push(value);
    }
    return `a${i}`;
  }

  /** Declare a local at the top of the function body (for values assigned in nested blocks and read after them). */
  declare(name: string, init: string | number | boolean | null = null): void {
    this.decls.push(`${ident(name)} = ${lit(init)}`);
  }

  /** A line in the enclosing scope (run once, before the function is returned): helper declarations. */
  outer(code: string): void {
    this.outerLines.push(code);
  }

  line(code: string): void {
    this.lines.push(code);
  }

  /** The function `(A) => { const a0 = A[0], …; return function name(...params) { body } }`, applied to the argument array. */
  build<F>(name: string, params: string[], prelude = ''): F {
    for (const p of params) ident(p);
    const consts = this.args.length ? `const ${this.args.map((_, i) => `a${i} = A[${i}]`).join(', ')};\n` : '';
    const decls = this.decls.length ? `let ${this.decls.join(', ')};\n` : '';
    const outer = this.outerLines.length ? `${this.outerLines.join('\n')}\n` : '';
    const body = `"use strict";\n${consts}${outer}${prelude}return function ${ident(name)}(${params.join(', ')}) {\n${decls}${this.lines.join('\n')}\n};`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function('A', body) as (a: unknown[]) => F;
    return make(this.args);
  }

  source(): string {
    return (this.outerLines.length ? `${this.outerLines.join('\n')}\n` : '') + (this.decls.length ? `let ${this.decls.join(', ')};\n` : '') + this.lines.join('\n');
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
