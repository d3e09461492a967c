// The generated code's own forms (string methods on the inline value, the one frame for the rules'
// lambdas, and `def`s, member reads, `in`, `len` beside them) against the closures, the reference: on both
// sets of bench:shapes (their requests, the hand-written policy, and mutated variants), and on
// values of every shape where the policy says `any`, so each inline form meets the shapes it leaves
// to the closures (a list for `contains`, a map for `len`, a number for `.lower()` …).

import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type Policy } from '../../language/policy.js';
import { SHAPE_SETS } from '../../bench/shapes.js';
import { fromDecision, mulberry32, project } from '../../bench/peers.js';
import { readSet } from '../../bench/util.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

function both(files: Record<string, string>): [Policy, Policy] {
  const gen = compile(files, { codegen: true });
  const clo = compile(files, { codegen: false });
  assert.equal(gen.codegen, true, 'code generation works on Node');
  assert.equal(clo.codegen, false);
  return [gen, clo];
}

/** The same decision from both backends, with and without options (the fused path and the general one). */
function same(gen: Policy, clo: Policy, req: unknown, label: string): ReturnType<Policy['evaluate']> {
  const a = gen.evaluate(req, { now: NOW });
  assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(clo.evaluate(req, { now: NOW }))), label);
  const fused = gen.evaluate(req);
  const general = clo.evaluate(req, { now: Date.parse(fused.time) });
  assert.deepEqual(JSON.parse(JSON.stringify(fused)), JSON.parse(JSON.stringify(general)), `${label} (no options)`);
  return a;
}

/** A copy of `req` with one seeded change somewhere: a field removed, nulled, or given another shape. */
function mutate(req: unknown, rnd: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(req)) as Record<string, unknown>;
  const holders: Record<string, unknown>[] = [];
  const walk = (v: unknown, d: number) => {
    if (v === null || typeof v !== 'object' || d > 6) return;
    holders.push(v as Record<string, unknown>);
    for (const x of Object.values(v)) walk(x, d + 1);
  };
  walk(copy, 0);
  const h = holders[Math.floor(rnd() * holders.length)]!;
  const keys = Object.keys(h);
  const k = Array.isArray(h) ? String(Math.floor(rnd() * (h.length + 1))) : keys[Math.floor(rnd() * keys.length)] ?? 'extra';
  const shapes: unknown[] = [null, 7, 'text', ['a', 1], { a: 1 }, true, undefined];
  const v = shapes[Math.floor(rnd() * shapes.length)];
  if (v === undefined) delete h[k];
  else h[k] = v;
  return copy;
}

describe('generated rules: the inline forms decide as the closures', function () {
  this.timeout(120_000);

  for (const set of SHAPE_SETS as (typeof SHAPE_SETS)[number][]) {
    it(`on bench:shapes' "${set.name}" set: its requests (as the hand-written policy), and mutated variants`, () => {
      const [gen, clo] = both(readSet(join(root, 'bench', set.dir)));
      const rnd = mulberry32(5);
      const effects = new Set<string>();
      let invalid = 0;
      const requests = (set.requests as (n: number) => unknown[])(1200);
      requests.forEach((r, i) => {
        const json = JSON.parse(JSON.stringify(r)) as unknown;
        const d = same(gen, clo, json, `${set.name} request ${i}`);
        assert.deepEqual(fromDecision(d), project((set.hand as (x: unknown) => string[])(r), set.rules), `${set.name} request ${i} (hand-written)`);
        effects.add(d.effect);
        if (i % 3 === 0) {
          const m = mutate(json, rnd);
          if (same(gen, clo, m, `${set.name} variant of ${i}`).errors.length > 0) invalid++;
        }
      });
      assert.equal(effects.size, 3, 'every effect occurs');
      assert.ok(invalid > 50, `the variants exercise invalid input and rule errors (${invalid})`);
    });
  }

  it('on values of every shape where the policy says `any`', () => {
    const [gen, clo] = both({
      'p.rein': `policy p { default allow }
input { v: any, w: any, m: map<string>, xs: list<string>, n?: { k?: string } }

def shout(s: string) = "\${s.upper()}!"
def both_ends(s: string, t: string) = s.starts_with(t) and s.ends_with(t)
def any_long(xs: list<string>) = xs.any(x => len(x) > 3)

rule member_read { when v.a == 1 or v.b.c == "x" or n.k == "k" warn "member" }
rule index_read { when m["a"] == "1" or v["a"] == 1 or v[0] == "a" or v[-1] == "z" warn "index" }
rule in_list { when "a" in v or 1 in v or v in xs or null in v or "a" not in w warn "in" }
rule lengths { when len(v) > 2 or len(w) == 0 or v.len() > 1 warn "len" }
rule strings { when v.lower() == "abc" or v.upper() == "ABC" or v.trim() == "x" or v.contains("b") warn "strings" }
rule string_more { when v.like("a*c") or v.replace("a", "b") == "bbc" or v.split(",").len() > 1 or v.domain() == "x.com" warn "more" }
rule defs { when shout(v) == "ABC!" or both_ends(v, "a") or any_long(xs) or both_ends(shout(v), shout("a")) warn "defs" }
rule def_in_lambda { when xs.any(x => shout(x) == "B!") and xs.all(x => both_ends(x, x)) warn "def in lambda" }
rule message { when v != null warn "v is \${v}, \${len(xs)} items, \${shout(xs[0] ?? "none")}" }
`,
    });
    const values: unknown[] = [null, 0, 1, 2.5, -1, '', 'a', 'abc', 'ABC', ' x ', 'a,b', 'bob@x.com', 'aXc', true, false, [], ['a'], ['a', 'b', 'z'], [1, 2], [null], {}, { a: 1 }, { a: '1', b: { c: 'x' } }, { '0': 'a' }];
    let n = 0;
    for (const v of values)
      for (const w of [null, 'a', [], ['b'], { a: 1 }, 3]) {
        const req = { v, w, m: typeof v === 'string' ? { a: v } : { a: '1' }, xs: n % 3 === 0 ? ['a', 'bb', 'ccccc'] : ['b'], n: n % 2 ? { k: 'k' } : null };
        same(gen, clo, req, `v=${JSON.stringify(v)} w=${JSON.stringify(w)}`);
        n++;
      }
  });

  it('a def called twice in one expression, and inside its own argument, keeps each call its own arguments', () => {
    const [gen, clo] = both({
      'p.rein': `policy p { default allow }
input { a: string, b: string }
def pair(x: string, y: string) = "\${x}:\${y}"
rule r { when pair(pair(a, b), pair(b, a)) == "1:2:2:1" deny "nested" }
`,
    });
    assert.equal(gen.evaluate({ a: '1', b: '2' }).effect, 'deny');
    assert.equal(gen.evaluate({ a: '2', b: '1' }).effect, 'allow');
    same(gen, clo, { a: '1', b: '2' }, 'nested def calls');
  });

  it('a def is a generated helper (not its closure): lambdas in it, defs calling defs, its errors', () => {
    const files = {
      'p.rein': `policy p { default allow  on error deny }
input { xs: list<int>, ys: list<list<int>>, k: int, s: string }
def ratio(a: int, b: int) = a / b > 1
def some_ratio(xs: list<int>, b: int) = xs.any(x => ratio(x, b)) and xs.count(x => x > b) >= 1
def nested(ys: list<list<int>>, k: int) = ys.any(y => y.all(x => some_ratio(y, k) or x == k))
def shout(s: string) = "\${s.upper()}!"
rule r1 { when some_ratio(xs, k) deny "ratio" }
rule r2 { when nested(ys, k) and xs.any(x => ratio(k, x)) warn "nested \${shout(s)}" }
rule r3 { when shout(s) == "A!" and ratio(k, 1) require approval from shout(s) "shout" }
`,
    };
    const [gen, clo] = both(files);
    // The fused function calls the helpers (D…) where the closures' calls were.
    const code = String(gen.compiled.fused);
    assert.match(code, /\bD\d+\(env, \[/);
    const reqs = [
      { xs: [1, 4, 9], ys: [[1, 2], [6, 3]], k: 2, s: 'a' },
      { xs: [1, 4, 9], ys: [[1, 2], [6, 3]], k: 0, s: 'a' }, // a / 0: rule errors, in the def
      { xs: [0, 4], ys: [], k: 3, s: 'b' },
      { xs: [], ys: [[3, 3]], k: 3, s: '' },
      { xs: [5], ys: [[9, 9, 9], [1]], k: 1, s: 'A' },
    ];
    const rnd = mulberry32(5);
    for (const req of reqs) {
      same(gen, clo, req, JSON.stringify(req));
      for (let i = 0; i < 20; i++) {
        const m = mutate(req, rnd);
        same(gen, clo, m, JSON.stringify(m));
      }
    }
    assert.ok(gen.evaluate(reqs[1]).errors.some((e) => /division by zero/.test(e.message)));
    assert.equal(gen.evaluate(reqs[0]).effect, 'deny');
  });
});
