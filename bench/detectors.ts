// Detector throughput: every detector on 1 MB of benign text and on adversarial shapes, in MB/s,
// plus the ratio time(1 MB) / time(100 kB) (≈10 for a linear detector; a quadratic one gives ≈100).
//
//   npm run bench:detectors            (REIN_BENCH_SIZE=… to change the large size, in characters)

import { DETECTORS } from '../language/runtime/detectors.js';
import { SHAPES } from './detectors-inputs.js';
import { median } from './util.js';

const LARGE = Number(process.env.REIN_BENCH_SIZE ?? 1_000_000);
const SMALL = Math.round(LARGE / 10);

function time(f: (s: string) => boolean, s: string, runs: number): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f(s);
    xs.push(performance.now() - t);
  }
  return median(xs);
}

const rows: string[][] = [];
let worst = { ratio: 0, what: '' };
for (const [shape, make] of Object.entries(SHAPES)) {
  const large = make(LARGE);
  const small = make(SMALL);
  for (const [name, f] of Object.entries(DETECTORS)) {
    f(small); // warm up
    const tSmall = time(f, small, 7);
    const tLarge = time(f, large, 5);
    const ratio = tLarge / Math.max(tSmall, 0.001);
    if (ratio > worst.ratio) worst = { ratio, what: `${name} on ${shape}` };
    rows.push([shape, name, (LARGE / 1e6 / (tLarge / 1000)).toFixed(0), tLarge.toFixed(2), ratio.toFixed(1)]);
  }
}
const head = ['shape', 'detector', 'MB/s', `ms / ${(LARGE / 1e6).toFixed(1)} MB`, 'ratio 10×'];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log(`\nworst ratio time(${LARGE}) / time(${SMALL}): ${worst.ratio.toFixed(1)} (${worst.what}); linear ≈ 10, quadratic ≈ 100`);
