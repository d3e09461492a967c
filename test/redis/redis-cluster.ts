// Starts a throwaway Redis Cluster (Debian redis-server + redis-cli) on free loopback ports for the
// tests: `masters` primaries with `replicas` replicas each, created with `redis-cli --cluster create`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { requireRedis, startRedis, type RedisProcess } from './redis-server.js';

const run = promisify(execFile);

export interface RedisCluster {
  nodes: RedisProcess[];
  /** Seed nodes for an ioredis Cluster. */
  seeds: { host: string; port: number }[];
  /** The node currently serving `slot` as a primary. */
  primaryFor(slot: number): Promise<RedisProcess>;
  /** Resolves when every slot is served and every node reports cluster_state:ok (bounded). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

export async function startCluster(opts: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicas ?? 1;
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      nodes.push(
        await startRedis({
          appendonly: true,
          clusterBus: true,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 3000), '--cluster-replica-validity-factor', '0', '--appendfsync', 'everysec', ...(process.env.REIN_CLUSTER_LOG ? ['--loglevel', 'notice', '--logfile', 'redis.log'] : [])],
        }),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
  } catch (e) {
    for (const n of nodes) await n.destroy();
    throw e;
  }
  const c: RedisCluster = {
    nodes,
    seeds: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    async primaryFor(slot) {
      const { Redis } = await import('ioredis');
      for (const n of nodes) {
        const r = new Redis({ host: '127.0.0.1', port: n.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
        r.on('error', () => undefined);
        try {
          await r.connect();
          const list = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number, string]][];
          for (const [from, to, [, port]] of list) if (slot >= from && slot <= to) return nodes.find((x) => x.port === port)!;
        } catch {
          /* a dead node: ask the next */
        } finally {
          r.disconnect();
        }
      }
      throw new Error(`no node serves slot ${slot}`);
    },
    async waitHealthy(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        let healthy = true;
        for (const n of nodes) {
          try {
            const info = await cli(n.port, 'cluster', 'info');
            if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) healthy = false;
          } catch {
            /* a stopped node does not count */
          }
        }
        if (healthy) return;
        if (Date.now() > until) throw new Error('the cluster did not become healthy');
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async destroy() {
      for (const n of nodes) await n.destroy();
    },
  };
  await c.waitHealthy();
  return c;
}

/** Whether redis-cli is installed too (Debian: redis-tools, a dependency of redis-server). */
export function requireRedisCli(ctx: Mocha.Context): void {
  const found = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'redis-cli')));
  if (found) return;
  if (process.env.CI) throw new Error('redis-cli is not installed (apt-get install redis-tools): .ci/run installs it');
  console.warn('    (skipped: redis-cli is not installed — apt-get install redis-tools)');
  ctx.skip();
}

/** `n` counter keys (`tag` + k<i>) whose hash slots are served by different primaries of a 3-primary
 *  cluster made by redis-cli (each primary serves a third of the slots), by the store's hash tags. */
export function keysOnDistinctSlots(prefix: string, n: number, tag = ''): string[] {
  const out: string[] = [];
  const ranges = new Set<number>();
  for (let i = 0; out.length < n && i < 1000; i++) {
    const k = `k${i}`;
    const third = Math.floor(calculateSlot(`${prefix}{${tag}${k}}c`) / 5462);
    if (!ranges.has(third)) {
      ranges.add(third);
      out.push(k);
    }
  }
  return out;
}

/** Registers `before`/`after` hooks in the calling `describe`: one cluster for the suite (skipped locally
 *  without redis-server or redis-cli, an error under CI), destroyed after it. Filled in by `before`. */
export function useCluster(opts: Parameters<typeof startCluster>[0] = {}): RedisCluster {
  const cluster = {} as RedisCluster;
  let started: RedisCluster | undefined;
  before(async function () {
    requireRedis(this);
    requireRedisCli(this);
    this.timeout(60_000);
    started = await startCluster(opts);
    Object.assign(cluster, started);
  });
  after(async () => {
    await started?.destroy();
  });
  return cluster;
}
