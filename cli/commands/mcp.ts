// `rein mcp`: the policy-enforcing MCP gateway (INTERFACES §6, docs/mcp.md).
//
//   rein mcp --policy DIR [options] -- COMMAND ARGS…            stdio: the client starts this in place of the server
//   rein mcp --policy DIR --listen HOST:PORT --upstream URL     Streamable HTTP on both sides
//
// Stdout belongs to the MCP protocol in stdio mode: everything Rein says goes to stderr.


import { AuditLogger } from '../../language/audit/logger.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore } from '../../language/runtime/store.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { randomUUID } from 'node:crypto';
import { signApproval, type ApprovalKey, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import type { Decision } from '../../language/runtime/decision.js';
import { ApprovalConfigError, loadApprovers, signingKeyFromEnv, verificationKeysFromEnv } from '../../language/node/approvals/config.js';
import { openApprovalQueue } from '../../language/node/approvals/open.js';
import { ElicitationBroker, type ApprovalBroker } from '../../language/node/mcp/approvals.js';
import { QueueBroker } from '../../language/node/mcp/queue-broker.js';
import { Gateway } from '../../language/node/mcp/gateway.js';
import { loadChecked, PolicyHost } from '../../language/node/mcp/host.js';
import { PrometheusGatewayMetrics } from '../../language/node/mcp/metrics.js';
import { listOnlyApprovals } from '../../language/node/mcp/phases.js';
import { PolicyError } from '../../language/errors.js';
import type { PolicySet } from '../../language/node/load.js';
import { externsFor, printPolicyError } from '../shared.js';
import { isLoopback } from './serve.js';
import { Engine } from '../../language/runtime/engine.js';
import { ChildTransport, LineTransport } from '../../language/node/mcp/stdio.js';

/**
 * The approval step. Elicitation when the client supports it; otherwise the approval queue
 * (`--approvals DIR|redis`: pending records for `rein approvals` / `rein serve`, waiting up to
 * `--approval-timeout`, default: refused at once naming the approval, and run when retried once
 * approved); without a queue, an immediate refusal naming the pending approval's id.
 *
 * With REIN_APPROVAL_KEY or REIN_APPROVAL_PUBLIC_KEY set, the engine accepts only signed tokens: an
 * accepted elicitation is signed with REIN_APPROVAL_KEY, and without it (a verification-only host)
 * elicitation is not used.
 */
export async function makeApprovalBroker(
  ctx: Ctx,
  opts: Pick<Options<'mcp'>, 'approvals' | 'approval-timeout' | 'approvers' | 'redis' | 'redis-prefix'>,
  keys: { signing: ApprovalSigningKey | null; verifying: ApprovalKey[] | null },
): Promise<{ broker: ApprovalBroker; close(): Promise<void> }> {
  let fallback: ApprovalBroker | undefined;
  let close = async () => undefined as void;
  if (opts.approvals !== undefined) {
    const useRedis = opts.approvals === 'redis';
    if (useRedis && !opts.redis) throw new UsageError('--approvals redis needs --redis URL', 'mcp');
    const queue = await openApprovalQueue({ ...(useRedis ? { redis: opts.redis, prefix: opts['redis-prefix'] } : { dir: opts.approvals }), approvers: opts.approvers }, ctx.io.env as NodeJS.ProcessEnv, ctx.io.cwd);
    fallback = new QueueBroker(queue, { timeoutMs: opts['approval-timeout'] ?? 0 });
    close = async () => {
      await (queue.store as { close?: () => Promise<void> }).close?.();
    };
  }
  const signing = keys.signing;
  const sign =
    keys.verifying && signing
      ? (d: Decision, approver: string) =>
          d.approvals.map((a) =>
            signApproval(
              {
                request_hash: d.request_hash!,
                rule: a.name,
                approver,
                group: a.from ?? null,
                policy_hash: d.policy.hash,
                iat: Date.now(),
                exp: Date.now() + 5 * 60_000,
                nonce: randomUUID(),
              },
              signing,
            ),
          )
      : undefined;
  // The groups of the approvers file: a rule `from` one of them is the queue's to approve, not a click
  // in the agent's client (approvals.md: an approval of a rule `from GROUP` needs an approver in GROUP).
  const approversFile = opts.approvers ?? ctx.io.env.REIN_APPROVERS;
  let groups: Set<string> | undefined;
  if (approversFile) {
    try {
      groups = new Set(Object.keys(await loadApprovers(ctx.resolve(approversFile))));
    } catch (e) {
      await close();
      throw new UsageError((e as Error).message, 'mcp');
    }
  }
  const broker = new ElicitationBroker({
    timeoutMs: opts['approval-timeout'],
    fallback,
    sign,
    elicit: keys.verifying === null || signing !== null,
    ...(groups ? { groups } : {}),
  });
  return { broker, close };
}

/** `HOST:PORT` (IPv6 in brackets). */
export function parseHostPort(s: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  if (!m) throw new UsageError(`${flag} must be HOST:PORT, e.g. 127.0.0.1:8931 (got \`${s}\`)`, 'mcp');
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`${flag}: port ${port} is out of range`, 'mcp');
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

interface Resources {
  host: PolicyHost;
  broker: ApprovalBroker;
  closeBroker(): Promise<void>;
  metrics?: PrometheusGatewayMetrics;
  audit?: AuditLogger;
  store: BudgetStore;
}

async function setUp(ctx: Ctx, opts: Options<'mcp'>): Promise<Resources | number> {
  const policyPath = ctx.resolve(opts.policy);
  const report = (e: PolicyError, set?: PolicySet) => printPolicyError(ctx, e, set);
  const policy = await loadChecked(ctx, policyPath, report);
  if (!policy) {
    ctx.err(`rein mcp: the policy \`${opts.policy}\` cannot be used; not starting\n`);
    return EXIT.errors;
  }
  // Host functions (`--externs FILE`): loaded and checked against the policy before anything opens.
  const externs = await externsFor(ctx, opts.externs, 'mcp');
  try {
    new Engine(policy, externs ? { externs } : {});
  } catch (e) {
    if (e instanceof PolicyError) {
      report(e);
      ctx.err(`rein mcp: the policy \`${opts.policy}\` needs host functions${externs ? ' that match its `extern def`s' : ': pass --externs FILE'}; not starting\n`);
      return EXIT.errors;
    }
    throw e;
  }
  let store: BudgetStore = new MemoryBudgetStore();
  if (opts.redis) {
    const { RedisBudgetStore, evictionWarning } = await import('../../language/node/redis-store.js');
    const redis = new RedisBudgetStore({ url: opts.redis, prefix: opts['redis-prefix'] });
    try {
      await redis.ready();
      // What would make every decide fail (a read-only replica, a cluster node, Redis out of memory):
      // refused at start, as an unreachable Redis is (review h13r1 S4, S7).
      await redis.probe();
    } catch (e) {
      await redis.close().catch(() => undefined);
      ctx.err(`rein mcp: cannot use Redis at ${opts.redis}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    const evicts = await redis.evictionPolicy().catch(() => null);
    if (evicts !== null && evicts !== 'noeviction') ctx.err(`rein mcp: ${evictionWarning(evicts)}\n`);
    store = redis;
  }
  let audit: AuditLogger | undefined;
  if (opts.audit) {
    try {
      audit = new AuditLogger(
        new FileAuditLog(ctx.resolve(opts.audit), {
          // a full disk: said once when writing stops and once when it starts again (records wait meanwhile)
          onStall: (i) => ctx.err(`rein mcp: audit log ${i.file}: cannot write (${(i.error as Error).message}); records wait in memory and are retried every second\n`),
          onResume: (i) => ctx.err(`rein mcp: audit log ${i.file}: writing again; ${i.lost > 0 ? `${i.lost} records were lost (over 64 MiB waited)` : 'no record lost'}\n`),
        }),
        { onError: (e) => ctx.err(`rein mcp: writing the audit log failed: ${(e as Error).message}\n`) },
      );
    } catch (e) {
      ctx.err(`rein mcp: cannot open the audit log \`${opts.audit}\`: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
  }
  let metrics: PrometheusGatewayMetrics | undefined;
  if (opts.metrics) {
    const { host, port } = parseHostPort(opts.metrics, '--metrics');
    metrics = new PrometheusGatewayMetrics();
    try {
      const a = await metrics.listen(host, port);
      ctx.err(`rein mcp: metrics at http://${host.includes(':') ? `[${host}]` : host}:${a.port}/metrics\n`);
    } catch (e) {
      ctx.err(`rein mcp: cannot serve metrics on ${opts.metrics}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
  }
  let keys: { signing: ApprovalSigningKey | null; verifying: ApprovalKey[] | null };
  let approvals: Awaited<ReturnType<typeof makeApprovalBroker>>;
  try {
    keys = { signing: signingKeyFromEnv(ctx.io.env as NodeJS.ProcessEnv), verifying: verificationKeysFromEnv(ctx.io.env as NodeJS.ProcessEnv) };
    approvals = await makeApprovalBroker(ctx, opts, keys);
  } catch (e) {
    if (e instanceof ApprovalConfigError || (e as Error).name === 'ApprovalConfigError') {
      ctx.err(`rein mcp: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  const host = new PolicyHost(policy, { mode: opts.mode, store, audit, metrics, ctx, report, ...(keys.verifying ? { approvalKeys: keys.verifying } : {}), ...(externs ? { externs } : {}) });
  if (!opts['no-reload']) host.watch(policyPath);
  ctx.err(`rein mcp: policy ${policy.name}${policy.version ? ` ${policy.version}` : ''} (${policy.hash}), mode ${opts.mode}\n`);
  for (const name of listOnlyApprovals(policy.compiled.ir))
    ctx.err(`rein mcp: warning: rule \`${name}\` requires approval only in the list phase, where nobody can be asked: it lists the tool and never applies to its calls (match the call phase to ask before a call)\n`);
  return { host, broker: approvals.broker, closeBroker: approvals.close, metrics, audit, store };
}

async function tearDown(r: Resources): Promise<void> {
  r.host.close();
  await r.closeBroker().catch(() => undefined);
  await r.audit?.flush().catch(() => undefined);
  await r.audit?.close().catch(() => undefined);
  await r.metrics?.close().catch(() => undefined);
  await (r.store as { close?: () => Promise<void> }).close?.().catch(() => undefined);
}

export default async function cmdMcp(ctx: Ctx, positionals: string[], opts: Options<'mcp'>): Promise<number> {
  const remote = opts.listen !== undefined || opts.upstream !== undefined;
  if (remote) {
    if (opts.listen === undefined || opts.upstream === undefined) throw new UsageError('--listen and --upstream go together (the remote gateway)', 'mcp');
    if (positionals.length > 0) throw new UsageError('the remote gateway (--listen) takes no COMMAND; the upstream is --upstream URL', 'mcp');
  } else if (positionals.length === 0) {
    throw new UsageError('expected the upstream server after `--`, e.g. `rein mcp --policy policies/ -- npx -y @modelcontextprotocol/server-filesystem .`', 'mcp');
  }
  if (opts['redis-prefix'] !== undefined && !opts.redis) throw new UsageError('--redis-prefix needs --redis URL', 'mcp');
  const listen = opts.listen !== undefined ? parseHostPort(opts.listen, '--listen') : undefined;
  let browsers: { allowOrigins: Set<string>; allowHosts: Set<string> } | undefined;
  if (opts['allow-origin'].length > 0 || opts['allow-host'].length > 0) {
    if (!listen) throw new UsageError(`--allow-${opts['allow-origin'].length > 0 ? 'origin' : 'host'} is for the remote gateway (--listen)`, 'mcp');
    const { parseAllowedHosts, parseAllowedOrigins } = await import('../../language/node/browser-guard.js');
    try {
      browsers = { allowOrigins: parseAllowedOrigins(opts['allow-origin']), allowHosts: parseAllowedHosts(opts['allow-host']) };
    } catch (e) {
      throw new UsageError((e as Error).message, 'mcp');
    }
  }
  // As `rein serve`: another address without a token would put the upstream's tools (often reachable
  // on loopback only) in front of anyone who can reach this host.
  if (listen && !isLoopback(listen.host) && !ctx.io.env.REIN_MCP_TOKEN) {
    throw new UsageError(
      `refusing to listen on ${listen.host} (not loopback) without REIN_MCP_TOKEN: anyone who can reach it could call the upstream's tools. ` +
        'Set REIN_MCP_TOKEN (clients then send X-Rein-Token), or listen on 127.0.0.1 behind your own proxy',
      'mcp',
    );
  }
  let upstream: URL | undefined;
  if (opts.upstream !== undefined) {
    try {
      upstream = new URL(opts.upstream);
    } catch {
      throw new UsageError(`--upstream must be a URL, e.g. http://127.0.0.1:3001/mcp (got \`${opts.upstream}\`)`, 'mcp');
    }
  }
  const r = await setUp(ctx, opts);
  if (typeof r === 'number') return r;
  try {
    if (listen && upstream) {
      const { serveHttpGateway } = await import('../../language/node/mcp/http.js');
      return await serveHttpGateway(ctx, r, { listen, upstream, opts, ...browsers });
    }
    return await runStdio(ctx, r, positionals, opts);
  } finally {
    await tearDown(r);
  }
}

async function runStdio(ctx: Ctx, r: Resources, command: string[], opts: Options<'mcp'>): Promise<number> {
  const up = new ChildTransport(command[0], command.slice(1), { cwd: ctx.io.cwd, env: process.env });
  const down = new LineTransport(process.stdin, process.stdout, 'client', undefined, true);
  let exitCode: number = EXIT.ok;
  let stopping = false;
  let done!: () => void;
  const finished = new Promise<void>((res) => (done = res));
  const gw = new Gateway(down, up, {
    host: r.host,
    broker: r.broker,
    serverName: opts['server-name'],
    upstreamTimeoutMs: opts['upstream-timeout'],
    metrics: r.metrics,
    log: (line) => ctx.err(line + '\n'),
    upstreamCloseReason: () => up.describeExit(),
    onUpstreamClosed: () => {
      // The upstream closing because Rein stopped it (the client left, a signal) is no failure.
      if (!stopping) exitCode = EXIT.errors;
      done();
    },
  });
  down.onclose = () => {
    stopping = true;
    done();
  };
  const onSignal = () => {
    stopping = true;
    done();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await gw.start();
    await finished;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    stopping = true;
    gw.dispose();
    await Promise.race([gw.drain(), new Promise((res) => setTimeout(res, 2000).unref())]);
    await up.close();
    process.stdin.pause();
  }
  return exitCode;
}


