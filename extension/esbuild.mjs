// One esbuild script bundles the client and the language server (cjs, platform node, `vscode`
// external). `--production` minifies and drops source maps. Type-checking is separate (`tsc --noEmit`).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { rmSync, mkdirSync, cpSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  external: ['vscode'],
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  absWorkingDir: here,
  // The core is ESM TypeScript with `.js` import suffixes.
  resolveExtensions: ['.ts', '.js', '.mjs', '.json'],
  // The core and server are ESM; in a CommonJS bundle `import.meta.url` is the bundle's own file URL.
  define: { 'import.meta.url': '__rein_import_meta_url' },
  banner: { js: "const __rein_import_meta_url = require('url').pathToFileURL(__filename).href;" },
};
rmSync(join(here, 'dist'), { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: [join(here, 'src/extension.ts')], outfile: join(here, 'dist/extension.js') }),
  build({ ...common, entryPoints: [join(here, 'src/server-main.ts')], outfile: join(here, 'dist/server.js') }),
]);
// Diagnostic links (codeDescription) point at this copy of the diagnostics reference.
mkdirSync(join(here, 'docs'), { recursive: true });
cpSync(join(here, '..', 'docs', 'diagnostics.md'), join(here, 'docs', 'diagnostics.md'));
cpSync(join(here, '..', 'docs', 'rules'), join(here, 'docs', 'rules'), { recursive: true });
console.log(`extension: bundled dist/extension.js and dist/server.js${production ? ' (production)' : ''}`);
