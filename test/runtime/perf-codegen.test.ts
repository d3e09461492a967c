// Generated code (`codegen: true`, the Node default) and closures (`codegen: false`, what browsers
// under a strict CSP run) must give identical decisions: over the benchmark's requests, mutated and
// hostile variants of them, and the examples' requests and test blocks.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type Policy } from '../../language/policy.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { generateRequests } from '../../bench/peers.js';
import { exampleSetNames } from '../helpers/examples.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

function readSet(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.rein')).sort()) files[f] = readFileSync(join(dir, f), 'utf8');
  return files;
}

/** The set's data files (`data … from "x.json"`: the examples keep them beside the `.rein` files). */
function dataOf(dir: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'input.json' && f !== 'rein.json')) data[f] = readFileSync(join(dir, f), 'utf8');
  return data;
}

const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

function both(files: Record<string, string>, data?: Record<string, string>): [Policy, Policy] {
  const gen = compile(files, { codegen: true, data });
  const clo = compile(files, { codegen: false, data });
  assert.equal(gen.codegen, true, 'code generation works on Node');
  assert.equal(clo.codegen, false);
  return [gen, clo];
}

function same(gen: Policy, clo: Policy, req: unknown, label: string, opts: Record<string, unknown> = {}): void {
  const a = JSON.parse(JSON.stringify(gen.evaluate(req, { now: NOW, ...opts })));
  const b = JSON.parse(JSON.stringify(clo.evaluate(req, { now: NOW, ...opts })));
  assert.deepEqual(a, b, label);
  if (Object.keys(opts).length === 0) {
    withoutOptions(gen, req, `${label} (codegen, no options)`);
    withoutOptions(clo, req, `${label} (closures, no options)`);
  }
}

/** An approval for no rule: it grants nothing, but makes `evaluate` take the general assembly path. */
const NO_APPROVAL = [{ rule: 'no such rule', request_hash: 'sha256:0' }];

/** `evaluate(req)` (no options: the short assembly path) gives the decision of the general assembly at its time. */
function withoutOptions(p: Policy, req: unknown, label: string): void {
  const d = p.evaluate(req);
  const now = Date.parse(d.time);
  assert.ok(Number.isFinite(now), label);
  const e = p.evaluate(req, { now, approvals: NO_APPROVAL });
  assert.deepEqual(JSON.parse(JSON.stringify(d)), JSON.parse(JSON.stringify(e)), label);
  assert.deepEqual(Object.keys(d), Object.keys(e), label);
  assert.equal(d.request_hash, e.request_hash, label);
  // With `now` (and an empty approval list, or `mode: 'enforce'`) the short path is taken too.
  const f = p.evaluate(req, { now: new Date(now), approvals: [], mode: 'enforce' });
  assert.deepEqual(JSON.parse(JSON.stringify(f)), JSON.parse(JSON.stringify(e)), label);
}

/** Deterministic variants of a request: wrong types, nulls, missing and extra fields, hostile keys. */
function variants(req: Record<string, unknown>, i: number): unknown[] {
  const clone = () => JSON.parse(JSON.stringify(req)) as Record<string, Record<string, unknown>>;
  const out: unknown[] = [];
  const a = clone();
  a.cost.estimate = ['0.1', '-1', 'abc', 1e-7, 12.3456789, null, '1e2'][i % 7];
  out.push(a);
  const b = clone();
  delete b[['agent', 'session', 'action', 'data', 'cost'][i % 5]];
  out.push(b);
  const c = clone();
  c.action.kind = ['tool_call', 'nope', 3, null][i % 4];
  c.action.args = [{ amount: '5000' }, { amount: 5000.5 }, { __proto__: 1, constructor: 'x' }, null, [1]][i % 5];
  out.push(c);
  const d = JSON.parse(JSON.stringify(req).replace('{', '{"__proto__":{"admin":true},"extra":[1,{"x":null}],'));
  out.push(d);
  const e = clone();
  e.agent.autonomy = [2.5, '3', Infinity, -1][i % 4] as number;
  e.session.actions = 600;
  e.action.text = i % 2 ? 'CONFIDENTIAL x' : 7;
  out.push(e);
  return out;
}

describe('codegen and closures give identical decisions', function () {
  this.timeout(60_000);

  it('on the benchmark policy: 3000 requests and 2500 mutated or hostile variants', () => {
    const [gen, clo] = both(readSet(join(root, 'bench/policy')));
    const reqs = generateRequests(3000).map((r) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
    let invalid = 0;
    reqs.forEach((r, i) => {
      same(gen, clo, r, `request ${i}`);
      if (i % 6 === 0)
        for (const v of variants(r, i)) {
          same(gen, clo, v, `variant of ${i}`);
          if (gen.evaluate(v, { now: NOW }).errors.length > 0) invalid++;
        }
      if (i % 50 === 0) same(gen, clo, r, `explain ${i}`, { explain: true });
      if (i % 50 === 1) same(gen, clo, r, `monitor ${i}`, { mode: 'monitor' });
    });
    assert.ok(invalid > 100, `the variants exercise invalid input (${invalid})`);
  });

  it('on hostile and odd requests', () => {
    const [gen, clo] = both(readSet(join(root, 'bench/policy')));
    const cyc: Record<string, unknown> = { agent: { id: 'a', team: 't', autonomy: 1 } };
    cyc.self = cyc;
    const getter = { agent: { id: 'a', team: 't', autonomy: 1 }, get session() { throw new Error('boom'); } };
    for (const r of [undefined, null, 42, 'x', [], {}, cyc, getter, Object.create({ agent: { id: 'a' } }), JSON.parse('{"__proto__":{"admin":true}}')])
      same(gen, clo, r, 'hostile');
  });

  it('never reads a field through a prototype, even a polluted Object.prototype', () => {
    const [gen, clo] = both(readSet(join(root, 'bench/policy')));
    const req = { agent: { id: 'a', team: 'research', autonomy: 1 }, session: { id: 's', actions: 1 }, action: { kind: 'tool_call' }, data: { classification: 'public' }, cost: { estimate: 0, tokens: 1 } };
    const proto = Object.prototype as Record<string, unknown>;
    proto.tool = 'shell.exec';
    try {
      for (const p of [gen, clo]) {
        const d = p.evaluate(req, { now: NOW });
        assert.equal(d.effect, 'allow', 'the inherited `tool` is not the request\'s');
        assert.deepEqual(d.errors, []);
      }
    } finally {
      delete proto.tool;
    }
    // An object with a prototype of its own is not plain data: a validation error at its path, its
    // inherited fields never read (issue 11 §3), on both backends.
    const action = Object.assign(Object.create({ tool: 'db.drop' }), { kind: 'tool_call' });
    for (const p of [gen, clo]) assert.deepEqual(p.evaluate({ ...req, action }, { now: NOW }).errors.map((e) => (e as { path?: string }).path), ['$.action']);
    const agent = Object.create({ id: 'a', team: 'research', autonomy: 1 });
    for (const p of [gen, clo]) assert.equal(p.evaluate({ ...req, agent }, { now: NOW }).errors[0]?.path, '$.agent');
  });

  it('never takes an inherited field for an own one, even when a getter swaps the prototype while it is read (regression)', () => {
    const src = `policy p { default deny  on error deny }
input { user: { role?: string, name: string } }
rule admins { when user.role == "admin"  allow "admin" }
`;
    const [gen, clo] = both({ 'p.rein': src });
    const request = () => {
      const proto = {
        get role() {
          Object.setPrototypeOf(this, Object.prototype);
          return 'admin';
        },
      };
      const user = Object.create(proto) as Record<string, unknown>;
      user.name = 'mallory';
      return { user };
    };
    for (const p of [gen, clo]) assert.equal(p.evaluate(request(), { now: NOW }).effect, 'deny', `codegen=${p.codegen}`);
    // An array is never an object, whatever its prototype.
    const arr = Object.assign([], { name: 'x', role: 'admin' });
    Object.setPrototypeOf(arr, Object.prototype);
    for (const p of [gen, clo]) assert.equal(p.evaluate({ user: arr }, { now: NOW }).errors[0]?.path, '$.user', `codegen=${p.codegen}`);
  });

  it('on messages, approvers, lambdas, defs and run-time errors', () => {
    const src = `policy odd { default allow  on error deny }
input {
  user: { name: string, tags: list<string>, limit: money, role?: "admin" | "dev" }
  action: { kind: string, args?: map<any>, n: int }
}
def twice(x: int) = x * 2
rule tagged {
  when user.tags.any(t => t.starts_with("x")) and action.n > 0
  warn "tags \${user.tags} of \${user.name}: \${user.tags.filter(t => t.starts_with("x"))} limit \${user.limit} twice \${twice(action.n)}"
}
rule approve {
  when (action.args.to ?? "").ends_with("@evil.test") or user.role == "dev"
  require approval from "lead-\${user.name}" "send \${action.args} as \${user.role}"
}
rule broken {
  when action.kind == "div"
  deny "ratio \${100 / (action.n - action.n)}"
}
rule broken_when {
  when 10 / action.n > 1 and action.kind in ["a", "b"]
  deny "small n"
}
rule negated {
  when not (action.kind != "x") and user.name.contains("o")
  unless user.tags.contains("safe")
  allow
}
`;
    const [gen, clo] = both({ 'odd.rein': src });
    const reqs: unknown[] = [];
    for (let i = 0; i < 200; i++)
      reqs.push({
        user: { name: ['bob', 'ann', 'joe'][i % 3], tags: [['x1', 'y'], ['safe', 'x'], []][i % 3], limit: ['12.5', 0.031, 7][i % 3], role: [undefined, 'admin', 'dev', null][(i >> 1) % 4] },
        action: { kind: ['div', 'a', 'x', 'b'][i % 4], args: [{ to: 'm@evil.test' }, undefined, { to: 3 }, { nested: { a: [1] } }][(i >> 4) % 4], n: [0, 1, 5, -3][(i >> 2) % 4] },
      });
    for (const [i, r] of reqs.entries()) {
      same(gen, clo, r, `odd ${i}`);
      same(gen, clo, r, `odd ${i} explain`, { explain: true });
    }
    const seen = new Set<string>();
    for (const r of reqs) {
      const d = gen.evaluate(r, { now: NOW });
      for (const x of [...d.reasons, ...d.warnings]) seen.add(`${x.kind}:${x.name ?? ''}`);
    }
    // `error:approve`: `.ends_with()` on the number 3 (an `any` value) fails the rule (issue 11 §6).
    for (const k of ['error:broken', 'error:broken_when', 'error:approve', 'rule:approve', 'rule:tagged', 'rule:negated', 'default:'])
      assert.ok(seen.has(k), `the requests exercise ${k} (seen: ${[...seen].join(', ')})`);
  });

  for (const ex of exampleSetNames()) {
    it(`on examples/${ex}: its requests and its test blocks`, () => {
      const dir = join(root, 'examples', ex);
      const [gen, clo] = both(readSet(dir), dataOf(dir));
      const reqDir = join(dir, 'requests');
      const files = readdirSync(reqDir).filter((f) => f.endsWith('.json'));
      assert.ok(files.length > 0);
      for (const f of files) {
        const req = JSON.parse(readFileSync(join(reqDir, f), 'utf8'));
        same(gen, clo, req, `${ex}/${f}`);
        same(gen, clo, req, `${ex}/${f} explain`, { explain: true });
      }
      // Reservation ids are random: compare everything else.
      const strip = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'reservation' && v ? { ...v, id: 'id' } : v)));
      const a = strip(runTests(gen));
      const b = strip(runTests(clo));
      assert.ok(a.summary.total > 0);
      assert.deepEqual(a, b);
      assert.equal(a.summary.failed, 0, JSON.stringify(a.results.filter((r: { passed: boolean }) => !r.passed)));
    });
  }
});

describe('the decision time', () => {
  it('is read again after a few decisions in one task, and in every new task', async () => {
    const p = compile(readSet(join(root, 'bench/policy')));
    const req = generateRequests(1)[0];
    const before: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = Date.now();
      while (Date.now() === t) {
        /* wait for the next millisecond */
      }
      before.push(Date.now());
      times.push(Date.parse(p.evaluate(req).time));
    }
    for (let i = 0; i < times.length; i++) {
      assert.ok(times[i] <= Date.now());
      // A reading is shared by at most 16 consecutive decisions.
      if (i >= 15) assert.ok(times[i] >= before[i - 15], `decision ${i}: ${times[i]} < ${before[i - 15]}`);
    }
    assert.ok(new Set(times).size >= 3, 'the clock was read more than once');
    await new Promise((r) => setTimeout(r, 3));
    const start = Date.now();
    assert.ok(Date.parse(p.evaluate(req).time) >= start, 'a new task reads the clock');
  });
});

describe('generated rules on an env that did not come from validation', () => {
  it('a request read that throws makes rule errors, as with closures, never an exception', () => {
    const src = `policy p { default allow  on error deny }
input { action: { kind: string, tool?: string } }
rule a { when action.kind == "x"  deny "a" }
rule b { when action.tool == "y"  warn "b" }
`;
    const outcomes = (p: Policy) => {
      const input = { get action(): unknown { throw new Error('boom'); } } as unknown as Record<string, unknown>;
      return p.compiled.evaluateRules({ input, now: 0, budgets: {} }).map((o) => [o.name, o.matched, o.error]);
    };
    const gen = compile({ 'p.rein': src }, { codegen: true });
    const clo = compile({ 'p.rein': src }, { codegen: false });
    assert.equal(gen.codegen, true);
    const a = outcomes(gen);
    assert.deepEqual(a, outcomes(clo));
    assert.equal(a.length, 2);
    assert.ok(a.every(([, matched, error]) => matched === true && typeof error === 'string'), JSON.stringify(a));
  });
});

describe('validation, rules and decision fused in one generated function', () => {
  const src = `policy fused { default deny  on error deny }
input {
  who: { name: string, team?: string, boss?: { name: string, level?: int } }
  act?: { kind: "read" | "write", meta?: map<any>, cost?: money }
  tag?: string
}
rule no_boss { when who.boss.name == null  deny "no boss for \${who.name}" }
rule senior { when (who.boss.level ?? 0) >= 3 and act.kind == "write"  require approval from "\${who.boss.name}" "write by \${who.name}" }
rule reader { when act.kind == "read" or tag == "ro"  allow }
rule meta { when act.meta.flag == true  warn "flagged \${act.meta.flag}" }
rule costly { when act.cost > $1  deny "cost \${act.cost}" }
rule whole { when input.tag == "x" and who.team != null  allow "team \${who.team}" }
`;
  it('decides as the closures on optional, nested and absent objects, maps and extra fields', () => {
    const [gen, clo] = both({ 'f.rein': src });
    assert.equal(typeof gen.compiled.fused, 'function', 'the fused function is generated');
    assert.equal(clo.compiled.fused, undefined);
    const whos = [{ name: 'a' }, { name: 'b', team: 't', boss: { name: 'c' } }, { name: 'd', boss: { name: 'e', level: 4 } }, { name: 'f', boss: null, extra: 1 }];
    const acts = [undefined, null, { kind: 'read' }, { kind: 'write', meta: { flag: true } }, { kind: 'write', meta: { flag: 'x' }, cost: '2.5' }, { kind: 'read', cost: 0.5, meta: null }];
    const tags = [undefined, 'ro', 'x', null];
    let n = 0;
    for (const who of whos)
      for (const act of acts)
        for (const tag of tags) {
          const req: Record<string, unknown> = { who };
          if (act !== undefined) req.act = act;
          if (tag !== undefined) req.tag = tag;
          same(gen, clo, req, `fused ${n++} ${JSON.stringify(req)}`);
        }
    const effects = new Set(whos.flatMap((who) => acts.map((act) => gen.evaluate({ who, act, tag: 'x' }).effect)));
    assert.deepEqual([...effects].sort(), ['allow', 'deny', 'require_approval']);
  });

  it('returns nothing for a request the quick validator rejects, and evaluate then reports it', () => {
    const [gen] = both({ 'f.rein': src });
    const fused = gen.compiled.fused!;
    const finish = () => {
      throw new Error('not reached');
    };
    for (const bad of [null, {}, { who: { name: 3 } }, { who: { name: 'a' }, act: { kind: 'delete' } }, { who: { name: 'a', boss: { level: 2 } } }])
      assert.equal(fused(bad, NOW, {}, finish), undefined, JSON.stringify(bad));
    const d = gen.evaluate({ who: { name: 'a', boss: { level: 2 } } });
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors[0]?.path, '$.who.boss.name');
  });
});
