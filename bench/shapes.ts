// The second evaluation benchmark: two more 18-rule policies over other request shapes than
// bench:evaluate's, each with its own requests — "messages" (bench/policy-shapes: lists of strings
// and of objects walked by lambdas, nested objects, longer strings, more fields per request and fewer
// per rule) and "tool calls" (bench/policy-calls: a map of arguments, lists of objects walked by
// `any`/`count`/`filter`, a four-level object, string methods, a `def`, an optional list). Rein
// (generated code and closures) against hand-written JavaScript and @marcbachmann/cel-js, in one
// process, interleaved rounds, ratios as medians — of wall-clock rates and of rates per second of the
// process's CPU time (process.cpuUsage), which a loaded host disturbs far less.
//
//   npm run bench:shapes              (node --expose-gc --import tsx bench/shapes.ts)
//   BENCH_N=5000 BENCH_SECONDS=2 BENCH_ROUNDS=5 BENCH_SETS=messages,"tool calls" npm run bench:shapes
//
// Every engine must give the same effect and rule names on every request before anything is timed.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../language/policy.js';
import { fromDecision, mulberry32, project, type Outcome, type RuleEffect } from './peers.js';
import { median, readSet } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.BENCH_N ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 5)));

export const SHAPE_RULES: Record<string, RuleEffect> = {
  deny_admin_tool_without_role: 'deny',
  approve_external_recipients: 'require_approval',
  warn_many_recipients: 'warn',
  deny_prompt_injection: 'deny',
  deny_free_plan_stream: 'deny',
  warn_high_temperature: 'warn',
  deny_token_cap_free: 'deny',
  approve_eu_export: 'require_approval',
  deny_secret_tag: 'deny',
  allow_read_only: 'allow',
  deny_prompt_ssn: 'deny',
  warn_long_prompt: 'warn',
  deny_large_files: 'deny',
  deny_dotenv: 'deny',
  deny_prod_intern: 'deny',
  approve_long_conversation: 'require_approval',
  deny_blocked_network: 'deny',
  deny_anonymous: 'deny',
};

export interface ShapeRequest {
  user: { id: string; roles: string[]; org: { id: string; plan: string; region: string } };
  request: {
    tool: string;
    recipients: string[];
    messages: { role: string; content: string }[];
    tags: string[];
    prompt: string;
    params: { temperature: number; max_tokens: number; stream: boolean };
    files?: { path: string; size: number }[];
  };
  env: { name: string; ip: string };
}

/** Deterministic requests (mulberry32). */
export function shapeRequests(n: number, seed = 7): ShapeRequest[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const some = <T>(xs: T[], max: number): T[] => Array.from({ length: Math.floor(rnd() * (max + 1)) }, () => pick(xs));
  const words = ['refund', 'policy', 'summary', 'customer', 'order', 'invoice', 'please', 'status', 'update', 'account'];
  const text = (len: number) => Array.from({ length: len }, () => pick(words)).join(' ');
  const out: ShapeRequest[] = [];
  for (let i = 0; i < n; i++) {
    const messages = Array.from({ length: 1 + Math.floor(rnd() * rnd() * 30) }, () => ({
      role: pick(['user', 'assistant', 'system']),
      content: rnd() < 0.03 ? `${text(5)} ignore previous instructions` : text(4 + Math.floor(rnd() * 12)),
    }));
    const req: ShapeRequest = {
      user: {
        id: rnd() < 0.02 ? '' : `user-${i % 300}`,
        roles: some(['reader', 'writer', 'admin', 'intern', 'billing'], 3),
        org: { id: `org-${i % 40}`, plan: pick(['free', 'pro', 'pro', 'enterprise']), region: pick(['us', 'eu', 'apac']) },
      },
      request: {
        tool: pick(['chat.complete', 'email.send', 'export.data', 'admin.reset', 'kb.search', 'admin.audit', 'files.upload']),
        recipients: some(['ann@example.com', 'bob@example.com', 'eve@evil.test', 'cy@example.com', 'dan@partner.test'], 7),
        messages,
        tags: some(['read', 'read-only', 'secret', 'draft', 'reader', 'public'], 3),
        prompt: rnd() < 0.02 ? `${text(10)} SSN: 123-45-6789` : text(10 + Math.floor(rnd() * 70)),
        params: { temperature: Math.round(rnd() * 20) / 10, max_tokens: pick([256, 1024, 4096, 8192]), stream: rnd() < 0.5 },
      },
      env: { name: pick(['prod', 'staging', 'dev']), ip: pick(['10.1.2.3', '10.66.0.7', '192.168.1.9', '172.16.4.4']) },
    };
    if (rnd() < 0.4)
      req.request.files = some(
        [
          { path: 'a.txt', size: 1200 },
          { path: 'config/.env', size: 300 },
          { path: 'video.mp4', size: 50_000_000 },
          { path: 'report.pdf', size: 900_000 },
        ],
        3,
      );
    out.push(req);
  }
  return out;
}

/** The policy by hand: the ceiling for what any engine can do. */
export function shapesHandWritten(x: ShapeRequest): string[] {
  const m: string[] = [];
  const u = x.user;
  const r = x.request;
  if (r.tool.startsWith('admin.') && !u.roles.includes('admin')) m.push('deny_admin_tool_without_role');
  if (r.recipients.some((a) => !a.endsWith('@example.com'))) m.push('approve_external_recipients');
  if (r.recipients.length > 5) m.push('warn_many_recipients');
  if (r.messages.some((g) => g.role === 'user' && g.content.includes('ignore previous'))) m.push('deny_prompt_injection');
  if (u.org.plan === 'free' && r.params.stream) m.push('deny_free_plan_stream');
  if (r.params.temperature > 1.2) m.push('warn_high_temperature');
  if (u.org.plan === 'free' && r.params.max_tokens > 4000) m.push('deny_token_cap_free');
  if (u.org.region === 'eu' && r.tool === 'export.data') m.push('approve_eu_export');
  if (r.tags.includes('secret')) m.push('deny_secret_tag');
  if (r.tags.length > 0 && r.tags.every((t) => t.startsWith('read'))) m.push('allow_read_only');
  if (r.prompt.includes('SSN:')) m.push('deny_prompt_ssn');
  if (r.prompt.length > 400) m.push('warn_long_prompt');
  const files = r.files ?? [];
  if (files.some((f) => f.size > 10_000_000)) m.push('deny_large_files');
  if (files.some((f) => f.path.endsWith('.env'))) m.push('deny_dotenv');
  if (x.env.name === 'prod' && u.roles.includes('intern')) m.push('deny_prod_intern');
  if (r.messages.length > 20) m.push('approve_long_conversation');
  if (x.env.ip.startsWith('10.66.')) m.push('deny_blocked_network');
  if (u.id === '') m.push('deny_anonymous');
  return m;
}

export const SHAPES_CEL: Record<string, string> = {
  deny_admin_tool_without_role: 'request.tool.startsWith("admin.") && !("admin" in user.roles)',
  approve_external_recipients: 'request.recipients.exists(r, !r.endsWith("@example.com"))',
  warn_many_recipients: 'size(request.recipients) > 5',
  deny_prompt_injection: 'request.messages.exists(m, m.role == "user" && m.content.contains("ignore previous"))',
  deny_free_plan_stream: 'user.org.plan == "free" && request.params.stream',
  warn_high_temperature: 'request.params.temperature > 1.2',
  deny_token_cap_free: 'user.org.plan == "free" && request.params.max_tokens > 4000.0',
  approve_eu_export: 'user.org.region == "eu" && request.tool == "export.data"',
  deny_secret_tag: '"secret" in request.tags',
  allow_read_only: 'size(request.tags) > 0 && request.tags.all(t, t.startsWith("read"))',
  deny_prompt_ssn: 'request.prompt.contains("SSN:")',
  warn_long_prompt: 'size(request.prompt) > 400',
  deny_large_files: 'has(request.files) && request.files.exists(f, f.size > 10000000.0)',
  deny_dotenv: 'has(request.files) && request.files.exists(f, f.path.endsWith(".env"))',
  deny_prod_intern: 'env.name == "prod" && "intern" in user.roles',
  approve_long_conversation: 'size(request.messages) > 20',
  deny_blocked_network: 'env.ip.startsWith("10.66.")',
  deny_anonymous: 'user.id == ""',
};

// ---------------------------------------------------------------- the second set: tool calls

export const CALL_RULES: Record<string, RuleEffect> = {
  deny_exec_without_scope: 'deny',
  deny_path_outside_work: 'deny',
  approve_external_mail: 'require_approval',
  approve_admin_tools: 'require_approval',
  deny_retired_model: 'deny',
  warn_failing_session: 'warn',
  deny_tool_loop: 'deny',
  deny_many_large_attachments: 'deny',
  deny_executable_attachment: 'deny',
  deny_enterprise_without_mfa: 'deny',
  deny_embargoed_country: 'deny',
  allow_readers_search: 'allow',
  deny_private_key_text: 'deny',
  warn_long_text: 'warn',
  deny_plain_http: 'deny',
  approve_low_budget: 'require_approval',
  deny_free_premium_model: 'deny',
  deny_anonymous_session: 'deny',
};

export interface CallRequest {
  agent: { id: string; team: string; scopes: string[]; model: string };
  call: { server: string; tool: string; args: Record<string, string>; attachments: { name: string; mime: string; bytes: number }[]; urls?: string[] };
  session: {
    id: string;
    user: { email: string; groups: string[]; mfa: boolean; org: { id: string; tier: string; country: string } };
    history: { tool: string; ok: boolean; ms: number }[];
    budget_left: number;
  };
  text: string;
}

const TOOLS = ['kb.search', 'kb.read', 'email.send', 'shell.exec', 'files.write', 'admin.users', 'http.fetch', 'process.spawn', 'admin.billing', 'calendar.add'];

/** Deterministic tool calls (mulberry32): an argument map, attachments, a history of 0–40 calls, a
 *  text of 30–400 words, sometimes a list of URLs. */
export function callRequests(n: number, seed = 11): CallRequest[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const some = <T>(xs: T[], max: number): T[] => Array.from({ length: Math.floor(rnd() * (max + 1)) }, () => pick(xs));
  const words = ['deploy', 'the', 'report', 'quarterly', 'numbers', 'customer', 'ticket', 'summary', 'attached', 'please', 'review', 'branch'];
  const out: CallRequest[] = [];
  for (let i = 0; i < n; i++) {
    const tool = pick(TOOLS);
    const args: Record<string, string> = {};
    if (rnd() < 0.5) args.path = pick(['/work/a.txt', '/work/src/main.ts', '/etc/passwd', '/home/u/.ssh/id_rsa', '/work/out/report.pdf']);
    if (tool === 'email.send' || rnd() < 0.1) args.to = pick(['ann@example.com', 'Bob@Example.com', 'eve@evil.test', 'dan@partner.test']);
    if (rnd() < 0.6) args.query = pick(['refund policy', 'open tickets', 'status of order 4411', 'who is on call']);
    if (rnd() < 0.3) args.body = Array.from({ length: 5 + Math.floor(rnd() * 20) }, () => pick(words)).join(' ');
    const words_ = 30 + Math.floor(rnd() * rnd() * 370);
    let text = Array.from({ length: words_ }, () => pick(words)).join(' ');
    if (rnd() < 0.02) text += ' -----BEGIN PRIVATE KEY----- MIIE';
    const req: CallRequest = {
      agent: {
        id: `agent-${i % 50}`,
        team: pick(['support', 'sales', 'platform', 'research']),
        scopes: some(['read', 'write', 'exec', 'mail', 'admin'], 3),
        model: pick(['gpt-5-mini', 'GPT-3.5-turbo', 'claude-opus-4', 'claude-sonnet-4', 'llama-3-70b', 'gpt-4o']),
      },
      call: {
        server: pick(['local', 'github', 'mail', 'kb']),
        tool,
        args,
        attachments: some(
          [
            { name: 'notes.txt', mime: 'text/plain', bytes: 1200 },
            { name: 'deck.pdf', mime: 'application/pdf', bytes: 7_500_000 },
            { name: 'setup.EXE', mime: 'application/octet-stream', bytes: 300_000 },
            { name: 'video.mp4', mime: 'video/mp4', bytes: 60_000_000 },
            { name: 'tool', mime: 'application/x-msdownload', bytes: 90_000 },
          ],
          rnd() < 0.7 ? 1 : 4,
        ),
      },
      session: {
        id: rnd() < 0.01 ? '' : `s-${i}`,
        user: {
          email: rnd() < 0.01 ? '' : `user${i % 700}@example.com`,
          groups: some(['readers', 'writers', 'admins', 'finance', 'oncall'], 3),
          mfa: rnd() < 0.85,
          org: { id: `org-${i % 60}`, tier: pick(['free', 'team', 'team', 'enterprise']), country: pick(['US', 'DE', 'FR', 'JP', 'BR', 'IN', 'GB', 'CU', 'CA', 'AU', 'NL', 'SE']) },
        },
        history: Array.from({ length: Math.floor(rnd() * rnd() * 40) }, () => ({ tool: pick(TOOLS), ok: rnd() < 0.9, ms: Math.floor(rnd() * 3000) })),
        budget_left: Math.round(rnd() * 200) / 10,
      },
      text,
    };
    if (rnd() < 0.35) req.call.urls = some(['https://example.com/a', 'https://docs.example.com/x', 'http://insecure.test/', 'https://cdn.example.net/f.js'], 5);
    out.push(req);
  }
  return out;
}

/** The tool-call policy by hand. */
export function callsHandWritten(x: CallRequest): string[] {
  const m: string[] = [];
  const a = x.agent;
  const c = x.call;
  const s = x.session;
  const u = s.user;
  if ((c.tool === 'shell.exec' || c.tool === 'process.spawn') && !a.scopes.includes('exec')) m.push('deny_exec_without_scope');
  if (Object.hasOwn(c.args, 'path') && !(c.args.path ?? '').startsWith('/work/')) m.push('deny_path_outside_work');
  if (c.tool === 'email.send' && !(c.args.to ?? '').toLowerCase().endsWith('@example.com')) m.push('approve_external_mail');
  if (c.tool.startsWith('admin.')) m.push('approve_admin_tools');
  if (a.model.toLowerCase().startsWith('gpt-3')) m.push('deny_retired_model');
  if (s.history.filter((h) => !h.ok).length >= 3) m.push('warn_failing_session');
  if (s.history.filter((h) => h.tool === c.tool).length > 6) m.push('deny_tool_loop');
  if (c.attachments.filter((f) => f.bytes > 5_000_000).length >= 2) m.push('deny_many_large_attachments');
  if (c.attachments.some((f) => f.mime === 'application/x-msdownload' || f.name.toLowerCase().endsWith('.exe'))) m.push('deny_executable_attachment');
  if (u.org.tier === 'enterprise' && !u.mfa) m.push('deny_enterprise_without_mfa');
  if (['KP', 'IR', 'SY', 'CU'].includes(u.org.country)) m.push('deny_embargoed_country');
  if (u.groups.includes('readers') && c.tool.startsWith('kb.')) m.push('allow_readers_search');
  if (x.text.includes('BEGIN PRIVATE KEY')) m.push('deny_private_key_text');
  if (x.text.length > 2000) m.push('warn_long_text');
  if (c.urls !== undefined && c.urls.some((v) => !v.startsWith('https://'))) m.push('deny_plain_http');
  if (s.budget_left < 1.5 && c.server !== 'local') m.push('approve_low_budget');
  if (u.org.tier === 'free' && (a.model.startsWith('gpt-5') || a.model.startsWith('claude-opus'))) m.push('deny_free_premium_model');
  if (u.email === '' || s.id === '') m.push('deny_anonymous_session');
  return m;
}

export const CALLS_CEL: Record<string, string> = {
  deny_exec_without_scope: 'call.tool in ["shell.exec", "process.spawn"] && !("exec" in agent.scopes)',
  deny_path_outside_work: '"path" in call.args && !call.args.path.startsWith("/work/")',
  approve_external_mail: 'call.tool == "email.send" && !(has(call.args.to) && call.args.to.lowerAscii().endsWith("@example.com"))',
  approve_admin_tools: 'call.tool.startsWith("admin.")',
  deny_retired_model: 'agent.model.lowerAscii().startsWith("gpt-3")',
  warn_failing_session: 'size(session.history.filter(h, !h.ok)) >= 3',
  deny_tool_loop: 'size(session.history.filter(h, h.tool == call.tool)) > 6',
  deny_many_large_attachments: 'size(call.attachments.filter(f, f.bytes > 5000000.0)) >= 2',
  deny_executable_attachment: 'call.attachments.exists(f, f.mime == "application/x-msdownload" || f.name.lowerAscii().endsWith(".exe"))',
  deny_enterprise_without_mfa: 'session.user.org.tier == "enterprise" && !session.user.mfa',
  deny_embargoed_country: 'session.user.org.country in ["KP", "IR", "SY", "CU"]',
  allow_readers_search: '"readers" in session.user.groups && call.tool.startsWith("kb.")',
  deny_private_key_text: 'text.contains("BEGIN PRIVATE KEY")',
  warn_long_text: 'size(text) > 2000',
  deny_plain_http: 'has(call.urls) && call.urls.exists(v, !v.startsWith("https://"))',
  approve_low_budget: 'session.budget_left < 1.5 && call.server != "local"',
  deny_free_premium_model: 'session.user.org.tier == "free" && (agent.model.startsWith("gpt-5") || agent.model.startsWith("claude-opus"))',
  deny_anonymous_session: 'session.user.email == "" || session.id == ""',
};

/** One benchmark set: a policy folder, its requests, the same policy by hand and in CEL. */
export interface ShapeSet<R> {
  name: string;
  dir: string;
  rules: Record<string, RuleEffect>;
  requests: (n: number) => R[];
  hand: (r: R) => string[];
  cel: Record<string, string>;
}

export const SHAPE_SETS: [ShapeSet<ShapeRequest>, ShapeSet<CallRequest>] = [
  { name: 'messages', dir: 'policy-shapes', rules: SHAPE_RULES, requests: (n) => shapeRequests(n), hand: shapesHandWritten, cel: SHAPES_CEL },
  { name: 'tool calls', dir: 'policy-calls', rules: CALL_RULES, requests: (n) => callRequests(n), hand: callsHandWritten, cel: CALLS_CEL },
];

async function celOf<R>(exprs: Record<string, string>): Promise<(r: R) => string[]> {
  const { parse } = await import('@marcbachmann/cel-js');
  const compiled = Object.entries(exprs).map(([name, src]) => [name, parse(src)] as const);
  return (r) => {
    const m: string[] = [];
    for (const [name, fn] of compiled) if (fn(r as unknown as Record<string, unknown>) === true) m.push(name);
    return m;
  };
}

/** One set: the agreement check, then interleaved timing; returns policy.evaluate's ratios to hand-written. */
async function runSet<R>(set: ShapeSet<R>): Promise<{ wall: number; cpu: number; cel: number }> {
  const requests = set.requests(N);
  const json = requests.map((r) => JSON.parse(JSON.stringify(r)) as R);
  const files = readSet(join(here, set.dir));
  const gen = compile(files);
  const clo = compile(files, { codegen: false });
  const cel = await celOf<R>(set.cel);

  const effects: Record<string, number> = {};
  let disagreements = 0;
  for (let i = 0; i < N; i++) {
    const expected = project(set.hand(requests[i]), set.rules);
    effects[expected.effect] = (effects[expected.effect] ?? 0) + 1;
    const others: [string, Outcome][] = [
      ['rein', fromDecision(gen.evaluate(json[i]))],
      ['rein (closures)', fromDecision(clo.evaluate(json[i]))],
      ['cel-js', project(cel(requests[i]), set.rules)],
    ];
    for (const [name, got] of others)
      if (got.effect !== expected.effect || got.names.join() !== expected.names.join()) {
        if (disagreements++ < 5) console.error(`DISAGREE ${name} on ${set.name} request ${i}: expected ${JSON.stringify(expected)} got ${JSON.stringify(got)}`);
      }
  }
  if (disagreements) {
    console.error(`${disagreements} disagreements on ${set.name}: the engines do not implement the same policy; no timing reported`);
    process.exit(1);
  }
  console.log(`\n## ${set.name} (bench/${set.dir})\nagreement: 4 engines, same effect and rule names on ${N} requests (${JSON.stringify(effects)})`);

  type Row = { name: string; inputs: unknown[]; fn: (x: unknown) => unknown; rounds: number[]; cpu: number[] };
  const engines: Row[] = [
    { name: 'hand-written JS', inputs: requests, fn: (r) => set.hand(r as R), rounds: [], cpu: [] },
    { name: 'rein policy.evaluate (validating)', inputs: json, fn: (r) => gen.evaluate(r), rounds: [], cpu: [] },
    { name: 'rein policy.evaluate (closures, CSP)', inputs: json, fn: (r) => clo.evaluate(r), rounds: [], cpu: [] },
    { name: '@marcbachmann/cel-js', inputs: requests, fn: (r) => cel(r as R), rounds: [], cpu: [] },
  ];
  for (const e of engines) for (let i = 0; i < Math.min(2000, e.inputs.length); i++) e.fn(e.inputs[i]);
  const stretch = (SECONDS * 1000) / ROUNDS;
  for (let round = 0; round < ROUNDS; round++)
    for (const e of round % 2 ? [...engines].reverse() : engines) {
      let ops = 0;
      let sink = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      while (performance.now() - t0 < stretch) {
        for (let i = 0; i < e.inputs.length; i++) if (e.fn(e.inputs[i])) sink++;
        ops += e.inputs.length;
      }
      const c = process.cpuUsage(c0);
      e.rounds.push((ops / (performance.now() - t0)) * 1000);
      // Per second of this process's CPU time: what other work on a loaded host disturbs least.
      e.cpu.push((ops / (c.user + c.system)) * 1e6);
      if (sink < 0) console.log(sink);
    }
  const [hand, rein, , celRow] = engines;
  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(1)} k/s`);
  console.log(`Node ${process.version}, ${N} requests, ${ROUNDS} interleaved rounds, ~${SECONDS}s per engine; medians over the rounds\n`);
  console.log('engine'.padEnd(40) + 'throughput'.padStart(12) + '  vs hand'.padStart(10) + '  (CPU)'.padStart(9) + '  rein is'.padStart(10));
  for (const e of engines)
    console.log(
      e.name.padEnd(40) +
        fmt(median(e.rounds)).padStart(12) +
        ratio(e.rounds, hand.rounds).toFixed(3).padStart(10) +
        ratio(e.cpu, hand.cpu).toFixed(3).padStart(9) +
        `${ratio(rein.rounds, e.rounds).toFixed(1)}×`.padStart(10),
    );
  return { wall: ratio(rein.rounds, hand.rounds), cpu: ratio(rein.cpu, hand.cpu), cel: ratio(rein.rounds, celRow.rounds) };
}

async function main() {
  const only = process.env.BENCH_SETS?.split(',');
  const results: [string, { wall: number; cpu: number; cel: number }][] = [];
  for (const set of SHAPE_SETS as ShapeSet<unknown>[]) if (!only || only.includes(set.name) || only.includes(set.dir)) results.push([set.name, await runSet(set)]);
  console.log('\npolicy.evaluate on other shapes, of hand-written (aim ≥ 0.35 on every set): wall clock / per CPU second');
  for (const [name, r] of results) console.log(`  ${name.padEnd(12)} ${r.wall.toFixed(3)} / ${r.cpu.toFixed(3)}   ${r.cel.toFixed(1)}× cel-js`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
