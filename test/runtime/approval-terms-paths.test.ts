// `quorum N` / `expires D` hold on every path a decision can take (regression, session 9 review R1/R2):
// a rule whose message is interpolated or whose `from` is not a constant was built by the generated
// (non-fused) rule code without its terms, so one approver granted a quorum-2 rule and an approval of
// any age counted under `expires`; and `policy.evaluate` counted every approval's age against time 0.
// Each case runs on both backends, through `Engine.decide` (signed tokens and trusted grants),
// `Engine.decideSync` and `policy.evaluate` with grants.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { generateApprovalKeyPair, signApproval, verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { assembleDecision, type Approval, type Decision } from '../../language/runtime/decision.js';
import { Entries } from '../../language/runtime/entries.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const MIN = 60_000;
const signer: ApprovalSigningKey = { kid: 'k1', alg: 'Ed25519', privateKey: generateApprovalKeyPair().privateKey };

const HEAD = 'input { amount: int, id: string, team: string }\n';
/** The same quorum-2, 30-minute rule with every kind of message and approver the generated code builds differently. */
const VARIANTS: Record<string, string> = {
  'literal message': 'require approval from "fin" quorum 2 expires 30m "two of fin"',
  'interpolated message': 'require approval from "fin" quorum 2 expires 30m "two of fin for ${id}"',
  'no message': 'require approval from "fin" quorum 2 expires 30m',
  'approver group from a field': 'require approval from team quorum 2 expires 30m "two"',
  'both computed': 'require approval from team quorum 2 expires 30m "two for ${amount}"',
};
const REQ = { amount: 500, id: 'r1', team: 'fin' };

function policies(clause: string) {
  const src = `${HEAD}rule big { when amount > 100 ${clause} }\n`;
  return { gen: compile({ 'p.rein': src }, { codegen: true }), clo: compile({ 'p.rein': src }, { codegen: false }) };
}

const grant = (d: Decision, approver: string, at?: number): Approval => ({ rule: 'big', request_hash: d.request_hash!, approver, group: 'fin', ...(at === undefined ? {} : { at }) });
const token = (d: Decision, approver: string, iat: number) =>
  signApproval({ request_hash: d.request_hash!, rule: 'big', approver, group: 'fin', policy_hash: d.policy.hash, iat, exp: iat + 600 * MIN }, signer);

describe('approval terms (quorum, expires) on every path (regression)', () => {
  for (const [label, clause] of Object.entries(VARIANTS)) {
    for (const backend of ['gen', 'clo'] as const) {
      describe(`${label}, ${backend === 'gen' ? 'generated code' : 'closures'}`, () => {
        it('the pending approval names quorum 2 and expires_ms', () => {
          const p = policies(clause)[backend];
          const d = p.evaluate(REQ, { now: T0 });
          assert.equal(d.effect, 'require_approval');
          assert.equal(d.approvals[0]!.quorum, 2);
          assert.equal(d.approvals[0]!.expires_ms, 30 * MIN);
        });

        it('one signed approver does not grant it through Engine.decide; two do', async () => {
          const p = policies(clause)[backend];
          const e = new Engine(p, { store: new MemoryBudgetStore(), clock: () => new Date(T0), approvalKeys: [verificationKeyOf(signer)] });
          const d = await e.decide(REQ);
          const one = await e.decide(REQ, { approvals: [{ rule: 'big', request_hash: d.request_hash!, token: token(d, 'alice', T0 - MIN) }] });
          assert.equal(one.effect, 'require_approval', JSON.stringify(one.reasons));
          const two = await e.decide(REQ, {
            approvals: [
              { rule: 'big', request_hash: d.request_hash!, token: token(d, 'alice', T0 - MIN) },
              { rule: 'big', request_hash: d.request_hash!, token: token(d, 'bob', T0 - MIN) },
            ],
          });
          assert.equal(two.effect, 'allow', JSON.stringify(two.reasons));
        });

        it('approvals older than 30 minutes do not count, through decide, decideSync and evaluate', async () => {
          const p = policies(clause)[backend];
          const e = new Engine(p, { store: new MemoryBudgetStore(), clock: () => new Date(T0) });
          const d = p.evaluate(REQ, { now: T0 });
          const old = [grant(d, 'alice', T0 - 120 * MIN), grant(d, 'bob', T0 - 120 * MIN)];
          const fresh = [grant(d, 'alice', T0 - 5 * MIN), grant(d, 'bob', T0 - 5 * MIN)];
          assert.equal((await e.decide(REQ, { approvals: old })).effect, 'require_approval');
          assert.equal(e.decideSync(REQ, { approvals: old }).effect, 'require_approval');
          assert.equal(p.evaluate(REQ, { approvals: old, now: T0 }).effect, 'require_approval');
          assert.equal(p.evaluate(REQ, { approvals: fresh, now: T0 }).effect, 'allow');
          assert.equal((await e.decide(REQ, { approvals: fresh })).effect, 'allow');
          // One fresh approver is not a quorum of two on any path.
          assert.equal(p.evaluate(REQ, { approvals: fresh.slice(0, 1), now: T0 }).effect, 'require_approval');
          assert.equal(e.decideSync(REQ, { approvals: fresh.slice(0, 1) }).effect, 'require_approval');
        });
      });
    }
  }

  it('policy.evaluate without `now` measures an approval\'s age against the clock', () => {
    const { gen } = policies(VARIANTS['literal message']!);
    const d = gen.evaluate(REQ);
    const old = [grant(d, 'alice', Date.now() - 120 * MIN), grant(d, 'bob', Date.now() - 120 * MIN)];
    assert.equal(gen.evaluate(REQ, { approvals: old }).effect, 'require_approval');
  });

  it('assembleDecision measures an approval\'s age against its `time`; Entries takes the time when made', () => {
    const outcome = { name: 'big', matched: true, effect: 'require_approval' as const, monitor: false, expires_ms: 30 * MIN, annotations: {}, location: { file: 'p.rein', line: 1, column: 1 } };
    const at = (age: number) => [{ rule: 'big', request_hash: 'h1', approver: 'alice', at: T0 - age }];
    const decide = (age: number) =>
      assembleDecision({ policy: { name: 'p', hash: 'x' }, defaultEffect: 'deny', onError: 'deny', rules: [outcome], requestHash: 'h1', approvals: at(age), time: T0 }).effect;
    assert.equal(decide(29 * MIN), 'allow');
    assert.equal(decide(31 * MIN), 'require_approval');
    // The decision time is a constructor argument (it was assigned after construction, and an
    // Entries left at time 0 counted every approval as given in the future).
    assert.equal(new Entries(undefined, T0).now, T0);
    assert.equal(Entries.length, 2);
  });
});
