// A/B: this tree against another checkout of Rein, both loaded into ONE process and timed in
// interleaved rounds, so load from other work on the machine hits both alike. Reports the median of
// the per-round ratios (this / other).
//
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node --import tsx bench/ab.ts /tmp/base [eval|decide|settle] [rounds]
//
// eval:   policy.evaluate on bench/policy
// shapes: policy.evaluate on bench/policy-shapes with bench:shapes' requests (lists, nested objects, strings)
// calls:  policy.evaluate on bench/policy-calls with bench:shapes' tool calls (maps, lists of objects, a def)
// lists:  policy.evaluate on bench/policy-lists (every list method) with bench:shapes' requests;
//         lists-closures: the same with `codegen: false` (the closure backend)
// decide: await Engine.decide on bench/policy + bench/policy-budgets (memory store, never settled)
// settle: the same, each reservation settled (its estimate)
// route:  rein serve's POST /v1/decide in process, without HTTP: the body text parsed as the server
//         parses it (the tree's `plainJson` when it has one, then fastify's JSON parser), `plainBody`,
//         `decideSync` with the server's metrics hook, `PolicyHolder.track`, `decisionJson` — on
//         bench/service-policy.ts (one budget reserved per decision, never settled)
//
// decide and settle run each side in its own worker thread (still one process, rounds still
// interleaved: one side runs while the other waits): unsettled reservations stay live for the whole
// run, and in one heap the garbage collector would charge each side for the other's (a major GC
// lands in whichever round allocates at the time). BENCH_AB_HEAP=shared runs them on the main
// thread in one heap, as eval and shapes always do.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Fastify from 'fastify';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { dirname, join, resolve } from 'node:path';
import { median, readSet } from './util.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateRequests } from './peers.js';
import { callRequests, shapeRequests } from './shapes.js';
import { bodyFor, POLICY } from './service-policy.js';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [otherArg, mode = 'eval', roundsArg = '10'] = isMainThread ? process.argv.slice(2) : (workerData as { args: string[] }).args;
if (!otherArg || !['eval', 'shapes', 'calls', 'lists', 'lists-closures', 'decide', 'settle', 'route'].includes(mode)) {
  console.error('usage: node --import tsx bench/ab.ts OTHER_CHECKOUT [eval|shapes|calls|lists|lists-closures|decide|settle|route] [rounds]');
  process.exit(2);
}
const other = resolve(otherArg);
const rounds = Math.max(2, Number(roundsArg) || 10);


type Fn = (r: unknown) => unknown;

async function load(root: string): Promise<Fn> {
  const mod = (p: string) => import(pathToFileURL(join(root, p)).href);
  // `language/policy.ts` (the façade) since session 4; older trees exported `compile` from the runtime.
  const { compile } = existsSync(join(root, 'language/policy.ts')) ? await mod('language/policy.ts') : await mod('language/runtime/compile.ts');
  const { Engine } = await mod('language/runtime/engine.ts');
  const { MemoryBudgetStore } = await mod('language/runtime/memory-store.ts');
  if (mode === 'route') return route(mod, MemoryBudgetStore);
  // The same policy files (this tree's) for both.
  const rules = readSet(join(here, 'bench/policy'));
  if (mode === 'lists' || mode === 'lists-closures') {
    const files = { 'schema.rein': readFileSync(join(here, 'bench/policy-shapes/schema.rein'), 'utf8'), ...readSet(join(here, 'bench/policy-lists')) };
    const p = compile(files, { codegen: mode === 'lists' });
    return (r) => p.evaluate(r);
  }
  if (mode === 'shapes' || mode === 'calls') {
    const p = compile(readSet(join(here, mode === 'calls' ? 'bench/policy-calls' : 'bench/policy-shapes')));
    return (r) => p.evaluate(r);
  }
  if (mode === 'eval') {
    const p = compile(rules);
    return (r) => p.evaluate(r);
  }
  const p = compile({ ...rules, ...readSet(join(here, 'bench/policy-budgets')) });
  const e = new Engine(p, { store: new MemoryBudgetStore() });
  if (mode === 'decide') return (r) => e.decide(r);
  return async (r) => {
    const d = await e.decide(r);
    if (d.reservation) await e.settle(d);
    return d;
  };
}


/** `route` mode: the decide route of the tree `mod` imports from, as in its rein serve. */
async function route(mod: (p: string) => Promise<Record<string, any>>, MemoryBudgetStore: new (o: object) => unknown): Promise<Fn> {
  const { PolicyHolder } = await mod('language/node/serve/policy-holder.ts');
  const { plainBody } = await mod('language/node/serve/api.ts');
  const { decisionJson } = await mod('language/node/serve/decision-json.ts');
  const app = await mod('language/node/serve/app.ts');
  const { ServeMetrics } = await mod('language/node/serve/metrics.ts');
  await mod('language/node/index.ts'); // node:crypto's SHA-256 for request_hash, as rein serve has it
  const grace: number = app.SERVE_SETTLE_GRACE_MS;
  const dir = mkdtempSync(join(tmpdir(), 'rein-ab-route-'));
  writeFileSync(join(dir, 'bench.rein'), POLICY);
  const metrics = new ServeMetrics();
  const holder = new PolicyHolder({ source: dir, store: new MemoryBudgetStore({ settleGraceMs: grace }), engine: { onDecision: (d: unknown, c: { latencyMs: number }) => metrics.decision(d, c.latencyMs), settleGraceMs: grace } });
  await holder.init();
  const v = await holder.load();
  const jsonParser = Fastify().getDefaultJsonParser('error', 'error') as unknown as (req: unknown, body: string, done: (e: Error | null, x?: unknown) => void) => void;
  let parsed: unknown;
  const done = (e: Error | null, x?: unknown) => {
    if (e) throw e;
    parsed = x;
  };
  const viaFastify = (t: string): unknown => {
    jsonParser(null, t, done);
    return parsed;
  };
  const parse: (t: string) => unknown = typeof app.plainJson === 'function' ? (t) => {
    const x = app.plainJson(t);
    return x !== app.NOT_PLAIN ? x : viaFastify(t);
  } : viaFastify;
  return (text) => {
    const body = plainBody(parse(text as string));
    const d = v.engine.decideSync(body.input);
    holder.track(v, d, grace);
    return decisionJson(d);
  };
}

const requests = () => mode === 'route' ? Array.from({ length: 1000 }, (_, i) => bodyFor(i)) as unknown[] : (mode === 'shapes' || mode.startsWith('lists') ? shapeRequests(5_000) : mode === 'calls' ? callRequests(5_000) : generateRequests(10_000)).map((r) => JSON.parse(JSON.stringify(r)) as unknown);

/** One round of one side: operations per wall second, and per second of this process's CPU time
 *  (process.cpuUsage, user + system), which other work on a loaded host disturbs far less. */
async function round(f: Fn, reqs: unknown[]): Promise<{ wall: number; cpu: number }> {
  const isAsync = mode === 'decide' || mode === 'settle' || mode === 'shapes';
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < 250) {
    if (isAsync) for (const r of reqs) await f(r);
    else for (const r of reqs) f(r);
    n += reqs.length;
  }
  const c = process.cpuUsage(c0);
  return { wall: (n / (performance.now() - t0)) * 1000, cpu: (n / (c.user + c.system)) * 1e6 };
}

/** A side in a worker thread of its own (own heap): answers each message with one round. */
function inWorker(root: string): { run(): Promise<{ wall: number; cpu: number }>; close(): Promise<number> } {
  // A worker thread does not get the main thread's `--import tsx`: it registers tsx's loader, then
  // imports this file.
  const entry = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const w = new Worker(entry, { eval: true, workerData: { args: [otherArg, mode, roundsArg], root } });
  w.unref();
  let pending: { resolve: (v: { wall: number; cpu: number }) => void; reject: (e: unknown) => void } | null = null;
  // A worker that failed (while loading, before any round was asked of it) fails every later round.
  let failed: unknown = null;
  const fail = (e: unknown) => {
    failed ??= e;
    pending?.reject(e);
    pending = null;
  };
  w.on('message', (m: { wall: number; cpu: number }) => {
    pending?.resolve(m);
    pending = null;
  });
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`benchmark worker exited (${code})`)));
  return {
    run: () =>
      new Promise((resolve, reject) => {
        if (failed !== null) return reject(failed);
        pending = { resolve, reject };
        w.postMessage('round');
      }),
    close: () => w.terminate(),
  };
}

if (!isMainThread) {
  const f = await load((workerData as { root: string }).root);
  const reqs = requests();
  parentPort!.on('message', () => {
    round(f, reqs).then(
      (r) => parentPort!.postMessage(r),
      (e) => {
        throw e;
      },
    );
  });
}

async function main() {
  const separate = (mode === 'decide' || mode === 'settle' || mode === 'route') && process.env.BENCH_AB_HEAP !== 'shared';
  const sides: Record<'other' | 'this', () => Promise<{ wall: number; cpu: number }>> = { other: () => Promise.reject(), this: () => Promise.reject() };
  const workers: { close(): Promise<number> }[] = [];
  if (separate) {
    for (const [k, root] of [['other', other], ['this', here]] as const) {
      const w = inWorker(root);
      workers.push(w);
      sides[k] = w.run;
    }
  } else {
    const reqs = requests();
    const fns: Record<'other' | 'this', Fn> = { other: await load(other), this: await load(here) };
    sides.other = () => round(fns.other, reqs);
    sides.this = () => round(fns.this, reqs);
  }
  const res = { other: [] as number[], this: [] as number[] };
  const cpu = { other: [] as number[], this: [] as number[] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 ? (['this', 'other'] as const) : (['other', 'this'] as const)) {
        const x = await sides[k]();
        res[k].push(x.wall);
        cpu[k].push(x.cpu);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  if (separate) console.log(`(each side in its own worker thread and heap; BENCH_AB_HEAP=shared: one heap)`);
  const k = (x: number) => `${(x / 1e3).toFixed(0)} k/s`;
  const line = (what: string, r: { other: number[]; this: number[] }) => {
    const ratios = r.this.map((x, i) => x / r.other[i]);
    console.log(`${mode} (${what}): other ${k(median(r.other))}, this ${k(median(r.this))}; this/other median ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}, ${rounds} rounds)`);
  };
  line('wall', res);
  line('CPU time', cpu);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
