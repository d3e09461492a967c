// What each rule of bench:shapes' sets adds to `policy.evaluate`: the set's policy cut down to one
// rule at a time (plus a rule that never matches), each against the same cut with no rule at all
// (`none`: validation and the decision), in one process, interleaved rounds; CPU time per request,
// medians. Differences of a few ns are noise; use it to find the rules worth a look, then measure
// a change with `npm run bench:ab`.
//
//   npm run bench:rule-costs -- [messages|"tool calls"] [OTHER_CHECKOUT]   (BENCH_ROUNDS=5, BENCH_MS=150)
//
// With OTHER_CHECKOUT (a tree with node_modules), its `compile` runs the same cuts in the same rounds:
// a column each (this tree's policy files for both).

import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile } from '../language/policy.js';
import { median, readSet } from './util.js';
import { SHAPE_SETS, type ShapeSet } from './shapes.js';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2] ?? 'messages';
const set = (SHAPE_SETS as ShapeSet<unknown>[]).find((s) => s.name === name || s.dir === name);
if (!set) throw new Error(`no set ${name}: ${SHAPE_SETS.map((s) => s.name).join(', ')}`);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MS = Number(process.env.BENCH_MS ?? 150);
const requests = set.requests(3000).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
const files = readSet(join(here, set.dir));
const src = files['rules.rein']!;
const head = src.slice(0, src.indexOf('}') + 1);
const parts = src.slice(head.length).split(/\n(?=rule )/);
const shared = parts[0]!.includes('rule ') ? '' : parts.shift()!; // lets and defs before the first rule
type Compile = typeof compile;
const other = process.argv[3];
const compilers: [string, Compile][] = [['this', compile]];
if (other) compilers.push(['other', ((await import(pathToFileURL(join(other, 'language/policy.ts')).href)) as { compile: Compile }).compile]);
const names = ['none', ...parts.map((r) => r.match(/rule (\w+)/)![1]!)];
const policies: [string, string, { evaluate(r: unknown): unknown }][] = [];
for (const [who, c] of compilers) {
  const cut = (rules: string) => c({ ...files, 'rules.rein': `${head}${shared}\nrule never_matches { when false  deny "x" }\n${rules}` });
  policies.push([who, 'none', cut('')], ...parts.map((r, i) => [who, names[i + 1]!, cut(r)] as [string, string, { evaluate(r: unknown): unknown }]));
}
const ns: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++)
  for (const [who, n, p] of round % 2 ? [...policies].reverse() : policies) {
    const c0 = process.cpuUsage();
    let ops = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < MS) {
      for (const r of requests) p.evaluate(r);
      ops += requests.length;
    }
    const c = process.cpuUsage(c0);
    (ns[`${who} ${n}`] ??= []).push(((c.user + c.system) / ops) * 1000);
  }
console.log(`${set.name} (bench/${set.dir}), ${requests.length} requests, ${ROUNDS} interleaved rounds: CPU ns per evaluate (a rule: what it adds to none)`);
console.log('rule'.padEnd(34) + compilers.map(([who]) => who.padStart(10)).join(''));
for (const n of names) {
  const cells = compilers.map(([who]) => {
    const v = median(ns[`${who} ${n}`]!);
    const d = v - median(ns[`${who} none`]!);
    return (n === 'none' ? v.toFixed(0) : `${d >= 0 ? '+' : ''}${d.toFixed(0)}`).padStart(10);
  });
  console.log(n.padEnd(34) + cells.join(''));
}
