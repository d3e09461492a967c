// The test helper that starts HTTP listeners on probed ports: a port taken between the probe and the
// bind must restart the listener on a fresh port, and an early exit must fail at once (not after the
// 60 s wait). A taken port failed session 5's CI run (in the Redis Cluster helper).
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { FIXTURES, env, freePort, listenOnFreePort, start } from './helpers.js';

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('test helper: listenOnFreePort', function () {
  this.timeout(60_000);

  it('starts the listener again on a fresh port when the probed one was taken', async () => {
    const taken = await freePort();
    const blocker = await occupy(taken);
    const ports: number[] = [];
    try {
      const s = await listenOnFreePort(
        (port) => {
          // The first launch binds the taken port, as if another process had won the race.
          const p = ports.length === 0 ? taken : port;
          ports.push(p);
          return start(process.execPath, [path.join(FIXTURES, 'test-server.mjs'), '--http', String(p)], { env: env() });
        },
        /test-server listening/,
        'the test server (HTTP)',
      );
      try {
        assert.equal(ports.length, 2);
        assert.notEqual(s.port, taken);
        const res = await fetch(`http://127.0.0.1:${ports[1]}/mcp`, { method: 'GET' });
        assert.ok(res.status > 0);
      } finally {
        await s.kill();
      }
    } finally {
      blocker.close();
    }
  });

  it('fails at once, with the output, when the listener exits for another reason', async () => {
    const t0 = Date.now();
    const err = await listenOnFreePort(() => start(process.execPath, ['-e', 'console.error("bad flag"); process.exit(2)']), /never/, 'a broken listener').then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(err?.message ?? 'no error', /exited before it listened:[\s\S]*bad flag/);
    assert.ok(Date.now() - t0 < 30_000, 'did not wait for the 60 s bound');
  });
});
