import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  LoadError,
  PolicyError,
  checkPolicySet,
  discoverPolicyDirs,
  loadPolicy,
  readPolicyDir,
  readPolicyFiles,
  resolvePolicySets,
} from '../../language/node/index.js';
import { selectFiles } from '../../language/node/load.js';
import { FIXTURES, runMain } from './helpers.js';

const fx = (p: string) => path.join(FIXTURES, p);

describe('policy-set loading (rein/node)', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('a directory is its .rein files, not recursive, named relative to the directory', async () => {
    const set = await readPolicyDir(fx('valid'));
    assert.deepEqual(Object.keys(set.files), ['policy.rein', 'tests.rein', 'tools.rein']);
    assert.equal(set.paths['tools.rein'], fx('valid/tools.rein'));
    assert.equal(set.config, undefined);
    assert.deepEqual(checkPolicySet(set).diagnostics.filter((d) => d.severity === 'error'), []);
    await assert.rejects(readPolicyDir(fx('nested')), (e: Error) => e instanceof LoadError && /no `\.rein` files in/.test(e.message));
  });

  it('a policy, data or input file that is not UTF-8 is refused naming the place, never read as U+FFFD (review h12r2 T15); a byte order mark is accepted', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-utf8-'));
    const latin1 = (s: string) => Buffer.from(s, 'latin1');
    writeFileSync(path.join(dir, 'p.rein'), 'policy p { default allow }\ninput { tool: string }\n');
    writeFileSync(path.join(dir, 'a.rein'), latin1('// caf\u00e9\nrule r { when tool == "caf\u00e9" deny "m" }\n'));
    await assert.rejects(readPolicyDir(dir), (e: Error) => e instanceof LoadError && /a\.rein` is not valid UTF-8 \(byte 0xE9 at line 1, column 7\)/.test(e.message));
    const check = await runMain(['check', dir]);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /is not valid UTF-8/);
    // rein fmt leaves the file's bytes alone
    const fmt = await runMain(['fmt', '--write', path.join(dir, 'a.rein')]);
    assert.equal(fmt.code, 2);
    assert.deepEqual(readFileSync(path.join(dir, 'a.rein')), latin1('// caf\u00e9\nrule r { when tool == "caf\u00e9" deny "m" }\n'));
    // UTF-8 with a byte order mark: read
    writeFileSync(path.join(dir, 'a.rein'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('rule r { when tool == "caf\u00e9" deny "m" }\n')]));
    assert.deepEqual(checkPolicySet(await readPolicyDir(dir)).diagnostics.filter((d) => d.severity === 'error'), []);
    writeFileSync(path.join(dir, 'in.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"tool":"caf\u00e9"}')]));
    const ev = await runMain(['eval', dir, '--input', path.join(dir, 'in.json')]);
    assert.equal(ev.code, 4, ev.stderr); // deny: the accented literal matched
    // an input file in Latin-1 is refused too
    writeFileSync(path.join(dir, 'in.json'), latin1('{"tool":"caf\u00e9"}'));
    const bad = await runMain(['eval', dir, '--input', path.join(dir, 'in.json')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /in\.json` is not valid UTF-8/);
    // a data document in Latin-1: refused, not a blocklist that lost its accented entries
    writeFileSync(path.join(dir, 'a.rein'), 'data blocked: list<string> from "blocked.json"\nrule r { when tool in blocked deny "blocked" }\n');
    writeFileSync(path.join(dir, 'blocked.json'), latin1('["caf\u00e9", "x"]'));
    const data = await runMain(['check', dir]);
    assert.equal(data.code, 2);
    assert.match(data.stderr, /blocked\.json` is not valid UTF-8/);
  });

  it('explicit files form one set rooted at their common directory', async () => {
    const set = await readPolicyFiles([fx('valid/tools.rein'), fx('valid/policy.rein')]);
    assert.equal(set.root, fx('valid'));
    assert.deepEqual(Object.keys(set.files).sort(), ['policy.rein', 'tools.rein']);
    const mixed = await readPolicyFiles([fx('nested/team-a/policy.rein'), fx('nested/team-b/policy.rein')]);
    assert.equal(mixed.root, fx('nested'));
    assert.deepEqual(Object.keys(mixed.files).sort(), ['team-a/policy.rein', 'team-b/policy.rein']);
  });

  it('rein.json is read at the set root; its problems are REIN305 diagnostics', async () => {
    const set = await readPolicyDir(fx('badconfig'));
    assert.ok(set.configDiagnostics.length >= 2);
    assert.ok(set.configDiagnostics.every((d) => d.code === 'REIN305' && d.file === 'rein.json'));
    const r = checkPolicySet(set);
    assert.ok(r.diagnostics.some((d) => d.file === 'rein.json'));
  });

  it('a rein.json that is not JSON, or whose `extends` is not a name, refuses the set (regression: its base set was dropped silently, fail open)', async () => {
    const { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-badjson-'));
    try {
      mkdirSync(path.join(dir, '.git'));
      for (const f of ['policy.rein', 'tools.rein']) writeFileSync(path.join(dir, f), readFileSync(fx(`valid/${f}`), 'utf8'));
      for (const [text, re] of [
        ['{ "extends": "../global", }', /rein\.json` is not valid JSON/],
        ['{ "extends": 5 }', /`extends` in `.*rein\.json` must be a directory name \(a non-empty string\), got 5/],
      ] as const) {
        writeFileSync(path.join(dir, 'rein.json'), text);
        await assert.rejects(readPolicyDir(dir), (e: Error) => e instanceof LoadError && re.test(e.message));
        await assert.rejects(loadPolicy(dir), (e: Error) => e instanceof LoadError);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('discovery is recursive, sorted, and skips node_modules and dot-directories', async () => {
    assert.deepEqual(await discoverPolicyDirs(fx('nested')), [fx('nested/team-a'), fx('nested/team-b')]);
    const sets = await resolvePolicySets(['nested', 'valid/policy.rein'], FIXTURES);
    assert.deepEqual(
      sets.map((s) => s.root),
      [fx('nested/team-a'), fx('nested/team-b'), fx('valid')],
    );
    await assert.rejects(resolvePolicySets(['requests'], FIXTURES), /no `\.rein` files found under `requests`/);
    await assert.rejects(resolvePolicySets(['requests/allow.json'], FIXTURES), /not a `\.rein` file or a directory/);
  });

  it('loadPolicy: a directory, a single .rein file; errors throw PolicyError, missing paths LoadError', async () => {
    const p = await loadPolicy(fx('valid'));
    assert.equal(p.name, 'support_agent');
    const single = await loadPolicy(fx('failing/policy.rein'));
    assert.equal(single.evaluate({ action: { tool: 'shell.exec' } }).effect, 'deny');
    await assert.rejects(loadPolicy(fx('broken')), (e: Error) => e instanceof PolicyError && e.diagnostics.some((d) => d.code === 'REIN200'));
    await assert.rejects(loadPolicy(fx('nope')), (e: Error) => e instanceof LoadError);
  });

  it('the same set hashes the same whichever way it is named', async () => {
    const a = await loadPolicy(fx('valid'));
    const b = await loadPolicy(path.relative(process.cwd(), fx('valid')));
    assert.equal(a.hash, b.hash);
    const v2 = await loadPolicy(fx('v2'));
    assert.notEqual(a.hash, v2.hash);
  });

  it('rein.json include/exclude at a PATH narrows discovery under it', async () => {
    const sets = await resolvePolicySets(['selective'], FIXTURES);
    assert.deepEqual(sets.map((s) => [s.root, Object.keys(s.files)]), [[fx('selective/policies/main'), ['policy.rein']]]);
    assert.deepEqual(selectFiles(['a/x.rein', 'a/vendor/y.rein', 'b.rein'], ['a/**/*.rein'], ['vendor']), ['a/x.rein']);
    assert.deepEqual(selectFiles(['a/x.rein', 'b/y.rein'], ['{a,c}/*.rein']), ['a/x.rein']);
    // without the config, the broken files would be sets of their own
    assert.deepEqual(await discoverPolicyDirs(fx('selective')), [fx('selective/policies/main'), fx('selective/policies/vendor'), fx('selective/scratch')]);
  });
});
