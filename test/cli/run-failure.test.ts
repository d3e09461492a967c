// `rein check|test --format sarif|junit|github` when the run cannot happen (a usage or IO error, exit 2):
// stdout still holds a report in that format that says why (review h12r2: an empty rein.sarif made
// the upload step fail on "invalid SARIF" instead of showing the cause).
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { runMain } from './helpers.js';
import { sarifValidator } from '../helpers/sarif.js';


describe('a run that cannot happen, in the machine format asked for', function () {
  this.timeout(60_000);

  it('rein check --format sarif: a valid SARIF log whose invocation failed, with the reason', async () => {
    const r = await runMain(['check', 'no-such-dir', '--format', 'sarif']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-such-dir/);
    const log = JSON.parse(r.stdout) as { runs: { invocations: any[]; results: unknown[] }[] };
    const validate = sarifValidator();
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
    const inv = log.runs[0].invocations[0];
    assert.equal(inv.executionSuccessful, false);
    assert.equal(inv.exitCode, 2);
    assert.match(inv.toolExecutionNotifications[0].message.text, /no-such-dir/);
    assert.deepEqual(log.runs[0].results, []);
  });

  it('rein test --format junit: an <error> test case; --format github: an ::error line', async () => {
    const j = await runMain(['test', 'no-such-dir', '--format', 'junit']);
    assert.equal(j.code, 2);
    assert.equal(XMLValidator.validate(j.stdout), true, j.stdout);
    const xml = new XMLParser({ ignoreAttributes: false }).parse(j.stdout);
    assert.equal(xml.testsuites['@_errors'], '1');
    assert.match(xml.testsuites.testsuite.testcase.error['@_message'], /no-such-dir/);
    const g = await runMain(['check', 'no-such-dir', '--format', 'github']);
    assert.equal(g.code, 2);
    assert.match(g.stdout, /^::error title=rein check::.*no-such-dir/m);
  });

  it('nothing more when the command already printed its report, or the format is not the command\'s', async () => {
    // --filter matching nothing is found after the (empty) JUnit report was printed: one document only
    const f = await runMain(['test', 'valid', '--filter', 'zzzz-no-test', '--format', 'junit']);
    assert.equal(f.code, 2);
    assert.equal(f.stdout.match(/<\?xml/g)?.length, 1, f.stdout);
    // junit is not a format of rein check: the usage error alone
    const c = await runMain(['check', 'valid', '--format', 'junit']);
    assert.equal(c.code, 2);
    assert.equal(c.stdout, '');
    // text and json print nothing on stdout
    for (const fmt of ['text', 'json']) assert.equal((await runMain(['check', 'no-such-dir', '--format', fmt])).stdout, '');
  });
});
