// Host functions from a file, for the CLI (`rein eval|serve|mcp --externs FILE`): an ES module
// whose named function exports (or a default export object of functions) implement the policy
// set's `extern def`s by name (docs/externs.md). Only functions are taken; a module that exports no
// function, or fails to load, is an error naming the file. Whether the names match the policy's
// `extern def`s is checked when the Engine is created (REIN231).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExternImpl, ExternImpls } from '../runtime/externs.js';

export class ExternsModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExternsModuleError';
  }
}

/** The implementations exported by the ES module at `file` (relative to `cwd`). */
export async function loadExternsModule(file: string, cwd: string = process.cwd()): Promise<ExternImpls> {
  const path = resolve(cwd, file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    // "no such file" only when the file itself is missing: a package the module imports that is not
    // installed is also ERR_MODULE_NOT_FOUND, and its message (which names the package) is the help.
    const why = !existsSync(path) ? 'no such file' : e instanceof Error ? e.message : String(e);
    throw new ExternsModuleError(`--externs ${file}: cannot load the module: ${why}`);
  }
  const out: Record<string, ExternImpl> = {};
  const def = mod.default;
  if (def !== null && typeof def === 'object') {
    for (const [k, v] of Object.entries(def as Record<string, unknown>)) if (typeof v === 'function') out[k] = v as ExternImpl;
  }
  for (const [k, v] of Object.entries(mod)) if (k !== 'default' && typeof v === 'function') out[k] = v as ExternImpl;
  if (Object.keys(out).length === 0) throw new ExternsModuleError(`--externs ${file}: the module exports no function (export one per \`extern def\`, by its name)`);
  return out;
}
