import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import {
  base64urlDecode,
  base64urlEncode,
  decodeApprovalToken,
  generateApprovalKeyPair,
  prepareApprovalKeys,
  signApproval,
  verificationKeyOf,
  verifyApprovalToken,
  type ApprovalClaims,
  type ApprovalSigningKey,
} from '../../language/runtime/approvals.js';
import type { BudgetStore } from '../../language/runtime/store.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';

const SRC = `
policy payments {
  version "1.0.0"
  default allow
}

input {
  tool: string
  amount: number
  session: string
}

rule large_transfer {
  when tool == "transfer" and amount > 1000
  require approval from "finance" "transfers over 1000 need sign-off"
}

rule any_delete {
  when tool == "delete"
  require approval "deletes need a human"
}

budget session_risk {
  limit 3
  charge 1
  by session
  on exceed require approval from "supervisor"
}
`;

const T0 = Date.parse('2026-11-24T10:00:00Z');
const pair = generateApprovalKeyPair();
const ED: ApprovalSigningKey = { kid: 'k1', alg: 'Ed25519', privateKey: pair.privateKey };
const HS: ApprovalSigningKey = { alg: 'HS256', secret: 'a-shared-secret-of-at-least-32-bytes!!' };

function setup(keys = [verificationKeyOf(ED), verificationKeyOf(HS)], store: BudgetStore = new MemoryBudgetStore()) {
  const policy = compile({ 'p.rein': SRC });
  let now = T0;
  const engine = new Engine(policy, { store, clock: () => new Date(now), approvalKeys: keys });
  return { policy, engine, store, advance: (ms: number) => (now += ms), now: () => now };
}

const BIG = { tool: 'transfer', amount: 5000, session: 's1' };

function claims(over: Partial<ApprovalClaims> & { request_hash: string; policy_hash: string }): ApprovalClaims {
  return { rule: 'large_transfer', approver: 'alice', group: 'finance', iat: T0, exp: T0 + 60_000, ...over };
}

describe('approval tokens', () => {
  it('base64url round-trips and rejects non-canonical or foreign characters', () => {
    for (const n of [0, 1, 2, 3, 4, 31, 32, 33]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      assert.deepEqual(base64urlDecode(base64urlEncode(b)), b);
    }
    assert.equal(base64urlDecode('ab+c'), null);
    assert.equal(base64urlDecode('a'), null);
    assert.equal(base64urlDecode('AB'), null, 'non-zero trailing bits');
  });

  it('signs and verifies with Ed25519 and HMAC; a token never verifies under the other algorithm', () => {
    const keys = prepareApprovalKeys([verificationKeyOf(ED), verificationKeyOf(HS)]);
    const c = claims({ request_hash: 'sha256:aa', policy_hash: 'sha256:pp' });
    for (const k of [ED, HS]) {
      const t = signApproval(c, k);
      const r = verifyApprovalToken(t, keys, { request_hash: 'sha256:aa', policy_hash: 'sha256:pp', now: T0 });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(decodeApprovalToken(t)?.alg, k.alg);
    }
    // Only the HMAC key: an Ed25519 token has no key to check against.
    const onlyHs = prepareApprovalKeys([verificationKeyOf(HS)]);
    const r = verifyApprovalToken(signApproval(c, ED), onlyHs, { request_hash: 'sha256:aa', policy_hash: 'sha256:pp', now: T0 });
    assert.equal(r.ok, false);
  });

  it('rejects malformed keys at construction (a configuration bug)', () => {
    const policy = compile({ 'p.rein': SRC });
    assert.throws(() => new Engine(policy, { approvalKeys: [{ alg: 'HS256', secret: 'short' }] }), /at least 32 bytes/);
    assert.throws(() => new Engine(policy, { approvalKeys: [{ alg: 'Ed25519', publicKey: 'zz' }] }), /hex/);
    assert.throws(() => new Engine(policy, { approvalKeys: [{ alg: 'none' } as never] }), /alg/);
  });
});

describe('Engine with approvalKeys', () => {
  it('a valid token for this request and rule grants the approval', async () => {
    const { engine, policy } = setup();
    const d0 = await engine.decide(BIG);
    assert.equal(d0.effect, 'require_approval');
    const token = signApproval(claims({ request_hash: d0.request_hash!, policy_hash: policy.compiled.hash }), ED);
    const d = await engine.decide(BIG, { approvals: [token] });
    assert.equal(d.effect, 'allow');
    assert.deepEqual(d.errors, []);
    // who approved is in the decision (and so in the audit log), and the decision fits its schema
    const granted = d.reasons.find((r) => r.name === 'large_transfer')!;
    assert.deepEqual([granted.approved, granted.approved_by], [true, { approver: 'alice', group: 'finance' }]);
    assert.ok(decisionSchema.safeParse(JSON.parse(JSON.stringify(d))).success);
    // Also given as an object carrying the token.
    const d2 = await engine.decide(BIG, { approvals: [{ rule: 'ignored', request_hash: 'ignored', token }] });
    assert.equal(d2.effect, 'allow');
  });

  it('a forged token (tampered claims or a signature by another key) is ignored and reported', async () => {
    const { engine, policy } = setup();
    const h = (await engine.decide(BIG)).request_hash!;
    const good = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash }), ED);
    // Tamper: swap in claims naming another approver, keep the signature.
    const [p, , s] = good.split('.');
    const forgedBody = base64urlEncode(new TextEncoder().encode(JSON.stringify({ ...decodeApprovalToken(good), approver: 'mallory' })));
    const tampered = `${p}.${forgedBody}.${s}`;
    const otherKey: ApprovalSigningKey = { kid: 'k1', alg: 'Ed25519', privateKey: generateApprovalKeyPair().privateKey };
    const foreign = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash }), otherKey);
    const hsForged = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash }), { alg: 'HS256', secret: 'x'.repeat(40) });
    for (const t of [tampered, foreign, hsForged, 'rein1.garbage.sig', 'not a token', '']) {
      const d = await engine.decide(BIG, { approvals: [t] });
      assert.equal(d.effect, 'require_approval', t);
      assert.equal(d.errors.length, 1, t);
      assert.equal(d.errors[0]!.kind, 'approval');
    }
    const d = await engine.decide(BIG, { approvals: [tampered] });
    assert.match(d.errors[0]!.message, /bad signature/);
  });

  it('an expired token is ignored', async () => {
    const { engine, policy, advance } = setup();
    const h = (await engine.decide(BIG)).request_hash!;
    const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, exp: T0 + 1000 }), HS);
    assert.equal((await engine.decide(BIG, { approvals: [t] })).effect, 'allow');
    advance(1000);
    const d = await engine.decide(BIG, { approvals: [t] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /expired/);
  });

  it('a token for another request, rule or policy version is ignored', async () => {
    const { engine, policy } = setup();
    const h = (await engine.decide(BIG)).request_hash!;
    const other = await engine.decide({ ...BIG, amount: 6000 });
    const forOther = signApproval(claims({ request_hash: other.request_hash!, policy_hash: policy.compiled.hash }), ED);
    let d = await engine.decide(BIG, { approvals: [forOther] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /another request/);
    const otherRule = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, rule: 'any_delete' }), ED);
    d = await engine.decide(BIG, { approvals: [otherRule] });
    assert.equal(d.effect, 'require_approval');
    const otherPolicy = signApproval(claims({ request_hash: h, policy_hash: 'sha256:' + '0'.repeat(64) }), ED);
    d = await engine.decide(BIG, { approvals: [otherPolicy] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /another policy version/);
  });

  it('plain { rule, request_hash } approvals no longer count (an agent cannot approve itself)', async () => {
    const { engine } = setup();
    const h = (await engine.decide(BIG)).request_hash!;
    const d = await engine.decide(BIG, { approvals: [{ rule: 'large_transfer', request_hash: h }] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /not a signed token/);
  });

  it('`require approval from GROUP`: a token from another group is ignored; no `from` accepts any group', async () => {
    const { engine, policy } = setup();
    const h = (await engine.decide(BIG)).request_hash!;
    const wrongGroup = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, group: 'engineering' }), ED);
    const d = await engine.decide(BIG, { approvals: [wrongGroup] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors.map((e) => e.message).join('\n'), /group `engineering`.*`finance`/);
    const del = { tool: 'delete', amount: 0, session: 's1' };
    const hd = (await engine.decide(del)).request_hash!;
    const anyGroup = signApproval(claims({ request_hash: hd, policy_hash: policy.compiled.hash, rule: 'any_delete', group: 'engineering' }), ED);
    assert.equal((await engine.decide(del, { approvals: [anyGroup] })).effect, 'allow');
  });

  it('a budget `on exceed require approval from` is granted only by its group, and the charge is then reserved', async () => {
    const { engine, policy, store } = setup();
    const small = { tool: 'read', amount: 1, session: 's9' };
    for (let i = 0; i < 3; i++) assert.equal((await engine.decide(small)).effect, 'allow');
    const d0 = await engine.decide(small);
    assert.equal(d0.effect, 'require_approval');
    const wrong = signApproval(claims({ request_hash: d0.request_hash!, policy_hash: policy.compiled.hash, rule: 'session_risk', group: 'finance' }), ED);
    const dw = await engine.decide(small, { approvals: [wrong] });
    assert.equal(dw.effect, 'require_approval');
    assert.equal(dw.reservation, null, 'no reservation kept for a refused approval');
    const before = (store as MemoryBudgetStore).inspect(T0);
    const right = signApproval(claims({ request_hash: d0.request_hash!, policy_hash: policy.compiled.hash, rule: 'session_risk', group: 'supervisor' }), ED);
    const d = await engine.decide(small, { approvals: [right] });
    assert.equal(d.effect, 'allow');
    assert.ok(d.reservation);
    const after = (store as MemoryBudgetStore).inspect(T0);
    const key = Object.keys(after.counters).find((k) => k.includes('session_risk'))!;
    assert.equal(after.counters[key]!.reserved, before.counters[key]!.reserved + 1);
  });

  it('`approved_by` names the approval that granted the rule, not an earlier one from another group', async () => {
    const { engine, policy } = setup();
    const d0 = await engine.decide(BIG);
    const h = { request_hash: d0.request_hash!, policy_hash: policy.compiled.hash };
    const wrong = signApproval(claims({ ...h, approver: 'mallory', group: 'support' }), ED);
    const right = signApproval(claims({ ...h, approver: 'bob', group: 'finance' }), ED);
    const d = await engine.decide(BIG, { approvals: [wrong, right] });
    assert.equal(d.effect, 'allow');
    const granted = d.reasons.find((r) => r.name === 'large_transfer')!;
    assert.deepEqual(granted.approved_by, { approver: 'bob', group: 'finance' });
  });

  it('an approval from the wrong group never lifts a budget ceiling in the store, not even transiently', async () => {
    const seen: boolean[] = [];
    class Spy extends MemoryBudgetStore {
      override async reserve(req: Parameters<MemoryBudgetStore['reserve']>[0]) {
        for (const it of req.items) if (it.counterKey.includes('session_risk')) seen.push(it.enforce);
        return super.reserve(req);
      }
    }
    const { engine, policy } = setup(undefined, new Spy());
    const small = { tool: 'read', amount: 1, session: 's10' };
    for (let i = 0; i < 3; i++) assert.equal((await engine.decide(small)).effect, 'allow');
    const d0 = await engine.decide(small);
    assert.equal(d0.effect, 'require_approval');
    seen.length = 0;
    const wrong = signApproval(claims({ request_hash: d0.request_hash!, policy_hash: policy.compiled.hash, rule: 'session_risk', group: 'finance' }), ED);
    assert.equal((await engine.decide(small, { approvals: [wrong] })).effect, 'require_approval');
    assert.deepEqual(seen, [true], 'the ceiling is enforced in the store call');
    seen.length = 0;
    const right = signApproval(claims({ request_hash: d0.request_hash!, policy_hash: policy.compiled.hash, rule: 'session_risk', group: 'supervisor' }), ED);
    assert.equal((await engine.decide(small, { approvals: [right] })).effect, 'allow');
    assert.deepEqual(seen, [false], 'the granted approval lifts it');
  });

  it('a single-use token is consumed in the store: a replay is ignored (sync and async stores)', async () => {
    class AsyncStore extends MemoryBudgetStore {
      override async reserve(...a: Parameters<MemoryBudgetStore['reserve']>) {
        await new Promise((r) => setTimeout(r, 1));
        return super.reserve(...a);
      }
    }
    for (const store of [new MemoryBudgetStore(), new AsyncStore()]) {
      const { engine, policy } = setup(undefined, store);
      const h = (await engine.decide(BIG)).request_hash!;
      const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-1' }), ED);
      const d1 = await engine.decide(BIG, { approvals: [t] });
      assert.equal(d1.effect, 'allow');
      const d2 = await engine.decide(BIG, { approvals: [t] });
      assert.equal(d2.effect, 'require_approval');
      assert.match(d2.errors[0]!.message, /already used/);
      // decideSync on the synchronous store too
      if (!(store instanceof AsyncStore)) {
        const d3 = engine.decideSync(BIG, { approvals: [t] });
        assert.equal(d3.effect, 'require_approval');
      }
    }
  });

  it('single use fails closed when the store cannot consume nonces or fails', async () => {
    class NoOnce extends MemoryBudgetStore {
      override async reserve(...a: Parameters<MemoryBudgetStore['reserve']>) {
        return super.reserve(...a);
      }
    }
    const noOnce = new NoOnce();
    (noOnce as unknown as { consumeOnce: undefined }).consumeOnce = undefined;
    const { engine, policy } = setup(undefined, noOnce);
    const h = (await engine.decide(BIG)).request_hash!;
    const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-2' }), ED);
    let d = await engine.decide(BIG, { approvals: [t] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /cannot consume/);

    class Failing extends NoOnce {
      override async consumeOnce(): Promise<boolean> {
        throw new Error('boom');
      }
    }
    const s2 = setup(undefined, new Failing());
    d = await s2.engine.decide(BIG, { approvals: [signApproval(claims({ request_hash: h, policy_hash: s2.policy.compiled.hash, nonce: 'n-3' }), ED)] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /failed.*boom/);
  });

  it('without approvalKeys: trusted callers (objects count, token strings are ignored with an error)', async () => {
    const policy = compile({ 'p.rein': SRC });
    const engine = new Engine(policy, { clock: () => new Date(T0) });
    const h = (await engine.decide(BIG)).request_hash!;
    assert.equal((await engine.decide(BIG, { approvals: [{ rule: 'large_transfer', request_hash: h }] })).effect, 'allow');
    const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash }), ED);
    const d = await engine.decide(BIG, { approvals: [t] });
    assert.equal(d.effect, 'require_approval');
    assert.match(d.errors[0]!.message, /no `approvalKeys`/);
  });

  it('an approval error never turns into an allow, also under `on error allow`', async () => {
    const src = SRC.replace('default allow', 'default allow\n  on error allow');
    const policy = compile({ 'p.rein': src });
    const engine = new Engine(policy, { clock: () => new Date(T0), approvalKeys: [verificationKeyOf(ED)] });
    const d = await engine.decide(BIG, { approvals: ['rein1.x.y', { rule: 'large_transfer', request_hash: 'x' }] });
    assert.equal(d.effect, 'require_approval');
    assert.equal(d.errors.length, 2);
  });
});

describe('single-use tokens are spent only by a decision that allows', () => {
  // regression (session 11, R11): a single-use token was consumed by any decision it was presented
  // in, also one another rule denied or that still asked for approval; the approval was then lost.
  const AFTER = `${SRC}
rule closed_before_11 {
  when hour(now) < 11
  deny "closed before 11:00"
}
`;
  class Slow extends MemoryBudgetStore {
    override async reserve(...a: Parameters<MemoryBudgetStore['reserve']>) {
      await new Promise((r) => setTimeout(r, 2));
      return super.reserve(...a);
    }
    override async consumeOnce(...a: Parameters<MemoryBudgetStore['consumeOnce']>) {
      await new Promise((r) => setTimeout(r, 2));
      return super.consumeOnce(...a);
    }
  }
  function engineOf(src: string, store: BudgetStore) {
    const policy = compile({ 'p.rein': src });
    let now = T0;
    const engine = new Engine(policy, { store, clock: () => new Date(now), approvalKeys: [verificationKeyOf(ED)] });
    return { policy, engine, advance: (ms: number) => (now += ms) };
  }

  it('a token presented in a decision another rule denies is not consumed; it is when the decision allows (sync and async stores)', async () => {
    for (const store of [new MemoryBudgetStore(), new Slow()]) {
      const { engine, policy, advance } = engineOf(AFTER, store);
      const h = (await engine.decide(BIG)).request_hash!;
      const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-deny', exp: T0 + 2 * 3_600_000 }), ED);
      const denied = await engine.decide(BIG, { approvals: [t] });
      assert.equal(denied.effect, 'deny');
      assert.deepEqual(denied.errors, []);
      advance(3_600_000); // 11:00: the deny rule no longer matches
      const allowed = await engine.decide(BIG, { approvals: [t] });
      assert.equal(allowed.effect, 'allow', JSON.stringify(allowed.errors));
      assert.equal(allowed.reasons.find((r) => r.name === 'large_transfer')?.approved, true);
      const replay = await engine.decide(BIG, { approvals: [t] });
      assert.equal(replay.effect, 'require_approval');
      assert.match(replay.errors.map((e) => e.message).join('\n'), /already used/);
    }
  });

  it('a token for a rule that did not match (the request is allowed anyway) is not consumed', () => {
    const { engine, policy } = engineOf(SRC, new MemoryBudgetStore());
    const small = { tool: 'transfer', amount: 10, session: 's2' };
    const h = engine.decideSync(BIG).request_hash!;
    // A valid token for `large_transfer`, bound to a request that rule does not match.
    const t = signApproval(claims({ request_hash: engine.decideSync(small).request_hash!, policy_hash: policy.compiled.hash, nonce: 'n-unused' }), ED);
    assert.equal(engine.decideSync(small, { approvals: [t] }).effect, 'allow');
    assert.equal(engine.decideSync(small, { approvals: [t] }).errors.length, 0, 'not spent: it approved nothing');
    const t2 = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-used' }), ED);
    assert.equal(engine.decideSync(BIG, { approvals: [t2] }).effect, 'allow');
    assert.match(engine.decideSync(BIG, { approvals: [t2] }).errors[0]!.message, /already used/);
  });

  it('two concurrent decisions presenting the same token: exactly one allows; the other keeps no reservation', async () => {
    for (const store of [new MemoryBudgetStore(), new Slow()]) {
      const { engine, policy } = engineOf(SRC, store);
      const req = { tool: 'transfer', amount: 5000, session: 'race' };
      const h = (await engine.decide(req)).request_hash!;
      const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-race' }), ED);
      const both = await Promise.all([engine.decide(req, { approvals: [t] }), engine.decide(req, { approvals: [t] })]);
      assert.deepEqual(both.map((d) => d.effect).sort(), ['allow', 'require_approval']);
      const loser = both.find((d) => d.effect !== 'allow')!;
      assert.equal(loser.reservation, null);
      assert.match(loser.errors.map((e) => e.message).join('\n'), /already used/);
      // Only the winner's charge is held: the loser's reservation was given back.
      const after = await engine.decide({ tool: 'read', amount: 0, session: 'race' });
      assert.equal(after.budgets.find((b) => b.name === 'session_risk')!.reserved, 1);
    }
  });

  it('a replayed token among others: the decision is made again without it', async () => {
    const { engine, policy } = engineOf(SRC, new Slow());
    const h = (await engine.decide(BIG)).request_hash!;
    const t = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-a' }), ED);
    const other = signApproval(claims({ request_hash: h, policy_hash: policy.compiled.hash, nonce: 'n-b', approver: 'bob' }), ED);
    assert.equal((await engine.decide(BIG, { approvals: [t] })).effect, 'allow');
    // `t` was spent; `other` alone grants the rule: allowed, with the replay reported.
    const d = await engine.decide(BIG, { approvals: [t, other] });
    assert.equal(d.effect, 'allow', JSON.stringify(d.errors));
    assert.equal(d.reasons.find((r) => r.name === 'large_transfer')!.approved_by!.approver, 'bob');
    assert.match(d.errors.map((e) => e.message).join('\n'), /already used/);
  });
});
