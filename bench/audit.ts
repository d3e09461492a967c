// Decisions per second with the file decision log off, on (no fsync) and on with fsync per record.
//
//   npm run bench:audit           (BENCH_SECONDS=2 by default)
//
// One process, the bench guardrail policy plus two budgets (bench/policy*, memory store), requests
// from bench/peers.ts. Each decision is awaited before the next (a host's request path); with the log
// on, records are written by FileAuditLog in the background, and the figure includes waiting for the
// log to drain at the end.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { AuditLogger } from '../language/audit/logger.js';
import { FileAuditLog } from '../language/node/audit-file.js';
import { generateRequests } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const files: Record<string, string> = {};
for (const d of ['policy', 'policy-budgets']) for (const f of readdirSync(join(here, d)).filter((f) => f.endsWith('.rein'))) files[f] = readFileSync(join(here, d, f), 'utf8');
const policy = compile(files);
const requests = generateRequests(10_000).map((r) => JSON.parse(JSON.stringify(r)));
const dir = mkdtempSync(join(tmpdir(), 'rein-audit-bench-'));

async function run(name: string, mode: 'off' | 'on' | 'fsync', seconds = SECONDS): Promise<number> {
  const path = join(dir, `${mode}.jsonl`);
  const logger = mode === 'off' ? null : new AuditLogger(new FileAuditLog(path, { fsync: mode === 'fsync' }));
  const engine = new Engine(policy, { store: new MemoryBudgetStore(), onDecision: logger ? logger.hook() : undefined });
  let n = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) await engine.decide(requests[n++ % requests.length]);
  }
  await logger?.close();
  const rate = n / ((performance.now() - t0) / 1000);
  const size = logger ? statSync(path).size : 0;
  console.log(`${name.padEnd(30)} ${rate.toFixed(0).padStart(9)} decisions/s${logger ? `   ${(size / n).toFixed(0)} bytes/record, failures ${logger.failures}` : ''}`);
  return rate;
}

try {
  console.log(`Node ${process.version}; ${SECONDS}s per run; sequential awaited decides`);
  const off = await run('log off', 'off');
  const on = await run('file log, no fsync', 'on');
  const sync = await run('file log, fsync per record', 'fsync', Math.min(SECONDS, 1));
  console.log(`\nratios: log on = ${(on / off).toFixed(2)} × log off; fsync = ${(sync / off).toFixed(3)} × log off`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
