// Starts a throwaway redis-server (Debian package) on a free loopback port for the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisProcess {
  port: number;
  url: string;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
  /** Sends a signal to the running redis-server (SIGSTOP/SIGCONT to freeze it, SIGKILL to lose replies). */
  signal(sig: NodeJS.Signals): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** `appendonly: true` turns on the AOF with fsync always, so a restart keeps every acknowledged write.
 *  `args`: extra redis-server arguments (cluster mode, replication). */
export async function startRedis(opts: { appendonly?: boolean; args?: string[]; port?: number } = {}): Promise<RedisProcess> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'rein-redis-'));
  let proc: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
  if (opts.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  else args.push('--appendonly', 'no');
  if (opts.args) args.push(...opts.args);

  const start = () =>
    new Promise<void>((resolve, reject) => {
      proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run redis-server (apt-get install redis-server): ${e.message}`));
      });
      const poll = async () => {
        const { Redis } = await import('ioredis');
        const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.ping();
          c.disconnect();
          clearTimeout(timer);
          resolve();
        } catch {
          c.disconnect();
          setTimeout(poll, 50);
        }
      };
      proc.stdout!.on('data', (b) => (out += b));
      proc.stderr!.on('data', (b) => (out += b));
      void poll();
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
    });
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    start,
    stop,
    signal(sig) {
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether Debian's redis-server is installed. Tests skip without it locally, and fail under CI. */
export function requireRedis(ctx: Mocha.Context): void {
  const found = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'redis-server')));
  if (found) return;
  if (process.env.CI) throw new Error('redis-server is not installed (apt-get install redis-server): .ci/run installs it');
  console.warn('    (skipped: redis-server is not installed — apt-get install redis-server)');
  ctx.skip();
}

/** Registers `before`/`after` hooks in the calling `describe`: one redis-server for the suite (skipped
 *  locally without redis-server, an error under CI — see requireRedis), destroyed after it. The
 *  returned object is filled in by `before`. */
export function useRedis(opts: Parameters<typeof startRedis>[0] = {}): RedisProcess {
  const redis = {} as RedisProcess;
  let started: RedisProcess | undefined;
  before(async function () {
    requireRedis(this);
    started = await startRedis(opts);
    Object.assign(redis, started);
  });
  after(async () => {
    await started?.destroy();
  });
  return redis;
}

/** Runs a worker script (`test/redis/*.ts`, through tsx) with `env`; resolves to the JSON of the last line
 *  it prints. Bounded: a stuck worker is killed and the call rejects with what it printed. */
export function runWorker<T>(script: string, env: Record<string, string>, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (b) => (out += b));
    p.stderr!.on('data', (b) => (err += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`worker exited ${code ?? signal}: ${out} ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch {
        reject(new Error(`worker printed ${out} ${err}`));
      }
    });
  });
}
