// Before/after fixture pairs: test/fixtures/format/NAME.input.rein → NAME.expected.rein.
// `UPDATE_GOLDEN=1 npx mocha test/format/golden.test.ts` rewrites the expected files (review the diff).

import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { format } from '../../language/format/format.js';
import { FIXTURES, findFiles } from './helpers.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Formats `NAME.input.rein` and compares it with `NAME.expected.rein` (or writes it with UPDATE_GOLDEN=1). */
function checkGolden(inputFile: string): void {
  const expectedFile = inputFile.replace(/\.input\.rein$/, '.expected.rein');
  const actual = format(readFileSync(inputFile, 'utf8'), { file: basename(inputFile) });
  if (UPDATE) {
    writeFileSync(expectedFile, actual);
    return;
  }
  assert.ok(existsSync(expectedFile), `missing ${basename(expectedFile)} (run with UPDATE_GOLDEN=1)`);
  assert.equal(actual, readFileSync(expectedFile, 'utf8'));
}

describe('format: golden fixtures', () => {
  const inputs = findFiles(FIXTURES, '.input.rein');

  it('has fixture pairs', () => {
    assert.ok(inputs.length >= 8, `expected at least 8 fixture pairs, found ${inputs.length}`);
  });

  for (const input of inputs) {
    const name = basename(input, '.input.rein');
    it(`${name}: input formats to the expected file`, () => checkGolden(input));
    it(`${name}: the expected file is already canonical`, () => {
      const expected = readFileSync(join(FIXTURES, `${name}.expected.rein`), 'utf8');
      assert.equal(format(expected), expected);
    });
  }
});
