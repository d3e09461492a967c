// Budgets settled from the upstream's `_meta` usage, hot reload, upstream crash and hang — with a
// small server built on the official SDK (test/fixtures/mcp/test-server.mjs).

import assert from 'node:assert/strict';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { connect, FIXTURES, auditDecisions, freePort, tempDir, verifyAudit, waitFor, type Connected } from './helpers.js';

const SERVER = path.join(FIXTURES, 'test-server.mjs');

describe('rein mcp: budgets, hot reload and failures', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let audit: string;
  let gw: Connected | undefined;

  beforeEach(() => {
    tmp = tempDir();
    audit = path.join(tmp.dir, 'audit.jsonl');
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    if (existsSync(audit)) assert.ok(verifyAudit(audit) > 0);
    tmp.cleanup();
  });

  const text = (r: unknown) => JSON.stringify((r as { content?: unknown }).content);

  it('budgets settle with the usage the upstream reports in _meta, else with the estimate', async () => {
    gw = await connect(['--policy', path.join(FIXTURES, 'budget'), '--audit', audit], [SERVER]);
    // $1 ceiling: 0.45 + 0.45 reported (settled as reported), then the $0.10 estimate fits once.
    for (const cost of [0.45, 0.45]) assert.notEqual((await gw.client.callTool({ name: 'paid', arguments: { cost } })).isError, true);
    const third = await gw.client.callTool({ name: 'paid', arguments: {} });
    assert.notEqual(third.isError, true, text(third));
    const fourth = await gw.client.callTool({ name: 'paid', arguments: {} });
    assert.equal(fourth.isError, true);
    assert.match(text(fourth), /the \$1 ceiling is spent/);
  });

  it('--metrics: spend by budget, decisions by effect, and calls by outcome', async () => {
    const port = await freePort();
    gw = await connect(['--policy', path.join(FIXTURES, 'budget'), '--metrics', `127.0.0.1:${port}`], [SERVER]);
    for (const cost of [0.3, 0.3]) assert.notEqual((await gw.client.callTool({ name: 'paid', arguments: { cost } })).isError, true);
    assert.notEqual((await gw.client.callTool({ name: 'paid', arguments: {} })).isError, true);
    for (let i = 0; i < 4; i++) await gw.client.callTool({ name: 'paid', arguments: {} });
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // $0.60 settled from usage, then four $0.10 estimates fit under $1 and the fifth does not: the
    // last decision saw $1.00 spent and a $0.10 charge.
    const spent = /rein_budget_spent\{[^}]*budget="ceiling"[^}]*\} ([0-9.]+)/.exec(text);
    assert.ok(spent, text);
    assert.equal(Number(spent[1]).toFixed(2), '1.10');
    assert.match(text, /rein_decisions_total\{[^}]*effect="deny"[^}]*\} [1-9]/);
    assert.match(text, /rein_decisions_total\{[^}]*effect="allow"[^}]*\} [1-9]/);
    assert.match(text, /rein_mcp_calls_total\{[^}]*outcome="refused"[^}]*tool="paid"[^}]*\} 1\n/);
    assert.match(text, /rein_mcp_calls_total\{[^}]*outcome="forwarded"[^}]*tool="paid"[^}]*\} 6\n/);
  });

  it('without settlement from usage the estimate counts: exactly 10 calls at $0.10 under $1', async () => {
    gw = await connect(['--policy', path.join(FIXTURES, 'budget')], [SERVER]);
    const outcomes: boolean[] = [];
    for (let i = 0; i < 13; i++) outcomes.push((await gw.client.callTool({ name: 'paid', arguments: {} })).isError !== true);
    assert.equal(outcomes.filter(Boolean).length, 10);
    assert.deepEqual(outcomes.slice(10), [false, false, false]);
  });

  it('hot reload: a valid change is swapped in (hashes logged); an invalid one is refused and the old policy serves', async () => {
    const dir = path.join(tmp.dir, 'policy');
    cpSync(path.join(FIXTURES, 'budget'), dir, { recursive: true });
    gw = await connect(['--policy', dir, '--audit', audit], [SERVER]);
    assert.notEqual((await gw.client.callTool({ name: 'paid', arguments: { cost: 0.01 } })).isError, true);
    writeFileSync(path.join(dir, 'deny.rein'), 'rule no_paid {\n  when phase == "call" and tool.name == "paid"\n  deny "paid tools are off"\n}\n');
    await waitFor(() => /policy reloaded: sha256:[0-9a-f]{64} -> sha256:[0-9a-f]{64}/.test(gw!.stderr()), 'the reload');
    const denied = await gw.client.callTool({ name: 'paid', arguments: { cost: 0.01 } });
    assert.equal(denied.isError, true);
    assert.match(text(denied), /paid tools are off/);
    // Now break it: diagnostics on stderr, the last good policy keeps serving.
    writeFileSync(path.join(dir, 'deny.rein'), 'rule no_paid {\n  when phase == "call" and tool.nam == \n}\n');
    await waitFor(() => /policy reload refused/.test(gw!.stderr()), 'the refusal');
    assert.match(gw.stderr(), /deny\.rein:\d+:\d+ error REIN\d+/);
    const still = await gw.client.callTool({ name: 'paid', arguments: { cost: 0.01 } });
    assert.equal(still.isError, true);
    assert.match(text(still), /paid tools are off/);
    // Emptied (the first step of an in-place rewrite): refused, the deny rule keeps holding (review h13r1 S10)
    writeFileSync(path.join(dir, 'deny.rein'), '');
    await waitFor(() => /`deny\.rein` is empty — a file being written\? Not reloaded/.test(gw!.stderr()), 'the empty file refused', 15_000);
    const held = await gw.client.callTool({ name: 'paid', arguments: { cost: 0.01 } });
    assert.equal(held.isError, true);
    assert.match(text(held), /paid tools are off/);
    await gw.close();
    const hashes = new Set(auditDecisions(audit).map((d) => d.request?.phase));
    assert.ok(hashes.has('call'));
  });

  it('an upstream crash: the pending call gets a clear error, the gateway exits, no hang', async () => {
    gw = await connect(['--policy', path.join(FIXTURES, 'everything')], [SERVER]);
    let closed = false;
    gw.transport.onclose = () => (closed = true);
    const started = Date.now();
    await assert.rejects(gw.client.callTool({ name: 'crash', arguments: {} }), /upstream server exited with code 3 before answering tools\/call/);
    assert.ok(Date.now() - started < 10_000);
    await waitFor(() => closed, 'the gateway to exit');
    assert.match(gw.stderr(), /crashing on purpose/);
  });

  it('an upstream that hangs: --upstream-timeout answers with an error, and later calls still work', async () => {
    // Long enough for initialize on a loaded machine (the timeout bounds every request).
    gw = await connect(['--policy', path.join(FIXTURES, 'everything'), '--upstream-timeout', '4s'], [SERVER]);
    const started = Date.now();
    await assert.rejects(gw.client.callTool({ name: 'hang', arguments: {} }), /did not answer tools\/call within 4 s/);
    assert.ok(Date.now() - started < 15_000);
    const r = await gw.client.callTool({ name: 'paid', arguments: { cost: 0.01 } });
    assert.match(text(r), /paid 0\.01/);
  });

  it('an upstream that cannot be started: initialize fails with the reason', async () => {
    await assert.rejects(connect(['--policy', path.join(FIXTURES, 'everything')], ['/nonexistent/server.js']), /exited with code 1|could not be started|Connection closed/);
  });

  it('a policy with errors at start: exit 1 with diagnostics, nothing started', async () => {
    const dir = path.join(tmp.dir, 'bad');
    cpSync(path.join(FIXTURES, 'budget'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'broken.rein'), 'rule x { when phase == }\n');
    await assert.rejects(connect(['--policy', dir], [SERVER]));
  });
});
