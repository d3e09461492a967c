// `--watch` for check and test: the real process re-runs after a file changes and prints a summary
// line per run; it is killed in `after`, and every wait is bounded.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIXTURES } from './helpers.js';
import { makeCtx } from '../../cli/context.js';
import { watchLoop } from '../../cli/watch.js';

function waitFor(get: () => string, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (re.test(get())) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${re}: ${get()}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

describe('--watch', function () {
  this.timeout(90_000);
  let dir: string;
  const procs: ChildProcess[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-watch-'));
    cpSync(path.join(FIXTURES, 'valid'), path.join(dir, 'valid'), { recursive: true });
  });
  after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  for (const cmd of ['check', 'test']) {
    it(`rein ${cmd} --watch re-runs when a .rein file changes, with a summary line per run`, async () => {
      const p = spawn(process.execPath, [path.resolve('bin/rein.js'), cmd, 'valid', '--watch'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      procs.push(p);
      let out = '';
      let err = '';
      p.stdout!.on('data', (b) => (out += b));
      p.stderr!.on('data', (b) => (err += b));
      await waitFor(() => err, /rein \w+: exit 0; watching valid for changes/, 60_000);
      // a syntax error: the next run fails with exit 1
      appendFileSync(path.join(dir, 'valid', 'tools.rein'), `\nrule broken_${cmd} {\n`);
      await waitFor(() => err, /exit 1; watching/, 20_000);
      assert.match(out + err, /REIN1\d\d/);
      p.kill('SIGINT');
      await new Promise((r) => p.once('exit', r));
      // repair for the next command's run
      cpSync(path.join(FIXTURES, 'valid'), path.join(dir, 'valid'), { recursive: true });
    });
  }

  it('a change made during the first run re-runs (the watchers exist before it)', async () => {
    const ctx = makeCtx({ stdout: { write: () => undefined }, stderr: { write: () => undefined }, stdin: (async function* () {})(), env: { NO_COLOR: '1' }, cwd: dir, isTTY: false });
    const stop = new AbortController();
    const bound = setTimeout(() => stop.abort(), 20_000);
    let runs = 0;
    try {
      await watchLoop(ctx, ['valid'], 'check', async () => {
        runs++;
        if (runs === 1) appendFileSync(path.join(dir, 'valid', 'tools.rein'), '\n// touched during the first run\n');
        else stop.abort();
        return 0;
      }, stop.signal);
    } finally {
      clearTimeout(bound);
      cpSync(path.join(FIXTURES, 'valid'), path.join(dir, 'valid'), { recursive: true });
    }
    assert.equal(runs, 2, 'the change during the first run was missed');
  });

  it('clears the screen before each run on a terminal only; ends with the last run\'s exit code', async () => {
    for (const isTTY of [true, false]) {
      let out = '';
      let err = '';
      const ctx = makeCtx({ stdout: { write: (x: string) => (out += x) }, stderr: { write: (x: string) => (err += x) }, stdin: (async function* () {})(), env: { NO_COLOR: '1' }, cwd: dir, isTTY });
      const stop = new AbortController();
      const code = await watchLoop(ctx, ['valid'], 'check', async () => {
        ctx.out('ran\n');
        setImmediate(() => stop.abort());
        return 3;
      }, stop.signal);
      assert.equal(code, 3);
      assert.equal(out, isTTY ? '\x1b[2J\x1b[Hran\n' : 'ran\n', `isTTY ${isTTY}`);
      assert.match(err, /^\[\d\d:\d\d:\d\d\] rein check: exit 3; watching valid for changes \(Ctrl-C to stop\)\n$/);
    }
  });
});
