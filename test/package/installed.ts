// The package as a user gets it, shared by the tests of test/package/: `npm pack`, then
// `npm install rein-x.y.z.tgz` in a fresh project (once per mocha run; removed when the run exits).
// Needs `npm run build` (CI builds before `npm test`): `built` says whether dist/ is there.
import { strict as assert } from 'node:assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = process.cwd();
export const built = existsSync(join(root, 'dist/index.js')) && existsSync(join(root, 'dist/cli/cli.js'));

export function run(cmd: string, args: string[], cwd: string, input?: string): SpawnSyncReturns<string> {
  // Outside the repository's npm run: no npm_* variables that would point npm at this project.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config_(user_agent|prefix|global)|package_|lifecycle_|execpath|node_execpath|command)/.test(k) && k !== 'INIT_CWD'));
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', input, env: { ...env, NO_COLOR: '1' }, timeout: 120_000 });
}

export function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export interface Installed {
  /** The temporary folder: the tarball and the projects. */
  dir: string;
  /** A fresh project (`{ "name": "app" }`) with the tarball installed in node_modules/rein. */
  app: string;
}

let installed: Installed | undefined;

/** Packs the built package and installs it in a fresh project, once; later calls return the same. */
export function installPackage(): Installed {
  if (installed) return installed;
  const dir = mkdtempSync(join(tmpdir(), 'rein-consumer-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const packed = ok(run('npm', ['pack', '--json', '--pack-destination', dir], root), 'npm pack');
  const tgz = join(dir, (JSON.parse(packed) as { filename: string }[])[0].filename);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }, null, 2));
  ok(run('npm', ['install', tgz, '--no-audit', '--no-fund', '--offline', '--ignore-scripts'], app), 'npm install');
  installed = { dir, app };
  return installed;
}

/** In a `before` hook: skips the suite locally when dist/ is missing, fails under CI. */
export function requireBuilt(ctx: Mocha.Context): void {
  if (built) return;
  if (process.env.CI) assert.fail('dist/ is missing: CI must run `npm run build` before `npm test`');
  console.warn('    (skipped: dist/ is missing — run `npm run build` first)');
  ctx.skip();
}
