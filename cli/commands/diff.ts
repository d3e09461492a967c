// `rein diff OLD NEW --inputs FILE.jsonl`: replay recorded requests through two policy versions.
// Each request is evaluated with rules and the set's default only (`policy.evaluate`, stateless):
// budgets are left out, because replayed requests do not carry the spend they saw when recorded.
// A decision changed when its effect, its reasons (kind, name, effect), its pending approvals, what it
// masks (transforms: rule and path), its rule warnings or its monitored rules differ.

import type { Decision } from '../../language/runtime/decision.js';
import { pathText } from '../../language/runtime/transforms.js';
import { EXIT, withoutBom, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { loadPolicyFor } from '../shared.js';

export interface DiffSide {
  effect: Decision['effect'];
  reasons: { kind: string; name?: string; effect: string; message: string | null }[];
  approvals: string[];
  errors: string[];
  /** What the decision masks: `rule: path` per transform (a matched `redact` rule), sorted, unique. */
  transforms: string[];
  /** The rules that warned (`warn`), sorted. Budget warnings are left out (replays decide without budgets). */
  warnings: string[];
  /** The monitored (dry-run) rules that matched, `name (effect)`, sorted. Budgets left out as above. */
  monitored: string[];
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

type Sided = Pick<Decision, 'effect' | 'reasons' | 'approvals' | 'errors'> & Partial<Pick<Decision, 'warnings' | 'monitored' | 'transforms'>>;

const sortedUnique = (xs: string[]): string[] => [...new Set(xs)].sort();

/** `rule: path` of each transform of a decision (sorted, unique). */
export function transformList(ts: Decision['transforms']): string[] {
  return sortedUnique((Array.isArray(ts) ? ts : []).map((t) => `${t.rule}: ${pathText(t.path)}${t.key ? ' (key)' : ''}`));
}

export function side(d: Sided): DiffSide {
  // A logged decision (`rein audit replay`) may come from an older writer: read the lists defensively.
  const list = <T>(x: T[] | undefined): T[] => (Array.isArray(x) ? x : []);
  return {
    effect: d.effect,
    reasons: d.reasons.map((r) => ({ kind: r.kind, ...(r.name !== undefined ? { name: r.name } : {}), effect: r.effect, message: r.message })),
    approvals: d.approvals.map((a) => a.name),
    errors: d.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)),
    transforms: transformList(d.transforms),
    warnings: sortedUnique(list(d.warnings).filter((r) => r.kind !== 'budget').map((r) => r.name ?? '')),
    monitored: sortedUnique(list(d.monitored).filter((r) => r.kind !== 'budget').map((r) => `${r.name ?? ''} (${r.effect})`)),
  };
}

export function signature(s: DiffSide): string {
  return JSON.stringify([s.effect, s.reasons.map((r) => [r.kind, r.name ?? '', r.effect]).sort(), [...s.approvals].sort(), s.transforms, s.warnings, s.monitored]);
}

export function reasonList(s: DiffSide): string {
  const names = s.reasons.map((r) => (r.kind === 'default' ? 'default' : `${r.kind} ${r.name ?? ''}`.trim()));
  const parts = [names.length ? names.join(', ') : 'no reasons'];
  if (s.approvals.length) parts.push(`approvals: ${s.approvals.join(', ')}`);
  if (s.errors.length) parts.push(`errors: ${s.errors.join('; ')}`);
  return parts.join('; ');
}

/**
 * The lines of a changed decision, old then new (`labels`: `old`/`new`, or `logged`/`now`): the
 * reasons always, and each of masks / warnings / monitored that differs, on its own line, so a change
 * that keeps the effect (a rule that stopped masking) shows what changed.
 */
export function changeLines(a: DiffSide, b: DiffSide, labels: [string, string]): string {
  const w = Math.max(labels[0].length, labels[1].length) + 1;
  const pad = (l: string): string => `${l}:`.padEnd(w + 1);
  let out = `  ${pad(labels[0])}${reasonList(a)}\n  ${pad(labels[1])}${reasonList(b)}\n`;
  const none = (xs: string[]): string => (xs.length ? xs.join(', ') : 'none');
  for (const [k, title] of [['transforms', 'masks'], ['warnings', 'warnings'], ['monitored', 'monitored']] as const) {
    if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
    out += `  ${title}: ${none(a[k])} → ${none(b[k])}\n`;
  }
  return out;
}

export default async function cmdDiff(ctx: Ctx, positionals: string[], opts: Options<'diff'>): Promise<number> {
  if (positionals.length !== 2) throw new UsageError('expected OLD and NEW policy paths', 'diff');
  const [oldPath, newPath] = positionals;
  const text = withoutBom(await ctx.readInput(opts.inputs));
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
      ctx.out(changeLines(ch.old, ch.new, ['old', 'new']));
    }
    const s = report.summary;
    ctx.out(`${s.requests} ${s.requests === 1 ? 'request' : 'requests'}: ${s.changed} changed, ${s.unchanged} unchanged${s.malformed ? `, ${s.malformed} malformed` : ''}\n`);
  }
  for (const m of report.malformed) ctx.err(`rein diff: ${inputs}:${m.line}: ${m.message}\n`);
  if (report.malformed.length > 0) return EXIT.usage;
  return report.changes.length > 0 ? EXIT.changed : EXIT.ok;
}
