// Values a host may hand to `evaluate` that are not JSON: non-plain objects (issue 11 §3) and sparse
// lists read through a polluted prototype (§8). Both backends, and the request hash.
import assert from 'node:assert/strict';
import { compile } from '../../language/index.js';

const SRC = `policy p { default allow }
input {
  action: { tool: string, args?: map<any>, tags?: list<string> }
  meta?: any
}
rule no_prod {
  when action.tool == "db.query" and (action.args["env"] ?? "") == "prod"
  deny "no prod queries"
}
rule no_admin_tag {
  when "admin" in (action.tags ?? [])
  deny "admin tag"
}
`;

const engines = [true, false].map((codegen) => ({ codegen, policy: compile({ 'p.rein': SRC }, { codegen }) }));

class Args {
  env = 'prod';
}

const NON_PLAIN: [string, () => unknown, RegExp][] = [
  ['Map', () => new Map([['env', 'prod']]), /a Map/],
  ['URLSearchParams', () => new URLSearchParams('env=prod'), /a URLSearchParams/],
  ['Error', () => Object.assign(new Error('x'), { env: 'prod' }), /an Error/],
  ['Uint8Array', () => new Uint8Array([1, 2]), /a Uint8Array/],
  ['class instance', () => new Args(), /an Args instance/],
  ['boxed string', () => new String('prod'), /a String/],
  ['Set', () => new Set(['prod']), /a Set/],
];

describe('non-plain objects in requests', () => {
  for (const [name, make, what] of NON_PLAIN) {
    it(`a ${name} for a map<any> field is a validation error naming the path (both backends)`, () => {
      for (const { codegen, policy } of engines) {
        const d = policy.evaluate({ action: { tool: 'db.query', args: make() } });
        assert.equal(d.effect, 'deny', `codegen=${codegen}: fails closed`);
        assert.equal(d.request_hash, null);
        const e = (d.errors ?? []).find((x) => x.kind === 'input');
        assert.ok(e, `codegen=${codegen}: an input error`);
        assert.equal((e as { path?: string }).path, '$.action.args');
        assert.match(e.message, what);
        assert.match(e.message, /only plain objects and arrays are read/);
      }
    });
  }

  it('a non-plain object for an object type, inside `any` and as an extra field is an error too', () => {
    for (const { policy } of engines) {
      for (const [req, path] of [
        [{ action: new Map([['tool', 'x']]) }, '$.action'],
        [{ action: { tool: 'x' }, meta: { m: new Map() } }, '$.meta.m'],
        [{ action: { tool: 'x' }, extra: [new Error('e')] }, '$.extra[0]'],
      ] as [unknown, string][]) {
        const d = policy.evaluate(req);
        assert.equal(d.request_hash, null);
        assert.deepEqual((d.errors ?? []).map((e) => (e as { path?: string }).path), [path]);
      }
    }
  });

  it('plain objects of any kind still pass: literals, null-prototype objects, JSON.parse output, Dates as `any`', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { env: 'prod' });
    for (const { policy } of engines) {
      for (const args of [{ env: 'prod' }, nullProto, JSON.parse('{"env":"prod"}')]) {
        const d = policy.evaluate({ action: { tool: 'db.query', args } });
        assert.equal(d.effect, 'deny');
        assert.deepEqual(d.errors ?? [], []);
      }
      const d = policy.evaluate({ action: { tool: 'x' }, meta: { at: new Date(0) } });
      assert.deepEqual(d.errors ?? [], []);
    }
  });

  it('two requests that differ only inside a Map never share a request hash (both are invalid)', () => {
    const p = engines[0].policy;
    assert.equal(p.requestHash({ action: { tool: 'x', args: new Map([['a', 1]]) } }), null);
    assert.equal(p.requestHash({ action: { tool: 'x', args: new Map([['a', 2]]) } }), null);
  });
});

describe('sparse lists', () => {
  afterEach(() => {
    delete (Array.prototype as unknown as Record<number, unknown>)[1];
  });

  it('a hole is an error naming the path, never read through a polluted Array.prototype (both backends)', () => {
    (Array.prototype as unknown as Record<number, unknown>)[1] = 'admin';
    // eslint-disable-next-line no-sparse-arrays
    const tags = ['a', , 'c'];
    for (const { codegen, policy } of engines) {
      const d = policy.evaluate({ action: { tool: 'x', tags } });
      assert.equal(d.request_hash, null, `codegen=${codegen}`);
      assert.deepEqual((d.errors ?? []).map((e) => (e as { path?: string }).path), ['$.action.tags[1]']);
      assert.match(d.errors![0].message, /hole/);
      // In `any` too.
      // eslint-disable-next-line no-sparse-arrays
      const d2 = policy.evaluate({ action: { tool: 'x' }, meta: [1, , 3] });
      assert.deepEqual((d2.errors ?? []).map((e) => (e as { path?: string }).path), ['$.meta[1]']);
    }
  });

  it('without pollution a hole is still rejected (it is not JSON)', () => {
    for (const { policy } of engines) {
      // eslint-disable-next-line no-sparse-arrays
      const d = policy.evaluate({ action: { tool: 'x', tags: ['a', , 'c'] } });
      assert.equal(d.request_hash, null);
    }
  });
});
