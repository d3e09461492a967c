// Build the npm package (docs/package.md has the layout and the reasons):
//
//   dist/index.js, runtime.js, node.js, redis.js,   the library, ESM, every dependency but ioredis
//   chunks/*.js                                      (runtime.js: prebuilt policies, no parser)
//                                                   bundled in; shared chunks hold ONE copy of the core
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
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

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
for (const f of reached) writeFileSync(f.replace(/\.d\.ts$/, '.d.cts'), readFileSync(f, 'utf8').replace(relSpec, '$1$2.cjs$3'));

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
  // Minified (the install stays under 5 MB); keepNames keeps function and class names for stack traces
  // and error names.
  minify: true,
  keepNames: true,
};
const lib = await build({
  ...common,
  // Not keepNames here: its `__name(…)` calls are side effects, so a consumer's bundler could not drop
  // unused classes and functions (rein/runtime: 56 kB gzip with them, 41 kB without). Errors set their
  // `name` themselves; the CLI below keeps names for its stack traces.
  keepNames: false,
  entryPoints: { index: 'language/index.ts', runtime: 'language/runtime/index.ts', node: 'language/node/index.ts', redis: 'language/node/redis.ts', ai: 'language/ai/index.ts', 'openai-agents': 'language/ai/openai-agents.ts', testing: 'language/testing/index.ts' },
  outdir: 'dist',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  // esbuild: the dashboard bundles its page with it in a source checkout only (built: dist/dashboard).
  external: ['node:*', 'ioredis', 'esbuild', 'ai', '@openai/agents'],
  plugins: [lazyMain, zodEnglishOnly],
});

// 3. The CLI: Node only, so CommonJS dependencies may `require` Node's modules (the banner).
await build({
  ...common,
  entryPoints: { cli: 'cli/cli.ts' },
  outdir: 'dist/cli',
  platform: 'node',
  target: 'node20',
  // esbuild: the dashboard bundles its page with it in a source checkout only (built: dist/dashboard).
  external: ['esbuild'],
  plugins: [zodEnglishOnly],
  banner: { js: "import { createRequire as __reinRequire } from 'node:module'; const require = __reinRequire(import.meta.url);" },
});

// 4. CommonJS entry points: Node ≥ 20.19 (engines) loads ES modules with require(), so each .cjs
// entry is the ES module itself — one module graph, one core, for import and require alike.
for (const e of ['index', 'runtime', 'node', 'redis', 'ai', 'openai-agents', 'testing']) writeFileSync(`dist/${e}.cjs`, `'use strict';\n// require('rein${e === 'index' ? '' : '/' + e}'): the ES module, loaded by require (Node >= 20.19).\nmodule.exports = require('./${e}.js');\n`);

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
writeFileSync('dist/openapi.json', JSON.stringify(openApiDocument(), null, 2) + '\n');
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
const libBytes = Object.keys(lib.metafile.outputs).reduce((n, f) => n + size(f), 0);
console.log(`build: dist/ (library ${kb(libBytes)}), dist/cli/ (CLI), dist/types/, JSON Schemas, dist/openapi.json, dist/dashboard/`);
