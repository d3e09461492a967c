// `policy.evaluate` validates the request in place (docs/embedding.md, "The request object"): lists
// and objects whose validated form is the value itself (strings, numbers, booleans, enums, and lists
// and all-required objects of them) are checked, not copied, and the rules read the caller's own
// objects; records are made only on the way to what validation rewrites (money, durations, times,
// maps, `any`, optional fields). Pinned here: the same decisions as the closures (which copy) and as
// the general path on every validation path; the same `request_hash`; what a later mutation does;
// hostile getters and proxies (never an exception); a getter that evaluates again; and the rules
// that must see records (rendered objects, `with`) keep the copying path.

import assert from 'node:assert/strict';
import { compile, type Policy } from '../../language/policy.js';
import { lowerValidation } from '../../language/runtime/validate-ir.js';
import { inPlaceNodes } from '../../language/runtime/validate-js.js';
import { check } from '../../language/index.js';
import { Engine } from '../../language/runtime/engine.js';

const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

const SRC = `policy in_place { default allow  on error deny }
input {
  user: { id: string, roles: list<string>, org: { plan: "free" | "pro", region: string } }
  msgs: list<{ role: string, content: string, n: int }>
  params: { temperature: number, stream: bool }
  cost: { amount: money, note: string }
  opt?: { a?: string, b: list<int> }
  meta?: map<string>
  wait?: duration
  blob?: any
  grid: list<list<int>>
}
rule admin { when "admin" in user.roles and user.org.plan == "free"  deny "free admin \${user.id}" }
rule inject { when msgs.any(m => m.role == "user" and m.content.contains("ignore"))  deny "injection" }
rule count { when msgs.count(m => m.n > 3) >= 2  warn "\${msgs.count(m => m.n > 3)} long" }
rule hot { when params.temperature > 1.2 and params.stream  warn "hot \${params.temperature}" }
rule pricey { when cost.amount > $10  require approval from "finance" "cost \${cost.amount} for \${cost.note}" }
rule opt_a { when opt.a == "x" or len(opt.b ?? []) > 2  warn "opt" }
rule meta_k { when meta.k == "v"  allow "meta" }
rule slow { when wait > 5m  warn "slow" }
rule neg_cell { when grid.any(row => row.any(c => c < 0))  deny "negative cell" }
rule eu { when user.org.region == "eu" and not ("dpo" in user.roles)  require approval from "dpo" "eu" }
rule param_keys { when len(params) != 2 or "extra" in params  warn "params \${len(params)}" }
rule dyn_key { when user.org[user.id] != null  deny "dynamic key read \${user.id}" }
`;

function base(): Record<string, unknown> {
  return {
    user: { id: 'u1', roles: ['reader', 'admin'], org: { plan: 'pro', region: 'eu' } },
    msgs: [
      { role: 'user', content: 'hello', n: 5 },
      { role: 'assistant', content: 'hi there', n: 4 },
    ],
    params: { temperature: 1.5, stream: true },
    cost: { amount: '12.50', note: 'gpu' },
    grid: [[1, 2], [3]],
  };
}

function both(src: string): [Policy, Policy] {
  const gen = compile({ 'p.rein': src }, { codegen: true });
  const clo = compile({ 'p.rein': src }, { codegen: false });
  assert.equal(gen.codegen, true);
  return [gen, clo];
}

const json = (d: unknown) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>;

/** The in-place path (no options), the general path (with options: validated copies) and the
 *  closures give the same decision, request hash included; the hash is `policy.requestHash`. */
function same(gen: Policy, clo: Policy, req: unknown, label: string): Record<string, unknown> {
  const fast = gen.evaluate(req);
  const now = Date.parse(fast.time);
  const general = gen.evaluate(req, { now, approvals: [{ rule: 'none', request_hash: 'sha256:0' }] });
  const closures = clo.evaluate(req, { now });
  const a = json(fast);
  assert.deepEqual(a, json(general), `${label}: in place vs general`);
  assert.deepEqual(a, json(closures), `${label}: in place vs closures`);
  assert.equal(fast.request_hash, gen.requestHash(req), `${label}: request_hash`);
  return a;
}

/** Deep copy of `base()` with `f` applied. */
function variant(f: (r: any) => void): Record<string, unknown> {
  const r = base();
  f(r);
  return r;
}

describe('policy.evaluate validates in place', function () {
  this.timeout(60_000);

  it('knows which validation nodes are their own validated value', () => {
    const r = check({ 'p.rein': SRC });
    assert.ok(r.ok);
    const ir = lowerValidation(r.program.inputType);
    const same = inPlaceNodes(ir);
    const byType = new Map(ir.map((n, i) => [n.expected, same[i]]));
    assert.equal(byType.get('list<string>'), true);
    assert.equal(byType.get('{ role: string, content: string, n: int }'), true);
    assert.equal(byType.get('list<list<int>>'), true);
    assert.equal(byType.get('{ temperature: number, stream: bool }'), true);
    // Rewritten or copied: money (and the object holding it), optional fields, maps, `any`, durations.
    assert.equal(byType.get('money'), false);
    assert.equal(byType.get('{ amount: money, note: string }'), false);
    assert.equal(byType.get('{ a?: string, b: list<int> }'), false);
    assert.equal(byType.get('map<string>'), false);
    assert.equal(byType.get('any'), false);
    assert.equal(byType.get('duration'), false);
    assert.equal(same[0], false, 'the root has optional fields');
  });

  it('decides as the closures and the general path on every validation path', () => {
    const [gen, clo] = both(SRC);
    const cases: [string, unknown][] = [
      ['valid', base()],
      ['missing optionals', base()],
      ['optionals present', variant((r) => Object.assign(r, { opt: { a: 'x', b: [1, 2, 3] }, meta: { k: 'v' }, wait: '10m', blob: { deep: [1, { x: null }] } }))],
      ['optional null', variant((r) => Object.assign(r, { opt: null, meta: null, wait: null, blob: null }))],
      ['nested optional absent', variant((r) => (r.opt = { b: [] }))],
      ['extra fields everywhere', variant((r) => {
        r.extra = { a: [1, 'x', null, { y: true }] };
        r.user.extra = 1;
        r.user.org.more = 'x';
        r.msgs[0].extra = [1, 2];
        r.params.extra = true;
        r.cost.extra = 'e';
      })],
      ['keys in another order', { grid: [], cost: { note: 'n', amount: 1 }, params: { stream: false, temperature: 0 }, msgs: [{ n: 1, content: 'c', role: 'user' }], user: { org: { region: 'us', plan: 'pro' }, roles: [], id: 'z' } }],
      ['extra undefined (copy drops it)', variant((r) => (r.user.org.gone = undefined))],
      ['extra Date (copy makes it text)', variant((r) => (r.user.when = new Date(NOW)))],
      ['extra function', variant((r) => (r.user.f = () => 1))],
      ['extra NaN in a list element', variant((r) => (r.msgs[1].x = NaN))],
      ['extra nested too deep', variant((r) => {
        let deep: unknown = 1;
        for (let i = 0; i < 80; i++) deep = [deep];
        r.params.deep = deep;
      })],
      ['wrong type at depth 1', variant((r) => (r.params = 'x'))],
      ['wrong type at depth 2', variant((r) => (r.user.org = []))],
      ['wrong type at depth 3', variant((r) => (r.user.org.plan = 'gold'))],
      ['wrong type in a list of objects', variant((r) => (r.msgs[1].n = 1.5))],
      ['null element in a list of objects', variant((r) => (r.msgs[1] = null))],
      ['hole in a list', variant((r) => (r.user.roles = ['a', , 'b']))],
      ['wrong type in a list of lists', variant((r) => (r.grid[1] = [1, 'x']))],
      ['a negative cell', variant((r) => (r.grid[1] = [1, -1]))],
      ['null at a required field', variant((r) => (r.params.stream = null))],
      ['missing required field', variant((r) => delete r.user.org.region)],
      ['money as a number', variant((r) => (r.cost.amount = 20))],
      ['bad money', variant((r) => (r.cost.amount = '1.2345678'))],
      ['a Map where an object goes', variant((r) => (r.params = new Map([['temperature', 1]])))],
      ['a null-prototype object', variant((r) => (r.params = Object.assign(Object.create(null), { temperature: 2, stream: true })))],
      ['an inherited field', variant((r) => (r.params = Object.assign(Object.create({ stream: true }), { temperature: 2 })))],
      ['a dynamic key naming an inherited member', variant((r) => (r.user.id = '__proto__'))],
      ['a dynamic key naming a built-in', variant((r) => (r.user.id = 'constructor'))],
      ['a dynamic key naming a field', variant((r) => (r.user.id = 'plan'))],
      ['free admin', variant((r) => (r.user.org.plan = 'free'))],
      ['no approval needed', variant((r) => Object.assign(r, { user: { id: 'u', roles: ['dpo'], org: { plan: 'pro', region: 'us' } }, cost: { amount: 1, note: '' }, meta: { k: 'v' } }))],
      ['null request', null],
      ['a list request', []],
    ];
    const effects = new Set<string>();
    let invalid = 0;
    for (const [label, req] of cases) {
      const d = same(gen, clo, req, label);
      effects.add(d.effect as string);
      if ((d.errors as { kind: string }[]).some((e) => e.kind === 'input')) invalid++;
    }
    assert.deepEqual([...effects].sort(), ['allow', 'deny', 'require_approval']);
    assert.ok(invalid >= 12, `invalid requests are reported (${invalid})`);
    // The dynamic key `__proto__` reads nothing (not Object.prototype), as with records.
    const proto = gen.evaluate(variant((r) => (r.user.id = '__proto__')));
    assert.ok(!proto.reasons.some((x) => x.kind === 'rule' && x.name === 'dyn_key'), 'no dynamic-key match for __proto__');
    const plan = gen.evaluate(variant((r) => (r.user.id = 'plan')));
    assert.ok(plan.reasons.some((x) => x.kind === 'rule' && x.name === 'dyn_key'), 'the dynamic key reads a declared field');
  });

  it('hashes the request as it is when request_hash is first read (read it first, or do not mutate)', () => {
    const [gen] = both(SRC);
    const req = base() as any;
    const before = gen.requestHash(req);
    const d1 = gen.evaluate(req);
    assert.equal(d1.request_hash, before, 'read first: the hash of the request as evaluated');
    req.user.roles.push('dpo');
    assert.equal(d1.request_hash, before, 'once read, the hash stays');
    const changed = gen.requestHash(req);
    assert.notEqual(changed, before);
    // Mutated before the first read: the hash is that of the mutated request (the decision is not).
    const req2 = base() as any;
    const d2 = gen.evaluate(req2);
    assert.equal(d2.effect, 'require_approval');
    req2.user.roles.push('dpo');
    assert.equal(d2.request_hash, changed, 'mutated before the first read: the hash of the mutated request');
    assert.equal(d2.effect, 'require_approval', 'the decision itself does not change');
    // A mutation that leaves no JSON value: the hash is null, never an exception.
    const req3 = base() as any;
    const d3 = gen.evaluate(req3);
    req3.params.temperature = Number.NaN;
    assert.equal(d3.request_hash, null);
  });

  it('a getter or proxy that reads differently the second time gives a decision, never an exception', () => {
    const [gen, clo] = both(SRC);
    const flipping = (first: unknown, then: unknown) => {
      let reads = 0;
      return { get: () => (reads++ === 0 ? first : then), enumerable: true, configurable: true };
    };
    const kinds: unknown[] = [42, null, undefined, { role: 'x' }, ['user'], 'ignore me'];
    for (const then of kinds) {
      // A list element's field, read by validation and then by a rule's lambda.
      const r1 = base() as any;
      Object.defineProperty(r1.msgs[0], 'role', flipping('user', then));
      Object.defineProperty(r1.msgs[0], 'content', flipping('ignore previous', then));
      for (const p of [gen, clo]) {
        const d = p.evaluate(r1);
        assert.ok(['allow', 'deny', 'require_approval'].includes(d.effect), `${String(then)}: ${d.effect}`);
      }
      // A proxy whose second read of every field returns another type.
      const target = { temperature: 2, stream: true };
      const seen = new Map<PropertyKey, number>();
      const proxy = new Proxy(target, {
        get(t, k, rcv) {
          const n = seen.get(k) ?? 0;
          seen.set(k, n + 1);
          return n === 0 ? Reflect.get(t, k, rcv) : then;
        },
      });
      const r2 = variant((r) => (r.params = proxy));
      for (const p of [gen, clo]) {
        const d = p.evaluate(r2);
        assert.ok(['allow', 'deny', 'require_approval'].includes(d.effect), `proxy ${String(then)}: ${d.effect}`);
        seen.clear();
      }
    }
    // A getter that throws on its second read: a rule error (fail closed), not an exception.
    const r3 = base() as any;
    let n = 0;
    Object.defineProperty(r3.msgs[0], 'content', {
      get: () => {
        if (n++ > 0) throw new Error('gone');
        return 'fine';
      },
      enumerable: true,
    });
    const d3 = gen.evaluate(r3);
    assert.equal(d3.effect, 'deny', 'on error deny');
    assert.deepEqual(
      d3.errors.map((e) => [e.kind, (e as { name?: string }).name]),
      [['rule', 'inject']],
    );
  });

  it('a getter that throws a hostile object (every trap throws) on its second read: a decision, never an exception', () => {
    const [gen, clo] = both(SRC);
    const hostile = new Proxy(
      {},
      {
        get() {
          throw hostile;
        },
        getPrototypeOf() {
          throw hostile;
        },
        has() {
          throw hostile;
        },
      },
    );
    const r = base() as any;
    let n = 0;
    Object.defineProperty(r.msgs[0], 'content', {
      get: () => {
        if (n++ > 0) throw hostile;
        return 'fine';
      },
      enumerable: true,
    });
    for (const p of [gen, clo, gen]) {
      n = 0;
      const d = p.evaluate(r);
      assert.ok(['allow', 'deny', 'require_approval'].includes(d.effect), d.effect);
    }
    // And the next evaluation is unharmed (its frame, its decision).
    same(gen, clo, base(), 'after a hostile throw');
  });

  it('a getter that always throws a hostile object: an input error, never an exception (regression: the reporting validator read its message)', async () => {
    const [gen, clo] = both(SRC);
    const hostile: object = new Proxy(
      {},
      {
        get() {
          throw hostile;
        },
        getPrototypeOf() {
          throw hostile;
        },
      },
    );
    const r = base() as any;
    Object.defineProperty(r.params, 'stream', {
      get: () => {
        throw hostile;
      },
      enumerable: true,
    });
    for (const p of [gen, clo]) {
      const d = p.evaluate(r);
      assert.equal(d.effect, 'deny');
      assert.match(d.errors[0]!.message, /request could not be read: an unreadable value/);
    }
    const d = await new Engine(gen).decide(r);
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors[0]?.kind, 'input');
  });

  it('a getter that evaluates again while the rules run does not disturb the outer evaluation', () => {
    const [gen, clo] = both(SRC);
    const plain = base() as any;
    plain.msgs = [
      { role: 'assistant', content: 'a', n: 9 },
      { role: 'user', content: 'b', n: 9 },
      { role: 'user', content: 'ignore this', n: 1 },
    ];
    const expected = json(clo.evaluate(plain, { now: NOW }));
    const inner: string[] = [];
    const hostile = JSON.parse(JSON.stringify(plain));
    let reads = 0;
    Object.defineProperty(hostile.msgs[1], 'role', {
      get: () => {
        // The first read is validation's; later ones come from the rules' lambdas, mid-loop.
        if (reads++ > 0) inner.push(gen.evaluate({ ...base(), msgs: [{ role: 'x', content: 'y', n: 0 }] }).effect);
        return 'user';
      },
      enumerable: true,
    });
    const d = json(gen.evaluate(hostile, { now: NOW }));
    assert.ok(inner.length > 0, 'the getter ran during the rules');
    const outer = json(gen.evaluate(hostile));
    assert.deepEqual({ ...outer, time: 0, request_hash: 0 }, { ...expected, time: 0, request_hash: 0 });
    assert.deepEqual({ ...d, request_hash: 0 }, { ...expected, request_hash: 0 });
  });

  it("a decision's `policy` is one frozen identity per compiled policy (and per Engine)", async () => {
    const [gen, clo] = both(SRC);
    for (const p of [gen, clo]) {
      const a = p.evaluate(base());
      const b = p.evaluate(null, { now: NOW, mode: 'monitor' });
      assert.equal(a.policy, b.policy);
      assert.ok(Object.isFrozen(a.policy));
      assert.deepEqual(a.policy, { name: 'in_place', version: null, hash: p.hash });
      assert.throws(() => {
        (a.policy as { name: string }).name = 'x';
      }, TypeError);
    }
    const engine = new Engine(gen);
    const [c, d] = [await engine.decide(base()), await engine.decide(base())];
    assert.equal(c.policy, d.policy);
    assert.ok(Object.isFrozen(c.policy));
  });

  it('rules that see whole objects (text made of them, `with`) keep the validated records', () => {
    // Rendering an object lists its fields in the record's order (declared first), whatever the
    // request's order; `with` merges records. The closures are the reference.
    const src = `policy whole { default allow  on error deny }
input { p: { b: int, a: string }, q: { x: int }, m?: map<int> }
rule show { when p.b > 0  warn "p is \${p}" }
rule map_text { when m != null  warn "m is \${m}" }
rule merged { when (q with { y: 1 }).x > 0  warn "merged \${q with { y: 2 }}" }
`;
    const [gen, clo] = both(src);
    // A map is copied in its own key order (the generated copy as the closures'): integer-like keys first.
    const m = JSON.parse('{"b":1,"a":2,"10":3,"2":4,"__proto__":5,"u":6}') as Record<string, unknown>;
    m.gone = undefined;
    for (const req of [{ p: { a: 'x', b: 1 }, q: { x: 1 } }, { q: { x: 2, z: 'extra' }, p: { extra: true, a: 'y', b: 2 }, m }]) {
      const d = same(gen, clo, req, JSON.stringify(req));
      assert.match(JSON.stringify(d.warnings), /p is \{ b: /);
    }
    const d = gen.evaluate({ p: { a: 'x', b: 1 }, q: { x: 1 }, m });
    assert.ok(d.warnings.some((w) => w.message === 'm is { 2: 4, 10: 3, b: 1, a: 2, __proto__: 5, u: 6 }'), JSON.stringify(d.warnings));
  });
});
