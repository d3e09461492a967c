// `rein init [DIR] [--template T]`: a policy set to start from (the package's templates/ folder),
// rein.json and a GitHub Actions workflow. Never overwrites a file without --force.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { EXIT, type Ctx } from '../context.js';
import { LoadError, UsageError, ioReason } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { REIN_VERSION, moduleDir } from '../../language/node/version.js';
import { mkdirs } from '../../language/node/mkdirs.js';

/** The package's templates/ folder (sources and installed package alike). */
export function templatesDir(): string {
  let dir = moduleDir() ?? process.cwd();
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'templates', 'basic')) && existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'templates');
    dir = path.dirname(dir);
  }
  throw new LoadError('cannot find the templates folder of the rein package');
}

export function workflow(version: string): string {
  return `# Policy checks for Rein (written by \`rein init\`): annotations on the pull request for every
# diagnostic, and a JUnit report of the policy tests.
name: rein
on:
  push:
  pull_request:
jobs:
  policies:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
      # With rein in your package.json, use \`npm ci\` instead.
      - run: npm install --no-save --no-audit --no-fund rein@${version}
      - run: npx rein check policies --format github
      - run: npx rein test policies --format junit > rein-tests.xml
      - if: always()
        uses: actions/upload-artifact@v4
        with:
          name: rein-tests
          path: rein-tests.xml
`;
}

/**
 * Where rein.json's `$schema` points, seen from DIR: the schema of the rein installed in DIR or the
 * nearest folder above it (`./node_modules/…`, `../node_modules/…`: what Node resolves and editors
 * read offline), else the published schema of this version (rein run by npx or installed globally).
 */
export function schemaRef(root: string): string {
  for (let dir = root, i = 0; i < 64; i++) {
    const file = path.join(dir, 'node_modules', 'rein', 'dist', 'rein.schema.json');
    if (existsSync(file)) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      return rel.startsWith('.') ? rel : './' + rel;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return `https://unpkg.com/rein@${REIN_VERSION}/dist/rein.schema.json`;
}

export function reinJson(root: string): string {
  return (
    JSON.stringify(
      {
        $schema: schemaRef(root),
        lint: { 'unused-declaration': 'warning', 'deny-without-message': 'error' },
      },
      null,
      2,
    ) + '\n'
  );
}

export default async function cmdInit(ctx: Ctx, positionals: string[], opts: Options<'init'>): Promise<number> {
  if (positionals.length > 1) throw new UsageError(`unexpected argument \`${positionals[1]}\` (one DIR at most)`, 'init');
  const root = ctx.resolve(positionals[0] ?? '.');
  const src = path.join(templatesDir(), opts.template);
  const files = new Map<string, string>();
  for (const f of readdirSync(src).filter((f) => f.endsWith('.rein')).sort()) files.set(path.join('policies', f), readFileSync(path.join(src, f), 'utf8'));
  files.set('rein.json', reinJson(root));
  files.set(path.join('.github', 'workflows', 'rein.yml'), workflow(REIN_VERSION));

  const existing = [...files.keys()].filter((f) => existsSync(path.join(root, f)));
  if (existing.length > 0 && !opts.force) {
    throw new UsageError(`${existing.map((f) => ctx.display(path.join(root, f))).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing written (--force overwrites)`, 'init');
  }
  for (const [rel, text] of files) {
    const abs = path.join(root, rel);
    try {
      mkdirs(path.dirname(abs));
      writeFileSync(abs, text);
    } catch (e) {
      throw new LoadError(`cannot write ${ctx.display(abs)}: ${ioReason(e)}`);
    }
    if (opts.format === 'text') ctx.out(`  wrote ${ctx.display(abs)}\n`);
  }
  if (opts.format === 'json') {
    ctx.out(JSON.stringify({ dir: ctx.display(root), template: opts.template, files: [...files.keys()].map((f) => ctx.display(path.join(root, f))) }, null, 2) + '\n');
    return EXIT.ok;
  }
  const at = (p: string) => ctx.display(path.join(root, p));
  ctx.out(
    `\nPolicy set from the ${opts.template} template. Next:\n` +
      `  rein check ${at('policies')}          # parse, type-check, lint\n` +
      `  rein test ${at('policies')}           # run its tests\n` +
      `  rein eval ${at('policies')} --input request.json   # a request of your agent, as JSON\n`,
  );
  return EXIT.ok;
}
