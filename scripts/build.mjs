// Build the npm package (ARCHITECTURE.md, "The package", has the layout and the reasons):
//
//   dist/index.js, runtime.js, node.js, redis.js, … the entry points: `export * from './language/…'`
//   dist/index.node.js, re2.js                       `rein` for Node (with RE2 loaded), `rein/re2`
//   dist/language/**/*.js                            the library, ESM, one module per source module (a
//                                                   consumer's bundler drops what an app does not use)
//   dist/vendor/                                     the packages it imports, bundled in (no dependencies
//                                                   but the optional peers): zod module by module, the
//                                                   others one module per import path
//   dist/*.cjs                                       require() entries: `module.exports = require('./x.js')`
//                                                   (Node >= 20.19 requires ES modules), so import and
//                                                   require share one module graph, one core
//   dist/cli/cli.js + chunks                         the CLI: one ESM bundle, each command a lazy chunk;
//                                                   CLI-only dependencies (language server, …) live here
//   dist/types/**/*.d.ts and *.d.cts                 declarations for import and for require
//   dist/decision.schema.json, dist/rein.schema.json JSON Schemas of a decision and of rein.json
//   dist/openapi.json                                the decision service's OpenAPI document
//   dist/dashboard/app.js, app.css                   the control room's page (`rein serve`)
//
// Run: npm run build (about 10 s).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, transform } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

// 1. Declarations (tsc), then a CommonJS twin of each (.d.cts, specifiers ending .cjs).
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
const relSpec = /((?:from|import)\s*\(?\s*['"])(\.\.?\/[^'"]+?)\.js(['"])/g;
// Keep only the declarations the entry points reach (not the CLI's commands, servers, …).
const reached = new Set();
const visit = (f) => {
  if (reached.has(f) || !existsSync(f)) return;
  reached.add(f);
  for (const m of readFileSync(f, 'utf8').matchAll(relSpec)) visit(join(dirname(f), m[2] + '.d.ts'));
};
for (const e of ['index', 'runtime/index', 'node/index', 'node/redis', 'ai/index', 'ai/openai-agents', 'testing/index']) visit(join('dist/types/language', e + '.d.ts'));
for (const f of walk('dist/types')) if (!reached.has(f)) rmSync(f);
// The CommonJS twins are printed without comments: the same declarations, ~150 kB less, which keeps
// the install under #13's 5 MB (the ESM declarations keep their doc comments for editors' hovers).
const ts = (await import('typescript')).default;
const printer = ts.createPrinter({ removeComments: true });
for (const f of reached) {
  const text = readFileSync(f, 'utf8').replace(relSpec, '$1$2.cjs$3');
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  writeFileSync(f.replace(/\.d\.ts$/, '.d.cts'), printer.printFile(sf));
}

// 2. The library (ESM). `main` of rein/node imports the CLI lazily (`import('../../cli/cli.js')`):
// that import stays a run-time import of the CLI bundle (dist/cli/cli.js), so a library user never
// loads the CLI's dependencies.
const lazyMain = {
  name: 'lazy-main',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/\.\.\/cli\/cli\.js$/ }, (a) =>
      a.importer.endsWith(join('language', 'node', 'index.ts')) ? { path: './cli/cli.js', external: true } : undefined,
    );
  },
};
// zod exports its 60-odd message locales as one namespace, so a bundle keeps them all; Rein speaks
// English only: the namespace is cut down to `en` (~250 kB less).
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (a) =>
      /node_modules[\\/]zod[\\/]/.test(a.importer) ? { path: join(a.resolveDir, '../locales/index.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({ contents: 'export { default as en } from "./en.js";\n', resolveDir: dirname(a.path) }));
  },
};
const common = {
  bundle: true,
  format: 'esm',
  splitting: true,
  target: 'es2022',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // Minified (the install stays under 5 MB). Names are not kept: esbuild's `keepNames` wraps every
  // named function in a `__name(fn, "…")` call (Object.defineProperty), and for a closure that runs
  // each time it is created — fastify creates nine per request (hook `next`, `handleResolve`, the body
  // parser's `onData`/`onEnd`, …): ~10 µs of the decision service's CPU per request (docs/benchmarks.md).
  // Rein's error classes set their `name` themselves; stack traces of the built CLI show minified names.
  minify: true,
  keepNames: false,
};
// The library is shipped module by module, as tsc would emit it, so that a consumer's bundler drops
// what an app does not use (the linter, the formatter, the services, …): in one pre-bundled file,
// top-level code cannot be proven unused and stays. Rein's modules keep their layout under
// dist/language/, and package.json says they have no side effects (but fast-hash.js). The packages
// they import are bundled in (no dependencies to install: ARCHITECTURE.md, "The package"):
//   - zod module by module under dist/vendor/zod/ (its tree-shaking rests on its module structure);
//   - every other package as one module per import path under dist/vendor/ (chevrotain.js, re2js.js,
//     …; code they share in dist/vendor/chunks/), exporting by name what Rein imports: fewer files
//     for Node to load, and a namespace re-export would tie every export to one object.
// Each module keeps the /* @__PURE__ */ annotations of its sources (minified but for whitespace,
// whose pass drops them), since without them a consumer's bundler keeps those calls.
// a. Which modules do the entry points reach?
const entries = { index: 'language/index.ts', runtime: 'language/runtime/index.ts', node: 'language/node/index.ts', redis: 'language/node/redis.ts', ai: 'language/ai/index.ts', 'openai-agents': 'language/ai/openai-agents.ts', testing: 'language/testing/index.ts' };
const external = ['node:*', 'ioredis', 'esbuild', 'ai', '@openai/agents'];
const isExternal = (p) => p.startsWith('node:') || external.includes(p);
const resolveOptions = { platform: 'neutral', mainFields: ['module', 'main'], conditions: ['module'] };
const reach = await build({ ...resolveOptions, bundle: true, write: false, format: 'esm', splitting: true, outdir: 'dist', metafile: true, logLevel: 'warning', entryPoints: entries, external, plugins: [lazyMain] });
const cwd = process.cwd();
const pkgOf = (file) => file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
const PER_MODULE = new Set(['zod']);
const zodOtherLocale = /node_modules\/zod\/.*\/locales\/(?!index\.js$|en\.js$)[^/]+$/;
// Output path (under dist/, without extension) of a module copied as a module.
const outOf = (file) => {
  const rel = relative(cwd, file).split('\\').join('/');
  if (rel.startsWith('language/')) return rel.replace(/\.[cm]?[jt]s$/, '');
  const pkg = pkgOf(rel);
  if (!PER_MODULE.has(pkg)) throw new Error(`build: ${rel} is not copied module by module`);
  return `vendor/${pkg}/${rel.slice(rel.lastIndexOf(`node_modules/${pkg}/`) + `node_modules/${pkg}/`.length).replace(/\.[cm]?js$/, '')}`;
};
const modules = {};
for (const f of Object.keys(reach.metafile.inputs)) if (f.startsWith('language/') || (PER_MODULE.has(pkgOf(f)) && !zodOtherLocale.test(f))) modules[outOf(join(cwd, f))] = f;
// b. One output per module; each import resolved as the bundle did, then written relative to the output.
const vendorName = (spec) => spec.replace(/\.js$/, '');
const flatImports = new Map(); // import path → { names, all }
const perModule = {
  name: 'per-module',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (a) => {
      if (a.kind === 'entry-point' || a.pluginData?.inner) return undefined;
      if (isExternal(a.path)) return { path: a.path, external: true };
      if (/^\.\.\/\.\.\/cli\/cli\.js$/.test(a.path) && a.importer.endsWith(join('language', 'node', 'index.ts'))) return { path: a.path, external: true }; // dist/cli/cli.js, lazily
      const r = await b.resolve(a.path, { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer, pluginData: { inner: true } });
      if (r.errors.length > 0) return { errors: r.errors };
      const pkg = pkgOf(relative(cwd, r.path));
      let target;
      if (!pkg || PER_MODULE.has(pkg)) target = outOf(r.path);
      else {
        if (/^[./]/.test(a.path)) return { errors: [{ text: `${a.path}: a relative import into ${pkg}` }] };
        target = `vendor/${vendorName(a.path)}`;
        const seen = flatImports.get(a.path) ?? { names: new Set(), all: false };
        flatImports.set(a.path, seen);
        const src = readFileSync(a.importer, 'utf8');
        const quoted = a.path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        for (const m of src.matchAll(new RegExp(`import\\s+(type\\s+)?([^;]*?)\\s+from\\s*["']${quoted}["']`, 'g'))) {
          if (m[1]) continue;
          const clause = m[2].trim();
          const named = clause.match(/\{([^}]*)\}/);
          if (named) for (const n of named[1].split(',')) if (n.trim() && !/^type\s/.test(n.trim())) seen.names.add(n.trim().split(/\s+as\s+/)[0]);
          if (/^[A-Za-z_$][\w$]*\s*(,|$)/.test(clause)) seen.names.add('default');
          if (/\*\s+as\s/.test(clause)) seen.all = true;
        }
        if (a.kind === 'dynamic-import') seen.all = true;
      }
      const to = relative(dirname(outOf(a.importer)), target).split('\\').join('/') + '.js';
      return { path: to.startsWith('.') ? to : './' + to, external: true };
    });
    b.onLoad({ filter: /[\\/]zod[\\/].*[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";\n', loader: 'js' }));
  },
};
const noWhitespaceMinify = { minify: false, minifySyntax: true, minifyIdentifiers: true };
const annotated = (f) => /[@#]__PURE__/.test(readFileSync(f, 'utf8'));
const pick = (want) => Object.fromEntries(Object.entries(modules).filter(([, f]) => annotated(f) === want));
await build({ ...common, ...resolveOptions, splitting: false, keepNames: false, entryPoints: pick(false), outdir: 'dist', plugins: [perModule] });
await build({ ...common, ...resolveOptions, splitting: false, keepNames: false, ...noWhitespaceMinify, entryPoints: pick(true), outdir: 'dist', plugins: [perModule] });
// Each copied package keeps its `sideEffects` (and its modules stay ES modules for Node).
for (const pkg of PER_MODULE) {
  const meta = JSON.parse(readFileSync(join('node_modules', pkg, 'package.json'), 'utf8'));
  writeFileSync(`dist/vendor/${pkg}/package.json`, JSON.stringify({ name: `rein-vendored-${pkg}`, version: meta.version, type: 'module', ...(meta.sideEffects !== undefined ? { sideEffects: meta.sideEffects } : {}) }, null, 2) + '\n');
}
// c. The other packages: one module per import path, exporting by name what Rein's modules take.
const vendorEntries = {};
for (const [spec, { names, all }] of flatImports) {
  const file = Object.keys(reach.metafile.inputs).find((f) => f.includes(`node_modules/${spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')}/`));
  const cjs = reach.metafile.inputs[file]?.format === 'cjs';
  let named = [...names].filter((n) => n !== 'default');
  if (all) {
    const mod = await import(spec);
    named = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(k) && Object.prototype.toString.call(mod[k]) !== '[object Module]');
  }
  const q = JSON.stringify(spec);
  vendorEntries[vendorName(spec)] = cjs
    ? `import m from ${q};\nexport default m;\n` + (named.length ? `export const { ${named.join(', ')} } = m;\n` : '')
    : (named.length ? `export { ${named.join(', ')} } from ${q};\n` : '') + (names.has('default') ? `export { default } from ${q};\n` : '');
}
// Modules built on their own, without sharing chunks: `@noble/hashes/sha2.js` is on the compiler's
// path (the policy hash, SHA-256) and would otherwise share a chunk with @noble/curves' SHA-512 and
// 64-bit helpers, whose top-level BigInt constants a consumer's bundler cannot drop (~3 KB gzip in
// the browser bundle of `compile`).
const STANDALONE = new Set(['@noble/hashes/sha2']);
const vendorEntryPlugin = {
  name: 'vendor-entries',
  setup(b) {
    b.onResolve({ filter: /^vendor:/ }, (a) => ({ path: a.path.slice('vendor:'.length), namespace: 'vendor' }));
    b.onLoad({ filter: /.*/, namespace: 'vendor' }, (a) => ({ contents: vendorEntries[a.path], resolveDir: cwd, loader: 'js' }));
  },
};
// Chevrotain, as shipped, without the code Rein never runs (~7 KB gzip of the browser bundle of
// `compile`): its grammar validations (parse/grammar/checks.js: the parser is built with
// `skipValidations`, test/syntax/grammar.test.ts validates the grammar from the sources) and its
// regular-expression analyser (@chevrotain/regexp-to-ast: the lexer needs it only for token patterns
// without a `start_chars_hint` and for its own validations, which are skipped; every Rein token gives
// the hint, test/syntax/lexer-validations.test.ts). The stand-ins throw if anything ever calls them.
const CHEVROTAIN_UNUSED = 'throw new Error("rein: this part of Chevrotain is not in the packaged build (scripts/build.mjs)")';
const chevrotainRuntimeOnly = {
  name: 'chevrotain-runtime-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]chevrotain[\\/]lib[\\/]src[\\/]parse[\\/]grammar[\\/]checks\.js$/ }, () => ({
      loader: 'js',
      contents:
        `const unused = () => { ${CHEVROTAIN_UNUSED}; };\n` +
        ['validateLookahead', 'validateGrammar', 'validateRuleIsOverridden', 'validateAmbiguousAlternationAlternatives', 'validateEmptyOrAlternative', 'validateNoLeftRecursion', 'validateSomeNonEmptyLookaheadPath'].map((n) => `export const ${n} = unused;\n`).join(''),
    }));
    // The messages of those validations (one object of message builders, ~1 KB gzip).
    b.onLoad({ filter: /[\\/]chevrotain[\\/]lib[\\/]src[\\/]parse[\\/]errors_public\.js$/ }, (a) => {
      const src = readFileSync(a.path, 'utf8');
      const at = src.indexOf('export const defaultGrammarValidatorErrorProvider = {');
      if (at < 0 || !/\n\};\s*(\/\/# sourceMappingURL=\S*\s*)?$/.test(src)) throw new Error(`build: ${a.path} changed: update chevrotainRuntimeOnly`);
      return { loader: 'js', contents: src.slice(0, at) + `export const defaultGrammarValidatorErrorProvider = new Proxy({}, { get: () => () => { ${CHEVROTAIN_UNUSED}; } });\n` };
    });
    // The CST visitor factories (a CstParser's `getBaseCstVisitorConstructor`; Rein's parser is an
    // EmbeddedActionsParser and builds no CST).
    b.onLoad({ filter: /[\\/]chevrotain[\\/]lib[\\/]src[\\/]parse[\\/]cst[\\/]cst_visitor\.js$/ }, () => ({
      loader: 'js',
      contents: `const unused = () => { ${CHEVROTAIN_UNUSED}; };\nexport const createBaseSemanticVisitorConstructor = unused;\nexport const createBaseVisitorConstructorWithDefaults = unused;\n`,
    }));
    // lodash's \`clone\` brings its deep-clone machinery (typed arrays, buffers, maps, tags); Chevrotain
    // clones only arrays and plain objects (its config, token vocabularies, paths and stacks), which a
    // shallow copy with the same prototype clones exactly as lodash does.
    b.onLoad({ filter: /[\\/]lodash-es[\\/]clone\.js$/ }, () => ({
      loader: 'js',
      contents:
        'export default function clone(v) {\n' +
        '  if (Array.isArray(v)) return v.slice();\n' +
        '  if (v === null || typeof v !== "object") return v;\n' +
        '  const proto = Object.getPrototypeOf(v);\n' +
        `  if (proto !== Object.prototype && proto !== null) { ${CHEVROTAIN_UNUSED.replace('this part of Chevrotain', 'cloning anything but arrays and plain objects')}; }\n` +
        '  return Object.assign(Object.create(proto), v);\n' +
        '}\n',
    }));
    b.onLoad({ filter: /[\\/]@chevrotain[\\/]regexp-to-ast[\\/]lib[\\/]src[\\/]api\.js$/ }, () => ({
      loader: 'js',
      contents: `export class BaseRegExpVisitor {}\nexport class RegExpParser { pattern() { ${CHEVROTAIN_UNUSED}; } }\n`,
    }));
  },
};
const vendorBuildOf = (names, splitting) =>
  build({
    ...common,
    ...resolveOptions,
    ...noWhitespaceMinify,
    keepNames: false,
    splitting,
    entryPoints: Object.fromEntries(names.map((k) => [k, `vendor:${k}`])),
    outdir: 'dist/vendor',
    external,
    plugins: [vendorEntryPlugin, chevrotainRuntimeOnly],
  });
const vendorNames = Object.keys(vendorEntries);
const vendorBuilds = [await vendorBuildOf(vendorNames.filter((k) => !STANDALONE.has(k)), true)];
for (const k of vendorNames.filter((k) => STANDALONE.has(k))) vendorBuilds.push(await vendorBuildOf([k], false));
const vendorBuild = { metafile: { outputs: Object.assign({}, ...vendorBuilds.map((v) => v.metafile.outputs)) } };

// Whitespace-minify the outputs whose sources carry no annotation (re2js, Chevrotain: 130 kB less;
// the annotations esbuild adds itself, on `new Map()` and the like, every bundler knows without them).
for (const [out, { inputs }] of Object.entries(vendorBuild.metafile.outputs)) {
  if (!out.endsWith('.js') || Object.keys(inputs).some((i) => !i.startsWith('vendor:') && annotated(i))) continue;
  writeFileSync(out, (await transform(readFileSync(out, 'utf8'), { minifyWhitespace: true, format: 'esm', legalComments: 'none' })).code);
}
// d. The entry points: dist/index.js, runtime.js, … re-export dist/language/….
for (const [e, src] of Object.entries(entries)) {
  const target = './' + src.replace(/\.ts$/, '.js');
  const mod = readFileSync(src, 'utf8');
  writeFileSync(`dist/${e}.js`, `export * from '${target}';\n` + (/export default /.test(mod) ? `export { default } from '${target}';\n` : ''));
}
// RE2 (re2js) for every `matches` pattern: Node's `rein` (the `node` condition) loads it with the core;
// a browser's `compile` runs the built-in subset and loads RE2 on demand (`loadRegexEngine()`, or
// `import 'rein/re2'`: language/semantics/patterns.ts).
const RE2 = "import './language/semantics/regex.js';\n";
writeFileSync('dist/re2.js', RE2);
writeFileSync('dist/index.node.js', RE2 + "export * from './index.js';\n");

// 3. The CLI: Node only, so CommonJS dependencies may `require` Node's modules (the banner).
// re2js and Chevrotain come from the library's vendored modules (dist/vendor/) instead of a second
// copy in the CLI's chunks (~270 kB of the install): only modules in dist/cli/chunks/ import them
// (checked below), hence the path.
const SHARED_VENDOR = ['re2js', 'chevrotain'];
const sharedVendor = {
  name: 'shared-vendor',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${SHARED_VENDOR.join('|')})$`) }, (a) => ({ path: `../../vendor/${a.path}.js`, external: true }));
  },
};
const cliBuild = await build({
  ...common,
  entryPoints: { cli: 'cli/cli.ts' },
  outdir: 'dist/cli',
  platform: 'node',
  target: 'node20',
  // esbuild: the dashboard bundles its page with it in a source checkout only (built: dist/dashboard).
  external: ['esbuild'],
  plugins: [zodEnglishOnly, sharedVendor],
  banner: { js: "import { createRequire as __reinRequire } from 'node:module'; const require = __reinRequire(import.meta.url);" },
});

for (const [out, { imports }] of Object.entries(cliBuild.metafile.outputs))
  for (const i of imports)
    if (i.path.startsWith('../../vendor/') && !out.startsWith('dist/cli/chunks/')) throw new Error(`build: ${out} imports ${i.path}, a path only right from dist/cli/chunks/`);

// 4. CommonJS entry points: Node ≥ 20.19 (engines) loads ES modules with require(), so each .cjs
// entry is the ES module itself — one module graph, one core, for import and require alike.
for (const e of ['index', 'runtime', 'node', 'redis', 'ai', 'openai-agents', 'testing']) writeFileSync(`dist/${e}.cjs`, `'use strict';\n// require('rein${e === 'index' ? '' : '/' + e}'): the ES module, loaded by require (Node >= 20.19).\nmodule.exports = require('./${e === 'index' ? 'index.node' : e}.js');\n`);

// 5. JSON Schemas.
const { decisionJsonSchema } = await import('../dist/index.js');
writeFileSync('dist/decision.schema.json', JSON.stringify(decisionJsonSchema(), null, 2) + '\n');
const { configJsonSchema } = await import('../dist/index.js');
writeFileSync('dist/rein.schema.json', JSON.stringify(configJsonSchema(), null, 2) + '\n');
// The decision service's OpenAPI 3.1 document (`rein serve --api`), from the zod schemas that validate
// requests: built from the CLI's sources into a throwaway module.
// The control room's page (`rein serve`): one script (page code + uPlot) and one stylesheet, no CDN.
await build({
  ...common,
  splitting: false,
  metafile: false,
  entryPoints: { openapi: 'language/node/serve/openapi.ts', assets: 'language/node/serve/dashboard/assets.ts' },
  outdir: 'dist/.tmp',
  platform: 'node',
  target: 'node20',
  external: ['esbuild'],
  outExtension: { '.js': '.mjs' },
});
const { openApiDocument } = await import('../dist/.tmp/openapi.mjs');
// Compact (100 KB indented, 39 KB so): tools read it, and the package's install size is budgeted (#13).
writeFileSync('dist/openapi.json', JSON.stringify(openApiDocument()) + '\n');
{
  const { bundleDashboard } = await import('../dist/.tmp/assets.mjs');
  const { js, css } = await bundleDashboard();
  mkdirSync('dist/dashboard', { recursive: true });
  writeFileSync('dist/dashboard/app.js', js);
  writeFileSync('dist/dashboard/app.css', css);
}
rmSync('dist/.tmp', { recursive: true, force: true });

const size = (f) => statSync(f).size;
const kb = (n) => `${(n / 1024).toFixed(0)} kB`;
const libBytes = [...walk('dist/language'), ...walk('dist/vendor')].reduce((n, f) => n + size(f), 0);
console.log(`build: dist/ (library ${kb(libBytes)}), dist/cli/ (CLI), dist/types/, JSON Schemas, dist/openapi.json, dist/dashboard/`);
