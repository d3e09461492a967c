// Bytes promoted to the old generation per `engine.decideSync` (bench/policy + bench/policy-budgets,
// memory store, never settled: every kept reservation lives until expiry + grace), and the scavenges'
// pauses: what the unsettled reservations cost the young generation (issue #20). Run it on this tree,
// or on another checkout of Rein (the same policy files and requests: this tree's):
//
//   npm run bench:promoted [-- OTHER_CHECKOUT]
//
// The parent runs a child under `--trace-gc-nvp` and sums the scavenges' `promoted` bytes over
// BENCH_DECIDES decisions (default 2 M) after a warm-up. Promotion does not depend on load; pauses do.

import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { budgetsEngineOf } from './util.js';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_DECIDES ?? 2_000_000);

if (process.env.REIN_PROMOTED_CHILD !== '1') {
  const root = resolve(process.argv[2] ?? here);
  const r = spawnSync(process.execPath, ['--trace-gc-nvp', '--import', 'tsx', fileURLToPath(import.meta.url), root], { env: { ...process.env, REIN_PROMOTED_CHILD: '1' }, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  const lines = r.stdout.split('\n');
  const start = lines.indexOf('START');
  const end = lines.indexOf('END');
  let promoted = 0;
  const pauses: number[] = [];
  let fulls = 0;
  let fullMs = 0;
  for (const line of lines.slice(start + 1, end)) {
    if (/gc=(mc|mmc|ms)\b/.test(line)) {
      fulls++;
      fullMs += Number(/pause=([\d.]+)/.exec(line)?.[1] ?? 0);
    }
    if (!/gc=s\b/.test(line)) continue;
    promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    pauses.push(Number(/pause=([\d.]+)/.exec(line)?.[1] ?? 0));
  }
  pauses.sort((a, b) => a - b);
  const p50 = pauses[Math.floor(pauses.length / 2)] ?? 0;
  console.log(`${root}: ${N} decides, ${pauses.length} scavenges, promoted ${(promoted / N).toFixed(1)} B per decide, pause p50 ${p50.toFixed(2)} ms, max ${(pauses.at(-1) ?? 0).toFixed(2)} ms; ${fulls} mark-compacts (${fullMs.toFixed(1)} ms of pauses)`);
} else {
  const root = process.argv[2]!;
  const { engine, requests } = await budgetsEngineOf(root);
  for (let k = 0; k < 30; k++) for (const x of requests) engine.decideSync(x);
  console.log('START');
  let kept = 0;
  for (let i = 0; i < N; ) for (let j = 0; j < requests.length && i < N; j++, i++) if (engine.decideSync(requests[j]).reservation !== null) kept++;
  console.log('END');
  console.log(`kept ${kept}`);
}
