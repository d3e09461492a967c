// `rein approvals list | show ID | approve ID --as APPROVER [--reason TEXT] | deny ID --as APPROVER`
// (INTERFACES §7, docs/approvals.md).

import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { ApprovalConfigError } from '../../language/node/approvals/config.js';
import { openApprovalQueue } from '../../language/node/approvals/open.js';
import { FileApprovalStore, verifyRecord, type ApprovalQueue, type ApprovalRecord } from '../../language/node/approvals/queue.js';
import { logVerdict, terminalVerdictsPath } from '../../language/node/approvals/audit.js';
import { AuditLogger } from '../../language/audit/logger.js';
import { AuditLogLockedError, FileAuditLog } from '../../language/node/audit-file.js';
import { mkdirs } from '../../language/node/mkdirs.js';
import { escapeInvisible } from '../../language/runtime/visible.js';

/** How long `approve`/`deny` waits for another writer of the verdict log to finish (the CLI holds it briefly). */
const LOCK_WAIT_MS = 5000;

interface VerdictLog {
  logger: AuditLogger;
  where: string;
  /** Flushes and closes; resolves to the first write error, or null. */
  close(): Promise<Error | null>;
}

/**
 * The audit log a terminal verdict is appended to (docs/approvals.md): `--audit FILE`; else, for a
 * directory queue, `<queue dir>/verdicts.jsonl` (which `rein serve` reads with the same queue); else,
 * for a Redis queue, the fleet's audit stream (which `rein serve --redis` reads). Opened before the
 * verdict is given, so a log that cannot be written leaves the approval undecided.
 */
async function openVerdictLog(ctx: Ctx, opts: Options<'approvals'>, queue: ApprovalQueue): Promise<VerdictLog> {
  let firstError: Error | null = null;
  const onError = (e: unknown) => (firstError ??= e instanceof Error ? e : new Error(String(e)));
  const file = opts.audit ? ctx.resolve(opts.audit) : queue.store instanceof FileApprovalStore ? terminalVerdictsPath(queue.store.dir) : null;
  if (file === null) {
    const { RedisStreamAuditSink } = await import('../../language/node/serve/dashboard/redis-stream.js');
    const { hostname } = await import('node:os');
    const { randomBytes } = await import('node:crypto');
    const sink = new RedisStreamAuditSink({ url: opts.redis, prefix: opts['redis-prefix'], chain: `approvals-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}` });
    const logger = new AuditLogger(sink, { onError });
    return {
      logger,
      where: `the audit stream on ${opts.redis} (chain ${sink.chain})`,
      close: async () => {
        await logger.close().catch(onError);
        return firstError;
      },
    };
  }
  const { dirname } = await import('node:path');
  mkdirs(dirname(file), 0o700);
  let sink: FileAuditLog | null = null;
  for (const start = Date.now(); sink === null; ) {
    try {
      sink = new FileAuditLog(file);
    } catch (e) {
      if (!(e instanceof AuditLogLockedError) || Date.now() - start > LOCK_WAIT_MS) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const logger = new AuditLogger(sink, { onError });
  return {
    logger,
    where: file,
    close: async () => {
      await logger.close().catch(onError);
      return firstError;
    },
  };
}

/** The §7 shape of a pending approval, plus its status and verdict. */
function publicRecord(r: ApprovalRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {
    id: r.id,
    rule: r.rule,
    kind: r.kind,
    from: r.from,
    message: r.message,
    request_hash: r.request_hash,
    summary: r.summary,
    ...(r.request !== undefined ? { request: r.request } : {}),
    verified: verifyRecord(r),
    created: r.created,
    expires: r.expires,
    status: r.status,
    policy: r.policy,
  };
  if (r.quorum !== undefined) o.quorum = r.quorum;
  if (r.expires_ms !== undefined) o.expires_ms = r.expires_ms;
  if (r.votes) o.votes = r.votes;
  if (r.verdict) o.verdict = r.verdict;
  return o;
}

/** What an unverified record's check means (review h12r1 P14). */
const UNVERIFIED = {
  mismatch: 'UNVERIFIED: the request does not match its hash (it cannot be approved)',
  missing: 'unverified: no request stored, the summary is the queue writer\'s word',
} as const;

function oneLine(v: unknown, max = 120): string {
  let s: string;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  s = escapeInvisible(s.replace(/\s+/g, ' '));
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export default async function cmdApprovals(ctx: Ctx, positionals: string[], opts: Options<'approvals'>): Promise<number> {
  const [sub, id, ...extra] = positionals;
  const subs = ['list', 'show', 'approve', 'deny'];
  if (sub === undefined || !subs.includes(sub)) {
    throw new UsageError(sub === undefined ? 'expected `list`, `show ID`, `approve ID` or `deny ID`' : `unknown approvals command \`${sub}\` (expected ${subs.map((s) => `\`${s}\``).join(', ')})`, 'approvals');
  }
  if (sub === 'list' && id !== undefined) throw new UsageError('`list` takes no ID', 'approvals');
  if (sub !== 'list' && id === undefined) throw new UsageError(`\`${sub}\` needs an approval ID (see \`rein approvals list\`)`, 'approvals');
  if (extra.length > 0) throw new UsageError(`unexpected argument \`${extra[0]}\``, 'approvals');
  if ((sub === 'approve' || sub === 'deny') && !opts.as) throw new UsageError(`\`${sub}\` needs --as APPROVER`, 'approvals');
  if (sub !== 'approve' && sub !== 'deny' && (opts.as || opts.reason || opts.audit)) throw new UsageError('--as, --reason and --audit are for `approve` and `deny`', 'approvals');
  if (sub !== 'list' && opts.all) throw new UsageError('--all is for `list`', 'approvals');
  if (opts['redis-prefix'] !== undefined && !opts.redis) throw new UsageError('--redis-prefix needs --redis URL', 'approvals');

  let queue: ApprovalQueue;
  try {
    queue = await openApprovalQueue({ dir: opts.approvals, redis: opts.redis, prefix: opts['redis-prefix'], approvers: opts.approvers }, ctx.io.env as NodeJS.ProcessEnv, ctx.io.cwd);
  } catch (e) {
    if (e instanceof ApprovalConfigError) throw new UsageError(e.message, 'approvals');
    throw e;
  }
  try {
    if (sub === 'list') {
      const recs = await queue.list(opts.all ? 'all' : 'pending');
      // Written by the agent's process: shown with bidi and invisible characters as \uXXXX (visible.ts).
      if (opts.format === 'json') ctx.out(escapeInvisible(JSON.stringify(recs.map(publicRecord), null, 2)) + '\n');
      else if (recs.length === 0) ctx.out(opts.all ? 'no approvals\n' : 'no pending approvals\n');
      else {
        for (const r of recs) {
          ctx.out(`${ctx.c.bold(r.id)}  ${r.status === 'pending' ? ctx.c.yellow(r.status) : r.status}  ${r.kind} ${escapeInvisible(r.rule)}${r.from ? ` (from ${escapeInvisible(r.from)})` : ''}${r.quorum !== undefined ? `  quorum ${r.votes?.length ?? 0}/${r.quorum}` : ''}  expires ${r.expires}\n`);
          if (r.message) ctx.out(`    ${escapeInvisible(r.message)}\n`);
          const check = verifyRecord(r);
          if (check === 'verified') ctx.out(`    ${ctx.c.green('verified request')}: ${oneLine(r.request)}\n`);
          else ctx.out(`    ${ctx.c.red(UNVERIFIED[check])}: ${oneLine(r.summary)}\n`);
        }
      }
      return EXIT.ok;
    }
    if (sub === 'show') {
      const r = await queue.get(id!);
      if (r === null) {
        ctx.err(`rein approvals: no approval with id ${id}\n`);
        return EXIT.usage;
      }
      if (opts.format === 'json') ctx.out(escapeInvisible(JSON.stringify(publicRecord(r), null, 2)) + '\n');
      else {
        ctx.out(escapeInvisible(`id:           ${r.id}\nstatus:       ${r.status}\n${r.kind}:${' '.repeat(13 - r.kind.length)}${r.rule}\nfrom:         ${r.from ?? '(any approver)'}\n`));
        ctx.out(escapeInvisible(`message:      ${r.message ?? ''}\nrequest_hash: ${r.request_hash}\npolicy:       ${r.policy.name}${r.policy.version ? ` ${r.policy.version}` : ''} ${r.policy.hash}\n`));
        ctx.out(`created:      ${r.created}\nexpires:      ${r.expires}\n`);
        if (r.verdict) ctx.out(escapeInvisible(`verdict:      ${r.verdict.approved ? 'approved' : 'denied'} by ${r.verdict.by}${r.verdict.group ? ` (${r.verdict.group})` : ''} at ${r.verdict.at}${r.verdict.reason ? `: ${r.verdict.reason}` : ''}`) + '\n');
        const check = verifyRecord(r);
        if (check === 'verified') ctx.out(`request:      ${ctx.c.green('verified')} (it hashes to request_hash: this is what an approval lets run)\n${escapeInvisible(JSON.stringify(r.request, null, 2) ?? 'null').replace(/^/gm, '  ')}\n`);
        else ctx.out(`request:      ${ctx.c.red(UNVERIFIED[check])}\n`);
        ctx.out(`summary${check === 'verified' ? '' : ' (as the queue\'s writer describes it)'}:\n${escapeInvisible(JSON.stringify(r.summary, null, 2) ?? 'null').replace(/^/gm, '  ')}\n`);
      }
      return EXIT.ok;
    }
    let vlog: VerdictLog;
    try {
      vlog = await openVerdictLog(ctx, opts, queue);
    } catch (e) {
      ctx.err(`rein approvals: cannot open the audit log for the verdict (nothing was decided): ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    let outcome;
    let failed: Error | null = null;
    try {
      outcome = sub === 'approve' ? await queue.approve(id!, opts.as!, opts.reason ?? null) : await queue.deny(id!, opts.as!, opts.reason ?? null);
      if (outcome.ok) logVerdict(vlog.logger, outcome.record);
    } finally {
      failed = await vlog.close();
    }
    if (failed && outcome.ok) {
      ctx.err(`rein approvals: ${outcome.record.id} was ${sub === 'approve' ? 'approved' : 'denied'} in the queue, but its audit event could not be written to ${vlog.where}: ${failed.message}\n`);
      return EXIT.usage;
    }
    if (!outcome.ok) {
      ctx.err(`rein approvals: ${outcome.message}\n`);
      // §7: 2 for an unknown id or an approver outside the group; an approval already decided or
      // expired cannot be decided either.
      return EXIT.usage;
    }
    if (opts.format === 'json') ctx.out(JSON.stringify(publicRecord(outcome.record), null, 2) + '\n');
    else if (outcome.record.status === 'pending') {
      // A vote toward a quorum: recorded, the record waits for more distinct approvers.
      const r = outcome.record;
      ctx.out(`${r.id} approval by ${opts.as} recorded: ${r.votes?.length ?? 1} of ${r.quorum} distinct approvers; still pending\n`);
    } else ctx.out(`${outcome.record.id} ${sub === 'approve' ? ctx.c.green('approved') : ctx.c.red('denied')} by ${opts.as}${outcome.record.verdict?.group ? ` (${outcome.record.verdict.group})` : ''}; logged to ${vlog.where}\n`);
    return EXIT.ok;
  } finally {
    await queue.store.close?.();
  }
}
