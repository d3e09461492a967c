// Helpers shared by the benchmark scripts.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The `.rein` files of a folder, by file name (sorted), as `compile()` takes them. */
export function readSet(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.rein')).sort()) files[f] = readFileSync(join(dir, f), 'utf8');
  return files;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * An engine of the checkout at `root` (this one or another, e.g. a `git worktree` of main) with the
 * memory store over the budgets bench policy (bench/policy + bench/policy-budgets, read from this
 * checkout), and 10,000 generated requests as plain JSON: what bench:decide-bytes and bench:promoted measure.
 */
export async function budgetsEngineOf(root: string): Promise<{ engine: { decide(r: unknown): Promise<{ reservation: unknown }>; decideSync(r: unknown): { reservation: unknown } }; requests: unknown[] }> {
  const { existsSync } = await import('node:fs');
  const { pathToFileURL, fileURLToPath } = await import('node:url');
  const { dirname, resolve } = await import('node:path');
  const { generateRequests } = await import('./peers.js');
  const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const mod = (p: string) => import(pathToFileURL(join(root, p)).href);
  const { compile } = existsSync(join(root, 'language/policy.ts')) ? await mod('language/policy.ts') : await mod('language/runtime/compile.ts');
  const { Engine } = await mod('language/runtime/engine.ts');
  const { MemoryBudgetStore } = await mod('language/runtime/memory-store.ts');
  const policy = compile({ ...readSet(join(here, 'bench/policy')), ...readSet(join(here, 'bench/policy-budgets')) });
  const engine = new Engine(policy, { store: new MemoryBudgetStore() });
  const requests = generateRequests(10_000).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
  return { engine, requests };
}
