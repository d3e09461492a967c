// Memory per live reservation: how much heap one unsettled reservation keeps (the store's entry and
// index slot, what the engine keeps for `settle` in its own index: the validated request, the
// counted budgets and counter keys).
//
//   npm run bench:reservations            (node --expose-gc --import tsx bench/reservations.ts)
//   BENCH_OTHER=/tmp/base10 npm run bench:reservations     (that checkout's engine and store)
//   BENCH_STORE_ONLY=1 npm run bench:reservations          (the memory store alone)
//
// Decides the benchmark's requests (bench/policy + bench/policy-budgets, memory store, nothing
// settled) until BENCH_RESERVATIONS reservations are live, then compares the heap after a full GC with
// the heap before; also the array buffers' memory (off the JS heap: the memory store's slab since
// session 11) and the scavenges while the reservations were made (count, total and longest pause).
// BENCH_STORE_ONLY=1 reserves straight on the store instead (two items each, engine-like ids): the
// store's own share.

import { dirname, join, resolve } from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { constants } from 'node:perf_hooks';
import { readSet } from './util.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateRequests } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const TARGET = Number(process.env.BENCH_RESERVATIONS ?? 200_000);
const root = resolve(process.env.BENCH_OTHER ?? join(here, '..'));
const storeOnly = process.env.BENCH_STORE_ONLY === '1';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc (npm run bench:reservations)');
  process.exit(2);
}

const mod = (p: string) => import(pathToFileURL(join(root, p)).href);
const { compile } = await mod('language/policy.ts');
const { Engine } = await mod('language/runtime/engine.ts');
const { MemoryBudgetStore } = await mod('language/runtime/memory-store.ts');

const store = new MemoryBudgetStore();
/** Makes one reservation (true when it did). */
let make: () => boolean;
/** Keeps what the reservations hold reachable until the heap is measured. */
let keep: () => void;
if (storeOnly) {
  let n = 0;
  const items = [
    { counterKey: 'budget:agent:a1:day:20261207', limit: 1e15, charge: 1_000, enforce: true, expiresAt: null },
    { counterKey: 'budget:tenant:t1:month:202612', limit: 1e15, charge: 1_000, enforce: true, expiresAt: null },
  ];
  make = () => store.reserveSync({ reservationId: `rsv-${(n++).toString(36)}`, now: 0, ttlMs: 60_000, commit: true, items }).committed;
  keep = () => {};
} else {
  const policy = compile({ ...readSet(join(here, 'policy')), ...readSet(join(here, 'policy-budgets')) });
  const requests = generateRequests(10_000).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
  const engine = new Engine(policy, { store });
  let i = 0;
  make = () => engine.decideSync(requests[i++ % requests.length]).reservation !== null;
  // The engine holds the settle data (engine.ts `pending`): it must still be reachable when the heap
  // is measured, or its index would be collected with it and not counted.
  keep = () => {
    if (engine.decideSync(requests[0]).effect === undefined) throw new Error('unreachable');
  };
}
// Warm up (compiles the decide path, fills the key caches), then start counting.
for (let i = 0; i < 10_000; i++) make();
const warm = store.inspect().reservations.length;
gc();
gc();
const before = process.memoryUsage();
const scavenges: number[] = [];
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges.push(e.duration);
});
obs.observe({ entryTypes: ['gc'] });
let live = 0;
while (live < TARGET) if (make()) live++;
await new Promise((r) => setTimeout(r, 10)); // deliver the gc entries
obs.disconnect();
gc();
gc();
const after = process.memoryUsage();
keep();
const total = store.inspect().reservations.length;
if (total - warm !== live + 1 && total - warm !== live) throw new Error(`expected ${live} new reservations, the store has ${total - warm}`);
const per = (a: number, b: number) => ((a - b) / live).toFixed(0);
scavenges.sort((a, b) => a - b);
const sum = scavenges.reduce((a, b) => a + b, 0);
console.log(
  `${storeOnly ? 'store only, ' : ''}${root === resolve(join(here, '..')) ? 'this tree' : root}: ${live} live reservations: heap ${(before.heapUsed / 1048576).toFixed(1)} → ${(after.heapUsed / 1048576).toFixed(1)} MiB, ` +
    `${per(after.heapUsed, before.heapUsed)} bytes each on the heap, ${per(after.arrayBuffers, before.arrayBuffers)} in array buffers; ` +
    `${scavenges.length} scavenges while making them, ${sum.toFixed(1)} ms in all, p50 ${(scavenges[scavenges.length >> 1] ?? 0).toFixed(2)} max ${(scavenges[scavenges.length - 1] ?? 0).toFixed(2)} ms`,
);
