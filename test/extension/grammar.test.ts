// The TextMate grammar against annotated fixture files (vscode-tmgrammar-test), run as a process.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

describe('TextMate grammar', () => {
  it('passes every scope assertion in extension/test/grammar/*.test.rein', () => {
    const fixtures = readdirSync('extension/test/grammar').filter((f) => f.endsWith('.test.rein'));
    assert.ok(fixtures.length >= 2, 'no grammar fixtures found');
    const r = spawnSync(process.execPath, ['node_modules/vscode-tmgrammar-test/dist/unit.js', '-c', '-g', 'extension/syntaxes/rein.tmLanguage.json', 'extension/test/grammar/*.test.rein'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const ok = r.stdout.split('\n').filter((l) => l.includes('run successfuly')).length;
    assert.equal(ok, fixtures.length, r.stdout);
  });

  it('fails on a wrong scope assertion (the harness can fail)', () => {
    const r = spawnSync(process.execPath, ['node_modules/vscode-tmgrammar-test/dist/unit.js', '-c', '-g', 'extension/syntaxes/rein.tmLanguage.json', 'test/fixtures/extension/wrong-scope.rein'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, r.stdout);
  });
});
