// `require approval from "finance" quorum 2 expires 15m` through the control room's HTTP approve path:
// the first approver's vote leaves the record pending (listing the vote), a second vote by the same
// approver is refused, a second distinct approver completes the verdict with both signed tokens, and
// the engine grants the request only with both. Votes older than `expires` do not count in the queue.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { ApprovalQueue, FileApprovalStore, type ApprovalStore } from '../../language/node/approvals/queue.js';
import { call, serve, type Served } from './helpers.js';

const POLICY = `policy quorum_payments { default allow }
input { tool: string, amount: number }
rule large_transfer {
  when tool == "transfer" and amount > 1000
  require approval from "finance" quorum 2 expires 15m "two of finance sign off"
}
`;
const signer: ApprovalSigningKey = { alg: 'HS256', secret: 'a-test-secret-that-is-at-least-32-bytes-long' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('rein serve --api: approvals with a quorum', function () {
  this.timeout(30_000);
  let s: Served;
  let queue: ApprovalQueue;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-quorum-'));
    mkdirSync(join(dir, 'policy'));
    writeFileSync(join(dir, 'policy', 'policy.rein'), POLICY);
    queue = new ApprovalQueue({ store: new FileApprovalStore(join(dir, 'queue')), groups: { finance: ['alice', 'bob'], support: ['carol'] }, signingKey: signer });
    s = await serve({ policy: join(dir, 'policy'), approvals: queue, approvalKeys: [verificationKeyOf(signer)], tokens: { api: 'api', approvals: 'approver' } });
  });
  after(async () => {
    await s?.close();
  });

  it('two distinct approvers of the group complete the verdict; both tokens together allow the request', async () => {
    const input = { tool: 'transfer', amount: 5000 };
    const d = await call(s.url, '/v1/decide', { body: { input, request_approval: true }, headers: bearer('api') });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.effect, 'require_approval');
    assert.equal(d.body.approvals[0].quorum, 2);
    assert.equal(d.body.approvals[0].expires_ms, 15 * 60_000);
    const id = d.body.approval_requests[0].id;

    const first = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('approver') });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.status, 'pending', 'one of two: still pending');
    assert.equal(first.body.quorum, 2);
    assert.deepEqual(first.body.votes.map((v: { by: string }) => v.by), ['alice']);
    const firstToken = first.body.votes[0].token;
    assert.match(firstToken, /^rein1\./);
    // One token alone is not enough, and (regression, session 11's R11) presenting it does not spend
    // it: a single-use token is consumed only by a decision it lets through.
    const early = await call(s.url, '/v1/decide', { body: { input, approvals: [firstToken] }, headers: bearer('api') });
    assert.equal(early.body.effect, 'require_approval', early.text);
    assert.equal(early.text.includes('already used'), false, early.text);
    // (session 9 review) The agent's poll lists who voted, not their tokens.
    const polled = await call(s.url, `/v1/approvals/${id}`, { headers: bearer('api') });
    assert.equal(polled.body.status, 'pending');
    assert.deepEqual(polled.body.votes.map((v: { by: string }) => v.by), ['alice']);
    assert.equal(polled.text.includes('rein1.'), false, 'no token in a pending record the agent reads');
    const again = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('approver') });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /alice already approved/);
    const outsider = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'carol' }, headers: bearer('approver') });
    assert.equal(outsider.status, 403);

    const second = await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'bob', reason: 'checked' }, headers: bearer('approver') });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.status, 'approved');
    assert.deepEqual(second.body.verdict.votes.map((v: { by: string }) => v.by), ['alice', 'bob']);
    const tokens = second.body.verdict.votes.map((v: { token: string }) => v.token);

    // Two agents presenting the same tokens at once: exactly one is allowed, the other is told the
    // tokens were used.
    const race = await Promise.all([0, 1].map(() => call(s.url, '/v1/decide', { body: { input, approvals: tokens }, headers: bearer('api') })));
    assert.deepEqual(race.map((r) => r.body.effect).sort(), ['allow', 'require_approval'], race.map((r) => r.text).join('\n'));
    const allowed = race.find((r) => r.body.effect === 'allow')!;
    assert.match(race.find((r) => r.body.effect !== 'allow')!.text, /already used/);
    const reason = allowed.body.reasons.find((r: { name: string }) => r.name === 'large_transfer');
    assert.deepEqual(reason.approvers, [{ approver: 'alice', group: 'finance' }, { approver: 'bob', group: 'finance' }]);
    // The queue's wait hands back every vote's token.
    const w = await queue.wait([id], { timeoutMs: 1000 });
    assert.equal(w.status, 'approved');
    assert.equal(w.approvals.length, 2);
  });

  it('a denial by one approver decides the record', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: { tool: 'transfer', amount: 7000 }, request_approval: true }, headers: bearer('api') });
    const id = d.body.approval_requests[0].id;
    assert.equal((await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'alice' }, headers: bearer('approver') })).body.status, 'pending');
    const no = await call(s.url, `/v1/approvals/${id}/deny`, { body: { approver: 'bob', reason: 'no' }, headers: bearer('approver') });
    assert.equal(no.status, 200);
    assert.equal(no.body.status, 'denied');
    assert.equal((await call(s.url, `/v1/approvals/${id}/approve`, { body: { approver: 'bob' }, headers: bearer('approver') })).status, 409);
  });
});

describe('ApprovalQueue: quorum votes and `expires`', () => {
  const decision = (quorum: number, expires_ms?: number) =>
    ({
      effect: 'require_approval',
      request_hash: 'sha256:abc',
      policy: { name: 'p', version: null, hash: 'sha256:p' },
      approvals: [{ kind: 'rule', name: 'r', from: null, message: null, quorum, ...(expires_ms ? { expires_ms } : {}) }],
    }) as never;

  it('a vote older than `expires` no longer counts toward the quorum', async () => {
    let now = Date.parse('2026-11-24T10:00:00Z');
    const q = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-quorum-q-'))), clock: () => now, ttlMs: 60 * 60_000 });
    const [rec] = await q.request(decision(2, 10 * 60_000), {});
    assert.equal((await q.approve(rec!.id, 'alice')).ok, true);
    now += 11 * 60_000;
    const r = await q.approve(rec!.id, 'bob');
    assert.ok(r.ok);
    assert.equal(r.record.status, 'pending', 'alice’s vote expired: one live vote of two');
    assert.equal((await q.approve(rec!.id, 'carol')).ok && (await q.get(rec!.id))!.status, 'approved');
    const v = (await q.get(rec!.id))!.verdict!;
    assert.deepEqual(v.votes!.map((x) => x.by), ['bob', 'carol']);
    // Trusted grants (no signing key) name each approver and the time of the vote.
    const w = await q.wait([rec!.id], { timeoutMs: 500 });
    assert.deepEqual(
      w.approvals.map((a) => (typeof a === 'string' ? a : a.approver)),
      ['bob', 'carol'],
    );
  });

  it('a store without votes refuses a quorum approval instead of granting it', async () => {
    const inner = new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-quorum-nv-')));
    const store: ApprovalStore = { create: (r) => inner.create(r), get: (id) => inner.get(id), list: () => inner.list(), decide: (id, v) => inner.decide(id, v) };
    const q = new ApprovalQueue({ store });
    const [rec] = await q.request(decision(2), {});
    const r = await q.approve(rec!.id, 'alice');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'invalid');
    assert.equal((await q.get(rec!.id))!.status, 'pending');
  });

  it('two approvers voting at once both count (appends never lose a vote)', async () => {
    const q = new ApprovalQueue({ store: new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-quorum-race-'))) });
    const [rec] = await q.request(decision(3), {});
    await Promise.all(['a', 'b'].map((u) => q.approve(rec!.id, u)));
    const mid = (await q.get(rec!.id))!;
    assert.equal(mid.status, 'pending');
    assert.deepEqual(mid.votes!.map((v) => v.by).sort(), ['a', 'b']);
    await q.approve(rec!.id, 'c');
    assert.equal((await q.get(rec!.id))!.status, 'approved');
  });

  for (const kind of ['directory', 'redis'] as const) {
    it(`one approver voting six times at once: one vote counts and one answer says so; the others are refused (${kind}; review h13r1 S11)`, async function () {
      let store: ApprovalStore;
      let stop = async () => undefined as void;
      if (kind === 'redis') {
        const { requireRedis, startRedis } = await import('../redis/redis-server.js');
        requireRedis(this);
        const redis = await startRedis();
        const { RedisApprovalStore } = await import('../../language/node/approvals/redis-queue.js');
        const rs = new RedisApprovalStore({ url: redis.url, prefix: 'quorum-dup:' });
        store = rs;
        stop = async () => {
          await rs.close();
          await redis.destroy();
        };
      } else store = new FileApprovalStore(mkdtempSync(join(tmpdir(), 'rein-quorum-dup-')));
      try {
        // two queue objects: two replicas on one store
        const q1 = new ApprovalQueue({ store });
        const q2 = new ApprovalQueue({ store });
        const [rec] = await q1.request(decision(3), {});
        const outs = await Promise.all([q1, q2, q1, q2, q1, q2].map((q) => q.approve(rec!.id, 'alice')));
        assert.equal(outs.filter((o) => o.ok).length, 1, JSON.stringify(outs.map((o) => (o.ok ? 'ok' : o.code))));
        for (const o of outs) if (!o.ok) assert.equal(o.code, 'decided');
        const mid = (await q1.get(rec!.id))!;
        assert.equal(mid.status, 'pending');
        assert.deepEqual([...new Set(mid.votes!.map((v) => v.by))], ['alice']);
        assert.equal((await q2.approve(rec!.id, 'bob')).ok, true);
        assert.equal((await q1.approve(rec!.id, 'carol')).ok, true);
        assert.equal((await q1.get(rec!.id))!.status, 'approved');
      } finally {
        await stop();
      }
    });
  }
});

describe('the dashboard inbox and quorum votes', () => {
  it('shows votes without their tokens (bearer credentials never reach the page)', async () => {
    const { pageRecord } = await import('../../language/node/serve/dashboard/plugin.js');
    const vote = (by: string) => ({ approved: true, by, group: 'finance', reason: null, at: '2026-11-24T10:00:00.000Z', token: `rein1.secret-${by}` });
    const rec = {
      id: 'ap_0000000000000001', kind: 'rule' as const, rule: 'r', from: 'finance', message: null, request_hash: 'sha256:x',
      policy: { name: 'p', version: null, hash: 'sha256:p' }, summary: {}, created: '2026-11-24T10:00:00.000Z', expires: '2026-11-24T10:15:00.000Z',
      status: 'approved' as const, quorum: 2, votes: [vote('alice')], verdict: { ...vote('bob'), votes: [vote('alice'), vote('bob')] },
    };
    const page = pageRecord(rec);
    assert.doesNotMatch(JSON.stringify(page), /rein1\./);
    assert.deepEqual((page.votes as { by: string }[]).map((v) => v.by), ['alice']);
    assert.deepEqual((page.verdict as { votes: { by: string }[] }).votes.map((v) => v.by), ['alice', 'bob']);
  });
});
