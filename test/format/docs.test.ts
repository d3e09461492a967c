// docs/formatting.md shows before/after pairs: each ```text block followed by a ```rein block.
// The `after` must be what the formatter produces for the `before`, and must be canonical.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from '../../language/format/format.js';
import { ROOT } from './helpers.js';

describe('format: docs/formatting.md examples', () => {
  const md = readFileSync(join(ROOT, 'docs', 'formatting.md'), 'utf8');
  const pairs = [...md.matchAll(/```text\n([\s\S]*?)```\s*```rein\n([\s\S]*?)```/g)].map((m) => ({ before: m[1], after: m[2] }));

  it('has before/after examples', () => {
    assert.ok(pairs.length >= 4, `found ${pairs.length} pairs`);
  });

  pairs.forEach((p, i) => {
    it(`example ${i + 1}: the documented output is what format() produces, and it is canonical`, () => {
      assert.equal(format(p.before), p.after);
      assert.equal(format(p.after), p.after);
    });
  });
});
