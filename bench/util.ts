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
