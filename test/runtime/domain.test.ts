// Issue 11 §9: `domain()` took the part after the last `@`, so "bob@evil.com, carol@example.com"
// counted as internal. It is now null unless the string is exactly one plain address.
import assert from 'node:assert/strict';
import { compile } from '../../language/index.js';

const SRC = `policy p { default allow }
input { to: list<string> }
let internal = ["example.com"]
rule external_mail {
  when to.any(a => (a.domain() ?? "") not in internal)
  deny "external recipient"
}
`;

describe('domain()', () => {
  const engines = [true, false].map((codegen) => compile({ 'p.rein': SRC }, { codegen }));
  const effect = (to: string[]) => engines.map((p) => p.evaluate({ to }).effect);

  it('is the lower-cased domain of one plain address', () => {
    assert.deepEqual(effect(['bob@Example.COM', 'o\'brien+tag@example.com']), ['allow', 'allow']);
    assert.deepEqual(effect(['bob@evil.com']), ['deny', 'deny']);
  });

  it('is null (so a deny-unless-internal rule fails closed) for anything but one address', () => {
    for (const s of [
      'bob@evil.com, carol@example.com',
      'bob@evil.com;carol@example.com',
      'Carol <carol@example.com>',
      'carol@example.com ',
      'a@b@example.com',
      'carol@',
      '@example.com',
      'carol@example..com',
      'carol@example.com.',
      'no address',
    ])
      assert.deepEqual(effect([s]), ['deny', 'deny'], s);
  });
});
