// The `dashboard` plugin of `rein serve` (plugins.ts): the control room and the approvals inbox
// (serve/dashboard/, docs/control-room.md), configured from the server's options.

import type { ServePlugin } from './app.js';
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
    return b ? { limit: b.unit === 'money' ? b.limit / 1e6 : b.limit, unit: b.unit } : null;
  };
  await app.register(
    dashboardPlugin({
      ceilingStore,
      limits,
      log: ctx.verdictLogFile ? [o.log ?? o.audit, ctx.verdictLogFile].filter((x): x is string => typeof x === 'string') : (o.log ?? o.audit),
      verdictLog: ctx.verdictLog,
      queue: d.queue ?? null,
      users: d.users,
      secureCookie: d.secureCookie,
      driftThreshold: d.driftThreshold,
      sources,
    }),
  );
};

export default plugin;
