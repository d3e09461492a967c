// Build: ESM + declarations with tsc (dist/esm), CommonJS bundles with esbuild (dist/cjs),
// and the decision JSON Schema (dist/decision.schema.json).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
mkdirSync('dist/cjs', { recursive: true });
// CommonJS: bundle ESM-only dependencies (@noble/hashes) so `require("rein")` works.
await build({
  entryPoints: { index: 'language/index.ts', ai: 'language/ai/index.ts' },
  outdir: 'dist/cjs',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  logLevel: 'warning',
});
await build({
  entryPoints: { node: 'language/node/index.ts', redis: 'language/node/redis.ts' },
  outdir: 'dist/cjs',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['ioredis', 'vscode-languageserver', 'vscode-languageserver/*', 'esbuild'],
  logLevel: 'warning',
});
// The control room's page: one script (page code + uPlot) and one stylesheet, no CDN.
{
  const { bundleDashboard } = await import('../dist/esm/language/node/serve/dashboard/assets.js');
  const { js, css } = await bundleDashboard();
  mkdirSync('dist/dashboard', { recursive: true });
  writeFileSync('dist/dashboard/app.js', js);
  writeFileSync('dist/dashboard/app.css', css);
}
const { decisionJsonSchema } = await import('../dist/esm/language/runtime/decision.js');
writeFileSync('dist/decision.schema.json', JSON.stringify(decisionJsonSchema(), null, 2) + '\n');
// The decision service's OpenAPI 3.1 document, generated from the zod schemas that validate requests.
const { openApiDocument } = await import('../dist/esm/language/node/serve/openapi.js');
writeFileSync('dist/openapi.json', JSON.stringify(openApiDocument(), null, 2) + '\n');
console.log('build: dist/esm, dist/cjs, dist/dashboard, dist/decision.schema.json, dist/openapi.json');
