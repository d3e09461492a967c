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
//
// 1. stdio: the SDK's Client calls `echo` on a small SDK server (test/fixtures/mcp/test-server.mjs)
//    directly and through `rein mcp` (memory store, the policy test/fixtures/mcp/everything: a call
//    rule and a result rule). Both connections are open at once; after a warm-up long enough for the
//    JIT to tier up on both paths (a gateway runs for hours), the calls ALTERNATE between them, one
//    at a time, so load from elsewhere on the machine hits both alike. Reported: p50/p99 per call of
//    each, the difference (the overhead), and the gateway process's CPU time per call (/proc).
// 2. Streamable HTTP: the same against the server in HTTP mode, directly and through `--listen`.
// 3. Fleet: 4 `--listen` replicas sharing one redis-server (a per-session call budget, so every call
//    makes a Redis round trip), BENCH_CLIENTS clients spread over them calling for BENCH_SECONDS;
//    calls per second, against the same clients calling the upstream directly.
//
// The SDK's HTTP client is given `abortIsolatingFetch()` (language/node/mcp/isolating-fetch.ts):
// with Node's own fetch, every request of a session adds an abort listener to the transport's one
// AbortSignal, and Node prints MaxListenersExceededWarning after ~1,500 calls (docs/mcp.md).
//
// Everything runs on this machine: the client, the gateway and the server share its cores, so the
// ratios matter more than the absolute numbers.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
async function interleaved(clients: Client[], pidsToWatch: (number | undefined)[]): Promise<{ lat: number[][]; cpuUs: number[] }> {
  const call = (c: Client, msg: string) => c.callTool({ name: 'echo', arguments: { message: msg } });
  for (let i = 0; i < WARMUP; i++) for (const c of clients) await call(c, `warm ${i}`);
  const lat: number[][] = clients.map(() => []);
  const cpu0 = pidsToWatch.map(cpuMs);
  for (let i = 0; i < CALLS; i++) {
    for (let k = 0; k < clients.length; k++) {
      const j = (i + k) % clients.length;
      const t = performance.now();
      await call(clients[j], `call ${i}${PAD}`);
      lat[j].push(performance.now() - t);
    }
  }
  const cpuUs = pidsToWatch.map((pid, i) => ((cpuMs(pid) - cpu0[i]) * 1000) / CALLS);
  return { lat: lat.map((x) => x.sort((a, b) => a - b)), cpuUs };
}

function report(label: string, direct: number[], gw: number[], gatewayCpuUs: number, serverCpuUs?: number): void {
  const d50 = pct(direct, 50);
  const d99 = pct(direct, 99);
  const g50 = pct(gw, 50);
  const g99 = pct(gw, 99);
  console.log(`${label}`);
  console.log(`  direct     p50 ${f3(d50)} ms   p99 ${f3(d99)} ms`);
  console.log(`  rein mcp   p50 ${f3(g50)} ms   p99 ${f3(g99)} ms`);
  console.log(`  added      p50 ${f3(g50 - d50)} ms   p99 ${f3(g99 - d99)} ms   (goal on stdio: added p99 < 1 ms)`);
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
  const direct = await stdioClient([SERVER]);
  const gw = await stdioClient([BIN, 'mcp', '--policy', POLICY, '--no-reload', '--', process.execPath, SERVER]);
  const { lat, cpuUs } = await interleaved([direct, gw], [pids.get(direct), pids.get(gw)]);
  await direct.close();
  await gw.close();
  report(`stdio, ${CALLS} tools/call (echo) on each path, alternating call by call after ${WARMUP} warm-up calls each`, lat[0], lat[1], cpuUs[1], cpuUs[0]);
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
    const { lat, cpuUs } = await interleaved([direct, via], [up.child.pid, gw.child.pid]);
    await direct.close();
    await via.close();
    report(`Streamable HTTP, ${CALLS} tools/call (echo) on each path, alternating call by call after ${WARMUP} warm-up calls each`, lat[0], lat[1], cpuUs[1]);
    if (/MaxListenersExceededWarning/.test(gw.out())) console.log('  (the gateway printed MaxListenersExceededWarning)');
  } finally {
    await gw.kill();
    await up.kill();
  }
}

async function throughput(urls: string[]): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => httpClient(urls[i % urls.length])));
  for (const c of clients) for (let i = 0; i < 20; i++) await c.callTool({ name: 'echo', arguments: { message: 'warm' } });
  let calls = 0;
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
  await Promise.all(clients.map((c) => c.close()));
  return rate;
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
        start(process.execPath, [BIN, 'mcp', '--policy', dir, '--no-reload', '--redis', redis.url, '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${upPort}/mcp`], { env: runEnv }),
      );
      urls.push(`http://127.0.0.1:${port}/mcp`);
    }
    for (const g of gws) await waitFor(() => /listening at/.test(g.out()), 'a replica', 30_000);
    const direct = await throughput([`http://127.0.0.1:${upPort}/mcp`]);
    const viaFleet = await throughput(urls);
    console.log(`fleet: ${CLIENTS} clients for ${SECONDS} s, echo, one upstream`);
    console.log(`  direct to the upstream            ${direct.toFixed(0).padStart(7)} calls/s`);
    console.log(`  ${REPLICAS} rein mcp replicas on one Redis   ${viaFleet.toFixed(0).padStart(7)} calls/s   (${(viaFleet / direct).toFixed(2)}× direct)`);
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
  const gwArgs = (bin: string) => [
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
  const { lat, cpuUs: cpu } = await interleaved(all, all.map((c) => pids.get(c)));
  for (const c of all) await c.close();
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
  const [d, a, b] = lat;
  const f = f3;
  console.log(
    `stdio A/B, ${CALLS} tools/call on each connection, alternating call by call after ${WARMUP} warm-up calls each (echo${PAD ? `, ${PAD.length} characters each way` : ''}${auditDir ? ', --audit' : ''}), base ${base}`,
  );
  console.log(`  direct      p50 ${f(pct(d, 50))} ms   p99 ${f(pct(d, 99))} ms`);
  for (const [label, x, us] of [['this tree', a, cpu[1]], ['base', b, cpu[2]]] as const) {
    console.log(
      `  ${label.padEnd(10)}  p50 ${f(pct(x, 50))} ms   p99 ${f(pct(x, 99))} ms   added p50 ${f(pct(x, 50) - pct(d, 50))} ms   added p99 ${f(pct(x, 99) - pct(d, 99))} ms   gateway CPU ${us.toFixed(0)} µs/call`,
    );
  }
  console.log(
    `  this/base   added p50 ${((pct(a, 50) - pct(d, 50)) / (pct(b, 50) - pct(d, 50))).toFixed(2)}×   added p99 ${((pct(a, 99) - pct(d, 99)) / (pct(b, 99) - pct(d, 99))).toFixed(2)}×   gateway CPU ${(cpu[1] / cpu[2]).toFixed(2)}×`,
  );
  console.log(`  (the direct server process: ${cpu[0].toFixed(0)} µs CPU per call)`);
}

console.log(`rein mcp benchmark (${useDist ? 'dist/' : 'TypeScript sources via tsx; run `npm run build` first for representative numbers'}), node ${process.version}`);
if (process.env.BENCH_BASE) {
  await stdioAB(path.resolve(process.env.BENCH_BASE));
} else {
  if (!ONLY || ONLY === 'stdio') await stdio();
  if (!ONLY || ONLY === 'http') await http();
  if (!ONLY || ONLY === 'fleet') await fleet();
}
