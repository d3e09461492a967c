// A Python agent with only the standard library (docs/clients/rein_client.py, urllib.request)
// decides, settles and reads metrics from a real `rein serve` process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AGENT, ROOT, spawnServe } from './helpers.js';

function havePython(ctx: Mocha.Context): void {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return;
  if (process.env.CI) throw new Error('python3 is not installed: .ci/run installs it');
  console.warn('    (skipped: python3 is not installed)');
  ctx.skip();
}

describe('a Python client (standard library only)', function () {
  this.timeout(90_000);
  before(function () {
    havePython(this);
  });

  it('decides, settles and reads metrics through urllib.request', async () => {
    const srv = await spawnServe(['--api', '--policy', AGENT, '--listen', '127.0.0.1:0'], { REIN_API_TOKEN: 'py-token' });
    try {
      const r = spawnSync('python3', [join(ROOT, 'test/serve/client_check.py'), srv.url, 'py-token'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.ready, true);
      assert.equal(out.first, 'allow');
      assert.equal(out.reservation, true);
      assert.equal(out.second_before_settle, 'deny', '0.60 reserved + 0.60 > $1');
      assert.equal(out.second_after_settle, 'allow', 'settled at 0.05');
      assert.equal(out.spent_after_settle, '0.050000');
      assert.equal(out.double_settle, 'already_settled');
      assert.equal(out.deny_reason, 'tool db.drop is blocked');
      assert.equal(out.wrong_token, 401);
      assert.equal(out.metrics_allow.length, 1);
      assert.match(out.metrics_allow[0], / 2$/);
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });
});
