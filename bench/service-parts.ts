// Where a `POST /v1/decide` of `rein serve` spends its CPU and its allocations, part by part, in
// process: the same functions the route calls, on the bench's requests (bench/service-policy.ts: one
// budget reserved per decision, nothing settled, as in bench:service's decide rows).
//
//   npm run bench:service-parts                  (node --import tsx bench/service-parts.ts)
//   BENCH_N=50000 BENCH_ROUNDS=7 npm run bench:service-parts
//   BENCH_PARTS=serialize npm run bench:service-parts     (only the parts whose name matches)
//
// Per part: CPU µs per call (process.cpuUsage over BENCH_N calls, median of BENCH_ROUNDS rounds) and
// bytes allocated per call (V8's sampling heap profiler with every sample kept, collected or not).
// Those are hot-loop figures: the part's code and data stay in the CPU's caches from one call to the
// next. In the server they do not — between two decisions the CPU runs node's http, fastify, the
// kernel's loopback and the load generator. The `cold` column is the median time of one call made
// right after touching BENCH_COLD_KB (default 2048) KB of other memory, the `hot` column the same
// per-call median without it (docs/benchmarks.md, "Session 8": their ratio is why the parts sum to
// less than the server's CPU per decision).
// The HTTP side — node's http, fastify's routing, content-type parsing, reply and hooks, the
// kernel's loopback — is what bench:service's trivial fastify server costs; the parts below are
// what Rein adds to it. Read the sum against bench:service's "CPU µs/decision" of both servers.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Decision } from '../language/runtime/decision.js';
import { parseDecideBody, plainBody } from '../language/node/serve/api.js';
import { decisionJson } from '../language/node/serve/decision-json.js';
import { NOT_PLAIN, plainJson, SERVE_SETTLE_GRACE_MS } from '../language/node/serve/app.js';
import { ServeMetrics } from '../language/node/serve/metrics.js';
import { PolicyHolder } from '../language/node/serve/policy-holder.js';
import { decideBodySchema } from '../language/node/serve/schemas.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import '../language/node/index.js'; // node:crypto's SHA-256 for request_hash, as rein serve has it
import { bodyFor, POLICY } from './service-policy.js';
import { median } from './util.js';

const N = Number(process.env.BENCH_N ?? 20_000);
const COLD_KB = Number(process.env.BENCH_COLD_KB ?? 2048);
/** Calls timed one by one for the hot and cold columns. */
const PER_CALL = Math.min(N, 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const dir = mkdtempSync(join(tmpdir(), 'rein-bench-parts-'));
writeFileSync(join(dir, 'bench.rein'), POLICY);
const metrics = new ServeMetrics();
const holder = new PolicyHolder({
  source: dir,
  // rein serve's settle grace for the store and the engine, as `rein serve` sets them
  store: new MemoryBudgetStore({ settleGraceMs: SERVE_SETTLE_GRACE_MS }),
  // what rein serve's onDecision does for the memory store without --audit: metrics
  engine: { onDecision: (d, c) => metrics.decision(d, c.latencyMs), settleGraceMs: SERVE_SETTLE_GRACE_MS },
});
await holder.init();
const v = await holder.load();
const bare = new PolicyHolder({ source: dir, store: new MemoryBudgetStore({ settleGraceMs: SERVE_SETTLE_GRACE_MS }), engine: { settleGraceMs: SERVE_SETTLE_GRACE_MS } });
await bare.init();
const vBare = await bare.load();

// rein serve's body parser: JSON.parse alone for a plain body (app.ts `plainJson`), else fastify's
// own JSON parser (secure-json-parse, __proto__ and constructor refused)
const jsonParser = Fastify().getDefaultJsonParser('error', 'error') as unknown as (req: unknown, body: string, done: (e: Error | null, v?: unknown) => void) => void;
let parsedOut: unknown;
const parseJson = (text: string): unknown => {
  const plain = plainJson(text);
  if (plain !== NOT_PLAIN) return plain;
  jsonParser(null, text, (e, x) => {
    if (e) throw e;
    parsedOut = x;
  });
  return parsedOut;
};

const texts = [...Array(1000)].map((_, i) => bodyFor(i));
const parsed = texts.map(parseJson);
const inputs = parsed.map((b) => (b as { input: unknown }).input);

interface Part {
  name: string;
  note: string;
  /** Prepares the round's arguments (not measured), then runs call i. */
  prepare?: () => void;
  run: (i: number) => unknown;
}

let fresh: Decision[] = [];
let hashed: Decision[] = [];
const decisions = (n: number, withHash: boolean): Decision[] => {
  const out: Decision[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const d = vBare.engine.decideSync(inputs[i % 1000]);
    if (withHash) void d.request_hash;
    out[i] = d;
  }
  return out;
};

const parts: Part[] = [
  { name: 'JSON body parse', note: "rein serve's: JSON.parse for a plain body, else fastify's (secure-json-parse)", run: (i) => parseJson(texts[i % 1000]) },
  { name: 'body check (fast path)', note: 'depth check + `{ input }` without zod (plainBody, as the route)', run: (i) => plainBody(parsed[i % 1000]) ?? parseDecideBody(parsed[i % 1000]) },
  { name: 'body check (zod)', note: 'decideBodySchema.safeParse alone (every body before; other bodies now)', run: (i) => decideBodySchema.safeParse(parsed[i % 1000]) },
  { name: 'engine.decideSync', note: 'validate, rules, plan, reserve, assemble, keep for settle; no hook', run: (i) => vBare.engine.decideSync(inputs[i % 1000]) },
  { name: 'engine.decideSync + metrics', note: "with rein serve's onDecision (metrics)", run: (i) => v.engine.decideSync(inputs[i % 1000]) },
  { name: 'track (owner of the reservation)', note: 'PolicyHolder.track', prepare: () => (fresh = decisions(N, false)), run: (i) => holder.track(vBare, fresh[i], SERVE_SETTLE_GRACE_MS) },
  { name: 'request_hash', note: 'canonical JSON + SHA-256 of a fresh decision', prepare: () => (fresh = decisions(N, false)), run: (i) => fresh[i].request_hash },
  { name: 'serialize: JSON.stringify', note: 'toJSON + the 816-byte answer, hash already read (rein serve before session 10)', prepare: () => (hashed = decisions(N, true)), run: (i) => JSON.stringify(hashed[i]) },
  { name: 'serialize: decisionJson', note: "the decide route's one-pass serializer (decision-json.ts), same text", prepare: () => (hashed = decisions(N, true)), run: (i) => decisionJson(hashed[i]) },
  {
    name: "all of Rein's part",
    note: 'parse → body check → decideSync (+ metrics) → track → serialize',
    run: (i) => {
      const raw = parseJson(texts[i % 1000]);
      let body = plainBody(raw);
      if (body === null) {
        const p = parseDecideBody(raw);
        if (!p.ok) throw new Error(p.message);
        body = p.body;
      }
      const d = v.engine.decideSync(body.input);
      if (d.reservation) holder.track(v, d, SERVE_SETTLE_GRACE_MS);
      return decisionJson(d);
    },
  },
];

// BENCH_PARTS=REGEX: only the parts whose name matches
const only = process.env.BENCH_PARTS ? new RegExp(process.env.BENCH_PARTS) : null;
if (only) parts.splice(0, parts.length, ...parts.filter((p) => only.test(p.name)));

function cpuPerCall(p: Part): number {
  p.prepare?.();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) p.run(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

/** Other memory, touched (one write per 64-byte line) to push the part's code's data out of the caches. */
const other = new Float64Array((COLD_KB * 1024) / 8);
let touched = 0;
function touchOther(): void {
  for (let i = 0; i < other.length; i += 8) touched += other[i]++;
}

/** Median wall time (µs) of one call, each timed alone; `cold`: after touching `other`. The median
 *  leaves out the calls a context switch or a GC landed in. */
function perCall(p: Part, cold: boolean): number {
  p.prepare?.();
  const t: number[] = new Array(PER_CALL);
  for (let i = 0; i < PER_CALL; i++) {
    if (cold) touchOther();
    const t0 = performance.now();
    p.run(i);
    t[i] = (performance.now() - t0) * 1000;
  }
  return median(t);
}

const session = new Session();
session.connect();
async function bytesPerCall(p: Part): Promise<number> {
  p.prepare?.();
  const n = Math.min(N, 20_000);
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  for (let i = 0; i < n; i++) p.run(i);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
  await session.post('HeapProfiler.disable');
  let total = 0;
  const walk = (x: SampleNode) => {
    total += x.selfSize;
    for (const c of x.children) walk(c);
  };
  walk(profile.head);
  return total / n;
}
interface SampleNode {
  selfSize: number;
  children: SampleNode[];
}

console.log(`rein serve's POST /v1/decide, part by part, in process (node ${process.version}, ${N} calls × ${ROUNDS} rounds, load average ${loadavg()[0].toFixed(2)})`);
// warm up every part (JIT) before measuring any
for (const p of parts) cpuPerCall(p);
const cpu = new Map<Part, number[]>(parts.map((p) => [p, []]));
for (let r = 0; r < ROUNDS; r++) for (const p of parts) cpu.get(p)!.push(cpuPerCall(p));
console.log(`${'part'.padEnd(34)} ${'CPU µs/call'.padStart(11)} ${'bytes/call'.padStart(10)} ${'hot µs'.padStart(7)} ${'cold µs'.padStart(8)}  what`);
for (const p of parts) {
  const bytes = await bytesPerCall(p);
  const hot = perCall(p, false);
  const cold = perCall(p, true);
  console.log(`${p.name.padEnd(34)} ${median(cpu.get(p)!).toFixed(2).padStart(11)} ${bytes.toFixed(0).padStart(10)} ${hot.toFixed(2).padStart(7)} ${cold.toFixed(2).padStart(8)}  ${p.note}`);
}
console.log(`hot / cold: the median time of one call, alone (hot) and right after touching ${COLD_KB} KB of other memory (cold)`);
session.disconnect();
holder.close();
bare.close();
await metrics.close();
