import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyHolder } from '../language/node/serve/policy-holder.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import '../language/node/index.js';
import { bodyFor, POLICY } from './service-policy.js';
const dir = mkdtempSync(join(tmpdir(), 'x-'));
writeFileSync(join(dir, 'bench.rein'), POLICY);
const h = new PolicyHolder({ source: dir, store: new MemoryBudgetStore({}), engine: {} });
await h.init(); const v = await h.load();
const ds = [...Array(20000)].map((_, i) => { const d = v.engine.decideSync(JSON.parse(bodyFor(i)).input); void d.request_hash; return d; });

const NEEDS = /["\\\u0000-\u001f\ud800-\udfff]/;
const q = (s: string) => NEEDS.test(s) ? JSON.stringify(s) : '"' + s + '"';
let lp: unknown, lpj = '';
function pol(p: any) { if (p === lp) return lpj; lp = p; return (lpj = JSON.stringify(p)); }
let lr: unknown, lrj = '';
function reasons(a: any[]) { if (a.length === 0) return '[]'; if (a.length === 1 && a[0] === lr) return '[' + lrj + ']'; if (a.length === 1 && Object.isFrozen(a[0])) { lr = a[0]; lrj = JSON.stringify(a[0]); return '[' + lrj + ']'; } return JSON.stringify(a); }
const list = (a: any[]) => a.length === 0 ? '[]' : JSON.stringify(a);
const amt = (x: any) => typeof x === 'string' ? '"' + x + '"' : JSON.stringify(x);
function budget(b: any) {
  const w = b.window;
  return '{"name":' + q(b.name) + ',"key":' + JSON.stringify(b.key) + ',"limit":' + amt(b.limit) + ',"spent":' + amt(b.spent) + ',"reserved":' + amt(b.reserved) + ',"charge":' + amt(b.charge) + ',"remaining":' + amt(b.remaining) + ',"window":' + (w === null ? 'null' : '{"start":' + q(w.start) + ',"end":' + q(w.end) + '}') + ',"exceeded":' + b.exceeded + ',"warned":' + b.warned + '}';
}
function budgets(a: any[]) { if (a.length === 0) return '[]'; let s = '[' + budget(a[0]); for (let i = 1; i < a.length; i++) s += ',' + budget(a[i]); return s + ']'; }
function ser(d: any, spec: boolean) {
  const r = d.reservation;
  let s = '{"effect":"' + d.effect + '","reasons":' + reasons(d.reasons) + ',"approvals":' + list(d.approvals) + ',"warnings":' + list(d.warnings) + ',"monitored":' + list(d.monitored) + ',"budgets":' + (spec ? budgets(d.budgets) : list(d.budgets)) + ',"errors":' + list(d.errors) + ',"reservation":' + (r === null ? 'null' : '{"id":' + q(r.id) + ',"expires":' + q(r.expires) + '}') + ',"policy":' + pol(d.policy) + ',"request_hash":' + q(d.request_hash) + ',"time":' + q(d.time) + ',"mode":"' + d.mode + '"}';
  return s;
}
for (const d of ds.slice(0, 100)) if (ser(d, true) !== JSON.stringify(d) || ser(d, false) !== JSON.stringify(d)) throw new Error('diff');
const fns: [string, (d: any) => string][] = [['JSON.stringify', (d) => JSON.stringify(d)], ['native parts', (d) => ser(d, false)], ['spec budgets', (d) => ser(d, true)], ['ser+flatten', (d) => { const s = ser(d, true); return Buffer.byteLength(s) as any; }], ['stringify+byteLength', (d) => Buffer.byteLength(JSON.stringify(d)) as any]];
let sink = 0;
for (let r = 0; r < 7; r++) {
  const out: string[] = [];
  for (const [n, f] of fns) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < ds.length; i++) { const x = f(ds[i]); sink += typeof x === 'string' ? x.length : (x as any); }
    const c = process.cpuUsage(c0);
    out.push(`${n} ${((c.user + c.system) / ds.length).toFixed(2)}`);
  }
  if (r > 1) console.log(out.join(' | '));
}
h.close();
