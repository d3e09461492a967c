import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../cli/commands.js';
import { ROOT, runBin, runMain } from './helpers.js';

// The options INTERFACES §3 and the CLI docs promise for each command (written out by hand, so a
// command that loses an option, or a help that forgets one, fails here).
const PROMISED: Record<string, string[]> = {
  check: ['--format', '--max-warnings', '--watch', '--help'],
  test: ['--format', '--filter', '--coverage', '--min-coverage', '--watch', '--help'],
  fmt: ['--check', '--write', '--format', '--help'],
  eval: ['--input', '--batch', '--explain', '--spent', '--approve', '--now', '--externs', '--mode', '--format', '--help'],
  init: ['--template', '--force', '--format', '--help'],
  bench: ['--input', '--duration', '--mode', '--format', '--help'],
  doc: ['--output', '--format', '--help'],
  completion: ['--help'],
  build: ['--output', '--format', '--help'],
  diff: ['--inputs', '--now', '--format', '--help'],
  lsp: ['--stdio', '--help'],
};

describe('rein --help and --version', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('prints the package version (process)', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runBin(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
    // --version is accepted by every command (INTERFACES §3: common to all)
    for (const cmd of ['check', 'test', 'fmt', 'eval', 'build', 'diff', 'audit', 'report', 'lsp']) {
      const r2 = await runMain([cmd, '--version']);
      assert.equal(r2.code, 0, `rein ${cmd} --version: ${r2.stderr}`);
      assert.equal(r2.stdout.trim(), pkg.version);
    }
  });

  it('did you mean: a mistyped command or option names the closest one', async () => {
    const a = await runMain(['chek']);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /unknown command `chek`; did you mean `rein check`\?/);
    const b = await runMain(['check', '--fromat', 'json']);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /unknown option `--fromat`; did you mean `--format`\?/);
    const c = await runMain(['--verison']);
    assert.match(c.stderr, /did you mean `--version`\?/);
    const d = await runMain(['xyzzy']);
    assert.match(d.stderr, /unknown command `xyzzy` \(commands: check, /);
  });

  it('--format: every command has it, or says why not (report and init have it; completion, lsp, serve and mcp explain)', async () => {
    for (const c of COMMANDS) {
      const has = c.options.some((o) => o.name === 'format');
      assert.ok(has !== (c.noFormat !== undefined), `rein ${c.name}: a --format option or a noFormat reason (exactly one)`);
    }
    for (const cmd of ['report', 'init']) assert.ok(COMMANDS.find((c) => c.name === cmd)!.options.some((o) => o.name === 'format'), cmd);
    const comp = await runMain(['completion', 'bash', '--format', 'json']);
    assert.equal(comp.code, 2);
    assert.match(comp.stderr, /`rein completion` has no `--format`: its output is a shell script, and the shell argument \(bash, zsh or fish\) chooses which/);
    const lsp = await runMain(['lsp', '-f', 'json']);
    assert.equal(lsp.code, 2);
    assert.match(lsp.stderr, /`rein lsp` has no `--format`: it speaks the Language Server Protocol/);
    for (const cmd of ['serve', 'mcp']) {
      const r = await runMain([cmd, '--format', 'json']);
      assert.equal(r.code, 2, cmd);
      assert.match(r.stderr, new RegExp(`\`rein ${cmd}\` has no \`--format\`: it is (a|an MCP) server`), cmd);
    }
  });

  it('global help lists every command', async () => {
    const r = await runBin(['--help']);
    assert.equal(r.code, 0);
    for (const cmd of Object.keys(PROMISED)) assert.match(r.stdout, new RegExp(`^  ${cmd}\\s`, 'm'), cmd);
    assert.equal(r.stderr, '');
  });

  it('no arguments prints help on stderr and exits 2', async () => {
    const r = await runMain([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: rein <command>/);
    assert.equal(r.stdout, '');
  });

  for (const [cmd, options] of Object.entries(PROMISED)) {
    it(`\`rein ${cmd} --help\` mentions every option it accepts`, async () => {
      const r = await runMain([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: rein ${cmd}`, 'm'));
      for (const o of options) assert.match(r.stdout, new RegExp(`${o}\\b`), `${cmd} help lacks ${o}`);
      // …and every option the parser accepts is in the help.
      const spec = COMMANDS.find((c) => c.name === cmd)!;
      for (const o of spec.options) assert.ok(r.stdout.includes(`--${o.name}`), `${cmd} accepts --${o.name} but help omits it`);
      assert.deepEqual(spec.options.map((o) => `--${o.name}`).sort(), [...options].sort());
      assert.match(r.stdout, /Exit codes:/);
    });
  }

  it('`rein help eval` equals `rein eval --help`', async () => {
    const a = await runMain(['help', 'eval']);
    const b = await runMain(['eval', '--help']);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout);
  });
});

describe('usage errors exit 2 with a pointer to --help', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command `frobnicate`/],
    [['--frob'], /unknown option `--frob`/],
    [['check', '--format', 'xml'], /--format must be one of text, json, sarif, github/],
    [['check', '--max-warnings', '-1'], /^rein check: option `--max-warnings` needs a value; one that starts with `-` is written `--max-warnings=-…`\nRun/],
    [['check', '--max-warnings'], /^rein check: option `--max-warnings <value>` argument missing\nRun/],
    [['check', '--max-warnings', 'lots'], /--max-warnings must be a non-negative integer/],
    [['check', '--bogus'], /^rein check: unknown option `--bogus`\nRun/],
    [['test', '--format', 'sarif2'], /--format must be one of text, json, junit, github, sarif/],
    [['test', '--filter', '('], /--filter is not a valid regular expression/],
    [['test', '--min-coverage', '150'], /--min-coverage must be a percentage between 0 and 100/],
    [['fmt', '--check', '--write', 'x.rein'], /--check and --write cannot be used together/],
    [['eval', 'valid'], /--input FILE\|- is required/],
    [['eval', '--input', 'requests/allow.json'], /expected exactly one PATH/],
    [['eval', 'valid', '-i', 'requests/allow.json', '--now', 'yesterday'], /--now must be an RFC 3339 time/],
    [['eval', 'valid', '-i', 'requests/allow.json', '--spent', 'team_daily'], /--spent must look like NAME=AMOUNT/],
    [['build', 'valid'], /-o\/--output FILE is required/],
    [['diff', 'valid', 'v2'], /--inputs FILE.jsonl is required/],
    [['diff', 'valid', '--inputs', 'requests/replay.jsonl'], /expected OLD and NEW/],
    [['lsp', 'extra'], /unexpected argument `extra`/],
  ];
  for (const [args, re] of cases) {
    it(`rein ${args.join(' ')}`, async () => {
      const r = await runMain(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /Run `rein .*--help` for usage/);
      assert.equal(r.stdout, '');
    });
  }

  it('a missing path is an IO error (exit 2) from the real process', async () => {
    const r = await runBin(['check', 'does-not-exist']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^rein check: no such file or directory: `does-not-exist`\nRun `rein check --help` for usage\.\n$/);
  });
});
