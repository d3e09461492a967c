// The benchmark policy (bench/policy/*.rein) written for each peer a Node user would otherwise pick:
// plain JavaScript by hand, CEL (@marcbachmann/cel-js), json-rules-engine, and Cedar (@cedar-policy/cedar-wasm).
// Each returns the names of the rules that matched; `project()` turns matches into an effect and the
// names a Rein decision shows, so every engine can be compared with Rein on the same requests.

export type RuleEffect = 'deny' | 'require_approval' | 'warn' | 'allow';

export const RULES: Record<string, RuleEffect> = {
  deny_blocked_tools: 'deny',
  deny_confidential_external_model: 'deny',
  approve_payment: 'require_approval',
  deny_huge_payment: 'deny',
  warn_long_prompt: 'warn',
  deny_expensive_call: 'deny',
  approve_costly_call: 'require_approval',
  deny_low_autonomy_agent_call: 'deny',
  deny_long_session: 'deny',
  warn_busy_session: 'warn',
  allow_read_tools: 'allow',
  deny_sensitive_output: 'deny',
  approve_external_email: 'require_approval',
  deny_prod_db_write: 'deny',
  warn_large_model: 'warn',
  deny_intern_models: 'deny',
  approve_admin_tool: 'require_approval',
  deny_anonymous_agent: 'deny',
};

export interface Outcome {
  effect: 'allow' | 'deny' | 'require_approval';
  /** Sorted names: the deciding rules, pending approvals and warnings (what a Rein decision lists). */
  names: string[];
}

/** Effect precedence of LANGUAGE §5 (default allow, no approvals granted) and the names a decision shows. */
export function project(matched: string[], rules: Record<string, RuleEffect> = RULES): Outcome {
  const by = (e: RuleEffect) => matched.filter((n) => rules[n] === e);
  const deny = by('deny');
  const appr = by('require_approval');
  const warn = by('warn');
  const allow = by('allow');
  if (deny.length) return { effect: 'deny', names: [...deny, ...appr, ...warn].sort() };
  if (appr.length) return { effect: 'require_approval', names: [...appr, ...warn].sort() };
  return { effect: 'allow', names: [...allow, ...warn].sort() };
}

/** The effect and names a Rein decision shows (what `project` gives for a peer's matches). */
export function fromDecision(d: { effect: string; reasons: { kind: string; name?: string }[]; approvals: { name: string }[]; warnings: { name?: string }[] }): Outcome {
  const names = new Set<string>();
  for (const r of d.reasons) if (r.kind === 'rule' && r.name) names.add(r.name);
  for (const a of d.approvals) names.add(a.name);
  for (const w of d.warnings) if (w.name) names.add(w.name);
  return { effect: d.effect as Outcome['effect'], names: [...names].sort() };
}

/** A small seeded generator (mulberry32): the same seed gives the same requests. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ requests

export interface BenchRequest {
  agent: { id: string; team: string; autonomy: number };
  session: { id: string; actions: number };
  action: { kind: string; tool?: string; model?: string; args?: Record<string, unknown>; text?: string };
  data: { classification: string };
  cost: { estimate: number; tokens: number };
}

/** Deterministic pseudo-random agent requests (mulberry32). */
export function generateRequests(n: number, seed = 42): BenchRequest[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const tools = ['kb.search', 'ticket.read', 'docs.read', 'shell.exec', 'db.drop', 'payments.transfer', 'email.send', 'db.write', 'admin.reset', 'fs.write', 'calendar.create'];
  const models = ['small', 'gpt-large', 'internal-llm', 'internal-small', 'claude-medium'];
  const teams = ['support', 'research', 'interns', 'finance', 'platform'];
  const out: BenchRequest[] = [];
  for (let i = 0; i < n; i++) {
    const kind = pick(['tool_call', 'tool_call', 'tool_call', 'model_call', 'model_call', 'agent_call', 'output']);
    const action: BenchRequest['action'] = { kind };
    if (kind === 'tool_call') {
      action.tool = pick(tools);
      if (action.tool === 'payments.transfer') action.args = { amount: pick([50, 900, 1500, 20000, 250000]), currency: 'USD' };
      else if (action.tool === 'email.send') action.args = { to: pick(['ann@example.com', 'bob@evil.test', 'cy@example.com.evil.test']) };
      else if (action.tool === 'db.write') action.args = { env: pick(['prod', 'staging']) };
      else if (rnd() < 0.3) action.args = { q: 'refund policy' };
    } else if (kind === 'model_call') {
      action.model = pick(models);
    } else if (kind === 'output') {
      action.text = pick(['Your refund is on its way.', 'CONFIDENTIAL: internal roadmap', 'Here is the summary you asked for.']);
    }
    out.push({
      agent: { id: rnd() < 0.02 ? '' : `agent-${i % 50}`, team: pick(teams), autonomy: Math.floor(rnd() * 6) },
      session: { id: `s-${i % 200}`, actions: Math.floor(rnd() * rnd() * 600) },
      action,
      data: { classification: pick(['public', 'public', 'internal', 'confidential']) },
      cost: { estimate: Math.round(rnd() * rnd() * rnd() * 7_000_000) / 1_000_000, tokens: Math.floor(rnd() * rnd() * 80_000) },
    });
  }
  return out;
}

// ------------------------------------------------------------------ hand-written JavaScript

const BLOCKED = new Set(['shell.exec', 'db.drop', 'fs.delete', 'k8s.delete']);
const INTERNAL = new Set(['internal-llm', 'internal-small']);
const READ = new Set(['kb.search', 'ticket.read', 'docs.read']);

/** The policy by hand: the ceiling for what any engine can do. */
export function handWritten(r: BenchRequest): string[] {
  const m: string[] = [];
  const a = r.action;
  const tool = a.tool;
  const amount = (a.args?.amount as number | undefined) ?? 0;
  if (a.kind === 'tool_call' && tool !== undefined && BLOCKED.has(tool)) m.push('deny_blocked_tools');
  if (r.data.classification === 'confidential' && a.kind === 'model_call' && !(a.model !== undefined && INTERNAL.has(a.model))) m.push('deny_confidential_external_model');
  if (tool === 'payments.transfer' && amount > 1000) m.push('approve_payment');
  if (tool === 'payments.transfer' && amount > 100000) m.push('deny_huge_payment');
  if (r.cost.tokens > 50000) m.push('warn_long_prompt');
  if (r.cost.estimate > 5) m.push('deny_expensive_call');
  if (r.cost.estimate > 1) m.push('approve_costly_call');
  if (a.kind === 'agent_call' && r.agent.autonomy < 2) m.push('deny_low_autonomy_agent_call');
  if (r.session.actions > 500) m.push('deny_long_session');
  if (r.session.actions > 200) m.push('warn_busy_session');
  if (a.kind === 'tool_call' && tool !== undefined && READ.has(tool)) m.push('allow_read_tools');
  if (a.kind === 'output' && r.data.classification !== 'public' && (a.text ?? '').includes('CONFIDENTIAL')) m.push('deny_sensitive_output');
  if (tool === 'email.send' && !String(a.args?.to ?? '').endsWith('@example.com')) m.push('approve_external_email');
  if (tool === 'db.write' && (a.args?.env ?? '') === 'prod') m.push('deny_prod_db_write');
  if (a.model === 'gpt-large' && r.agent.team !== 'research') m.push('warn_large_model');
  if (r.agent.team === 'interns' && a.kind === 'model_call' && a.model !== 'small') m.push('deny_intern_models');
  if (r.agent.autonomy >= 4 && a.kind === 'tool_call' && (tool ?? '').startsWith('admin.')) m.push('approve_admin_tool');
  if (r.agent.id === '') m.push('deny_anonymous_agent');
  return m;
}

// ------------------------------------------------------------------ CEL

export const CEL_RULES: Record<string, string> = {
  deny_blocked_tools: 'action.kind == "tool_call" && has(action.tool) && action.tool in ["shell.exec", "db.drop", "fs.delete", "k8s.delete"]',
  deny_confidential_external_model: 'data.classification == "confidential" && action.kind == "model_call" && !(has(action.model) && action.model in ["internal-llm", "internal-small"])',
  approve_payment: 'has(action.tool) && action.tool == "payments.transfer" && has(action.args) && has(action.args.amount) && action.args.amount > 1000.0',
  deny_huge_payment: 'has(action.tool) && action.tool == "payments.transfer" && has(action.args) && has(action.args.amount) && action.args.amount > 100000.0',
  warn_long_prompt: 'cost.tokens > 50000.0',
  deny_expensive_call: 'cost.estimate > 5.0',
  approve_costly_call: 'cost.estimate > 1.0',
  deny_low_autonomy_agent_call: 'action.kind == "agent_call" && agent.autonomy < 2.0',
  deny_long_session: 'session.actions > 500.0',
  warn_busy_session: 'session.actions > 200.0',
  allow_read_tools: 'action.kind == "tool_call" && has(action.tool) && action.tool in ["kb.search", "ticket.read", "docs.read"]',
  deny_sensitive_output: 'action.kind == "output" && data.classification != "public" && has(action.text) && action.text.contains("CONFIDENTIAL")',
  approve_external_email: 'has(action.tool) && action.tool == "email.send" && !(has(action.args) && has(action.args.to) && action.args.to.endsWith("@example.com"))',
  deny_prod_db_write: 'has(action.tool) && action.tool == "db.write" && has(action.args) && has(action.args.env) && action.args.env == "prod"',
  warn_large_model: 'has(action.model) && action.model == "gpt-large" && agent.team != "research"',
  deny_intern_models: 'agent.team == "interns" && action.kind == "model_call" && !(has(action.model) && action.model == "small")',
  approve_admin_tool: 'agent.autonomy >= 4.0 && action.kind == "tool_call" && has(action.tool) && action.tool.startsWith("admin.")',
  deny_anonymous_agent: 'agent.id == ""',
};

export async function celEngine(): Promise<(r: BenchRequest) => string[]> {
  const { parse } = await import('@marcbachmann/cel-js');
  const compiled = Object.entries(CEL_RULES).map(([name, src]) => [name, parse(src)] as const);
  return (r) => {
    const m: string[] = [];
    for (const [name, fn] of compiled) if (fn(r as unknown as Record<string, unknown>) === true) m.push(name);
    return m;
  };
}

// ------------------------------------------------------------------ json-rules-engine

type Cond = { fact: string; path?: string; operator: string; value: unknown };
const c = (fact: string, path: string | undefined, operator: string, value: unknown): Cond => (path ? { fact, path, operator, value } : { fact, operator, value });

export const JRE_RULES: Record<string, { all: unknown[] }> = {
  deny_blocked_tools: { all: [c('action', '$.kind', 'equal', 'tool_call'), c('action', '$.tool', 'in', ['shell.exec', 'db.drop', 'fs.delete', 'k8s.delete'])] },
  deny_confidential_external_model: { all: [c('data', '$.classification', 'equal', 'confidential'), c('action', '$.kind', 'equal', 'model_call'), c('action', '$.model', 'notIn', ['internal-llm', 'internal-small'])] },
  approve_payment: { all: [c('action', '$.tool', 'equal', 'payments.transfer'), c('action', '$.args.amount', 'greaterThan', 1000)] },
  deny_huge_payment: { all: [c('action', '$.tool', 'equal', 'payments.transfer'), c('action', '$.args.amount', 'greaterThan', 100000)] },
  warn_long_prompt: { all: [c('cost', '$.tokens', 'greaterThan', 50000)] },
  deny_expensive_call: { all: [c('cost', '$.estimate', 'greaterThan', 5)] },
  approve_costly_call: { all: [c('cost', '$.estimate', 'greaterThan', 1)] },
  deny_low_autonomy_agent_call: { all: [c('action', '$.kind', 'equal', 'agent_call'), c('agent', '$.autonomy', 'lessThan', 2)] },
  deny_long_session: { all: [c('session', '$.actions', 'greaterThan', 500)] },
  warn_busy_session: { all: [c('session', '$.actions', 'greaterThan', 200)] },
  allow_read_tools: { all: [c('action', '$.kind', 'equal', 'tool_call'), c('action', '$.tool', 'in', ['kb.search', 'ticket.read', 'docs.read'])] },
  deny_sensitive_output: { all: [c('action', '$.kind', 'equal', 'output'), c('data', '$.classification', 'notEqual', 'public'), c('action', '$.text', 'containsText', 'CONFIDENTIAL')] },
  approve_external_email: { all: [c('action', '$.tool', 'equal', 'email.send'), c('action', '$.args.to', 'notEndsWith', '@example.com')] },
  deny_prod_db_write: { all: [c('action', '$.tool', 'equal', 'db.write'), c('action', '$.args.env', 'equal', 'prod')] },
  warn_large_model: { all: [c('action', '$.model', 'equal', 'gpt-large'), c('agent', '$.team', 'notEqual', 'research')] },
  deny_intern_models: { all: [c('agent', '$.team', 'equal', 'interns'), c('action', '$.kind', 'equal', 'model_call'), c('action', '$.model', 'notEqual', 'small')] },
  approve_admin_tool: { all: [c('agent', '$.autonomy', 'greaterThanInclusive', 4), c('action', '$.kind', 'equal', 'tool_call'), c('action', '$.tool', 'startsWith', 'admin.')] },
  deny_anonymous_agent: { all: [c('agent', '$.id', 'equal', '')] },
};

export async function jsonRulesEngine(): Promise<(r: BenchRequest) => Promise<string[]>> {
  const { Engine } = await import('json-rules-engine');
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator('containsText', (a: unknown, b: unknown) => typeof a === 'string' && a.includes(String(b)));
  engine.addOperator('startsWith', (a: unknown, b: unknown) => typeof a === 'string' && a.startsWith(String(b)));
  engine.addOperator('notEndsWith', (a: unknown, b: unknown) => !(typeof a === 'string' && a.endsWith(String(b))));
  for (const [name, conditions] of Object.entries(JRE_RULES)) engine.addRule({ name, conditions: conditions as never, event: { type: name } });
  return async (r) => {
    const { events } = await engine.run(r as unknown as Record<string, unknown>);
    return events.map((e) => e.type);
  };
}

// ------------------------------------------------------------------ Cedar

export const CEDAR_RULES: Record<string, string> = {
  deny_blocked_tools: 'context.action.kind == "tool_call" && context.action has tool && ["shell.exec", "db.drop", "fs.delete", "k8s.delete"].contains(context.action.tool)',
  deny_confidential_external_model: 'context.data.classification == "confidential" && context.action.kind == "model_call" && !(context.action has model && ["internal-llm", "internal-small"].contains(context.action.model))',
  approve_payment: 'context.action has tool && context.action.tool == "payments.transfer" && context.action has args && context.action.args has amount && context.action.args.amount > 1000',
  deny_huge_payment: 'context.action has tool && context.action.tool == "payments.transfer" && context.action has args && context.action.args has amount && context.action.args.amount > 100000',
  warn_long_prompt: 'context.cost.tokens > 50000',
  deny_expensive_call: 'context.cost.estimate_micros > 5000000',
  approve_costly_call: 'context.cost.estimate_micros > 1000000',
  deny_low_autonomy_agent_call: 'context.action.kind == "agent_call" && context.agent.autonomy < 2',
  deny_long_session: 'context.session.actions > 500',
  warn_busy_session: 'context.session.actions > 200',
  allow_read_tools: 'context.action.kind == "tool_call" && context.action has tool && ["kb.search", "ticket.read", "docs.read"].contains(context.action.tool)',
  deny_sensitive_output: 'context.action.kind == "output" && context.data.classification != "public" && context.action has text && context.action.text like "*CONFIDENTIAL*"',
  approve_external_email: 'context.action has tool && context.action.tool == "email.send" && !(context.action has args && context.action.args has to && context.action.args.to like "*@example.com")',
  deny_prod_db_write: 'context.action has tool && context.action.tool == "db.write" && context.action has args && context.action.args has env && context.action.args.env == "prod"',
  warn_large_model: 'context.action has model && context.action.model == "gpt-large" && context.agent.team != "research"',
  deny_intern_models: 'context.agent.team == "interns" && context.action.kind == "model_call" && !(context.action has model && context.action.model == "small")',
  approve_admin_tool: 'context.agent.autonomy >= 4 && context.action.kind == "tool_call" && context.action has tool && context.action.tool like "admin.*"',
  deny_anonymous_agent: 'context.agent.id == ""',
};

/** Cedar context: Cedar has no floats, so money goes in as integer micro-units (done outside the timed loop). */
export function cedarContext(r: BenchRequest): Record<string, unknown> {
  return { ...r, cost: { estimate_micros: Math.round(r.cost.estimate * 1_000_000), tokens: r.cost.tokens } };
}

/**
 * Every rule becomes a `forbid` so that Cedar's `diagnostics.reason` names all satisfied rules, plus one
 * `permit` so that nothing matched reads as allow. The effect is then projected like the others.
 */
export async function cedarEngine(): Promise<(ctx: Record<string, unknown>) => string[]> {
  const cedar = (await import('@cedar-policy/cedar-wasm/nodejs')) as typeof import('@cedar-policy/cedar-wasm/nodejs');
  const staticPolicies: Record<string, string> = { base_permit: 'permit(principal, action, resource);' };
  for (const [name, cond] of Object.entries(CEDAR_RULES)) staticPolicies[name] = `forbid(principal, action, resource) when { ${cond} };`;
  const pre = cedar.preparsePolicySet('bench', { staticPolicies });
  if (pre.type !== 'success') throw new Error('cedar: ' + JSON.stringify(pre));
  const principal = { type: 'Agent', id: 'a' };
  const action = { type: 'Action', id: 'decide' };
  const resource = { type: 'Resource', id: 'r' };
  return (context) => {
    const ans = cedar.statefulIsAuthorized({ principal, action, resource, context: context as never, preparsedPolicySetId: 'bench', entities: [] });
    if (ans.type !== 'success') throw new Error('cedar: ' + JSON.stringify(ans.errors));
    if (ans.response.diagnostics.errors.length) throw new Error('cedar: ' + JSON.stringify(ans.response.diagnostics.errors));
    return ans.response.diagnostics.reason.filter((n) => n !== 'base_permit');
  };
}
