// The built-in `matches` engine (language/semantics/regex-subset.ts) against RE2 itself (re2js): same
// answers, same error messages, on generated patterns and inputs; and a browser's case, where re2js is
// not loaded until asked (REIN217, rule errors, `loadRegexEngine`).
import assert from 'node:assert/strict';
import { RE2JS } from 're2js';
import { subsetPattern } from '../../language/semantics/regex-subset.js';
import { compilePattern as re2Pattern } from '../../language/semantics/regex.js';
import { hasPatternEngine, loadRegexEngine, usePatternEngine } from '../../language/semantics/patterns.js';
import { check, compile, PolicyError } from '../../language/index.js';

/** A small deterministic generator (Park–Miller), so that a failure reproduces. */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 48271) % 2147483647;
    return s % n;
  };
}

const INPUT_CHARS = ['a', 'b', 'k', 's', 'K', 'S', 'A', '\n', '\r', ' ', '_', '-', '.', 'é', 'É', '😀', '\ud83d', '\u212a', '\u017f', '1', 'x', '{', '}', ']', '\t'];

/** Compares the subset with re2js on `n` patterns made of `atoms`; returns how many the subset took. */
function compare(atoms: string[], seed: number, n: number): { taken: number; errors: number } {
  const r = rng(seed);
  let taken = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    let p = '';
    for (let j = 1 + r(7); j > 0; j--) p += atoms[r(atoms.length)];
    let full: RE2JS | undefined;
    let fullError: string | undefined;
    try {
      full = RE2JS.compile(p);
    } catch (e) {
      fullError = (e as Error).message;
    }
    const lite = subsetPattern(p);
    if (lite === undefined) continue; // outside the subset: re2js decides
    if ('error' in lite) {
      errors++;
      assert.equal(lite.error, fullError, `error for ${JSON.stringify(p)}`);
      continue;
    }
    taken++;
    assert.ok(full, `the subset accepted ${JSON.stringify(p)}, which RE2 rejects: ${fullError}`);
    for (let k = 0; k < 24; k++) {
      let s = '';
      for (let j = r(9); j > 0; j--) s += INPUT_CHARS[r(INPUT_CHARS.length)];
      assert.equal(lite.test(s), full.test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`);
    }
  }
  return { taken, errors };
}

describe('the built-in pattern engine (RE2 subset) against re2js', () => {
  it('valid patterns: the same answer on every generated input', () => {
    const atoms = ['a', 'b', 'k', 's', '.', '\\d', '\\w', '\\s', '\\W', '\\D', '\\S', '[a-c]', '[^a]', '[^\\n]', '[\\w.-]', '[k-t]', '[\\d-z]', 'é', '😀', '\\b', '\\B', '^', '$', '\\A', '\\z', '(?i)', '(?m)', '(?s)', '(?-i)', '(?:a|b)', '(a|)', '(?i:k|s)', '(ab)*', 'a*', 'b+', 'a?', 'k{2}', '.{1,3}', '[ab]{0,}', 'a*?', '(a+)+', '(?U)', 'x|y', '\\.', '(?P<n>s)', '(a|b)*k', '\\t', '[^\\s]', '}', ']', '{'];
    let taken = 0;
    for (const seed of [1, 2, 3]) taken += compare(atoms, seed, 1500).taken;
    assert.ok(taken > 3500, `the subset took ${taken} of 4500 patterns`);
  });

  it("broken patterns: RE2's error message, or left to re2js", () => {
    const atoms = ['a', 'k', '.', '\\d', '[a-c]', '[^a]', '(', ')', '|', '*', '+', '?', '{2}', '{1,3}', '{2,1}', '{1001}', '*?', '[', ']', '\\', '-', '{', '}', '(?i)', '(?P<n>', '(?=', '\\1', '\\pL', '\\x41', '[[:alpha:]]', '[]a]', '[z-a]', '[a-\\d]', '\\u', '\\e', '(?', '(?:', '\u212a', '\n'];
    let errors = 0;
    for (const seed of [4, 5, 6]) errors += compare(atoms, seed, 1500).errors;
    assert.ok(errors > 500, `the subset named ${errors} errors`);
  });

  // regression (session 9, h9f's fuzzing): RE2 reads no count with a leading zero (`a{01}` is the text
  // `a{01}`), the subset read it as `a{1}`; and a group of 100k+ elements before a count overflowed the stack
  it('counts with a leading zero are literal text, as in RE2; a huge group before a count does not throw', () => {
    const atoms = ['a', 'µ', '{01}', '{1,02}', '{00,}', '{0}', '{0,}', '{0,0}', '{10}', '{1,010}', '{01001}', '{1,000}', '{', '}', '0', '1', ',', '\w', '[0-9-]', '\W'];
    for (const seed of [7, 8]) compare(atoms, seed, 1500);
    for (const [p, s, want] of [['a{01}', 'a', false], ['a{01}', 'a{01}', true], ['a{1,02}', 'a', false], ['a{00,}', '', false], ['{01}', '{01}', true], ['a{0}b', 'b', true], ['a{2,}', 'aa', true]] as const) {
      const lite = subsetPattern(p);
      assert.ok(lite && !('error' in lite), p);
      assert.equal(lite.test(s), want, `${p} on ${s}`);
      assert.equal(RE2JS.compile(p).test(s), want, `re2js: ${p} on ${s}`);
    }
    for (const p of ['(' + 'a'.repeat(130_000) + '){2}', '(' + 'a|'.repeat(150_000) + 'a){2}']) {
      const lite = subsetPattern(p);
      assert.ok(lite === undefined || !('error' in lite) || !/call stack/.test(lite.error), p.slice(0, 20));
    }
  });

  it('leaves to re2js what it does not cover (and never accepts what RE2 refuses)', () => {
    for (const p of ['\\pL', '\\p{Greek}', '\\x{41}', '\\x41', '[[:alpha:]]', '\\Qa.b\\E', '\\0', '(?i)é', '(?i)[^k]', '(?i)\\W', '[]a]', '(?P<a>x)(?P<a>y)', '(a{10}){101}', '(a{1000}){1000}', '^*', '(?i)*', '()*', '(?=a)', 'a**', '(' .repeat(300) + ')'.repeat(300)])
      assert.equal(subsetPattern(p), undefined, p);
  });

  it('the patterns of the shipped examples, templates and docs run on the built-in engine', () => {
    for (const p of [
      '(?i)^delete',
      '(^|[;&|] *)git +push',
      '(^|[;&|] *|sudo +)(rm +-[a-zA-Z]*[rRf]|mkfs|dd +if=|shred |git +clean +-[a-z]*f)',
      '^(npm +(install|i|add)|pnpm +add|yarn +add|pip3? +install) +[a-zA-Z@-]',
      '(?i)\\brm\\s+-rf\\b',
      '^(\\d+\\.){3}\\d+$',
      '^db\\.',
      'sk-[A-Za-z0-9]{20,}',
    ]) {
      const lite = subsetPattern(p);
      assert.ok(lite !== undefined && !('error' in lite), p);
    }
  });

  it('matches in time linear in the text: patterns that hang a backtracking engine, a long input', function () {
    this.timeout(30_000);
    const hostile = 'a'.repeat(20_000) + '!';
    for (const p of ['^(a+)+$', '^(a|aa)+$', '^(((a+){2}){2}){2}$', '^' + 'a*'.repeat(30) + '$', '(a|b|ab)*c', '(.*a){20}$']) {
      const m = subsetPattern(p);
      assert.ok(m && !('error' in m), p);
      const t = performance.now();
      assert.equal(m.test(hostile), false, p);
      // A hang guard, not a performance claim (a backtracking engine needs hours here).
      assert.ok(performance.now() - t < 10_000, p);
      assert.equal(m.test('aaaa'), re2Pattern(p).test('aaaa'), p);
    }
  });

  it('surrogate pairs are one character; a lone surrogate is one too, as in re2js', () => {
    for (const [p, s] of [['^.$', '😀'], ['^..$', '😀'], ['^.$', '\ud83d'], ['^[^a]$', '😀'], ['a.b', 'a\ud83d\ude00b'], ['a.b', 'a\ude00\ud83db']] as const) {
      const m = subsetPattern(p);
      assert.ok(m && !('error' in m));
      assert.equal(m.test(s), RE2JS.compile(p).test(s), `${p} on ${JSON.stringify(s)}`);
    }
  });
});

describe("a browser's case: compile without re2js until it is loaded", () => {
  const HEAD = 'policy p { default allow }\ninput { t: string, pattern?: string }\n';
  let saved: typeof re2Pattern | undefined;
  before(() => {
    saved = hasPatternEngine() ? re2Pattern : undefined;
    usePatternEngine(undefined);
  });
  after(() => usePatternEngine(saved ?? re2Pattern));

  it('patterns in the subset compile and match on both backends without re2js', () => {
    assert.equal(hasPatternEngine(), false);
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': HEAD + 'rule r {\n  when t matches "(?i)^rm\\\\s+-rf\\\\b"\n  deny "x"\n}\n' }, { codegen });
      assert.equal(p.evaluate({ t: 'RM  -rf /' }).effect, 'deny');
      assert.equal(p.evaluate({ t: 'rm -rfx' }).effect, 'allow');
    }
    // Errors the subset knows are RE2's own (REIN211), without re2js.
    const r = check({ 'p.rein': HEAD + 'rule r {\n  when t matches "([a-z]+"\n  deny "x"\n}\n' });
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message]), [['REIN211', 'invalid regular expression: missing closing ): `([a-z]+`']]);
    assert.equal(hasPatternEngine(), false, 'nothing loaded re2js');
  });

  it('a written-out pattern outside the subset is REIN217; look-around and back-references stay REIN212', () => {
    const src = HEAD + 'rule r {\n  when t matches "^\\\\pL+$"\n  deny "x"\n}\nrule s {\n  when t matches "a(?=b)"\n  deny "y"\n}\n';
    const d = check({ 'p.rein': src }).diagnostics;
    assert.deepEqual(d.map((x) => x.code), ['REIN217', 'REIN212']);
    assert.match(d[0].message, /needs the RE2 engine, which is not loaded: `await loadRegexEngine\(\)`/);
    assert.throws(() => compile({ 'p.rein': src }), (e: unknown) => e instanceof PolicyError && e.diagnostics.some((x) => x.code === 'REIN217'));
  });

  it('a pattern from the request outside the subset is a rule error saying what to load; one inside matches', () => {
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': HEAD + 'rule r {\n  when t matches (pattern ?? "^$")\n  deny "x"\n}\n' }, { codegen });
      assert.equal(p.evaluate({ t: 'abc', pattern: '^[a-c]+$' }).effect, 'deny');
      const d = p.evaluate({ t: 'abc', pattern: '^\\pL+$' });
      assert.equal(d.effect, 'deny', 'fails closed (the set has no `on error`: deny)');
      assert.match(JSON.stringify(d.errors), /needs the RE2 engine, which is not loaded/);
    }
  });

  it('after `await loadRegexEngine()` every RE2 pattern compiles', async () => {
    await loadRegexEngine();
    assert.equal(hasPatternEngine(), true);
    const p = compile({ 'p.rein': HEAD + 'rule r {\n  when t matches "^\\\\pL+$"\n  deny "x"\n}\n' });
    assert.equal(p.evaluate({ t: 'été' }).effect, 'deny');
    assert.equal(p.evaluate({ t: 'a1' }).effect, 'allow');
    usePatternEngine(undefined);
  });
});
