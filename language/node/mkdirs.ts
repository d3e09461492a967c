// `mkdir -p` that fails fast. Node 20's `mkdir(dir, { recursive: true })` never returns for some
// paths (under /proc it loops on ENOENT/EEXIST at full CPU); this walks up to the deepest folder that
// exists, then creates each missing one in turn, so any refusal is an error at once.

import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** Create `dir` and its missing parents (with `mode`). Throws the file system's error (ENOENT,
 *  ENOTDIR, EACCES…) for the first folder that cannot be made. */
export function mkdirs(dir: string, mode?: number): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      missing.push(at);
      const up = path.dirname(at);
      if (up === at) throw e;
      at = up;
      continue;
    }
    if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at });
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, mode === undefined ? undefined : { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made meanwhile by someone else
    }
  }
}
