// require_approval through the SDK client's elicitation handler: accept, decline, cancel; an approval
// is bound to the exact request; a client that cannot elicit is refused with the approval's id; a
// result that needs approval is released or withheld by the human.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { connect, FIXTURES, FS_SERVER, ROOT, auditDecisions, mcpTempWorkspace, waitFor, type Connected, type McpWorkspace } from './helpers.js';

const POLICY = path.join(ROOT, 'examples/mcp-filesystem');

describe('rein mcp approvals (elicitation)', function () {
  this.timeout(60_000);
  let ws: McpWorkspace;
  let work: string;
  let audit: string;
  let gw: Connected | undefined;

  beforeEach(() => {
    ws = mcpTempWorkspace();
    ({ work, audit } = ws);
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    ws.finish();
  });

  /** A gateway whose client answers elicitations with `answers` in turn, recording the messages. */
  async function withAnswers(answers: ElicitResult['action'][], extra: string[] = []): Promise<{ asked: string[] }> {
    const asked: string[] = [];
    gw = await connect(['--policy', POLICY, '--audit', audit, ...extra], [FS_SERVER, work], { capabilities: { elicitation: {} } });
    gw.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      const action = answers.shift() ?? 'decline';
      return action === 'accept' ? { action, content: {} } : { action };
    });
    return { asked };
  }

  it('accept: the call is decided again with the approval and forwarded', async () => {
    const { asked } = await withAnswers(['accept']);
    const target = path.join(work, 'approved.txt');
    const r = await gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'approved' } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(readFileSync(target, 'utf8'), 'approved');
    assert.equal(asked.length, 1);
    assert.match(asked[0], /write_file on .*approved\.txt/);
    assert.match(asked[0], /bound to request sha256:[0-9a-f]{64}/);
    await gw!.close();
    const calls = auditDecisions(audit).filter((d) => d.request?.phase === 'call' && d.request.tool.name === 'write_file');
    assert.deepEqual(calls.map((d) => d.effect), ['require_approval', 'allow']);
  });

  it('a rule `from` a group of the approvers file is not approved by a click in the client: refused without a queue, queued with one (regression)', async () => {
    const { asked } = await withAnswers(['accept', 'accept'], ['--approvers', ws.approvers]);
    const target = path.join(work, 'grouped.txt');
    const r = await gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /`writes_need_approval` needs an approver in the group `user` \(--approvers\)/);
    assert.equal(asked.length, 0);
    assert.equal(existsSync(target), false);
    await gw!.close();
    const q = await withAnswers(['accept'], ['--approvers', ws.approvers, '--approvals', ws.queue]);
    const r2 = await gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(r2.isError, true);
    assert.match(JSON.stringify(r2.content), /approval ap_[0-9a-z]+ is pending/);
    assert.equal(q.asked.length, 0);
    assert.equal(existsSync(target), false);
  });

  for (const action of ['decline', 'cancel'] as const) {
    it(`${action}: the call is refused and nothing is written`, async () => {
      const { asked } = await withAnswers([action]);
      const target = path.join(work, `${action}.txt`);
      const r = await gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'no' } });
      assert.equal(r.isError, true);
      assert.match(JSON.stringify(r.content), new RegExp(`was ${action === 'decline' ? 'declined' : 'cancelled'} by the user`));
      assert.equal(existsSync(target), false);
      assert.equal(asked.length, 1);
    });
  }

  it('an approval for one call does not unlock a call with other arguments', async () => {
    const { asked } = await withAnswers(['accept', 'decline']);
    const a = path.join(work, 'a.txt');
    const b = path.join(work, 'b.txt');
    const r1 = await gw!.client.callTool({ name: 'write_file', arguments: { path: a, content: 'A' } });
    assert.notEqual(r1.isError, true);
    const r2 = await gw!.client.callTool({ name: 'write_file', arguments: { path: b, content: 'B' } });
    assert.equal(r2.isError, true);
    assert.equal(existsSync(b), false);
    assert.equal(asked.length, 2, 'the second call asked again');
    assert.match(asked[1], /b\.txt/);
  });

  it('a client that cannot elicit is refused at once, with the pending approval id', async () => {
    gw = await connect(['--policy', POLICY, '--audit', audit], [FS_SERVER, work]);
    const target = path.join(work, 'x.txt');
    const r = await gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /approval apr_[0-9a-f-]{36} is pending: writes_need_approval \(from user\)/);
    assert.equal(existsSync(target), false);
    // each rule once (regression: the approval rule was named by its reason and by its approval)
    const meta = (r._meta as Record<string, { effect: string; rules: string[] }>)['rein/decision'];
    assert.deepEqual([meta.effect, meta.rules], ['require_approval', ['writes_need_approval']]);
  });

  it('with REIN_APPROVAL_KEY the engine takes only signed tokens: an accepted elicitation is signed and runs', async () => {
    const asked: string[] = [];
    gw = await connect(['--policy', POLICY, '--audit', audit], [FS_SERVER, work], {
      capabilities: { elicitation: {} },
      env: { REIN_APPROVAL_KEY: 'hs256:' + 'k'.repeat(40) },
    });
    gw.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: {} };
    });
    const target = path.join(work, 'signed.txt');
    const r = await gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'signed' } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(readFileSync(target, 'utf8'), 'signed');
    assert.equal(asked.length, 1);
  });

  it('with only a verification key (REIN_APPROVAL_PUBLIC_KEY) the gateway cannot approve: no elicitation, refused', async () => {
    const asked: string[] = [];
    gw = await connect(['--policy', POLICY], [FS_SERVER, work], {
      capabilities: { elicitation: {} },
      env: { REIN_APPROVAL_PUBLIC_KEY: 'ed25519:' + 'ab'.repeat(32) },
    });
    gw.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: {} };
    });
    const target = path.join(work, 'unsigned.txt');
    const r = await gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /approval apr_[0-9a-f-]+ is pending/);
    assert.equal(asked.length, 0);
    assert.equal(existsSync(target), false);
  });

  it('a denying rule wins over an approval: no question is asked', async () => {
    const { asked } = await withAnswers(['accept']);
    const target = path.join(work, 'secret.txt');
    const r = await gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'AKIAIOSFODNN7EXAMPLE' } });
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /contains a credential/);
    assert.equal(asked.length, 0);
    assert.equal(existsSync(target), false);
  });
});

describe('rein mcp approvals of a result (stdio)', function () {
  this.timeout(60_000);
  let gw: Connected | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  /** The test server behind the gateway with the `approve` fixture; the client elicits with `answer`. */
  async function start(answer: (message: string) => Promise<ElicitResult['action']>): Promise<Connected> {
    gw = await connect(['--policy', path.join(FIXTURES, 'approve'), '--no-reload'], [path.join(FIXTURES, 'test-server.mjs')], { capabilities: { elicitation: {} } });
    gw.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      const action = await answer(req.params.message);
      return action === 'accept' ? { action, content: {} } : { action };
    });
    return gw;
  }

  it('accept releases the result; decline withholds it', async () => {
    const answers: ElicitResult['action'][] = ['accept', 'decline'];
    const c = await start(async () => answers.shift() ?? 'decline');
    const ok = await c.client.callTool({ name: 'echo', arguments: { message: 'confidential one' } });
    assert.notEqual(ok.isError, true, JSON.stringify(ok));
    assert.match(JSON.stringify(ok.content), /confidential one/);
    const no = await c.client.callTool({ name: 'echo', arguments: { message: 'confidential two' } });
    assert.equal(no.isError, true);
    assert.doesNotMatch(JSON.stringify(no.content), /confidential two/);
  });

  it('other traffic flows while a result waits for the human; cancelling the call ends the wait', async () => {
    let release!: () => void;
    const asked = new Promise<void>((r) => (release = r));
    const c = await start(async () => {
      release();
      return new Promise(() => undefined); // the human never answers
    });
    const ac = new AbortController();
    const waiting = c.client.callTool({ name: 'echo', arguments: { message: 'confidential, pending' } }, undefined, { signal: ac.signal, timeout: 30_000 });
    await asked;
    // The result is held out of line: another call goes through meanwhile.
    assert.match(JSON.stringify((await c.client.callTool({ name: 'echo', arguments: { message: 'meanwhile' } })).content), /meanwhile/);
    ac.abort();
    await assert.rejects(waiting, /abort/i);
    await waitFor(() => /approval apr_[0-9a-f-]+ requested for the result of tools\/call echo/.test(c.stderr()), 'the log line');
    assert.match(JSON.stringify((await c.client.callTool({ name: 'echo', arguments: { message: 'after' } })).content), /after/);
  });
});
