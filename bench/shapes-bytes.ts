// Bytes allocated per `policy.evaluate` on bench:shapes' two sets (young generation, no GC in
// between: the `used_heap_size` delta over 5,000 decisions, median of 7 samples). Allocation does not
// depend on the host's load, so this is the steady number beside bench:shapes' noisy ratios.
//
//   node --expose-gc --min-semi-space-size=128 --max-semi-space-size=128 --import tsx bench/shapes-bytes.ts [OTHER_CHECKOUT]
//
// With OTHER_CHECKOUT (a worktree with node_modules), its `compile` is measured too, on the same
// requests and this tree's policy files.

import v8 from 'node:v8';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SHAPE_SETS } from './shapes.js';
import { readSet } from './util.js';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (see the header)');

async function bytesPerDecision(root: string, dir: string, requests: unknown[]): Promise<number> {
  const file = existsSync(join(root, 'language/policy.ts')) ? 'language/policy.ts' : 'language/runtime/compile.ts';
  const { compile } = (await import(pathToFileURL(join(root, file)).href)) as { compile: (f: Record<string, string>) => { evaluate: (r: unknown) => { reasons: unknown[] } } };
  const p = compile(readSet(join(here, 'bench', dir)));
  let x = 0;
  for (let k = 0; k < 20; k++) for (const r of requests) x += p.evaluate(r).reasons.length;
  const samples: number[] = [];
  for (let k = 0; k < 7; k++) {
    gc!();
    const a = v8.getHeapStatistics().used_heap_size;
    for (const r of requests) x += p.evaluate(r).reasons.length;
    samples.push((v8.getHeapStatistics().used_heap_size - a) / requests.length);
  }
  if (x < 0) console.log(x);
  return samples.sort((a, b) => a - b)[3]!;
}

const other = process.argv[2] ? resolve(process.argv[2]) : undefined;
for (const set of SHAPE_SETS) {
  const requests = JSON.parse(JSON.stringify((set.requests as (n: number) => unknown[])(5000))) as unknown[];
  const mine = await bytesPerDecision(here, set.dir, requests);
  const theirs = other ? await bytesPerDecision(other, set.dir, requests) : undefined;
  console.log(`${set.name.padEnd(12)} ${mine.toFixed(0).padStart(6)} B per decision${theirs === undefined ? '' : `   other: ${theirs.toFixed(0)} B (this/other ${(mine / theirs).toFixed(2)})`}`);
}
