// The test helper that starts redis-server: a port taken between the probe and the bind must not fail
// (or hang) a suite. Session 5's CI run failed on exactly that: a Redis Cluster node's bus port was
// taken, the start timed out after 10 s, and its poll timer kept mocha alive until CI's time limit.
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, requireRedis, startRedis } from './redis-server.js';

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Accepts and drops connections, so nothing it holds keeps the test process alive.
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('test helper: startRedis', function () {
  this.timeout(30_000);
  before(function () {
    requireRedis(this);
  });

  it('starts again on a fresh port when the first one is taken', async () => {
    const taken = await freePort();
    const blocker = await occupy(taken);
    try {
      const r = await startRedis({ firstPort: taken });
      try {
        assert.notEqual(r.port, taken);
        const c = new Redis({ host: '127.0.0.1', port: r.port, lazyConnect: true });
        await c.connect();
        assert.equal(await c.ping(), 'PONG');
        c.disconnect();
      } finally {
        await r.destroy();
      }
    } finally {
      blocker.close();
    }
  });

  it('fails at once on a pinned port that is taken, and leaves no timer behind', async () => {
    const taken = await freePort();
    const blocker = await occupy(taken);
    try {
      const before = timeouts();
      const t0 = Date.now();
      const err = await startRedis({ port: taken }).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.match(err?.message ?? 'no error', /already in use/);
      assert.ok(Date.now() - t0 < 9_000, 'the failed start ended early, not at the 10 s timeout');
      await new Promise((r) => setTimeout(r, 2_500)); // past the poll's 1 s connect and command bounds
      assert.ok(timeouts() <= before, `timers left behind: ${timeouts()} > ${before}`);
    } finally {
      blocker.close();
    }
  });

  it('picks a free cluster bus port for a cluster node and keeps it across a restart', async () => {
    const r = await startRedis({ clusterBus: true, args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] });
    try {
      await r.stop();
      await r.start();
      const c = new Redis({ host: '127.0.0.1', port: r.port, lazyConnect: true });
      await c.connect();
      assert.match(String(await c.cluster('INFO')), /cluster_state/);
      c.disconnect();
    } finally {
      await r.destroy();
    }
  });
});
