// The second evaluation benchmark: another 18-rule policy (bench/policy-shapes) over other request
// shapes than bench:evaluate's — lists of strings and of objects walked by lambdas, nested objects,
// longer strings, more fields per request and fewer per rule. Rein (generated code and closures) against
// hand-written JavaScript and @marcbachmann/cel-js, in one process, interleaved rounds, ratios as medians.
//
//   npm run bench:shapes              (node --expose-gc --import tsx bench/shapes.ts)
//   BENCH_N=5000 BENCH_SECONDS=2 BENCH_ROUNDS=5 npm run bench:shapes
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

async function celShapes(): Promise<(r: ShapeRequest) => string[]> {
  const { parse } = await import('@marcbachmann/cel-js');
  const compiled = Object.entries(SHAPES_CEL).map(([name, src]) => [name, parse(src)] as const);
  return (r) => {
    const m: string[] = [];
    for (const [name, fn] of compiled) if (fn(r as unknown as Record<string, unknown>) === true) m.push(name);
    return m;
  };
}

async function main() {
  const requests = shapeRequests(N);
  const json = requests.map((r) => JSON.parse(JSON.stringify(r)) as ShapeRequest);
  const files = readSet(join(here, 'policy-shapes'));
  const gen = compile(files);
  const clo = compile(files, { codegen: false });
  const cel = await celShapes();

  const effects: Record<string, number> = {};
  let disagreements = 0;
  for (let i = 0; i < N; i++) {
    const expected = project(shapesHandWritten(requests[i]), SHAPE_RULES);
    effects[expected.effect] = (effects[expected.effect] ?? 0) + 1;
    const others: [string, Outcome][] = [
      ['rein', fromDecision(gen.evaluate(json[i]))],
      ['rein (closures)', fromDecision(clo.evaluate(json[i]))],
      ['cel-js', project(cel(requests[i]), SHAPE_RULES)],
    ];
    for (const [name, got] of others)
      if (got.effect !== expected.effect || got.names.join() !== expected.names.join()) {
        if (disagreements++ < 5) console.error(`DISAGREE ${name} on request ${i}: expected ${JSON.stringify(expected)} got ${JSON.stringify(got)}`);
      }
  }
  if (disagreements) {
    console.error(`${disagreements} disagreements: the engines do not implement the same policy; no timing reported`);
    process.exit(1);
  }
  console.log(`agreement: 4 engines, same effect and rule names on ${N} requests (${JSON.stringify(effects)})`);

  const engines: { name: string; inputs: unknown[]; fn: (x: unknown) => unknown; rounds: number[] }[] = [
    { name: 'hand-written JS', inputs: requests, fn: (r) => shapesHandWritten(r as ShapeRequest), rounds: [] },
    { name: 'rein policy.evaluate (validating)', inputs: json, fn: (r) => gen.evaluate(r), rounds: [] },
    { name: 'rein policy.evaluate (closures, CSP)', inputs: json, fn: (r) => clo.evaluate(r), rounds: [] },
    { name: '@marcbachmann/cel-js', inputs: requests, fn: (r) => cel(r as ShapeRequest), rounds: [] },
  ];
  for (const e of engines) for (let i = 0; i < Math.min(2000, e.inputs.length); i++) e.fn(e.inputs[i]);
  const stretch = (SECONDS * 1000) / ROUNDS;
  for (let round = 0; round < ROUNDS; round++)
    for (const e of engines) {
      let ops = 0;
      let sink = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < stretch) {
        for (let i = 0; i < e.inputs.length; i++) if (e.fn(e.inputs[i])) sink++;
        ops += e.inputs.length;
      }
      e.rounds.push((ops / (performance.now() - t0)) * 1000);
      if (sink < 0) console.log(sink);
    }
  const hand = engines[0];
  const rein = engines[1];
  const ratio = (a: { rounds: number[] }, b: { rounds: number[] }) => median(a.rounds.map((x, i) => x / b.rounds[i]));
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(1)} k/s`);
  console.log(`\nNode ${process.version}, ${N} requests, ${ROUNDS} interleaved rounds, ~${SECONDS}s per engine; medians over the rounds\n`);
  console.log('engine'.padEnd(40) + 'throughput'.padStart(12) + '  vs hand'.padStart(10) + '  rein is'.padStart(10));
  for (const e of engines)
    console.log(e.name.padEnd(40) + fmt(median(e.rounds)).padStart(12) + ratio(e, hand).toFixed(3).padStart(10) + `${ratio(rein, e).toFixed(1)}×`.padStart(10));
  const celRow = engines[3];
  console.log(`\npolicy.evaluate on other shapes: ${ratio(rein, hand).toFixed(3)} of hand-written (aim ≥ 0.35), ${ratio(rein, celRow).toFixed(1)}× cel-js`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
