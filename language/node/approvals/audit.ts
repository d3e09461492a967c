// Approval verdicts in the decision log (docs/control-room.md, "Approvals inbox"): a verdict given in
// the inbox or through `POST /v1/approvals/{id}/approve|deny` is appended to the audit log as an event
// record — who, when, why, which rule — linked to the held decision by its request hash. So is one given
// in a terminal (`rein approvals approve|deny`): by default into `<queue dir>/verdicts.jsonl` (a
// directory queue; `rein serve` reads it) or the fleet's audit stream (a Redis queue), or `--audit FILE`.

import { join } from 'node:path';
import type { AuditLogger } from '../../audit/logger.js';
import type { ApprovalVerdictEvent } from '../../audit/record.js';
import type { ApprovalRecord } from './queue.js';

/** The event a decided approval record becomes (null while it has no verdict). */
export function verdictEvent(rec: ApprovalRecord): ApprovalVerdictEvent | null {
  const v = rec.verdict;
  if (!v) return null;
  return {
    kind: 'approval_verdict',
    verdict: v.approved ? 'approved' : 'denied',
    approval_id: rec.id,
    rule: rec.rule,
    rule_kind: rec.kind,
    required_group: rec.from,
    approver: v.by,
    group: v.group,
    reason: v.reason,
  };
}

/** Appends a decided approval's verdict to `log` (never throws; the logger counts failures). */
export function logVerdict(log: AuditLogger | null | undefined, rec: ApprovalRecord): void {
  const event = log ? verdictEvent(rec) : null;
  if (!log || !event) return;
  log.event(event, { time: rec.verdict!.at, policy: rec.policy, requestHash: rec.request_hash });
}

/** The verdict log `rein approvals approve|deny` writes beside a directory queue (`rein serve` reads it). */
export const TERMINAL_VERDICTS_FILE = 'verdicts.jsonl';

/** Where a terminal verdict goes by default: `<queue dir>/verdicts.jsonl` for a directory queue. */
export function terminalVerdictsPath(queueDir: string): string {
  return join(queueDir, TERMINAL_VERDICTS_FILE);
}
