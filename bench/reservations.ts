// Memory per live reservation: how much heap one unsettled reservation keeps (the store's entry and
// index slot, what the engine keeps for `settle` in its own index: the validated request, the
// counted budgets and counter keys).
//
//   npm run bench:reservations            (node --expose-gc --import tsx bench/reservations.ts)
//
// Decides the benchmark's requests (bench/policy + bench/policy-budgets, memory store, nothing
// settled) until BENCH_RESERVATIONS reservations are live, then compares the heap after a full GC with
// the heap before.

import { dirname, join } from 'node:path';
import { readSet } from './util.js';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { generateRequests } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const TARGET = Number(process.env.BENCH_RESERVATIONS ?? 200_000);


const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc (npm run bench:reservations)');
  process.exit(2);
}

const policy = compile({ ...readSet(join(here, 'policy')), ...readSet(join(here, 'policy-budgets')) });
const requests = generateRequests(10_000).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
const store = new MemoryBudgetStore();
const engine = new Engine(policy, { store });
// Warm up (compiles the decide path, fills the key caches), then start counting.
for (const r of requests) engine.decideSync(r);
const warm = store.inspect().reservations.length;
gc();
gc();
const before = process.memoryUsage().heapUsed;
let live = 0;
while (live < TARGET) {
  for (const r of requests) if (engine.decideSync(r).reservation !== null) live++;
}
gc();
gc();
const after = process.memoryUsage().heapUsed;
// The engine holds the settle data (engine.ts \`pending\`): it must still be reachable when the heap
// is measured, or its index would be collected with it and not counted.
if (engine.decideSync(requests[0]).effect === undefined) throw new Error('unreachable');
const total = store.inspect().reservations.length;
if (total - warm !== live + 1 && total - warm !== live) throw new Error(`expected ${live} new reservations, the store has ${total - warm}`);
console.log(`${live} live reservations: heap ${(before / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MiB, ${((after - before) / live).toFixed(0)} bytes each`);
