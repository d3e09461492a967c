// The latency `rein mcp` adds to a tools/call, and the throughput of a fleet of remote gateways.
//
//   npm run bench:mcp                         (uses dist/ when built: `npm run build` first for real numbers)
//   BENCH_CALLS=3000 BENCH_SECONDS=5 npm run bench:mcp
//   BENCH_BASE=/tmp/base npm run bench:mcp    A/B: stdio only, this tree against another built checkout
//                                             (git worktree add /tmp/base <commit>; link node_modules; npm run build there)
//   BENCH_BYTES=100000 …                      echo messages of that many characters (a large result)
//   BENCH_AUDIT=1 …                           A/B with --audit (every decision hash-chained to a file)
//
// 1. stdio: the SDK's Client calls `echo` on a small SDK server (test/fixtures/mcp/test-server.mjs)
//    BENCH_CALLS times, one call at a time, directly and through `rein mcp` (memory store, the policy
//    test/fixtures/mcp/everything: a call rule and a result rule, so every call makes three decisions:
//    list check, call, result). Reported: p50/p99 per call and the difference (the overhead).
// 2. Streamable HTTP: the same against the server in HTTP mode, directly and through `--listen`.
// 3. Fleet: 4 `--listen` replicas sharing one redis-server (a per-session call budget, so every call
//    makes a Redis round trip), BENCH_CLIENTS clients spread over them calling for BENCH_SECONDS;
//    calls per second, against the same clients calling the upstream directly.
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
import { env, freePort, start, waitFor } from '../test/mcp/helpers.js';
import { startRedis } from '../test/redis/redis-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/rein.js');
const SERVER = path.join(ROOT, 'test/fixtures/mcp/test-server.mjs');
const POLICY = path.join(ROOT, 'test/fixtures/mcp/everything');
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const REPLICAS = 4;
/** BENCH_BYTES: pad every echoed message to about this many characters (a large tool result both ways). */
const PAD = 'x'.repeat(Number(process.env.BENCH_BYTES ?? 0));
const useDist = existsSync(path.join(ROOT, 'dist/cli/cli.js'));
const runEnv = env(useDist ? { REIN_USE_DIST: '1' } : {});

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timeCalls(client: Client, n: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) await client.callTool({ name: 'echo', arguments: { message: `warm ${i}` } });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await client.callTool({ name: 'echo', arguments: { message: `call ${i}${PAD}` } });
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

function report(label: string, direct: number[], gw: number[]): void {
  const f = (x: number) => x.toFixed(3).padStart(8);
  const d50 = pct(direct, 50);
  const d99 = pct(direct, 99);
  const g50 = pct(gw, 50);
  const g99 = pct(gw, 99);
  console.log(`${label}`);
  console.log(`  direct     p50 ${f(d50)} ms   p99 ${f(d99)} ms`);
  console.log(`  rein mcp   p50 ${f(g50)} ms   p99 ${f(g99)} ms`);
  console.log(`  overhead   p50 ${f(g50 - d50)} ms   p99 ${f(g99 - d99)} ms   (p50 ratio ${(g50 / d50).toFixed(2)}×)`);
}

const pids = new WeakMap<Client, number>();

async function stdioClient(args: string[]): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  const t = new StdioClientTransport({ command: process.execPath, args, env: runEnv, stderr: 'ignore', cwd: ROOT });
  await c.connect(t);
  if (t.pid !== null) pids.set(c, t.pid);
  return c;
}

/** CPU time (user + system, ms) a client's server process has used so far (Linux /proc; NaN elsewhere). */
function cpuMs(c: Client): number {
  try {
    const f = readFileSync(`/proc/${pids.get(c)}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

async function httpClient(url: string): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}

async function stdio(): Promise<void> {
  const direct = await stdioClient([SERVER]);
  const d = await timeCalls(direct, CALLS);
  await direct.close();
  const gw = await stdioClient([BIN, 'mcp', '--policy', POLICY, '--no-reload', '--', process.execPath, SERVER]);
  const g = await timeCalls(gw, CALLS);
  await gw.close();
  report(`stdio, ${CALLS} sequential tools/call (echo)`, d, g);
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
    const d = await timeCalls(direct, CALLS);
    await direct.close();
    const via = await httpClient(`http://127.0.0.1:${gwPort}/mcp`);
    const g = await timeCalls(via, CALLS);
    await via.close();
    report(`Streamable HTTP, ${CALLS} sequential tools/call (echo)`, d, g);
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
 * and timed in interleaved rounds (load from other work hits all three alike). Reported: the added
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
  for (const c of all) for (let i = 0; i < 300; i++) await c.callTool({ name: 'echo', arguments: { message: `warm ${i}` } });
  const rounds = 20;
  const per = Math.max(50, Math.floor(CALLS / rounds));
  const lat: number[][] = [[], [], []];
  const cpu0 = all.map(cpuMs);
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no client always runs first.
    for (let k = 0; k < 3; k++) {
      const j = (r + k) % 3;
      for (let i = 0; i < per; i++) {
        const t = performance.now();
        await all[j].callTool({ name: 'echo', arguments: { message: `call ${i}${PAD}` } });
        lat[j].push(performance.now() - t);
      }
    }
  }
  const cpu = all.map((c, i) => ((cpuMs(c) - cpu0[i]) * 1000) / lat[i].length);
  for (const c of all) await c.close();
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
  const [d, a, b] = lat.map((x) => x.sort((p, q) => p - q));
  const f = (x: number) => x.toFixed(3).padStart(8);
  console.log(
    `stdio A/B, ${rounds} interleaved rounds of ${per} sequential tools/call (echo${PAD ? `, ${PAD.length} characters each way` : ''}${auditDir ? ', --audit' : ''}), base ${base}`,
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
  await stdio();
  await http();
  await fleet();
}
