// Starts a throwaway Sentinel deployment for the tests: a primary, one replica and `sentinels`
// sentinels (Debian's redis-server in `--sentinel` mode), all on free loopback ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, type RedisProcess } from './redis-server.js';

export interface SentinelGroup {
  /** The name the sentinels monitor. */
  name: string;
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: { host: string; port: number }[];
  /** The port of the node the sentinels name as primary now. */
  currentPrimaryPort(): Promise<number>;
  destroy(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`sentinel group: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function ask<T>(port: number, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await f(r);
  } finally {
    r.disconnect();
  }
}

export async function startSentinelGroup(opts: { sentinels?: number; quorum?: number; downAfterMs?: number } = {}): Promise<SentinelGroup> {
  const name = 'rein';
  const count = opts.sentinels ?? 3;
  const quorum = opts.quorum ?? 2;
  const downAfter = opts.downAfterMs ?? 1000;
  const started: { stop(): Promise<void> }[] = [];
  const dirs: string[] = [];
  try {
    // AOF with fsync always on the primary; the replica keeps its own copy by replication.
    const primary = await startRedis({ appendonly: true });
    started.push({ stop: () => primary.destroy() });
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    started.push({ stop: () => replica.destroy() });
    await until('the replica did not sync', 15_000, async () => /master_link_status:up/.test(await ask(replica.port, (r) => r.info('replication'))));
    const sentinels: { host: string; port: number }[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'rein-sentinel-'));
      dirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      // The config file must be writable: sentinels record what they learn in it.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${downAfter}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const proc: ChildProcess = spawn('redis-server', [conf, '--sentinel', '--loglevel', 'warning'], { stdio: 'ignore' });
      started.push({
        stop: () =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
            proc.once('exit', () => resolve());
            proc.kill('SIGTERM');
          }),
      });
      sentinels.push({ host: '127.0.0.1', port });
    }
    // Every sentinel sees the replica and the other sentinels (a failover needs a majority of them).
    for (const s of sentinels) {
      await until('a sentinel did not discover the group', 20_000, () =>
        ask(s.port, async (r) => {
          const replicas = (await r.call('SENTINEL', 'REPLICAS', name)) as unknown[];
          const others = (await r.call('SENTINEL', 'SENTINELS', name)) as unknown[];
          return replicas.length === 1 && others.length === count - 1;
        }),
      );
    }
    return {
      name,
      primary,
      replica,
      sentinels,
      async currentPrimaryPort() {
        for (const s of sentinels) {
          try {
            const [, port] = (await ask(s.port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))) as [string, string];
            return Number(port);
          } catch {
            /* ask the next */
          }
        }
        throw new Error('no sentinel answered');
      },
      async destroy() {
        for (const p of started.reverse()) await p.stop();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const p of started.reverse()) await p.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}
