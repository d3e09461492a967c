// A budget that cannot be checked fails closed whatever `on error` says (regression, session 13 review
// L8). LANGUAGE §6: "Charges that are NaN, infinite or negative are errors (fail closed)", and every
// applicable budget must pass. Under `on error allow` a charge the agent made invalid (`"amount":
// "5000"` where a number is read, a negative number) let the request through a full budget, uncharged.
// Only the budget store being unreachable takes the `on error` effect (as the spec says), and so does
// an `on exceed` message failing once the counters said exceeded (the exceed effect stands).
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore } from '../../language/runtime/store.js';

const SRC = `policy budoe { default allow  on error allow }
input { user: string, args: map<any> }
budget spend { limit $10 per day  charge args.amount ?? $0  by user }
budget keyed { limit 100  charge 1  by args.team.lower()  when args.keyed == true }
budget gated { limit 100  charge 1  when args.level > 3 }
@monitor
budget watched { limit $1  charge args.watch ?? $0 }
`;

describe('a budget that cannot be checked fails closed, also under `on error allow` (regression, session 13 review L8)', () => {
  for (const codegen of [true, false]) {
    const p = compile({ 'p.rein': SRC }, { codegen });
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a charge sent as a string', { amount: '5000' }, /`charge` failed: the charge is not a number \(string\)/],
      ['a negative charge', { amount: -5 }, /charge is negative/],
      ['a charge that is not a whole number of micros', { amount: 0.0000004 }, /not an amount of money/],
      ['a key that cannot be computed', { keyed: true, team: 5 }, /needs a string/],
      ['a `when` that fails', { level: 'high' }, /`when`\/`unless` failed/],
    ];
    for (const [what, args, error] of cases) {
      it(`${codegen ? 'generated code' : 'closures'}: ${what} denies and reserves nothing`, async () => {
        const store = new MemoryBudgetStore();
        const e = new Engine(p, { store });
        const d = await e.decide({ user: 'u', args });
        assert.equal(d.effect, 'deny', JSON.stringify(d.reasons));
        assert.equal(d.reasons[0]!.kind, 'error');
        assert.equal(d.reasons[0]!.effect, 'deny');
        assert.match(d.errors.map((x) => x.message).join('\n'), error);
        assert.equal(d.reservation, null);
      });
    }

    it(`${codegen ? 'generated code' : 'closures'}: valid charges pass and fill the ceiling as before; a monitored budget's failure only reports`, async () => {
      const e = new Engine(p, { store: new MemoryBudgetStore() as BudgetStore });
      assert.equal((await e.decide({ user: 'u', args: { amount: 9 } })).effect, 'allow');
      assert.equal((await e.decide({ user: 'u', args: { amount: 5 } })).effect, 'deny');
      const m = await e.decide({ user: 'v', args: { watch: 'x' } });
      assert.equal(m.effect, 'allow');
      assert.deepEqual(m.monitored.map((r) => [r.name, r.effect]), [['watched', 'deny']]);
    });
  }

  it('an `on exceed` message that fails once the counters said exceeded keeps the exceed effect and the `on error` effect for the failure, as before', async () => {
    const src = `policy p { default allow  on error allow }
input { user: string, args: map<any> }
budget b { limit 1  charge 1  by user  on exceed require approval from "ops" "over: \${args.x.lower()}" }
`;
    const e = new Engine(compile({ 'p.rein': src }), { store: new MemoryBudgetStore() });
    assert.equal((await e.decide({ user: 'u', args: { x: 5 } })).effect, 'allow');
    const d = await e.decide({ user: 'u', args: { x: 5 } });
    assert.equal(d.effect, 'require_approval', JSON.stringify(d.reasons));
    assert.deepEqual(d.approvals.map((a) => a.from), ['ops']);
  });
});

describe('an exceeded budget whose `on exceed` approver fails fails closed (session 13, found beside L8)', () => {
  it('a failing approver denies; a failing message keeps the approver', async () => {
    const src = `policy p { default allow  on error allow }
input { user: string, args: map<any> }
budget b { limit 1  charge 1  by user  on exceed require approval from args.group "over" }
`;
    for (const codegen of [true, false]) {
      const e = new Engine(compile({ 'p.rein': src }, { codegen }), { store: new MemoryBudgetStore() });
      assert.equal((await e.decide({ user: 'u', args: { group: 5 } })).effect, 'allow');
      // was: require_approval with `from: null` — an approval anyone could give
      const d = await e.decide({ user: 'u', args: { group: 5 } });
      assert.equal(d.effect, 'deny', JSON.stringify(d.reasons));
      assert.deepEqual(d.approvals, []);
      assert.match(d.errors.map((x) => x.message).join('\n'), /`on exceed` failed: .*needs a string, got number/);
      // an absent group (null) too: never `from: null`, which any group's token would grant (review L17)
      const absent = await e.decide({ user: 'u', args: {} });
      assert.equal(absent.effect, 'deny');
      assert.deepEqual(absent.approvals, []);
      assert.match(absent.errors.map((x) => x.message).join('\n'), /approver group is unknown/);
      const ok = await e.decide({ user: 'u', args: { group: 'ops' } });
      assert.equal(ok.effect, 'require_approval');
      assert.deepEqual(ok.approvals.map((a) => a.from), ['ops']);
    }
  });
});

describe('a negative money charge is reported in currency units (session 13 review L10.2)', () => {
  it('charge is negative (-0.500000), not micros', async () => {
    const src = `policy p { default allow }
input { user: string, amt: money }
budget neg { limit $10 charge amt - $1 by user }
`;
    const d = await new Engine(compile({ 'p.rein': src }), { store: new MemoryBudgetStore() }).decide({ user: 'u', amt: '0.5' });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors.map((e) => e.message).join('\n'), /charge is negative \(-0\.500000\)/);
  });
});
