// The `dashboard` plugin of `rein serve` (plugins.ts): the control room and the approvals inbox
// (serve/dashboard/, docs/control-room.md), configured from the server's options.

import type { ServePlugin } from './app.js';
import { terminalVerdictsPath } from '../approvals/audit.js';
import { FileApprovalStore } from '../approvals/queue.js';
import { dashboardPlugin } from './dashboard/plugin.js';

const plugin: ServePlugin = async (app, { ctx }) => {
  const o = ctx.options;
  const d = o.dashboard ?? {};
  const sources = [];
  if (o.redis && d.stream !== false) {
    const { RedisStreamSource } = await import('./dashboard/redis-stream.js');
    sources.push(new RedisStreamSource({ url: o.redis, prefix: o.redisPrefix, log: ctx.log.bind(ctx) }));
  }
  // Live ceilings: with a Redis budget store, the counters themselves (every process, settles included).
  const store = ctx.store as Partial<import('./dashboard/live-ceilings.js').CounterStore>;
  const ceilingStore = ctx.storeKind === 'redis' && typeof store.counterKeys === 'function' ? (ctx.store as unknown as import('./dashboard/live-ceilings.js').CounterStore) : undefined;
  const limits = (name: string) => {
    const b = ctx.policy?.current?.policy.compiled.budgets.find((x) => x.name === name);
    // a limit read from the request or data differs per request: the decisions seen say it (per key)
    if (b?.limitOf !== undefined) return { limit: null, unit: b.unit };
    return b ? { limit: b.unit === 'money' ? b.limit / 1e6 : b.limit, unit: b.unit } : null;
  };
  // The logs read: --log (else --audit), the server's own verdict log, and the verdicts given in a
  // terminal (`rein approvals approve|deny`) beside a directory queue.
  const queue = d.queue ?? null;
  const terminal = queue?.store instanceof FileApprovalStore ? terminalVerdictsPath(queue.store.dir) : undefined;
  const logs = [o.log ?? o.audit, ctx.verdictLogFile, terminal].filter((x): x is string => typeof x === 'string');
  // Verdicts count only from the logs this server and `rein approvals` write (review h12r1 P15):
  // the server's own log (--audit, where its verdicts go), its verdict log, the terminal's. Without
  // a queue the server writes none: the default names (options.ts `verdictFiles`).
  const verdictFiles = queue ? [ctx.verdictLog && o.audit ? o.audit : undefined, ctx.verdictLogFile, terminal].filter((x): x is string => typeof x === 'string') : undefined;
  await app.register(
    dashboardPlugin({
      ceilingStore,
      limits,
      log: logs.length === 0 ? undefined : logs.length === 1 ? logs[0] : logs,
      verdictLog: ctx.verdictLog,
      ...(verdictFiles ? { verdictFiles } : {}),
      queue,
      users: d.users,
      secureCookie: d.secureCookie,
      driftThreshold: d.driftThreshold,
      sources,
    }),
  );
};

export default plugin;
