// The version of this rein, read from the nearest package.json named `rein` above this file (works
// from the sources and from the bundles in dist/).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module's directory, in ESM (import.meta.url) and in the CommonJS bundle (__dirname). */
export function moduleDir(): string | undefined {
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return typeof __dirname === 'string' ? __dirname : undefined;
  }
}

function findVersion(): string {
  let dir = moduleDir();
  if (!dir) return '0.0.0';
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rein' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // keep looking
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return '0.0.0';
}

export const REIN_VERSION: string = findVersion();
