// The control room's HTTP surface on a real fastify instance: aggregation against an independent
// count of the log, security (401, 403, CSRF, login rate limit, no token reaches the page), 4xx on
// bad input, chain status after tampering, record view, live updates over a real socket (SSE).
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { generateApprovalKeyPair, verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { FIXTURE_POLICY, appendDecision, writeFixtureLog } from './dashboard-fixture.js';
import type { AuditRecord } from '../../language/audit/record.js';

const START = Date.parse('2026-12-04T00:00:00Z');
const END = Date.parse('2026-12-06T03:00:00Z');

describe('rein serve dashboard (HTTP)', function () {
  this.timeout(120_000);
  let dir: string;
  let log: string;
  let app: FastifyInstance;
  let queue: ApprovalQueue;
  const key: ApprovalSigningKey = { alg: 'Ed25519', privateKey: generateApprovalKeyPair().privateKey };
  const policy = compile({ 'p.rein': FIXTURE_POLICY });
  const engine = new Engine(policy, { approvalKeys: [verificationKeyOf(key)] });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-dash-'));
    log = path.join(dir, 'decisions.jsonl');
    await writeFixtureLog(log, 3000, { start: START, end: END, driftAt: 0.6 });
    queue = new ApprovalQueue({ store: new FileApprovalStore(path.join(dir, 'approvals')), groups: { finance: ['alice'], ops: ['carol'] }, signingKey: key });
    app = Fastify();
    await app.register(dashboardPlugin({ log, queue, users: { alice: 'alice-pw', carol: 'carol-pw' }, pollMs: 50 }));
    await app.ready();
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function login(user: string, password: string): Promise<{ cookie: string; csrf: string }> {
    const r = await app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user, password }, remoteAddress: `10.0.0.${user.length}` });
    assert.equal(r.statusCode, 200, r.body);
    return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
  }

  async function pendingTransfer(amount: number) {
    const req = { agent: { id: 'a1', team: 'support' }, action: { tool: 'payments.transfer', model: 'small', amount }, cost: { estimate: '0.01' } };
    const d = await engine.decide(req);
    assert.equal(d.effect, 'require_approval');
    const [rec] = await queue.request(d, { tool: 'payments.transfer', arguments: { amount } });
    return { req, rec: rec! };
  }

  it('aggregates the log: totals, top rules and latency agree with an independent count', async () => {
    const { cookie } = await login('alice', 'alice-pw');
    const r = await app.inject({ url: '/dashboard/api/summary', headers: { cookie } });
    assert.equal(r.statusCode, 200);
    const s = JSON.parse(r.body);
    const recs = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const count = (e: string) => recs.filter((x) => x.decision.effect === e).length;
    assert.deepEqual(
      { n: s.totals.n, allow: s.totals.allow, deny: s.totals.deny, require_approval: s.totals.require_approval },
      { n: recs.length, allow: count('allow'), deny: count('deny'), require_approval: count('require_approval') },
    );
    assert.equal(s.top.deny[0].name, 'no_drop');
    assert.equal(s.top.deny[0].count, recs.filter((x) => x.decision.reasons.some((y) => y.name === 'no_drop')).length);
    assert.ok(s.latency.p50 > 0 && s.latency.p99 >= s.latency.p50);
    assert.equal(s.series.t.length, s.series.allow.length);
    assert.equal(s.chains[0].ok, true);
    assert.equal(s.chains[0].head.seq, recs.length - 1);
    // filtered by team: the count of that team's records
    const f = JSON.parse((await app.inject({ url: '/dashboard/api/summary?team=sales', headers: { cookie } })).body);
    assert.equal(f.totals.n, recs.filter((x) => (x.request as { agent: { team: string } }).agent.team === 'sales').length);
  });

  it('drift: the rule whose rate moved beyond the threshold is flagged (previous day as baseline)', async () => {
    const { cookie } = await login('alice', 'alice-pw');
    const s = JSON.parse((await app.inject({ url: '/dashboard/api/summary', headers: { cookie } })).body);
    const drop = s.drift.rules.find((r: { name: string }) => r.name === 'no_drop');
    assert.ok(drop, JSON.stringify(s.drift));
    assert.equal(drop.flagged, true, JSON.stringify(drop));
    assert.ok(!s.drift.rules.find((r: { name: string }) => r.name === 'slow_model').flagged);
  });

  it('ceilings: burn rate and a projection alert when the limit comes before the window ends', async () => {
    const { cookie } = await login('alice', 'alice-pw');
    const s = JSON.parse((await app.inject({ url: '/dashboard/api/summary', headers: { cookie } })).body);
    assert.ok(s.ceilings.length >= 3);
    for (const c of s.ceilings) {
      assert.ok(c.burn_per_hour >= 0);
      if (c.projected_limit_at && c.window_end) assert.equal(c.alert, Date.parse(c.projected_limit_at) < Date.parse(c.window_end) || c.used >= c.limit);
    }
  });

  it('records: a rule count drills down to its records, a record view explains it', async () => {
    const { cookie } = await login('alice', 'alice-pw');
    const r = JSON.parse((await app.inject({ url: '/dashboard/api/records?rule=no_drop&effect=deny&limit=5', headers: { cookie } })).body);
    assert.equal(r.records.length, 5);
    for (const x of r.records) assert.deepEqual([x.effect, x.rules], ['deny', ['no_drop']]);
    const one = JSON.parse((await app.inject({ url: `/dashboard/api/records/decisions.jsonl/${r.records[0].seq}`, headers: { cookie } })).body);
    assert.equal(one.record.seq, r.records[0].seq);
    assert.equal(one.verified, true);
    assert.match(one.explanation.join('\n'), /no_drop.*dropping tables is blocked/);
    assert.equal((await app.inject({ url: '/dashboard/api/records/decisions.jsonl/999999', headers: { cookie } })).statusCode, 404);
  });

  it('bad input gets a 4xx with a clear message', async () => {
    const { cookie, csrf } = await login('alice', 'alice-pw');
    const cases: [string, string, unknown, number, RegExp][] = [
      ['GET', '/dashboard/api/summary?nope=1', undefined, 400, /unknown parameter `nope`/],
      ['GET', '/dashboard/api/summary?baseline=week', undefined, 400, /baseline/],
      ['GET', '/dashboard/api/records?limit=0', undefined, 400, /limit/],
      ['GET', '/dashboard/api/records/decisions.jsonl/-1', undefined, 400, /seq/],
      ['GET', '/dashboard/api/approvals?status=x', undefined, 400, /status/],
      ['GET', '/dashboard/api/ceilings?team=x', undefined, 400, /unknown parameter `team`/],
      ['GET', '/dashboard/api/records?errors=yes', undefined, 400, /errors/],
      ['GET', '/dashboard/api/summary?team=' + 'x'.repeat(201), undefined, 400, /team/],
      ['POST', '/dashboard/api/approvals/ap_unknown0000000/approve', { reason: 'x' }, 404, /no approval/],
      ['POST', '/dashboard/api/approvals/../../x/approve', {}, 404, /./],
      ['POST', '/dashboard/api/approvals/ap_unknown0000000/approve', { reason: 7 }, 400, /reason/],
      ['POST', '/dashboard/api/approvals/ap_unknown0000000/approve', { extra: 1 }, 400, /extra/],
      ['POST', '/dashboard/api/login', { user: 'alice' }, 400, /password/],
      ['GET', '/dashboard/assets/nope.js', undefined, 404, /no asset/],
    ];
    for (const [method, url, payload, status, msg] of cases) {
      const r = await app.inject({ method: method as 'GET', url, ...(payload !== undefined ? { payload: payload as object } : {}), headers: { cookie, 'x-csrf-token': csrf } });
      assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
      const body = r.headers['content-type']?.toString().includes('json') ? (JSON.parse(r.body) as { error?: { message?: string } | string; message?: string }) : null;
      if (body) assert.match(typeof body.error === 'object' ? String(body.error.message) : String(body.message), msg, url);
    }
  });

  it('unauthenticated approve → 401; no CSRF token or a foreign origin → 403; approver outside the group → 403', async () => {
    const { rec } = await pendingTransfer(1500);
    let r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec.id}/approve`, payload: {} });
    assert.equal(r.statusCode, 401);
    r = await app.inject({ url: '/dashboard/api/summary' });
    assert.equal(r.statusCode, 401, 'reads need a login when logins are configured');
    assert.equal((await app.inject({ url: '/dashboard/api/ceilings' })).statusCode, 401);
    const alice = await login('alice', 'alice-pw');
    r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec.id}/approve`, payload: {}, headers: { cookie: alice.cookie } });
    assert.equal(r.statusCode, 403);
    assert.equal(JSON.parse(r.body).error.code, 'csrf');
    r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec.id}/approve`, payload: {}, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, origin: 'http://evil.example', host: 'localhost:80' } });
    assert.equal(r.statusCode, 403);
    const carol = await login('carol', 'carol-pw');
    r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec.id}/approve`, payload: {}, headers: { cookie: carol.cookie, 'x-csrf-token': carol.csrf } });
    assert.equal(r.statusCode, 403);
    assert.match(JSON.parse(r.body).error.message, /carol is not in the approver group `finance`/);
    assert.equal((await queue.get(rec.id))!.status, 'pending');
  });

  it('approve in the inbox: the verdict names the logged-in approver, the token stays server-side, the engine accepts it', async () => {
    const { rec, req } = await pendingTransfer(2500);
    const alice = await login('alice', 'alice-pw');
    const list = JSON.parse((await app.inject({ url: '/dashboard/api/approvals', headers: { cookie: alice.cookie } })).body);
    const card = list.approvals.find((a: { id: string }) => a.id === rec.id);
    assert.deepEqual(card.summary, { tool: 'payments.transfer', arguments: { amount: 2500 } });
    const r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec.id}/approve`, payload: { reason: 'verified by phone' }, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf } });
    assert.equal(r.statusCode, 200, r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.approval.verdict.by, 'alice');
    assert.equal(body.approval.verdict.group, 'finance');
    assert.ok(!('token' in body.approval.verdict), 'the signed token never reaches the page');
    const all = await app.inject({ url: '/dashboard/api/approvals?status=all', headers: { cookie: alice.cookie } });
    assert.doesNotMatch(all.body, /rein1\./);
    const stored = await queue.get(rec.id);
    assert.equal((await engine.decide(req, { approvals: [stored!.verdict!.token!] })).effect, 'allow');
    const again = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec.id}/deny`, payload: {}, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf } });
    assert.equal(again.statusCode, 409);
    // the API's code for the same condition (regression: the dashboard said `decided`)
    assert.equal(JSON.parse(again.body).error.code, 'already_decided');
    const unknown = await app.inject({ method: 'POST', url: '/dashboard/api/approvals/ap_0000000000nope/deny', payload: {}, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf } });
    assert.equal(unknown.statusCode, 404);
    assert.equal(JSON.parse(unknown.body).error.code, 'unknown_approval');
  });

  it('login: wrong password 401, then rate limited (429 with Retry-After) per address', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user: 'alice', password: 'wrong' }, remoteAddress: '10.9.9.9' });
      assert.equal(r.statusCode, 401);
    }
    const r = await app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user: 'alice', password: 'alice-pw' }, remoteAddress: '10.9.9.9' });
    assert.equal(r.statusCode, 429);
    assert.ok(Number(r.headers['retry-after']) > 0);
    // another address is not affected
    const ok = await app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user: 'alice', password: 'alice-pw' }, remoteAddress: '10.9.9.10' });
    assert.equal(ok.statusCode, 200);
  });

  it('the page: strict CSP, bundled assets (no CDN), no secret in it', async () => {
    const r = await app.inject({ url: '/' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(r.body, /https?:\/\//);
    assert.doesNotMatch(r.body, /alice-pw|rein1\./);
    const js = await app.inject({ url: '/dashboard/assets/app.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.body, /uPlot|uplot/);
    assert.doesNotMatch(js.body, /https:\/\/(cdn|unpkg|jsdelivr)/);
  });

  it('rein/node dashboardPlugin (loads the implementation when registered) serves the same plugin; hashPassword works', async () => {
    const node = await import('../../language/node/index.js');
    const d6 = mkdtempSync(path.join(tmpdir(), 'rein-dash-n-'));
    const log6 = path.join(d6, 'decisions.jsonl');
    await writeFixtureLog(log6, 5, { start: START, end: START + 60_000 });
    const a6 = Fastify();
    await a6.register(node.dashboardPlugin({ log: log6, users: { alice: node.hashPassword('pw') } }));
    try {
      const page = await a6.inject({ url: '/dashboard' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<html/i);
      assert.match(node.hashPassword('x'), /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
      const login = await a6.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user: 'alice', password: 'pw' } });
      assert.ok(login.statusCode < 400, `login with a hashed password: ${login.statusCode} ${login.body}`);
    } finally {
      await a6.close();
      rmSync(d6, { recursive: true, force: true });
    }
  });

  it('a tampered record shows as a broken chain, verified up to the record before it', async () => {
    const d2 = mkdtempSync(path.join(tmpdir(), 'rein-dash-t-'));
    const log2 = path.join(d2, 'decisions.jsonl');
    await writeFixtureLog(log2, 50, { start: START, end: START + 60_000 });
    const lines = readFileSync(log2, 'utf8').split('\n');
    lines[20] = lines[20]!.replace('"effect":"deny"', '"effect":"allow"').replace('"effect":"allow"', '"effect":"deny"');
    writeFileSync(log2, lines.join('\n'));
    const a2 = Fastify();
    await a2.register(dashboardPlugin({ log: log2 }));
    try {
      const s = JSON.parse((await a2.inject({ url: '/dashboard/api/summary' })).body);
      assert.equal(s.chains[0].ok, false);
      assert.equal(s.chains[0].head.seq, 19);
      assert.equal(s.chains[0].problem.seq, 20);
      // without logins every write is refused
      const w = await a2.inject({ method: 'POST', url: '/dashboard/api/approvals/ap_unknown0000000/approve', payload: {} });
      assert.equal(w.statusCode, 401);
    } finally {
      await a2.close();
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it('live: a new decision reaches an SSE client within a second', async () => {
    const d3 = mkdtempSync(path.join(tmpdir(), 'rein-dash-l-'));
    const log3 = path.join(d3, 'decisions.jsonl');
    await writeFixtureLog(log3, 10, { start: START, end: START + 60_000 });
    const a3 = Fastify();
    await a3.register(dashboardPlugin({ log: log3, pollMs: 100 }));
    await a3.listen({ host: '127.0.0.1', port: 0 });
    const port = (a3.server.address() as { port: number }).port;
    const ac = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/dashboard/api/events`, { signal: ac.signal });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = res.body!.getReader();
      await reader.read(); // the comment line
      const t0 = Date.now();
      await appendDecision(log3, { agent: { id: 'live', team: 'ops' }, action: { tool: 'db.drop', model: 'small', amount: 0 }, cost: { estimate: '0.01' } }, START + 120_000);
      let text = '';
      const deadline = Date.now() + 3000;
      while (!text.includes('event: decisions') && Date.now() < deadline) {
        const { value, done } = await Promise.race([reader.read(), new Promise<{ value: undefined; done: true }>((r) => setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now()))]);
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const took = Date.now() - t0;
      assert.match(text, /event: decisions\ndata: .*"effect":"deny"/);
      assert.match(text, /"agent":"live"/);
      assert.ok(took < 1000, `took ${took} ms`);
    } finally {
      ac.abort();
      await a3.close();
      rmSync(d3, { recursive: true, force: true });
    }
  });

  it('a large log: the server serves while the first read continues (`loading`), then has every record', async () => {
    const a5 = Fastify();
    const t0 = Date.now();
    await a5.register(dashboardPlugin({ log, initialReadMs: 0, pollMs: 50 }));
    await a5.ready();
    try {
      let s = JSON.parse((await a5.inject({ url: '/dashboard/api/summary' })).body);
      assert.ok(Date.now() - t0 < 2000);
      const deadline = Date.now() + 20_000;
      while (s.loading && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        s = JSON.parse((await a5.inject({ url: '/dashboard/api/summary' })).body);
      }
      assert.equal(s.loading, false);
      assert.equal(s.totals.n, readFileSync(log, 'utf8').trim().split('\n').length);
    } finally {
      await a5.close();
    }
  });

  it('follows a rotated log without counting a record twice', async () => {
    const d4 = mkdtempSync(path.join(tmpdir(), 'rein-dash-r-'));
    const log4 = path.join(d4, 'decisions.jsonl');
    await writeFixtureLog(log4, 300, { start: START, end: START + 60_000, maxBytes: 100_000 });
    const a4 = Fastify();
    await a4.register(dashboardPlugin({ log: log4, pollMs: 50 }));
    try {
      let s = JSON.parse((await a4.inject({ url: '/dashboard/api/summary' })).body);
      assert.equal(s.totals.n, 300);
      assert.ok(s.chains[0].files.length > 1, 'rotated');
      assert.equal(s.chains[0].ok, true);
      appendFileSync(log4, ''); // nothing new
      await appendDecision(log4, { agent: { id: 'x', team: 'ops' }, action: { tool: 'search', model: 'small', amount: 0 }, cost: { estimate: '0.01' } }, START + 120_000);
      const deadline = Date.now() + 3000;
      while (s.totals.n < 301 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 60));
        s = JSON.parse((await a4.inject({ url: '/dashboard/api/summary' })).body);
      }
      assert.equal(s.totals.n, 301);
      assert.equal(s.chains[0].ok, true);
    } finally {
      await a4.close();
      rmSync(d4, { recursive: true, force: true });
    }
  });
});
