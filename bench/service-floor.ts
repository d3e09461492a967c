// The floor under the decision service's p99 goal (#20: p99 < 2 ms at concurrency 16): can ANY
// Node server answer a decide-sized request that fast on this machine? Two servers that do no policy
// work — raw node:http (read the body, JSON.parse, a fixed answer) and the trivial fastify route of
// bench:service (rein serve's fastify options and JSON parser) — each answering the same 816-byte
// decision, driven by wrk (one thread, keep-alive, closed loop) at concurrency 16:
//
//   npm run bench:service-floor
//   BENCH_ROUNDS=7 BENCH_SECONDS=5 npm run bench:service-floor
//   BENCH_FLOORS=http BENCH_PINS=1 BENCH_YOUNG=0,2 npm run bench:service-floor
//
// Each configuration is its own server process: floor (BENCH_FLOORS, default `http,fastify`) ×
// pinning (BENCH_PINS, default `0,1`: 1 = wrk on CPU 0 and the server on CPU 1 with taskset; only when
// taskset exists and there are ≥ 2 cores) × young generation (BENCH_YOUNG, default `0,64`: 0 = Node's
// default, N = `--min-semi-space-size=N --max-semi-space-size=N`). All of them are measured in every
// round, in an order reversed every other round (a drift of the machine's load hits each alike); the
// bench prints each round and, per configuration, the medians (p50, p99, p99.9, requests/s, server CPU
// µs per request) with the load average. If even the best floor's median p99 is above 2 ms, no
// server on this host can meet the goal: that is a property of the host (docs/benchmarks.md,
// "Session 9: the service's p99").

import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { cpuSeconds, hasTaskset, hasWrk, loadWrk, PIN_LOAD_CPU, PIN_SERVER_CPU, startTrivial, stop, type Server } from './service-load.js';
import { POLICY, bodyFor } from './service-policy.js';
import { median } from './util.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const C = Number(process.env.BENCH_CONCURRENCY ?? 16);
const FLOORS = (process.env.BENCH_FLOORS ?? 'http,fastify').split(',') as ('http' | 'fastify')[];
const canPin = cpus().length >= 2 && hasTaskset();
const PINS = (process.env.BENCH_PINS ?? '0,1')
  .split(',')
  .map((x) => x === '1')
  .filter((p) => !p || canPin);
const YOUNG = (process.env.BENCH_YOUNG ?? '0,64').split(',').map(Number);

interface Config {
  floor: 'http' | 'fastify';
  pin: boolean;
  young: number;
}
interface Sample {
  p50: number;
  p99: number;
  p999: number;
  rps: number;
  cpuUs: number;
  load: number;
}

const label = (c: Config) => `${c.floor === 'http' ? 'node:http' : 'fastify'}, ${c.pin ? 'pinned' : 'not pinned'}, ${c.young ? `${c.young} MB semi-spaces` : 'default young gen'}`;
const f = (x: number, d = 3) => x.toFixed(d);

async function main(): Promise<void> {
  if (!hasWrk()) throw new Error('bench:service-floor needs wrk (apt-get install wrk)');
  if (FLOORS.some((x) => x !== 'http' && x !== 'fastify')) throw new Error('BENCH_FLOORS: http and/or fastify');
  const dir = mkdtempSync(join(tmpdir(), 'rein-bench-floor-'));
  // the decision rein serve answers for the bench's request, as JSON
  const decision = JSON.parse(JSON.stringify(await new Engine(compile({ 'bench.rein': POLICY })).decide(JSON.parse(bodyFor(0)).input)));
  const configs: Config[] = [];
  for (const floor of FLOORS) for (const pin of PINS) for (const young of YOUNG) configs.push({ floor, pin, young });
  console.log(`the floor: servers with no policy work answering an ${JSON.stringify(decision).length}-byte decision, wrk (1 thread) at concurrency ${C}, ${ROUNDS} rounds × ${SECONDS} s after 1 s of warm-up (node ${process.version}, ${cpus().length} cores${canPin ? '' : ', no pinning: taskset missing or one core'})`);
  console.log(`load average at the start: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  const servers: Server[] = [];
  const samples: Sample[][] = configs.map(() => []);
  try {
    for (const c of configs) {
      const s = await startTrivial(dir, decision, { http: c.floor === 'http', cpu: c.pin ? PIN_SERVER_CPU : null, nodeFlags: c.young ? [`--min-semi-space-size=${c.young}`, `--max-semi-space-size=${c.young}`] : [] });
      servers.push(s);
      await loadWrk(dir, s.url, C, 3, false, c.pin ? PIN_LOAD_CPU : null); // JIT warm-up
    }
    for (let r = 1; r <= ROUNDS; r++) {
      const order = configs.map((_, i) => i);
      if (r % 2 === 0) order.reverse();
      for (const i of order) {
        const c = configs[i];
        const s = servers[i];
        const cpu = c.pin ? PIN_LOAD_CPU : null;
        await loadWrk(dir, s.url, C, 1, false, cpu);
        const c0 = cpuSeconds(s.proc.pid!);
        const w = await loadWrk(dir, s.url, C, SECONDS, false, cpu);
        const c1 = cpuSeconds(s.proc.pid!);
        if (w.errors > 0) throw new Error(`${label(c)}: ${w.errors} failed requests`);
        const x: Sample = { p50: w.p50, p99: w.p99, p999: w.p999, rps: w.requests / w.seconds, cpuUs: c0 !== null && c1 !== null ? ((c1 - c0) * 1e6) / w.requests : NaN, load: loadavg()[0] };
        samples[i].push(x);
        console.log(`round ${r}/${ROUNDS}  ${label(c).padEnd(52)} p50 ${f(x.p50)}  p99 ${f(x.p99)}  p99.9 ${f(x.p999)} ms  ${f(x.rps, 0)}/s  CPU ${f(x.cpuUs, 0)} µs/req  load ${f(x.load, 2)}`);
      }
    }
  } finally {
    for (const s of servers) await stop(s);
  }
  const loadEnd = loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`\nMedians of ${ROUNDS} rounds at concurrency ${C} (load average at the end: ${loadEnd})`);
  console.log(`${'server'.padEnd(52)}   p50 ms   p99 ms  p99.9 ms   requests/s   CPU µs/req   best p99`);
  let best: { c: Config; p99: number } | null = null;
  configs.forEach((c, i) => {
    const m = (k: keyof Sample) => median(samples[i].map((x) => x[k]));
    const p99 = m('p99');
    if (!best || p99 < best.p99) best = { c, p99 };
    console.log(`${label(c).padEnd(52)}   ${f(m('p50')).padStart(6)}   ${f(p99).padStart(6)}  ${f(m('p999')).padStart(8)}   ${f(m('rps'), 0).padStart(10)}   ${f(m('cpuUs'), 0).padStart(10)}   ${f(Math.min(...samples[i].map((x) => x.p99))).padStart(8)}`);
  });
  const b = best as { c: Config; p99: number } | null;
  if (b) {
    console.log(
      `the lowest floor (median p99 at c${C}): ${f(b.p99)} ms (${label(b.c)}) — ${b.p99 < 2 ? 'under 2 ms: the host allows the goal' : 'not under 2 ms: no server on this host meets p99 < 2 ms under these conditions'} (load average ${loadEnd})`,
    );
  }
}

await main();
