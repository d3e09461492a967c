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
//
// decide and settle run each side in its own worker thread (still one process, rounds still
// interleaved: one side runs while the other waits): unsettled reservations stay live for the whole
// run, and in one heap the garbage collector would charge each side for the other's (a major GC
// lands in whichever round allocates at the time). BENCH_AB_HEAP=shared runs them on the main
// thread in one heap, as eval and shapes always do.

import { existsSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { dirname, join, resolve } from 'node:path';
import { median, readSet } from './util.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateRequests } from './peers.js';
import { callRequests, shapeRequests } from './shapes.js';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [otherArg, mode = 'eval', roundsArg = '10'] = isMainThread ? process.argv.slice(2) : (workerData as { args: string[] }).args;
if (!otherArg || !['eval', 'shapes', 'calls', 'lists', 'lists-closures', 'decide', 'settle'].includes(mode)) {
  console.error('usage: node --import tsx bench/ab.ts OTHER_CHECKOUT [eval|shapes|calls|lists|lists-closures|decide|settle] [rounds]');
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


const requests = () => (mode === 'shapes' || mode.startsWith('lists') ? shapeRequests(5_000) : mode === 'calls' ? callRequests(5_000) : generateRequests(10_000)).map((r) => JSON.parse(JSON.stringify(r)) as unknown);

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
  const separate = (mode === 'decide' || mode === 'settle') && process.env.BENCH_AB_HEAP !== 'shared';
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
