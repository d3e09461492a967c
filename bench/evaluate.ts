// Decision throughput: Rein against the engines a Node user would otherwise pick, in one process.
//
//   npm run bench:evaluate            (node --no-turbo-inline-js-wasm-calls --expose-gc --import tsx bench/evaluate.ts)
//   BENCH_N=10000 BENCH_SECONDS=2 npm run bench:evaluate
//
// 1. Generates BENCH_N agent requests (deterministic).
// 2. Checks that every engine gives the same effect and the same rule names on every request.
// 3. Measures decisions/second (each engine loops over all requests for ~BENCH_SECONDS), p50/p99 latency
//    of single decisions, compile time and heap, and prints ratios against hand-written JavaScript.
// The Cedar peer needs `--no-turbo-inline-js-wasm-calls` on Node 20 (V8 can crash otherwise).

import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/runtime/compile.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { celEngine, cedarContext, cedarEngine, generateRequests, handWritten, jsonRulesEngine, project, type BenchRequest, type Outcome } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_N ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ONLY = process.env.BENCH_ONLY?.split(',');

function readSet(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.rein')).sort()) files[f] = readFileSync(join(dir, f), 'utf8');
  return files;
}

function fromDecision(d: { effect: string; reasons: { kind: string; name?: string }[]; approvals: { name: string }[]; warnings: { name?: string }[] }): Outcome {
  const names = new Set<string>();
  for (const r of d.reasons) if (r.kind === 'rule' && r.name) names.add(r.name);
  for (const a of d.approvals) names.add(a.name);
  for (const w of d.warnings) if (w.name) names.add(w.name);
  return { effect: d.effect as Outcome['effect'], names: [...names].sort() };
}

interface Row {
  name: string;
  opsPerSec: number;
  p50us: number;
  p99us: number;
  setupMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure(name: string, setupMs: number, inputs: unknown[], fn: (x: unknown) => unknown, isAsync = false): Promise<Row> {
  // warm-up
  for (let i = 0; i < Math.min(inputs.length, 2000); i++) {
    const r = fn(inputs[i]);
    if (isAsync) await r;
  }
  let ops = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  let sink = 0;
  while (performance.now() < deadline) {
    if (isAsync) {
      for (let i = 0; i < inputs.length; i++) {
        const r = (await fn(inputs[i])) as unknown;
        if (r) sink++;
      }
    } else {
      for (let i = 0; i < inputs.length; i++) if (fn(inputs[i])) sink++;
    }
    ops += inputs.length;
  }
  const elapsed = performance.now() - t0;
  // latency of single calls
  const lat: number[] = [];
  const samples = Math.min(inputs.length, 5000);
  for (let i = 0; i < samples; i++) {
    const s = process.hrtime.bigint();
    const r = fn(inputs[i]);
    if (isAsync) await r;
    lat.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  lat.sort((a, b) => a - b);
  if (sink < 0) console.log(sink);
  return { name, opsPerSec: (ops / elapsed) * 1000, p50us: percentile(lat, 0.5), p99us: percentile(lat, 0.99), setupMs };
}

function same(a: Outcome, b: Outcome): boolean {
  return a.effect === b.effect && a.names.join(',') === b.names.join(',');
}

async function main() {
  const requests = generateRequests(N);
  const json = requests.map((r) => JSON.parse(JSON.stringify(r)) as BenchRequest);
  const cedarCtx = requests.map(cedarContext);

  let t = performance.now();
  const policy = compile(readSet(join(here, 'policy')));
  const reinCompileMs = performance.now() - t;

  const budgetFiles = { ...readSet(join(here, 'policy')), ...readSet(join(here, 'policy-budgets')) };
  t = performance.now();
  const budgetPolicy = compile(budgetFiles);
  const budgetCompileMs = performance.now() - t;

  t = performance.now();
  const cel = await celEngine();
  const celMs = performance.now() - t;
  t = performance.now();
  const jre = await jsonRulesEngine();
  const jreMs = performance.now() - t;
  t = performance.now();
  const cedar = await cedarEngine();
  const cedarMs = performance.now() - t;

  // ---------------- agreement
  const rein = json.map((r) => fromDecision(policy.evaluate(r)));
  const effects: Record<string, number> = {};
  let disagreements = 0;
  for (let i = 0; i < N; i++) {
    const expected = project(handWritten(requests[i]));
    effects[expected.effect] = (effects[expected.effect] ?? 0) + 1;
    const others: [string, Outcome][] = [
      ['rein', rein[i]],
      ['cel-js', project(cel(requests[i]))],
      ['json-rules-engine', project(await jre(requests[i]))],
      ['cedar', project(cedar(cedarCtx[i]))],
    ];
    for (const [name, got] of others) {
      if (!same(expected, got)) {
        if (disagreements++ < 5) console.error(`DISAGREE ${name} on request ${i}: expected ${JSON.stringify(expected)} got ${JSON.stringify(got)}\n  ${JSON.stringify(requests[i])}`);
      }
    }
  }
  if (disagreements) {
    console.error(`${disagreements} disagreements: the engines do not implement the same policy; no timing reported`);
    process.exit(1);
  }
  console.log(`agreement: all 5 engines give the same effect and rule names on ${N} requests (${JSON.stringify(effects)})`);

  // ---------------- throughput
  const rows: Row[] = [];
  const want = (n: string) => !ONLY || ONLY.some((o) => n.includes(o));
  if (want('hand')) rows.push(await measure('hand-written JS', 0, requests, (r) => handWritten(r as BenchRequest)));
  if (want('rein')) rows.push(await measure('rein policy.evaluate (validating)', reinCompileMs, json, (r) => policy.evaluate(r)));
  if (want('rein')) {
    const engine = new Engine(budgetPolicy, { store: new MemoryBudgetStore() });
    rows.push(await measure('rein Engine.decide + 2 budgets (memory store)', budgetCompileMs, json, (r) => engine.decide(r), true));
  }
  if (want('cel')) rows.push(await measure('@marcbachmann/cel-js', celMs, requests, (r) => cel(r as BenchRequest)));
  if (want('cedar')) rows.push(await measure('@cedar-policy/cedar-wasm', cedarMs, cedarCtx, (c) => cedar(c as Record<string, unknown>)));
  if (want('json')) rows.push(await measure('json-rules-engine', jreMs, requests.slice(0, 2000), (r) => jre(r as BenchRequest), true));

  const base = rows.find((r) => r.name === 'hand-written JS')?.opsPerSec;
  const reinRow = rows.find((r) => r.name.startsWith('rein policy.evaluate'));
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`);
  console.log(`\nNode ${process.version}, ${N} requests, ~${SECONDS}s per engine\n`);
  console.log('engine'.padEnd(48) + 'throughput'.padStart(12) + '  vs hand'.padStart(10) + '  rein is'.padStart(12) + '   p50 µs   p99 µs   setup ms');
  for (const r of rows) {
    const vsHand = base ? (r.opsPerSec / base).toFixed(3) : '-';
    const reinVs = reinRow ? `${(reinRow.opsPerSec / r.opsPerSec).toFixed(1)}×` : '-';
    console.log(r.name.padEnd(48) + fmt(r.opsPerSec).padStart(12) + vsHand.padStart(10) + reinVs.padStart(12) + r.p50us.toFixed(2).padStart(9) + r.p99us.toFixed(2).padStart(9) + r.setupMs.toFixed(1).padStart(11));
  }
  global.gc?.();
  const mem = process.memoryUsage();
  console.log(`\nheap used after run: ${(mem.heapUsed / 1048576).toFixed(1)} MiB (rss ${(mem.rss / 1048576).toFixed(1)} MiB)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
