import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyHolder } from '../language/node/serve/policy-holder.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { decisionJson } from '../language/node/serve/decision-json.js';
import '../language/node/index.js';
import { bodyFor, POLICY } from './service-policy.js';
const dir = mkdtempSync(join(tmpdir(), 'x-'));
writeFileSync(join(dir, 'bench.rein'), POLICY);
const h = new PolicyHolder({ source: dir, store: new MemoryBudgetStore({}), engine: {} });
await h.init(); const v = await h.load();
const ds = [...Array(20000)].map((_, i) => { const d = v.engine.decideSync(JSON.parse(bodyFor(i)).input); void d.request_hash; return d; });
const fns: [string, (d: any) => number][] = [
  ['stringify+byteLength', (d) => Buffer.byteLength(JSON.stringify(d))],
  ['stringify+Buffer.from', (d) => Buffer.from(JSON.stringify(d)).length],
  ["decisionJson", (d) => Buffer.byteLength(decisionJson(d))],
];
let sink = 0;
for (let r = 0; r < 7; r++) {
  const out: string[] = [];
  for (const [n, f] of fns) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < ds.length; i++) sink += f(ds[i]);
    const c = process.cpuUsage(c0);
    out.push(`${n} ${((c.user + c.system) / ds.length).toFixed(2)}`);
  }
  if (r > 1) console.log(out.join(' | '));
}
h.close();
{
  const c0 = process.cpuUsage();
  for (let i = 0; i < 200000; i++) sink += Buffer.allocUnsafe(830).length;
  const c = process.cpuUsage(c0);
  console.log('allocUnsafe(830)', ((c.user + c.system) / 200000).toFixed(3));
}
{
  const src = Buffer.allocUnsafe(8192);
  const c0 = process.cpuUsage();
  for (let i = 0; i < 200000; i++) { const b = Buffer.allocUnsafe(830); src.copy(b, 0, 0, 830); sink += b.length; }
  const c = process.cpuUsage(c0);
  console.log('allocUnsafe+copy', ((c.user + c.system) / 200000).toFixed(3));
}
