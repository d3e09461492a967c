// Parse + check time for a generated policy set of ~5,000 lines (goal: under 100 ms).
//
//   npm run bench:check            (BENCH_LINES=5000 by default)
//
// Prints the median and best of several runs of `check()` over the whole set, after warm-up, and
// the same for `parse()` alone and `format()` of the largest file.

import { check } from '../language/check.js';
import { parse } from '../language/syntax/parser.js';
import { format } from '../language/format/format.js';
import { generatePolicySet } from './generate.js';

const LINES = Number(process.env.BENCH_LINES ?? 5000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function time(fn: () => void): number[] {
  for (let i = 0; i < 3; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const files = generatePolicySet(LINES);
const lines = Object.values(files).reduce((n, s) => n + s.split('\n').length, 0);
const cold = performance.now();
const result = check(files);
const coldMs = performance.now() - cold;
const errors = result.diagnostics.filter((d) => d.severity === 'error');
if (errors.length) {
  console.error(`generated set has ${errors.length} errors, e.g. ${JSON.stringify(errors[0])}`);
  process.exit(1);
}
const report = (name: string, t: number[]) =>
  console.log(`${name.padEnd(34)} median ${t[t.length >> 1].toFixed(1).padStart(7)} ms   best ${t[0].toFixed(1).padStart(7)} ms`);
console.log(`Node ${process.version}; ${Object.keys(files).length} files, ${lines} lines, ${result.program.rules.length} rules, ${RUNS} runs`);
console.log(`${'first check (cold: builds the parser)'.padEnd(34)} ${coldMs.toFixed(1).padStart(14)} ms`);
report('parse (all files)', time(() => Object.entries(files).forEach(([f, s]) => parse(s, f))));
report('check (parse + check + lint)', time(() => check(files)));
const biggest = Object.values(files).sort((a, b) => b.length - a.length)[0];
report('format (largest file)', time(() => format(biggest)));
