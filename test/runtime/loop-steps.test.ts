// Nested list methods over a list the request chooses are bounded per evaluation (regression, session
// 13 review L13): `items.any(a => items.any(b => …))` is quadratic, three levels cubic, and a 28 KB
// request held `rein serve` for ~8 s. Past MAX_LOOP_STEPS list elements visited in one evaluation, the
// rule fails (its `on error` effect) at once; each evaluation starts its own count.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MAX_LOOP_STEPS } from '../../language/runtime/closures.js';

const SRC = `policy p { default allow }
input { items: list<{ id: string, name: string }> }
rule dup { when items.any(a => items.count(b => a.name == b.name) > 1) deny "duplicate name" }
rule tri { when items.any(a => items.any(b => items.any(c => a.name == b.id and b.name == c.id and c.name == a.id))) deny "cycle" }
`;

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `i${i}`, name: `n${i}` }));

describe('nested list methods are bounded per evaluation (regression, session 13 review L13)', () => {
  for (const codegen of [true, false]) {
    const p = compile({ 'p.rein': SRC }, { codegen });
    it(`${codegen ? 'generated code' : 'closures'}: a long list fails the rule instead of running on`, async () => {
      const big = { items: items(1200) };
      for (const d of [p.evaluate(big), await new Engine(p).decide(big), p.evaluate(big, { explain: true })]) {
        assert.equal(d.effect, 'deny');
        assert.match(d.errors.map((e) => e.message).join('\n'), /visited more than 10,000,000 list elements/);
      }
    });
    it(`${codegen ? 'generated code' : 'closures'}: short lists decide as before, and every evaluation has its own count`, async () => {
      const e = new Engine(p);
      for (let k = 0; k < 30; k++) {
        // 90² + 90³ = 737,100 visits per decision: under the bound each time, far over it in total
        const d = await e.decide({ items: items(90) });
        assert.equal(d.effect, 'allow', JSON.stringify(d.errors));
        assert.deepEqual(d.errors, []);
      }
      const dup = p.evaluate({ items: [...items(20), { id: 'x', name: 'n3' }] });
      assert.deepEqual(dup.reasons.map((r) => r.name), ['dup']);
    });
  }
  it('the bound is ten million elements; a large data list searched without a lambda by many rules stays under it', () => {
    assert.equal(MAX_LOOP_STEPS, 10_000_000);
    const rules = Array.from({ length: 20 }, (_, i) => `rule r${i} { when blocked.contains(host) deny "blocked ${i}" }`).join('\n');
    const p = compile({ 'p.rein': `policy p { default allow }\ninput { host: string, blocked: list<string> }\n${rules}\n` });
    const blocked = Array.from({ length: 1_000_000 }, (_, i) => `h${i}.example.com`);
    const d = p.evaluate({ host: 'x.example.com', blocked });
    assert.deepEqual(d.errors, []);
    assert.equal(d.effect, 'allow');
    assert.equal(p.evaluate({ host: 'h999999.example.com', blocked }).effect, 'deny');
  });
});
