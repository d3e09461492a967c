// The extension's Test Explorer and Evaluate command (language/node/editor-sets.ts) read a policy set
// as `rein test` and `rein eval` do (regression: they read the directory's `.rein` files alone, so a set
// layered over a base with `extends` ran its tests without the base's rules, a dangling symlink threw,
// and a rein.json that is not JSON was ignored).
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateInDirectory, loadSetFromDirectory, runSetTests } from '../../language/node/editor-sets.js';

describe('extension editor sets (Test Explorer, Evaluate): sets are read as the CLI reads them', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'rein-bridge-'));
    mkdirSync(join(root, 'base'));
    mkdirSync(join(root, 'team'));
    writeFileSync(
      join(root, 'base', 'base.rein'),
      ['input { tool: string }', '', 'rule no_shell {', '  when tool == "shell"', '  deny "no shell"', '}', ''].join('\n'),
    );
    writeFileSync(join(root, 'team', 'rein.json'), JSON.stringify({ extends: '../base' }));
    writeFileSync(
      join(root, 'team', 'team.rein'),
      [
        'rule search_ok {',
        '  when tool == "search"',
        '  allow',
        '}',
        '',
        'test "the base still denies the shell" {',
        '  given { tool: "shell" }',
        '  expect deny by no_shell',
        '}',
        '',
        'test "search is allowed" {',
        '  given { tool: "search" }',
        '  expect allow',
        '}',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('runs a layered set with its base (extends), as rein test does', async () => {
    const listed = await loadSetFromDirectory(join(root, 'team'));
    assert.deepEqual(listed?.tests.map((t) => t.name), ['the base still denies the shell', 'search is allowed']);
    assert.equal(listed!.tests[0].path, join(root, 'team', 'team.rein'));
    const results = await runSetTests(join(root, 'team'));
    assert.deepEqual(
      results.map((r) => [r.name, r.passed, r.message]),
      [
        ['the base still denies the shell', true, 'passed'],
        ['search is allowed', true, 'passed'],
      ],
    );
  });

  it('evaluates with the base set and data the CLI would use', async () => {
    const r = await evaluateInDirectory(join(root, 'team'), JSON.stringify({ tool: 'shell' }));
    assert.equal(r.summary, 'deny by no_shell');
    assert.equal(JSON.parse(r.json).effect, 'deny');
  });

  it('a dangling symlink or a broken rein.json is reported, not thrown, and not silently skipped', async () => {
    const bad = join(root, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.rein'), 'rule r {\n  deny\n}\n');
    symlinkSync(join(bad, 'missing.rein'), join(bad, 'b.rein'));
    assert.equal(await loadSetFromDirectory(bad), null);
    assert.deepEqual(await runSetTests(bad), []);
    const ev = await evaluateInDirectory(bad, '{}');
    assert.match(ev.summary, /does not load: .*symbolic link to nothing/);
    const cfg = join(root, 'cfg');
    mkdirSync(cfg);
    writeFileSync(join(cfg, 'a.rein'), 'rule r {\n  deny\n}\n');
    writeFileSync(join(cfg, 'rein.json'), '{ not json');
    assert.match((await evaluateInDirectory(cfg, '{}')).summary, /does not load: .*not valid JSON/);
  });
});
