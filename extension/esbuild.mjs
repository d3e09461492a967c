// One esbuild script bundles the client and the language server (cjs, platform node, `vscode`
// external). `--production` minifies and drops source maps. Type-checking is separate (`tsc --noEmit`).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

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
};
await Promise.all([
  build({ ...common, entryPoints: [join(here, 'src/extension.ts')], outfile: join(here, 'dist/extension.js') }),
  build({ ...common, entryPoints: [join(here, 'src/server-main.ts')], outfile: join(here, 'dist/server.js') }),
]);
console.log(`extension: bundled dist/extension.js and dist/server.js${production ? ' (production)' : ''}`);
