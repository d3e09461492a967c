// Decisions per second and latency with the Redis budget store on loopback: a single node and a
// 3-primary Redis Cluster, 1 and 4 processes, with and without batching (the store's default: the calls
// made while the event loop turns go to Redis as one script run). Also CPU per decide + settle on each
// side (Node, Redis), which depends far less on a busy machine than throughput does.
//
//   npm run bench:redis                   (starts its own redis-server and cluster on free loopback ports)
//   BENCH_SECONDS=5 BENCH_CONCURRENCY=64 npm run bench:redis
//   BENCH_CLUSTER=0 npm run bench:redis   (single node only)
//
// Each process runs BENCH_CONCURRENCY decide() loops in parallel for BENCH_SECONDS, settling every
// allowed decision (so one iteration = decide + settle), against ceilings keyed by team (all processes
// contend on the same counters). Workers start together: each connects, reports ready, and waits for
// the parent's "go" (sent to all at once on stdin), so no worker runs alone at the start or the end.
// The parent aggregates decisions and per-iteration latencies.

import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { RedisBudgetStore } from '../language/node/redis-store.js';
import { startRedis } from '../test/redis/redis-server.js';
import { startCluster } from '../test/redis/redis-cluster.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const POLICY = {
  'bench.rein': `policy redis_bench {
  default allow
}
input {
  team: string
  session: string
  cost: money
}
budget team_daily {
  limit $1_000_000_000 per day
  charge cost
  by team
}
budget session_rate {
  limit 1_000_000_000 per minute
  charge 1
  by session
}
`,
};

interface Target {
  url?: string;
  nodes?: { host: string; port: number }[];
  batching?: boolean;
}

interface Result {
  decisions: number;
  allowed: number;
  errors: number;
  latencies: number[];
  seconds: number;
  /** Node CPU (user + system, µs) spent in the run. */
  cpuUs: number;
}

async function connect(target: Target | null): Promise<RedisBudgetStore | MemoryBudgetStore> {
  if (!target) return new MemoryBudgetStore();
  const store = new RedisBudgetStore({ ...target, prefix: 'bench:', timeoutMs: 5000 });
  await store.ready(10_000);
  return store;
}

async function run(store: RedisBudgetStore | MemoryBudgetStore, tag: string): Promise<Result> {
  const engine = new Engine(compile(POLICY), { store });
  const latencies: number[] = [];
  let decisions = 0;
  let allowed = 0;
  let errors = 0;
  const teams = ['a', 'b', 'c', 'd'];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      let i = 0;
      while (performance.now() < deadline) {
        const s = performance.now();
        const d = await engine.decide({ team: teams[i % 4], session: `${tag}s${w}`, cost: '0.001' });
        if (d.effect === 'allow') {
          allowed++;
          await engine.settle(d, { cost: '0.001' });
        } else errors++;
        latencies.push((performance.now() - s) * 1000);
        decisions++;
        i++;
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return { decisions, allowed, errors, latencies, seconds: (performance.now() - t0) / 1000, cpuUs: c.user + c.system };
}

/** Spawns `n` workers, waits until all are connected, then starts them with one "go". */
async function workers(n: number, target: Target): Promise<Result[]> {
  const procs: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<Result>[] = [];
  for (let i = 0; i < n; i++) {
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', JSON.stringify(target), `w${i}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    procs.push(p);
    let out = '';
    let onReady: () => void = () => undefined;
    ready.push(new Promise<void>((r) => (onReady = r)));
    p.stdout!.on('data', (b) => {
      out += b;
      if (out.startsWith('ready\n')) onReady();
    });
    done.push(
      new Promise<Result>((resolve, reject) =>
        p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`worker exited ${code}`)))),
      ),
    );
  }
  await Promise.all(ready);
  for (const p of procs) p.stdin!.end('go\n');
  return Promise.all(done);
}

function summary(name: string, results: Result[]) {
  const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const decisions = results.reduce((n, r) => n + r.decisions, 0);
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const seconds = Math.max(...results.map((r) => r.seconds));
  const pct = (p: number) => (all[Math.min(all.length - 1, Math.floor(all.length * p))] / 1000).toFixed(2);
  const perProcess = decisions / seconds / results.length;
  console.log(
    `${name.padEnd(46)} ${(decisions / seconds).toFixed(0).padStart(8)} /s total ${perProcess.toFixed(0).padStart(8)} /s per process   p50 ${pct(0.5).padStart(6)} ms   p99 ${pct(0.99).padStart(6)} ms${errors ? `   (${errors} not allowed!)` : ''}`,
  );
  return decisions / seconds;
}

if (process.argv[2] === '--worker') {
  const store = await connect(JSON.parse(process.argv[3]) as Target);
  process.stdout.write('ready\n');
  await new Promise<void>((r) => process.stdin.once('data', () => r()));
  const r = await run(store, process.argv[4]);
  if (store instanceof RedisBudgetStore) await store.close();
  process.stdout.write(JSON.stringify(r));
} else {
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const uptime = () => `load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  console.log(`Node ${process.version}; ${os.cpus().length} CPUs, load average ${load}; ${SECONDS}s per run; ${CONCURRENCY} concurrent loops per process; one iteration = decide + settle; 2 budgets per decision`);
  console.log(`target: >= 30,000 decide + settle/s per process on loopback\n`);
  const mem = summary('memory store, 1 process (reference)', [await run(new MemoryBudgetStore(), 'm')]);
  const rows: Record<string, number> = {};
  const cpuRows: { label: string; nodeUs: number; redisUs: number; primaries: number }[] = [];
  const { Redis } = await import('ioredis');
  /** Redis CPU (µs, user + sys) summed over the given nodes. */
  const redisCpu = async (ports: number[]) => {
    let us = 0;
    for (const port of ports) {
      const c = new Redis({ host: '127.0.0.1', port });
      try {
        const info = await c.info('cpu');
        us += (Number(/used_cpu_user:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)![1])) * 1e6;
      } finally {
        c.disconnect();
      }
    }
    return us;
  };
  /** `n` worker processes started together, with CPU per iteration on each side (Node: summed over the workers). */
  const fleet = async (label: string, n: number, target: Target, ports: number[]) => {
    const r0 = await redisCpu(ports);
    const rs = await workers(n, target);
    const decisions = rs.reduce((x, r) => x + r.decisions, 0);
    const redisUs = ((await redisCpu(ports)) - r0) / decisions;
    const nodeUs = rs.reduce((x, r) => x + r.cpuUs, 0) / decisions;
    cpuRows.push({ label, nodeUs, redisUs, primaries: ports.length });
    return rs;
  };
  /** One process in this one, with CPU per iteration on each side. */
  const measured = async (label: string, target: Target, ports: number[]) => {
    const store = await connect(target);
    try {
      const r0 = await redisCpu(ports);
      const c0 = process.cpuUsage();
      const r = await run(store, label.replace(/\W/g, ''));
      const c = process.cpuUsage(c0);
      const redisUs = ((await redisCpu(ports)) - r0) / r.decisions;
      cpuRows.push({ label, nodeUs: (c.user + c.system) / r.decisions, redisUs, primaries: ports.length });
      return r;
    } finally {
      await (store as RedisBudgetStore).close();
    }
  };
  const redis = await startRedis();
  try {
    // batching off and on, alternated twice: in-process A/B against the same server
    const off: Result[] = [];
    const on: Result[] = [];
    for (let round = 0; round < 2; round++) {
      off.push(await measured(`single node, batching off (${round + 1})`, { url: redis.url, batching: false }, [redis.port]));
      on.push(await measured(`single node, batching on (${round + 1})`, { url: redis.url }, [redis.port]));
    }
    // the rounds of one setting as one run (their time added up)
    const merged = (rs: Result[]): Result => ({
      decisions: rs.reduce((n, r) => n + r.decisions, 0),
      allowed: rs.reduce((n, r) => n + r.allowed, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      latencies: rs.flatMap((r) => r.latencies),
      seconds: rs.reduce((n, r) => n + r.seconds, 0),
      cpuUs: rs.reduce((n, r) => n + r.cpuUs, 0),
    });
    rows.off = summary('single node, 1 process, batching off', [merged(off)]);
    rows.one = summary('single node, 1 process', [merged(on)]);
    rows.four = summary('single node, 4 processes (started together)', await fleet('single node, 4 processes', 4, { url: redis.url }, [redis.port]));
  } finally {
    await redis.destroy();
  }
  if (process.env.BENCH_CLUSTER !== '0') {
    const cluster = await startCluster({ masters: 3, replicas: 0 });
    try {
      const ports = cluster.nodes.map((n) => n.port);
      rows.c1 = summary('cluster (3 primaries), 1 process', [await measured('cluster, batching on', { nodes: cluster.seeds }, ports)]);
      rows.c4 = summary('cluster (3 primaries), 4 processes (together)', await fleet('cluster, 4 processes', 4, { nodes: cluster.seeds }, ports));
    } finally {
      await cluster.destroy();
    }
  }
  // CPU per iteration hardly depends on how busy the machine is; throughput does. The projection: a
  // process needs `node` µs of its core per decide + settle, and a primary `redis` µs of its core, so
  // with one core for the process and one for Redis ("a core pair") one process does 1e6 / max(node,
  // redis) per second; on this host both share the same cores, so at most 1e6 / (node + redis) each.
  console.log(`\nCPU per decide + settle (${uptime()} at the end):`);
  for (const r of cpuRows) {
    const redisPerPrimary = r.redisUs / r.primaries;
    const pair = 1e6 / Math.max(r.nodeUs, redisPerPrimary);
    console.log(
      `  ${r.label.padEnd(34)} Node ${r.nodeUs.toFixed(1).padStart(6)} µs + Redis ${r.redisUs.toFixed(1).padStart(6)} µs${r.primaries > 1 ? ` (summed over ${r.primaries} primaries)` : ''}` +
        `  → ${pair.toFixed(0).padStart(6)}/s per process on a core pair (1 Node core + 1 Redis core${r.primaries > 1 ? ' per primary' : ''}); ${(1e6 / (r.nodeUs + r.redisUs)).toFixed(0)}/s on one shared core`,
    );
  }
  const best = cpuRows.filter((r) => r.primaries === 1 && !r.label.includes('off')).sort((a, b) => a.nodeUs + a.redisUs - (b.nodeUs + b.redisUs))[0];
  if (best) {
    const goal = 30_000;
    console.log(
      `\nthe goal (${goal}/s per process, 4 processes) at the lowest single-node CPU above (Node ${best.nodeUs.toFixed(1)} µs, Redis ${best.redisUs.toFixed(1)} µs): ` +
        `each process needs ${((goal * best.nodeUs) / 1e6).toFixed(2)} cores; 4 processes need ${((4 * goal * best.redisUs) / 1e6).toFixed(2)} cores of Redis ` +
        `(one primary is one core: ${(1e6 / best.redisUs).toFixed(0)}/s at most, so 4 × ${goal}/s needs a cluster of ≥ ${Math.ceil((4 * goal * best.redisUs) / 1e6)} primaries). This host has ${os.cpus().length} cores in all.`,
    );
  }
  console.log(
    `\nratios: batching = ${(rows.one / rows.off).toFixed(2)} × off; single node 1 process = ${(rows.one / mem).toFixed(3)} × memory store; ` +
      `4 processes = ${(rows.four / rows.one).toFixed(2)} × 1 process` +
      (rows.c4 ? `; cluster 4 processes = ${(rows.c4 / rows.four).toFixed(2)} × single node 4 processes` : ''),
  );
  console.log(`(load average now ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}: on a busy machine throughput and the 4-process rows mostly measure the machine; compare CPU per iteration)`);
}

