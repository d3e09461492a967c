// `rein audit verify LOG…` and `rein audit replay LOG… --policy PATH` (docs/audit.md).

import { verifyChain, parseRecords } from '../../audit/record.js';
import { nodeLineHash } from '../audit-file.js';
import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../errors.js';
import type { Options } from '../options.js';
import { loadPolicyFor } from '../shared.js';
import { side, signature, reasonList, type DiffSide } from './diff.js';

async function readLogs(ctx: Ctx, files: string[]): Promise<{ source: string; text: string }[]> {
  const out: { source: string; text: string }[] = [];
  for (const f of files) out.push({ source: f, text: await ctx.readInput(f) });
  return out;
}

export default async function cmdAudit(ctx: Ctx, positionals: string[], opts: Options<'audit'>): Promise<number> {
  const [sub, ...logs] = positionals;
  if (sub !== 'verify' && sub !== 'replay') throw new UsageError(sub === undefined ? 'expected `verify` or `replay`' : `unknown audit command \`${sub}\` (expected \`verify\` or \`replay\`)`, 'audit');
  if (logs.length === 0) throw new UsageError(`expected at least one LOG file`, 'audit');
  const chunks = await readLogs(ctx, logs);

  if (sub === 'verify') {
    if (opts.policy) throw new UsageError('--policy is only for `rein audit replay`', 'audit');
    const r = verifyChain(chunks, nodeLineHash);
    if (opts.format === 'json') ctx.out(JSON.stringify(r, null, 2) + '\n');
    else if (r.ok) {
      ctx.out(`${ctx.c.green('intact')}: ${r.records} records in ${logs.length} file${logs.length === 1 ? '' : 's'}; head seq ${r.head!.seq} ${r.head!.hash}\n`);
      if (r.truncatedTail) ctx.err(`rein audit: ${r.truncatedTail.source}:${r.truncatedTail.line}: partial last line ignored (a write was interrupted)\n`);
    } else {
      const p = r.problem!;
      ctx.out(`${ctx.c.red('broken')}: ${p.source}:${p.line}${p.seq !== null ? ` (seq ${p.seq})` : ''}: ${p.message}\n`);
      ctx.out(`${r.records} records verified before it\n`);
    }
    return r.ok ? EXIT.ok : EXIT.broken;
  }

  if (!opts.policy) throw new UsageError('--policy PATH is required for `rein audit replay`', 'audit');
  const policy = await loadPolicyFor(ctx, opts.policy);
  const report = {
    changes: [] as { source: string; seq: number; old: DiffSide; new: DiffSide }[],
    skipped: 0,
    budgetDecided: 0,
    summary: { records: 0, replayed: 0, changed: 0 },
  };
  for (const c of chunks) {
    for (const rec of parseRecords(c.text)) {
      report.summary.records++;
      if (rec.request === undefined) {
        report.skipped++;
        continue;
      }
      // Replays are stateless (rules and the default, as `rein diff`): the spend a budget saw is not in
      // the log, so a decision that a budget decided or held for approval cannot be re-decided honestly.
      const d = rec.decision;
      if (d.reasons.some((r) => r.kind === 'budget') || d.approvals.some((a) => a.kind === 'budget')) {
        report.budgetDecided++;
        continue;
      }
      report.summary.replayed++;
      const now = new Date(rec.time);
      const a = side(rec.decision);
      const b = side(policy.evaluate(rec.request, { now: Number.isNaN(now.getTime()) ? undefined : now }));
      if (signature(a) !== signature(b)) report.changes.push({ source: c.source, seq: rec.seq, old: a, new: b });
    }
  }
  report.summary.changed = report.changes.length;
  if (opts.format === 'json') ctx.out(JSON.stringify(report, null, 2) + '\n');
  else {
    for (const ch of report.changes) {
      ctx.out(`${ch.source} seq ${ch.seq}: ${ctx.c.bold(ch.old.effect)} → ${ctx.c.bold(ch.new.effect)}\n  logged: ${reasonList(ch.old)}\n  now:    ${reasonList(ch.new)}\n`);
    }
    const s = report.summary;
    const notes = [
      report.skipped ? `${report.skipped} logged without their request` : '',
      report.budgetDecided ? `${report.budgetDecided} decided by a budget (not replayed: budgets need the spend of the time)` : '',
    ].filter(Boolean);
    ctx.out(`${s.replayed} requests replayed: ${s.changed} changed, ${s.replayed - s.changed} unchanged${notes.length ? `; skipped: ${notes.join(', ')}` : ''}\n`);
  }
  return report.changes.length ? EXIT.changed : EXIT.ok;
}
