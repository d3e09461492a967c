// The cost of `matches` on RE2 (re2js, as policies compile it: language/semantics/regex.ts
// `compilePattern`) against V8's backtracking RegExp, on the examples' patterns and on a pattern that
// is exponential for a backtracking engine. One process, interleaved rounds; ratios are RE2 / V8
// (> 1: RE2 slower). The `subset` columns time the built-in engine that `compile` uses for these
// patterns (language/semantics/regex-subset.ts; re2js only for patterns outside it): its µs and
// subset / RE2 (< 1: the built-in engine is faster).
//
//   npm run bench:matches

import { compilePattern } from '../language/semantics/regex.js';
import { subsetPattern } from '../language/semantics/regex-subset.js';
import type { PolicyPattern } from '../language/semantics/patterns.js';
import { median } from './util.js';

const subset = (p: string): PolicyPattern => {
  const m = subsetPattern(p);
  if (m === undefined || 'error' in m) throw new Error(`${p}: not in the built-in subset`);
  return m;
};

const PATTERNS: [string, string][] = [
  ['destructive shell', '(^|[;&|] *|sudo +)(rm +-[a-zA-Z]*[rRf]|mkfs|dd +if=|shred |git +clean +-[a-z]*f)'],
  ['git push', '(^|[;&|] *)git +push'],
  ['package install', '^(npm +(install|i|add)|pnpm +add|yarn +add|pip3? +install) +[a-zA-Z@-]'],
  ['anchored prefix', '^db\\.'],
  ['email-ish', '^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$'],
];

const INPUTS: [string, string][] = [
  ['short command (30 B)', 'ls -la /tmp && cat notes.txt'],
  ['long command (10 kB)', 'echo hello world; '.repeat(560)],
  ['tool output (1 MB)', 'The agent read the ticket and wrote a reply. '.repeat(22_000)],
];

function time(f: () => void, minMs = 30): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    f();
    n++;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / n; // ns per call
}

const rows: string[][] = [];
for (const [pname, pattern] of PATTERNS) {
  const re2 = compilePattern(pattern);
  const v8 = new RegExp(pattern);
  const sub = subset(pattern);
  for (const [iname, input] of INPUTS) {
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let round = 0; round < 5; round++) {
      a.push(time(() => re2.test(input)));
      b.push(time(() => v8.test(input)));
      c.push(time(() => sub.test(input)));
    }
    const ra = median(a);
    const rb = median(b);
    const rc = median(c);
    rows.push([pname, iname, (ra / 1000).toFixed(2), (rb / 1000).toFixed(2), (ra / rb).toFixed(1), (rc / 1000).toFixed(2), (rc / ra).toFixed(2)]);
  }
}

// The pathological case: RE2 stays linear, V8 explodes (kept small so the bench ends).
const evil = '^(a|aa)+$';
for (const n of [20, 25, 30]) {
  const s = 'a'.repeat(n) + '!';
  const tr = time(() => compilePattern(evil).test(s), 20);
  const tv = time(() => new RegExp(evil).test(s), 20);
  const ts = time(() => subset(evil).test(s), 20);
  rows.push([`${evil} (exponential)`, `${n} a's + "!"`, (tr / 1000).toFixed(2), (tv / 1000).toFixed(2), (tr / tv).toFixed(3), (ts / 1000).toFixed(2), (ts / tr).toFixed(2)]);
}

const head = ['pattern', 'input', 'RE2 µs', 'V8 µs', 'RE2/V8', 'subset µs', 'subset/RE2'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
