// The decision service over loopback HTTP with keep-alive: decide latency (p50/p99) and decisions
// per second at concurrency 1, 16 and 64, with the memory store and with Redis; in-process
// `engine.decide` on the same policy as the reference (what HTTP costs).
//
//   npm run bench:service                      (starts `rein serve` and its own redis-server)
//   BENCH_SECONDS=5 npm run bench:service
//   REIN_USE_DIST=1 npm run bench:service      (the built package; run `npm run build` first)
//
// Besides wall-clock figures it reports the server's CPU time per decision (from /proc), which a busy
// machine does not distort, and the decisions/s one core could serve at that cost.
//
// The floor: the same load against a trivial fastify server (same fastify options and JSON parser as
// `rein serve`, one route answering a fixed decision of the same size), run right before each memory
// row. Its latency is what the framework, the loopback socket and the load generator cost on this
// machine; the ratio rein / trivial is Rein's own share, and it holds better than absolute figures
// on a busy host.
//
// The load generator is a separate process from the server (node:http with a keep-alive agent,
// one socket per concurrent client), so the figures include the client's own cost on the same
// machine. Each run: 1 s warm-up, then BENCH_SECONDS of closed-loop requests; every decision
// reserves a budget charge (limits high enough that all are allowed), none is settled.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { startRedis } from '../test/redis/redis-server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const POLICY = `policy service_bench {
  version "1.0.0"
  default allow
  on error deny
  currency "USD"
}
input {
  agent: { id: string, team: string }
  action: { kind: "model_call" | "tool_call", tool?: string }
  cost?: { estimate: money }
}
rule no_drop {
  when action.tool == "db.drop"
  deny "tool db.drop is blocked"
}
budget team_daily {
  limit $1_000_000_000 per day
  charge cost.estimate ?? $0
  by agent.team
  when action.kind == "model_call"
  on exceed deny "over budget"
}
`;

const bodyFor = (i: number) => JSON.stringify({ input: { agent: { id: `a${i % 1000}`, team: `team${i % 100}` }, action: { kind: 'model_call' }, cost: { estimate: '0.002' } } });

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startServer(policyDir: string, extra: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/rein.js'), 'serve', '--api', '--policy', policyDir, '--listen', '127.0.0.1:0', '--no-watch', '--no-dashboard', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: process.env,
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (let i = 0; i < 600; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) return { url: m[1], proc };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`rein serve did not start: ${err}`);
}

/** A trivial fastify server answering `decision` to every POST /v1/decide (the framework floor). */
async function startTrivial(dir: string, decision: unknown): Promise<{ url: string; proc: ChildProcess }> {
  const file = join(dir, 'trivial.mjs');
  const fastify = new URL('node_modules/fastify/fastify.js', `file://${ROOT}`).href;
  writeFileSync(
    file,
    `import Fastify from ${JSON.stringify(fastify)};
const decision = ${JSON.stringify(decision)};
const app = Fastify({ bodyLimit: 1048576, logger: false, keepAliveTimeout: 65000, return503OnClosing: true, forceCloseConnections: true });
const json = app.getDefaultJsonParser('error', 'error');
app.removeContentTypeParser(['application/json', 'text/plain']);
app.addContentTypeParser('*', { parseAs: 'string' }, json);
app.post('/v1/decide', async (req) => (req.body && typeof req.body === 'object' ? decision : { error: 'no body' }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write('listening on ' + url + '\\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`,
  );
  const proc = spawn(process.execPath, [file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (let i = 0; i < 200; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) return { url: m[1], proc };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`the trivial server did not start: ${err}`);
}

/** One decision from the server (the trivial server answers the same bytes). */
function sample(url: URL, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/v1/decide', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function post(agent: Agent, url: URL, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: '/v1/decide', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let ok = res.statusCode === 200;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if (ok && !text.startsWith('{"effect":"allow"')) ok = false;
          if (ok) resolve();
          else reject(new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 200)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(base: string, concurrency: number): Promise<{ rps: number; p50: number; p99: number; n: number; warm: number }> {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let i = 0;
  const run = async (until: number, lat: number[] | null) => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await post(agent, url, bodyFor(i++));
      if (lat) lat.push(performance.now() - t0);
    }
  };
  const warm = performance.now() + 1000;
  await Promise.all([...Array(concurrency)].map(() => run(warm, null)));
  const warmed = i;
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all([...Array(concurrency)].map(() => run(end, lat)));
  const secs = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, warm: warmed };
}

async function inProcess(): Promise<number> {
  const engine = new Engine(compile({ 'bench.rein': POLICY }));
  const reqs = [...Array(1000)].map((_, i) => JSON.parse(bodyFor(i)).input);
  let n = 0;
  const warm = performance.now() + 500;
  while (performance.now() < warm) await engine.decide(reqs[n++ % 1000]);
  n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) await engine.decide(reqs[n++ % 1000]);
  }
  return n / ((performance.now() - t0) / 1000);
}

const f = (x: number, d = 2) => x.toFixed(d);

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; null elsewhere). On a
 *  busy machine wall-clock figures mostly measure the other processes; CPU per decision does not. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rein-bench-service-'));
  writeFileSync(join(dir, 'bench.rein'), POLICY);
  console.log(`rein serve --api, decide over loopback HTTP/1.1 keep-alive, ${SECONDS} s per row (node ${process.version}${process.env.REIN_USE_DIST === '1' ? ', dist' : ', sources via tsx'})`);
  const ref = await inProcess();
  console.log(`in-process engine.decide (same policy, memory store): ${f(ref / 1000, 1)} k decisions/s\n`);
  console.log('store   concurrency   decisions/s   p50 ms   p99 ms   requests   server CPU µs/decision   → decisions/s per core');
  const floor = new Map<number, { rps: number; p50: number; p99: number }>();
  const redis = await startRedis();
  try {
    for (const [store, extra] of [
      ['memory', []],
      ['redis', ['--redis', redis.url]],
    ] as [string, string[]][]) {
      const srv = await startServer(dir, extra);
      const trivial = store === 'memory' && process.env.BENCH_BASELINE !== '0' ? await startTrivial(dir, await sample(new URL(srv.url), bodyFor(0))) : null;
      try {
        for (const c of CONCURRENCY) {
          if (trivial) {
            const t0 = cpuSeconds(trivial.proc.pid!);
            const t = await load(trivial.url, c);
            const t1 = cpuSeconds(trivial.proc.pid!);
            const tus = t0 !== null && t1 !== null ? ((t1 - t0) * 1e6) / (t.n + t.warm) : NaN;
            floor.set(c, t);
            console.log(
              `${'trivial'.padEnd(7)} ${String(c).padStart(11)}   ${f(t.rps, 0).padStart(11)}   ${f(t.p50, 3).padStart(6)}   ${f(t.p99, 3).padStart(6)}   ${String(t.n).padStart(8)}   ${f(tus, 0).padStart(22)}   ${f(1e6 / tus, 0).padStart(23)}`,
            );
          }
          const cpu0 = cpuSeconds(srv.proc.pid!);
          const r = await load(srv.url, c);
          const cpu1 = cpuSeconds(srv.proc.pid!);
          // The CPU includes the 1 s warm-up: divide by every request the server answered in the row.
          const served = r.n + r.warm;
          const us = cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) * 1e6) / served : NaN;
          console.log(
            `${store.padEnd(7)} ${String(c).padStart(11)}   ${f(r.rps, 0).padStart(11)}   ${f(r.p50, 3).padStart(6)}   ${f(r.p99, 3).padStart(6)}   ${String(r.n).padStart(8)}   ${f(us, 0).padStart(22)}   ${f(1e6 / us, 0).padStart(23)}`,
          );
          const fl = trivial ? floor.get(c) : undefined;
          if (fl) {
            console.log(`        rein / trivial fastify: p50 ${f(r.p50 / fl.p50)}×, p99 ${f(r.p99 / fl.p99)}×, throughput ${f(r.rps / fl.rps)}× (Rein's own p50 ≈ ${f(Math.max(0, r.p50 - fl.p50), 3)} ms, p99 ≈ ${f(Math.max(0, r.p99 - fl.p99), 3)} ms above the floor)`);
          }
        }
      } finally {
        srv.proc.kill('SIGTERM');
        await new Promise((r) => srv.proc.once('exit', r));
        if (trivial) {
          trivial.proc.kill('SIGTERM');
          await new Promise((r) => trivial.proc.once('exit', r));
        }
      }
    }
  } finally {
    await redis.destroy();
  }
}

await main();
