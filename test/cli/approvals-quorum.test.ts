// `rein approvals approve` and `rein eval --approve` with `require approval … quorum 2 expires 15m`:
// the first approver's vote is recorded and the record stays pending; the second distinct approver
// approves it, and the votes' tokens together allow the request. `--approve RULE` is a complete
// approval (a quorum of approvers at the decision time).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { generateApprovalKeyPair, verificationKeyOf } from '../../language/runtime/approvals.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { signingKeyFromEnv } from '../../language/node/approvals/config.js';
import { runMain } from './helpers.js';

const SRC = `policy payments { default allow }
input { tool: string  amount: number }
rule large_transfer {
  when tool == "transfer" and amount > 1000
  require approval from "finance" quorum 2 expires 15m "two of finance"
}
`;

describe('rein approvals / rein eval with a quorum', function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;
  const key = generateApprovalKeyPair();
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-approvals-quorum-'));
    writeFileSync(path.join(dir, 'approvers.json'), JSON.stringify({ groups: { finance: ['alice', 'bob'] } }));
    env = { REIN_APPROVALS: path.join(dir, 'queue'), REIN_APPROVERS: path.join(dir, 'approvers.json'), REIN_APPROVAL_KEY: `ed25519:${key.privateKey}` };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the first vote stays pending, a repeat is refused, the second approver completes it', async () => {
    const policy = compile({ 'p.rein': SRC });
    const engine = new Engine(policy, { approvalKeys: [verificationKeyOf(signingKeyFromEnv(env)!)] });
    const req = { tool: 'transfer', amount: 5000 };
    const d = await engine.decide(req);
    const q = new ApprovalQueue({ store: new FileApprovalStore(env.REIN_APPROVALS!), groups: { finance: ['alice', 'bob'] }, signingKey: signingKeyFromEnv(env)! });
    const [rec] = await q.request(d, req);
    assert.equal(rec!.quorum, 2);

    const a = await runMain(['approvals', 'approve', rec!.id, '--as', 'alice'], { env, cwd: dir });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /approval by alice recorded: 1 of 2 distinct approvers; still pending/);
    const list = await runMain(['approvals', 'list'], { env, cwd: dir });
    assert.match(list.stdout, /quorum 1\/2/);
    const again = await runMain(['approvals', 'approve', rec!.id, '--as', 'alice'], { env, cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /alice already approved/);
    const b = await runMain(['approvals', 'approve', rec!.id, '--as', 'bob', '--format', 'json'], { env, cwd: dir });
    assert.equal(b.code, 0, b.stderr);
    const out = JSON.parse(b.stdout);
    assert.equal(out.status, 'approved');
    const tokens = out.verdict.votes.map((v: { token: string }) => v.token);
    assert.equal(tokens.length, 2);
    assert.equal((await engine.decide(req, { approvals: tokens })).effect, 'allow');
  });

  it('rein eval --approve grants a quorum rule completely', async () => {
    mkdirSync(path.join(dir, 'p'));
    writeFileSync(path.join(dir, 'p', 'p.rein'), SRC);
    writeFileSync(path.join(dir, 'req.json'), JSON.stringify({ tool: 'transfer', amount: 5000 }));
    const pending = await runMain(['eval', 'p', '-i', 'req.json'], { cwd: dir });
    assert.equal(pending.code, 5, pending.stderr);
    assert.equal(JSON.parse(pending.stdout).approvals[0].quorum, 2);
    const r = await runMain(['eval', 'p', '-i', 'req.json', '--approve', 'large_transfer'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).reasons[0].approvers.length, 2);
  });
});
