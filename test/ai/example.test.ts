// examples/ai-sdk-agent/agent.ts runs offline on the AI SDK's mock model and shows each guard at work.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';

describe('examples/ai-sdk-agent', function () {
  this.timeout(60_000);
  it('runs offline: the destructive tool call is denied, the PII warned, confidential data stopped', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/ai-sdk-agent/agent.ts'], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /deny \[no_destructive_sql\] destructive SQL is not allowed/);
    assert.match(r.stdout, /\[contact_details_in_output\] the output contains contact details/);
    assert.match(r.stdout, /answer: There are 42 users/);
    assert.match(r.stdout, /stopped: model call to openai\.chat:gpt-4o denied by policy: model `gpt-4o` may not see confidential data/);
  });
});
