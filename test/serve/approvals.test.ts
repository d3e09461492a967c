// Approvals through the decision service: the queue (request_approval, GET /v1/approvals/{id},
// approve/deny), signed single-use tokens verified by the engine, approver groups, tokens' scopes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { call, serve, type Served } from './helpers.js';

const transfer = (amount: string, who = 'a1') => ({ agent: { id: who, team: 'ops' }, action: { kind: 'tool_call', tool: 'transfer', amount } });
const signer: ApprovalSigningKey = { alg: 'HS256', secret: 'a-test-secret-that-is-at-least-32-bytes-long' };

describe('rein serve --api: approvals with the queue and signed tokens', function () {
  this.timeout(30_000);
  let s: Served;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  before(async () => {
    const queue = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-serve-approvals-'))), groups: { finance: ['alice'], support: ['bob'] }, signingKey: signer });
    s = await serve({ approvals: queue, approvalKeys: [verificationKeyOf(signer)], tokens: { api: 'api', approvals: 'approver' } });
  });
  after(async () => {
    await s.close();
  });

  it('decide → queued → approved by the right group → the token allows once', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true }, headers: bearer('api') });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.effect, 'require_approval');
    assert.equal(d.body.approval_requests.length, 1);
    const { id, rule, from } = d.body.approval_requests[0];
    assert.equal(rule, 'large_transfer');
    assert.equal(from, 'finance');

    const pending = await call(s.url, `/v1/approvals/${id}`, { headers: bearer('api') });
    assert.equal(pending.body.status, 'pending');
    assert.equal(pending.body.request_hash, d.body.request_hash);
    assert.deepEqual(pending.body.summary, transfer('500'));

    // The agent cannot approve itself: a plain grant is ignored when tokens are verified.
    const self = await call(s.url, '/v1/decide', { body: { input: transfer('500'), approvals: [{ rule: 'large_transfer', request_hash: d.body.request_hash }] }, headers: bearer('api') });
    assert.equal(self.body.effect, 'require_approval');
    assert.ok(self.body.errors.some((e: { kind: string }) => e.kind === 'approval'));
    // …nor approve through the API with its api token.
    assert.equal((await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('api') })).status, 401);

    const wrongGroup = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'bob' }, headers: bearer('approver') });
    assert.equal(wrongGroup.status, 403);
    assert.equal(wrongGroup.body.error.code, 'forbidden');
    const ok = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice', reason: 'invoice checked' }, headers: bearer('approver') });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.status, 'approved');
    assert.equal(ok.body.verdict.by, 'alice');
    const again = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('approver') });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'already_decided');

    const got = await call(s.url, `/v1/approvals/${id}`, { headers: bearer('api') });
    const token = got.body.verdict.token;
    assert.match(token, /^rein1\./);
    const allowed = await call(s.url, '/v1/decide', { body: { input: transfer('500'), approvals: [token] }, headers: bearer('api') });
    assert.equal(allowed.body.effect, 'allow', JSON.stringify(allowed.body.errors));
    const replay = await call(s.url, '/v1/decide', { body: { input: transfer('500'), approvals: [token] }, headers: bearer('api') });
    assert.equal(replay.body.effect, 'require_approval', 'single use');
    const other = await call(s.url, '/v1/decide', { body: { input: transfer('900'), approvals: [{ rule: 'large_transfer', request_hash: d.body.request_hash, token }] }, headers: bearer('api') });
    assert.equal(other.body.effect, 'require_approval', 'bound to the request');
  });

  it('GET /v1/approvals/{id}?wait= holds until the verdict; a denial is reported', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: transfer('300', 'a2'), request_approval: true }, headers: bearer('api') });
    const id = d.body.approval_requests[0].id;
    const t0 = Date.now();
    const waiting = call(s.url, `/v1/approvals/${id}?wait=10`, { headers: bearer('api') });
    await new Promise((r) => setTimeout(r, 300));
    const denied = await call(s.url, `/v1/approvals/${id}/deny`, { body: { approver: 'alice', reason: 'no' }, headers: bearer('approver') });
    assert.equal(denied.status, 200);
    const r = await waiting;
    assert.equal(r.body.status, 'denied');
    assert.equal(r.body.verdict.token, null);
    assert.ok(Date.now() - t0 < 9_000, 'answered at the verdict, not at the timeout');
  });

  it('lists pending approvals with the approvals token; bad ids, waits and bodies are 4xx', async () => {
    await call(s.url, '/v1/decide', { body: { input: transfer('700', 'a3'), request_approval: true }, headers: bearer('api') });
    assert.equal((await call(s.url, '/v1/approvals', { headers: bearer('api') })).status, 401);
    const list = await call(s.url, '/v1/approvals', { headers: bearer('approver') });
    assert.equal(list.status, 200);
    assert.ok(list.body.approvals.length >= 1);
    assert.ok(list.body.approvals.every((a: { status: string }) => a.status === 'pending'));
    assert.equal((await call(s.url, '/v1/approvals?status=bogus', { headers: bearer('approver') })).status, 400);
    assert.equal((await call(s.url, '/v1/approvals/nope', { headers: bearer('api') })).status, 404);
    assert.equal((await call(s.url, `/v1/approvals/${list.body.approvals[0].id}?wait=999`, { headers: bearer('api') })).status, 400);
    const noApprover = await call(s.url, `/v1/approvals/${list.body.approvals[0].id}/approve`, { body: {}, headers: bearer('approver') });
    assert.equal(noApprover.status, 400);
    assert.equal(noApprover.body.error.issues[0].path, 'approver');
    assert.equal((await call(s.url, '/v1/approvals/zzz/approve', { body: { approver: 'alice' }, headers: bearer('approver') })).status, 404);
  });

  it('evaluate refuses approvals it cannot verify; request_approval is decide-only', async () => {
    const e = await call(s.url, '/v1/evaluate', { body: { input: transfer('500'), approvals: [{ rule: 'large_transfer', request_hash: 'sha256:x' }] }, headers: bearer('api') });
    assert.equal(e.status, 400);
    assert.match(e.body.error.message, /cannot verify/);
    assert.equal((await call(s.url, '/v1/evaluate', { body: { input: transfer('500'), request_approval: true }, headers: bearer('api') })).status, 400);
  });
});

describe('rein serve --api: without an approval queue', function () {
  it('request_approval when the queue cannot be written: 503 approval_queue_unavailable, not a 500 (review h13r1 S18)', async () => {
    const { rmSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-approvals-'));
    const logs: string[] = [];
    const s = await serve({ approvals: new ApprovalQueue({ store: new FileApprovalStore(dir), groups: { finance: ['alice'] } }), logger: (m) => logs.push(m) });
    try {
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(dir, 'not a directory'); // writes into it fail (ENOTDIR), as on a read-only or full disk
      const d = await call(s.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true } });
      assert.equal(d.status, 503, d.text);
      assert.equal(d.body.error.code, 'approval_queue_unavailable');
      assert.match(d.body.error.message, /require_approval.*approval queue cannot be written.*retry/);
      assert.match(logs.join('\n'), /request_approval: the approval queue cannot be written/);
      assert.doesNotMatch(logs.join('\n'), /internal error/);
      // a decide without it answers as always
      assert.equal((await call(s.url, '/v1/decide', { body: { input: transfer('500') } })).body.effect, 'require_approval');
    } finally {
      await s.close();
      rmSync(dir, { force: true });
    }
  });

  it('request_approval and /v1/approvals say there is no queue', async () => {
    const s = await serve();
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true } });
      assert.equal(d.status, 400);
      assert.equal(d.body.error.code, 'no_approval_queue');
      const g = await call(s.url, '/v1/approvals/x');
      assert.equal(g.status, 404);
      assert.equal(g.body.error.code, 'no_approval_queue');
    } finally {
      await s.close();
    }
  });
});

describe('rein serve --api: approvals asked under a policy version a reload replaced (review h13r1 S17)', function () {
  this.timeout(30_000);
  it('are marked policy_replaced in /v1/approvals (signed tokens are bound to the policy hash), and the token is indeed refused', async () => {
    const { copyAgent } = await import('./helpers.js');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const dir = copyAgent();
    const queue = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-serve-approvals-'))), groups: { finance: ['alice'] }, signingKey: signer });
    const s = await serve({ policy: dir, watch: false, approvals: queue, approvalKeys: [verificationKeyOf(signer)], tokens: { api: 'api', approvals: 'approver' } });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true }, headers: bearer('api') });
      const id = d.body.approval_requests[0].id;
      assert.equal((await call(s.url, `/v1/approvals/${id}`, { headers: bearer('api') })).body.policy_replaced, undefined);
      // another rule's message reworded: a new version, the same `version` string
      const file = join(dir, 'policy.rein');
      writeFileSync(file, readFileSync(file, 'utf8').replace('tool db.drop is blocked', 'tool db.drop is blocked!'));
      assert.equal((await s.ctx.policy!.reload()).changed, true);
      assert.equal((await call(s.url, `/v1/approvals/${id}`, { headers: bearer('api') })).body.policy_replaced, true);
      const list = await call(s.url, '/v1/approvals', { headers: bearer('approver') });
      assert.equal(list.body.approvals.find((a: { id: string }) => a.id === id).policy_replaced, true);
      const ok = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('approver') });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.policy_replaced, true);
      // what the mark says: the token is refused by the new version
      const again = await call(s.url, '/v1/decide', { body: { input: transfer('500'), approvals: [ok.body.verdict.token] }, headers: bearer('api') });
      assert.equal(again.body.effect, 'require_approval');
      assert.match(JSON.stringify(again.body.errors), /another policy version/);
      // a record asked under the new version is not marked
      const d2 = await call(s.url, '/v1/decide', { body: { input: transfer('600'), request_approval: true }, headers: bearer('api') });
      assert.equal((await call(s.url, `/v1/approvals/${d2.body.approval_requests[0].id}`, { headers: bearer('api') })).body.policy_replaced, undefined);
    } finally {
      await s.close();
    }
  });
});

describe('rein serve --api: the api token never approves (regression, session 9 review R8)', function () {
  this.timeout(30_000);
  // The approvals scope defaulted to the api token: the agent, which holds that token, approved its own
  // requests through /v1/approvals/{id}/approve naming any approver (twice, for a quorum of two), or put
  // trusted grants in a decide body. With an api token and no approvals token the scope is now closed.
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('with approval keys and a queue: approve/deny/list answer 403 to the api token, naming the flag', async () => {
    const queue = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-serve-r8-'))), groups: { finance: ['alice', 'carol'] }, signingKey: signer });
    const s = await serve({ approvals: queue, approvalKeys: [verificationKeyOf(signer)], tokens: { api: 'agent' } });
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true }, headers: bearer('agent') });
      assert.equal(d.body.effect, 'require_approval');
      const id = d.body.approval_requests[0].id;
      for (const verb of ['approve', 'deny']) {
        const r = await call(s.url, `/v1/approvals/${id}/${verb}`, { body: { approver: 'alice' }, headers: bearer('agent') });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.body.error.code, 'forbidden');
        assert.match(r.body.error.message, /--approvals-token-file/);
      }
      assert.equal((await call(s.url, '/v1/approvals?status=pending', { headers: bearer('agent') })).status, 403);
      // The agent can still poll its own request's status.
      const got = await call(s.url, `/v1/approvals/${id}`, { headers: bearer('agent') });
      assert.equal(got.status, 200);
      assert.equal(got.body.status, 'pending');
    } finally {
      await s.close();
    }
  });

  it('with approval keys and no token at all (the loopback default): approve/deny/list are closed, the agent cannot sign its own approval (regression, review h11r R10)', async () => {
    const queue = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-serve-r10-'))), groups: { finance: ['alice'] }, signingKey: signer });
    const s = await serve({ approvals: queue, approvalKeys: [verificationKeyOf(signer)] });
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true } });
      assert.equal(d.body.effect, 'require_approval');
      const id = d.body.approval_requests[0].id;
      for (const verb of ['approve', 'deny']) {
        const r = await call(s.url, `/v1/approvals/${id}/${verb}`, { body: { approver: 'alice' } });
        assert.equal(r.status, 403, r.text);
        assert.match(r.body.error.message, /approving over the API needs the approvals token \(--approvals-token-file or REIN_APPROVALS_TOKEN\)/);
      }
      assert.equal((await call(s.url, '/v1/approvals?status=pending')).status, 403);
      const got = await call(s.url, `/v1/approvals/${id}`);
      assert.equal(got.body.status, 'pending');
      assert.equal(got.body.token, undefined);
      // Still require_approval: nothing signed a token.
      assert.equal((await call(s.url, '/v1/decide', { body: { input: transfer('500') } })).body.effect, 'require_approval');
    } finally {
      await s.close();
    }
    // With the approvals token set (and no api token), the approver's token opens the scope.
    const q2 = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-serve-r10b-'))), groups: { finance: ['alice'] }, signingKey: signer });
    const t = await serve({ approvals: q2, approvalKeys: [verificationKeyOf(signer)], tokens: { approvals: 'human' } });
    try {
      const d = await call(t.url, '/v1/decide', { body: { input: transfer('500'), request_approval: true } });
      const id = d.body.approval_requests[0].id;
      assert.equal((await call(t.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' } })).status, 401);
      assert.equal((await call(t.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('human') })).status, 200);
    } finally {
      await t.close();
    }
  });

  it('without approval keys: trusted grants in a decide body need the approvals token, not the api token', async () => {
    const s = await serve({ tokens: { api: 'agent' } });
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: transfer('500') }, headers: bearer('agent') });
      assert.equal(d.body.effect, 'require_approval');
      const self = await call(s.url, '/v1/decide', { body: { input: transfer('500'), approvals: [{ rule: 'large_transfer', request_hash: d.body.request_hash }] }, headers: bearer('agent') });
      assert.equal(self.status, 403, self.text);
    } finally {
      await s.close();
    }
    const t = await serve({ tokens: { api: 'agent', approvals: 'human' } });
    try {
      const d = await call(t.url, '/v1/decide', { body: { input: transfer('500') }, headers: bearer('agent') });
      const ok = await call(t.url, '/v1/decide', { body: { input: transfer('500'), approvals: [{ rule: 'large_transfer', request_hash: d.body.request_hash }] }, headers: bearer('human') });
      assert.equal(ok.body.effect, 'allow', ok.text);
    } finally {
      await t.close();
    }
  });
});
