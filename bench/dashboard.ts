// The control room's figures (docs/control-room.md#figures): how fast `rein serve` aggregates a
// decision log, whether its memory stays bounded as the log grows, and the latency of the
// dashboard's API over real HTTP.
//
//   npm run bench:dashboard                 # 1,000,000 records (generated once, cached in the tmp dir)
//   REIN_BENCH_RECORDS=200000 npm run bench:dashboard
//
// Memory: the heap after aggregating N/10 and N records (a ratio near 1 means memory does not grow
// with the log), the peak RSS while reading, and for comparison the heap a naive reader needs for
// N/10 records (the whole file parsed into an array). API: p50/p99 of 500 sequential requests per
// endpoint on the N-record log, over a real loopback socket.

import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { LogSource } from '../language/node/serve/dashboard/log-source.js';
import { DashboardModel } from '../language/node/serve/dashboard/model.js';
import { dashboardPlugin } from '../language/node/serve/dashboard/plugin.js';
import { ApprovalQueue, FileApprovalStore } from '../language/node/approvals/queue.js';
import { writeFixtureLog } from '../test/serve/dashboard-fixture.js';

const N = Number(process.env.REIN_BENCH_RECORDS ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const MB = (b: number) => (b / 1048576).toFixed(1);

async function fixture(n: number): Promise<string> {
  const dir = join(tmpdir(), `rein-bench-dashboard-${n}`);
  const log = join(dir, 'decisions.jsonl');
  if (existsSync(log) && existsSync(join(dir, 'complete'))) return log;
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const end = Date.now();
  process.stdout.write(`generating ${n.toLocaleString('en-US')} decisions… `);
  await writeFixtureLog(log, n, { start: end - 3 * 86_400_000, end, driftAt: 0.9 });
  (await import('node:fs')).writeFileSync(join(dir, 'complete'), '');
  console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return log;
}

async function aggregate(log: string): Promise<{ records: number; ms: number; cpuMs: number; heap: number; peakRss: number; index: number; src: LogSource }> {
  gc();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const model = new DashboardModel();
  const src = new LogSource(log, model);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const records = await src.poll();
  const ms = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  clearInterval(sampler);
  gc();
  const heap = process.memoryUsage().heapUsed;
  // keep the model alive until measured
  if (model.totals.n !== records) throw new Error('count mismatch');
  return { records, ms, cpuMs: (c1.user + c1.system) / 1000, heap, peakRss, index: src.index.bytes, src };
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

async function main(): Promise<void> {
  const small = await fixture(Math.max(1000, Math.floor(N / 10)));
  const big = await fixture(N);
  console.log(`log: ${N.toLocaleString('en-US')} records, ${MB(statSync(big).size)} MB (N/10: ${MB(statSync(small).size)} MB)\n`);

  gc();
  const base = process.memoryUsage().heapUsed;
  const a = await aggregate(small);
  const b = await aggregate(big);
  console.log('aggregation (read, verify the chain, aggregate; one pass, 1 MiB chunks)');
  console.log(`  N/10: ${a.records.toLocaleString('en-US')} records in ${(a.ms / 1000).toFixed(2)} s = ${Math.round(a.records / (a.ms / 1000)).toLocaleString('en-US')} records/s; heap after ${MB(a.heap - base)} MB above baseline; peak RSS ${MB(a.peakRss)} MB`);
  console.log(`  N:    ${b.records.toLocaleString('en-US')} records in ${(b.ms / 1000).toFixed(2)} s = ${Math.round(b.records / (b.ms / 1000)).toLocaleString('en-US')} records/s (${MB(statSync(big).size / (b.ms / 1000))} MB/s); heap after ${MB(b.heap - base)} MB above baseline; peak RSS ${MB(b.peakRss)} MB`);
  console.log(`  CPU: ${(b.cpuMs / 1000).toFixed(2)} s for N = ${Math.round(b.records / (b.cpuMs / 1000)).toLocaleString('en-US')} records per CPU-second (${((b.cpuMs * 1000) / b.records).toFixed(1)} µs per record; wall-clock records/s depends on the load)`);
  console.log(`  heap N / heap N/10 = ${((b.heap - base) / Math.max(1, a.heap - base)).toFixed(2)} (≈1: the aggregates do not grow with the log)`);
  console.log(`  the log index (typed arrays, outside the JS heap): ${MB(a.index)} MB at N/10, ${MB(b.index)} MB at N (${(b.index / b.records).toFixed(0)} bytes per record; capped at 2M rows)`);

  // The naive reader, for scale: the N/10 file parsed into one array.
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const all = readFileSync(small, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
  gc();
  const naive = process.memoryUsage().heapUsed - h0;
  console.log(`  naive (whole N/10 file parsed into an array): ${MB(naive)} MB heap for ${all.length.toLocaleString('en-US')} records (${(naive / Math.max(1, a.heap - base)).toFixed(0)}× the aggregator's)`);
  all.length = 0;

  // API latency on the N-record log.
  const dir = join(tmpdir(), `rein-bench-dashboard-queue`);
  const queue = new ApprovalQueue({ store: new FileApprovalStore(dir) });
  const app = Fastify();
  await app.register(dashboardPlugin({ log: big, queue, pollMs: 200 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/dashboard/api`;
  const t0 = Date.now();
  for (;;) {
    const s = (await (await fetch(`${url}/summary`)).json()) as { loading: boolean; totals: { n: number } };
    if (!s.loading) break;
    if (Date.now() - t0 > 20 * 60_000) throw new Error('the log did not finish loading');
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`\n(rein serve started serving at once and finished reading the log ${((Date.now() - t0) / 1000).toFixed(1)} s later)`);
  console.log(`\nAPI latency over HTTP on the ${N.toLocaleString('en-US')}-record log (500 sequential requests each, after 50 warm-up)`);
  const endpoints = [
    ['GET /api/summary', `${url}/summary`],
    ['GET /api/summary?baseline=policy', `${url}/summary?baseline=policy`],
    ['GET /api/approvals', `${url}/approvals`],
    ['GET /api/session', `${url}/session`],
    [`GET /api/records/…/${N - 1}`, `${url}/records/decisions.jsonl/${N - 1}`],
  ] as const;
  let worst = 0;
  const measure = async (name: string, u: string, n: number) => {
    for (let i = 0; i < Math.min(50, n); i++) await (await fetch(u)).arrayBuffer();
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await fetch(u);
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
      times.push(performance.now() - t0);
    }
    const p99 = pct(times, 0.99);
    worst = Math.max(worst, p99);
    console.log(`  ${name.padEnd(48)} p50 ${pct(times, 0.5).toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   (${n} requests)`);
    return pct(times, 0.5);
  };
  for (const [name, u] of endpoints) await measure(name, u, 500);
  console.log(`  target: p99 < 50 ms → ${worst < 50 ? 'met' : 'NOT met'} (worst p99 ${worst.toFixed(2)} ms)`);

  // Filters and drill-downs: answered from the log index (before it, each read the whole log again).
  worst = 0;
  const DRILL = Number(process.env.REIN_BENCH_DRILL ?? 100);
  console.log(`
filters and drill-downs (from the index; ${DRILL} sequential requests each after warm-up)`);
  const drills = [
    ['GET /api/summary?team=sales', `${url}/summary?team=sales`],
    ['GET /api/summary?agent=agent-3&tool=search', `${url}/summary?agent=agent-3&tool=search`],
    ['GET /api/records?rule=no_drop', `${url}/records?rule=no_drop`],
    ['GET /api/records?effect=require_approval&team=ops', `${url}/records?effect=require_approval&team=ops`],
    [`GET /api/records?rule=large_transfer&before=${N >> 1}`, `${url}/records?rule=large_transfer&before=${N >> 1}`],
    ['GET /api/records?agent=nobody', `${url}/records?agent=nobody`],
  ] as const;
  let filteredP50 = 0;
  for (const [name, u] of drills) {
    const p50 = await measure(name, u, DRILL);
    if (name.includes('team=sales')) filteredP50 = p50;
  }
  console.log(`  worst p99 ${worst.toFixed(2)} ms (target 50 ms: ${worst < 50 ? 'met' : 'NOT met'})`);
  await app.close();

  // The filtered summaries in process, without HTTP: CPU and wall time per query on the N-record index.
  const Q = Number(process.env.REIN_BENCH_QUERIES ?? 100);
  console.log(`\nfiltered summaries in process (index of ${b.src.index.n.toLocaleString('en-US')} rows; ${Q} queries each: index pass + model + summary)`);
  let worstQ = 0;
  for (const f of [{ team: 'sales' }, { agent: 'agent-3', tool: 'search' }, { model: 'large' }, { policy: '1.0.0' }, { tool: 'db.drop', team: 'ops' }]) {
    const times: number[] = [];
    const c0 = process.cpuUsage();
    for (let i = 0; i < Q; i++) {
      const t0 = performance.now();
      const m = new DashboardModel();
      if (!(await b.src.summarizeIndexed(f, m))) throw new Error('the index could not answer');
      m.summary();
      times.push(performance.now() - t0);
    }
    const c = process.cpuUsage(c0);
    worstQ = Math.max(worstQ, pct(times, 0.99));
    console.log(`  summary ${JSON.stringify(f).padEnd(40)} p50 ${pct(times, 0.5).toFixed(2)} ms   p99 ${pct(times, 0.99).toFixed(2)} ms   CPU ${((c.user + c.system) / 1000 / Q).toFixed(2)} ms per query`);
  }
  console.log(`  worst p99 ${worstQ.toFixed(2)} ms (target 50 ms: ${worstQ < 50 ? 'met' : 'NOT met'})`);

  // The same filtered summary the way it was answered before the index: reading the whole log again.
  const replayed = new DashboardModel();
  const t1 = performance.now();
  await b.src.replay({ team: 'sales' }, replayed);
  const replayMs = performance.now() - t1;
  await b.src.stop();
  console.log(`  summary?team=sales by re-reading the log (no index): ${(replayMs / 1000).toFixed(1)} s — the index answers ${(replayMs / filteredP50).toFixed(0)}× faster (p50 over HTTP)`);
}

await main();
