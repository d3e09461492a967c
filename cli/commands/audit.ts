// `rein audit verify LOG…` and `rein audit replay LOG… --policy PATH` (docs/audit.md).

import { readFile } from 'node:fs/promises';
import { verifyLog, parseRecords, isEventRecord, type AnchorPoint } from '../../language/audit/record.js';
import { parseAnchorKey, readAnchors } from '../../language/node/audit-anchor.js';
import { nodeLineHash } from '../../language/node/audit-file.js';
import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { loadPolicyFor } from '../shared.js';
import { side, signature, changeLines, type DiffSide } from './diff.js';
import type { Approval, Decision } from '../../language/runtime/decision.js';

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
    if (!!opts.anchors !== !!opts.key) throw new UsageError('--anchors FILE and --key KEY go together', 'audit');
    let anchors: AnchorPoint[] | undefined;
    if (opts.anchors && opts.key) {
      let keyText: string | Buffer;
      if (opts.key.startsWith('env:')) {
        const v = process.env[opts.key.slice(4)];
        if (!v) throw new UsageError(`--key ${opts.key}: the variable is not set`, 'audit');
        keyText = v;
      } else {
        try {
          keyText = await readFile(opts.key);
        } catch (e) {
          throw new UsageError(`--key ${opts.key}: ${(e as Error).message}`, 'audit');
        }
      }
      let key;
      try {
        key = parseAnchorKey(keyText);
      } catch (e) {
        throw new UsageError(`--key ${opts.key}: not a usable key (${(e as Error).message})`, 'audit');
      }
      const read = readAnchors(await ctx.readInput(opts.anchors), key, opts.anchors);
      if (read.problem) {
        const r = { ok: false, records: 0, problem: { source: opts.anchors, line: read.problem.line, seq: null, message: `anchor: ${read.problem.message}` } };
        if (opts.format === 'json') ctx.out(JSON.stringify(r, null, 2) + '\n');
        else ctx.out(`${ctx.c.red('broken')}: ${opts.anchors}:${read.problem.line}: anchor: ${read.problem.message}\n`);
        return EXIT.broken;
      }
      anchors = read.anchors;
    }
    const r = verifyLog(chunks, { hash: nodeLineHash, anchors });
    if (anchors && r.chains.length > 1) throw new UsageError('--anchors checks one log: give the files of one log (the given files form several)', 'audit');
    if (opts.format === 'json') ctx.out(JSON.stringify(r, null, 2) + '\n');
    else if (r.ok) {
      for (const ch of r.chains) {
        const res = ch.result;
        const from = res.start ? `from seq ${res.start.seq} (its predecessor ${res.start.prev} is in a file not given)` : 'from the start of the log';
        const anchored = res.anchors ? `; ${res.anchors.matched} anchors matched${res.anchors.beforeStart ? `, ${res.anchors.beforeStart} before the files given (not checked)` : ''}` : '';
        ctx.out(`${ctx.c.green('intact')}: ${res.records} records in ${ch.sources.length} file${ch.sources.length === 1 ? '' : 's'} ${from}; head seq ${res.head!.seq} ${res.head!.hash}${anchored}\n`);
        if (res.truncatedTail) ctx.err(`rein audit: ${res.truncatedTail.source}:${res.truncatedTail.line}: partial last line ignored (a write was interrupted)\n`);
      }
      if (r.chains.length > 1) ctx.out(`${r.chains.length} logs, ${r.records} records\n`);
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
      if (isEventRecord(rec)) continue; // an approval verdict, not a decision: nothing to replay
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
      const at = Number.isNaN(now.getTime()) ? undefined : now;
      const mode = d.mode === 'monitor' ? 'monitor' : 'enforce';
      const approvals = approvalsOf(d, policy.requestHash(rec.request), at?.getTime());
      const b = side(policy.evaluate(rec.request, { now: at, approvals, mode }));
      if (a.transforms.length > 0 && mode === 'enforce') b.transforms = replayedMasks(a.transforms, b, policy.evaluate(rec.request, { now: at, approvals, mode: 'monitor' }));
      if (signature(a) !== signature(b)) report.changes.push({ source: c.source, seq: rec.seq, old: a, new: b });
    }
  }
  report.summary.changed = report.changes.length;
  if (opts.format === 'json') ctx.out(JSON.stringify(report, null, 2) + '\n');
  else {
    for (const ch of report.changes) {
      ctx.out(`${ch.source} seq ${ch.seq}: ${ctx.c.bold(ch.old.effect)} → ${ctx.c.bold(ch.new.effect)}\n${changeLines(ch.old, ch.new, ['logged', 'now'])}`);
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

/**
 * What the policy masks now, for a logged decision that masked something. The log holds the request
 * *after* masking, so the replay cannot find the masked text again: a logged transform counts as kept
 * when its rule still matches the request as an enforced `redact` rule (a monitor-mode evaluation
 * lists every matched `redact` rule, `monitored` with effect `redact`; one the enforce evaluation lists
 * there too is `@monitor` now and masks nothing). Anything the policy masks in the logged text itself
 * (`now.transforms`) is new and kept as it is.
 */
function replayedMasks(logged: string[], now: DiffSide, monitorDecision: Decision): string[] {
  const dryRun = new Set(now.monitored.filter((m) => m.endsWith(' (redact)')).map((m) => m.slice(0, -' (redact)'.length)));
  const matching = new Set(monitorDecision.monitored.filter((r) => r.effect === 'redact' && r.name !== undefined && !dryRun.has(r.name)).map((r) => r.name!));
  const kept = logged.filter((t) => matching.has(t.slice(0, t.indexOf(': '))));
  return [...new Set([...kept, ...now.transforms])].sort();
}

/**
 * The approvals a logged decision was decided with, to decide its request again with them: one per
 * approver of each approved rule (`approved`, `approved_by`, `approvers` of its reasons), with its
 * group, given at the logged time (so `expires` counts them), bound to the request as replayed.
 * Without them every decision a human approved would read as changed.
 */
function approvalsOf(d: Pick<Decision, 'reasons'>, requestHash: string | null, at: number | undefined): Approval[] {
  if (requestHash === null) return [];
  const out: Approval[] = [];
  for (const r of d.reasons) {
    if (!r.approved || r.kind !== 'rule' || !r.name) continue;
    const who = r.approvers?.length ? r.approvers : [r.approved_by ? { approver: r.approved_by.approver, group: r.approved_by.group } : { approver: null, group: null }];
    for (const a of who) {
      out.push({ rule: r.name, request_hash: requestHash, ...(a.group !== null ? { group: a.group } : {}), ...(a.approver !== null ? { approver: a.approver } : {}), ...(at !== undefined ? { at } : {}) });
    }
  }
  return out;
}
