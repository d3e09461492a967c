// examples/ai-sdk-agent/agent.ts and examples/openai-agent/agent.ts run offline on each SDK's own test
// model and show each guard at work.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';

const runExample = (file: string) => spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 50_000 });

describe('examples/ai-sdk-agent', function () {
  this.timeout(60_000);
  it('runs offline: the destructive tool call is denied, the PII warned, confidential data stopped', () => {
    const r = runExample('examples/ai-sdk-agent/agent.ts');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /deny \[no_destructive_sql\] destructive SQL is not allowed/);
    assert.match(r.stdout, /\[contact_details_in_output\] the output contains contact details/);
    assert.match(r.stdout, /answer: There are 42 users/);
    assert.match(r.stdout, /stopped: model call to openai\.chat:gpt-4o denied by policy: model `gpt-4o` may not see confidential data/);
  });
});

describe('examples/openai-agent', function () {
  this.timeout(60_000);
  it('runs offline: model calls settled with priced usage, a denied tool, an approved refund, a PII warning, confidential data stopped', () => {
    const r = runExample('examples/openai-agent/agent.ts');
    assert.equal(r.status, 0, r.stderr);
    const [pub, conf] = r.stdout.split('confidential data on gpt-4o:');
    assert.ok(pub && conf, r.stdout);
    // Four model calls, each settled with its actual usage and a price from @pydantic/genai-prices.
    const settles = [...pub.matchAll(/settled: (\d+) tokens in, (\d+) out = \$([\d.]+)/g)];
    assert.deepEqual(settles.map((m) => [m[1], m[2]]), [['900', '30'], ['1000', '30'], ['1100', '30'], ['1200', '40']]);
    assert.ok(settles.every((m) => Number(m[3]) > 0), 'priced');
    assert.match(pub, /deny \[no_destructive_sql\] destructive SQL is not allowed/);
    assert.match(pub, /approval asked: refund\(\{"amount":30\}\)[^\n]*\n\s+rein: require_approval \[refund_needs_approval\][^\n]*\n\s+rein: allow \[refund_needs_approval\]/);
    assert.match(pub, /\[contact_details_in_output\] the output contains contact details/);
    assert.match(pub, /answer: There are 42 users; the \$30 refund is done/);
    assert.match(conf, /stopped: model call to openai:gpt-4o denied by policy: model `gpt-4o` may not see confidential data/);
    assert.doesNotMatch(conf, /settled:/, 'no model call was made');
  });
});
