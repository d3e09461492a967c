// The decision service over loopback HTTP with keep-alive: decide latency (p50/p99) and decisions
// per second at concurrency 1, 16 and 64, with the memory store and with Redis; in-process
// `engine.decide` on the same policy as the reference (what HTTP costs).
//
//   npm run bench:service                      (starts `rein serve` and its own redis-server)
//   BENCH_SECONDS=5 npm run bench:service
//   REIN_USE_DIST=1 npm run bench:service      (the built package; run `npm run build` first)
//   BENCH_LOADGEN=node npm run bench:service   (force the Node load generator; default: wrk if installed)
//
// The load generator. By default it is wrk (C, epoll; Debian/Ubuntu `apt-get install wrk`, macOS
// `brew install wrk`), spawned with one thread, driven by a Lua script this file writes (POST bodies
// prepared once, decide-and-settle by parsing the reservation id). It costs a fraction of the CPU of
// a Node client, so on a small machine it takes less of the cores the server needs and is less of the
// tail. Without wrk (or with BENCH_LOADGEN=node) the fallback is a Node client (node:http with a
// keep-alive agent, one socket per concurrent client); every row says which generator measured it.
// Closed loop either way: each connection sends its next request when the answer arrives.
//
// The floor: the same load, through the same generator, against a trivial fastify server (same
// fastify options and JSON parser as `rein serve`, one route answering a fixed decision of the same
// size), run right before each memory row. Its latency and CPU are what the framework, the loopback
// socket and the generator cost on this machine; rein / trivial is Rein's own share.
//
// Besides wall-clock figures the bench reports the server's CPU time per decision (from /proc), which a
// busy machine does not distort, the decisions/s one core could serve at that cost, and the server's
// young-generation GC (from `--trace-gc`): scavenges per 1,000 requests and their pause p50/max.
//
// Rows: `decide` — every decision reserves a budget charge (limits high enough that all are allowed),
// none is settled, so reservations pile up until they expire (15 min): the worst case for memory.
// `decide+settle` — the agent's loop: each reservation is settled by the generator's next request
// (`/v1/settle` with the actual cost); latency and requests/s are over both kinds of request, and
// decisions/s counts the decides; it runs on a fresh server (no reservations left by the rows before).
// `rein-y64` — the decide row at concurrency 16 (memory store) once more, on a server started with
// `node --min-semi-space-size=64 --max-semi-space-size=64` (BENCH_YOUNG=N for another size, a list
// such as BENCH_YOUNG=2,64 for one row each, 0 to skip): a larger young generation gives fewer and
// longer scavenges, a smaller one more and shorter — evaluated settings, not rein serve's default
// (docs/benchmarks.md, "Session 7" and "Session 8").
// Warm-up: 3 s for the first row of each server process (JIT), 1 s for the others; then
// BENCH_SECONDS measured. Latency columns: p50, p99 and p99.9 (the generator's histogram).
//
// Pinning (BENCH_PIN: `1` on, `0` off, default `auto`: on when `taskset` (util-linux) exists, the
// machine has ≥ 2 cores and it is quiet — 1-minute load average under half the cores at the start):
// the load generator (and this process, and the redis-server it starts) runs on CPU 0, every server
// under test — the trivial floor and `rein serve` alike — on CPU 1, so the generator never takes the
// server's core and the server never migrates (what running the generator on another machine does).
// On a machine shared with busy neighbours pinning hurts instead (the server cannot leave a core they
// use), hence `auto`. Every row and verdict says how it ran. docs/benchmarks.md "Session 9: the
// service's p99" has the evidence; `npm run bench:service-floor` measures the floors both ways.
//
// Allocation: the servers run with `--trace-gc-nvp`; each row adds the bytes allocated per request
// and the bytes promoted to the old generation per request (what outlived two scavenges: for the
// decide rows, mostly the unsettled reservations' settle data), which load does not distort.
//
// Against another checkout (BENCH_OTHER=DIR, e.g. a `git worktree` of main with `npm ci && npm run
// build` done): DIR's `rein serve` serves every memory row this one serves, right after it (so both
// servers have the same history: the same JIT warm-up and the same unsettled reservations in the
// heap — a server that served fewer rows reads ~15% more CPU per decision in the rounds, a bias found in
// session 12), and in the rounds it is measured beside this one's, interleaved; the medians compare the
// two (CPU, allocation, promotion, p99).
//
// Rounds (BENCH_ROUNDS=N, default 0: off): the p99 of one run moves a lot from run to run on a small
// shared machine — the trivial floor's own p99 was anywhere between 1.75 and 4.2 ms at c16 on the
// 2-core VM Rein is developed on. With N rounds, after the memory rows, the trivial server and `rein
// serve` (memory store) are measured N times each at concurrency 16, interleaved (trivial first in
// odd rounds, Rein first in even ones, so a drift of the machine's load hits both alike); the bench
// prints each round and the median p99 of each server, the median of the per-round ratios, and takes
// the p99 goal's verdict from Rein's median instead of one row.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { startRedis } from '../test/redis/redis-server.js';
import { cpuSeconds, hasWrk, loadNode, loadWrk, pct, pinning, PIN_SERVER_CPU, ROOT, sample, spawnOn, startTrivial, stop, traceGc, waitListening, type LoadResult, type Server } from './service-load.js';
import { POLICY, bodyFor } from './service-policy.js';
import { median } from './util.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
/** The semi-space sizes (MB) of the extra young-generation rows, one row each; BENCH_YOUNG=0 skips them. */
const YOUNG_MBS = (process.env.BENCH_YOUNG ?? '64').split(',').map(Number).filter((n) => n > 0);
const youngLabel = (mb: number) => `rein-y${mb}`;
/** Interleaved trivial/Rein rounds at concurrency 16 for the p99 verdict (0: none). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 0);
/** The concurrency of the p99 goal (and of the rounds). */
const GOAL_CONCURRENCY = 16;
/** Another checkout whose `rein serve` the rounds compare with (BENCH_OTHER=DIR). */
const OTHER = process.env.BENCH_OTHER ? join(process.env.BENCH_OTHER, 'bin/rein.js') : null;
/** Node flags for BENCH_OTHER's server (BENCH_OTHER_FLAGS="--min-semi-space-size=16 --max-semi-space-size=16"
 *  with BENCH_OTHER=. compares this checkout with itself under those flags). */
const OTHER_FLAGS = (process.env.BENCH_OTHER_FLAGS ?? '').split(' ').filter(Boolean);
/** Environment variables for BENCH_OTHER's server (BENCH_OTHER_ENV="REIN_SERVE_YOUNG=grow" with
 *  BENCH_OTHER=. compares `rein serve`'s GC flags with V8's defaults: docs/benchmarks.md, "Session 13"). */
const OTHER_ENV = Object.fromEntries(
  (process.env.BENCH_OTHER_ENV ?? '')
    .split(' ')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
/** BENCH_PIN (see the top of this file). */
const PIN = pinning();

async function startServer(policyDir: string, extra: string[], nodeFlags: string[] = [], bin = join(ROOT, 'bin/rein.js'), extraEnv: Record<string, string> = {}): Promise<Server> {
  // REIN_USE_DIST is this checkout's choice; another checkout runs its own build
  const env = { ...process.env, ...(bin === join(ROOT, 'bin/rein.js') ? {} : { REIN_USE_DIST: '1' }), ...extraEnv };
  const proc = spawnOn(PIN.on ? PIN_SERVER_CPU : null, process.execPath, [...nodeFlags, '--trace-gc-nvp', bin, 'serve', '--api', '--policy', policyDir, '--listen', '127.0.0.1:0', '--no-watch', '--no-dashboard', ...extra], env);
  const gc = traceGc(proc);
  return { url: await waitListening(proc, 'rein serve'), proc, gc };
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

interface Row {
  server: string;
  store: string;
  load: 'decide' | 'decide+settle';
  c: number;
  r: LoadResult;
  cpuUs: number;
  gc: { count: number; p50: number; max: number; full: number };
  /** Bytes allocated per request, and promoted to the old generation per request (`--trace-gc-nvp`). */
  allocB: number;
  promotedB: number;
  /** Rounds mode: `round i/N`. */
  round?: string;
}

/** One interleaved round of the rounds mode: the trivial floor and Rein at the same concurrency (and
 *  another checkout's Rein with BENCH_OTHER). */
interface Round {
  trivial: Row;
  rein: Row;
  other?: Row;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rein-bench-service-'));
  writeFileSync(join(dir, 'bench.rein'), POLICY);
  const want = process.env.BENCH_LOADGEN;
  const wrk = want === 'node' ? false : hasWrk();
  if (want === 'wrk' && !wrk) throw new Error('BENCH_LOADGEN=wrk but wrk is not installed (apt-get install wrk)');
  const gen = wrk ? 'wrk (1 thread, C)' : `node:http client${want === 'node' ? '' : ' (wrk not installed: apt-get install wrk)'}`;
  const runLoad = (base: string, c: number, seconds: number, settle: boolean) => (wrk ? loadWrk(dir, base, c, seconds, settle) : loadNode(base, c, seconds, settle));
  const settleAt = CONCURRENCY.includes(16) ? 16 : CONCURRENCY[CONCURRENCY.length - 1];

  console.log(`rein serve --api over loopback HTTP/1.1 keep-alive, ${SECONDS} s per row after a warm-up (3 s for a process's first row, else 1 s; node ${process.version}${process.env.REIN_USE_DIST === '1' ? ', dist' : ', sources via tsx'})`);
  console.log(`load generator: ${gen}`);
  if (PIN.on) {
    // this process (the Node generator, if used), wrk and redis-server inherit CPU 0; servers go to CPU 1
    const r = spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset could not pin the bench to CPU 0: ${r.stderr}`);
  }
  console.log(`CPU placement: ${PIN.label}`);
  const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`load average at the start: ${load()} (${cpus().length} cores)`);
  const ref = await inProcess();
  console.log(`in-process engine.decide (same policy, memory store): ${f(ref / 1000, 1)} k decisions/s\n`);
  console.log('server   store   load            conc   decisions/s   p50 ms   p99 ms  p99.9 ms   requests   CPU µs/decision  → per core   scavenges/1k req  pause p50/max ms  alloc KB/req  promoted B/req');

  // The first row of a process warms up for 3 s: until the JIT's background compilation (which /proc
  // counts as the server's CPU) is done; a loaded machine needs that long. Later rows: 1 s.
  const warmed = new Set<Server>();
  const rows: Row[] = [];
  const rounds: Round[] = [];
  /** Measure one row; `round` (rounds mode): labelled with it in the load column and kept out of `rows`. */
  const measure = async (s: Server, server: string, store: string, c: number, settle: boolean, round?: string): Promise<Row> => {
    await runLoad(s.url, c, warmed.has(s) ? 1 : 3, settle); // warm-up
    warmed.add(s);
    const gcFrom = s.gc.length;
    const cpu0 = cpuSeconds(s.proc.pid!);
    const r = await runLoad(s.url, c, SECONDS, settle);
    const cpu1 = cpuSeconds(s.proc.pid!);
    if (r.errors > 0) throw new Error(`${server} ${store} c${c}: ${r.errors} failed requests`);
    const gcs = s.gc.slice(gcFrom);
    const sc = gcs.filter((g) => g.kind === 'scavenge').map((g) => g.ms).sort((a, b) => a - b);
    // each GC reports what was allocated since the one before: over a window of many GCs, per request
    const sum = (k: 'allocated' | 'promoted') => gcs.reduce((x, g) => x + g[k], 0);
    const row: Row = {
      server,
      store,
      load: settle ? 'decide+settle' : 'decide',
      round,
      c,
      r,
      // per decision: a settle's cost is counted with the decision it settles
      cpuUs: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) * 1e6) / Math.max(1, r.decides) : NaN,
      gc: { count: sc.length, p50: sc.length ? pct(sc, 50) : 0, max: sc.length ? sc[sc.length - 1] : 0, full: gcs.length - sc.length },
      allocB: sum('allocated') / Math.max(1, r.requests),
      promotedB: sum('promoted') / Math.max(1, r.requests),
    };
    if (round === undefined) rows.push(row);
    const dps = r.decides / r.seconds;
    console.log(
      `${server.padEnd(8)} ${store.padEnd(7)} ${(round ?? row.load).padEnd(14)} ${String(c).padStart(5)}   ${f(dps, 0).padStart(11)}   ${f(r.p50, 3).padStart(6)}   ${f(r.p99, 3).padStart(6)}  ${f(r.p999, 3).padStart(8)}   ${String(r.requests).padStart(8)}   ${f(row.cpuUs, 0).padStart(15)}  ${f(1e6 / row.cpuUs, 0).padStart(10)}   ${f((1000 * sc.length) / Math.max(1, r.requests), 2).padStart(16)}  ${`${f(row.gc.p50, 2)}/${f(row.gc.max, 2)}${row.gc.full ? ` (+${row.gc.full} full)` : ''}`.padEnd(16)}  ${f(row.allocB / 1024, 1).padStart(12)}  ${f(row.promotedB, 0).padStart(14)}`,
    );
    return row;
  };

  const redis = await startRedis();
  try {
    for (const [store, extra] of [
      ['memory', []],
      ['redis', ['--redis', redis.url]],
    ] as [string, string[]][]) {
      const srv = await startServer(dir, extra);
      const trivial = store === 'memory' && process.env.BENCH_BASELINE !== '0' ? await startTrivial(dir, await sample(new URL(srv.url), bodyFor(0)), { cpu: PIN.on ? PIN_SERVER_CPU : null }) : null;
      const other = trivial && ROUNDS > 0 && OTHER ? await startServer(dir, extra, OTHER_FLAGS, OTHER, OTHER_ENV) : null;
      try {
        for (const c of CONCURRENCY) {
          const t = trivial ? await measure(trivial, 'trivial', '-', c, false) : null;
          const r = await measure(srv, 'rein', store, c, false);
          // The other checkout serves the same row (same history as this one before the rounds; the row is not a comparison).
          if (other) await measure(other, 'other', store, c, false, 'warm-up');
          if (t) {
            console.log(
              `         rein / trivial fastify: CPU ${f(r.cpuUs / t.cpuUs)}× (Rein's own ≈ ${f(r.cpuUs - t.cpuUs, 0)} µs/decision), p50 ${f(r.r.p50 / t.r.p50)}×, p99 ${f(r.r.p99 / t.r.p99)}×, throughput ${f(r.r.decides / r.r.seconds / (t.r.decides / t.r.seconds))}×`,
            );
          }
        }
        // Rounds: the trivial floor and Rein at c16, interleaved (see the top of this file).
        if (trivial && ROUNDS > 0) {
          const names = other ? ['trivial', 'rein', 'other'] : ['trivial', 'rein'];
          console.log(`rounds: ${ROUNDS} × (${names.join(', ')}) at concurrency ${GOAL_CONCURRENCY}, interleaved (the order reversed every other round), ${SECONDS} s each after 1 s of warm-up${other ? `; other = ${OTHER}` : ''}`);
          for (let i = 1; i <= ROUNDS; i++) {
            const label = `round ${i}/${ROUNDS}`;
            const got: Record<string, Row> = {};
            for (const which of i % 2 === 1 ? names : [...names].reverse()) {
              got[which] =
                which === 'trivial'
                  ? await measure(trivial, 'trivial', '-', GOAL_CONCURRENCY, false, label)
                  : which === 'rein'
                    ? await measure(srv, 'rein', store, GOAL_CONCURRENCY, false, label)
                    : await measure(other!, 'other', store, GOAL_CONCURRENCY, false, label);
            }
            rounds.push({ trivial: got.trivial, rein: got.rein, other: got.other });
          }
          if (other) await stop(other);
          printRounds(rounds);
        }
        // The agent's loop: decide, act, settle. A fresh server, so no unsettled reservations of the rows above.
        await stop(srv);
        const fresh = await startServer(dir, extra);
        try {
          await measure(fresh, 'rein', store, settleAt, true);
        } finally {
          await stop(fresh);
        }
        // The same decide load on a server whose semi-spaces are each BENCH_YOUNG size from the start (node
        // --min/--max-semi-space-size; V8 would take tens of seconds of load to grow them that far):
        // fewer, longer scavenges (docs/benchmarks.md, "Session 7").
        for (const mb of store === 'memory' ? YOUNG_MBS : []) {
          const young = await startServer(dir, extra, [`--min-semi-space-size=${mb}`, `--max-semi-space-size=${mb}`]);
          try {
            await measure(young, youngLabel(mb), store, settleAt, false);
          } finally {
            await stop(young);
          }
        }
      } finally {
        await stop(srv);
        if (trivial) await stop(trivial);
        if (other) await stop(other);
      }
    }
  } finally {
    await redis.destroy();
  }
  summary(rows, rounds, gen, load(), PIN.label);
}

/** The rounds' medians: p50, p99 and CPU per decision of each server, and the median per-round ratio. */
function roundsVerdict(rounds: readonly Round[]): { trivialP99: number; reinP99: number; p99Ratio: number; trivialP50: number; reinP50: number; trivialCpu: number; reinCpu: number; cpuRatio: number } {
  return {
    trivialP99: median(rounds.map((x) => x.trivial.r.p99)),
    reinP99: median(rounds.map((x) => x.rein.r.p99)),
    p99Ratio: median(rounds.map((x) => x.rein.r.p99 / x.trivial.r.p99)),
    trivialP50: median(rounds.map((x) => x.trivial.r.p50)),
    reinP50: median(rounds.map((x) => x.rein.r.p50)),
    trivialCpu: median(rounds.map((x) => x.trivial.cpuUs)),
    reinCpu: median(rounds.map((x) => x.rein.cpuUs)),
    cpuRatio: median(rounds.map((x) => x.rein.cpuUs / x.trivial.cpuUs)),
  };
}

function printRounds(rounds: readonly Round[]): void {
  if (rounds.length === 0) return;
  const v = roundsVerdict(rounds);
  console.log(
    `         medians of ${rounds.length} rounds at c${GOAL_CONCURRENCY}: p99 trivial ${f(v.trivialP99, 3)} ms, rein ${f(v.reinP99, 3)} ms (rein / trivial, median of the rounds' ratios: ${f(v.p99Ratio)}×); ` +
      `p50 ${f(v.trivialP50, 3)} / ${f(v.reinP50, 3)} ms; CPU ${f(v.trivialCpu, 0)} / ${f(v.reinCpu, 0)} µs per request (${f(v.cpuRatio)}×); ` +
      `allocated ${f(median(rounds.map((x) => x.trivial.allocB)) / 1024, 1)} / ${f(median(rounds.map((x) => x.rein.allocB)) / 1024, 1)} KB and promoted ${f(median(rounds.map((x) => x.trivial.promotedB)), 0)} / ${f(median(rounds.map((x) => x.rein.promotedB)), 0)} B per request`,
  );
  const withOther = rounds.filter((x): x is Round & { other: Row } => x.other !== undefined);
  if (withOther.length > 0) {
    const m = (g: (x: Round & { other: Row }) => number) => f(median(withOther.map(g)));
    console.log(
      `         this checkout / BENCH_OTHER (median of the rounds' ratios): CPU ${m((x) => x.rein.cpuUs / x.other.cpuUs)}×, allocated ${m((x) => x.rein.allocB / x.other.allocB)}×, promoted ${m((x) => x.rein.promotedB / Math.max(1, x.other.promotedB))}×, p50 ${m((x) => x.rein.r.p50 / x.other.r.p50)}×, p99 ${m((x) => x.rein.r.p99 / x.other.r.p99)}×; ` +
        `medians: CPU ${f(median(withOther.map((x) => x.rein.cpuUs)), 0)} / ${f(median(withOther.map((x) => x.other.cpuUs)), 0)} µs, p99 ${f(median(withOther.map((x) => x.rein.r.p99)), 3)} / ${f(median(withOther.map((x) => x.other.r.p99)), 3)} ms, allocated ${f(median(withOther.map((x) => x.rein.allocB)) / 1024, 1)} / ${f(median(withOther.map((x) => x.other.allocB)) / 1024, 1)} KB, promoted ${f(median(withOther.map((x) => x.rein.promotedB)), 0)} / ${f(median(withOther.map((x) => x.other.promotedB)), 0)} B per request`,
    );
  }
}

/** The figures #20 asks for, labelled, with its goals. */
function summary(rows: Row[], rounds: readonly Round[], gen: string, load: string, pin: string): void {
  const rein = rows.filter((r) => r.server === 'rein' && r.load === 'decide');
  const dps = (r: Row) => r.r.decides / r.r.seconds;
  console.log(`\nSummary (decide rows, ${gen}; ${pin}; load average at the end: ${load})`);
  console.log('store    conc   p50 ms   p99 ms  p99.9 ms   decisions/s   server CPU µs/decision   alloc KB/req   promoted B/req');
  const line = (r: Row, label = r.store) =>
    console.log(`${label.padEnd(8)} ${String(r.c).padStart(4)}   ${f(r.r.p50, 3).padStart(6)}   ${f(r.r.p99, 3).padStart(6)}  ${f(r.r.p999, 3).padStart(8)}   ${f(dps(r), 0).padStart(11)}   ${f(r.cpuUs, 0).padStart(22)}   ${f(r.allocB / 1024, 1).padStart(12)}   ${f(r.promotedB, 0).padStart(14)}`);
  for (const r of rein) line(r);
  for (const mb of YOUNG_MBS) {
    const young = rows.find((r) => r.server === youngLabel(mb));
    if (!young) continue;
    console.log(`with node --min-semi-space-size=${mb} --max-semi-space-size=${mb} (${mb > 16 ? 'fewer, longer' : 'more, shorter'} scavenges than the default; not the default, docs/benchmarks.md "Session 7" and "Session 8"):`);
    line(young, 'memory');
    console.log(`  p99 at concurrency ${young.c}: ${f(young.r.p99, 3)} ms — ${young.r.p99 < 2 ? 'under' : 'not under'} 2 ms with this setting`);
  }
  const c16 = rein.find((r) => r.store === 'memory' && r.c === GOAL_CONCURRENCY);
  if (rounds.length > 0) {
    const v = roundsVerdict(rounds);
    console.log(
      `rounds at concurrency ${GOAL_CONCURRENCY} (memory store, ${rounds.length} interleaved): median p99 trivial fastify ${f(v.trivialP99, 3)} ms, rein ${f(v.reinP99, 3)} ms; rein / trivial ${f(v.p99Ratio)}× (median of the rounds' ratios); CPU ${f(v.reinCpu, 0)} against ${f(v.trivialCpu, 0)} µs per request`,
    );
    console.log(
      `goal p99 < 2 ms at concurrency ${GOAL_CONCURRENCY}, memory store (median of ${rounds.length} rounds; ${pin}; load average ${load}): ${f(v.reinP99, 3)} ms — ${v.reinP99 < 2 ? 'met' : 'not met'}` +
        `${v.trivialP99 >= 2 ? ` — the trivial fastify floor itself was ${f(v.trivialP99, 3)} ms in the same rounds: this host cannot show it` : ''}${c16 ? ` (the single c${GOAL_CONCURRENCY} row above: ${f(c16.r.p99, 3)} ms)` : ''}`,
    );
  } else if (c16) console.log(`goal p99 < 2 ms at concurrency 16, memory store: ${f(c16.r.p99, 3)} ms — ${c16.r.p99 < 2 ? 'met' : 'not met'} (one run, ${pin}, load average ${load}; BENCH_ROUNDS=5 takes the median of 5 interleaved rounds)`);
  const best = rein.filter((r) => r.store === 'memory').sort((a, b) => dps(b) - dps(a))[0];
  if (best) {
    console.log(
      `goal ≥ 10,000 decisions/s per process: ${f(dps(best), 0)}/s (memory, concurrency ${best.c}, ${pin}, load average ${load}) — ${dps(best) >= 10_000 ? 'met' : 'not met'}; ` +
        `at its CPU cost one core could serve ${f(1e6 / best.cpuUs, 0)}/s`,
    );
  }
}

await main();
