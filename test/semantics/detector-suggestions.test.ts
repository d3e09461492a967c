// Did-you-mean for detectors and paths in `redact … using …` (issue #18): a golden file of every
// error's code, place, message, help and quick-fix suggestion (`UPDATE_GOLDEN=1` rewrites it; review
// by eye). A name without its namespace (`using email`) suggests the detector it names (`pii.email`).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { check } from '../../language/check.js';
import { codeActions } from '../../language/services/code-actions.js';
import { fixture } from '../services/helper.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'suggestions');
const file = join(dir, 'redact-detectors.rein');
const expectedFile = join(dir, 'redact-detectors.expected.json');

describe('did-you-mean for redact detectors and paths (golden)', () => {
  const text = readFileSync(file, 'utf8');
  const actual = check({ 'redact-detectors.rein': text })
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => ({
      code: d.code,
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
      message: d.message,
      help: d.help ?? null,
      suggestion: (d.data as { suggestion?: string } | undefined)?.suggestion ?? null,
    }));

  it('matches redact-detectors.expected.json', () => {
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
    assert.deepEqual(actual, JSON.parse(readFileSync(expectedFile, 'utf8')));
  });

  it('suggests the namespaced detector for a bare name, and one error per mistake', () => {
    const at = (line: number) => actual.filter((d) => d.line === line);
    assert.deepEqual(at(6).map((d) => [d.help, d.suggestion]), [['did you mean `pii.email`?', 'pii.email']]);
    assert.deepEqual(at(12).map((d) => d.help), ['did you mean `secrets.aws`?']);
    // An unknown path is reported once (REIN200 with its did-you-mean), not again as "not a path".
    assert.deepEqual(at(15).map((d) => [d.code, d.help]), [['REIN200', 'did you mean `prompt`?']]);
    assert.deepEqual(at(20).map((d) => [d.code, d.help]), [['REIN200', 'did you mean `prompt`?']]);
    assert.match(at(14)[0].help!, /^detectors: `pii\.email`/);
  });

  it('the editor quick fix turns `using email` into `using pii.email`', () => {
    const fx = fixture('rule r { redact action.text using email }\n');
    const src = fx.text('main.rein');
    const acts = codeActions(fx.analysis, 'main.rein', fx.analysis.sources.get('main.rein')!.lines.range(0, src.length));
    const fix = acts.find((a) => a.title === 'Change to `pii.email`');
    assert.ok(fix, JSON.stringify(fx.analysis.result.diagnostics));
    assert.equal(fix!.edits[0].newText, 'pii.email');
    const r = fix!.edits[0].range;
    assert.equal(src.split('\n')[r.start.line].slice(r.start.character, r.end.character), 'email');
  });
});
