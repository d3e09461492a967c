// The control room's options (apart from the plugin, so the package's declarations of
// `DashboardOptions` do not reference fastify's types).

import type { AuditLogger } from '../../../audit/logger.js';
import type { AuditRecord } from '../../../audit/record.js';
import type { ApprovalQueue } from '../../approvals/queue.js';
import type { ChainStatus, IndexedSource } from './log-source.js';
import type { DashboardModel } from './model.js';

export interface DashboardOptions {
  /** Decision logs: a file (with its rotated files) or a directory of logs; or several of them. */
  log?: string | string[];
  /** Where verdicts given in the inbox are appended as event records (docs/control-room.md), e.g.
   *  `new AuditLogger(new FileAuditLog('audit/control-room.jsonl'))`; include its file in `log` to
   *  show them. Absent: verdicts are kept in the approval queue only. */
  verdictLog?: AuditLogger | null;
  /** The log files that hold genuine verdicts (those `verdictLog` and `rein approvals` write): their
   *  approval_verdict events are counted; such events in any other chain (an agent can write one into
   *  its own log) are shown as "claimed by chain X", never counted. Default: files named
   *  `control-room.jsonl`, `verdicts.jsonl` or `*.verdicts.jsonl`. A Redis stream's chains count when
   *  named `control-room-…` or `approvals-…`. */
  verdictFiles?: readonly string[];
  /** Extra sources of records (e.g. the fleet's Redis Stream): they call `model.add`; one with an
   *  index (`IndexedSource`, as RedisStreamSource) also answers filters and drill-downs. */
  sources?: ({ attach?(model: DashboardModel): void; chains(): ChainStatus[]; start(): void; stop(): Promise<void>; record?(chain: string, seq: number): Promise<AuditRecord | null> } & Partial<IndexedSource>)[];
  /** The approval queue of the inbox (null: no inbox). */
  queue?: ApprovalQueue | null;
  /** Logins: user → password (plain or `scrypt$…`). Without users, reads are open and every
   *  state-changing request is refused (401). */
  users?: Record<string, string>;
  /** How often the log is polled for new records (ms, default 200). */
  pollMs?: number;
  /** Drift threshold in percentage points (default 5). */
  driftThreshold?: number;
  /** Mark the session cookie `Secure` (behind TLS). Default false (loopback HTTP). */
  secureCookie?: boolean;
  /** Path prefix (default `/dashboard`); the page is also served at `/`. */
  prefix?: string;
  /** How long registration waits for the first read of the log before serving while it continues
   *  (ms, default 5000; the summary says `loading: true` until it is done). */
  initialReadMs?: number;
  /** Ceilings from live budget counters (`rein serve --redis`: the RedisBudgetStore) instead of the
   *  figures the decisions in the log reported. */
  ceilingStore?: import('./live-ceilings.js').CounterStore;
  /** A budget's limit and unit from the serving policy (else the newest decision seen names it; a null
   *  limit: the decisions seen say it, for the same `by` key first). */
  limits?: (budget: string) => import('./live-ceilings.js').BudgetLimit | null;
  /** How often live counters are read (ms, default 1000). */
  ceilingsPollMs?: number;
  /** Maximum concurrent live (SSE) clients (default 100). */
  maxStreams?: number;
}
