// Text from a policy (a string literal's value in a diagnostic message, a test's name) printed by the
// CLI: control characters are escaped, so text mode keeps one line per diagnostic head and an ESC
// never reaches a terminal or a CI log raw (review h12r2 T14).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMain } from './helpers.js';

describe('CLI output: control characters from policies are escaped', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rein-ctl-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('text: a `\\n` in a string inside a diagnostic message stays on the diagnostic\'s line', async () => {
    const set = path.join(dir, 'nl');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(set);
    writeFileSync(path.join(set, 'a.rein'), 'policy p { default allow }\ninput { kind: "a" | "b" }\nrule r { when kind == "x\\ny\\u{1b}z" deny "m" }\n');
    const r = await runMain(['check', '.'], { cwd: set });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const head = r.stdout.split('\n')[0];
    assert.match(head, /^a\.rein:3:23 error REIN214 `"x\\ny\\u\{1b\}z"` is not one of/);
    assert.doesNotMatch(r.stdout, /\u001b/);
    // JSON keeps the message as it is (JSON escapes it)
    const j = JSON.parse((await runMain(['check', '.', '--format', 'json'], { cwd: set })).stdout);
    assert.match(j.diagnostics[0].message, /"x\ny\u001bz"/);
  });

  it('github: an ESC in a failing test\'s name is escaped in the ::error line', async () => {
    const set = path.join(dir, 'esc');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(set);
    writeFileSync(path.join(set, 'a.rein'), 'policy p { default allow }\ninput { tool: string }\ntest "fail \\u{1b}[31mred" { given { tool: "x" } expect deny }\n');
    const r = await runMain(['test', '.', '--format', 'github'], { cwd: set });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /\u001b/);
    assert.match(r.stdout, /^::error file=a\.rein,line=3,col=1,endLine=3,endColumn=5,title=REIN403::test `fail \\u\{1b\}\[31mred` failed: expected deny, got allow/m);
  });
});
