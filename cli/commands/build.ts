// `rein build PATH -o FILE`: check a policy set and write a bundle.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PolicyError } from '../../language/errors.js';
import { buildBundle, serializeBundle } from '../../language/node/bundle.js';
import { EXIT, type Ctx } from '../context.js';
import { LoadError, UsageError, ioReason } from '../../language/node/errors.js';
import { readPolicySet } from '../../language/node/load.js';
import type { Options } from '../options.js';
import { printPolicyError } from '../shared.js';
import { mkdirs } from '../../language/node/mkdirs.js';

export default async function cmdBuild(ctx: Ctx, positionals: string[], opts: Options<'build'>): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('expected exactly one PATH (a policy directory or .rein file)', 'build');
  const p = positionals[0];
  const set = await readPolicySet(p, ctx.io.cwd);
  let built;
  try {
    built = buildBundle(set);
  } catch (e) {
    if (e instanceof PolicyError) {
      printPolicyError(ctx, new PolicyError(e.message, e.diagnostics.filter((d) => d.severity === 'error')), set);
      return EXIT.errors;
    }
    throw e;
  }
  const outPath = ctx.resolve(opts.output);
  try {
    mkdirs(path.dirname(outPath));
    await fs.writeFile(outPath, serializeBundle(built.bundle), 'utf8');
  } catch (e) {
    throw new LoadError(`cannot write \`${opts.output}\`: ${ioReason(e)}`);
  }
  const { name, version, hash } = built.bundle.policy;
  if (opts.format === 'json') {
    ctx.out(JSON.stringify({ output: ctx.display(outPath), policy: built.bundle.policy, files: Object.keys(built.bundle.files) }, null, 2) + '\n');
  } else {
    ctx.out(`built ${ctx.display(outPath)}: ${name ? `${name}${version ? ` ${version}` : ''} ` : ''}(${Object.keys(built.bundle.files).length} files, ${hash})\n`);
  }
  return EXIT.ok;
}
