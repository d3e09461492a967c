// `rein check [PATH…]`: parse, type-check and lint every policy set under PATH.

import { compareDiagnostics, type Diagnostic } from '../../language/diagnostics.js';
import { EXIT, type Ctx } from '../context.js';
import { checkPolicySet, resolvePolicySets } from '../../language/node/load.js';
import type { Options } from '../options.js';
import { summarize } from '../output/source.js';
import { lookupFor, qualify, renderDiagnostics } from '../shared.js';

export default async function cmdCheck(ctx: Ctx, positionals: string[], opts: Options<'check'>): Promise<number> {
  if (opts.watch) {
    const { watchLoop } = await import('../watch.js');
    return watchLoop(ctx, positionals.length ? positionals : ['.'], 'check', () => runCheck(ctx, positionals, opts));
  }
  return runCheck(ctx, positionals, opts);
}

async function runCheck(ctx: Ctx, positionals: string[], opts: Options<'check'>): Promise<number> {
  const sets = await resolvePolicySets(positionals.length ? positionals : ['.'], ctx.io.cwd);
  const multi = sets.length > 1;
  const diags: Diagnostic[] = [];
  let files = 0;
  for (const s of sets) {
    const r = checkPolicySet(s);
    files += Object.keys(s.files).length;
    for (const d of r.diagnostics) diags.push(qualify(s, d, multi));
  }
  const lookup = lookupFor(ctx, sets);
  diags.sort((a, b) => {
    const fa = lookup.display(a.file);
    const fb = lookup.display(b.file);
    return fa !== fb ? (fa < fb ? -1 : 1) : compareDiagnostics(a, b);
  });
  const s = summarize(diags, files);
  const max = opts['max-warnings'];
  // Too many warnings (exit 1 without an error): said in every format, not only on a terminal.
  const exceeded = max !== undefined && s.errors === 0 && s.warnings > max ? `${s.warnings} ${s.warnings === 1 ? 'warning exceeds' : 'warnings exceed'} --max-warnings ${max}` : undefined;
  ctx.out(
    renderDiagnostics(ctx, opts.format, diags, lookup, files, {
      ...(max !== undefined ? { summary: { max_warnings: max } } : {}),
      ...(exceeded ? { failure: { message: exceeded, command: 'rein check', exitCode: EXIT.errors } } : {}),
    }),
  );
  if (s.errors > 0) return EXIT.errors;
  if (exceeded) {
    ctx.err(`rein check: ${exceeded}\n`);
    return EXIT.errors;
  }
  return EXIT.ok;
}
