// Golden diagnostics tests: every `<name>.rein` under a fixture folder has a sibling
// `<name>.expected.json` holding exactly the diagnostics of `check({ "<name>.rein": text })`
// as `{ code, severity, line, column, endLine, endColumn, message }` (1-based, end exclusive).
// An optional `<name>.config.json` is passed as `check(…, { config })`, and an optional
// `<name>.data.json` (data file name → its JSON text) as `check(…, { data })`; a diagnostic on a data
// file carries `file` in the expected file.
// `UPDATE_GOLDEN=1` rewrites the expected files (review every change by eye). A run with zero
// fixtures fails, so a broken glob cannot pass silently.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { check } from '../../language/check.js';
import type { Diagnostic } from '../../language/diagnostics.js';

export interface GoldenDiagnostic {
  code: string;
  severity: string;
  /** Only for a diagnostic on another file than the fixture (a data file). */
  file?: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
}

export function toGolden(d: Diagnostic): GoldenDiagnostic {
  return {
    code: d.code,
    severity: d.severity,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    message: d.message,
  };
}

export interface GoldenCase {
  name: string;
  file: string;
  expectedFile: string;
  configFile?: string;
  dataFile?: string;
}

export function goldenCases(dir: string): GoldenCase[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.rein'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.rein'.length);
      const configFile = join(dir, `${name}.config.json`);
      const dataFile = join(dir, `${name}.data.json`);
      return {
        dataFile: existsSync(dataFile) ? dataFile : undefined,
        name,
        file: join(dir, f),
        expectedFile: join(dir, `${name}.expected.json`),
        configFile: existsSync(configFile) ? configFile : undefined,
      };
    });
}

/** The actual golden diagnostics for one case. */
export function runGoldenCase(c: GoldenCase): GoldenDiagnostic[] {
  const text = readFileSync(c.file, 'utf8');
  const config = c.configFile ? (JSON.parse(readFileSync(c.configFile, 'utf8')) as unknown) : undefined;
  const data = c.dataFile ? (JSON.parse(readFileSync(c.dataFile, 'utf8')) as Record<string, string>) : undefined;
  return check({ [`${c.name}.rein`]: text }, { ...(config === undefined ? {} : { config }), ...(data ? { data } : {}) }).diagnostics.map((d) =>
    data && d.file in data ? { file: d.file, ...toGolden(d) } : toGolden(d),
  );
}

/** Register one mocha test per fixture in `dir` (call inside a `describe`). */
export function goldenSuite(dir: string): void {
  const cases = goldenCases(dir);
  const update = process.env.UPDATE_GOLDEN === '1';
  it(`has fixtures in ${dir}`, () => {
    assert.ok(cases.length > 0, `no .rein fixtures found in ${dir}`);
  });
  for (const c of cases) {
    it(c.name, () => {
      const actual = runGoldenCase(c);
      if (update) {
        writeFileSync(c.expectedFile, JSON.stringify(actual, null, 2) + '\n');
        return;
      }
      assert.ok(existsSync(c.expectedFile), `missing ${c.expectedFile} (run with UPDATE_GOLDEN=1 and review it)`);
      const expected = JSON.parse(readFileSync(c.expectedFile, 'utf8')) as GoldenDiagnostic[];
      assert.deepEqual(actual, expected);
    });
  }
}
