// Settle and release by reservation id from a process that did not make the reservation: one worker
// process reserves and exits, this process settles, releases and tombstones by id. A single node and a
// real Redis Cluster (3 primaries: the counters of one reservation on three slots).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import type { ReserveRequest } from '../../language/runtime/store.js';
import { requireRedis, useRedis } from './redis-server.js';
import { keysOnDistinctSlots, requireRedisCli, startCluster, type RedisCluster } from './redis-cluster.js';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const MIN = 60_000;

function reserveInWorker(env: Record<string, string>, requests: ReserveRequest[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/redis/reserve-worker.ts'], { env: { ...process.env, ...env, REIN_REQUESTS: JSON.stringify(requests) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`worker exited ${code ?? signal}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as string[]);
    });
  });
}

/** The scenario, the same on one node and on a cluster. `keys`: three counters (on three slots). */
async function scenario(env: Record<string, string>, store: RedisBudgetStore, keys: string[], tag: string): Promise<void> {
  const [a, b, c] = keys.map((k) => `${tag}${k}`) as [string, string, string];
  const items = [a, b, c].map((counterKey, i) => ({ counterKey, limit: 1_000_000, charge: i + 1, expiresAt: T0 + 24 * 60 * MIN, enforce: true }));
  const ids = Array.from({ length: 60 }, (_, i) => `${tag}r${i}`);
  const early = `${tag}early`;
  // released here before the worker reserves it: the worker's reserve must commit nothing
  assert.deepEqual(await store.release(early, T0), { found: false });
  const requests: ReserveRequest[] = [...ids, early].map((reservationId) => ({ reservationId, now: T0, ttlMs: 15 * MIN, commit: true, items }));
  const outcomes = await reserveInWorker(env, requests);
  assert.deepEqual(outcomes.slice(0, 60), ids.map(() => 'committed'));
  assert.match(outcomes[60]!, /rejected: .*released before it reached Redis/);
  assert.deepEqual(await store.peek([a, b, c], T0), [{ spent: 0, reserved: 60 }, { spent: 0, reserved: 120 }, { spent: 0, reserved: 180 }]);
  // the worker has exited: this process settles half (a's actual 5; b and c keep their estimates) and releases half
  const settled = await Promise.all(ids.slice(0, 30).map((id) => store.settle(id, [{ counterKey: a, amount: 5 }], T0 + 1)));
  const released = await Promise.all(ids.slice(30).map((id) => store.release(id, T0 + 1)));
  assert.ok(settled.every((r) => r.found) && released.every((r) => r.found), JSON.stringify({ settled, released }));
  assert.deepEqual(await store.peek([a, b, c], T0 + 2), [{ spent: 150, reserved: 0 }, { spent: 60, reserved: 0 }, { spent: 90, reserved: 0 }]);
  // once only, from anywhere
  assert.deepEqual(await store.settle(ids[0]!, [{ counterKey: a, amount: 1 }], T0 + 3), { found: false });
  assert.deepEqual(await store.release(ids[31]!, T0 + 3), { found: false });
  assert.deepEqual(await store.release(early, T0 + 3), { found: false });
  assert.deepEqual(await store.peek([a, b, c], T0 + 3), [{ spent: 150, reserved: 0 }, { spent: 60, reserved: 0 }, { spent: 90, reserved: 0 }]);
  assert.equal(store.unconfirmedReleases, 0);
}

describe('settle and release from any process, single node (real redis-server)', function () {
  this.timeout(60_000);
  const redis = useRedis();
  let store: RedisBudgetStore | undefined;
  before(async () => {
    store = new RedisBudgetStore({ url: redis.url, prefix: 'sa:' });
    await store.ready();
  });
  after(async () => store?.close());

  it('a reservation made by another process is settled and released here by id; a release before its reserve wins', async () => {
    await scenario({ REIN_REDIS_URL: redis.url, REIN_PREFIX: 'sa:' }, store!, ['x', 'y', 'z'], 'one-');
  });
});

describe('settle and release from any process, Redis Cluster (real 3 primaries)', function () {
  this.timeout(90_000);
  let cluster: RedisCluster | undefined;
  let store: RedisBudgetStore | undefined;
  before(async function () {
    requireRedis(this);
    requireRedisCli(this);
    cluster = await startCluster({ masters: 3, replicas: 0 });
    store = new RedisBudgetStore({ nodes: cluster.seeds, prefix: 'sa:' });
    await store.ready(10_000);
  });
  after(async () => {
    await store?.close();
    await cluster?.destroy();
  });

  it('a reservation over three slots made by another process is settled and released here by id; a release before its reserve wins', async () => {
    const tag = 'cl-';
    const keys = keysOnDistinctSlots(`sa:`, 3, tag);
    await scenario({ REIN_CLUSTER_NODES: JSON.stringify(cluster!.seeds), REIN_PREFIX: 'sa:' }, store!, keys, tag);
    // settled and released reservations leave no directory entry behind: only the tombstones of the two
    // releases of ids unknown at the time (the early one, and r31 released a second time)
    let entries: string[] = [];
    for (const n of cluster!.nodes) {
      const r = new Redis({ host: '127.0.0.1', port: n.port });
      try {
        entries = entries.concat(await r.keys('sa:d:*'));
      } finally {
        r.disconnect();
      }
    }
    // the directory entries are deleted without waiting: give them a moment
    for (let i = 0; i < 50 && entries.length > 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      entries = [];
      for (const n of cluster!.nodes) {
        const r = new Redis({ host: '127.0.0.1', port: n.port });
        try {
          entries = entries.concat(await r.keys('sa:d:*'));
        } finally {
          r.disconnect();
        }
      }
    }
    assert.deepEqual(entries.sort(), [`sa:d:{${tag}early}`, `sa:d:{${tag}r31}`]);
  });
});
