// #17 item 4: pattern ergonomics — `(?i)`, lists of patterns kept as data (checked when constant,
// compiled when met otherwise, fail closed when invalid), and the glob `s.like(g)` (Cedar's `like`).

import { strict as assert } from 'node:assert';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';
import { globMatch } from '../../language/semantics/string-methods.js';
import { rng } from '../helpers/prng.js';

const HEAD = `policy p { default allow  on error deny }
input {
  tool: string
  cmd?: string
  pattern?: any
  globs?: list<string>
}
`;

function both(body: string) {
  const files = { 'p.rein': HEAD + body };
  const clo = compile(files, { codegen: false });
  const gen = compile(files, { codegen: true });
  return (req: unknown) => {
    const a = JSON.parse(JSON.stringify(clo.evaluate(req, { now: 0 })));
    const b = JSON.parse(JSON.stringify(gen.evaluate(req, { now: 0 })));
    assert.deepEqual(b, a, `backends differ on ${JSON.stringify(req)}`);
    return a as { effect: string; reasons: { name: string }[]; errors: { message: string }[] };
  };
}

describe('pattern ergonomics', () => {
  it('(?i) matches case-insensitively on RE2', () => {
    const d = both('rule r {\n  when tool matches "(?i)^delete_"\n  deny "m"\n}\n');
    assert.equal(d({ tool: 'DELETE_ROW' }).effect, 'deny');
    assert.equal(d({ tool: 'delete_row' }).effect, 'deny');
    assert.equal(d({ tool: 'undelete_row' }).effect, 'allow');
  });

  describe('lists of patterns', () => {
    it('a let of patterns: true when one matches', () => {
      const d = both('let blocked = ["(?i)^rm\\\\s+-rf", "\\\\bmkfs\\\\b"]\nrule r {\n  when (cmd ?? "") matches blocked\n  deny "m"\n}\n');
      assert.equal(d({ tool: 'shell', cmd: 'RM  -rf /' }).effect, 'deny');
      assert.equal(d({ tool: 'shell', cmd: 'sudo mkfs /dev/sda' }).effect, 'deny');
      assert.equal(d({ tool: 'shell', cmd: 'ls' }).effect, 'allow');
    });

    it('each constant pattern is checked by `rein check`, at the literal, once', () => {
      const r = check({ 'p.rein': HEAD + 'let bad = ["^ok", "(", "(?=x)"]\nrule r {\n  when tool matches bad\n  deny "m"\n}\nrule s {\n  when tool matches bad\n  deny "m"\n}\n' });
      const errs = r.diagnostics.filter((x) => x.severity === 'error');
      assert.deepEqual(errs.map((x) => x.code), ['REIN211', 'REIN212']);
      const line = (HEAD + 'let bad').split('\n').length - 1; // 0-based line of the let
      assert.deepEqual(errs.map((x) => x.range.start.line), [line, line]);
      assert.ok(errs[0].range.start.character > 'let bad = ['.length - 1);
    });

    it('a pattern from the request: compiled when met; an invalid one fails closed with a rule error', () => {
      const d = both('rule r {\n  when tool matches pattern\n  deny "m"\n}\n');
      assert.equal(d({ tool: 'db.drop', pattern: '^db\\.' }).effect, 'deny');
      assert.equal(d({ tool: 'db.drop', pattern: ['^x', '(?i)DROP$'] }).effect, 'deny');
      assert.equal(d({ tool: 'db.drop', pattern: ['^x'] }).effect, 'allow');
      assert.equal(d({ tool: 'db.drop', pattern: null }).effect, 'allow', 'no pattern matches nothing');
      const bad = d({ tool: 'db.drop', pattern: ['^x', '(unclosed'] });
      assert.equal(bad.effect, 'deny');
      assert.match(bad.errors.map((e) => e.message).join('\n'), /invalid pattern "\(unclosed" at p\.rein:\d+:\d+: missing closing \)/);
      const shape = d({ tool: 'db.drop', pattern: 42 });
      assert.equal(shape.effect, 'deny');
      assert.match(shape.errors.map((e) => e.message).join('\n'), /`matches` needs a pattern \(a string or a list of strings\), got number/);
      const back = d({ tool: 'aa', pattern: '(a)\\1' });
      assert.equal(back.effect, 'deny', 'a back-reference from data is rejected like any invalid RE2 pattern');
    });

    it('a hostile pattern from the request cannot backtrack (RE2); more patterns than the cache holds still match', () => {
      const d = both('rule r {\n  when tool matches pattern\n  deny "m"\n}\n');
      const text = 'a'.repeat(5000) + '!';
      assert.equal(d({ tool: text, pattern: '^(a+)+$' }).effect, 'allow');
      for (let i = 0; i < 1100; i++) d({ tool: 'x', pattern: `^p${i}$` }); // more than the cache holds
      assert.equal(d({ tool: 'p7', pattern: '^p7$' }).effect, 'deny');
    });
  });

  describe('s.like(glob)', () => {
    it('Cedar semantics: * is any run, the whole string must match, \\* is a star', () => {
      const cases: [string, string, boolean][] = [
        ['list_files', 'list_*', true],
        ['list_', 'list_*', true],
        ['xlist_files', 'list_*', false],
        ['run_query', '*_query', true],
        ['run_query_now', '*_query', false],
        ['a_b_c', '*_*_*', true],
        ['abc', 'a*b*c', true],
        ['ac', 'a*b*c', false],
        ['aXbYbZc', 'a*b*c', true],
        ['', '*', true],
        ['', '', true],
        ['x', '', false],
        ['a*b', 'a\\*b', true],
        ['axb', 'a\\*b', false],
        ['a\\b', 'a\\\\b', true],
        ['abab', '*ab', true],
        ['aab', 'a*ab', true],
        ['ab', 'a*ab', false],
      ];
      for (const [s, g, want] of cases) assert.equal(globMatch(s, g), want, `${JSON.stringify(s)}.like(${JSON.stringify(g)})`);
    });

    it('agrees with an anchored regular expression on random strings and globs', () => {
      const r = rng(4);
      const pick = (alpha: string, n: number) => Array.from({ length: n }, () => alpha[Math.floor(r() * alpha.length)]).join('');
      for (let i = 0; i < 3000; i++) {
        const s = pick('ab_', Math.floor(r() * 8));
        const g = pick('ab_**', Math.floor(r() * 6));
        const re = new RegExp('^' + g.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*') + '$');
        assert.equal(globMatch(s, g), re.test(s), `${JSON.stringify(s)}.like(${JSON.stringify(g)})`);
        // Again, the glob's pieces cached now (more globs here than the cache holds: it is emptied on the way).
        assert.equal(globMatch(s, g), re.test(s), `${JSON.stringify(s)}.like(${JSON.stringify(g)}) again`);
      }
      // A long glob is split at every call; an escaped star stays literal the second time too.
      const long = 'x'.repeat(300) + '*';
      for (let k = 0; k < 2; k++) {
        assert.equal(globMatch('x'.repeat(301), long), true);
        assert.equal(globMatch('a*b', 'a\\*b'), true);
        assert.equal(globMatch('axb', 'a\\*b'), false);
      }
    });

    it('in a policy, with globs kept as data and from the request, both backends', () => {
      const d = both('let read_only = ["list_*", "get_*", "*_query"]\nrule writes {\n  unless read_only.any(g => tool.like(g)) or (globs ?? []).any(g => tool.like(g))\n  deny "m"\n}\n');
      assert.equal(d({ tool: 'list_files' }).effect, 'allow');
      assert.equal(d({ tool: 'sql_query' }).effect, 'allow');
      assert.equal(d({ tool: 'write_file' }).effect, 'deny');
      assert.equal(d({ tool: 'write_file', globs: ['write_*'] }).effect, 'allow');
    });

    it('a long hostile input with many stars finishes (no backtracking)', () => {
      const s = 'a'.repeat(20000);
      assert.equal(globMatch(s, '*a*a*a*a*a*a*a*a*a*a*b'), false);
      assert.equal(globMatch(s + 'b', '*a*a*a*a*a*a*a*a*a*a*b'), true);
    });

    it('the checker types it: a glob must be a string', () => {
      const r = check({ 'p.rein': HEAD + 'rule r {\n  when tool.like(1)\n  deny "m"\n}\nrule s {\n  when tool.lke("x*")\n  deny "m"\n}\n' });
      const errs = r.diagnostics.filter((x) => x.severity === 'error');
      assert.equal(errs.length, 2, JSON.stringify(errs));
      assert.equal(errs[1].help, 'did you mean `like`?');
    });
  });
});
