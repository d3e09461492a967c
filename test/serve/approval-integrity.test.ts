// What a person approves is what runs (review h12r1 P13–P16): a decision copy without its
// `request_hash` is refused by the queue, a malformed record is bad input (4xx, never 500).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
import { ApprovalQueue, FileApprovalStore, verifyRecord } from '../../language/node/approvals/queue.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { generateApprovalKeyPair, verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { FIXTURE_POLICY } from './dashboard-fixture.js';
import { AuditLogger } from '../../language/audit/logger.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { logVerdict } from '../../language/node/approvals/audit.js';
import { pageRecord } from '../../language/node/serve/dashboard/plugin.js';
import { runMain } from '../cli/helpers.js';

describe('approval integrity (review h12r1)', function () {
  this.timeout(60_000);
  let dir: string;
  let app: FastifyInstance;
  let queue: ApprovalQueue;
  const key: ApprovalSigningKey = { alg: 'Ed25519', privateKey: generateApprovalKeyPair().privateKey };
  const policy = compile({ 'p.rein': FIXTURE_POLICY });
  const engine = new Engine(policy, { approvalKeys: [verificationKeyOf(key)] });
  const transfer = (amount: number) => ({ agent: { id: 'a1', team: 'support' }, action: { tool: 'payments.transfer', model: 'small', amount }, cost: { estimate: '0.01' } });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-integrity-'));
    writeFileSync(path.join(dir, 'decisions.jsonl'), '');
    queue = new ApprovalQueue({ store: new FileApprovalStore(path.join(dir, 'approvals')), groups: { finance: ['alice'] }, signingKey: key });
    app = Fastify();
    await app.register(dashboardPlugin({ log: path.join(dir, 'decisions.jsonl'), queue, users: { alice: 'alice-pw' }, pollMs: 50 }));
    await app.ready();
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function login(user: string, password: string): Promise<{ cookie: string; csrf: string }> {
    const r = await app.inject({ method: 'POST', url: '/dashboard/api/login', payload: { user, password }, remoteAddress: '10.0.0.9' });
    assert.equal(r.statusCode, 200, r.body);
    return { cookie: String(r.headers['set-cookie']).split(';')[0]!, csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
  }

  it('P13: the queue refuses a copy of a decision without `request_hash`, naming the cause', async () => {
    const d = await engine.decide(transfer(2000));
    assert.equal(d.effect, 'require_approval');
    for (const copy of [{ ...d }, structuredClone(d), Object.assign({}, d)]) {
      await assert.rejects(() => queue.request(copy as typeof d, { x: 1 }), (e: Error) => e instanceof TypeError && /request_hash/.test(e.message) && /not a copy/.test(e.message));
    }
    assert.deepEqual(await queue.list('all'), []);
    // the decision itself (and a JSON round trip, which keeps the field) is queued
    assert.equal((await queue.request(d, { x: 1 })).length, 1);
    assert.equal((await queue.request(JSON.parse(JSON.stringify(d)), { x: 1 })).length, 1);
  });

  it('P13: a stored record without `request_hash` is bad input in the inbox (400), never a 500', async () => {
    const d = await engine.decide(transfer(3000));
    const [rec] = await queue.request(d, { x: 2 });
    const file = path.join(dir, 'approvals', `${rec!.id}.json`);
    const body = JSON.parse(readFileSync(file, 'utf8'));
    delete body.request_hash;
    writeFileSync(file, JSON.stringify(body));
    const alice = await login('alice', 'alice-pw');
    const list = await app.inject({ url: '/dashboard/api/approvals', headers: { cookie: alice.cookie } });
    assert.equal(list.statusCode, 200);
    const r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec!.id}/approve`, payload: {}, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf } });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(JSON.parse(r.body).error.message, /malformed/);
    assert.equal((await queue.get(rec!.id))!.status, 'pending');
  });

  describe('P15: verdict events count only from the chains that write verdicts', () => {
    let logs: string;
    let app2: FastifyInstance;

    /** A verdict event `approved by alice` on `hash`, written by whoever writes `file`. */
    async function verdictIn(file: string, hash: string, reason: string): Promise<void> {
      const sink = new FileAuditLog(file);
      const log = new AuditLogger(sink);
      logVerdict(log, {
        id: 'ap_0000000000fake', kind: 'rule', rule: 'large_transfer', from: 'finance', message: null, request_hash: hash,
        policy: { name: 'p', version: null, hash: 'sha256:' + '0'.repeat(64) }, summary: null, created: new Date().toISOString(), expires: new Date(Date.now() + 60_000).toISOString(),
        status: 'approved', verdict: { approved: true, by: 'alice', group: 'finance', reason, at: new Date().toISOString(), token: null },
      });
      await log.close();
      await sink.close();
    }

    before(async () => {
      logs = path.join(dir, 'logs');
      const hash = 'sha256:' + 'e'.repeat(64);
      await verdictIn(path.join(logs, 'agent.jsonl'), hash, 'ok, verified by phone');
      await verdictIn(path.join(logs, 'control-room.jsonl'), hash, 'real one');
      // named like the terminal's verdict log, but not the one this server was told about
      await verdictIn(path.join(logs, 'verdicts.jsonl'), hash, 'look-alike');
      app2 = Fastify();
      await app2.register(dashboardPlugin({ log: logs, pollMs: 50, verdictFiles: [path.join(logs, 'control-room.jsonl')] }));
      await app2.ready();
    });
    after(async () => app2?.close());

    it('the summary counts the control room\'s verdict only; the others are claimed, listed on the request', async () => {
      const sum = JSON.parse((await app2.inject({ url: '/dashboard/api/summary' })).body);
      assert.equal(sum.verdicts.approved, 1);
      assert.equal(sum.verdicts.claimed, 2);
      assert.deepEqual(sum.verdicts.recent.map((v: { reason: string }) => v.reason), ['real one']);
      const rec = JSON.parse((await app2.inject({ url: '/dashboard/api/records/agent.jsonl/0' })).body);
      const byReason = Object.fromEntries(rec.verdicts.map((v: { reason: string; claimed?: boolean; chain: string }) => [v.reason, [v.claimed ?? false, v.chain]]));
      assert.deepEqual(byReason, { 'ok, verified by phone': [true, 'agent.jsonl'], 'real one': [false, 'control-room.jsonl'], 'look-alike': [true, 'verdicts.jsonl'] });
      assert.match(rec.explanation[0], /^Claimed by chain agent\.jsonl, not verified/);
      const real = JSON.parse((await app2.inject({ url: '/dashboard/api/records/control-room.jsonl/0' })).body);
      assert.match(real.explanation[0], /^Approved by alice/);
    });

    it('without a list, the default names count (control-room.jsonl, verdicts.jsonl), an agent\'s log does not', async () => {
      const app3 = Fastify();
      try {
        await app3.register(dashboardPlugin({ log: logs, pollMs: 50 }));
        await app3.ready();
        const sum = JSON.parse((await app3.inject({ url: '/dashboard/api/summary' })).body);
        assert.equal(sum.verdicts.approved, 2);
        assert.equal(sum.verdicts.claimed, 1);
        assert.ok(!sum.verdicts.recent.some((v: { chain: string }) => v.chain === 'agent.jsonl'));
      } finally {
        await app3.close();
      }
    });
  });

  describe('P14: the inbox shows the request the token approves, or says it cannot', () => {
    it('a request passed with the policy is stored as the engine hashed it, and verifies', async () => {
      const req = transfer(5000);
      const d = await engine.decide(req);
      const [rec] = await queue.request(d, { anything: 'the writer says' }, { request: req, policy });
      assert.equal(verifyRecord(rec!), 'verified');
      assert.equal((rec!.request as { cost: { estimate: number } }).cost.estimate, 10_000, 'money as the engine hashed it (micros)');
      const stored = await queue.get(rec!.id);
      assert.equal(verifyRecord(stored!), 'verified');
      assert.equal(pageRecord(stored!).verified, 'verified');
    });

    it('the phish: a request that is not the decided one is not stored as verified; a forged record is never approved (409)', async () => {
      const evil = transfer(5000);
      const shown = transfer(1500);
      const d = await engine.decide(evil);
      // the writer passes another request than it decided: it does not hash to request_hash, not stored
      const [rec] = await queue.request(d, { transfer: 1500 }, { request: shown, policy });
      assert.equal(rec!.request, undefined);
      assert.equal(verifyRecord(rec!), 'missing');
      // a writer forging the record itself: `request` shown, request_hash of another request
      const file = path.join(dir, 'approvals', `${rec!.id}.json`);
      const body = JSON.parse(readFileSync(file, 'utf8'));
      body.request = { ...shown, cost: { estimate: 10_000 } };
      writeFileSync(file, JSON.stringify(body));
      const alice = await login('alice', 'alice-pw');
      const list = JSON.parse((await app.inject({ url: '/dashboard/api/approvals', headers: { cookie: alice.cookie } })).body);
      assert.equal(list.approvals.find((a: { id: string }) => a.id === rec!.id).verified, 'mismatch');
      const r = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec!.id}/approve`, payload: {}, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf } });
      assert.equal(r.statusCode, 409, r.body);
      assert.equal(JSON.parse(r.body).error.code, 'unverified_request');
      assert.match(JSON.parse(r.body).error.message, /does not match its request_hash/);
      // rein approvals: shown as unverified, approve refused (exit 2), deny still possible
      writeFileSync(path.join(dir, 'approvers.json'), JSON.stringify({ groups: { finance: ['alice'] } }));
      const env = { REIN_APPROVALS: path.join(dir, 'approvals'), REIN_APPROVERS: path.join(dir, 'approvers.json') };
      const show = await runMain(['approvals', 'show', rec!.id], { env, cwd: dir });
      assert.match(show.stdout, /UNVERIFIED: the request does not match its hash/);
      const cli = await runMain(['approvals', 'approve', rec!.id, '--as', 'alice'], { env, cwd: dir });
      assert.equal(cli.code, 2);
      assert.match(cli.stderr, /unverified/);
      assert.equal((await queue.get(rec!.id))!.status, 'pending');
      const no = await app.inject({ method: 'POST', url: `/dashboard/api/approvals/${rec!.id}/deny`, payload: {}, headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf } });
      assert.equal(no.statusCode, 200, no.body);
    });

    it('requireVerified: a record without a request is not approved either', async () => {
      const q2 = new ApprovalQueue({ store: queue.store, groups: { finance: ['alice'] }, signingKey: key, requireVerified: true });
      const d = await engine.decide(transfer(2222));
      const [rec] = await q2.request(d, { transfer: 2222 });
      const r = await q2.approve(rec!.id, 'alice');
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, 'unverified');
      const [ok] = await q2.request(d, { transfer: 2222 }, { request: transfer(2222), policy });
      assert.equal((await q2.approve(ok!.id, 'alice')).ok, true);
    });
  });
});

describe('P14: rein serve request_approval stores the request verified', function () {
  this.timeout(30_000);
  it('the queued record verifies against its request_hash', async () => {
    const { call, serve } = await import('./helpers.js');
    const { join } = path;
    const queue = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-serve-p14-'))), groups: { finance: ['alice'] } });
    const s = await serve({ approvals: queue, tokens: { api: 'api', approvals: 'approver' } });
    try {
      const input = { agent: { id: 'a1', team: 'ops' }, action: { kind: 'tool_call', tool: 'transfer', amount: '500' } };
      const d = await call(s.url, '/v1/decide', { body: { input, request_approval: true }, headers: { authorization: 'Bearer api' } });
      assert.equal(d.body.effect, 'require_approval', d.text);
      const rec = await queue.get(d.body.approval_requests[0].id);
      assert.equal(verifyRecord(rec!), 'verified');
      assert.equal(rec!.request_hash, d.body.request_hash);
    } finally {
      await s.close();
    }
  });

  it('D7: GET /v1/approvals and /v1/approvals/{id}, and a verdict, carry `verified` (as rein approvals and the inbox do)', async () => {
    const { call, serve } = await import('./helpers.js');
    const { join } = path;
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-d7-'));
    const queue = new ApprovalQueue({ store: new FileApprovalStore(dir), groups: { finance: ['alice'] } });
    const s = await serve({ approvals: queue, tokens: { api: 'api', approvals: 'approver' } });
    const api = { authorization: 'Bearer api' };
    const approver = { authorization: 'Bearer approver' };
    try {
      const ask = async (amount: string) => {
        const input = { agent: { id: 'a1', team: 'ops' }, action: { kind: 'tool_call', tool: 'transfer', amount } };
        const d = await call(s.url, '/v1/decide', { body: { input, request_approval: true }, headers: api });
        return d.body.approval_requests[0].id as string;
      };
      const good = await ask('500');
      const forged = await ask('600');
      const bare = await ask('700');
      // a writer that forged one record's request, and one record with no request stored
      const file = (id: string) => join(dir, `${id}.json`);
      const f = JSON.parse(readFileSync(file(forged), 'utf8'));
      f.request = { ...f.request, action: { ...f.request.action, amount: '6000' } };
      writeFileSync(file(forged), JSON.stringify(f));
      const b = JSON.parse(readFileSync(file(bare), 'utf8'));
      delete b.request;
      writeFileSync(file(bare), JSON.stringify(b));
      const list = await call(s.url, '/v1/approvals', { headers: approver });
      assert.equal(list.status, 200, list.text);
      const byId = Object.fromEntries(list.body.approvals.map((a: { id: string; verified: string }) => [a.id, a.verified]));
      assert.deepEqual(byId, { [good]: 'verified', [forged]: 'mismatch', [bare]: 'missing' });
      for (const [id, v] of [[good, 'verified'], [forged, 'mismatch'], [bare, 'missing']]) {
        const one = await call(s.url, `/v1/approvals/${id}`, { headers: api });
        assert.equal(one.body.verified, v, one.text);
      }
      const ok = await call(s.url, `/v1/approvals/${good}/approve`, { body: { approver: 'alice' }, headers: approver });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.verified, 'verified');
      // the OpenAPI document declares it
      const doc = await call(s.url, '/openapi.json');
      assert.deepEqual(doc.body.components.schemas.ApprovalRecord.properties.verified.enum, ['verified', 'mismatch', 'missing']);
      assert.ok(doc.body.components.schemas.ApprovalRecord.required.includes('verified'));
    } finally {
      await s.close();
    }
  });
});

describe('P14: REIN_APPROVALS_REQUIRE_VERIFIED for rein approvals', function () {
  this.timeout(30_000);
  it('a record without a stored request is not approved from the terminal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-reqver-'));
    try {
      const engine = new Engine(compile({ 'p.rein': FIXTURE_POLICY }));
      const d = await engine.decide({ agent: { id: 'a1', team: 'support' }, action: { tool: 'payments.transfer', model: 'small', amount: 3000 }, cost: { estimate: '0.01' } });
      const [rec] = await new ApprovalQueue({ store: new FileApprovalStore(path.join(dir, 'q')) }).request(d, { transfer: 3000 });
      writeFileSync(path.join(dir, 'approvers.json'), JSON.stringify({ groups: { finance: ['alice'] } }));
      const env = { REIN_APPROVALS: path.join(dir, 'q'), REIN_APPROVERS: path.join(dir, 'approvers.json'), REIN_APPROVALS_REQUIRE_VERIFIED: '1' };
      const r = await runMain(['approvals', 'approve', rec!.id, '--as', 'alice'], { env, cwd: dir });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no request to check/);
      const ok = await runMain(['approvals', 'approve', rec!.id, '--as', 'alice'], { env: { ...env, REIN_APPROVALS_REQUIRE_VERIFIED: '' }, cwd: dir });
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
