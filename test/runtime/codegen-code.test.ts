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
