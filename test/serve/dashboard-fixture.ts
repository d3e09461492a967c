// Decision logs for the control room's tests and bench: real decisions (compile + Engine with
// budgets) written through the real AuditLogger and FileAuditLog, with simulated time.
import { AuditLogger } from '../../language/audit/logger.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Decision } from '../../language/runtime/decision.js';

export const FIXTURE_POLICY = `
policy control_room {
  version "1.0.0"
  default allow
  currency "USD"
}

input {
  agent: { id: string, team: string }
  action: { tool: string, model: string, amount: number }
  cost: { estimate: money }
}

rule no_drop {
  when action.tool == "db.drop"
  deny "dropping tables is blocked"
}

rule large_transfer {
  when action.tool == "payments.transfer" and action.amount > 1000
  require approval from "finance" "transfers over 1000 need sign-off"
}

rule slow_model {
  when action.model == "large"
  warn "large model"
}

budget team_daily {
  limit $50 per day
  charge cost.estimate
  by agent.team
  warn at 80%
  on exceed deny "team \${agent.team} has spent its $50 for today"
}
`;

const TOOLS = ['search', 'search', 'search', 'email.send', 'payments.transfer', 'db.drop', 'files.read'];
const MODELS = ['small', 'small', 'medium', 'large'];
const TEAMS = ['support', 'sales', 'ops'];

/** Deterministic pseudo-random numbers (xorshift). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function fixtureRequest(r: () => number, i: number) {
  const tool = TOOLS[Math.floor(r() * TOOLS.length)]!;
  return {
    agent: { id: `agent-${i % 17}`, team: TEAMS[i % TEAMS.length]! },
    action: { tool, model: MODELS[Math.floor(r() * MODELS.length)]!, amount: tool === 'payments.transfer' ? Math.floor(r() * 3000) : 0 },
    cost: { estimate: (0.001 + r() * 0.02).toFixed(4) },
  };
}

/**
 * Writes `n` decisions to `path` spread evenly over `[start, end)` (epoch ms). `driftAt`: after this
 * fraction of the records, `db.drop` becomes far more frequent (a drift to detect).
 */
export async function writeFixtureLog(path: string, n: number, opts: { start: number; end: number; seed?: number; driftAt?: number; maxBytes?: number }): Promise<void> {
  const policy = compile({ 'p.rein': FIXTURE_POLICY });
  let now = opts.start;
  const sink = new FileAuditLog(path, opts.maxBytes ? { maxBytes: opts.maxBytes } : {});
  const logger = new AuditLogger(sink);
  const engine = new Engine(policy, { store: new MemoryBudgetStore(), clock: () => new Date(now) });
  const r = rng(opts.seed ?? 42);
  const step = (opts.end - opts.start) / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    now = Math.floor(opts.start + i * step);
    const req = fixtureRequest(r, i);
    if (opts.driftAt !== undefined && i >= n * opts.driftAt && r() < 0.3) req.action.tool = 'db.drop';
    const d = engine.decideSync(req);
    logger.record(d, { request: req, latencyMs: 0.01 + r() * 0.2 });
    if (d.reservation) await engine.settle(d, {});
    if (i % (opts.maxBytes ? 20 : 5000) === (opts.maxBytes ? 19 : 4999)) await logger.flush();
  }
  await logger.flush();
  await logger.close();
}

/** Appends one decision to an existing log (a new decision arriving while the page is open). */
export async function appendDecision(path: string, req: ReturnType<typeof fixtureRequest>, at: number): Promise<Decision> {
  const policy = compile({ 'p.rein': FIXTURE_POLICY });
  const sink = new FileAuditLog(path);
  const logger = new AuditLogger(sink);
  const engine = new Engine(policy, { clock: () => new Date(at) });
  const d = engine.decideSync(req);
  logger.record(d, { request: req, latencyMs: 0.05 });
  await logger.flush();
  await logger.close();
  return d;
}
