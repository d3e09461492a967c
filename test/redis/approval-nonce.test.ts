// Single-use approval tokens against a real redis-server: the nonce is consumed once (SET NX PX),
// the same answers as the memory store, and across two engines sharing the store.
import { strict as assert } from 'node:assert';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { generateApprovalKeyPair, signApproval, verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { requireRedis, startRedis, type RedisProcess } from './redis-server.js';
import { RedisApprovalStore } from '../../language/node/approvals/redis-queue.js';
import { ApprovalQueue } from '../../language/node/approvals/queue.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RedisStreamSource } from '../../language/node/serve/dashboard/redis-stream.js';
import { DashboardModel } from '../../language/node/serve/dashboard/model.js';
import { runMain } from '../cli/helpers.js';

describe('single-use approval tokens in Redis (real redis-server)', function () {
  this.timeout(30_000);
  let redis: RedisProcess;
  let store: RedisBudgetStore;

  before(async function () {
    requireRedis(this);
    redis = await startRedis();
    store = new RedisBudgetStore({ url: redis.url, prefix: 'nonce-test:' });
    await store.ready();
  });
  after(async () => {
    await store?.close();
    await redis?.destroy();
  });

  it('the approval queue in Redis: request, list, first verdict wins, wait across two queues', async () => {
    const src = `policy p { default allow }\ninput { tool: string }\nrule t { when tool == "x" require approval from "ops" "needs ops" }\n`;
    const policy = compile({ 'p.rein': src });
    const key: ApprovalSigningKey = { alg: 'HS256', secret: 's'.repeat(32) };
    const engine = new Engine(policy, { store, approvalKeys: [verificationKeyOf(key)] });
    const a = new RedisApprovalStore({ url: redis.url, prefix: 'q-test:' });
    const b = new RedisApprovalStore({ url: redis.url, prefix: 'q-test:' });
    try {
      const gateway = new ApprovalQueue({ store: a, signingKey: key });
      const inbox = new ApprovalQueue({ store: b, groups: { ops: ['ann', 'bo'] }, signingKey: key });
      const d = await engine.decide({ tool: 'x' });
      const [rec] = await gateway.request(d, { tool: 'x' });
      const listed = await inbox.list();
      assert.deepEqual(listed.map((r) => [r.id, r.rule, r.from, r.status]), [[rec!.id, 't', 'ops', 'pending']]);
      const w = gateway.wait([rec!.id], { timeoutMs: 5000, pollMs: 20 });
      const [r1, r2] = await Promise.all([inbox.approve(rec!.id, 'ann'), inbox.deny(rec!.id, 'bo')]);
      assert.equal([r1, r2].filter((r) => r.ok).length, 1, 'exactly one verdict wins');
      const got = await w;
      assert.equal(got.status, r1.ok ? 'approved' : 'denied');
      if (r1.ok) assert.equal((await engine.decide({ tool: 'x' }, { approvals: got.approvals })).effect, 'allow');
      assert.equal((await inbox.approve('ap_unknown0000000', 'ann')).ok, false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('`rein approvals deny --redis` writes the verdict event to the fleet\'s audit stream, which `rein serve --redis` reads', async () => {
    const src = `policy p { default allow }\ninput { tool: string }\nrule t { when tool == "x" require approval from "ops" "needs ops" }\n`;
    const engine = new Engine(compile({ 'p.rein': src }), { store });
    const q = new RedisApprovalStore({ url: redis.url });
    const source = new RedisStreamSource({ url: redis.url });
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-approvals-redis-'));
    try {
      const d = await engine.decide({ tool: 'x' });
      const [rec] = await new ApprovalQueue({ store: q }).request(d, { tool: 'x' });
      writeFileSync(path.join(dir, 'approvers.json'), JSON.stringify({ groups: { ops: ['ann'] } }));
      const r = await runMain(['approvals', 'deny', rec!.id, '--as', 'ann', '--reason', 'not now', '--redis', redis.url, '--approvers', path.join(dir, 'approvers.json')], { env: {}, cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /logged to the audit stream on redis:\/\/.* \(chain approvals-/);
      const model = new DashboardModel();
      source.attach(model);
      await source.catchUp();
      assert.equal(model.verdictCounts.denied, 1);
      const [v] = model.verdicts;
      assert.deepEqual([v!.approval_id, v!.verdict, v!.approver, v!.group, v!.reason, v!.request_hash], [rec!.id, 'denied', 'ann', 'ops', 'not now', d.request_hash]);
      const chain = source.chains().find((c) => c.chain.startsWith('approvals-'))!;
      assert.deepEqual([chain.ok, chain.records], [true, 1]);
    } finally {
      await source.stop();
      await q.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('consumeOnce answers like the memory store', async () => {
    const now = Date.now();
    const mem = new MemoryBudgetStore();
    const got = [await store.consumeOnce('k1', now + 60_000, now), await store.consumeOnce('k1', now + 60_000, now), await store.consumeOnce('k2', now + 60_000, now)];
    const want = [await mem.consumeOnce('k1', now + 60_000, now), await mem.consumeOnce('k1', now + 60_000, now), await mem.consumeOnce('k2', now + 60_000, now)];
    assert.deepEqual(got, want);
    assert.deepEqual(got, [true, false, true]);
  });

  it('a token replayed on a second engine sharing the store is ignored', async () => {
    const src = `policy p { default allow }\ninput { tool: string }\nrule t { when tool == "x" require approval from "ops" "needs ops" }\n`;
    const policy = compile({ 'p.rein': src });
    const key: ApprovalSigningKey = { alg: 'Ed25519', privateKey: generateApprovalKeyPair().privateKey };
    const a = new Engine(policy, { store, approvalKeys: [verificationKeyOf(key)] });
    const b = new Engine(policy, { store, approvalKeys: [verificationKeyOf(key)] });
    const d0 = await a.decide({ tool: 'x' });
    const now = Date.now();
    const token = signApproval(
      { request_hash: d0.request_hash!, rule: 't', approver: 'ann', group: 'ops', policy_hash: policy.compiled.hash, iat: now, exp: now + 60_000, nonce: 'once' },
      key,
    );
    assert.equal((await a.decide({ tool: 'x' }, { approvals: [token] })).effect, 'allow');
    const replay = await b.decide({ tool: 'x' }, { approvals: [token] });
    assert.equal(replay.effect, 'require_approval');
    assert.match(replay.errors[0]!.message, /already used/);
  });

  it('a token is not spent by a decision that does not allow; two engines racing with it: exactly one allow', async () => {
    // regression (session 11, R11): a single-use token was consumed by any decision it was presented in.
    const src = `policy p { default allow }\ninput { tool: string, n: number }\nrule t { when tool == "x" require approval from "ops" "needs ops" }\nrule early { when hour(now) < 11 deny "closed" }\n`;
    const policy = compile({ 'p.rein': src });
    const key: ApprovalSigningKey = { alg: 'HS256', secret: 's'.repeat(32) };
    let now = Date.parse('2026-11-24T10:00:00Z');
    const clock = () => new Date(now);
    const a = new Engine(policy, { store, clock, approvalKeys: [verificationKeyOf(key)] });
    const b = new Engine(policy, { store, clock, approvalKeys: [verificationKeyOf(key)] });
    for (const n of [1, 2]) {
      const req = { tool: 'x', n };
      const h = (await a.decide(req)).request_hash!;
      const token = signApproval({ request_hash: h, rule: 't', approver: 'ann', group: 'ops', policy_hash: policy.compiled.hash, iat: now, exp: now + 3 * 3_600_000, nonce: `spent-once-${n}-${Date.now()}` }, key);
      if (n === 1) {
        const denied = await a.decide(req, { approvals: [token] });
        assert.equal(denied.effect, 'deny');
        now += 3_600_000; // 11:00: `early` no longer denies
        assert.equal((await b.decide(req, { approvals: [token] })).effect, 'allow', 'not spent by the denied decision');
        assert.match((await a.decide(req, { approvals: [token] })).errors[0]!.message, /already used/);
      } else {
        const race = await Promise.all([a.decide(req, { approvals: [token] }), b.decide(req, { approvals: [token] })]);
        assert.deepEqual(race.map((d) => d.effect).sort(), ['allow', 'require_approval']);
      }
    }
  });
});
