// The expression IR (language/runtime/ir.ts): plain, versioned, JSON-serialisable data that both
// backends read. A round trip through JSON gives the same program; the closure backend (the
// reference) and the generated code agree on seeded random expressions.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../../language/policy.js';
import type { Policy } from '../../language/runtime/compile.js';
import { Closures, frameOf, type TraceEnv } from '../../language/runtime/closures.js';
import { IR_VERSION, childNodes, conjuncts, reviveIr, type IrProgram, type Node } from '../../language/runtime/ir.js';
import type { Env } from '../../language/runtime/compiled.js';
import { generateRequests } from '../../bench/peers.js';
import { rng } from '../helpers/prng.js';
import { SHAPE_RULES, shapeRequests, shapesHandWritten } from '../../bench/shapes.js';
import { project } from '../../bench/peers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);

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

function irOf(p: Policy): IrProgram {
  assert.ok(p.compiled.ir);
  return p.compiled.ir;
}

/** Every node of a program. */
function nodes(ir: IrProgram): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    out.push(n);
    for (const c of childNodes(n)) walk(c);
  };
  for (const b of [...ir.lets, ...ir.defs]) walk(b.body);
  for (const r of ir.rules) {
    for (const c of r.clauses) walk(c.expr);
    if (r.message) walk(r.message);
    if (r.from) walk(r.from);
  }
  for (const b of ir.budgets) for (const n of [...b.whens, ...b.unlesses, ...b.keys, ...(b.charge ? [b.charge] : [])]) walk(n);
  return out;
}

/** Each rule's verdict through the closures of an IR program: true (matched), false, or the error. */
function verdicts(ir: IrProgram, env: Env): unknown[] {
  const cl = new Closures(ir);
  return ir.rules.map((r) => {
    const f = frameOf(r.frameSize);
    try {
      for (const c of r.clauses) {
        const v = cl.fn(c.expr)(env, f);
        if (c.kind === 'when' ? v !== true : v === true) return false;
      }
      return [true, r.message ? cl.fn(r.message)(env, f) : null];
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  });
}

const exampleDirs = readdirSync(join(root, 'examples'))
  .map((d) => join(root, 'examples', d))
  .filter((d) => statSync(d).isDirectory() && readdirSync(d).some((f) => f.endsWith('.rein')));

describe('expression IR', () => {
  it('is plain data: a JSON round trip gives the same program and the same rule verdicts', () => {
    const sets = [join(root, 'bench/policy'), ...exampleDirs];
    assert.ok(sets.length >= 4, 'the examples are found');
    for (const dir of sets) {
      const p = compile(readSet(dir), { codegen: false, data: dataOf(dir) });
      const ir = irOf(p);
      assert.equal(ir.version, IR_VERSION);
      const text = JSON.stringify(ir);
      const back = reviveIr(JSON.parse(text));
      assert.equal(JSON.stringify(back), text, dir);
      // No closures, class instances or AST nodes hide in it.
      for (const n of nodes(ir)) {
        assert.equal(typeof n.k, 'string');
        for (const v of Object.values(n)) assert.notEqual(typeof v, 'function', `${dir}: ${n.k}`);
        assert.equal((n as { range?: unknown }).range, undefined, `${dir}: no AST in the IR`);
      }
      if (dir.endsWith('bench/policy')) {
        for (const req of generateRequests(300)) {
          const v = p.compiled.validate(JSON.parse(JSON.stringify(req)));
          if (!v.ok) continue;
          const env: Env = { input: v.value, now: NOW, budgets: Object.create(null) };
          assert.deepEqual(verdicts(back, env), verdicts(ir, env));
        }
      }
    }
  });

  it('rejects another version', () => {
    const p = compile(readSet(join(root, 'bench/policy')), { codegen: false });
    const json = JSON.parse(JSON.stringify(irOf(p)));
    json.version = IR_VERSION + 1;
    assert.throws(() => reviveIr(json), /expected version/);
  });

  it('fuses input reads into one node and folds constants once', () => {
    const src = `policy p { default allow  on error deny }
input { action: { args: { amount: int, to?: string }, tool: string } }
let limit = 10 * 100
let tools = ["a", "b", "c"]
rule big { when action.args.amount > limit and action.tool in tools  deny "over \${limit + 1}" }
`;
    const ir = irOf(compile({ 'p.rein': src }, { codegen: false }));
    const [big] = ir.rules;
    const [cmp, inn] = conjuncts(big.clauses[0].expr);
    assert.deepEqual(cmp, { k: 'cmp', op: '>', l: { k: 'read', root: 'action', keys: ['args', 'amount'], safe: [true, true], trace: { path: 'action.args.amount', type: { kind: 'int' } } }, r: { k: 'const', v: 1000 } });
    assert.equal(inn.k, 'in');
    assert.deepEqual((inn as { r: Node }).r, { k: 'const', v: ['a', 'b', 'c'] });
    assert.deepEqual(big.message, { k: 'const', v: 'over 1001' });
    assert.equal(ir.lets.length, 0, 'constant lets are folded away');
  });

  it('explain records reads through the env of the explained call (no shared state)', () => {
    const src = `policy p { default allow  on error deny }
input { action: { tool: string, n: int } }
rule r { when action.tool == "x" and action.n > 1  deny }
`;
    const p = compile({ 'p.rein': src }, { codegen: false });
    const ir = irOf(p);
    const traced = new Closures(ir, true);
    const fn = traced.fn(ir.rules[0].clauses[0].expr);
    const v = p.compiled.validate({ action: { tool: 'x', n: 5 } });
    assert.ok(v.ok);
    const a: TraceEnv = { input: v.value, now: NOW, budgets: Object.create(null), reads: [] };
    const b: TraceEnv = { input: v.value, now: NOW, budgets: Object.create(null), reads: [] };
    assert.equal(fn(a, []), true);
    assert.deepEqual(a.reads, [{ path: 'action.tool', value: 'x' }, { path: 'action.n', value: 5 }]);
    assert.deepEqual(b.reads, [], 'another evaluation sees nothing of it');
    // Without a list in the env, the traced closures record nothing and still evaluate.
    assert.equal(fn({ input: v.value, now: NOW, budgets: Object.create(null) }, []), true);
    const d = p.evaluate({ action: { tool: 'x', n: 5 } }, { explain: true, now: NOW });
    assert.deepEqual((d as unknown as { explain: { clauses: { reads: unknown }[] }[] }).explain[0].clauses[0].reads, [
      { path: 'action.tool', value: 'x' },
      { path: 'action.n', value: 5 },
    ]);
  });
});

describe('the second benchmark policy (lists, nested objects, strings)', function () {
  this.timeout(60_000);

  it('both backends decide as the hand-written policy on every request', () => {
    const files = readSet(join(root, 'bench/policy-shapes'));
    const gen = compile(files, { codegen: true });
    const clo = compile(files, { codegen: false });
    assert.equal(gen.codegen, true);
    const effects = new Set<string>();
    for (const r of shapeRequests(1500)) {
      const json = JSON.parse(JSON.stringify(r));
      const a = gen.evaluate(json, { now: NOW });
      assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(clo.evaluate(json, { now: NOW }))));
      const expected = project(shapesHandWritten(r), SHAPE_RULES);
      const names = [...new Set([...a.reasons.filter((x) => x.kind === 'rule').map((x) => x.name as string), ...a.approvals.map((x) => x.name), ...a.warnings.map((x) => x.name as string)])].sort();
      assert.deepEqual({ effect: a.effect, names }, expected);
      effects.add(a.effect);
    }
    assert.equal(effects.size, 3, 'every effect occurs');
  });
});

// ---------------------------------------------------------------- seeded random expressions

const SCHEMA = `input {
  a: { n: int, s: string, m?: money, tags: list<string>, xs: list<int>, o?: { k?: string, z: int }, any?: any }
  b: int
  when_: time
}`;

function exprGen(rand: () => number) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const intE = (d: number): string => {
    if (d <= 0) return pick(['a.n', 'b', '3', '0', '-2', 'len(a.s)', 'len(a.tags)', '(a.o.z ?? 1)']);
    return pick([
      () => `(${intE(d - 1)} + ${intE(d - 1)})`,
      () => `(${intE(d - 1)} * ${intE(d - 1)})`,
      () => `(${intE(d - 1)} - ${intE(d - 1)})`,
      () => `(${intE(d - 1)} / ${intE(d - 1)})`,
      () => `(${intE(d - 1)} % ${intE(d - 1)})`,
      () => `a.xs.count(x => ${boolE(d - 1, 'x')})`,
      () => `a.xs.sum()`,
      () => `(if ${boolE(d - 1)} then ${intE(d - 1)} else ${intE(d - 1)})`,
      () => `max(${intE(d - 1)}, ${intE(d - 1)})`,
      () => `a.xs[${intE(d - 1)}] ?? 7`,
      () => intE(0),
    ])();
  };
  const strE = (d: number): string => {
    if (d <= 0) return pick(['a.s', '"ab"', '""', '"x"', '(a.o.k ?? "k")', 'a.tags[0] ?? "none"']);
    return pick([
      () => `${strE(d - 1)}.lower()`,
      () => `(${strE(d - 1)} + ${strE(d - 1)})`,
      () => `"p\${${intE(d - 1)}}q\${${strE(d - 1)}}"`,
      () => `${strE(d - 1)}.replace("a", "b")`,
      () => `${strE(d - 1)}.trim()`,
      () => strE(0),
    ])();
  };
  const boolE = (d: number, lam?: string): string => {
    const base = ['true', 'false', 'a.s == "ab"', 'a.n > 2', 'b <= 0', 'a.s in ["ab", "x", "y"]', 'a.m > $5', 'a.o.k == null', 'a.any == 1'];
    if (lam) base.push(`${lam} > 1`, `${lam} == 2`, `${lam} in [1, 3]`);
    if (d <= 0) return pick(base);
    return pick([
      () => `(${boolE(d - 1, lam)} and ${boolE(d - 1, lam)})`,
      () => `(${boolE(d - 1, lam)} or ${boolE(d - 1, lam)})`,
      () => `not (${boolE(d - 1, lam)})`,
      () => `${intE(d - 1)} ${pick(['<', '<=', '>', '>=', '==', '!='])} ${intE(d - 1)}`,
      () => `${strE(d - 1)} ${pick(['==', '!=', '<'])} ${strE(d - 1)}`,
      () => `${strE(d - 1)}.${pick(['starts_with', 'ends_with', 'contains'])}(${strE(d - 1)})`,
      () => `${strE(d - 1)} in a.tags`,
      () => `a.tags.any(t => t.starts_with(${strE(d - 1)}))`,
      () => `a.xs.all(x => x > ${intE(d - 1)})`,
      () => `a.s matches "^a[b-z]*$"`,
      () => `hour(when_) ${pick(['<', '>='])} ${intE(d - 1)}`,
      () => `(a.any ?? "q").starts_with("q")`,
      () => boolE(0, lam),
    ])();
  };
  return { boolE, strE, intE, pick };
}

function randomRequest(rand: () => number): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  return {
    a: {
      n: pick([0, 1, 2, 3, -5, 1000]),
      s: pick(['ab', 'x', ' Ab ', '', 'abc', 'y']),
      m: pick([undefined, '1.5', '10', 7, null]),
      tags: pick([[], ['ab'], ['x', 'qq'], ['ab', 'x', 'ab']]),
      xs: pick([[], [1, 2, 3], [2], [5, 0, -1]]),
      o: pick([undefined, null, { z: 2 }, { k: 'k', z: 0 }, { k: null, z: 5 }]),
      any: pick([undefined, 1, 'q', 'qq', [1], { x: 1 }, true]),
    },
    b: pick([0, 1, -1, 4]),
    when_: pick(['2026-01-05T10:00:00Z', '2026-03-01T23:59:59Z', '1970-01-01T00:00:00Z']),
  };
}

describe('closure and JavaScript backends agree on seeded random expressions', function () {
  this.timeout(120_000);

  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, () => {
      const rand = rng(seed);
      const g = exprGen(rand);
      const rules: string[] = [];
      for (let i = 0; i < 50; i++) {
        const effect = g.pick(['deny', 'warn', 'allow', 'require approval from "ops"']);
        rules.push(`rule r${i} {\n  when ${g.boolE(3)}\n  ${i % 3 === 0 ? 'unless ' + g.boolE(2) + '\n  ' : ''}${effect} "m\${${g.intE(2)}} \${${g.strE(2)}}"\n}`);
      }
      // Rules the checker rejects are dropped (the generator is not type-perfect); most stay.
      let kept = rules;
      let gen: Policy | undefined;
      for (let attempt = 0; attempt < 60 && gen === undefined; attempt++) {
        try {
          gen = compile({ 'p.rein': `policy p { default deny  on error deny }\n${SCHEMA}\n${kept.join('\n')}\n` }, { codegen: true });
        } catch (e) {
          const diags = (e as { diagnostics?: { severity: string; range: { start: { line: number } } }[] }).diagnostics ?? [];
          const bad = diags.find((d) => d.severity === 'error');
          if (!bad) throw e;
          const text = `policy p { default deny  on error deny }\n${SCHEMA}\n${kept.join('\n')}\n`.split('\n');
          const line = bad.range.start.line;
          const name = text.slice(0, line + 1).reverse().find((l) => l.startsWith('rule '));
          kept = kept.filter((r) => !r.startsWith(name ?? '\u0000'));
        }
      }
      assert.ok(gen, 'the set compiles');
      assert.ok(kept.length >= 12, `most random rules type-check (${kept.length})`);
      const clo = compile({ 'p.rein': `policy p { default deny  on error deny }\n${SCHEMA}\n${kept.join('\n')}\n` }, { codegen: false });
      assert.equal(gen.codegen, true);
      let errors = 0;
      let matched = 0;
      for (let i = 0; i < 300; i++) {
        const req = randomRequest(rand);
        const a = JSON.parse(JSON.stringify(gen.evaluate(req, { now: NOW })));
        const b = JSON.parse(JSON.stringify(clo.evaluate(req, { now: NOW })));
        assert.deepEqual(a, b, `request ${i}: ${JSON.stringify(req)}`);
        const c = JSON.parse(JSON.stringify(gen.evaluate(req, { now: NOW, explain: true })));
        const d = JSON.parse(JSON.stringify(clo.evaluate(req, { now: NOW, explain: true })));
        assert.deepEqual(c, d, `explain ${i}`);
        errors += a.errors.length;
        matched += a.reasons.length + a.warnings.length;
      }
      assert.ok(matched > 0, 'some rules match');
      void errors;
    });
  }
});
