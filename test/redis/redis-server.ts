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
 *  `args`: extra redis-server arguments (cluster mode, replication). `clusterBus`: picks a free
 *  cluster bus port too (`--cluster-port`), kept across restarts.
 *
 *  A free port can be taken between the probe and redis-server's bind (by another listener or by an
 *  outgoing connection's local port): when redis-server exits at its first start because an address
 *  is in use, it is started again on fresh ports (the port is kept when the caller pinned it with
 *  `port`; `firstPort` is tried first and then given up like a probed one). */
export async function startRedis(opts: { appendonly?: boolean; args?: string[]; port?: number; clusterBus?: boolean; firstPort?: number } = {}): Promise<RedisProcess> {
  let port = opts.port ?? opts.firstPort ?? (await freePort());
  let bus = opts.clusterBus ? await freePort() : 0;
  const dir = mkdtempSync(join(tmpdir(), 'rein-redis-'));
  let proc: ChildProcess | undefined;
  const argv = () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
    if (opts.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    if (opts.clusterBus) args.push('--cluster-port', String(bus));
    if (opts.args) args.push(...opts.args);
    return args;
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const p = spawn('redis-server', argv(), { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      let out = '';
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`redis-server did not start in 10 s: ${out}`)), 10_000);
      p.on('error', (e) => finish(new Error(`cannot run redis-server (apt-get install redis-server): ${e.message}`)));
      // An early exit (a port taken, a bad argument) ends the wait at once, with what it printed.
      p.on('exit', (code, signal) => finish(Object.assign(new Error(`redis-server exited (${code ?? signal}) before it answered: ${out}`), { output: out })));
      const poll = async () => {
        if (settled) return;
        const { Redis } = await import('ioredis');
        // Bounded: whatever holds the port may accept and never answer.
        const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, commandTimeout: 1000, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.ping();
          c.disconnect();
          finish();
        } catch {
          c.disconnect();
          // Polling stops once the start has ended either way, so a failed start leaves no timer behind.
          if (!settled) setTimeout(poll, 50);
        }
      };
      p.stdout!.on('data', (b) => (out += b));
      p.stderr!.on('data', (b) => (out += b));
      void poll();
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
    });
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (e) {
      const output = (e as { output?: string }).output ?? '';
      if (attempt >= 8 || !/already in use/i.test(output)) {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      if (opts.port === undefined) port = await freePort();
      if (opts.clusterBus) bus = await freePort();
    }
  }
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
