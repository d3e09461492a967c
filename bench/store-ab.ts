// A/B of the memory store alone: this tree's MemoryBudgetStore against another checkout's, both
// loaded into one process and timed in interleaved rounds (CPU time), so load from other work hits
// both alike. Prints the median of the per-round speed ratios (this / other; > 1: this is faster).
//
//   npm run bench:store-ab -- OTHER_CHECKOUT [reserve|settle] [rounds]
//
// reserve: 200,000 reservations a round of two items each (engine-like ids, one TTL, never settled:
//          they pile up as in bench:reservations); settle: each one settled right after (two actuals).

import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [otherArg, mode = 'settle', roundsArg = '16'] = process.argv.slice(2);
if (!otherArg || !['reserve', 'settle'].includes(mode)) {
  console.error('usage: node --import tsx bench/store-ab.ts OTHER_CHECKOUT [reserve|settle] [rounds]');
  process.exit(2);
}
const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const load = async (root: string) => (await import(pathToFileURL(join(root, 'language/runtime/memory-store.ts')).href)) as typeof import('../language/runtime/memory-store.js');
const A = await load(here);
const B = await load(resolve(otherArg));
const N = 200_000;
const items = [
  { counterKey: 'budget:agent:a1:day', limit: 1e15, charge: 1000, enforce: true, expiresAt: null },
  { counterKey: 'budget:tenant:t1:month', limit: 1e15, charge: 1000, enforce: true, expiresAt: null },
];
const actuals = [
  { counterKey: 'budget:agent:a1:day', amount: 700 },
  { counterKey: 'budget:tenant:t1:month', amount: 700 },
];

/** A round on a fresh store each time; CPU µs per reservation. */
function side(M: typeof A): () => number {
  return () => {
    const s = new M.MemoryBudgetStore();
    let now = 1.8e12;
    const t0 = process.cpuUsage();
    for (let k = 0; k < N; k++) {
      const id = `rsv-${k.toString(36)}`;
      s.reserveSync({ reservationId: id, now, ttlMs: 60_000, commit: true, items });
      if (mode === 'settle') s.settleSync(id, actuals, now);
      now += 0.1;
    }
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / N;
  };
}
const a = side(A);
const b = side(B);
for (let i = 0; i < 3; i++) (a(), b());
const ratios: number[] = [];
const us: [number[], number[]] = [[], []];
for (let i = 0; i < Math.max(2, Number(roundsArg) || 16); i++) {
  let x: number;
  let y: number;
  if (i % 2) (x = a(), y = b());
  else (y = b(), x = a());
  us[0].push(x);
  us[1].push(y);
  ratios.push(y / x);
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1]!;
console.log(`store ${mode}: this ${med(us[0]).toFixed(3)} µs, other ${med(us[1]).toFixed(3)} µs of CPU per reservation; this/other speed median ${med(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}, ${ratios.length} rounds)`);
