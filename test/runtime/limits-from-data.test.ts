// #17 item 1: limits from data. `limit` and `warn at` read the request and `let` data, evaluated per
// request; the evaluated limit is in the decision's budget entry and is what the store reserves
// against (memory and Redis stores: the limit travels with the reservation item); null, negative or
// non-finite → the budget's error, fail closed. The checker lifts the old "must be a constant" rule
// for the request but still rejects limits that read the clock or a budget.

import { strict as assert } from 'node:assert';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { BudgetStore } from '../../language/runtime/store.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { useRedis } from '../redis/redis-server.js';

const SRC = `policy p { default allow  on error deny }
input {
  team: string
  cost: money
  cap?: money
  warn?: number
}
let team_caps = { support: $5, research: $100 }
budget team_daily {
  limit team_caps[team] ?? cap ?? $50 per day
  charge cost
  by team
  warn at warn ?? 80%
}
budget per_call {
  limit cap per request
  charge cost
  when cap != null and team == "capped"
}
`;
const NOON = new Date('2026-11-24T12:00:00Z');

function suite(name: string, makeStore: () => Promise<{ store: BudgetStore; close(): Promise<void> }>) {
  describe(name, () => {
    let store: BudgetStore;
    let close: () => Promise<void>;
    let engine: Engine;
    beforeEach(async () => {
      ({ store, close } = await makeStore());
      engine = new Engine(compile({ 'p.rein': SRC }), { store, clock: () => NOON });
    });
    afterEach(async () => {
      await close();
    });
    // The decision's JSON form (money as decimal strings).
    const budget = (d: unknown, n = 'team_daily') =>
      (JSON.parse(JSON.stringify(d)) as { budgets: Record<string, unknown>[] }).budgets.find((b) => b.name === n)!;

    it('each team gets its own limit from data; the entry names the evaluated limit', async () => {
      const a = await engine.decide({ team: 'support', cost: '4' });
      assert.equal(a.effect, 'allow');
      assert.equal(budget(a).limit, '5.000000');
      const b = await engine.decide({ team: 'support', cost: '2' });
      assert.equal(b.effect, 'deny', 'support: $4 reserved + $2 > $5');
      assert.equal(budget(b).exceeded, true);
      const c = await engine.decide({ team: 'research', cost: '60' });
      assert.equal(c.effect, 'allow');
      assert.equal(budget(c).limit, '100.000000');
      const d = await engine.decide({ team: 'other', cost: '49' });
      assert.equal(budget(d).limit, '50.000000', 'the `??` default');
      assert.equal(d.effect, 'allow');
    });

    it('the limit reserved against is the one of this request (a request-given cap)', async () => {
      const a = await engine.decide({ team: 'newteam', cost: '8', cap: '10' });
      assert.equal(a.effect, 'allow');
      assert.equal(budget(a).limit, '10.000000');
      // Same counter, a smaller cap on this request: $8 + $3 > $9.
      const b = await engine.decide({ team: 'newteam', cost: '3', cap: '9' });
      assert.equal(b.effect, 'deny');
      assert.equal(budget(b).limit, '9.000000');
    });

    it('at settle no limit is checked: the actual replaces the estimate even above the decision\'s limit, or a limit the usage names; later requests are held to their own', async () => {
      const a = await engine.decide({ team: 'settle', cost: '8', cap: '10' });
      assert.equal(a.effect, 'allow');
      assert.equal(budget(a).limit, '10.000000');
      // The usage merged at settle may even carry another cap: the limit is not evaluated again.
      await engine.settle(a, { cost: '12', cap: '1' });
      const peek = async (cap: string, cost: string) => budget(await engine.decide({ team: 'settle', cost, cap }));
      const b = await peek('15', '4');
      assert.equal(b.spent, '12.000000', 'the actual $12 stands, above the $10 the decision was reserved against');
      assert.equal(b.exceeded, true, '$12 + $4 > $15');
      const c = await peek('20', '4');
      assert.equal(c.exceeded, false, '$12 + $4 ≤ $20: each later request is held to its own limit');
      assert.equal(c.limit, '20.000000');
    });

    it('warn at from the request', async () => {
      const a = await engine.decide({ team: 'support', cost: '3', warn: 0.5 });
      assert.equal(budget(a).warned, true, '$3 of $5 crosses 50%');
      const b = await engine.decide({ team: 'research', cost: '3' });
      assert.equal(budget(b).warned, false, '$3 of $100 stays under 80%');
    });

    it('a null limit without `??`, a negative or a non-finite one fails closed with the budget error', async () => {
      const nul = await engine.decide({ team: 'capped', cost: '1' });
      assert.equal(nul.effect, 'allow', 'the `when` keeps per_call out without a cap');
      const ok = await engine.decide({ team: 'capped', cost: '1', cap: '2' });
      assert.equal(ok.effect, 'allow');
      assert.equal(budget(ok, 'per_call').limit, '2.000000');
      const over = await engine.decide({ team: 'capped', cost: '3', cap: '2' });
      assert.equal(over.effect, 'deny');
      const p2 = compile({ 'p.rein': SRC.replace('limit cap per request', 'limit team_caps[team] per request').replace('when cap != null and team == "capped"', 'when team == "capped"') });
      const e2 = new Engine(p2, { store, clock: () => NOON });
      const d = await e2.decide({ team: 'capped', cost: '1' });
      assert.equal(d.effect, 'deny');
      assert.deepEqual(d.errors.map((e) => [e.kind, e.name]), [['budget', 'per_call']]);
      assert.match(d.errors[0].message, /`limit` failed: the limit is null \(give a default with `\?\?`/);
      const neg = compile({ 'p.rein': SRC.replace('limit cap per request', 'limit (cap ?? $0) - $100 per request') });
      const d2 = await new Engine(neg, { store, clock: () => NOON }).decide({ team: 'capped', cost: '1', cap: '2' });
      assert.equal(d2.effect, 'deny');
      assert.match(d2.errors.map((e) => e.message).join('\n'), /`limit` failed: the limit is negative \(-98\)/);
      const inf = compile({ 'p.rein': SRC.replace('limit cap per request', 'limit (cap ?? $0) * 1e308 * 10 per request') });
      const d3 = await new Engine(inf, { store, clock: () => NOON }).decide({ team: 'capped', cost: '1', cap: '2' });
      assert.equal(d3.effect, 'deny');
      assert.match(d3.errors.map((e) => e.message).join('\n'), /`limit` failed|not finite|finite/);
    });
  });
}

describe('limits from data', () => {
  describe('checker', () => {
    const errs = (body: string) =>
      check({ 'p.rein': `policy p { default allow }\ninput { team: string, cost: money, n: int }\nlet caps = { a: $5 }\n${body}` }).diagnostics.filter((d) => d.severity === 'error');
    it('accepts a limit and a warn at that read the request and lets', () => {
      assert.deepEqual(errs('budget b {\n  limit caps[team] ?? $50 per day\n  charge cost\n  warn at 80%\n}\n'), []);
      assert.deepEqual(errs('budget b {\n  limit caps[team] per day\n  charge cost\n}\n'), [], 'nullable: a null is a run-time error');
    });
    it('types them: a money limit with a plain-number charge is REIN207; a string limit REIN213', () => {
      assert.deepEqual(errs('budget b {\n  limit caps[team] ?? $50 per day\n  charge n\n}\n').map((d) => d.code), ['REIN207']);
      assert.deepEqual(errs('budget b {\n  limit team per day\n  charge 1\n}\n').map((d) => d.code), ['REIN213']);
    });
    it('still rejects a limit that reads the clock or a budget', () => {
      const [d] = errs('budget b {\n  limit hour(now) per day\n  charge 1\n}\n');
      assert.equal(d.code, 'REIN213');
      assert.match(d.message, /may read the request and `let` data, but it reads the clock/);
    });
  });

  describe('without an engine (policy.evaluate) and in --explain', () => {
    const VIEW = SRC.replace('default allow', 'default allow') + `
rule near_cap {
  warn "\${team} may spend \${team_daily.limit} a day"
  when team_daily.limit < $20
}
rule capped_view {
  deny "per-call cap \${per_call.limit}"
  when per_call.limit > $0 and team == "view"
}
`;
    for (const codegen of [true, false]) {
      it(`rules read the limit evaluated for the request, not 0 (${codegen ? 'generated code' : 'closures'})`, () => {
        const policy = compile({ 'p.rein': VIEW }, { codegen });
        const s = policy.evaluate({ team: 'support', cost: '1' });
        assert.equal(s.effect, 'allow');
        assert.deepEqual(s.warnings.map((r) => [r.name, r.message]), [['near_cap', 'support may spend $5.00 a day']]);
        const r = policy.evaluate({ team: 'research', cost: '1' });
        assert.deepEqual(r.warnings, [], '$100 is not under $20');
        const o = policy.evaluate({ team: 'other', cost: '1', cap: '7' }, { explain: true });
        assert.deepEqual(o.warnings.map((x) => x.message), ['other may spend $7.00 a day'], 'the `??` chain on the request (explained)');
        // A limit that fails for this request (null without a default): no view, which reads as null
        // (as with the Engine), so \`per_call.limit > $0\` does not hold.
        const v = policy.evaluate({ team: 'view', cost: '1' });
        assert.equal(v.effect, 'allow');
        assert.deepEqual(v.errors, []);
        const v2 = policy.evaluate({ team: 'view', cost: '1', cap: '3' });
        assert.deepEqual(v2.reasons.map((x) => x.message), ['per-call cap $3.00']);
        assert.deepEqual(v2.warnings.map((x) => x.message), ['view may spend $3.00 a day']);
      });
    }

    it('an Engine agrees with policy.evaluate on these rules', async () => {
      const engine = new Engine(compile({ 'p.rein': VIEW }), { store: new MemoryBudgetStore(), clock: () => NOON });
      const policy = compile({ 'p.rein': VIEW });
      for (const req of [{ team: 'support', cost: '1' }, { team: 'view', cost: '1' }, { team: 'view', cost: '1', cap: '3' }, { team: 'other', cost: '1', cap: '30' }]) {
        const d = await engine.decide(req);
        const s = policy.evaluate(req, { now: NOON });
        assert.deepEqual([d.effect, d.reasons.map((r) => r.message), d.warnings.map((r) => r.message)], [s.effect, s.reasons.map((r) => r.message), s.warnings.map((r) => r.message)], JSON.stringify(req));
      }
      const d = await engine.decide({ team: 'support', cost: '1' });
      assert.deepEqual(d.warnings.map((r) => r.message), ['support may spend $5.00 a day']);
    });

    it('--explain shows a budget that did not apply with the limit this request would have had', async () => {
      const engine = new Engine(compile({ 'p.rein': SRC }), { store: new MemoryBudgetStore(), clock: () => NOON });
      const json = (d: unknown) => JSON.parse(JSON.stringify(d)) as { explain_budgets: { name: string; applied: boolean; limit: string; why: string }[] };
      const d = json(await engine.decide({ team: 'other', cost: '1', cap: '3' }, { explain: true }));
      const pc = d.explain_budgets.find((b) => b.name === 'per_call')!;
      assert.equal(pc.applied, false);
      assert.equal(pc.limit, '3.000000', 'the cap of this request, not 0');
      const e = json(await engine.decide({ team: 'other', cost: '1' }, { explain: true }));
      const pe = e.explain_budgets.find((b) => b.name === 'per_call')!;
      assert.match(pe.why, /not applied: .*; its limit fails for this request \(the limit is null/);
    });
  });

  describe('whole units, untyped data, separate messages (review of session 7)', () => {
    const now = new Date('2026-11-24T12:00:00Z');
    const H = 'policy p { default allow  on error deny }\n';
    const decideAll = async (src: string, reqs: unknown[]) => {
      const e = new Engine(compile({ 'p.rein': H + src }), { store: new MemoryBudgetStore(), clock: () => now });
      const out = [];
      for (const r of reqs) out.push(JSON.parse(JSON.stringify(await e.decide(r))) as { effect: string; budgets: { limit: unknown }[]; errors: { message: string }[] });
      return out;
    };
    const errs = (src: string) => check({ 'p.rein': H + src }).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);

    it('a constant fractional limit, burst or refill of plain numbers is REIN213 (counters hold whole units)', () => {
      assert.deepEqual(errs('input { n: int }\nbudget b {\n  limit 2.5 per day\n  charge 1\n}\n'), ['REIN213: `limit` must be a whole number (counters hold whole units), found 2.5']);
      assert.deepEqual(errs('input { n: int }\nbudget b {\n  burst 3 refill 0.5 per 1s\n  charge 1\n}\n'), ['REIN213: `refill` must be a whole number (counters hold whole units), found 0.5']);
      assert.deepEqual(errs('input { n: int }\nbudget b {\n  burst 2.5 refill 1 per 1s\n  charge 1\n}\n'), ['REIN213: `burst` must be a whole number (counters hold whole units), found 2.5']);
      assert.deepEqual(errs('input { c: money }\nbudget b {\n  limit $2.50 per day\n  charge c\n}\n'), [], 'money: whole micros');
    });

    it('a fractional limit read from the request counts whole units (rounded down); one beyond 2^53 fails the budget, not the store', async () => {
      const src = 'input { rate: number }\nbudget b {\n  limit rate per day\n  charge 1\n}\n';
      const ds = await decideAll(src, [{ rate: 2.5 }, { rate: 2.5 }, { rate: 2.5 }]);
      assert.deepEqual(ds.map((d) => [d.effect, d.budgets[0]!.limit]), [['allow', 2], ['allow', 2], ['deny', 2]]);
      const [huge] = await decideAll(src, [{ rate: 1e300 }]);
      assert.equal(huge!.effect, 'deny');
      assert.match(huge!.errors[0]!.message, /`limit` failed: the limit is too large \(1e\+300\)/);
      assert.doesNotMatch(huge!.errors[0]!.message, /store/);
    });

    it('a number read from untyped request data (`map<any>`) is in currency units on a money budget; a string fails closed', async () => {
      const src = 'input { caps: map<any>, team: string, cost: money }\nbudget b {\n  limit caps[team] ?? $50 per day\n  charge cost\n}\n';
      const [five, other, str] = await decideAll(src, [{ caps: { a: 5 }, team: 'a', cost: '1' }, { caps: {}, team: 'z', cost: '1' }, { caps: { a: '5' }, team: 'a', cost: '1' }]);
      assert.deepEqual([five!.effect, five!.budgets[0]!.limit], ['allow', '5.000000'], '5 is $5, not $0.000005');
      assert.deepEqual([other!.effect, other!.budgets[0]!.limit], ['allow', '50.000000'], 'the default');
      assert.equal(str!.effect, 'deny');
      assert.match(str!.errors[0]!.message, /`limit` failed: the limit is not a number \(string\)/);
      // typed data keeps its unit: a `let` of money literals is money
      const [typed] = await decideAll('input { team: string, cost: money }\nlet caps = { a: $5 }\nbudget b {\n  limit caps[team] ?? $50 per day\n  charge cost\n}\n', [{ team: 'a', cost: '1' }]);
      assert.equal(typed!.budgets[0]!.limit, '5.000000');
    });

    it('a bad `warn at` is reported as `warn at`, not as the limit', async () => {
      const [d] = await decideAll('input { w: number }\nbudget b {\n  limit 10 per day\n  charge 1\n  warn at w\n}\n', [{ w: 2 }]);
      assert.match(d!.errors[0]!.message, /`warn at` failed: `warn at` must be between 0% and 100%, found 200%/);
      assert.doesNotMatch(d!.errors[0]!.message, /`limit` failed/);
    });
  });

  suite('memory store', async () => ({ store: new MemoryBudgetStore(), close: async () => {} }));

  describe('Redis store (real redis-server)', function () {
    this.timeout(60_000);
    const redis = useRedis();
    let n = 0;
    suite('through the Lua reserve script', async () => {
      const store = new RedisBudgetStore({ url: redis.url, prefix: `limits${n++}:` });
      await store.ready();
      return { store, close: () => store.close() };
    });
  });
});
