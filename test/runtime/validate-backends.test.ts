// Request validation, differential: the generated quick check and the closure validator (the CSP
// backend) accept the same requests, normalise them to the same value and report the same errors, on
// valid requests and on seeded mutations of them (wrong kinds at every depth, holes, nulls, missing
// and extra fields, Dates, non-plain objects, throwing getters, proxies, deep nesting). The quick
// entry (`validate.quick`) accepts exactly what the validator accepts, with the same value. Both are
// built from one validation IR (validate-ir.ts); the test of the test below shows that the sweep
// fails when the JavaScript backend emits something other than what the closures check.
import assert from 'node:assert/strict';
import { compileValidator, type ValidationResult } from '../../language/runtime/validate.js';
import { lowerValidation, type ValidationIr, type VField, type VNode } from '../../language/runtime/validate-ir.js';
import { validationClosures } from '../../language/runtime/validate-closures.js';
import { generateQuick } from '../../language/runtime/validate-js.js';
import { rng } from '../helpers/prng.js';
import { T, type Type } from '../../language/semantics/types.js';
import { input, mutate, throwing, valid } from './validate-requests.js';

const gen = compileValidator(input, { codegen: true });
const clo = compileValidator(input, { codegen: false });

type Checker = ((request: unknown) => ValidationResult) & { quick: (request: unknown) => Record<string, unknown> | undefined };

function same(req: unknown, what: string, g: Checker = gen): boolean {
  const a = g(req);
  const b = clo(req);
  assert.deepStrictEqual(a, b, `${what}: generated and closure validators differ`);
  const qa = g.quick(req);
  const qb = clo.quick(req);
  assert.deepStrictEqual(qa, a.ok ? a.value : undefined, `${what}: the generated quick check disagrees with the validator`);
  assert.deepStrictEqual(qb, b.ok ? b.value : undefined, `${what}: the closures' quick path disagrees with the validator`);
  return a.ok;
}

/** The seeded sweep: 1,500 valid requests and a mutation of each; returns how many mutations were invalid. */
function sweep(g: Checker = gen): number {
  const r = rng(16);
  let bad = 0;
  for (let n = 0; n < 1500; n++) {
    const base = valid(input, r);
    assert.equal(same(base, `valid #${n}`, g), true, `valid #${n} was rejected: ${JSON.stringify(g(base))}`);
    let m = base;
    const times = 1 + Math.floor(r() * 3);
    for (let k = 0; k < times; k++) m = mutate(m, r);
    if (!same(m, `mutation #${n}`, g)) bad++;
  }
  return bad;
}

/** The validator `gen` with its generated quick check replaced by one the JavaScript backend emitted
 *  from a tampered copy of the IR (the closures stay right): a stand-in for a broken emitter. */
function brokenEmitter(tamper: (ir: ValidationIr) => void): Checker {
  const ir = lowerValidation(input);
  const checks = validationClosures(ir);
  // Through JSON: the IR is plain data (the untampered case below shows a round trip changes nothing).
  const wrong = JSON.parse(JSON.stringify(ir)) as ValidationIr;
  tamper(wrong);
  const quick = generateQuick(wrong, checks);
  return Object.assign((req: unknown): ValidationResult => {
    const v = quick(req);
    return v !== undefined ? { ok: true, value: v } : gen(req);
  }, { quick });
}

const fieldOf = (ir: ValidationIr, name: string): VField => {
  const root = ir[0]!;
  assert.equal(root.kind, 'object');
  return (root as Extract<VNode, { kind: 'object' }>).fields.find((f) => f.name === name)!;
};

describe('request validation: generated and closure backends', () => {
  it('the generated form is generated, the other is closures', () => {
    assert.equal(gen.generated, true);
    assert.equal(clo.generated, false);
  });

  it('agree on valid requests (value and normalisation) and on seeded mutations (errors identical)', () => {
    const bad = sweep();
    assert.ok(bad > 600, `too few invalid mutations to mean anything (${bad})`);
  });

  describe('the sweep catches a JavaScript backend that disagrees with the closures', () => {
    const cases: [string, (ir: ValidationIr) => void][] = [
      ['an int checked as a number', (ir) => void (ir[fieldOf(ir, 'i').node]!.kind = 'number')],
      ['a required field taken as optional', (ir) => void (fieldOf(ir, 's').optional = true)],
      ['an optional field taken as required', (ir) => void (fieldOf(ir, 'b').optional = false)],
      ['an enum missing a value', (ir) => void (ir[fieldOf(ir, 'e').node] as Extract<VNode, { kind: 'enum' }>).values.pop()],
      ['a list element of the wrong kind', (ir) => {
        const rows = ir[fieldOf(ir, 'grid').node] as Extract<VNode, { kind: 'list' }>;
        ir[(ir[rows.elem] as Extract<VNode, { kind: 'list' }>).elem]!.kind = 'string';
      }],
    ];
    for (const [what, tamper] of cases) {
      it(what, () => {
        assert.throws(() => sweep(brokenEmitter(tamper)), /differ|disagrees|was rejected/);
      });
    }
    it('and passes the JavaScript backend emitting from the untampered IR (after a JSON round trip)', () => {
      assert.ok(sweep(brokenEmitter(() => undefined)) > 600);
    });
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

  it('a hole is never read through a polluted Array.prototype, on both backends', () => {
    const ok = { s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: { x: 'x', y: null } };
    const holes: [unknown, string][] = [
      [{ ...ok, o: { x: 'x', y: null, tags: ['a', , 'c'] } }, '$.o.tags[1]'],
      [{ ...ok, grid: [[1, , 3]] }, '$.grid[0][1]'],
      [{ ...ok, items: [{ id: 'a' }, , { id: 'c' }] }, '$.items[1]'],
      [{ ...ok, a: [1, , 3] }, '$.a[1]'],
    ];
    const proto = Array.prototype as unknown as Record<number, unknown>;
    for (const polluted of ['b', 2, { id: 'b' }]) {
      proto[1] = polluted;
      try {
        for (const [req, path] of holes) {
          assert.equal(same(req, `hole at ${path} over ${JSON.stringify(polluted)}`), false);
          assert.deepStrictEqual((clo(req) as { errors: { path: string }[] }).errors.map((e) => e.path), [path]);
        }
      } finally {
        delete proto[1];
      }
    }
  });

  it('a recursive type is one node: both backends check it to any depth, and stop at the depth cap', () => {
    const tree: Type = { kind: 'object', name: 'Tree', fields: [] };
    (tree as Extract<Type, { kind: 'object' }>).fields.push({ name: 'v', type: T.int, optional: false }, { name: 'kids', type: { kind: 'list', elem: tree }, optional: true });
    const ir = lowerValidation(tree);
    assert.equal(ir.length, 3, 'Tree, list<Tree>, int');
    const g = compileValidator(tree, { codegen: true });
    const c = compileValidator(tree, { codegen: false });
    const grow = (n: number, leaf: unknown): unknown => (n === 0 ? leaf : { v: n, kids: [grow(n - 1, leaf), { v: 0 }] });
    for (const req of [grow(5, { v: 1 }), grow(5, { v: 'x' }), grow(20, { v: 1, kids: [{ v: 1.5 }] }), grow(40, { v: 1 })]) {
      assert.deepStrictEqual(g(req), c(req));
      assert.deepStrictEqual(g.quick(req), c.quick(req));
    }
    assert.equal(g(grow(5, { v: 1 })).ok, true);
    assert.deepStrictEqual((g(grow(2, { v: 'x' })) as { errors: { path: string }[] }).errors.map((e) => e.path), ['$.kids[0].kids[0].v']);
    const deep = g(grow(40, { v: 1 }));
    assert.equal(deep.ok, false);
    assert.match((deep as { errors: { message: string }[] }).errors[0]!.message, /nested deeper than 64 levels/);
  });

  it('a throwing getter leaves the closures usable (the quiet path restores its state)', () => {
    for (let i = 0; i < 3; i++) assert.equal(same({ s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: throwing() }, `getter ${i}`), false);
    assert.equal(same({ s: 'x', i: 1, n: 1, m: 1, e: 'a', nn: null, o: { x: 'x', y: null }, prices: { a: '1.5' } }, 'after'), true);
  });
});
