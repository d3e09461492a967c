// `rein fmt [PATH…|-]`: canonical formatting; --check lists unformatted files, --write rewrites them.

import { promises as fs } from 'node:fs';
import { PolicyError } from '../../language/errors.js';
import { format } from '../../language/format/format.js';
import { EXIT, type Ctx } from '../context.js';
import { LoadError, UsageError, ioReason } from '../../language/node/errors.js';
import { statArg } from '../shared.js';
import { resolvePolicySets } from '../../language/node/load.js';
import type { Options } from '../options.js';
import { makeLookup } from '../output/source.js';
import { renderDiagnosticsText } from '../output/text.js';

async function fmtTargets(ctx: Ctx, positionals: string[]): Promise<string[]> {
  const out: string[] = [];
  const paths = positionals.length ? positionals : ['.'];
  let skipped: LoadError | undefined;
  for (const p of paths) {
    const { abs, st } = await statArg(ctx, p);
    if (st.isDirectory()) {
      // The same files `rein check` would check (including a `rein.json` include/exclude at PATH).
      let sets;
      try {
        sets = await resolvePolicySets([p], ctx.io.cwd);
      } catch (e) {
        // among several PATHs (a shell glob), a directory without policies is skipped, as in `rein check`
        if (paths.length > 1 && e instanceof LoadError) {
          skipped ??= e;
          continue;
        }
        throw e;
      }
      for (const set of sets) {
        // a base set a set layers over (`extends`) is not this set's to format
        for (const name of Object.keys(set.paths).sort()) if (name.endsWith('.rein') && !set.base?.files.includes(name)) out.push(set.paths[name]);
      }
    } else if (paths.length > 1 && !p.endsWith('.rein')) {
      // `rein fmt --check examples/*` must not try to format `examples/README.md`; one file named
      // alone is formatted whatever its name
      skipped ??= new LoadError(`not a \`.rein\` file or a directory: \`${p}\``);
    } else out.push(abs);
  }
  if (out.length === 0 && skipped) throw skipped;
  return [...new Set(out)];
}

export default async function cmdFmt(ctx: Ctx, positionals: string[], opts: Options<'fmt'>): Promise<number> {
  // without --check/--write the output is the formatted text itself: JSON there was silently not JSON
  if (opts.format === 'json' && !opts.check && !opts.write) {
    throw new UsageError('--format json goes with --check or --write (without them the formatted text is printed as is)', 'fmt');
  }
  if (positionals.includes('-')) {
    if (positionals.length > 1) throw new UsageError('`-` (standard input) cannot be combined with other paths', 'fmt');
    if (opts.write) throw new UsageError('--write cannot be used with `-` (standard input)', 'fmt');
    const src = await ctx.readInput('-');
    try {
      const formatted = format(src, { file: '<stdin>' });
      if (opts.check) {
        if (formatted !== src) {
          ctx.out(opts.format === 'json' ? JSON.stringify({ unformatted: ['<stdin>'], errors: [] }, null, 2) + '\n' : '<stdin>\n');
          return EXIT.errors;
        }
        if (opts.format === 'json') ctx.out(JSON.stringify({ unformatted: [], errors: [] }, null, 2) + '\n');
        return EXIT.ok;
      }
      ctx.out(formatted);
      return EXIT.ok;
    } catch (e) {
      if (e instanceof PolicyError) {
        ctx.err(renderDiagnosticsText(e.diagnostics, makeLookup([{ name: '<stdin>', display: '<stdin>', text: src }]), ctx.c));
        // the same shape as for files: the file that could not be formatted is under `errors`
        if (opts.check && opts.format === 'json') ctx.out(JSON.stringify({ unformatted: [], errors: ['<stdin>'] }, null, 2) + '\n');
        return EXIT.errors;
      }
      throw e;
    }
  }
  const files = await fmtTargets(ctx, positionals);
  if (!opts.check && !opts.write) {
    if (files.length !== 1) throw new UsageError(`${files.length} files to format: use --check or --write (without them, give exactly one file)`, 'fmt');
  }
  const unformatted: string[] = [];
  const failed: string[] = [];
  for (const f of files) {
    const shown = ctx.display(f);
    const src = await ctx.readInput(f);
    let formatted: string;
    try {
      formatted = format(src, { file: shown });
    } catch (e) {
      if (e instanceof PolicyError) {
        ctx.err(renderDiagnosticsText(e.diagnostics, makeLookup([{ name: shown, display: shown, text: src }]), ctx.c));
        failed.push(shown);
        continue;
      }
      throw e;
    }
    if (!opts.check && !opts.write) {
      ctx.out(formatted);
      continue;
    }
    if (formatted !== src) {
      unformatted.push(shown);
      if (opts.write) {
        try {
          await fs.writeFile(f, formatted, 'utf8');
        } catch (e) {
          throw new LoadError(`cannot write \`${shown}\`: ${ioReason(e)}`);
        }
      }
    }
  }
  if (opts.check || opts.write) {
    if (opts.format === 'json') {
      ctx.out(JSON.stringify(opts.check ? { unformatted, errors: failed } : { written: unformatted, errors: failed }, null, 2) + '\n');
    } else {
      for (const f of unformatted) ctx.out(opts.write ? `formatted ${f}\n` : `${f}\n`);
    }
  }
  if (failed.length > 0) return EXIT.errors;
  if (opts.check && unformatted.length > 0) return EXIT.errors;
  return EXIT.ok;
}
