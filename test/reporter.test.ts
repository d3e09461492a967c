// test/reporter.cjs: a run that ends with a handle still open (here a timer) exits after the grace
// period with the run's status and names what held it, instead of sitting until CI's time limit.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MOCHA = path.join(ROOT, 'node_modules/mocha/bin/mocha.js');

function runLeaky(fail: boolean): Promise<{ code: number | null; out: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [MOCHA, '--no-config', '--node-option', 'import=tsx', '--reporter', './test/reporter.cjs', 'test/fixtures/reporter/leaky.fixture.ts'], {
      cwd: ROOT,
      env: { ...process.env, REIN_TEST_EXIT_GRACE_MS: '500', REIN_FIXTURE_FAIL: fail ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout!.on('data', (b) => (out += b));
    p.stderr!.on('data', (b) => (out += b));
    const kill = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, out, ms: Date.now() - t0 });
    });
  });
}

describe('test reporter: a leaked handle after the run', function () {
  this.timeout(90_000);

  it('exits 0 after the grace period when every test passed, naming what held the process', async () => {
    const r = await runLeaky(false);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /1 passed, 0 failed/);
    assert.match(r.out, /still held open by: .*Timeout/);
  });

  it('exits 1 when a test failed', async () => {
    const r = await runLeaky(true);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /0 passed, 1 failed/);
    assert.match(r.out, /still held open by/);
  });
});
