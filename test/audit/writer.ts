// A writer process for the one-writer-per-log tests: opens the log, writes N records, then either
// exits (closing the log) or, with REIN_HOLD=1, prints "holding" and waits to be killed.
import { AuditLogger } from '../../language/audit/logger.js';
import { FileAuditLog } from '../../language/node/audit-file.js';

const path = process.env.REIN_LOG!;
const n = Number(process.env.REIN_RECORDS ?? 10);
try {
  const logger = new AuditLogger(new FileAuditLog(path));
  for (let i = 0; i < n; i++) {
    logger.record({
      effect: 'allow', reasons: [], approvals: [], warnings: [], monitored: [], budgets: [], errors: [], reservation: null,
      policy: { name: 'p', version: '1', hash: 'sha256:' + '0'.repeat(64) }, request_hash: null, time: new Date().toISOString(), mode: 'enforce',
    } as never);
  }
  await logger.flush();
  if (process.env.REIN_HOLD) {
    process.stdout.write('holding\n');
    setTimeout(() => undefined, 60_000);
  } else {
    await logger.close();
    process.stdout.write('wrote\n');
  }
} catch (e) {
  process.stdout.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 3;
}
