// Typed generated code (language/runtime/codegen.ts, as ajv's codegen): Code is built only by the `_`
// tag, whose interpolations are Code, Names or literals, so no policy or request string can become code.

import assert from 'node:assert/strict';
import { CodeBuilder, Name, _, join, prop } from '../../language/runtime/codegen.js';
import { compile } from '../../language/policy.js';

describe('typed generated code (Code / Name)', () => {
  it('interpolated strings are literals, never code', () => {
    const hostile = '"]; globalThis.pwned = 1; //';
    const x = new Name('x');
    const c = _`${x}[${hostile}]`;
    assert.equal(c.str, `x[${JSON.stringify(hostile)}]`);
    const b = new CodeBuilder();
    b.line(_`return ${prop(x, hostile)} ?? ${hostile};`);
    const f = b.build<(x: Record<string, unknown>) => unknown>('f', ['x']);
    assert.equal(f({}), hostile);
    assert.equal((globalThis as { pwned?: unknown }).pwned, undefined);
    assert.equal(f({ [hostile]: 3 }), 3);
  });

  it('numbers must be finite, names must be identifiers, lines must be Code', () => {
    assert.throws(() => _`${Infinity}`, /non-finite/);
    assert.throws(() => new Name('a b'), /bad identifier/);
    assert.throws(() => new Name('this'), /bad identifier/);
    const b = new CodeBuilder();
    assert.throws(() => b.line('return 1;' as never), /must be Code/);
    assert.throws(() => (_ as unknown as (s: string[]) => unknown)(['x']), /template tag/);
    assert.equal(join([_`a`, _`${1}`, _`${'b'}`], _`, `).str, 'a, 1, "b"');
  });

  it('a local never takes a reference\'s name (`a3`): it would shadow the value', () => {
    // (A list check's local named `a${n}` once shadowed the reference of the same number inside the
    // list's helper: the quick validator threw, was caught, and the slow path decided instead.)
    const b = new CodeBuilder();
    assert.throws(() => b.local('a'), /names a reference/);
    const r = b.ref(Symbol('v'));
    const l = b.local('g');
    assert.notEqual(l.toString(), r.toString());
  });

  it('policy text with quotes, backslashes and backticks stays data in generated rules', () => {
    const nasty = 'a"b\\c`d\'); x(';
    const src = `policy p { default allow  on error deny }
input { tool: string, args: map<string> }
rule r { when tool == ${JSON.stringify(nasty)} or args[${JSON.stringify(nasty)}] == "x"  deny "got \${tool}" }
`;
    const gen = compile({ 'p.rein': src }, { codegen: true });
    const clo = compile({ 'p.rein': src }, { codegen: false });
    assert.equal(gen.codegen, true);
    for (const req of [{ tool: nasty, args: {} }, { tool: 'x', args: { [nasty]: 'x' } }, { tool: 'y', args: {} }]) {
      const a = gen.evaluate(req, { now: 0 });
      assert.equal(a.effect, req.tool === 'y' ? 'allow' : 'deny', JSON.stringify(a.reasons));
      assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(clo.evaluate(req, { now: 0 }))));
    }
  });
});

describe('generated list validation (helper functions) agrees with the closures', () => {
  it('on valid, hostile and odd lists of strings, objects and nested lists', () => {
    const src = `policy p { default allow  on error deny }
input {
  tags: list<string>
  items: list<{ name: string, n?: int, sub: list<{ k: "a" | "b" }> }>
  opt?: list<list<int>>
  anyl?: list<any>
}
rule r { when "x" in tags  deny }
`;
    const gen = compile({ 'p.rein': src }, { codegen: true });
    const clo = compile({ 'p.rein': src }, { codegen: false });
    const base = () => ({ tags: ['a', 'x'], items: [{ name: 'i', n: 1, sub: [{ k: 'a' }] }, { name: 'j', sub: [] }], opt: [[1, 2], []], anyl: [1, 'q', { z: [null] }] });
    const sparse: unknown[] = ['a'];
    sparse[2] = 'c';
    const withGetter = ['a'];
    Object.defineProperty(withGetter, 1, { get: () => 'x', enumerable: true });
    const cases: unknown[] = [
      base(),
      { ...base(), tags: [] },
      { ...base(), tags: sparse },
      { ...base(), tags: withGetter },
      { ...base(), tags: 'x' },
      { ...base(), tags: ['a', 3] },
      { ...base(), items: [{ name: 'i', sub: [{ k: 'c' }] }] },
      { ...base(), items: [{ name: 'i', sub: [{ k: 'a', extra: [1, { y: 2 }] }], more: true }] },
      { ...base(), items: [{ name: 'i', sub: null }] },
      { ...base(), items: [null] },
      { ...base(), items: [Object.create({ name: 'i', sub: [] })] },
      { ...base(), items: [JSON.parse('{"name":"i","sub":[],"__proto__":{"x":1}}')] },
      { ...base(), opt: [[1.5]] },
      { ...base(), opt: [null] },
      { ...base(), opt: null },
      { ...base(), anyl: [undefined, Infinity] },
      { ...base(), anyl: [new Date(0)] },
      { ...base(), items: new Array(3) },
    ];
    const proto = Array.prototype as unknown as Record<number, unknown>;
    proto[1] = 'x';
    try {
      cases.push({ ...base(), tags: sparse });
      for (const [i, req] of cases.entries()) {
        for (const opts of [{ now: 0 }, { now: 0, explain: true }]) {
          const a = JSON.parse(JSON.stringify(gen.evaluate(req, opts)));
          const b = JSON.parse(JSON.stringify(clo.evaluate(req, opts)));
          assert.deepEqual(a, b, `case ${i}`);
        }
        const qa = gen.compiled.validate(req);
        const qb = clo.compiled.validate(req);
        assert.deepEqual(JSON.parse(JSON.stringify(qa)), JSON.parse(JSON.stringify(qb)), `validate case ${i}`);
      }
    } finally {
      delete proto[1];
    }
    assert.equal(gen.evaluate(base(), { now: 0 }).effect, 'deny');
    assert.equal(gen.evaluate({ ...base(), tags: sparse }, { now: 0 }).errors.length > 0, true, 'a hole is an error');

    // A hole is an error whichever prototype would fill it (the generated list check asks `i in` only
    // where no prototype on Array.prototype's chain has element i): Object.prototype, an array of
    // another prototype, and a polluted prototype that appears while the list is read.
    const holes = (): unknown[] => {
      const h: unknown[] = ['x'];
      h[2] = 'x';
      return h;
    };
    const other = holes();
    Object.setPrototypeOf(other, Object.assign(Object.create(Array.prototype) as object, { 1: 'x' }));
    const late: unknown[] = [];
    Object.defineProperty(late, 0, {
      get: () => {
        (Object.prototype as unknown as Record<number, unknown>)[1] = 'x';
        return 'x';
      },
      enumerable: true,
    });
    late[2] = 'x';
    const objProto = Object.prototype as unknown as Record<number, unknown>;
    try {
      for (const [label, tags, pollute] of [
        ['Object.prototype[1]', holes(), true],
        ['another prototype with element 1', other, false],
        ['Object.prototype[1] set by a getter while the list is read', late, false],
      ] as const) {
        if (pollute) objProto[1] = 'x';
        for (const p of [gen, clo]) {
          const d = p.evaluate({ ...base(), tags }, { now: 0 });
          assert.equal(d.effect, 'deny', label);
          assert.ok(d.errors.length > 0, `${label}: a hole is an error (${p === gen ? 'generated' : 'closures'})`);
          assert.equal(p.compiled.validate({ ...base(), tags }).ok, false, label);
        }
        delete objProto[1];
      }
    } finally {
      delete objProto[1];
    }
    // Without pollution, a plain list still passes.
    assert.deepEqual(gen.evaluate({ ...base(), tags: ['a', 'b'] }, { now: 0 }).errors, []);
  });
});
