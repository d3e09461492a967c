// require_approval for a client that cannot elicit: the approval queue (`--approvals DIR`), decided
// with `rein approvals approve|deny` — waiting (--approval-timeout) or refused at once and retried.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { approvalsCli, connect, FS_SERVER, ROOT, mcpTempWorkspace, type Connected, type McpWorkspace } from './helpers.js';

const POLICY = path.join(ROOT, 'examples/mcp-filesystem');

describe('rein mcp --approvals (the approval queue)', function () {
  this.timeout(60_000);
  let ws: McpWorkspace;
  let work: string;
  let queue: string;
  let approvers: string;
  let audit: string;
  let gw: Connected | undefined;

  beforeEach(() => {
    ws = mcpTempWorkspace();
    ({ work, queue, approvers, audit } = ws);
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    ws.finish();
  });

  const q = (...args: string[]) => approvalsCli(ws).run(...args);
  const pending = () => approvalsCli(ws).pending();

  it('--approval-timeout: the call waits in the queue until `rein approvals approve`, then runs', async () => {
    gw = await connect(['--policy', POLICY, '--audit', audit, '--approvals', queue, '--approvers', approvers, '--approval-timeout', '30s'], [FS_SERVER, work]);
    const target = path.join(work, 'queued.txt');
    const call = gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'via the queue' } });
    const ids = await approvalsCli(ws).waitPending();
    assert.equal(ids.length, 1);
    assert.equal(ids[0].rule, 'writes_need_approval');
    assert.equal(existsSync(target), false, 'nothing runs before the approval');
    const ok = await q('approve', ids[0].id, '--as', 'alice');
    assert.equal(ok.code, 0, ok.stderr);
    const r = await call;
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(readFileSync(target, 'utf8'), 'via the queue');
    // the log names the queue's id, the one the operator approved (regression R11: only `apr_…`)
    const logged = async (re: RegExp) => {
      for (let i = 0; i < 100 && !re.test(gw!.stderr()); i++) await new Promise((res) => setTimeout(res, 50));
      assert.match(gw!.stderr(), re);
    };
    await logged(new RegExp(`approval apr_[0-9a-f-]+ is in the approval queue as ${ids[0].id}`));
    await logged(new RegExp(`approval ${ids[0].id} granted \\(alice\\)`));
  });

  it('--approval-timeout: `rein approvals deny` refuses the waiting call', async () => {
    gw = await connect(['--policy', POLICY, '--approvals', queue, '--approvers', approvers, '--approval-timeout', '30s'], [FS_SERVER, work]);
    const target = path.join(work, 'denied.txt');
    const call = gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'no' } });
    const ids = await approvalsCli(ws).waitPending();
    assert.equal((await q('deny', ids[0].id, '--as', 'alice')).code, 0);
    const r = await call;
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /was denied by alice/);
    assert.equal(existsSync(target), false);
  });

  it('default: refused at once naming the approval; once approved, the same call runs on retry, another call does not', async () => {
    gw = await connect(['--policy', POLICY, '--approvals', queue, '--approvers', approvers], [FS_SERVER, work]);
    const target = path.join(work, 'retry.txt');
    const args = { name: 'write_file', arguments: { path: target, content: 'retried' } };
    const first = await gw.client.callTool(args);
    assert.equal(first.isError, true);
    const m = /approval (ap_[0-9a-z]+) is pending/.exec(JSON.stringify(first.content));
    assert.ok(m, JSON.stringify(first.content));
    assert.match(JSON.stringify(first.content), /rein approvals approve ap_/);
    // Asking again before the verdict reuses the pending record.
    await gw.client.callTool(args);
    assert.equal((await pending()).length, 1);
    assert.equal((await q('approve', m[1], '--as', 'alice')).code, 0);
    const other = await gw.client.callTool({ name: 'write_file', arguments: { path: path.join(work, 'other.txt'), content: 'x' } });
    assert.equal(other.isError, true, 'an approval for one call does not unlock another');
    assert.equal(existsSync(path.join(work, 'other.txt')), false);
    const retry = await gw.client.callTool(args);
    assert.notEqual(retry.isError, true, JSON.stringify(retry));
    assert.equal(readFileSync(target, 'utf8'), 'retried');
    // Used once: the same call needs a new approval.
    const again = await gw.client.callTool(args);
    assert.equal(again.isError, true);
  });
});
