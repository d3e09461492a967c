import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runBin, runMain } from './helpers.js';

describe('rein test', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('all tests pass → exit 0 (process)', async () => {
    const r = await runBin(['test', 'valid']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ destructive tools are blocked/);
    assert.match(r.stdout, /^4 passed, 0 failed$/m);
  });

  it('a failing test → exit 3, expected vs actual, `file:line:col` (process)', async () => {
    const r = await runBin(['test', 'failing']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /✗ search is denied \(wrong on purpose\)\s+failing\/policy\.rein:19:1/);
    assert.match(r.stdout, /expected: deny\n\s+actual:\s+allow by default/);
    assert.match(r.stdout, /^1 passed, 1 failed$/m);
  });

  it('a test whose request is not valid input fails with why, in text, JSON and JUnit (regression, review h11r R5: `expect deny` passed on `on error`)', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'rein-test-invalid-'));
    try {
      writeFileSync(
        join(dir, 'p.rein'),
        [
          'policy p { default allow }',
          'input { agent: { id: string }, action: { tool?: string } }',
          'rule no_drop { when action.tool == "db.drop" deny "no drop" }',
          'test "missing agent" { given { action: { tool: "db.drop" } } expect deny }',
          'test "complete" { given { agent: { id: "a" }, action: { tool: "db.drop" } } expect deny by no_drop }',
          '',
        ].join('\n'),
      );
      const r = await runMain(['test', dir]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /✗ missing agent[^\n]*\n\s+expected: deny\n\s+actual:\s+deny by on error\n\s+why:\s+the test's request is not valid input \(\$\.agent: missing required field/);
      assert.match(r.stdout, /✓ complete/);
      const json = JSON.parse((await runMain(['test', dir, '--format', 'json'])).stdout);
      assert.match(json.tests[0].note, /not valid input/);
      const junit = await runMain(['test', dir, '--format', 'junit']);
      assert.match(junit.stdout, /why: {6}the test&apos;s request is not valid input|why: {6}the test's request is not valid input/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`expect deny by RULE` does not pass when RULE failed and `on error` denied; coverage does not count it (regression, review h11r R5)', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'rein-test-errored-'));
    try {
      writeFileSync(
        join(dir, 'p.rein'),
        [
          'policy p { default allow }',
          'input { args: map<any> }',
          'rule big { when args.amount > 1000 deny "big amount" }',
          'test "a big amount is denied" { given { args: { amount: "5000" } } expect deny by big }',
          'test "a big number is denied" { given { args: { amount: 5000 } } expect deny by big }',
          '',
        ].join('\n'),
      );
      const r = await runMain(['test', dir, '--coverage']);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /✗ a big amount is denied[^\n]*\n\s+expected: deny by big\n\s+actual:\s+deny by on error\n\s+why:\s+decision errors: big: ordering needs two numbers or two strings/);
      assert.match(r.stdout, /✓ a big number is denied/);
      assert.match(r.stdout, /coverage [^\n]*: 100\.0% \(2\/2\)/);
      // only the errored test: the rule is not covered
      const only = await runMain(['test', dir, '--coverage', '--filter', 'big amount']);
      assert.match(only.stdout, /not covered: rule big/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bundle (`rein build`) is tested from the sources it carries; a tampered one is refused (regression: "not a .rein file")', async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'rein-test-bundle-'));
    try {
      const file = join(dir, 'failing.bundle.json');
      assert.equal((await runMain(['build', 'failing', '-o', file])).code, 0);
      const r = await runMain(['test', file]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /✗ search is denied \(wrong on purpose\)/);
      assert.match(r.stdout, /^1 passed, 1 failed$/m);
      const junit = await runMain(['test', file, 'valid', '--format', 'junit']);
      assert.match(junit.stdout, /tests="6" failures="1"/);
      const b = JSON.parse(readFileSync(file, 'utf8'));
      const name = Object.keys(b.files)[0];
      b.files[name] += '\n// edited';
      writeFileSync(file, JSON.stringify(b));
      const bad = await runMain(['test', file]);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /modified after it was built/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('policy errors → exit 1 (errors on stderr)', async () => {
    const r = await runMain(['test', 'broken']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error REIN200/);
  });

  it('policy errors in JUnit: an <error> for the set that was not tested, not an empty green run (regression)', async () => {
    const r = await runMain(['test', 'broken', 'valid', '--format', 'junit']);
    assert.equal(r.code, 1);
    assert.equal(XMLValidator.validate(r.stdout), true);
    const x = new XMLParser({ ignoreAttributes: false }).parse(r.stdout);
    assert.equal(x.testsuites['@_errors'], '1');
    assert.equal(x.testsuites['@_tests'], '5');
    const broken = (x.testsuites.testsuite as { '@_name': string; testcase: { error?: { '#text': string } } }[]).find((s) => s['@_name'] === 'broken')!;
    assert.match(broken.testcase.error!['#text'], /broken\/policy\.rein:10:23 REIN200 unknown name `blocked_toolz`/);
    assert.doesNotMatch(broken.testcase.error!['#text'], /valid\//);
  });

  it('--filter runs only matching tests; a filter matching nothing is a usage error', async () => {
    const r = await runMain(['test', 'failing', '--filter', '^shell']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^1 passed, 0 failed$/m);
    const none = await runMain(['test', 'failing', '--filter', 'no test is called this']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /matched no test/);
  });

  it('--format json', async () => {
    const r = await runMain(['test', 'failing', 'valid', '--format', 'json']);
    assert.equal(r.code, 3);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.summary, { tests: 6, passed: 5, failed: 1 });
    const f = out.tests.find((t: { passed: boolean }) => !t.passed);
    assert.deepEqual([f.file, f.line, f.column, f.expected, f.actual], ['failing/policy.rein', 19, 1, 'deny', 'allow by default']);
  });

  it('--format junit: well-formed XML with the right counts and the failure\'s expected vs actual', async () => {
    const r = await runMain(['test', 'failing', 'valid', '--format', 'junit']);
    assert.equal(r.code, 3);
    assert.equal(XMLValidator.validate(r.stdout), true);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(r.stdout);
    assert.equal(xml.testsuites.tests, '6');
    assert.equal(xml.testsuites.failures, '1');
    const suites = [xml.testsuites.testsuite].flat();
    assert.equal(suites.length, 2);
    const failing = suites.find((s: { name: string }) => s.name === 'failing')!;
    assert.equal(failing.tests, '2');
    assert.equal(failing.failures, '1');
    const failed = [failing.testcase].flat().find((t: { failure?: unknown }) => t.failure);
    assert.equal(failed.name, 'search is denied (wrong on purpose)');
    assert.match(failed.failure['#text'], /expected: deny\nactual: {3}allow by default/);
  });

  it('--format github and sarif report failing tests as REIN403 at the test', async () => {
    const g = await runMain(['test', 'failing', '--format', 'github']);
    assert.equal(g.code, 3);
    assert.match(g.stdout, /^::error file=failing\/policy\.rein,line=19,col=1,endLine=19,endColumn=5,title=REIN403::test `search is denied \(wrong on purpose\)` failed: expected deny, got allow by default$/m);
    const s = await runMain(['test', 'failing', '--format', 'sarif']);
    const res = JSON.parse(s.stdout).runs[0].results;
    assert.equal(res.length, 1);
    assert.equal(res[0].ruleId, 'REIN403');
    assert.equal(res[0].locations[0].physicalLocation.region.startLine, 19);
  });

  it('--coverage reports rules, budgets and effect clauses; --min-coverage gates the exit code', async () => {
    const r = await runMain(['test', 'valid', '--coverage']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^coverage valid: \d+(\.\d)?% \(\d+\/\d+\)$/m);
    const pct = Number(/coverage valid: ([\d.]+)%/.exec(r.stdout)![1]);
    const low = await runMain(['test', 'valid', '--min-coverage', String(Math.max(0, Math.floor(pct) - 1))]);
    assert.equal(low.code, 0, low.stdout);
    if (pct < 100) {
      const high = await runMain(['test', 'valid', '--min-coverage', '100']);
      assert.equal(high.code, 3);
      assert.match(high.stdout, /below --min-coverage 100%/);
    }
    const failing = await runMain(['test', 'failing', '--coverage', '--format', 'json']);
    const out = JSON.parse(failing.stdout);
    assert.equal(typeof out.summary.coverage, 'number');
    assert.ok(out.coverage[0].items.some((i: { kind: string; name: string }) => i.kind === 'rule' && i.name === 'no_shell'));
  });

  it('coverage under --min-coverage is said in every format, not only text (regression, review h12r2 T8)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-cov-'));
    writeFileSync(
      path.join(dir, 'a.rein'),
      'policy p { default allow }\ninput { tool: string }\nrule d1 { when tool == "x" deny "d1" }\nrule d2 { when tool == "y" deny "d2" }\ntest "d1" { given { tool: "x" } expect deny by d1 }\n',
    );
    const why = /coverage 50\.0% is below --min-coverage 100%/;
    const text = await runMain(['test', '.', '--min-coverage', '100'], { cwd: dir });
    assert.equal(text.code, 3);
    assert.match(text.stdout, why);
    for (const format of ['json', 'junit', 'github', 'sarif']) {
      const r = await runMain(['test', '.', '--min-coverage', '100', '--format', format], { cwd: dir });
      assert.equal(r.code, 3, format);
      assert.match(r.stderr, new RegExp(`^rein test: ${why.source}$`, 'm'), format);
      if (format === 'json') assert.deepEqual([JSON.parse(r.stdout).summary.coverage, JSON.parse(r.stdout).summary.min_coverage], [50, 100]);
      // the message escaped as GitHub's workflow commands require (`%` → `%25`)
      if (format === 'github') assert.match(r.stdout, /^::error title=rein test::coverage 50\.0%25 is below --min-coverage 100%25$/m);
      if (format === 'sarif') {
        const inv = (JSON.parse(r.stdout) as { runs: { invocations?: { exitCode: number; toolExecutionNotifications: { message: { text: string } }[] }[] }[] }).runs[0].invocations?.[0];
        assert.equal(inv?.exitCode, 3);
        assert.match(inv?.toolExecutionNotifications[0].message.text ?? '', why);
      }
      if (format === 'junit') {
        assert.equal(XMLValidator.validate(r.stdout), true);
        assert.match(r.stdout, /<testsuites name="rein" tests="2" failures="1" /);
        assert.match(r.stdout, /<testcase name="coverage reaches --min-coverage" classname="coverage">\s*<failure message="coverage 50\.0% is below --min-coverage 100%"/);
      }
    }
    const ok = await runMain(['test', '.', '--min-coverage', '50', '--format', 'junit'], { cwd: dir });
    assert.equal(ok.code, 0);
    assert.equal(ok.stderr, '');
    assert.doesNotMatch(ok.stdout, /name="coverage"/);
  });

  it('a test name with control characters is escaped in text and github output (regression, review h12r2 T14)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-esc-'));
    writeFileSync(
      path.join(dir, 'a.rein'),
      'policy p { default allow }\ninput { tool: string }\nrule d1 { when tool == "x" deny "d1" }\ntest "ok \\u001b[31mred" { given { tool: "x" } expect deny }\ntest "fails \\u001b[31mred\\nline" { given { tool: "y" } expect deny }\n',
    );
    for (const format of ['text', 'github']) {
      const r = await runMain(['test', '.', '--format', format], { cwd: dir });
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.equal(r.stdout.includes('\u001b'), false, `${format}: no raw ESC`);
      assert.match(r.stdout, /fails \\u\{1b\}\[31mred\\u\{a\}line/, format);
    }
    const t = await runMain(['test', '.'], { cwd: dir });
    assert.match(t.stdout, /✓ ok \\u\{1b\}\[31mred/);
  });
});

