import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadPolicy } from '../../language/node/index.js';
import { BUNDLE_FORMAT_VERSION, bundleSchema } from '../../language/node/bundle.js';
import { FIXTURES, runBin, runMain } from './helpers.js';

describe('rein build and bundles', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  let dir: string;
  let bundlePath: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-build-'));
    bundlePath = path.join(dir, 'out', 'support.bundle.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a valid bundle (process), which eval and loadPolicy accept', async () => {
    const r = await runBin(['build', 'valid', '-o', bundlePath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^built .*support\.bundle\.json: support_agent 1\.0\.0 \(3 files, sha256:[0-9a-f]{64}\)/);
    const bundle = bundleSchema.parse(JSON.parse(readFileSync(bundlePath, 'utf8')));
    assert.equal(bundle.format, 'rein-bundle');
    assert.equal(bundle.formatVersion, 2);
    assert.equal(bundle.compiled?.encoding, 'checked-program');
    assert.deepEqual(Object.keys(bundle.files), ['policy.rein', 'tests.rein', 'tools.rein']);
    assert.equal(bundle.files['tools.rein'], readFileSync(path.join(FIXTURES, 'valid/tools.rein'), 'utf8'));
    const rule = bundle.sourceMap.declarations.find((d) => d.kind === 'rule' && d.name === 'no_destructive_tools')!;
    assert.equal(rule.file, 'tools.rein');
    assert.ok(readFileSync(path.join(FIXTURES, 'valid/tools.rein'), 'utf8').split('\n')[rule.line - 1].includes('rule no_destructive_tools'));

    const fromDir = await loadPolicy(path.join(FIXTURES, 'valid'));
    const fromBundle = await loadPolicy(bundlePath);
    assert.equal(fromBundle.hash, fromDir.hash);
    assert.equal(bundle.policy.hash, fromDir.hash);
    const req = JSON.parse(readFileSync(path.join(FIXTURES, 'requests/deny.json'), 'utf8'));
    const now = new Date('2026-11-24T10:00:00Z');
    assert.deepEqual(fromBundle.evaluate(req, { now }), fromDir.evaluate(req, { now }));

    const e = await runMain(['eval', bundlePath, '-i', 'requests/deny.json']);
    assert.equal(e.code, 4, e.stderr);
  });

  it('refuses a bundle whose sources were changed', async () => {
    await runMain(['build', 'valid', '-o', bundlePath]);
    const b = JSON.parse(readFileSync(bundlePath, 'utf8'));
    b.files['tools.rein'] = b.files['tools.rein'].replace('"db.drop"', '"db.dropped"');
    writeFileSync(bundlePath, JSON.stringify(b));
    const r = await runMain(['eval', bundlePath, '-i', 'requests/deny.json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /was modified after it was built.*refusing to load it/);
    await assert.rejects(loadPolicy(bundlePath), /refusing to load it/);
  });

  it('another format version is a clear error', async () => {
    await runMain(['build', 'valid', '-o', bundlePath]);
    const b = JSON.parse(readFileSync(bundlePath, 'utf8'));
    b.formatVersion = BUNDLE_FORMAT_VERSION + 1;
    writeFileSync(bundlePath, JSON.stringify(b));
    const r = await runMain(['eval', bundlePath, '-i', 'requests/deny.json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bundle format version 3 is not supported by this rein \(expects 1 or 2\); rebuild it with `rein build`/);
  });

  it('a malformed bundle is rejected by its schema; a non-JSON file too', async () => {
    await runMain(['build', 'valid', '-o', bundlePath]);
    const b = JSON.parse(readFileSync(bundlePath, 'utf8'));
    delete b.policy.hash;
    writeFileSync(bundlePath, JSON.stringify(b));
    const r = await runMain(['eval', bundlePath, '-i', 'requests/deny.json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a valid rein bundle: policy\.hash/);
    writeFileSync(bundlePath, 'hello');
    const n = await runMain(['eval', bundlePath, '-i', 'requests/deny.json']);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /is not a rein bundle: invalid JSON/);
  });

  it('a set with errors is not built (exit 1); --format json reports the bundle', async () => {
    const r = await runMain(['build', 'broken', '-o', bundlePath]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error REIN200/);
    const j = await runMain(['build', 'valid', '-o', bundlePath, '--format', 'json']);
    assert.equal(j.code, 0);
    const out = JSON.parse(j.stdout);
    assert.equal(out.policy.name, 'support_agent');
    assert.deepEqual(out.files, ['policy.rein', 'tests.rein', 'tools.rein']);
  });
});
