import assert from 'node:assert/strict';
import { checkPattern, compilePattern } from '../../language/semantics/regex.js';
import { RE2JS } from 're2js';
import { compile } from '../../language/index.js';

describe('matches patterns (RE2)', () => {
  it('reports invalid patterns as REIN211 with the engine message', () => {
    for (const p of ['(', '[a-z', 'a{2,1}', '*a', '[^]', '\\u0041', '(a{1000}){1000}']) {
      const r = checkPattern(p);
      assert.equal(r?.code, 'REIN211', p);
      assert.match(r!.message, /^invalid regular expression: [a-z]/);
    }
  });

  it('rejects back-references and look-around as REIN212, naming the construct', () => {
    const cases: [string, RegExp][] = [
      ['^(?=(a+)+$)', /look-ahead `\(\?=`/],
      ['a(?!b)', /look-ahead `\(\?!`/],
      ['(?<=a)b', /look-behind `\(\?<=`/],
      ['(?<!a)b', /look-behind `\(\?<!`/],
      ['(?:(a)\\1?)+$', /back-reference `\\1`/],
      ['(?<x>a)\\k<x>', /back-reference `\\k<`/],
    ];
    for (const [p, want] of cases) {
      const r = checkPattern(p);
      assert.equal(r?.code, 'REIN212', p);
      assert.match(r!.message, want, p);
    }
    // An escaped parenthesis is a literal, not a look-ahead: the pattern is simply valid.
    assert.equal(checkPattern('\\(?=x'), undefined);
  });

  it('does not overflow on deeply nested patterns: a clear REIN211, never accepted', () => {
    const p = '('.repeat(3000) + 'a' + ')'.repeat(3000);
    const r = checkPattern(p);
    assert.equal(r?.code, 'REIN211');
    assert.match(r!.message, /nests too deeply/);
  });

  it('accepts RE2 flags and classes that JavaScript regexes lack', () => {
    for (const p of ['(?i)^rm -rf', '(?s)a.b', '\\pL+', '\\x{41}', '\\Aabc\\z', '(?P<n>a)', '^db\\.', '(a+)+$', '(\\w|\\d)*'])
      assert.equal(checkPattern(p), undefined, p);
  });

  it('matches in linear time the patterns that hang a backtracking engine', function () {
    this.timeout(20_000);
    const policy = (pattern: string) => `policy p { default allow }
input { text: string }
rule r { when text matches ${JSON.stringify(pattern)} deny "x" }`;
    const hostile = 'a'.repeat(5_000) + '!';
    for (const pattern of ['^(a+)+$', '^(a|aa)+$', '^(((a+){2}){2}){2}$', '^' + 'a*'.repeat(30) + '$']) {
      for (const codegen of [true, false]) {
        const engine = compile({ 'p.rein': policy(pattern) }, { codegen });
        const t = performance.now();
        const d = engine.evaluate({ text: hostile });
        const ms = performance.now() - t;
        assert.equal(d.effect, 'allow', pattern);
        assert.deepEqual(d.errors ?? [], []);
        // A hang guard, not a performance claim: a backtracking engine needs minutes for these
        // shapes at a hundredth of this size.
        assert.ok(ms < 5_000, `${pattern}: ${ms} ms`);
        assert.equal(engine.evaluate({ text: 'aaaaaaaa' }).effect, 'deny', pattern);
      }
    }
  });

  it('start-anchored patterns (matched with one anchored attempt) answer exactly as the full search', () => {
    const patterns = ['^db\\.', '\\Adb', '(?:^a)+b', '^(npm +(install|i|add)|pnpm +add) +[a-z]', '^$', '^a|b', '(?m)^db', '^a*', '(?i)^DB'];
    const inputs = ['', 'db.x', 'xdb.x', 'a', 'ab', 'aab', 'b', 'x\ndb', 'DB.x', 'npm install x', ' npm install x', 'pnpm add y', 'zzz'];
    for (const p of patterns) {
      const fast = compilePattern(p);
      const full = RE2JS.compile(p);
      for (const s of inputs) assert.equal(fast.test(s), full.test(s), `${p} on ${JSON.stringify(s)}`);
    }
  });

  it('case-insensitive matching with (?i) on both backends', () => {
    const src = `policy p { default allow }
input { text: string }
rule r { when text matches "(?i)\\\\brm\\\\s+-rf\\\\b" deny "destructive" }`;
    for (const codegen of [true, false]) {
      const engine = compile({ 'p.rein': src }, { codegen });
      assert.equal(engine.evaluate({ text: 'sudo RM  -RF /' }).effect, 'deny');
      assert.equal(engine.evaluate({ text: 'firm -rfx' }).effect, 'allow');
    }
  });
});
