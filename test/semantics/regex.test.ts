import assert from 'node:assert/strict';
import { checkPattern } from '../../language/semantics/regex.js';

describe('matches pattern analysis', () => {
  it('reports invalid patterns as REIN211 with the engine message', () => {
    for (const p of ['(', '[a-z', 'a{2,1}', '*a', '(?<x>a)(?<x>b)']) {
      const r = checkPattern(p);
      assert.equal(r?.code, 'REIN211', p);
      assert.match(r!.message, /^invalid regular expression: [a-z]/);
    }
  });

  it('flags nested quantifiers without a separator', () => {
    for (const p of ['(a+)+', '(a*)*', '(a+)*b', '^(\\w+\\s?)*$', '(.*a){10}', '(?:x+x+)+y', '^(([a-z])+.)+[A-Z]([a-z])+$', '(a{1,3})+'])
      assert.equal(checkPattern(p)?.code, 'REIN212', p);
  });

  it('flags repeated alternations with overlapping branches', () => {
    for (const p of ['(a|a)*', '(a|ab)+', '(\\w|\\d)*', '(.|a)*'])
      assert.equal(checkPattern(p)?.code, 'REIN212', p);
  });

  it('accepts common safe patterns', () => {
    for (const p of [
      '^db\\.',
      '(\\d+\\.){3}\\d+',
      '(a+b)*',
      '(\\w+\\s)*',
      '^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$',
      '(\\w|-)+',
      '(.|\\n)*',
      '^(https?|ftp)://',
      '(.*a){2}',
      '[^"]*"',
    ])
      assert.equal(checkPattern(p), undefined, p);
  });
});
