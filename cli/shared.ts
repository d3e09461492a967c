// Helpers shared by the commands that touch policies: display lookups, printing policy errors,
// loading a policy for eval/diff, rendering diagnostics in every format.

import { promises as fs, readFileSync, type Stats } from 'node:fs';
import '../language/semantics/regex.js'; // RE2 for every `matches` pattern (semantics/patterns.ts)
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from '../language/diagnostics.js';
import { PolicyError } from '../language/errors.js';
import { compile, type Policy } from '../language/policy.js';
import { EXIT, type Ctx } from './context.js';
import { ExitCode, LoadError, UsageError } from '../language/node/errors.js';
import type { ExternImpls } from '../language/runtime/externs.js';
import { checkPolicySet, loadPolicy, readPolicySet, type PolicySet } from '../language/node/load.js';
import { escapeData, escapeProperty, renderDiagnosticsGithub } from './output/github.js';
import { renderCheckJson } from './output/json.js';
import { renderSarif } from './output/sarif.js';
import { makeLookup, summarize, type SourceLookup } from './output/source.js';
import { renderDiagnosticsText, renderSummaryText } from './output/text.js';
import { REIN_VERSION, moduleDir } from '../language/node/version.js';

/** Diagnostics from several sets share names (`tools.rein`): qualify them by the set's root. */
function key(s: PolicySet, name: string, multi: boolean): string {
  return multi ? `${s.root}\u0000${name}` : name;
}

export function qualify(s: PolicySet, d: Diagnostic, multi: boolean): Diagnostic {
  if (!multi) return d;
  return { ...d, file: key(s, d.file, true), related: d.related?.map((r) => ({ ...r, file: key(s, r.file, true) })) };
}

/** Display paths and sources for the files of some sets (use `qualify` on diagnostics when several). */
export function lookupFor(ctx: Ctx, sets: PolicySet[]): SourceLookup {
  const entries: { name: string; display: string; text?: string }[] = [];
  const multi = sets.length > 1;
  for (const s of sets) {
    for (const [name, text] of Object.entries(s.files)) entries.push({ name: key(s, name, multi), display: ctx.display(s.paths[name]), text });
    for (const [name, text] of Object.entries(s.data ?? {})) entries.push({ name: key(s, name, multi), display: ctx.display(s.paths[name]), text });
    if (s.paths['rein.json']) entries.push({ name: key(s, 'rein.json', multi), display: ctx.display(s.paths['rein.json']), text: s.configSource });
  }
  return makeLookup(entries);
}

/** Print diagnostics in text form on stderr, with a summary line. */
export function printDiagnostics(ctx: Ctx, diags: Diagnostic[], lookup: SourceLookup, files: number): void {
  if (diags.length === 0) return;
  ctx.err(renderDiagnosticsText(diags, lookup, ctx.c));
  ctx.err(renderSummaryText(summarize(diags, files), ctx.c) + '\n');
}

export function printPolicyError(ctx: Ctx, e: PolicyError, set?: PolicySet): void {
  if (e.diagnostics.length === 0) {
    ctx.err(`rein: ${e.message}\n`);
    return;
  }
  const lookup = set ? lookupFor(ctx, [set]) : makeLookup([]);
  printDiagnostics(ctx, e.diagnostics, lookup, set ? Object.keys(set.files).length : new Set(e.diagnostics.map((d) => d.file)).size);
}

/** A path argument resolved and stat'ed, or a LoadError naming it (exit 2) when it does not exist. */
export async function statArg(ctx: Ctx, p: string): Promise<{ abs: string; st: Stats }> {
  const abs = ctx.resolve(p);
  try {
    return { abs, st: await fs.stat(abs) };
  } catch {
    throw new LoadError(`no such file or directory: \`${p}\``);
  }
}

/**
 * Load a policy for eval/diff: a directory or `.rein` file (checked; errors printed with excerpts,
 * then ExitCode 1) or a bundle.
 */
export async function loadPolicyFor(ctx: Ctx, p: string): Promise<Policy> {
  const { abs, st } = await statArg(ctx, p);
  if (st.isDirectory() || abs.endsWith('.rein')) {
    const set = await readPolicySet(p, ctx.io.cwd);
    const result = checkPolicySet(set);
    if (!result.ok) {
      printPolicyError(ctx, new PolicyError('the policy set has errors', result.diagnostics.filter((d) => d.severity === 'error')), set);
      throw new ExitCode(EXIT.errors);
    }
    return compile(result);
  }
  return loadPolicy(abs);
}

/** Base URL of the docs folder for SARIF helpUri: $REIN_DOCS_URL, else the docs shipped with this package. */
export function docsBase(env: Record<string, string | undefined>): string {
  const base = env.REIN_DOCS_URL;
  if (base) return base.endsWith('/') ? base : base + '/';
  // The package root: the nearest directory above this module with a package.json named `rein`
  // (sources: language/node; built: dist/ or dist/cli/chunks).
  let dir = moduleDir() ?? process.cwd();
  for (let i = 0; i < 8; i++) {
    try {
      if ((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'rein') break;
    } catch {
      // keep looking
    }
    dir = path.dirname(dir);
  }
  return pathToFileURL(path.join(dir, 'docs')).href + '/';
}

export type DiagnosticFormat = 'text' | 'json' | 'sarif' | 'github';

/**
 * Why a command fails that its diagnostics alone do not show (a gate such as `--max-warnings`): said in
 * every machine format — JSON `summary` (`fields`, plus `failure`), a GitHub `::error` line, a SARIF
 * run-level tool notification with the exit code — so a red CI step never comes with a clean report.
 * Text mode leaves it to the command (a line on stderr).
 */
export interface GateFailure {
  /** One line, e.g. `2 warnings exceed --max-warnings 0`. */
  message: string;
  /** The command's name, for the GitHub annotation's title (`rein check`). */
  command: string;
  exitCode: number;
}

export function renderDiagnostics(ctx: Ctx, fmt: DiagnosticFormat, diags: Diagnostic[], lookup: SourceLookup, files: number, gate?: { failure?: GateFailure; summary?: Record<string, unknown> }): string {
  const summary = { ...summarize(diags, files), ...gate?.summary, ...(gate?.failure ? { failure: gate.failure.message } : {}) };
  switch (fmt) {
    case 'json':
      return renderCheckJson(diags, summary, lookup);
    case 'sarif':
      return renderSarif(diags, lookup, {
        version: REIN_VERSION,
        docsBase: docsBase(ctx.io.env),
        srcRoot: pathToFileURL(ctx.io.cwd).href,
        ...(gate?.failure ? { failure: { message: gate.failure.message, exitCode: gate.failure.exitCode } } : {}),
      });
    case 'github':
      return renderDiagnosticsGithub(diags, lookup) + (gate?.failure ? `::error title=${escapeProperty(gate.failure.command)}::${escapeData(gate.failure.message)}\n` : '');
    case 'text':
      return (diags.length ? renderDiagnosticsText(diags, lookup, ctx.c) : '') + renderSummaryText(summary, ctx.c) + '\n';
  }
}

/** `--externs FILE`: the implementations of the policy's `extern def`s (docs/externs.md), or
 *  undefined without the option. A module that cannot be loaded is a usage error (exit 2). */
export async function externsFor(ctx: Ctx, file: string | undefined, command: string): Promise<ExternImpls | undefined> {
  if (file === undefined) return undefined;
  const { loadExternsModule, ExternsModuleError } = await import('../language/node/externs.js');
  try {
    return await loadExternsModule(file, ctx.io.cwd);
  } catch (e) {
    if (e instanceof ExternsModuleError) throw new UsageError(e.message, command);
    throw e;
  }
}
