// Adding a list or map method is ONE entry in language/semantics/builtins.ts (issue #16): the entry
// carries how the evaluator runs it (`loop` for a list method, `yields` for a map method), lowering
// copies that into one generic IR node, and both backends (closures.ts, codegen-rules.ts) run it from
// there. These tests add methods to the registry at test time and run them through the checker, the
// lowering and both backends with nothing else edited; and they fail when a per-method switch comes
// back into the IR, the lowering or the backends.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LIST_BUILTINS, LIST_METHODS, MAP_BUILTINS, MAP_METHODS, type ListLoop, type ListMethod, type MapMethod } from '../../language/semantics/builtins.js';
import { T } from '../../language/semantics/types.js';
import { compile } from '../../language/policy.js';
import { check } from '../../language/index.js';
import { childNodes, type Node } from '../../language/runtime/ir.js';

/** A test-time list method: a lambda method typed as `xs.any`, or a method with one value argument
 *  (or none) typed by `type`. */
function listMethod(name: string, loop: ListLoop, kind: 'predicate' | 'projection' | 'value' | 'none', type: ListMethod['type']): ListMethod {
  const lambda = kind === 'predicate' || kind === 'projection';
  return {
    name,
    signature: `xs.${name}(…)`,
    params: kind === 'none' ? [] : [{ name: 'p' }],
    doc: `test-time method ${name}`,
    lambda,
    min: kind === 'none' ? 0 : 1,
    max: kind === 'none' ? 0 : 1,
    type,
    loop,
    example: { on: [], call: `${name}()`, result: null },
  };
}

const ADDED: Record<string, ListMethod> = {
  // every vocabulary item of `ListLoop` at least once, in combinations no built-in uses
  none: listMethod('none', { when: 'true', step: 'stop', stopWith: false }, 'predicate', (c) => (c.predicate(0), T.bool)),
  reject: listMethod('reject', { when: 'true', step: 'keep' }, 'predicate', (c) => (c.predicate(0), c.list)),
  keep_unless: listMethod('keep_unless', { when: 'notTrue', step: 'keep' }, 'predicate', (c) => (c.predicate(0), c.list)),
  misses: listMethod('misses', { when: 'notTrue', step: 'count' }, 'predicate', (c) => (c.predicate(0), T.int)),
  numbers: listMethod('numbers', { when: 'number', step: 'keep' }, 'none', (c) => c.list),
  tally: listMethod('tally', { when: 'always', step: 'count' }, 'none', () => T.int),
  total: listMethod('total', { when: 'number', step: 'add' }, 'projection', (c) => c.lambda(0)),
  project: listMethod('project', { when: 'always', step: 'push' }, 'projection', (c) => ({ kind: 'list', elem: c.lambda(0) })),
  lacks: listMethod('lacks', { when: 'equalsArg', step: 'stop', stopWith: false }, 'value', (c) => (c.value(0), T.bool)),
  occurrences: listMethod('occurrences', { when: 'equalsArg', step: 'count', ifNull: null }, 'value', (c) => (c.value(0), { kind: 'nullable', inner: T.int })),
};

const ADDED_MAP: Record<string, MapMethod> = {
  vals: { name: 'vals', signature: 'm.vals()', params: [], doc: 'test-time', yields: 'value', result: (v) => ({ kind: 'list', elem: v }), example: { on: {}, call: 'vals()', result: [] } },
  names: { name: 'names', signature: 'm.names()', params: [], doc: 'test-time', yields: 'key', result: () => ({ kind: 'list', elem: T.string }), example: { on: {}, call: 'names()', result: [] } },
};

const SCHEMA = `policy p { default allow  on error deny }
input {
  xs?: list<int>
  ws?: list<string>
  amounts?: list<money>
  items?: list<{ n: int, tag: string }>
  anys?: list<any>
  m?: map<string>
  a?: any
}
`;

/** The value of `expr` for `request`, through each backend: its rendering (`string(expr)`) or the rule error. */
function valueOf(expr: string, request: unknown): string[] {
  const src = `${SCHEMA}rule probe {\n  when true\n  deny "\${string(${expr})}"\n}\n`;
  return [true, false].map((codegen) => {
    const p = compile({ 'p.rein': src }, { codegen });
    assert.equal(p.codegen, codegen);
    const d = p.evaluate(request);
    if (d.errors.length > 0) return `error: ${d.errors.map((e) => e.message).join('; ')}`;
    return d.reasons[0]?.message ?? '(no reason)';
  });
}

function expect(expr: string, request: unknown, want: string | RegExp): void {
  const [gen, clo] = valueOf(expr, request);
  assert.equal(gen, clo, `${expr}: the two backends differ on ${JSON.stringify(request)}`);
  if (typeof want === 'string') assert.equal(gen, want, `${expr} on ${JSON.stringify(request)}`);
  else assert.match(gen, want, `${expr} on ${JSON.stringify(request)}`);
}

describe('list and map methods are one registry entry each (issue #16)', () => {
  describe('methods added to the registry at test time run in the checker and both backends', () => {
    before(() => {
      for (const [k, m] of Object.entries(ADDED)) (LIST_METHODS as Record<string, ListMethod>)[k] = m;
      for (const [k, m] of Object.entries(ADDED_MAP)) (MAP_METHODS as Record<string, MapMethod>)[k] = m;
    });
    after(() => {
      for (const k of Object.keys(ADDED)) delete (LIST_METHODS as Record<string, ListMethod>)[k];
      for (const k of Object.keys(ADDED_MAP)) delete (MAP_METHODS as Record<string, MapMethod>)[k];
      assert.equal('none' in LIST_BUILTINS, false);
    });

    it('the checker types them from the entry (a wrong lambda or argument is reported)', () => {
      const ok = check({ 'p.rein': `${SCHEMA}rule r {\n  when xs.none(x => x > 2) and ws.lacks("a") and items.total(i => i.n) > 1\n  deny "x"\n}\n` });
      assert.deepEqual(ok.diagnostics.filter((d) => d.severity === 'error'), []);
      const bad = check({ 'p.rein': `${SCHEMA}rule r {\n  when xs.none(x => x + 1)\n  deny "x"\n}\n` });
      assert.ok(bad.diagnostics.some((d) => d.severity === 'error' && /lambda of `.none\(\)`/.test(d.message)), JSON.stringify(bad.diagnostics));
    });

    it('stop: the result of the first element that acts; later elements are not evaluated', () => {
      expect('xs.none(x => x > 2)', { xs: [1, 2, 3] }, 'false');
      expect('xs.none(x => x > 5)', { xs: [1, 2, 3] }, 'true');
      expect('xs.none(x => x > 5)', {}, 'true');
      expect('xs.none(x => x > 5)', { xs: [] }, 'true');
      // 10 / 0 is never evaluated: the first element stops the loop
      expect('xs.none(x => 10 / x > 1)', { xs: [1, 0] }, 'false');
      expect('xs.none(x => 10 / x > 1)', { xs: [0, 1] }, /^error: division by zero/);
      expect('ws.lacks("b")', { ws: ['a', 'b'] }, 'false');
      expect('ws.lacks("c")', { ws: ['a', 'b'] }, 'true');
      expect('ws.lacks("c")', {}, 'true');
      // a null argument equals nothing, as with `in`
      expect('anys.lacks(a)', { anys: [null, 1] }, 'true');
      expect('anys.lacks(a)', { anys: [{ k: [1] }], a: { k: [1] } }, 'false');
    });

    it('count, with a lambda, of every element (the length) and of those equal to the argument; `ifNull`', () => {
      expect('xs.misses(x => x > 1)', { xs: [1, 2, 3, 0] }, '2');
      expect('xs.misses(x => x > 1)', {}, '0');
      expect('xs.tally()', { xs: [5, 6, 7] }, '3');
      expect('xs.tally()', {}, '0');
      expect('ws.occurrences("a")', { ws: ['a', 'b', 'a'] }, '2');
      expect('ws.occurrences("a")', {}, 'null');
    });

    it('keep: the elements that act, in order (a new list); the element itself without a lambda', () => {
      expect('xs.reject(x => x % 2 == 0)', { xs: [1, 2, 3, 4] }, '[2, 4]');
      expect('xs.keep_unless(x => x % 2 == 0)', { xs: [1, 2, 3, 4] }, '[1, 3]');
      expect('xs.keep_unless(x => x % 2 == 0)', {}, '[]');
      expect('anys.numbers()', { anys: [1, 'a', null, 2.5, [3]] }, '[1, 2.5]');
    });

    it('add: exact money arithmetic when the call is money; push: the lambda results, null for a missing value', () => {
      expect('items.total(i => i.n)', { items: [{ n: 2, tag: 'a' }, { n: 5, tag: 'b' }] }, '7');
      expect('amounts.total(x => x)', { amounts: [0.1, 0.2] }, '$0.30');
      expect('amounts.total(x => x)', {}, '$0.00');
      expect('items.project(i => i.tag)', { items: [{ n: 2, tag: 'a' }, { n: 5, tag: 'b' }] }, '["a", "b"]');
      expect('anys.project(x => x.k)', { anys: [{ k: 1 }, {}] }, '[1, null]');
    });

    it('a value that is not a list is a rule error naming the method, in both backends', () => {
      expect('a.none(x => x == 1)', { a: 'text' }, /`\.none\(\)` needs a list, got string/);
    });

    it('map methods: what each key yields, in sorted key order', () => {
      expect('m.vals()', { m: { b: '2', a: '1' } }, '["1", "2"]');
      expect('m.names()', { m: { b: '2', a: '1' } }, '["a", "b"]');
      expect('a.names()', { a: [1] }, /`\.names\(\)` needs a map, got list/);
    });
  });

  it('on an `any` receiver, `len` and `contains` run as list methods on a list and as string methods on a string', () => {
    expect('a.len()', { a: [1, 2, 3] }, '3');
    expect('a.len()', { a: 'abcd' }, '4');
    expect('a.contains(2)', { a: [1, 2, 3] }, 'true');
    expect('a.contains("bc")', { a: 'abcd' }, 'true');
    expect('a.contains(5)', { a: [1, 2, 3] }, 'false');
  });

  it('the length of a filtered list is the filter counting (no list built): same values, same errors', () => {
    // Lowered to one counting loop (the filter's own: its `when`, lambda and name)…
    const src = `policy p { default allow  on error deny }\ninput { ys: list<int> }\nrule r {\n  when ys.filter(y => y > 1).len() > 1 and len(ys.filter(y => 10 / y > 1)) > 0\n  deny "\${len(ys.filter(y => y > 1))}"\n}\n`;
    const counted = compile({ 'p.rein': src });
    const loops: ListLoop[] = [];
    const walk = (n: Node) => {
      if (n.k === 'listMethod') loops.push(n.loop);
      childNodes(n).forEach(walk);
    };
    counted.compiled.ir!.rules.forEach((r) => {
      r.clauses.forEach((c) => walk(c.expr));
      if (r.message) walk(r.message);
    });
    assert.deepEqual(loops, [{ when: 'true', step: 'count' }, { when: 'true', step: 'count' }, { when: 'true', step: 'count' }]);
    const both = [counted, compile({ 'p.rein': src }, { codegen: false })];
    const decide = (ys: unknown) => both.map((p) => JSON.stringify(p.evaluate({ ys }), ['effect', 'reasons', 'errors', 'message', 'name']));
    const [gen, clo] = decide([1, 2, 3, 5]);
    assert.equal(gen, clo);
    assert.match(gen!, /"effect":"deny".*"message":"3"/);
    const [gen0, clo0] = decide([1, 2, 3, 0]);
    assert.equal(gen0, clo0);
    assert.match(gen0!, /division by zero/);
    // …with the values and rule errors of building the list and taking its length.
    const e = 'xs.filter(x => x > 1).len()';
    expect(e, { xs: [1, 2, 3, 0] }, '2');
    expect(e, { xs: [] }, '0');
    expect(e, {}, '0');
    expect('xs.filter(x => 10 / x > 1).len()', { xs: [5, 0] }, /^error: division by zero/);
    expect('a.filter(x => x > 1).len()', { a: 'abc' }, /`\.filter\(\)` needs a list, got string/);
    expect('xs.len()', {}, 'null');
    expect('xs.filter(x => x > 1).map(x => x * 2).len()', { xs: [1, 2, 3] }, '2');
  });

  it('the built-in methods keep their semantics (null lists, money sums, early exit)', () => {
    expect('xs.any(x => 10 / x > 1)', { xs: [1, 0] }, 'true');
    expect('xs.all(x => 10 / x > 20)', { xs: [1, 0] }, 'false');
    expect('xs.all(x => x > 0)', {}, 'true');
    expect('xs.any(x => x > 0)', {}, 'false');
    expect('xs.len()', {}, 'null');
    expect('xs.sum()', {}, '0');
    expect('amounts.sum()', { amounts: [0.1, 0.2] }, '$0.30');
    expect('xs.filter(x => x > 1).map(x => x * 2).sum()', { xs: [1, 2, 3] }, '10');
    expect('items.count(i => i.tag.starts_with("a"))', { items: [{ n: 1, tag: 'ab' }, { n: 2, tag: 'b' }, { n: 3, tag: 'a' }] }, '2');
    expect('anys.contains(a)', { anys: [{ k: 1 }], a: { k: 1 } }, 'true');
    expect('m.entries().map(e => "${e.key}${e.value}")', { m: { b: '2', a: '1' } }, '["a1", "b2"]');
  });

  describe('no per-method code outside the registry', () => {
    const files = ['ir.ts', 'lower.ts', 'closures.ts', 'codegen-rules.ts', 'ops.ts'].map((f) => ({
      f,
      // code only: comments out
      text: readFileSync(fileURLToPath(new URL(`../../language/runtime/${f}`, import.meta.url)), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1'),
    }));
    const names = (table: object) => Object.keys(table).filter((n) => !(n in ADDED) && !(n in ADDED_MAP));
    // `len` and `contains` are string methods too: the string-method code may name them.
    const stringToo = new Set(['len', 'contains']);
    const listNames = names(LIST_BUILTINS);
    const mapNames = names(MAP_BUILTINS);

    it('the registry has the methods this test looks for', () => {
      for (const n of ['any', 'all', 'count', 'filter', 'map', 'sum', 'len', 'contains']) assert.ok(listNames.includes(n), n);
      for (const n of ['keys', 'values', 'entries']) assert.ok(mapNames.includes(n), n);
    });

    it('the IR, the lowering and the backends compare no method name and switch on no method', () => {
      const quoted = (n: string) => `['"\`]${n}['"\`]`;
      for (const { f, text } of files) {
        assert.doesNotMatch(text, /switch\s*\(\s*(?:n\.)?m\s*\)/, `${f}: a switch on the method name`);
        for (const n of [...listNames, ...mapNames].filter((x) => !stringToo.has(x))) {
          const cmp = new RegExp(`(?:\\bm|\\.m|\\bname)\\s*[!=]==?\\s*${quoted(n)}|${quoted(n)}\\s*[!=]==?\\s*(?:\\bm|[\\w.]+\\.m)\\b|case\\s+${quoted(n)}\\s*:.*?(?:\\bm\\b|\\.m\\b)`);
          assert.doesNotMatch(text, cmp, `${f}: compares a method name with \`${n}\``);
        }
      }
    });

    it('no list of method names (a set or a type of them) outside the registry', () => {
      for (const { f, text } of files) {
        for (const group of [listNames, mapNames]) {
          const any = `['"\`](?:${group.join('|')})['"\`]`;
          const twoInAList = new RegExp(`${any}\\s*(?:,|\\|)\\s*${any}`);
          assert.doesNotMatch(text, twoInAList, `${f}: lists method names (${group.join(', ')})`);
        }
      }
    });

    it('the grep would catch a per-method switch (a test of the test)', () => {
      const re = /(?:\bm|\.m|\bname)\s*[!=]==?\s*['"`]filter['"`]/;
      assert.match("if (n.m === 'filter') return x;", re);
      const any = `['"\`](?:${listNames.join('|')})['"\`]`;
      assert.match("const LAMBDA = new Set(['any', 'all']);", new RegExp(`${any}\\s*(?:,|\\|)\\s*${any}`));
      assert.match("type ListMethod = 'len' | 'contains';", new RegExp(`${any}\\s*(?:,|\\|)\\s*${any}`));
    });
  });
});
