// The shared parser skips Chevrotain's grammar validations to start faster (docs/grammar.md,
// "Performance"); this test builds a validating parser so an ambiguous or left-recursive change to
// the grammar still fails here.

import assert from 'node:assert/strict';
import { grammarErrors, parse } from '../../language/syntax/parser.js';

describe('grammar validation', function () {
  this.timeout(30_000);

  it('the grammar passes every Chevrotain validation (LL(1) with the declared ambiguity exceptions)', () => {
    assert.deepEqual(grammarErrors(), []);
  });

  it('a validating parser does not disturb the shared one', () => {
    const before = parse('rule r { when x.type deny "m" }');
    grammarErrors();
    const after = parse('rule r { when x.type deny "m" }');
    assert.deepEqual(after, before);
    assert.deepEqual(after.diagnostics, []);
  });
});
