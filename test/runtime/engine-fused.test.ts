// The engine's fused path (validation, rules and budgets in one pass: `compiled.fused` + the engine's
// finisher) decides exactly as the general path. Two engines over the same sequence of requests, one on
// generated code (fused) and one on closures (general path), each with its own store and the same clock,
// must give identical decisions (reservation ids aside), counters and settles.

import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Decision } from '../../language/runtime/decision.js';
import { rng } from '../helpers/prng.js';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

const SRC = `policy fused_engine { default allow  on error deny  currency "USD" }
input {
  agent: { id: string, team: string }
  action: { kind: "tool" | "model" | "email", tool?: string, to?: string }
  cost: { estimate: money, tokens: int }
  meta?: any
  risky?: bool
}
rule no_shell { when action.tool == "shell"  deny "no shell for \${agent.id}" }
rule mail { when action.kind == "email" and not (action.to ?? "").ends_with("@corp.test")  require approval from "lead" "mail to \${action.to}" }
rule reads { when action.tool == "read"  allow "read" }
rule big { when cost.tokens > 9000  warn "big \${cost.tokens}" }
rule ratio { when cost.tokens > 0 and 100 / (cost.tokens - 7) > 50  deny "odd ratio" }
@monitor
rule watch { when agent.team == "ops"  deny "watching ops" }
budget team_daily {
  limit $20 per day
  charge cost.estimate
  by agent.team
  warn at 70%
  on exceed deny "team \${agent.team} is out of money"
}
budget mail_rate {
  limit 3 per hour
  charge 1
  by agent.id
  when action.kind == "email"
  on exceed require approval from "lead" "too many emails"
}
budget token_cap {
  limit 20_000 per request
  charge cost.tokens
  on exceed warn "a big request"
}
budget model_budget {
  limit $5 per day
  charge cost.estimate * (if action.kind == "model" then 2 else 1)
  by agent.id, agent.team
  when action.kind == "model"
}
@monitor
budget risk_watch {
  limit 2
  charge if risky ?? false then 1 else 0
  by agent.team
}
budget fragile {
  limit 1000 per hour
  charge if cost.tokens == 5 then 1 / (cost.tokens - 5) else 1
  when action.tool == "write"
}
budget tagged {
  limit 4
  charge 1
  by meta
  when meta != null
  on exceed warn "meta seen often"
}
budget tool_burst {
  burst 6 refill 1 per 1m
  charge 1
  by agent.id
  when action.kind == "tool"
  warn at 50%
  on exceed warn "tool burst"
}
@monitor
budget monthly_watch {
  limit $6 per 2h anchored
  charge cost.estimate
  by agent.team
  warn at 30%
}
`;

function requests(n: number, seed: number): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const kind = pick(['tool', 'tool', 'model', 'email']);
    const action: Record<string, unknown> = { kind };
    if (kind === 'tool') action.tool = pick(['read', 'write', 'shell']);
    if (kind === 'email') action.to = pick(['a@corp.test', 'b@else.test', undefined]);
    const req: Record<string, unknown> = {
      agent: { id: pick(['a1', 'a2', 'a3']), team: pick(['ops', 'dev', 'fin']) },
      action,
      cost: { estimate: pick(['0.5', 1.25, '3', 0, '0.000001']), tokens: pick([5, 7, 100, 9500, 25_000]) },
    };
    if (r() < 0.3) req.meta = pick([['x'], ['x', 'y'], 'm', { k: 1 }]);
    if (r() < 0.3) req.risky = r() < 0.5;
    if (r() < 0.05) (req.cost as Record<string, unknown>).estimate = pick(['-1', 'abc', null]); // invalid
    if (r() < 0.03) req.extra = { note: 'kept for the hash' };
    out.push(req);
  }
  return out;
}

/** The decision as JSON, with the (random) reservation id replaced. */
function plain(d: Decision): unknown {
  return JSON.parse(JSON.stringify(d, (k, v) => (k === 'reservation' && v ? { ...v, id: 'ID' } : v)));
}

describe('Engine: the fused path decides as the general path', function () {
  this.timeout(30_000);

  it('over 1,500 requests with every kind of budget, settles included', async () => {
    const fusedPolicy = compile({ 'p.rein': SRC }, { codegen: true });
    const generalPolicy = compile({ 'p.rein': SRC }, { codegen: false });
    assert.equal(typeof fusedPolicy.compiled.fused, 'function');
    assert.equal(generalPolicy.compiled.fused, undefined);
    let now = T0;
    const clock = () => new Date(now);
    const fusedStore = new MemoryBudgetStore();
    const generalStore = new MemoryBudgetStore();
    const fused = new Engine(fusedPolicy, { store: fusedStore, clock });
    const general = new Engine(generalPolicy, { store: generalStore, clock });
    // The fused path is taken: count its calls.
    let fusedCalls = 0;
    const f = fusedPolicy.compiled.fused!;
    fusedPolicy.compiled.fused = (...args) => {
      fusedCalls++;
      return f(...args);
    };

    const effects = new Map<string, number>();
    const kinds = new Set<string>();
    const reqs = requests(1500, 7);
    for (let i = 0; i < reqs.length; i++) {
      now += 37_000; // windows roll over: hours and a day
      const a = await fused.decide(reqs[i]);
      const b = await general.decide(reqs[i]);
      assert.deepEqual(plain(a), plain(b), `request ${i}: ${JSON.stringify(reqs[i])}`);
      assert.equal(a.request_hash, b.request_hash);
      effects.set(a.effect, (effects.get(a.effect) ?? 0) + 1);
      for (const x of [...a.reasons, ...a.warnings, ...a.monitored]) kinds.add(`${x.kind}:${x.name ?? ''}`);
      if (a.reservation && i % 3 !== 0) {
        const usage = i % 2 ? { cost: { estimate: '0.1' } } : {};
        await fused.settle(a, usage);
        await general.settle(b, usage);
      }
    }
    assert.ok(fusedCalls >= 1500, `every decision tried the fused path (${fusedCalls})`);
    // The sequence exercises what it claims to.
    for (const e of ['allow', 'deny', 'require_approval']) assert.ok((effects.get(e) ?? 0) > 20, `${e}: ${effects.get(e)}`);
    for (const k of ['rule:no_shell', 'rule:reads', 'rule:big', 'error:ratio', 'rule:watch', 'budget:team_daily', 'budget:mail_rate', 'budget:token_cap', 'budget:risk_watch', 'budget:tagged', 'budget:tool_burst', 'budget:monthly_watch', 'error:fragile', 'error:'])
      assert.ok(kinds.has(k), `the requests exercise ${k} (seen: ${[...kinds].join(', ')})`);
    // Both stores hold the same counters.
    const keys = [...new Set(reqs.flatMap((r) => ['team_daily', 'mail_rate', 'model_budget'].map((b) => { try { return fused.counterKeyFor(r, b, new Date(now)); } catch { return null; } })))].filter((k): k is string => k !== null);
    assert.ok(keys.length > 5);
    assert.deepEqual(fusedStore.peekSync(keys, now), generalStore.peekSync(keys, now));
  });

  it('a throwing store falls back to the general path: the `on error` decision, never a rejection', async () => {
    const policy = compile({ 'p.rein': SRC });
    class Broken extends MemoryBudgetStore {
      override reserveSync(): never {
        throw new Error('disk on fire');
      }
    }
    const engine = new Engine(policy, { store: new Broken(), clock: () => new Date(T0) });
    const d = await engine.decide({ agent: { id: 'a', team: 'dev' }, action: { kind: 'tool', tool: 'write' }, cost: { estimate: '1', tokens: 5 } });
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors[0]?.kind, 'store');
    assert.match(d.errors[0]!.message, /disk on fire/);
    assert.equal(d.reservation, null);
  });

  it('keeps a copy of the request for settle when a `by` tuple holds a list (reachable from the decision)', async () => {
    const policy = compile({ 'p.rein': SRC });
    const store = new MemoryBudgetStore();
    const engine = new Engine(policy, { store, clock: () => new Date(T0) });
    const req = { agent: { id: 'a', team: 'dev' }, action: { kind: 'tool', tool: 'write' }, cost: { estimate: '1', tokens: 6 }, meta: ['x'] };
    const d = await engine.decide(req);
    assert.ok(d.reservation);
    const tagged = d.budgets.find((b) => b.name === 'tagged')!;
    (tagged.key[0] as string[]).push('mutated'); // the decision's key is the caller's to change
    req.cost.estimate = '9';
    await engine.settle(d); // settles the estimate of the request as decided
    const key = engine.counterKeyFor({ ...req, meta: ['x'] }, 'team_daily', new Date(T0))!;
    assert.deepEqual(store.peekSync([key], T0), [{ spent: 1_000_000, reserved: 0 }]);
    const tagKey = engine.counterKeyFor({ ...req, meta: ['x'] }, 'tagged', new Date(T0))!;
    assert.deepEqual(store.peekSync([tagKey], T0), [{ spent: 1, reserved: 0 }]);
  });

  describe('regressions from review: the fused path behaves as the general path', () => {
    const small = `policy p { default allow  on error deny }
input { who: string }
rule no_z { when who == "z"  deny "no z" }
budget b { limit 5 per hour  charge 1  by who }
`;
    const both = () => [compile({ 'p.rein': small }, { codegen: true }), compile({ 'p.rein': small }, { codegen: false })] as const;

    it('`approvals: null` is read as the general path reads it, and a non-boolean `explain` is a TypeError on both (review h11r R8)', async () => {
      for (const policy of both()) {
        const e = new Engine(policy, { clock: () => new Date(T0) });
        const a = await e.decide({ who: 'a' }, { approvals: null as unknown as [] });
        assert.equal(a.effect, 'allow');
        assert.ok(a.reservation);
        await assert.rejects(e.decide({ who: 'a' }, { explain: 1 as unknown as boolean }), /option `explain` must be true or false/);
        await assert.rejects(e.decide({ who: 'a' }, { explain: 1 as unknown as boolean, approvals: [] }), /option `explain` must be true or false/);
        assert.equal(policy.evaluate({ who: 'a' }, { approvals: null as unknown as [] }).effect, 'allow');
      }
    });

    it('a decide re-entered from a request getter keeps both decisions and the store right', () => {
      for (const policy of both()) {
        const store = new MemoryBudgetStore();
        const e = new Engine(policy, { store, clock: () => new Date(T0) });
        let inner: Decision | undefined;
        const req = {
          get who() {
            if (!inner) inner = e.decideSync({ who: 'y' });
            return 'z';
          },
        };
        const outer = e.decideSync(req);
        assert.equal(outer.effect, 'deny');
        assert.equal(outer.reservation, null);
        assert.equal(inner?.effect, 'allow');
        assert.ok(inner?.reservation);
        assert.deepEqual(store.peekSync([e.counterKeyFor({ who: 'y' }, 'b')!], T0), [{ spent: 0, reserved: 1 }], `codegen=${policy.codegen}`);
      }
    });

    it('reads the clock once per decision, also when it falls back to the general path', async () => {
      for (const policy of both()) {
        let reads = 0;
        const e = new Engine(policy, { clock: () => new Date(T0 + 999 + 1000 * reads++) });
        const d = await e.decide({ who: 42 }); // invalid: the fused path hands over to the general one
        assert.equal(d.effect, 'deny');
        assert.equal(reads, 1, `codegen=${policy.codegen}`);
        assert.equal(d.time, new Date(T0 + 999).toISOString());
      }
    });

    it('a store that fails once gives the store-failure decision; the store is not called again', async () => {
      for (const policy of both()) {
        class FailsOnce extends MemoryBudgetStore {
          calls = 0;
          override reserveSync(req: Parameters<MemoryBudgetStore['reserveSync']>[0]) {
            if (this.calls++ === 0) throw new Error('blip');
            return super.reserveSync(req);
          }
        }
        const store = new FailsOnce();
        const e = new Engine(policy, { store, clock: () => new Date(T0) });
        const d = await e.decide({ who: 'a' });
        assert.equal(d.effect, 'deny');
        assert.deepEqual(d.errors.map((x) => x.kind), ['store']);
        assert.equal(store.calls, 1, `codegen=${policy.codegen}`);
        assert.equal((await e.decide({ who: 'a' })).effect, 'allow');
      }
    });

    it('decideSync with a store the engine does not call directly (a subclass overriding an async method) uses that store (regression)', () => {
      class Slow extends MemoryBudgetStore {
        override async reserve(req: Parameters<MemoryBudgetStore['reserve']>[0]) {
          return super.reserve(req);
        }
      }
      for (const policy of both()) {
        const store = new Slow();
        const e = new Engine(policy, { store, clock: () => new Date(T0) });
        const effects = [0, 1, 2, 3, 4, 5, 6].map(() => e.decideSync({ who: 'a' }).effect);
        assert.deepEqual(effects, ['allow', 'allow', 'allow', 'allow', 'allow', 'deny', 'deny'], `codegen=${policy.codegen}`);
        assert.deepEqual(store.peekSync([e.counterKeyFor({ who: 'a' }, 'b')!], T0), [{ spent: 0, reserved: 5 }]);
      }
    });

    it('a release that fails after a committed non-allow decision still gives the decision (regression)', async () => {
      const src = `policy p { default allow  on error deny }
input { who: string, n: int }
budget w { limit 1 per hour  charge 2  by who  on exceed warn "over \${100 / n}" }
`;
      class ReleaseFails extends MemoryBudgetStore {
        override releaseSync(): never {
          throw new Error('release failed');
        }
      }
      for (const codegen of [true, false]) {
        const e = new Engine(compile({ 'p.rein': src }, { codegen }), { store: new ReleaseFails(), clock: () => new Date(T0) });
        const d = await e.decide({ who: 'a', n: 0 });
        assert.equal(d.effect, 'deny', `codegen=${codegen}`);
        assert.equal(d.reservation, null);
        assert.deepEqual(d.errors.map((x) => x.kind), ['budget']);
      }
    });

    it('an exceeded budget whose `on exceed` message fails still blocks, also under `on error allow` (regression: it allowed)', async () => {
      const src = `policy p { default allow  on error allow }
input { who: string, n: int }
budget cap { limit 1 per hour  charge 2  by who  on exceed deny "over \${100 / n}" }
budget ask { limit 1 per hour  charge 2  by who  on exceed require approval from "lead" "ask \${100 / n}" }
`;
      for (const codegen of [true, false]) {
        const store = new MemoryBudgetStore();
        const e = new Engine(compile({ 'p.rein': src }, { codegen }), { store, clock: () => new Date(T0) });
        const d = await e.decide({ who: 'a', n: 0 });
        assert.equal(d.effect, 'deny', `codegen=${codegen}`);
        // The failed message gives way to the default one (it was null).
        assert.deepEqual(d.reasons.map((r) => [r.kind, r.name, r.message]), [['budget', 'cap', 'budget `cap` would go over its limit of 1']]);
        assert.deepEqual(d.approvals.map((a) => [a.kind, a.name, a.message]), [['budget', 'ask', 'budget `ask` would go over its limit of 1']]);
        assert.deepEqual(d.errors.map((x) => [x.kind, x.name]), [['budget', 'cap'], ['budget', 'ask']]);
        assert.equal(d.reservation, null);
        // With a message that works, the same request is denied with it.
        const ok = await e.decide({ who: 'a', n: 4 });
        assert.equal(ok.effect, 'deny');
        assert.equal(ok.reasons[0]?.message, 'over 25');
      }
    });

    it('an engine settles only its own reservations, even on a shared memory store (regression)', async () => {
      const store = new MemoryBudgetStore();
      const a = new Engine(compile({ 'p.rein': small }), { store, clock: () => new Date(T0) });
      const other = `input { who: string, cost: money }
budget b { limit $5 per hour  charge cost  by who }
`;
      const b = new Engine(compile({ 'o.rein': other }), { store, clock: () => new Date(T0) });
      const d = await a.decide({ who: 'x' });
      assert.ok(d.reservation);
      const key = a.counterKeyFor({ who: 'x' }, 'b')!;
      await b.settle(d, { cost: '3' }); // not b's: the estimate stands
      assert.deepEqual(store.peekSync([key], T0), [{ spent: 0, reserved: 1 }]);
      await a.settle(d);
      assert.deepEqual(store.peekSync([key], T0), [{ spent: 1, reserved: 0 }]);
    });
  });
});