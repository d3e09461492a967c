// `rein report LOG… -o FILE`: a self-contained HTML page (docs/audit.md); `--format json`: the same
// figures as JSON (`summarize`), with the chain verification, to FILE or stdout.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isEventRecord, parseRecords, verifyLog } from '../../language/audit/record.js';
import { renderReport, summarize } from '../../language/audit/report.js';
import { nodeLineHash } from '../../language/node/audit-file.js';
import { EXIT, type Ctx } from '../context.js';
import { UsageError, LoadError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { mkdirs } from '../../language/node/mkdirs.js';

export default async function cmdReport(ctx: Ctx, positionals: string[], opts: Options<'report'>): Promise<number> {
  if (positionals.length === 0) throw new UsageError('expected at least one LOG file', 'report');
  const chunks: { source: string; text: string }[] = [];
  for (const f of positionals) chunks.push({ source: f, text: await ctx.readInput(f) });
  // Event records (approval verdicts) are part of the chain (verified below) but not decisions.
  const records = chunks.flatMap((c) => parseRecords(c.text)).filter((r) => !isEventRecord(r));
  // Every file must hold decision records (a typo'd path to some other JSON file is an error, not an empty report).
  for (const c of chunks) {
    const recs = parseRecords(c.text);
    const isRecord = (r: unknown) => typeof r === 'object' && r !== null && typeof (r as { hash?: unknown }).hash === 'string' && (typeof (r as { decision?: unknown }).decision === 'object' || isEventRecord(r));
    if (recs.length === 0 || !recs.every(isRecord)) {
      throw new LoadError(`\`${c.source}\` is not a decision log (JSON Lines of audit records, as FileAuditLog writes them)`);
    }
  }
  const verify = verifyLog(chunks, { hash: nodeLineHash });
  const text =
    opts.format === 'json'
      ? JSON.stringify({ title: opts.title ?? 'Rein decision report', sources: positionals, verify, ...summarize(records) }, null, 2) + '\n'
      : renderReport(records, { title: opts.title, verify, sources: positionals });
  if (opts.output === undefined) {
    ctx.out(text); // json only (the options require -o for html)
    return EXIT.ok;
  }
  try {
    mkdirs(path.dirname(ctx.resolve(opts.output)));
    await fs.writeFile(ctx.resolve(opts.output), text);
  } catch (e) {
    throw new LoadError(`cannot write \`${opts.output}\`: ${(e as Error).message}`);
  }
  ctx.err(`rein report: ${records.length} decisions → ${opts.output}\n`);
  return EXIT.ok;
}
