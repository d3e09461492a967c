// Approvals are counted in one place (`countGrants`, entries.ts): the rules' and budgets' entries of
// the decision and the engine's "does this approval lift the budget's ceiling" (which tells the store
// whether exceeding it blocks the reservation) agree — same group, quorum and expiry.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { ReserveRequest } from '../../language/runtime/store.js';
import type { Approval } from '../../language/runtime/decision.js';

const SRC = `policy p { default allow }
input { tool: string, amount: number, session: string }

rule plain {
  when tool == "delete"
  require approval from "ops" "one of ops"
}

budget session_risk {
  limit 3
  charge amount
  by session
  when tool == "spend"
  on exceed require approval from "supervisor" quorum 3 "three supervisors"
}
`;
const T0 = Date.parse('2026-11-24T10:00:00Z');

/** A memory store that records what each reserve asked (an async subclass: the general path). */
class SpyStore extends MemoryBudgetStore {
  readonly asked: ReserveRequest[] = [];
  override async reserve(req: ReserveRequest) {
    this.asked.push(req);
    return super.reserve(req);
  }
}

function setup() {
  const store = new SpyStore();
  const engine = new Engine(compile({ 'p.rein': SRC }), { store, clock: () => new Date(T0) });
  return { store, engine };
}

describe('approvals: one count for rules, budgets and the store', () => {
  it('approvals from another group do not lift a budget ceiling, even when one without a group comes first', async () => {
    const { store, engine } = setup();
    const req = { tool: 'spend', amount: 5, session: 's1' };
    const hash = (await engine.decide(req)).request_hash!;
    const approvals: Approval[] = [
      { rule: 'session_risk', request_hash: hash, approver: 'u1' },
      { rule: 'session_risk', request_hash: hash, approver: 'u2', group: 'eng' },
      { rule: 'session_risk', request_hash: hash, approver: 'u3', group: 'eng' },
    ];
    store.asked.length = 0;
    const d = await engine.decide(req, { approvals });
    assert.equal(d.effect, 'require_approval');
    assert.equal(d.reservation, null);
    assert.deepEqual(d.approvals[0]!.approved_by, ['u1'], 'only u1 counts toward the quorum');
    // Before: the engine counted u2 and u3 (group ignored once the first approval had none), told the
    // store not to enforce the ceiling, reserved over the limit and released it afterwards.
    assert.equal(store.asked.length, 1);
    assert.equal(store.asked[0]!.items[0]!.enforce, true, 'the store enforces the ceiling');
    assert.deepEqual(store.inspect(T0).reservations, [], 'nothing is reserved over the limit');
  });

  it('three supervisors lift it: the store is told not to enforce, and the decision allows', async () => {
    const { store, engine } = setup();
    const req = { tool: 'spend', amount: 5, session: 's2' };
    const hash = (await engine.decide(req)).request_hash!;
    const approvals: Approval[] = ['u1', 'u2', 'u3'].map((approver) => ({ rule: 'session_risk', request_hash: hash, approver, group: 'supervisor' }));
    store.asked.length = 0;
    const d = await engine.decide(req, { approvals });
    assert.equal(d.effect, 'allow', JSON.stringify(d.errors));
    assert.equal(store.asked[0]!.items[0]!.enforce, false);
    assert.ok(d.reservation !== null);
    assert.equal(d.reasons.find((r) => r.name === 'session_risk')!.approvers!.length, 3);
  });

  it('a rule without quorum: the first approval from its group grants it, and names its approver', async () => {
    const { engine } = setup();
    const req = { tool: 'delete', amount: 0, session: 's3' };
    const hash = (await engine.decide(req)).request_hash!;
    const d = await engine.decide(req, {
      approvals: [
        { rule: 'plain', request_hash: hash, approver: 'x', group: 'eng' },
        { rule: 'plain', request_hash: 'another request', approver: 'y', group: 'ops' },
        { rule: 'plain', request_hash: hash, approver: 'z', group: 'ops' },
        { rule: 'plain', request_hash: hash, approver: 'w', group: 'ops' },
      ],
    });
    assert.equal(d.effect, 'allow');
    const r = d.reasons.find((x) => x.name === 'plain')!;
    assert.deepEqual(r.approved_by, { approver: 'z', group: 'ops' });
    assert.equal(r.approvers, undefined, 'no `approvers` list without quorum or expires');
  });
});
