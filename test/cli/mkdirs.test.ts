// `mkdirs` (language/node/mkdirs.ts): `mkdir -p` that fails fast. Regression: `rein build|doc|report
// -o /proc/nope/x` spun forever at full CPU (Node 20's recursive mkdir loops under /proc).
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { mkdirs } from '../../language/node/mkdirs.js';
import { runMain } from './helpers.js';

describe('mkdirs and `-o` into a folder that cannot be made', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rein-mkdirs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes missing parents (with a mode), accepts an existing folder, refuses a file in the way', () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    mkdirs(deep, 0o700);
    assert.ok(statSync(deep).isDirectory());
    assert.equal(statSync(path.join(dir, 'a')).mode & 0o777, 0o700);
    mkdirs(deep);
    writeFileSync(path.join(dir, 'file'), 'x');
    assert.throws(() => mkdirs(path.join(dir, 'file', 'sub')), { code: 'ENOTDIR' });
  });

  it('fails at once where the file system refuses (under /proc), for build and doc', async function () {
    if (!existsSync('/proc/self')) this.skip(); // Linux only
    assert.throws(() => mkdirs('/proc/rein-nope/x'), { code: 'ENOENT' });
    const build = await runMain(['build', 'valid', '-o', '/proc/rein-nope/x.json']);
    assert.equal(build.code, 2, build.stderr);
    assert.match(build.stderr, /cannot write `\/proc\/rein-nope\/x\.json`/);
    const doc = await runMain(['doc', 'valid', '-o', '/proc/rein-nope/d.md']);
    assert.equal(doc.code, 2, doc.stderr);
  });
});
