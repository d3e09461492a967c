// `rein diff OLD NEW --inputs FILE.jsonl`: replay recorded requests through two policy versions.
// Each request is evaluated with rules and the set's default only (`policy.evaluate`, stateless):
// budgets are left out, because replayed requests do not carry the spend they saw when recorded.
// A decision changed when its effect, its reasons (kind, name, effect) or its pending approvals differ.

import type { Decision } from '../../language/runtime/decision.js';
import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { loadPolicyFor } from '../shared.js';

export interface DiffSide {
  effect: Decision['effect'];
  reasons: { kind: string; name?: string; effect: string; message: string | null }[];
  approvals: string[];
  errors: string[];
}

export interface DiffChange {
  line: number;
  old: DiffSide;
  new: DiffSide;
}

export interface DiffReport {
  changes: DiffChange[];
  malformed: { line: number; message: string }[];
  summary: { requests: number; changed: number; unchanged: number; malformed: number };
}

export function side(d: Pick<Decision, 'effect' | 'reasons' | 'approvals' | 'errors'>): DiffSide {
  return {
    effect: d.effect,
    reasons: d.reasons.map((r) => ({ kind: r.kind, ...(r.name !== undefined ? { name: r.name } : {}), effect: r.effect, message: r.message })),
    approvals: d.approvals.map((a) => a.name),
    errors: d.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)),
  };
}

export function signature(s: DiffSide): string {
  return JSON.stringify([s.effect, s.reasons.map((r) => [r.kind, r.name ?? '', r.effect]).sort(), [...s.approvals].sort()]);
}

export function reasonList(s: DiffSide): string {
  const names = s.reasons.map((r) => (r.kind === 'default' ? 'default' : `${r.kind} ${r.name ?? ''}`.trim()));
  const parts = [names.length ? names.join(', ') : 'no reasons'];
  if (s.approvals.length) parts.push(`approvals: ${s.approvals.join(', ')}`);
  if (s.errors.length) parts.push(`errors: ${s.errors.join('; ')}`);
  return parts.join('; ');
}

export default async function cmdDiff(ctx: Ctx, positionals: string[], opts: Options<'diff'>): Promise<number> {
  if (positionals.length !== 2) throw new UsageError('expected OLD and NEW policy paths', 'diff');
  const [oldPath, newPath] = positionals;
  const text = await ctx.readInput(opts.inputs);
  const oldPolicy = await loadPolicyFor(ctx, oldPath);
  const newPolicy = await loadPolicyFor(ctx, newPath);
  const now = opts.now ?? new Date();
  const report: DiffReport = { changes: [], malformed: [], summary: { requests: 0, changed: 0, unchanged: 0, malformed: 0 } };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let request: unknown;
    try {
      request = JSON.parse(raw);
    } catch (e) {
      report.malformed.push({ line, message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      report.malformed.push({ line, message: 'expected a JSON object (one request per line)' });
      return;
    }
    report.summary.requests++;
    const a = side(oldPolicy.evaluate(request, { now }));
    const b = side(newPolicy.evaluate(request, { now }));
    if (signature(a) !== signature(b)) report.changes.push({ line, old: a, new: b });
  });
  report.summary.changed = report.changes.length;
  report.summary.unchanged = report.summary.requests - report.changes.length;
  report.summary.malformed = report.malformed.length;

  const inputs = opts.inputs === '-' ? '<stdin>' : opts.inputs;
  if (opts.format === 'json') {
    ctx.out(JSON.stringify(report, null, 2) + '\n');
  } else {
    const c = ctx.c;
    for (const ch of report.changes) {
      ctx.out(`${inputs}:${ch.line}: ${c.bold(ch.old.effect)} → ${c.bold(ch.new.effect)}\n`);
      ctx.out(`  old: ${reasonList(ch.old)}\n`);
      ctx.out(`  new: ${reasonList(ch.new)}\n`);
    }
    const s = report.summary;
    ctx.out(`${s.requests} requests: ${s.changed} changed, ${s.unchanged} unchanged${s.malformed ? `, ${s.malformed} malformed` : ''}\n`);
  }
  for (const m of report.malformed) ctx.err(`rein diff: ${inputs}:${m.line}: ${m.message}\n`);
  if (report.malformed.length > 0) return EXIT.usage;
  return report.changes.length > 0 ? EXIT.changed : EXIT.ok;
}
