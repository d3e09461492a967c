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
  const all: Diagnostic[] = [];
  // A layered set includes its base's files: a base checked beside its layers (`rein check policies`)
  // would report each of the base's diagnostics once per set. Files are counted once (by path), and
  // a diagnostic the same in every way (file, range, code, severity, message) once.
  const paths = new Set<string>();
  for (const s of sets) {
    const r = checkPolicySet(s);
    for (const name of Object.keys(s.files)) paths.add(s.paths[name] ?? `${s.root}\u0000${name}`);
    for (const d of r.diagnostics) all.push(qualify(s, d, multi));
  }
  const files = paths.size;
  const lookup = lookupFor(ctx, sets);
  const seen = new Set<string>();
  const diags = all.filter((d) => {
    const k = [lookup.display(d.file), d.range.start.offset, d.range.end.offset, d.code, d.severity, d.message].join('\u0000');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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
