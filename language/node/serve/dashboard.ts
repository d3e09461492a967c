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
  await app.register(
    dashboardPlugin({
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
