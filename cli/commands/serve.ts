// `rein serve`: the decision service (`--api`, docs/service.md) and the dashboard, on one fastify
// server (language/node/serve/). Runs until SIGINT/SIGTERM; SIGHUP reloads the policy.

import { isIP } from 'node:net';
import { EXIT, type Ctx } from '../context.js';
import { ioReason, UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { externsFor } from '../shared.js';
import type { ServeApp, ServePlugin } from '../../language/node/serve/app.js';

/** The API's default address (OPA's port); the dashboard alone uses DASHBOARD_LISTEN (INTERFACES §7). */
export const API_LISTEN = '127.0.0.1:8181';
export const DASHBOARD_LISTEN = '127.0.0.1:8787';

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  if (!m) throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:8181 or [::1]:8181), got \`${s}\``, 'serve');
  const host = m[1] || m[2] || '127.0.0.1';
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--listen: port ${port} is out of range`, 'serve');
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(host) || /^::ffff:127\./i.test(host);
  return false;
}

export default async function cmdServe(ctx: Ctx, positionals: string[], opts: Options<'serve'>): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument \`${positionals[0]}\` (the policy is given with --policy)`, 'serve');
  const { SERVE_PLUGINS } = await import('../../language/node/serve/plugins.js');
  const wantDashboard = !opts['no-dashboard'];
  const dashboardAvailable = 'dashboard' in SERVE_PLUGINS;
  if (!opts.api && !wantDashboard) throw new UsageError('nothing to serve: --no-dashboard without --api', 'serve');
  if (!opts.api && !dashboardAvailable) throw new UsageError('the dashboard is not part of this build yet; serve the decision API with --api', 'serve');
  if (opts.api && !opts.policy) throw new UsageError('--api needs --policy DIR|BUNDLE (the policy to decide with)', 'serve');
  const listen = parseListen(opts.listen ?? (opts.api ? API_LISTEN : DASHBOARD_LISTEN));
  const { parseAllowedHosts, parseAllowedOrigins } = await import('../../language/node/browser-guard.js');
  let allowOrigins: Set<string>;
  let allowHosts: Set<string>;
  try {
    allowOrigins = parseAllowedOrigins(opts['allow-origin']);
    allowHosts = parseAllowedHosts(opts['allow-host']);
  } catch (e) {
    throw new UsageError((e as Error).message, 'serve');
  }

  const { readToken } = await import('../../language/node/serve/auth.js');
  let tokens;
  try {
    tokens = {
      api: readToken(opts['token-file'] && ctx.resolve(opts['token-file']), ctx.io.env.REIN_API_TOKEN, 'api'),
      settle: readToken(opts['settle-token-file'] && ctx.resolve(opts['settle-token-file']), ctx.io.env.REIN_SETTLE_TOKEN, 'settle'),
      approvals: readToken(opts['approvals-token-file'] && ctx.resolve(opts['approvals-token-file']), ctx.io.env.REIN_APPROVALS_TOKEN, 'approvals'),
    };
  } catch (e) {
    throw new UsageError((e as Error).message, 'serve');
  }
  if (!isLoopback(listen.host) && !tokens.api) {
    throw new UsageError(
      `refusing to listen on ${listen.host} (not loopback) without an api token: anyone who can reach it could decide and settle. ` +
        'Set --token-file FILE or REIN_API_TOKEN (docs/service.md#authentication)',
      'serve',
    );
  }

  // The dashboard's read API shows every logged request; without logins it is open to whoever reaches
  // the port (the api token guards /v1/* and /metrics only; a browser page cannot send it).
  if (!isLoopback(listen.host) && wantDashboard && dashboardAvailable && !(opts.users ?? ctx.io.env.REIN_SERVE_USERS)) {
    throw new UsageError(
      `refusing to serve the dashboard on ${listen.host} (not loopback) without logins: its pages and read API show every logged request to anyone who can reach it. ` +
        'Set --users FILE or REIN_SERVE_USERS (docs/control-room.md#security), or serve the API alone with --no-dashboard',
      'serve',
    );
  }

  const plugins: { name: string; plugin: ServePlugin }[] = [];
  if (opts.api) plugins.push({ name: 'api', plugin: (await SERVE_PLUGINS.api()).default });
  if (wantDashboard && dashboardAvailable) plugins.push({ name: 'dashboard', plugin: (await SERVE_PLUGINS.dashboard()).default });
  else if (wantDashboard) ctx.err('rein serve: the dashboard is not part of this build yet; serving the API only\n');

  // Approvals (docs/approvals.md): keys that verify signed tokens, and ONE queue shared by the API
  // (/v1/approvals, request_approval) and the dashboard's inbox. The queue is a directory
  // (--approvals DIR, $REIN_APPROVALS, else .rein/approvals) or Redis (--redis without --approvals,
  // or --approvals redis). It is opened when the dashboard is served, or for the API alone when
  // --approvals or $REIN_APPROVALS asks for it.
  const externs = await externsFor(ctx, opts.externs, 'serve');
  const { verificationKeysFromEnv } = await import('../../language/node/approvals/config.js');
  let approvalKeys;
  try {
    approvalKeys = verificationKeysFromEnv(ctx.io.env as NodeJS.ProcessEnv) ?? undefined;
  } catch (e) {
    throw new UsageError((e as Error).message, 'serve');
  }
  if (opts.approvals === 'redis' && !opts.redis) throw new UsageError('--approvals redis needs --redis URL', 'serve');
  if (opts['redis-prefix'] !== undefined && !opts.redis) throw new UsageError('--redis-prefix needs --redis URL', 'serve');
  if (opts['audit-max-bytes'] !== undefined && !opts.audit) throw new UsageError('--audit-max-bytes needs --audit FILE', 'serve');
  const withDashboard = wantDashboard && dashboardAvailable;
  const wantQueue = withDashboard || opts.approvals !== undefined || Boolean(ctx.io.env.REIN_APPROVALS);
  let dashboard: import('../../language/node/serve/app.js').ServeOptions['dashboard'];
  let queue: import('../../language/node/approvals/queue.js').ApprovalQueue | null = null;
  let queueWhere = '';
  if (wantQueue) {
    const { openApprovalQueue } = await import('../../language/node/approvals/open.js');
    try {
      const inRedis = opts.approvals === 'redis' || (opts.approvals === undefined && opts.redis !== undefined);
      queueWhere = inRedis ? 'redis' : (opts.approvals ?? ctx.io.env.REIN_APPROVALS ?? '.rein/approvals');
      queue = await openApprovalQueue(
        inRedis ? { redis: opts.redis, prefix: opts['redis-prefix'], approvers: opts.approvers } : { dir: opts.approvals, approvers: opts.approvers },
        ctx.io.env as NodeJS.ProcessEnv,
        ctx.io.cwd,
      );
      if (withDashboard) {
        const { loadUsers } = await import('../../language/node/serve/dashboard/session.js');
        const usersFile = opts.users ?? ctx.io.env.REIN_SERVE_USERS;
        dashboard = { queue, ...(usersFile ? { users: loadUsers(ctx.resolve(usersFile)) } : {}) };
      }
    } catch (e) {
      await queue?.store.close?.();
      throw new UsageError((e as Error).message, 'serve');
    }
  }
  const { createServeApp } = await import('../../language/node/serve/app.js');
  const log = (msg: string) => ctx.err(`rein serve: ${msg}\n`);
  let served: ServeApp;
  try {
    served = await createServeApp({
      policy: opts.policy && ctx.resolve(opts.policy),
      watch: !opts['no-watch'],
      redis: opts.redis,
      redisPrefix: opts['redis-prefix'],
      audit: opts.audit && ctx.resolve(opts.audit),
      auditMaxBytes: opts['audit-max-bytes'],
      log: opts.log ? ctx.resolve(opts.log) : opts.audit && ctx.resolve(opts.audit),
      tokens,
      bodyLimit: opts['body-limit'],
      settleGraceMs: opts['settle-grace'],
      clientTime: opts['client-time'],
      mode: opts.mode,
      plugins,
      logger: log,
      allowOrigins,
      allowHosts,
      dashboard,
      approvalKeys,
      ...(externs ? { externs } : {}),
      ...(queue ? { approvals: queue } : {}),
    });
  } catch (e) {
    await queue?.store.close?.().catch(() => undefined);
    if (e instanceof Error && e.name === 'PolicyError') {
      const { describeLoadError } = await import('../../language/node/serve/policy-holder.js');
      ctx.err(`rein serve: cannot load the policy: ${describeLoadError(e)}\n`);
      return EXIT.errors;
    }
    throw e;
  }
  let address: string;
  try {
    address = await served.app.listen({ host: listen.host, port: listen.port });
    // fastify names the first interface of a wildcard address (127.0.0.1): say what was bound
    const bound = served.app.server.address();
    if (bound && typeof bound === 'object' && (bound.address === '0.0.0.0' || bound.address === '::')) address = `http://${bound.address === '::' ? '[::]' : bound.address}:${bound.port} (every interface)`;
  } catch (e) {
    await served.close();
    await queue?.store.close?.();
    ctx.err(`rein serve: cannot listen on ${listen.host}:${listen.port}: ${ioReason(e)}\n`);
    return EXIT.usage;
  }
  // A queue directory that cannot be written (a read-only volume): said at start, not first met as a
  // 503 on the first request_approval (review h13r1 S18). The dashboard alone may read a read-only one.
  if (queue) {
    const { FileApprovalStore } = await import('../../language/node/approvals/queue.js');
    if (queue.store instanceof FileApprovalStore) {
      const { accessSync, constants, existsSync } = await import('node:fs');
      const { dirname } = await import('node:path');
      let dir = queue.store.dir;
      while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
      try {
        accessSync(dir, constants.W_OK);
      } catch (e) {
        log(`warning: the approval queue ${queue.store.dir} cannot be written (${ioReason(e)}): request_approval answers 503 approval_queue_unavailable and verdicts cannot be given`);
      }
    }
  }
  const v = served.ctx.policy?.current;
  const what = plugins.map((p) => p.name).join(' + ');
  log(
    `listening on ${address} (${what}${v ? `; policy ${v.policy.name}${v.policy.version ? ` ${v.policy.version}` : ''} ${v.policy.hash}` : ''}; store ${served.ctx.storeKind}` +
      `${queue ? `; approval queue ${queueWhere}` : ''}${approvalKeys ? '; approval tokens verified' : ''})`,
  );
  // Signed approvals with no approvals token: POST /v1/approvals/{id}/approve is closed (the agent
  // reaches this address too, and would approve itself). Say so, and how to open it.
  if (queue && approvalKeys && served.ctx.auth.approvalsClosed)
    log('approving over the API is closed: it needs the approvals token (--approvals-token-file or REIN_APPROVALS_TOKEN), which the agent must not hold; approvers can use the dashboard with --users logins');

  return new Promise<number>((resolve) => {
    // SIGHUP: reload the policy, and continue the audit logs in fresh files (logrotate's postrotate)
    const hup = () => {
      void served.ctx.policy?.reload();
      void served.reopenLogs();
    };
    const stop = (sig: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', hup);
      log(`${sig}: shutting down`);
      served.close().then(() => queue?.store.close?.()).then(
        () => resolve(EXIT.ok),
        (e) => {
          log(`shutdown failed: ${(e as Error).message}`);
          resolve(EXIT.errors);
        },
      );
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', hup);
  });
}
