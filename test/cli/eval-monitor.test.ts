// `rein eval --mode monitor`: the Engine's monitor mode (AgentCore LOG_ONLY): every decision is made and
// printed, nothing is enforced — the effect is `allow`, `would_effect` holds the enforced effect, the
// exit code is 0, and nothing is reserved.
import { strict as assert } from 'node:assert';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { runMain } from './helpers.js';

const NOW = '2026-11-24T10:00:00Z';
const REQ = (tool: string) => JSON.stringify({ session: { id: 's1' }, agent: { id: 'a1', team: 'support' }, action: { kind: 'tool_call', tool } });

describe('rein eval --mode monitor', function () {
  this.timeout(60_000);

  it('a denied request: exit 0, effect allow, would_effect deny, `monitored` names the rule', async () => {
    const enforced = await runMain(['eval', 'valid', '-i', 'requests/deny.json']);
    assert.equal(enforced.code, 4, enforced.stderr);
    const r = await runMain(['eval', 'valid', '-i', 'requests/deny.json', '--mode', 'monitor']);
    assert.equal(r.code, 0, r.stderr);
    const d = decisionSchema.parse(JSON.parse(r.stdout));
    assert.equal(d.effect, 'allow');
    assert.equal(d.mode, 'monitor');
    assert.equal(d.would_effect, 'deny');
    // What would have blocked moves to `monitored` (INTERFACES §1): nothing in `reasons` blocks.
    assert.deepEqual(d.reasons, []);
    assert.deepEqual(d.monitored.map((x) => [x.name, x.effect]), [['no_destructive_tools', 'deny']]);
  });

  it('require_approval is reported, not enforced; --mode enforce is the default', async () => {
    const r = await runMain(['eval', 'valid', '-i', 'requests/transfer.json', '--mode', 'monitor']);
    assert.equal(r.code, 0, r.stderr);
    const d = decisionSchema.parse(JSON.parse(r.stdout));
    assert.equal(d.would_effect, 'require_approval');
    assert.deepEqual(d.approvals, []);
    assert.deepEqual(d.monitored.map((x) => [x.name, x.effect]), [['large_transfer', 'require_approval']]);
    const e = await runMain(['eval', 'valid', '-i', 'requests/transfer.json', '--mode', 'enforce']);
    assert.equal(e.code, 5, e.stderr);
    assert.equal(JSON.parse(e.stdout).mode, 'enforce');
  });

  it('an exceeded budget: would deny, nothing reserved', async () => {
    const r = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--now', NOW, '--spent', 'team_daily=49', '--mode', 'monitor']);
    assert.equal(r.code, 0, r.stderr);
    const d = decisionSchema.parse(JSON.parse(r.stdout));
    assert.equal(d.effect, 'allow');
    assert.equal(d.would_effect, 'deny');
    const b = d.budgets.find((x) => x.name === 'team_daily')!;
    assert.equal(b.exceeded, true);
    assert.equal(b.spent, '49.000000');
    assert.equal(d.reservation, null);
    // Within the limit: enforce mode reserves the charge, monitor mode does not.
    const enforced = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--now', NOW]);
    assert.notEqual(JSON.parse(enforced.stdout).reservation, null);
    const monitored = await runMain(['eval', 'valid', '-i', 'requests/model-call.json', '--now', NOW, '--mode', 'monitor']);
    assert.equal(monitored.code, 0, monitored.stderr);
    assert.equal(JSON.parse(monitored.stdout).reservation, null, 'monitor mode reserves nothing');
  });

  it('batch: every line allowed, the summary counts what enforce mode would have done', async () => {
    const input = [REQ('search'), REQ('db.drop'), REQ('db.drop')].join('\n');
    const r = await runMain(['eval', 'valid', '-i', '-', '--batch', '--mode', 'monitor'], { input });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(out.map((d) => d.effect), ['allow', 'allow', 'allow']);
    assert.deepEqual(out.map((d) => d.would_effect), ['allow', 'deny', 'deny']);
    assert.match(r.stderr, /^3 requests: 3 allow, 0 deny, 0 require_approval \(monitor: would be 1 allow, 2 deny, 0 require_approval\) in/);
  });

  it('an unknown mode is a usage error (exit 2) that names the choices', async () => {
    const r = await runMain(['eval', 'valid', '-i', 'requests/deny.json', '--mode', 'log_only']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mode must be enforce or monitor \(got `log_only`\)/);
  });
});
