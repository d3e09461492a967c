// Decisions per second and latency with the Redis budget store on loopback, 1 and 4 processes.
//
//   npm run bench:redis                   (starts its own redis-server on a free loopback port)
//   BENCH_SECONDS=5 BENCH_CONCURRENCY=64 npm run bench:redis
//
// Each process runs BENCH_CONCURRENCY decide() loops in parallel for BENCH_SECONDS against one
// ceiling keyed by team (so all processes contend on the same counters), settling every allowed
// decision, and reports its decisions and per-decision latencies; the parent aggregates them.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/runtime/compile.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { RedisBudgetStore } from '../language/node/redis-store.js';
import { startRedis } from '../test/redis/redis-server.js';

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

interface Result {
  decisions: number;
  allowed: number;
  latencies: number[];
  seconds: number;
}

async function worker(url: string | null): Promise<Result> {
  const store = url ? new RedisBudgetStore({ url, prefix: 'bench:', timeoutMs: 2000 }) : new MemoryBudgetStore();
  if (store instanceof RedisBudgetStore) await store.ready();
  const engine = new Engine(compile(POLICY), { store });
  const latencies: number[] = [];
  let decisions = 0;
  let allowed = 0;
  const teams = ['a', 'b', 'c', 'd'];
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      let i = 0;
      while (performance.now() < deadline) {
        const s = performance.now();
        const d = await engine.decide({ team: teams[i % 4], session: `s${w}`, cost: '0.001' });
        if (d.effect === 'allow') {
          allowed++;
          await engine.settle(d, { cost: '0.001' });
        }
        latencies.push((performance.now() - s) * 1000);
        decisions++;
        i++;
      }
    }),
  );
  if (store instanceof RedisBudgetStore) await store.close();
  return { decisions, allowed, latencies, seconds: (performance.now() - t0) / 1000 };
}

function spawnWorker(url: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`))));
  });
}

function summary(name: string, results: Result[]) {
  const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const decisions = results.reduce((n, r) => n + r.decisions, 0);
  const seconds = Math.max(...results.map((r) => r.seconds));
  const pct = (p: number) => all[Math.min(all.length - 1, Math.floor(all.length * p))].toFixed(0);
  console.log(`${name.padEnd(40)} ${(decisions / seconds).toFixed(0).padStart(9)} decisions/s   p50 ${pct(0.5).padStart(6)} µs   p99 ${pct(0.99).padStart(6)} µs`);
  return decisions / seconds;
}

if (process.argv[2] === '--worker') {
  const r = await worker(process.argv[3]);
  process.stdout.write(JSON.stringify(r));
} else {
  const redis = await startRedis();
  try {
    console.log(`Node ${process.version}; ${SECONDS}s per run; ${CONCURRENCY} concurrent decide loops per process; decide + settle per allowed decision; 2 budgets per decision`);
    const mem = summary('memory store, 1 process (reference)', [await worker(null)]);
    const one = summary('redis (loopback), 1 process', [await worker(redis.url)]);
    const four = summary('redis (loopback), 4 processes', await Promise.all([1, 2, 3, 4].map(() => spawnWorker(redis.url))));
    console.log(`\nratios: redis 1 process = ${(one / mem).toFixed(3)} × memory store; 4 processes = ${(four / one).toFixed(2)} × 1 process`);
  } finally {
    await redis.destroy();
  }
}
