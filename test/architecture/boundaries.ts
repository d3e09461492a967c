// The import boundaries ARCHITECTURE.md claims, as data, and the checker that enforces them
// (test/architecture/boundaries.test.ts runs it over the repository).
//
// Imports are listed by TypeScript's own scanner (`ts.preProcessFile`): static imports, `import type`,
// re-exports, side-effect imports and dynamic `import()` alike, so a type-only or lazy import is an
// edge too (it still puts the imported code into the declarations or the bundle).
// dependency-cruiser is the usual tool for this; its current major needs Node ≥ 22 and Rein supports
// Node 20, and the rules below are a table of a dozen lines, so the scanner TypeScript already gives
// us is enough.

import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import ts from 'typescript';

/**
 * The floors of `language/`, lowest first. A unit (a folder of `language/`, or one of its top-level
 * files) imports only units on LOWER floors (and itself): no import runs back up, and units on the
 * same floor do not know each other (the runtime never imports the linter, the checker's pipeline
 * `check`, the formatter or the configuration). A new folder or top-level file of `language/` must be
 * given a floor here, or this check fails.
 */
export const FLOORS: readonly (readonly string[])[] = [
  ['diagnostics'], // 0  the Diagnostic shape, codes, LineIndex
  ['errors', 'schema', 'version', 'diagnostic-codes'], // 1  PolicyError; the request schema's data shape; format versions; every code's summary
  ['syntax'], // 2  lexer, parser, AST
  ['semantics'], // 3  names, types, the CheckedProgram contract
  ['lint', 'runtime', 'format'], // 4  lint rules; the evaluator (from a CheckedProgram); the formatter
  ['config', 'audit', 'ai', 'testing', 'check-core'], // check-core: parse + check without lint config; 5  rein.json; the decision log; AI SDK adapters; the store conformance suite (rein/testing)
  ['check'], // 6  parse + check + lint + config
  ['policy'], // 7  the façade: text → check → runtime
  ['services'], // 8  editor services over a CheckedProgram
  ['index'], // 9  the package entry `rein`
  ['node'], // 10 Node-only edges (files, bundles, Redis, audit files, approvals, mcp, serve)
];

/** Packages the browser core (language/ outside language/node/) may import: each runs in a browser. */
export const CORE_PACKAGES = ['chevrotain', 're2js', 'zod', '@noble/hashes', '@noble/curves', '@opentelemetry/api', 'ai', '@openai/agents'];

/**
 * Edges that break a rule on purpose, each with its reason. Keep this list short: every entry is a
 * claim of ARCHITECTURE.md that does not hold everywhere.
 */
export const ALLOWED: readonly { from: string; to: string; why: string }[] = [
  {
    from: 'language/node/index.ts',
    to: 'cli/cli.ts',
    why: "rein/node's `main` loads the CLI lazily (a dynamic import that the build keeps as a run-time import of dist/cli/cli.js)",
  },
];

export interface SourceFile {
  /** Repository-relative, `/`-separated. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  message: string;
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The unit of a file of language/: its folder, or the file's name for a top-level file. */
export function unitOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'language' || parts.length < 2) return undefined;
  return parts.length === 2 ? parts[1].replace(/\.tsx?$/, '') : parts[1];
}

function floorOf(unit: string): number {
  return FLOORS.findIndex((f) => f.includes(unit));
}

/** A package specifier's package name (`@scope/name` or `name`), or undefined for a relative one. */
function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/')) return undefined;
  const p = spec.split('/');
  return spec.startsWith('@') ? `${p[0]}/${p[1]}` : p[0];
}

/** Resolve a relative specifier the way TypeScript's NodeNext does for our sources (`.js` → `.ts`). */
function resolve(from: string, spec: string, exists: (p: string) => boolean): string {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base, `${base}.ts`, `${base}/index.ts`];
  return candidates.find(exists) ?? base.replace(/\.js$/, '.ts');
}

/** Check the files' imports against the rules; one violation per offending import. */
export function checkBoundaries(files: readonly SourceFile[], exists: (p: string) => boolean = (p) => files.some((f) => f.path === p)): Violation[] {
  const out: Violation[] = [];
  const units = new Set<string>();
  for (const f of files) {
    const fromUnit = unitOf(f.path);
    if (fromUnit !== undefined) units.add(fromUnit);
    const inLanguage = f.path.startsWith('language/');
    const inCore = inLanguage && fromUnit !== 'node';
    const inServer = f.path.startsWith('server/');
    if (!inLanguage && !inServer) continue;
    for (const imp of ts.preProcessFile(f.text, true, true).importedFiles) {
      const spec = imp.fileName;
      const line = f.text.slice(0, imp.pos).split('\n').length;
      const report = (message: string) => out.push({ file: f.path, line, specifier: spec, message: `${f.path}:${line} imports '${spec}': ${message}` });
      const pkg = packageOf(spec);
      if (pkg !== undefined) {
        if (!inCore) continue;
        if (NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(pkg) || spec.startsWith('node:'))
          report('the browser core (language/ outside language/node/) imports no Node module; put Node-only code under language/node/');
        else if (pkg.startsWith('vscode')) report('the browser core imports no vscode* module (only server/ and extension/ know LSP and VS Code types)');
        else if (!CORE_PACKAGES.includes(pkg))
          report(`the browser core imports only ${CORE_PACKAGES.join(', ')}; \`${pkg}\` is not one of them (a Node-only dependency belongs under language/node/; a new browser-safe one goes into CORE_PACKAGES in test/architecture/boundaries.ts)`);
        continue;
      }
      const target = resolve(f.path, spec, exists);
      if (ALLOWED.some((a) => a.from === f.path && a.to === target)) continue;
      const top = target.split('/')[0];
      if (inServer) {
        if (top === 'cli' || top === 'extension') report(`server/ never imports ${top}/ (the CLI and the extension sit above the language server)`);
        continue;
      }
      if (top !== 'language') {
        report(`language/ never imports ${top}/ (the CLI, the language server and the extension are front ends above the core)`);
        continue;
      }
      const toUnit = unitOf(target)!;
      if (toUnit === fromUnit) continue;
      if (inCore && toUnit === 'node') {
        report('the browser core never imports language/node/ (Node-only)');
        continue;
      }
      const a = floorOf(fromUnit!);
      const b = floorOf(toUnit);
      if (a < 0 || b < 0) continue; // reported once per unit below
      if (b >= a)
        report(
          `\`${fromUnit}\` (floor ${a}) may import only lower floors, and \`${toUnit}\` is on floor ${b}` +
            (b === a ? ' (units on one floor do not know each other)' : ' (no import runs back up)') +
            '; the floors are FLOORS in test/architecture/boundaries.ts and ARCHITECTURE.md',
        );
    }
  }
  for (const u of [...units].sort())
    if (floorOf(u) < 0)
      out.push({ file: `language/${u}`, line: 0, specifier: '', message: `language/${u} is on no floor: give it one in FLOORS (test/architecture/boundaries.ts) and in ARCHITECTURE.md` });
  return out;
}

/** The repository's TypeScript sources under `language/` and `server/src/` (declarations excluded). */
export function repositorySources(root: string): SourceFile[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((f) => {
      const rel = `${dir}/${f}`;
      return statSync(join(root, rel)).isDirectory() ? walk(rel) : [rel];
    });
  return ['language', 'server/src']
    .filter((d) => existsSync(join(root, d)))
    .flatMap(walk)
    .filter((p) => /\.tsx?$/.test(p) && !p.endsWith('.d.ts'))
    .map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

export const repoRoot = join(dirname(new URL(import.meta.url).pathname), '..', '..');

/** The one module that may turn text into code at run time (`new Function`), behind `codegen`. */
export const CODEGEN_MODULES = ['language/runtime/codegen.ts'];

/**
 * `new Function(…)`, `Function(…)` and `eval(…)` outside CODEGEN_MODULES, found in the syntax tree
 * (so comments and strings do not count).
 */
export function codeFromText(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    if (CODEGEN_MODULES.includes(f.path) || !f.path.startsWith('language/')) continue;
    if (!/\bFunction\b|\beval\b/.test(f.text)) continue;
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && ts.isIdentifier(n.expression) && (n.expression.text === 'Function' || n.expression.text === 'eval')) {
        const line = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
        const what = n.expression.text;
        out.push({
          file: f.path,
          line,
          specifier: what,
          message: `${f.path}:${line} calls \`${what}\`: only ${CODEGEN_MODULES.join(', ')} turns text into code (behind the \`codegen\` option), so the closures run under a strict Content-Security-Policy`,
        });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}
