// The latency `rein mcp` adds to a tools/call, and the throughput of a fleet of remote gateways.
//
//   npm run bench:mcp                         (uses dist/ when built: `npm run build` first for real numbers)
//   BENCH_CALLS=10000 BENCH_SECONDS=5 npm run bench:mcp
//   BENCH_WARMUP=20000 …                      warm-up calls per connection before timing (default 10000)
//   BENCH_BASE=/tmp/base npm run bench:mcp    A/B: stdio only, this tree against another built checkout
//                                             (git worktree add /tmp/base <commit>; link node_modules; npm run build there)
//   BENCH_BYTES=100000 …                      echo messages of that many characters (a large result)
//   BENCH_AUDIT=1 …                           A/B with --audit (every decision hash-chained to a file)
//   BENCH_ONLY=stdio|http|fleet …             one part only
//   BENCH_FLEET_WARMUP=2000 …                 fleet: warm-up calls per server before timing (at least BENCH_SECONDS, at most 90 s)
//   BENCH_FLEET_MEMORY=1 …                    fleet: replicas with the memory store instead of --redis (for
//                                             comparison only: ceilings are then per replica)
//   BENCH_GC=1 …                              stdio: also count the gateway's garbage collections in the timed calls
//                                             (bench/gc-log.mjs preloaded into the gateway process)
//
// 1. stdio: the SDK's Client calls `echo` on a small SDK server (test/fixtures/mcp/test-server.mjs)
//    directly and through `rein mcp` (memory store, the policy test/fixtures/mcp/everything: a call
//    rule and a result rule). Both connections are open at once; after a warm-up long enough for the
//    JIT to tier up on both paths (a gateway runs for hours), the calls ALTERNATE between them, one
//    at a time, so load from elsewhere on the machine hits both alike. Reported: p50/p99 per call of
//    each, the difference (the overhead), and the gateway process's CPU time per call (/proc).
// 2. Streamable HTTP: the same against the server in HTTP mode, directly and through `--listen`.
// 3. Fleet: 4 `--listen` replicas sharing one redis-server (a per-session call budget, so every call
//    makes a Redis round trip), BENCH_CLIENTS clients spread over them calling for BENCH_SECONDS
//    after a warm-up as long; calls per second, against the same clients calling the upstream
//    directly, and the CPU time per call of every process.
//
// The SDK's HTTP client is given `abortIsolatingFetch()` (language/node/mcp/isolating-fetch.ts):
// with Node's own fetch, every request of a session adds an abort listener to the transport's one
// AbortSignal, and Node prints MaxListenersExceededWarning after ~1,500 calls (docs/mcp.md).
//
// Everything runs on this machine: the client, the gateway and the server share its cores, so the
// ratios matter more than the absolute numbers.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { abortIsolatingFetch } from '../language/node/mcp/isolating-fetch.js';
import { env, freePort, start, waitFor } from '../test/mcp/helpers.js';
import { startRedis } from '../test/redis/redis-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/rein.js');
const SERVER = path.join(ROOT, 'test/fixtures/mcp/test-server.mjs');
const POLICY = path.join(ROOT, 'test/fixtures/mcp/everything');
const CALLS = Number(process.env.BENCH_CALLS ?? 5000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const ONLY = process.env.BENCH_ONLY;
const REPLICAS = 4;
/** Fleet warm-up: calls per server (each replica, or the upstream when called directly). */
const FLEET_WARMUP = Number(process.env.BENCH_FLEET_WARMUP ?? 2000);
/** BENCH_BYTES: pad every echoed message to about this many characters (a large tool result both ways). */
const PAD = 'x'.repeat(Number(process.env.BENCH_BYTES ?? 0));
const useDist = existsSync(path.join(ROOT, 'dist/cli/cli.js'));
const runEnv = env(useDist ? { REIN_USE_DIST: '1' } : {});

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const f3 = (x: number) => x.toFixed(3).padStart(8);

/**
 * Warm every connection up (interleaved, WARMUP calls each), then time CALLS calls on each, one at a
 * time, alternating between the connections call by call (the order rotates each turn). Returns the
 * sorted latencies (ms) of each connection and the CPU time per timed call (µs) of each pid given.
 */
async function interleaved(
  clients: Client[],
  pidsToWatch: (number | undefined)[],
  window: { from: number; to: number } = { from: 0, to: 0 },
): Promise<{ lat: number[][]; paired: number[][]; cpuUs: number[] }> {
  const call = (c: Client, msg: string) => c.callTool({ name: 'echo', arguments: { message: msg } });
  for (let i = 0; i < WARMUP; i++) for (const c of clients) await call(c, `warm ${i}`);
  const lat: number[][] = clients.map(() => []);
  const cpu0 = pidsToWatch.map(cpuMs);
  window.from = Date.now();
  for (let i = 0; i < CALLS; i++) {
    for (let k = 0; k < clients.length; k++) {
      const j = (i + k) % clients.length;
      const t = performance.now();
      await call(clients[j], `call ${i}${PAD}`);
      lat[j].push(performance.now() - t);
    }
  }
  window.to = Date.now();
  const cpuUs = pidsToWatch.map((pid, i) => ((cpuMs(pid) - cpu0[i]) * 1000) / CALLS);
  // Per turn, each connection's call minus the first connection's (the direct one) of the same turn.
  const paired = lat.map((x) => x.map((v, i) => v - lat[0][i]).sort((a, b) => a - b));
  return { lat: lat.map((x) => x.sort((a, b) => a - b)), paired, cpuUs };
}

function report(label: string, direct: number[], gw: number[], paired: number[], gatewayCpuUs: number, serverCpuUs?: number): void {
  const d50 = pct(direct, 50);
  const d99 = pct(direct, 99);
  const g50 = pct(gw, 50);
  const g99 = pct(gw, 99);
  console.log(`${label}`);
  console.log(`  direct     p50 ${f3(d50)} ms   p99 ${f3(d99)} ms`);
  console.log(`  rein mcp   p50 ${f3(g50)} ms   p99 ${f3(g99)} ms`);
  console.log(`  added      p50 ${f3(g50 - d50)} ms   p99 ${f3(g99 - d99)} ms   (the difference of the percentiles; goal on stdio: added p99 < 1 ms)`);
  console.log(`  paired     p50 ${f3(pct(paired, 50))} ms   p99 ${f3(pct(paired, 99))} ms   (percentiles of each gateway call minus the direct call of the same turn)`);
  console.log(
    `  gateway CPU ${Number.isNaN(gatewayCpuUs) ? 'n/a' : gatewayCpuUs.toFixed(0)} µs per call (user + system, /proc)${serverCpuUs === undefined || Number.isNaN(serverCpuUs) ? '' : `; the upstream server: ${serverCpuUs.toFixed(0)} µs per call`}`,
  );
}

const pids = new WeakMap<Client, number>();

async function stdioClient(args: string[]): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  const t = new StdioClientTransport({ command: process.execPath, args, env: runEnv, stderr: 'ignore', cwd: ROOT });
  await c.connect(t);
  if (t.pid !== null) pids.set(c, t.pid);
  return c;
}

/** CPU time (user + system, ms) a process has used so far (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

async function httpClient(url: string): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  // Node's fetch with the transport's shared AbortSignal collects a listener per request (see the top).
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: abortIsolatingFetch() }));
  return c;
}

async function stdio(): Promise<void> {
  const gcDir = process.env.BENCH_GC ? mkdtempSync(path.join(tmpdir(), 'rein-bench-gc-')) : null;
  if (gcDir) runEnv.REIN_BENCH_GC_DIR = gcDir;
  const direct = await stdioClient([SERVER]);
  const gw = await stdioClient([...(gcDir ? ['--import', path.join(ROOT, 'bench/gc-log.mjs')] : []), BIN, 'mcp', '--policy', POLICY, '--no-reload', '--', process.execPath, SERVER]);
  const window = { from: 0, to: 0 };
  const { lat, paired, cpuUs } = await interleaved([direct, gw], [pids.get(direct), pids.get(gw)], window);
  await direct.close();
  await gw.close();
  report(`stdio, ${CALLS} tools/call (echo) on each path, alternating call by call after ${WARMUP} warm-up calls each`, lat[0], lat[1], paired[1], cpuUs[1], cpuUs[0]);
  if (gcDir) {
    delete runEnv.REIN_BENCH_GC_DIR;
    await gcReport('gateway', gcDir, pids.get(gw), window);
    rmSync(gcDir, { recursive: true, force: true });
  }
}

/** BENCH_GC: the garbage collections bench/gc-log.mjs recorded in process `pid` during the timed calls. */
async function gcReport(label: string, gcDir: string, pid: number | undefined, window: { from: number; to: number }): Promise<void> {
  const file = path.join(gcDir, `gc-${pid}.json`);
  for (let i = 0; i < 40 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  const gcs = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { kind: string; at: number; ms: number }[]) : [];
  const timed = gcs.filter((g) => g.at >= window.from && g.at <= window.to);
  const by = (k: string) => timed.filter((g) => g.kind === k);
  const minor = by('minor');
  const pauses = minor.map((g) => g.ms).sort((a, b) => a - b);
  console.log(
    `  ${label} GC in the timed calls: ${minor.length} minor (one per ${minor.length ? Math.round(CALLS / minor.length) : '∞'} calls${pauses.length ? `, pause p50 ${pct(pauses, 50).toFixed(2)} ms, max ${pauses[pauses.length - 1].toFixed(2)} ms` : ''}), ${by('major').length} major`,
  );
}

async function http(): Promise<void> {
  const upPort = await freePort();
  const up = start(process.execPath, [SERVER, '--http', String(upPort)]);
  const gwPort = await freePort();
  const gw = start(process.execPath, [BIN, 'mcp', '--policy', POLICY, '--no-reload', '--listen', `127.0.0.1:${gwPort}`, '--upstream', `http://127.0.0.1:${upPort}/mcp`], { env: runEnv });
  try {
    await waitFor(() => /test-server listening/.test(up.out()), 'the server', 20_000);
    await waitFor(() => /listening at/.test(gw.out()), 'the gateway', 20_000);
    const direct = await httpClient(`http://127.0.0.1:${upPort}/mcp`);
    const via = await httpClient(`http://127.0.0.1:${gwPort}/mcp`);
    const { lat, paired, cpuUs } = await interleaved([direct, via], [up.child.pid, gw.child.pid]);
    await direct.close();
    await via.close();
    report(`Streamable HTTP, ${CALLS} tools/call (echo) on each path, alternating call by call after ${WARMUP} warm-up calls each`, lat[0], lat[1], paired[1], cpuUs[1]);
    if (/MaxListenersExceededWarning/.test(gw.out())) console.log('  (the gateway printed MaxListenersExceededWarning)');
  } finally {
    await gw.kill();
    await up.kill();
  }
}

interface Watched {
  label: string;
  pids: number[];
}

/** Redis's own CPU time (ms) and the number of commands it ran so far (INFO). */
async function redisStats(url: string): Promise<{ cpuMs: number; commands: number; byCommand: Record<string, number> }> {
  const { Redis } = await import('ioredis');
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await c.connect();
    const info = await c.info('all');
    const num = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
    const byCommand: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) byCommand[m[1]] = Number(m[2]);
    return { cpuMs: (num('used_cpu_user') + num('used_cpu_sys')) * 1000, commands: num('total_commands_processed'), byCommand };
  } finally {
    c.disconnect();
  }
}

/**
 * CLIENTS clients spread over `urls` call echo for SECONDS. Returns calls per second and the CPU
 * time per call (µs) of this benchmark process (the clients), of each watched group of processes,
 * and of Redis (with its commands per call).
 */
async function throughput(urls: string[], watch: Watched[], redisUrl?: string): Promise<{ rate: number; cpu: Record<string, number>; redisCmds?: number }> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => httpClient(urls[i % urls.length])));
  // Warm-up: the same load until every server behind `urls` has had FLEET_WARMUP calls (and at least
  // BENCH_SECONDS, at most 90 s), so every replica's code is JIT-compiled: a few calls each would
  // time the interpreter and the compiler, not a gateway that runs for hours.
  const t0w = performance.now();
  let warmed = 0;
  const warmDone = () => {
    const t = performance.now() - t0w;
    return t > 90_000 || (t > SECONDS * 1000 && warmed >= FLEET_WARMUP * urls.length);
  };
  await Promise.all(
    clients.map(async (c) => {
      while (!warmDone()) {
        await c.callTool({ name: 'echo', arguments: { message: 'warm' } });
        warmed++;
      }
    }),
  );
  let calls = 0;
  const sum = (pids: number[]) => pids.reduce((t, p) => t + cpuMs(p), 0);
  const before = watch.map((w) => sum(w.pids));
  const self0 = process.cpuUsage();
  const r0 = redisUrl ? await redisStats(redisUrl) : null;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        await c.callTool({ name: 'echo', arguments: { message: 'x' } });
        calls++;
      }
    }),
  );
  const rate = calls / ((performance.now() - t0) / 1000);
  const self = process.cpuUsage(self0);
  const cpu: Record<string, number> = { 'the clients (this process)': (self.user + self.system) / calls };
  watch.forEach((w, i) => (cpu[w.label] = ((sum(w.pids) - before[i]) * 1000) / calls));
  let redisCmds: number | undefined;
  if (redisUrl && r0) {
    const r1 = await redisStats(redisUrl);
    cpu['redis-server'] = ((r1.cpuMs - r0.cpuMs) * 1000) / calls;
    redisCmds = (r1.commands - r0.commands - 1) / calls; // minus the INFO itself
    if (process.env.BENCH_VERBOSE) {
      const per = Object.entries(r1.byCommand).map(([k, v]) => `${k} ${((v - (r0.byCommand[k] ?? 0)) / calls).toFixed(2)}`);
      console.log(`  Redis commands per call by name: ${per.join(', ')}`);
    }
  }
  await Promise.all(clients.map((c) => c.close()));
  return { rate, cpu, redisCmds };
}

async function fleet(): Promise<void> {
  let redis;
  try {
    redis = await startRedis();
  } catch (e) {
    console.log(`fleet: skipped (${(e as Error).message})`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'rein-bench-mcp-'));
  cpSync(POLICY, dir, { recursive: true });
  // A budget every call reserves and settles in Redis (high enough never to stop the benchmark).
  writeFileSync(path.join(dir, 'budget.rein'), 'budget calls {\n  limit 1_000_000_000 per hour\n  charge 1\n  by session\n  when phase == "call"\n  on exceed deny\n}\n');
  const upPort = await freePort();
  const up = start(process.execPath, [SERVER, '--http', String(upPort)]);
  const gws: ReturnType<typeof start>[] = [];
  try {
    await waitFor(() => /test-server listening/.test(up.out()), 'the server', 20_000);
    const urls: string[] = [];
    for (let i = 0; i < REPLICAS; i++) {
      const port = await freePort();
      gws.push(
        start(process.execPath, [BIN, 'mcp', '--policy', dir, '--no-reload', ...(process.env.BENCH_FLEET_MEMORY ? [] : ['--redis', redis.url]), '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${upPort}/mcp`], { env: runEnv }),
      );
      urls.push(`http://127.0.0.1:${port}/mcp`);
    }
    for (const g of gws) await waitFor(() => /listening at/.test(g.out()), 'a replica', 30_000);
    const upstream: Watched = { label: 'the upstream server', pids: [up.child.pid!] };
    const replicas: Watched = { label: `the ${REPLICAS} rein mcp replicas`, pids: gws.map((g) => g.child.pid!) };
    const direct = await throughput([`http://127.0.0.1:${upPort}/mcp`], [upstream]);
    const viaFleet = await throughput(urls, [upstream, replicas], redis.url);
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    console.log(`fleet: ${CLIENTS} clients for ${SECONDS} s, echo, one upstream (Streamable HTTP), every process on this machine`);
    console.log(`  direct to the upstream                ${direct.rate.toFixed(0).padStart(7)} calls/s`);
    const how = process.env.BENCH_FLEET_MEMORY ? 'each with its memory store' : 'on one Redis';
    console.log(`  ${REPLICAS} rein mcp replicas ${how.padEnd(26)} ${viaFleet.rate.toFixed(0).padStart(7)} calls/s   (${(viaFleet.rate / direct.rate).toFixed(2)}× direct)`);
    console.log(`  CPU per call (µs, user + system)      direct   via the replicas`);
    for (const k of Object.keys(viaFleet.cpu)) {
      const d = direct.cpu[k];
      console.log(`    ${k.padEnd(34)} ${(d === undefined ? '-' : d.toFixed(0)).padStart(6)}   ${viaFleet.cpu[k].toFixed(0).padStart(6)}`);
    }
    console.log(`    ${'total'.padEnd(34)} ${total(direct.cpu).toFixed(0).padStart(6)}   ${total(viaFleet.cpu).toFixed(0).padStart(6)}   (${(total(viaFleet.cpu) / total(direct.cpu)).toFixed(2)}×)`);
    console.log(`  Redis commands per call: ${viaFleet.redisCmds?.toFixed(2)}; cores on this machine: ${availableParallelism()}`);
  } finally {
    for (const g of gws) await g.kill();
    await up.kill();
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A/B on stdio: a direct client, this tree's gateway and BENCH_BASE's gateway, all connected at once
 * and timed call by call in turn (load from other work hits all three alike). Reported: the added
 * p50/p99 of each gateway over the direct calls of the same rounds, and this/base as a ratio.
 */
async function stdioAB(base: string): Promise<void> {
  const baseBin = path.join(base, 'bin/rein.js');
  if (!existsSync(path.join(base, 'dist/cli/cli.js'))) throw new Error(`${base}: no dist/cli/cli.js (npm run build there first)`);
  // BENCH_AUDIT=1: both gateways write every decision to a hash-chained audit log.
  const auditDir = process.env.BENCH_AUDIT ? mkdtempSync(path.join(tmpdir(), 'rein-bench-audit-')) : null;
  let n = 0;
  const gcDir = process.env.BENCH_GC ? mkdtempSync(path.join(tmpdir(), 'rein-bench-gc-')) : null;
  if (gcDir) runEnv.REIN_BENCH_GC_DIR = gcDir;
  const gwArgs = (bin: string) => [
    ...(gcDir ? ['--import', path.join(ROOT, 'bench/gc-log.mjs')] : []),
    bin,
    'mcp',
    '--policy',
    POLICY,
    '--no-reload',
    ...(auditDir ? ['--audit', path.join(auditDir, `audit-${n++}.jsonl`)] : []),
    '--',
    process.execPath,
    SERVER,
  ];
  const direct = await stdioClient([SERVER]);
  const mine = await stdioClient(gwArgs(BIN));
  const theirs = await stdioClient(gwArgs(baseBin));
  const all = [direct, mine, theirs];
  const window = { from: 0, to: 0 };
  const { lat, paired, cpuUs: cpu } = await interleaved(all, all.map((c) => pids.get(c)), window);
  for (const c of all) await c.close();
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
  const [d, a, b] = lat;
  const f = f3;
  console.log(
    `stdio A/B, ${CALLS} tools/call on each connection, alternating call by call after ${WARMUP} warm-up calls each (echo${PAD ? `, ${PAD.length} characters each way` : ''}${auditDir ? ', --audit' : ''}), base ${base}`,
  );
  console.log(`  direct      p50 ${f(pct(d, 50))} ms   p99 ${f(pct(d, 99))} ms`);
  for (const [label, x, pr, us] of [['this tree', a, paired[1], cpu[1]], ['base', b, paired[2], cpu[2]]] as const) {
    console.log(
      `  ${label.padEnd(10)}  p50 ${f(pct(x, 50))} ms   p99 ${f(pct(x, 99))} ms   added p50 ${f(pct(x, 50) - pct(d, 50))} ms   added p99 ${f(pct(x, 99) - pct(d, 99))} ms   paired p50 ${f(pct(pr, 50))} p99 ${f(pct(pr, 99))} ms   gateway CPU ${us.toFixed(0)} µs/call`,
    );
  }
  console.log(
    `  this/base   added p50 ${((pct(a, 50) - pct(d, 50)) / (pct(b, 50) - pct(d, 50))).toFixed(2)}×   added p99 ${((pct(a, 99) - pct(d, 99)) / (pct(b, 99) - pct(d, 99))).toFixed(2)}×   gateway CPU ${(cpu[1] / cpu[2]).toFixed(2)}×`,
  );
  console.log(`  (the direct server process: ${cpu[0].toFixed(0)} µs CPU per call)`);
  if (gcDir) {
    delete runEnv.REIN_BENCH_GC_DIR;
    await gcReport('this tree', gcDir, pids.get(mine), window);
    await gcReport('base', gcDir, pids.get(theirs), window);
    rmSync(gcDir, { recursive: true, force: true });
  }
}

console.log(`rein mcp benchmark (${useDist ? 'dist/' : 'TypeScript sources via tsx; run `npm run build` first for representative numbers'}), node ${process.version}`);
if (process.env.BENCH_BASE) {
  await stdioAB(path.resolve(process.env.BENCH_BASE));
} else {
  if (!ONLY || ONLY === 'stdio') await stdio();
  if (!ONLY || ONLY === 'http') await http();
  if (!ONLY || ONLY === 'fleet') await fleet();
}
