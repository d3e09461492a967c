// Opening the approval queue from command-line options and the environment, the same way for
// `rein approvals`, `rein mcp --approvals` and `rein serve` (docs/approvals.md).

import * as path from 'node:path';
import { ApprovalQueue, FileApprovalStore, type ApprovalQueueOptions, type ApprovalStore } from './queue.js';
import { loadApprovers, signingKeyFromEnv } from './config.js';

/** The default queue directory, relative to the working directory. */
export const DEFAULT_APPROVALS_DIR = '.rein/approvals';

export interface QueueLocation {
  /** A directory (default `$REIN_APPROVALS`, else `.rein/approvals`). */
  dir?: string;
  /** A Redis URL (a fleet); takes precedence over `dir`. */
  redis?: string;
  /** The approvers file (default `$REIN_APPROVERS`). */
  approvers?: string;
  /** Key prefix in Redis (default `rein:`). */
  prefix?: string;
}

/** Opens the store and the queue (signing key from `REIN_APPROVAL_KEY`). Throws ApprovalConfigError
 *  for a bad approvers file or key. Close with `queue.store.close?.()`. */
export async function openApprovalQueue(loc: QueueLocation, env: NodeJS.ProcessEnv, cwd: string, extra: Partial<ApprovalQueueOptions> = {}): Promise<ApprovalQueue> {
  const approversFile = loc.approvers ?? env.REIN_APPROVERS;
  const groups = approversFile ? await loadApprovers(path.resolve(cwd, approversFile)) : undefined;
  const signingKey = signingKeyFromEnv(env) ?? undefined;
  let store: ApprovalStore;
  if (loc.redis) {
    const { RedisApprovalStore } = await import('./redis-queue.js');
    store = new RedisApprovalStore({ url: loc.redis, prefix: loc.prefix });
  } else {
    store = new FileApprovalStore(path.resolve(cwd, loc.dir ?? env.REIN_APPROVALS ?? DEFAULT_APPROVALS_DIR));
  }
  // REIN_APPROVALS_REQUIRE_VERIFIED=1: only records whose stored request hashes to their request_hash
  // can be approved (docs/approvals.md, "What the inbox can verify").
  const requireVerified = env.REIN_APPROVALS_REQUIRE_VERIFIED === '1' || env.REIN_APPROVALS_REQUIRE_VERIFIED === 'true';
  return new ApprovalQueue({ store, ...(groups ? { groups } : {}), ...(signingKey ? { signingKey } : {}), ...(requireVerified ? { requireVerified } : {}), ...extra });
}
