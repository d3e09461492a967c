// A/B: this tree against another checkout of Rein, both loaded into ONE process and timed in
// interleaved rounds, so load from other work on the machine hits both alike. Reports the median of
// the per-round ratios (this / other).
//
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   node --import tsx bench/ab.ts /tmp/base [eval|decide|settle] [rounds]
//
// eval:   policy.evaluate on bench/policy
// shapes: policy.evaluate on bench/policy-shapes with bench:shapes' requests (lists, nested objects, strings)
// lists:  policy.evaluate on bench/policy-lists (every list method) with bench:shapes' requests;
//         lists-closures: the same with `codegen: false` (the closure backend)
// decide: await Engine.decide on bench/policy + bench/policy-budgets (memory store, never settled)
// settle: the same, each reservation settled (its estimate)

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { median, readSet } from './util.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateRequests } from './peers.js';
import { shapeRequests } from './shapes.js';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [otherArg, mode = 'eval', roundsArg = '10'] = process.argv.slice(2);
if (!otherArg || !['eval', 'shapes', 'lists', 'lists-closures', 'decide', 'settle'].includes(mode)) {
  console.error('usage: node --import tsx bench/ab.ts OTHER_CHECKOUT [eval|shapes|lists|lists-closures|decide|settle] [rounds]');
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
  if (mode === 'shapes') {
    const p = compile(readSet(join(here, 'bench/policy-shapes')));
    return (r) => p.evaluate(r);
  }
  if (mode === 'lists' || mode === 'lists-closures') {
    const files = { 'schema.rein': readFileSync(join(here, 'bench/policy-shapes/schema.rein'), 'utf8'), ...readSet(join(here, 'bench/policy-lists')) };
    const p = compile(files, { codegen: mode === 'lists' });
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


async function main() {
  const requests = (mode === 'shapes' || mode.startsWith('lists') ? shapeRequests(5_000) : generateRequests(10_000)).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
  const fns: Record<'other' | 'this', Fn> = { other: await load(other), this: await load(here) };
  const isAsync = mode === 'decide' || mode === 'settle' || mode === 'shapes';
  // Per round and side: operations per wall second, and per second of this process's CPU time
  // (process.cpuUsage, user + system), which other work on a loaded host disturbs far less.
  const res = { other: [] as number[], this: [] as number[] };
  const cpu = { other: [] as number[], this: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const k of round % 2 ? (['this', 'other'] as const) : (['other', 'this'] as const)) {
      const f = fns[k];
      let n = 0;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      while (performance.now() - t0 < 250) {
        if (isAsync) for (const r of requests) await f(r);
        else for (const r of requests) f(r);
        n += requests.length;
      }
      const c = process.cpuUsage(c0);
      res[k].push((n / (performance.now() - t0)) * 1000);
      cpu[k].push((n / (c.user + c.system)) * 1e6);
    }
  }
  const k = (x: number) => `${(x / 1e3).toFixed(0)} k/s`;
  const line = (what: string, r: { other: number[]; this: number[] }) => {
    const ratios = r.this.map((x, i) => x / r.other[i]);
    console.log(`${mode} (${what}): other ${k(median(r.other))}, this ${k(median(r.this))}; this/other median ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}, ${rounds} rounds)`);
  };
  line('wall', res);
  line('CPU time', cpu);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
