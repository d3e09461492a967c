// Request validation, differential: the generated quick check and the closure validator (the CSP
// backend) accept the same requests, normalise them to the same value and report the same errors, on
// valid requests and on seeded mutations of them (wrong kinds at every depth, holes, nulls, missing
// and extra fields, Dates, non-plain objects, throwing getters, proxies, deep nesting). The quick
// entry (`validate.quick`) accepts exactly what the validator accepts, with the same value.
import assert from 'node:assert/strict';
import { compileValidator } from '../../language/runtime/validate.js';
import { rng } from '../helpers/prng.js';
import { input, mutate, throwing, valid } from './validate-requests.js';

const gen = compileValidator(input, { codegen: true });
const clo = compileValidator(input, { codegen: false });

function same(req: unknown, what: string): boolean {
  const a = gen(req);
  const b = clo(req);
  assert.deepStrictEqual(a, b, `${what}: generated and closure validators differ`);
  const qa = gen.quick(req);
  const qb = clo.quick(req);
  assert.deepStrictEqual(qa, a.ok ? a.value : undefined, `${what}: the generated quick check disagrees with the validator`);
  assert.deepStrictEqual(qb, b.ok ? b.value : undefined, `${what}: the closures' quick path disagrees with the validator`);
  return a.ok;
}

describe('request validation: generated and closure backends', () => {
  it('the generated form is generated, the other is closures', () => {
    assert.equal(gen.generated, true);
    assert.equal(clo.generated, false);
  });

  it('agree on valid requests (value and normalisation) and on seeded mutations (errors identical)', () => {
    const r = rng(16);
    let ok = 0;
    let bad = 0;
    for (let n = 0; n < 1500; n++) {
      const base = valid(input, r);
      assert.equal(same(base, `valid #${n}`), true, `valid #${n} was rejected: ${JSON.stringify(gen(base))}`);
      ok++;
      let m = base;
      const times = 1 + Math.floor(r() * 3);
      for (let k = 0; k < times; k++) m = mutate(m, r);
      if (!same(m, `mutation #${n}`)) bad++;
    }
    assert.ok(ok === 1500 && bad > 600, `too few invalid mutations to mean anything (${bad})`);
  });

  it('a Date where any value is expected: both quick paths accept it as its ISO string, as the reporting path does', () => {
    const base = { s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: { x: 'x', y: null }, a: new Date(0) };
    assert.equal(same(base, 'date in any'), true);
    const v = gen.quick(base) as Record<string, unknown>;
    assert.equal(v.a, '1970-01-01T00:00:00.000Z');
  });

  it('report every error with its path, the same on both backends', () => {
    const req = { s: 1, i: 1.5, n: 'x', m: -1, e: 'zz', nn: 'x', o: { x: 1, y: { k: 'bad' }, tags: [1, , 'ok'] }, items: [{ cost: 1 }], grid: [[1], ['x']] };
    const a = gen(req);
    assert.equal(a.ok, false);
    assert.deepStrictEqual(a, clo(req));
    const paths = (a as { errors: { path: string }[] }).errors.map((e) => e.path);
    assert.deepStrictEqual(paths, ['$.s', '$.i', '$.n', '$.m', '$.e', '$.nn', '$.o.x', '$.o.y.k', '$.o.tags[0]', '$.o.tags[1]', '$.items[0].id', '$.grid[1][0]']);
  });

  it('a throwing getter leaves the closures usable (the quiet path restores its state)', () => {
    for (let i = 0; i < 3; i++) assert.equal(same({ s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: throwing() }, `getter ${i}`), false);
    assert.equal(same({ s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: { x: 'x', y: null }, prices: { a: '1.5' } }, 'after'), true);
  });
});
