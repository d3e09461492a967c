// `rein approvals list | show | approve | deny` against a queue directory (INTERFACES §7), and the
// queue API the gateway and the dashboard use: groups, tokens the engine accepts, waiting.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { generateApprovalKeyPair, verificationKeyOf } from '../../language/runtime/approvals.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { signingKeyFromEnv } from '../../language/node/approvals/config.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { runMain } from './helpers.js';

const SRC = `
policy payments { default allow }
input { tool: string  amount: number }
rule large_transfer {
  when tool == "transfer" and amount > 1000
  require approval from "finance" "transfers over 1000 need sign-off"
}
rule any_delete {
  when tool == "delete"
  require approval "deletes need a human"
}
`;

describe('rein approvals (approval queue in a directory)', function () {
  this.timeout(30_000);
  let dir: string;
  const key = generateApprovalKeyPair();
  let env: Record<string, string>;
  const policy = compile({ 'p.rein': SRC });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-approvals-'));
    writeFileSync(path.join(dir, 'approvers.json'), JSON.stringify({ groups: { finance: ['alice', 'bob'], ops: ['carol'] } }));
    env = { REIN_APPROVALS: path.join(dir, 'queue'), REIN_APPROVERS: path.join(dir, 'approvers.json'), REIN_APPROVAL_KEY: `ed25519:${key.privateKey}` };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function queue(extra: { groups?: Record<string, string[]> } = {}) {
    return new ApprovalQueue({
      store: new FileApprovalStore(env.REIN_APPROVALS!),
      groups: extra.groups ?? { finance: ['alice', 'bob'], ops: ['carol'] },
      signingKey: signingKeyFromEnv(env)!,
    });
  }

  async function pending(req = { tool: 'transfer', amount: 5000 }) {
    const engine = new Engine(policy, { approvalKeys: [verificationKeyOf(signingKeyFromEnv(env)!)] });
    const d = await engine.decide(req);
    assert.equal(d.effect, 'require_approval');
    const [rec] = await queue().request(d, { tool: req.tool, arguments: { amount: req.amount } });
    return { engine, d, rec: rec!, req };
  }

  it('list prints pending approvals in the §7 shape (json) and as text', async () => {
    const { rec, d } = await pending();
    const r = await runMain(['approvals', 'list', '--format', 'json'], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(list.length, 1);
    for (const k of ['id', 'rule', 'from', 'message', 'request_hash', 'summary', 'created', 'expires']) assert.ok(k in list[0]!, k);
    assert.equal(list[0]!.id, rec.id);
    assert.equal(list[0]!.rule, 'large_transfer');
    assert.equal(list[0]!.from, 'finance');
    assert.equal(list[0]!.request_hash, d.request_hash);
    assert.deepEqual(list[0]!.summary, { tool: 'transfer', arguments: { amount: 5000 } });
    const t = await runMain(['approvals', 'list'], { env, cwd: dir });
    assert.match(t.stdout, new RegExp(`${rec.id}\\s+pending\\s+rule large_transfer \\(from finance\\)`));
    const s = await runMain(['approvals', 'show', rec.id], { env, cwd: dir });
    assert.equal(s.code, 0);
    assert.match(s.stdout, /request_hash: sha256:/);
  });

  it('approve by a member of the group: exit 0, a signed token the engine accepts once', async () => {
    const { rec, engine, req } = await pending();
    const r = await runMain(['approvals', 'approve', rec.id, '--as', 'alice', '--reason', 'called the customer'], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /approved by alice \(finance\)/);
    const got = await queue().get(rec.id);
    assert.equal(got!.status, 'approved');
    assert.equal(got!.verdict!.reason, 'called the customer');
    const d = await engine.decide(req, { approvals: [got!.verdict!.token!] });
    assert.equal(d.effect, 'allow');
    const replay = await engine.decide(req, { approvals: [got!.verdict!.token!] });
    assert.equal(replay.effect, 'require_approval', 'the token is single use');
    // no longer pending
    const l = await runMain(['approvals', 'list', '--format', 'json'], { env, cwd: dir });
    assert.deepEqual(JSON.parse(l.stdout), []);
    const all = await runMain(['approvals', 'list', '--all', '--format', 'json'], { env, cwd: dir });
    assert.equal((JSON.parse(all.stdout) as { status: string }[])[0]!.status, 'approved');
  });

  it('exit 2 for an unknown id, an approver outside the group, and a second verdict', async () => {
    const { rec } = await pending();
    let r = await runMain(['approvals', 'approve', 'ap_doesnotexist00', '--as', 'alice'], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no approval with id/);
    r = await runMain(['approvals', 'approve', '../../etc/passwd', '--as', 'alice'], { env, cwd: dir });
    assert.equal(r.code, 2);
    r = await runMain(['approvals', 'approve', rec.id, '--as', 'carol'], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /carol is not in the approver group `finance`/);
    assert.equal((await queue().get(rec.id))!.status, 'pending');
    r = await runMain(['approvals', 'deny', rec.id, '--as', 'bob', '--reason', 'no'], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    r = await runMain(['approvals', 'approve', rec.id, '--as', 'alice'], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already denied by bob/);
    r = await runMain(['approvals', 'show', 'ap_doesnotexist00'], { env, cwd: dir });
    assert.equal(r.code, 2);
  });

  it('approve and deny in a terminal append verdict events to a hash-chained audit log (default: beside the queue; or --audit FILE)', async () => {
    const a = await pending();
    const b = await pending({ tool: 'transfer', amount: 7000 });
    const log = path.join(env.REIN_APPROVALS!, 'verdicts.jsonl');
    let r = await runMain(['approvals', 'approve', a.rec.id, '--as', 'alice', '--reason', 'called the customer'], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /logged to .*verdicts\.jsonl/);
    r = await runMain(['approvals', 'deny', b.rec.id, '--as', 'bob', '--reason', 'not this one'], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; request_hash: string; policy: { hash: string }; event: Record<string, unknown> });
    assert.deepEqual(
      events.map((e) => [e.seq, e.request_hash, e.policy.hash, e.event.kind, e.event.verdict, e.event.approval_id, e.event.rule, e.event.required_group, e.event.approver, e.event.group, e.event.reason]),
      [
        [0, a.d.request_hash, a.d.policy.hash, 'approval_verdict', 'approved', a.rec.id, 'large_transfer', 'finance', 'alice', 'finance', 'called the customer'],
        [1, b.d.request_hash, b.d.policy.hash, 'approval_verdict', 'denied', b.rec.id, 'large_transfer', 'finance', 'bob', 'finance', 'not this one'],
      ],
    );
    // never the token (a bearer credential) in the log
    assert.doesNotMatch(readFileSync(log, 'utf8'), /rein1\./);
    r = await runMain(['audit', 'verify', log], { env, cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // a verdict that is refused (already decided) writes nothing
    r = await runMain(['approvals', 'approve', b.rec.id, '--as', 'alice'], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 2);

    // --audit FILE: that log instead
    const c = await pending({ tool: 'transfer', amount: 9000 });
    const own = path.join(dir, 'logs', 'approvals.jsonl');
    r = await runMain(['approvals', 'approve', c.rec.id, '--as', 'bob', '--audit', own], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const [ev] = readFileSync(own, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { request_hash: string; event: Record<string, unknown> });
    assert.equal(ev!.event.approver, 'bob');
    assert.equal(ev!.request_hash, c.d.request_hash);
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 2);
    r = await runMain(['approvals', 'list', '--audit', own], { env, cwd: dir });
    assert.equal(r.code, 2, '--audit is for approve and deny');
  });

  it('a verdict log held by another writer: exit 2 and the approval stays pending (never decided unlogged)', async () => {
    const { rec } = await pending();
    const held = path.join(dir, 'held.jsonl');
    const other = new FileAuditLog(held);
    try {
      const r = await runMain(['approvals', 'approve', rec.id, '--as', 'alice', '--audit', held], { env, cwd: dir });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot open the audit log for the verdict \(nothing was decided\).*already written by process/);
      assert.equal((await queue().get(rec.id))!.status, 'pending');
    } finally {
      await other.close();
    }
  });

  it('usage errors exit 2', async () => {
    for (const args of [[], ['frob'], ['approve'], ['approve', 'ap_x'], ['list', 'extra'], ['show', 'ap_x', '--as', 'a'], ['list', '--redis', 'http://x'], ['list', '--redis-prefix', 'rein:x:'], ['list', '--redis', 'redis://127.0.0.1:1', '--redis-prefix', 'a b']]) {
      const r = await runMain(['approvals', ...args], { env, cwd: dir });
      assert.equal(r.code, 2, args.join(' '));
    }
    writeFileSync(env.REIN_APPROVERS!, '{"groups": {"finance": "alice"}}');
    const r = await runMain(['approvals', 'list'], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /groups\.finance/);
  });

  it('a rule with `from` cannot be decided without approver groups; one without `from` can', async () => {
    const { rec } = await pending();
    const noGroups = { ...env, REIN_APPROVERS: '' };
    let r = await runMain(['approvals', 'approve', rec.id, '--as', 'alice'], { env: noGroups, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no approver groups are configured/);
    const del = await pending({ tool: 'delete', amount: 0 });
    r = await runMain(['approvals', 'approve', del.rec.id, '--as', 'anyone'], { env: noGroups, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  });

  it('wait: resolves on approve with the tokens, on deny, and times out (bounded)', async () => {
    const q = queue();
    const { rec, engine, req } = await pending();
    const w = q.wait([rec.id], { timeoutMs: 5000, pollMs: 20 });
    setTimeout(() => void q.approve(rec.id, 'bob'), 50);
    const r = await w;
    assert.equal(r.status, 'approved');
    assert.equal((await engine.decide(req, { approvals: r.approvals })).effect, 'allow');

    const p2 = await pending({ tool: 'transfer', amount: 7000 });
    const w2 = q.wait([p2.rec.id], { timeoutMs: 5000, pollMs: 20 });
    setTimeout(() => void q.deny(p2.rec.id, 'alice', 'nope'), 50);
    assert.equal((await w2).status, 'denied');

    const p3 = await pending({ tool: 'transfer', amount: 8000 });
    const t0 = Date.now();
    assert.equal((await q.wait([p3.rec.id], { timeoutMs: 100, pollMs: 20 })).status, 'timeout');
    assert.ok(Date.now() - t0 < 2000);
  });

  it('two approvers racing on the same directory: exactly one verdict wins', async () => {
    const { rec } = await pending();
    const results = await Promise.all([queue().approve(rec.id, 'alice'), queue().deny(rec.id, 'bob'), queue().approve(rec.id, 'bob')]);
    assert.equal(results.filter((r) => r.ok).length, 1);
    for (const r of results) if (!r.ok) assert.equal(r.code, 'decided');
  });

  it('records are removed 7 days after they expire', async () => {
    const store = new FileApprovalStore(env.REIN_APPROVALS!);
    let now = Date.now() - 8 * 24 * 3600_000;
    const q = new ApprovalQueue({ store, clock: () => now, ttlMs: 60_000 });
    const d = await new Engine(policy).decide({ tool: 'transfer', amount: 5000 });
    const [old] = await q.request(d, {});
    now = Date.now();
    const [fresh] = await q.request(d, {});
    const ids = (await store.list()).map((r) => r.id);
    assert.deepEqual(ids, [fresh!.id]);
    assert.equal(await store.get(old!.id), null);
  });

  it('an expired approval cannot be approved', async () => {
    let now = Date.parse('2026-11-24T10:00:00Z');
    const q = new ApprovalQueue({ store: new FileApprovalStore(env.REIN_APPROVALS!), groups: { finance: ['alice'] }, clock: () => now, ttlMs: 1000 });
    const engine = new Engine(policy);
    const d = await engine.decide({ tool: 'transfer', amount: 5000 });
    const [rec] = await q.request(d, {});
    now += 1000;
    const r = await q.approve(rec!.id, 'alice');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'expired');
  });
});
