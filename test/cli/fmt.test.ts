import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIXTURES, runBin, runMain, scratchCopy } from './helpers.js';

describe('rein fmt', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('--check lists unformatted files and exits 1; formatted files pass', async () => {
    const r = await runBin(['fmt', '--check', 'unformatted', 'nested/team-a']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, 'unformatted/messy.rein\n');
    const ok = await runMain(['fmt', '--check', 'nested/team-a/policy.rein']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout, '');
  });

  it('among several PATHs (a shell glob), non-policy files and folders are skipped', async () => {
    const r = await runMain(['fmt', '--check', 'unformatted', 'requests', 'requests/allow.json', 'nested/team-a/policy.rein']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, 'unformatted/messy.rein\n');
    assert.equal(r.stderr, '');
    const only = await runMain(['fmt', '--check', 'requests/allow.json', 'requests']);
    assert.equal(only.code, 2);
  });

  it('--write rewrites, after which --check passes and the output is idempotent', async () => {
    const s = scratchCopy('unformatted');
    try {
      const file = path.join(s.dir, 'unformatted/messy.rein');
      const before = readFileSync(file, 'utf8');
      const w = await runMain(['fmt', '--write', 'unformatted'], { cwd: s.dir });
      assert.equal(w.code, 0, w.stderr);
      assert.equal(w.stdout, 'formatted unformatted/messy.rein\n');
      const after = readFileSync(file, 'utf8');
      assert.notEqual(after, before);
      const c = await runMain(['fmt', '--check', 'unformatted'], { cwd: s.dir });
      assert.equal(c.code, 0);
      const again = await runMain(['fmt', 'unformatted/messy.rein'], { cwd: s.dir });
      assert.equal(again.stdout, after);
    } finally {
      s.cleanup();
    }
  });

  it('one file prints the formatted text to stdout without touching the file', async () => {
    const file = path.join(FIXTURES, 'unformatted/messy.rein');
    const before = readFileSync(file, 'utf8');
    const r = await runBin(['fmt', 'unformatted/messy.rein']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(r.stdout, before);
    assert.match(r.stdout, /^policy messy \{/m);
    assert.equal(readFileSync(file, 'utf8'), before);
  });

  it('`-` formats standard input to standard output (process)', async () => {
    const src = readFileSync(path.join(FIXTURES, 'unformatted/messy.rein'), 'utf8');
    const viaFile = await runMain(['fmt', 'unformatted/messy.rein']);
    const r = await runBin(['fmt', '-'], { input: src });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, viaFile.stdout);
  });

  it('a syntax error prints diagnostics on stderr and exits 1', async () => {
    const r = await runBin(['fmt', 'broken/syntax.rein']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^broken\/syntax\.rein:\d+:\d+ error REIN1\d\d /m);
    const stdin = await runMain(['fmt', '-'], { input: 'rule {' });
    assert.equal(stdin.code, 1);
    assert.match(stdin.stderr, /^<stdin>:1:\d+ error REIN1\d\d /m);
  });

  it('--check --format json on standard input has the files\' shape, `errors` included (regression)', async () => {
    const src = readFileSync(path.join(FIXTURES, 'unformatted/messy.rein'), 'utf8');
    const messy = await runMain(['fmt', '--check', '--format', 'json', '-'], { input: src });
    assert.equal(messy.code, 1);
    assert.deepEqual(JSON.parse(messy.stdout), { unformatted: ['<stdin>'], errors: [] });
    const clean = await runMain(['fmt', '-'], { input: src });
    assert.deepEqual(JSON.parse((await runMain(['fmt', '--check', '--format', 'json', '-'], { input: clean.stdout })).stdout), { unformatted: [], errors: [] });
    const broken = await runMain(['fmt', '--check', '--format', 'json', '-'], { input: 'rule {' });
    assert.equal(broken.code, 1);
    assert.deepEqual(JSON.parse(broken.stdout), { unformatted: [], errors: ['<stdin>'] });
    const files = await runMain(['fmt', '--check', '--format', 'json', 'broken/syntax.rein']);
    assert.deepEqual(Object.keys(JSON.parse(files.stdout)), ['unformatted', 'errors']);
  });

  it('several files without --check/--write is a usage error', async () => {
    const r = await runMain(['fmt', 'valid']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /use --check or --write/);
  });

  it('--check --format json', async () => {
    const r = await runMain(['fmt', '--check', '--format', 'json', 'unformatted', 'nested']);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), { unformatted: ['unformatted/messy.rein'], errors: [] });
  });
  // regression (review h12r2 T2): an input field named `type`/`rule` first on a line of a broken list
  // (`    type in [...]`) was read as a declaration: `--write` broke a passing policy
  it('--write keeps a policy whose broken list lines start with fields named `type` and `rule` valid', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-fmt-'));
    try {
      writeFileSync(
        path.join(dir, 'a.rein'),
        `policy p { default allow }
input {
  type: string
  rule: string
}
rule r1 {
  when [type in ["aaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbb"], rule in ["ccccccccccccccccccccccccccccccccc"]].any(x => x)
  deny "blocked"
}
test "t" {
  given { type: "aaaaaaaaaaaaaaaaaaaaaaa", rule: "x" }
  expect deny by r1
}
`,
      );
      const w = await runMain(['fmt', '--write', 'a.rein'], { cwd: dir });
      assert.equal(w.code, 0, w.stderr);
      assert.equal(w.stdout, 'formatted a.rein\n');
      assert.match(readFileSync(path.join(dir, 'a.rein'), 'utf8'), /^ {4}type in \[/m);
      const c = await runMain(['check', '.'], { cwd: dir });
      assert.equal(c.code, 0, c.stdout + c.stderr);
      const t = await runMain(['test', '.'], { cwd: dir });
      assert.equal(t.code, 0, t.stdout + t.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  // regression (review h12r2 T14): `rein fmt - --format json` printed the formatted text, not JSON
  it('--format json without --check or --write is a usage error, not text that is not JSON', async () => {
    for (const args of [['fmt', '-', '--format', 'json'], ['fmt', 'unformatted/messy.rein', '--format', 'json']]) {
      const r = await runMain(args, { input: 'let a=1\n' });
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /--format json goes with --check or --write/);
    }
    const ok = await runMain(['fmt', '-', '--check', '--format', 'json'], { input: 'let a = 1\n' });
    assert.equal(ok.code, 0);
    assert.deepEqual(JSON.parse(ok.stdout), { unformatted: [], errors: [] });
  });
});
