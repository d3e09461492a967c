// `rein test [PATH…]`: run every `test` block of the policy sets under PATH.

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { compareDiagnostics, type Diagnostic } from '../../language/diagnostics.js';
import { compile } from '../../language/policy.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';
import { checkPolicySet, resolvePolicySets, type PolicySet } from '../../language/node/load.js';
import { isBundleFile, readBundle } from '../../language/node/bundle.js';
import type { Options } from '../options.js';
import { makeLookup, type SourceLookup } from '../output/source.js';
import { coverageShort, printable, renderTestsJson, renderTestsJunit, renderTestsText, type SetCoverage, type TestCaseResult, type TestRunResult } from '../output/tests.js';
import { lookupFor, printDiagnostics, qualify, renderDiagnostics } from '../shared.js';
import { toCases, toCoverage } from '../test-report.js';

/** A failing test as a REIN403 diagnostic (for the github and sarif formats). */
function failureDiagnostic(t: TestCaseResult): Diagnostic {
  const pos = { line: t.line - 1, character: t.column - 1, offset: 0 };
  return {
    file: t.file,
    range: { start: pos, end: { ...pos, character: pos.character + 4 } },
    severity: 'error',
    code: 'REIN403',
    message: `test \`${printable(t.name)}\` failed: expected ${t.expected ?? '?'}, got ${t.actual ?? '?'}`,
  };
}

export default async function cmdTest(ctx: Ctx, positionals: string[], opts: Options<'test'>): Promise<number> {
  if (opts.watch) {
    const { watchLoop } = await import('../watch.js');
    return watchLoop(ctx, positionals.length ? positionals : ['.'], 'test', () => runTest(ctx, positionals, opts));
  }
  return runTest(ctx, positionals, opts);
}

async function runTest(ctx: Ctx, positionals: string[], opts: Options<'test'>): Promise<number> {
  const sets = await setsOf(ctx, positionals.length ? positionals : ['.']);
  const coverage = opts.coverage || opts['min-coverage'] !== undefined;
  const filter = opts.filter !== undefined ? new RegExp(opts.filter) : undefined;
  const multi = sets.length > 1;
  const errorDiags: Diagnostic[] = [];
  const errorSets: PolicySet[] = [];
  const run: TestRunResult = { tests: [], summary: { tests: 0, passed: 0, failed: 0 } };
  const covs: SetCoverage[] = [];

  for (const set of sets) {
    const result = checkPolicySet(set);
    const setName = ctx.display(set.root);
    if (!result.ok) {
      errorSets.push(set);
      for (const d of result.diagnostics) if (d.severity === 'error') errorDiags.push(qualify(set, d, multi));
      continue;
    }
    const policy = compile(result);
    const started = performance.now();
    const report = runTests(policy, { filter, coverage });
    (run.timings ??= {})[setName] = Math.round((performance.now() - started) * 1000) / 1000;
    const display = (file: string) => ctx.display(set.paths[file] ?? path.join(set.root, file));
    run.tests.push(...toCases(report, setName, display));
    if (coverage) {
      const cov = toCoverage(report, setName, display);
      if (cov) covs.push(cov);
    }
  }

  run.summary.tests = run.tests.length;
  run.summary.passed = run.tests.filter((t) => t.passed).length;
  run.summary.failed = run.summary.tests - run.summary.passed;
  if (coverage) {
    run.coverage = covs;
    const covered = covs.reduce((a, c) => a + c.covered, 0);
    const total = covs.reduce((a, c) => a + c.total, 0);
    run.summary.coverage = total === 0 ? 100 : Math.round((covered / total) * 1000) / 10;
  }

  const min = opts['min-coverage'];
  if (coverage && min !== undefined) run.summary.min_coverage = min;
  // Coverage under --min-coverage (exit 3): said in every format, not only in text.
  const short = min !== undefined && errorDiags.length === 0 && (run.summary.coverage ?? 0) < min ? coverageShort(run.summary.coverage ?? 0, min) : undefined;
  const lookup: SourceLookup = lookupFor(ctx, sets);
  errorDiags.sort(compareDiagnostics);
  switch (opts.format) {
    case 'text':
      printDiagnostics(ctx, errorDiags, lookup, errorSets.reduce((a, s) => a + Object.keys(s.files).length, 0));
      ctx.out(renderTestsText(run, ctx.c, opts['min-coverage']));
      break;
    case 'json':
      ctx.out(renderTestsJson({ ...run, ...(errorDiags.length ? { diagnostics: JSON.parse(renderDiagnostics(ctx, 'json', errorDiags, lookup, 0)).diagnostics } : {}) } as TestRunResult));
      break;
    case 'junit':
      printDiagnostics(ctx, errorDiags, lookup, errorSets.reduce((a, s) => a + Object.keys(s.files).length, 0));
      ctx.out(
        renderTestsJunit(
          run,
          errorSets.map((set) => ({
            set: ctx.display(set.root),
            lines: errorDiags.filter((d) => multi ? d.file.startsWith(`${set.root}\u0000`) : true).map((d) => `${lookup.display(d.file)}:${d.range.start.line + 1}:${d.range.start.character + 1} ${d.code} ${d.message}`),
          })),
          short,
        ),
      );
      break;
    case 'github':
    case 'sarif': {
      const failures = run.tests.filter((t) => !t.passed).map(failureDiagnostic);
      // Failure diagnostics already carry display paths; policy errors are mapped through the lookup.
      const all = [...errorDiags.map((d) => ({ ...d, file: lookup.display(d.file), related: d.related?.map((r) => ({ ...r, file: lookup.display(r.file) })) })), ...failures];
      // coverage under --min-coverage: a GitHub ::error line, a SARIF invocation with exit code 3 and an error notification
      ctx.out(renderDiagnostics(ctx, opts.format, all, makeLookup([]), sets.length, short ? { failure: { message: short, command: 'rein test', exitCode: EXIT.testFailed } } : undefined));
      break;
    }
  }
  if (short && opts.format !== 'text') ctx.err(`rein test: ${short}\n`);

  if (errorDiags.length > 0) return EXIT.errors;
  if (filter && run.summary.tests === 0) {
    throw new UsageError(`--filter \`${opts.filter}\` matched no test`, 'test');
  }
  if (run.summary.failed > 0) return EXIT.testFailed;
  if (opts['min-coverage'] !== undefined && (run.summary.coverage ?? 0) < opts['min-coverage']) return EXIT.testFailed;
  return EXIT.ok;
}

/**
 * The sets to test: a bundle (`rein build`'s output) is tested from the sources, `rein.json` and data
 * it carries, once its integrity is verified; every other PATH as `rein check` reads it.
 */
async function setsOf(ctx: Ctx, paths: string[]): Promise<PolicySet[]> {
  const isBundle = async (p: string) => isBundleFile(p) && (await stat(ctx.resolve(p)).then((st) => st.isFile(), () => false));
  const flags = await Promise.all(paths.map(isBundle));
  const bundles = paths.filter((_, i) => flags[i]);
  const sets = bundles.length < paths.length ? await resolvePolicySets(paths.filter((_, i) => !flags[i]), ctx.io.cwd) : [];
  for (const p of bundles) {
    const abs = ctx.resolve(p);
    const { bundle } = await readBundle(abs);
    const paths: Record<string, string> = {};
    for (const name of [...Object.keys(bundle.files), ...Object.keys(bundle.data ?? {})]) paths[name] = `${abs}#${name}`;
    sets.push({ root: abs, files: bundle.files, paths, config: bundle.config ?? undefined, configDiagnostics: [], ...(bundle.data ? { data: bundle.data } : {}) });
  }
  return sets;
}
