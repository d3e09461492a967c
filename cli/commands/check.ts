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
  // A layered set holds its base's files: checking a base and the layers over it reports a base
  // file's diagnostic once, and counts each file once (review h12r2 T16).
  const seenFiles = new Set<string>();
  const seen = new Set<string>();
  for (const s of sets) {
    const r = checkPolicySet(s);
    for (const name of Object.keys(s.files)) seenFiles.add(s.paths[name] ?? `${s.root}\0${name}`);
    for (const d of r.diagnostics) {
      const k = `${s.paths[d.file] ?? `${s.root}\0${d.file}`}\0${JSON.stringify(d.range)}\0${d.code}\0${d.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      diags.push(qualify(s, d, multi));
    }
  }
  const files = seenFiles.size;
  const lookup = lookupFor(ctx, sets);
  diags.sort((a, b) => {
    const fa = lookup.display(a.file);
    const fb = lookup.display(b.file);
    return fa !== fb ? (fa < fb ? -1 : 1) : compareDiagnostics(a, b);
  });
  ctx.out(renderDiagnostics(ctx, opts.format, diags, lookup, files));
  const s = summarize(diags, files);
  if (s.errors > 0) return EXIT.errors;
  if (opts['max-warnings'] !== undefined && s.warnings > opts['max-warnings']) {
    if (opts.format === 'text') ctx.err(`rein check: ${s.warnings} ${s.warnings === 1 ? 'warning exceeds' : 'warnings exceed'} --max-warnings ${opts['max-warnings']}\n`);
    return EXIT.errors;
  }
  return EXIT.ok;
}
