import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { goldenCases, goldenSuite } from '../helpers/golden.js';
import { CODES } from '../../language/diagnostic-codes.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'diagnostics');

describe('diagnostics golden files', () => {
  goldenSuite(dir);

  it('covers every diagnostic code from REIN100 to REIN402 with at least one fixture', () => {
    const seen = new Set<string>();
    for (const c of goldenCases(dir)) {
      const expected = JSON.parse(readFileSync(c.expectedFile, 'utf8')) as { code: string }[];
      for (const d of expected) seen.add(d.code);
    }
    // REIN231 comes from compile/Engine with host implementations, never from check: externs.test.ts.
    // REIN217 only without the RE2 engine, which tests load (a browser's case): regex-subset.test.ts.
    const missing = Object.keys(CODES).filter((c) => c !== 'REIN403' && c !== 'REIN231' && c !== 'REIN217' && !seen.has(c));
    assert.deepEqual(missing, []);
  });

  it('has an expected file for every fixture and no orphans', () => {
    const files = readdirSync(dir);
    for (const f of files.filter((x) => x.endsWith('.expected.json')))
      assert.ok(files.includes(f.replace(/\.expected\.json$/, '.rein')), `orphan ${f}`);
  });
});
