// Bytes allocated per `await engine.decide` (bench/policy + bench/policy-budgets, memory store, never
// settled), by the function that allocated them: V8's sampling heap profiler with the objects later
// collected counted too (every 64 bytes sampled). Run it on this tree, or on another checkout of Rein
// (the same policy files and requests: this tree's):
//
//   npm run bench:decide-bytes [-- OTHER_CHECKOUT]
//
// Allocation is what the scavenges that follow cost, plus the bump itself; it varies by ±1–2 % between
// runs (sampling).

import { Session } from 'node:inspector/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { budgetsEngineOf } from './util.js';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.argv[2] ?? here);
const { engine, requests } = await budgetsEngineOf(root);
// Warm up: the decide path optimised, the key caches filled.
for (let k = 0; k < 30; k++) for (const r of requests) await engine.decide(r);

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
const N = 50_000;
for (let i = 0; i < N; i++) await engine.decide(requests[i % requests.length]);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: SampleNode } };
session.disconnect();

const by = new Map<string, number>();
let total = 0;
const walk = (n: SampleNode) => {
  const f = n.callFrame;
  const k = `${f.functionName || '(anonymous)'} (${f.url.split('/').slice(-1)[0] || 'native'})`;
  by.set(k, (by.get(k) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children) walk(c);
};
walk(profile.head);
console.log(`${root}: ${(total / N).toFixed(0)} bytes allocated per await engine.decide (${N} decisions; the loop's own promise included)`);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 12)) if (v / N >= 1) console.log(`${(v / N).toFixed(0).padStart(6)}  ${k}`);
