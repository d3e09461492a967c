// `require approval … quorum N expires D` (#17 item 6): N distinct approvers, each approval counting
// for D after it was given, checked against the decision's `now`. Through the engine with signed tokens
// (identity and time from the token) and with trusted grants, for rules and budgets, on both backends
// (generated code and closures give the same decisions), in the checker, the formatter and `test` blocks.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { check } from '../../language/check.js';
import { format } from '../../language/format/format.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { generateApprovalKeyPair, randomNonce, signApproval, verificationKeyOf, type ApprovalSigningKey } from '../../language/runtime/approvals.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { runTests } from '../../language/runtime/test-runner.js';
import type { Decision } from '../../language/runtime/decision.js';

const SRC = `policy payments { default allow }
input { tool: string, amount: number, session: string }

rule large_transfer {
  when tool == "transfer" and amount > 1000
  require approval from "finance" quorum 2 expires 15m "two of finance must sign off"
}

rule quick_look {
  when tool == "export"
  require approval expires 10m
}

rule plain {
  when tool == "delete"
  require approval "one approver"
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
const MIN = 60_000;
const signer: ApprovalSigningKey = { kid: 'k1', alg: 'Ed25519', privateKey: generateApprovalKeyPair().privateKey };

function engines(keys = true) {
  let now = T0;
  const mk = (codegen: boolean) =>
    new Engine(compile({ 'p.rein': SRC }, { codegen }), { store: new MemoryBudgetStore(), clock: () => new Date(now), ...(keys ? { approvalKeys: [verificationKeyOf(signer)] } : {}) });
  return { gen: mk(true), clo: mk(false), advance: (ms: number) => (now += ms), now: () => now };
}

function token(d: Decision, rule: string, approver: string, group: string | null, iat: number, extra: { exp?: number; nonce?: boolean } = {}): string {
  return signApproval(
    { request_hash: d.request_hash!, rule, approver, group, policy_hash: d.policy.hash, iat, exp: extra.exp ?? iat + 60 * MIN, ...(extra.nonce ? { nonce: randomNonce() } : {}) },
    signer,
  );
}

/** A decision without its reservation id (differs per engine). */
const strip = (d: Decision) => JSON.parse(JSON.stringify({ ...d, reservation: null }));

const transfer = { tool: 'transfer', amount: 5000, session: 's1' };

describe('approvals with quorum and expiry', () => {
  it('a pending approval names its quorum and expiry, identically on both backends', () => {
    const { gen, clo } = engines();
    const a = gen.decideSync(transfer);
    const b = clo.decideSync(transfer);
    assert.equal(a.effect, 'require_approval');
    assert.deepEqual(strip(a), strip(b));
    assert.equal(a.approvals[0]!.quorum, 2);
    assert.equal(a.approvals[0]!.expires_ms, 15 * MIN);
    assert.equal(a.approvals[0]!.from, 'finance');
    // A rule without the terms reports neither (the decision JSON is unchanged for it).
    const p = gen.decideSync({ tool: 'delete', amount: 0, session: 's1' });
    assert.ok(!('quorum' in p.approvals[0]!) && !('expires_ms' in p.approvals[0]!));
    assert.ok(decisionSchema.safeParse(a).success);
  });

  it('one signed approval of two is not enough; the decision says who approved and how many are needed', () => {
    const { gen, clo } = engines();
    const d = gen.decideSync(transfer);
    for (const e of [gen, clo]) {
      const one = e.decideSync(transfer, { approvals: [token(d, 'large_transfer', 'alice', 'finance', T0)] });
      assert.equal(one.effect, 'require_approval');
      assert.deepEqual(one.approvals[0]!.approved_by, ['alice']);
      assert.ok(one.errors.some((x) => x.kind === 'approval' && /1 of 2 distinct approvers/.test(x.message)), JSON.stringify(one.errors));
      assert.ok(decisionSchema.safeParse(one).success);
    }
  });

  it('the same approver twice counts once; two distinct approvers grant it and are both named in the reason', () => {
    const { gen, clo } = engines();
    const d = gen.decideSync(transfer);
    const twice = [token(d, 'large_transfer', 'alice', 'finance', T0), token(d, 'large_transfer', 'alice', 'finance', T0 + 1000)];
    assert.equal(gen.decideSync(transfer, { approvals: twice }).effect, 'require_approval');
    const both = [token(d, 'large_transfer', 'alice', 'finance', T0), token(d, 'large_transfer', 'bob', 'finance', T0)];
    const a = gen.decideSync(transfer, { approvals: both });
    const b = clo.decideSync(transfer, { approvals: both });
    assert.equal(a.effect, 'allow', JSON.stringify(a.errors));
    assert.deepEqual(strip(a), strip(b));
    const r = a.reasons.find((x) => x.name === 'large_transfer')!;
    assert.equal(r.approved, true);
    assert.deepEqual(r.approved_by, { approver: 'alice', group: 'finance' });
    assert.deepEqual(r.approvers, [{ approver: 'alice', group: 'finance' }, { approver: 'bob', group: 'finance' }]);
    assert.ok(decisionSchema.safeParse(a).success);
  });

  it('an approver from another group does not count toward the quorum', () => {
    const { gen } = engines();
    const d = gen.decideSync(transfer);
    const r = gen.decideSync(transfer, { approvals: [token(d, 'large_transfer', 'alice', 'finance', T0), token(d, 'large_transfer', 'mallory', 'support', T0)] });
    assert.equal(r.effect, 'require_approval');
  });

  it('`expires`: an approval older than the window is not granted, with a reason; a fresh one is', () => {
    const { gen, clo, advance } = engines();
    const d = gen.decideSync(transfer);
    const old = token(d, 'large_transfer', 'alice', 'finance', T0);
    advance(16 * MIN); // the decision is now 16 minutes after alice approved
    const fresh = token(d, 'large_transfer', 'bob', 'finance', T0 + 15 * MIN);
    for (const e of [gen, clo]) {
      const r = e.decideSync(transfer, { approvals: [old, fresh] });
      assert.equal(r.effect, 'require_approval');
      const msg = r.errors.find((x) => x.kind === 'approval' && /expired/.test(x.message));
      assert.ok(msg, JSON.stringify(r.errors));
      assert.match(msg!.message, /by alice expired: it was given at 2026-11-24T10:00:00.000Z, and the rule counts an approval for 15m/);
    }
    const carol = token(d, 'large_transfer', 'carol', 'finance', T0 + 14 * MIN);
    assert.equal(gen.decideSync(transfer, { approvals: [carol, fresh] }).effect, 'allow');
  });

  it('`expires` without a quorum; the boundary instant no longer counts', () => {
    const { gen, advance } = engines();
    const req = { tool: 'export', amount: 0, session: 's1' };
    const d = gen.decideSync(req);
    assert.equal(d.approvals[0]!.expires_ms, 10 * MIN);
    const t = token(d, 'quick_look', 'alice', null, T0);
    advance(10 * MIN - 1);
    assert.equal(gen.decideSync(req, { approvals: [t] }).effect, 'allow');
    advance(1);
    assert.equal(gen.decideSync(req, { approvals: [t] }).effect, 'require_approval');
  });

  it('single-use tokens toward a quorum: each is consumed; a replay no longer counts', () => {
    const { gen } = engines();
    const d = gen.decideSync(transfer);
    const both = [token(d, 'large_transfer', 'alice', 'finance', T0, { nonce: true }), token(d, 'large_transfer', 'bob', 'finance', T0, { nonce: true })];
    assert.equal(gen.decideSync(transfer, { approvals: both }).effect, 'allow');
    assert.equal(gen.decideSync(transfer, { approvals: both }).effect, 'require_approval');
  });

  it('a single-use token presented before the quorum is reached is not spent (regression: it was, and the quorum could never be met)', () => {
    for (const e of [engines().gen, engines().clo]) {
      const d = e.decideSync(transfer);
      const alice = token(d, 'large_transfer', 'alice', 'finance', T0, { nonce: true });
      const bob = token(d, 'large_transfer', 'bob', 'finance', T0, { nonce: true });
      const one = e.decideSync(transfer, { approvals: [alice] });
      assert.equal(one.effect, 'require_approval');
      assert.equal(one.errors.some((x) => /already used/.test(x.message)), false);
      const two = e.decideSync(transfer, { approvals: [alice, bob] });
      assert.equal(two.effect, 'allow', JSON.stringify(two.errors));
      assert.equal(e.decideSync(transfer, { approvals: [alice, bob] }).effect, 'require_approval', 'spent by the decision that allowed');
    }
  });

  it('trusted grants (no keys): distinct `approver`s and `at` times, as given', () => {
    const { gen, clo } = engines(false);
    const d = gen.decideSync(transfer);
    const h = d.request_hash!;
    const g = (approver: string | undefined, at: number | undefined) => ({ rule: 'large_transfer', request_hash: h, group: 'finance', ...(approver ? { approver } : {}), ...(at !== undefined ? { at } : {}) });
    for (const e of [gen, clo]) {
      assert.equal(e.decideSync(transfer, { approvals: [g('a', T0), g('b', T0)] }).effect, 'allow');
      // Without a name, approvals count as one approver; without a time they cannot be checked: not counted.
      assert.equal(e.decideSync(transfer, { approvals: [g(undefined, T0), g(undefined, T0)] }).effect, 'require_approval');
      const noTime = e.decideSync(transfer, { approvals: [g('a', undefined), g('b', T0)] });
      assert.equal(noTime.effect, 'require_approval');
      assert.ok(noTime.errors.some((x) => /carries no approval time/.test(x.message)));
    }
  });

  it('a budget with `on exceed require approval … quorum 3` lifts its ceiling only with three approvers', () => {
    const { gen, clo } = engines();
    const req = { tool: 'spend', amount: 5, session: 's9' };
    const d = gen.decideSync(req);
    assert.equal(d.effect, 'require_approval');
    assert.equal(d.approvals[0]!.quorum, 3);
    const two = ['u1', 'u2'].map((u) => token(d, 'session_risk', u, 'supervisor', T0));
    const three = ['u1', 'u2', 'u3'].map((u) => token(d, 'session_risk', u, 'supervisor', T0));
    for (const e of [gen, clo]) {
      const r2 = e.decideSync(req, { approvals: two });
      assert.equal(r2.effect, 'require_approval');
      assert.equal(r2.reservation, null, 'no reservation over the limit with two of three');
      const r3 = e.decideSync(req, { approvals: three });
      assert.equal(r3.effect, 'allow', JSON.stringify(r3.errors));
      assert.equal(r3.reasons.find((x) => x.name === 'session_risk')!.approvers!.length, 3);
    }
  });
});

describe('quorum and expires in the language', () => {
  const wrap = (effect: string) => `policy p { default allow }\ninput { amount: number }\nrule r {\n  when amount > 1\n  ${effect}\n}\n`;
  const codes = (src: string) => check({ 'p.rein': src }).diagnostics.map((d) => `${d.code}: ${d.message}`);

  it('rejects a quorum that is not a whole number from 1 to 100, and a zero expiry', () => {
    assert.deepEqual(codes(wrap('require approval quorum 0')), ['REIN240: `quorum` must be a whole number from 1 to 100, found `0`']);
    assert.deepEqual(codes(wrap('require approval quorum 1.5')), ['REIN240: `quorum` must be a whole number from 1 to 100, found `1.5`']);
    assert.deepEqual(codes(wrap('require approval quorum 101')), ['REIN240: `quorum` must be a whole number from 1 to 100, found `101`']);
    assert.deepEqual(codes(wrap('require approval expires 0s')), ['REIN240: `expires` must be a positive duration, found `0s`']);
    assert.deepEqual(codes(wrap('require approval from "x" quorum 2 expires 1h "m"')), []);
  });

  it('reports a missing number or duration, and the words stay ordinary names elsewhere', () => {
    assert.match(codes(wrap('require approval quorum "m"')).join('\n'), /REIN101: expected how many distinct approvers \(a whole number\) after `quorum`/);
    assert.match(codes(wrap('require approval expires 3'))[0]!, /REIN101: expected how long an approval stands \(a duration such as `15m`\) after `expires`/);
    assert.deepEqual(codes('policy p { default allow }\ninput { quorum: int, expires: string }\nrule r { when quorum > 1 and expires == "x"  deny "m" }\n'), []);
  });

  it('formats the terms in canonical order and spacing (idempotent)', () => {
    const src = wrap('require approval   from "finance"   quorum   2   expires  15m   "two"');
    const out = format(src);
    assert.match(out, /require approval from "finance" quorum 2 expires 15m "two"/);
    assert.equal(format(out), out);
  });

  it('`approved RULE` in a test block is a complete approval (quorum-many approvers at the test clock)', () => {
    const policy = compile({
      'p.rein': SRC,
      't.rein': `test "two of finance" {
  given { tool: "transfer", amount: 5000, session: "s1" }
  approved large_transfer
  expect allow
}
test "still pending" {
  given { tool: "transfer", amount: 5000, session: "s1" }
  expect require_approval by large_transfer
}
`,
    });
    const res = runTests(policy);
    assert.deepEqual(res.results.map((r) => [r.name, r.passed, r.message ?? '']), [
      ['two of finance', true, ''],
      ['still pending', true, ''],
    ]);
  });
});
