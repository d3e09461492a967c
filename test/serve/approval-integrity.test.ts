// What a person approves is what runs (review h12r1 P13–P16): a decision copy without its
// `request_hash` is refused by the queue, a malformed record is bad input (4xx, never 500).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { generateApprovalKeyPair, verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { FIXTURE_POLICY } from './dashboard-fixture.js';
import { AuditLogger } from '../../language/audit/logger.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { logVerdict } from '../../language/node/approvals/audit.js';

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
});
