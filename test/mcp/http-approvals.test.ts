// Approvals and hot reload through the remote gateway (`--listen`), end to end with the SDK's
// StreamableHTTPClientTransport: elicitation accept/decline (for a call and for a result), the
// approval queue for a client that cannot elicit, and a policy change picked up by a live session.

import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { abortIsolatingFetch } from '../../language/node/mcp/isolating-fetch.js';
import { approvalsCli, auditDecisions, FIXTURES, httpGateway, httpTestServer, mcpTempWorkspace, waitFor, type McpWorkspace, type Started } from './helpers.js';

const POLICY = path.join(FIXTURES, 'approve');
const text = (r: unknown) => JSON.stringify((r as { content?: unknown }).content);

interface HttpClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** The elicitation messages the client was shown. */
  asked: string[];
  close(): Promise<void>;
}

/** An SDK client over Streamable HTTP; with `answers`, it declares elicitation and answers in turn. */
async function connectHttp(url: string, answers?: ElicitResult['action'][]): Promise<HttpClient> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: abortIsolatingFetch() });
  const client = new Client({ name: 'http-approvals', version: '1' }, { capabilities: answers ? { elicitation: {} } : {} });
  const asked: string[] = [];
  if (answers) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      const action = answers.shift() ?? 'decline';
      return action === 'accept' ? { action, content: {} } : { action };
    });
  }
  await client.connect(transport);
  return {
    client,
    transport,
    asked,
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

describe('rein mcp --listen: approvals over Streamable HTTP', function () {
  this.timeout(90_000);
  let up: Started;
  let ws: McpWorkspace;
  const gateways: Started[] = [];
  const clients: HttpClient[] = [];

  before(async () => {
    up = await httpTestServer();
  });
  beforeEach(() => {
    ws = mcpTempWorkspace();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    for (const g of gateways.splice(0)) await g.kill();
    ws.finish();
  });
  after(async () => {
    await up?.kill();
  });

  async function gateway(...extra: string[]): Promise<Started> {
    const g = await httpGateway(up.url, ['--policy', POLICY, '--no-reload', '--audit', ws.audit, ...extra]);
    gateways.push(g);
    return g;
  }
  async function client(url: string, answers?: ElicitResult['action'][]): Promise<HttpClient> {
    const c = await connectHttp(url, answers);
    clients.push(c);
    return c;
  }

  it('elicitation accept: the call runs; decline: refused; an approval does not unlock other arguments', async () => {
    const gw = await gateway();
    const c = await client(gw.url, ['accept', 'decline']);
    const ok = await c.client.callTool({ name: 'echo', arguments: { message: 'approve me' } });
    assert.notEqual(ok.isError, true, text(ok));
    assert.match(text(ok), /approve me/);
    assert.equal(c.asked.length, 1);
    assert.match(c.asked[0], /Rein: approve this tool call\?/);
    assert.match(c.asked[0], /echo_needs_approval \(from user\): echo approve me/);
    assert.match(c.asked[0], /bound to request sha256:[0-9a-f]{64}/);
    // Other arguments: asked again, and this time declined.
    const no = await c.client.callTool({ name: 'echo', arguments: { message: 'approve that' } });
    assert.equal(no.isError, true);
    assert.match(text(no), /was declined by the user/);
    assert.equal(c.asked.length, 2);
    assert.match(c.asked[1], /approve that/);
    // Calls that need no approval are not asked about.
    assert.match(text(await c.client.callTool({ name: 'echo', arguments: { message: 'plain' } })), /plain/);
    assert.equal(c.asked.length, 2);
    await c.close();
    const calls = auditDecisions(ws.audit).filter((d) => d.request?.phase === 'call' && d.request.tool.name === 'echo');
    assert.deepEqual(
      calls.map((d) => d.effect),
      ['require_approval', 'allow', 'require_approval', 'allow'],
    );
  });

  it('elicitation cancel: refused, and the session keeps working', async () => {
    const gw = await gateway();
    const c = await client(gw.url, ['cancel']);
    const r = await c.client.callTool({ name: 'echo', arguments: { message: 'approve?' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /was cancelled by the user/);
    assert.match(text(await c.client.callTool({ name: 'echo', arguments: { message: 'after' } })), /after/);
  });

  it('a client that cannot elicit: the call waits in the approval queue; `rein approvals approve` lets it run, `deny` refuses', async () => {
    const gw = await gateway('--approvals', ws.queue, '--approvers', ws.approvers, '--approval-timeout', '30s');
    const c = await client(gw.url);
    const q = approvalsCli(ws);
    const call = c.client.callTool({ name: 'echo', arguments: { message: 'approve via the queue' } });
    const [rec] = await q.waitPending();
    assert.equal(rec.rule, 'echo_needs_approval');
    assert.equal((rec.summary as { tool?: string }).tool, 'echo');
    assert.equal((await q.run('approve', rec.id, '--as', 'alice')).code, 0);
    const r = await call;
    assert.notEqual(r.isError, true, text(r));
    assert.match(text(r), /approve via the queue/);

    const denied = c.client.callTool({ name: 'echo', arguments: { message: 'approve this one?' } });
    const [rec2] = await q.waitPending();
    assert.equal((await q.run('deny', rec2.id, '--as', 'alice')).code, 0);
    const r2 = await denied;
    assert.equal(r2.isError, true);
    assert.match(text(r2), /was denied by alice/);
  });
  it('a result that needs approval: released on accept, withheld on decline; the question shows the result', async () => {
    const gw = await gateway();
    const c = await client(gw.url, ['accept', 'decline']);
    const ok = await c.client.callTool({ name: 'echo', arguments: { message: 'confidential: the plan' } });
    assert.notEqual(ok.isError, true, text(ok));
    assert.match(text(ok), /confidential: the plan/);
    assert.equal(c.asked.length, 1);
    assert.match(c.asked[0], /Rein: release this tool result to the model\?/);
    assert.match(c.asked[0], /echo\(\{"message":"confidential: the plan"\}\) returned:\nconfidential: the plan/);
    assert.match(c.asked[0], /confidential_result \(from user\)/);
    const no = await c.client.callTool({ name: 'echo', arguments: { message: 'confidential: the budget' } });
    assert.equal(no.isError, true);
    assert.match(text(no), /withheld the result of `echo`: approval apr_[0-9a-f-]+ was declined by the user/);
    assert.doesNotMatch(text(no), /the budget/, 'the withheld result does not reach the model');
    await c.close();
    const results = auditDecisions(ws.audit).filter((d) => d.request?.phase === 'result');
    assert.deepEqual(
      results.map((d) => d.effect),
      ['require_approval', 'allow', 'require_approval'],
    );
  });

  it('a call and its result both need approval: two questions, one per phase', async () => {
    const gw = await gateway();
    const c = await client(gw.url, ['accept', 'accept']);
    const r = await c.client.callTool({ name: 'echo', arguments: { message: 'approve: confidential' } });
    assert.notEqual(r.isError, true, text(r));
    assert.deepEqual(
      c.asked.map((m) => m.split('\n')[0]),
      ['Rein: approve this tool call?', 'Rein: release this tool result to the model?'],
    );
  });

  it('a result waiting in the approval queue is released once approved; the record shows the result', async () => {
    const gw = await gateway('--approvals', ws.queue, '--approvers', ws.approvers, '--approval-timeout', '30s');
    const c = await client(gw.url);
    const q = approvalsCli(ws);
    const call = c.client.callTool({ name: 'echo', arguments: { message: 'confidential via the queue' } });
    const [rec] = await q.waitPending();
    assert.equal(rec.rule, 'confidential_result');
    assert.equal(rec.summary.phase, 'result');
    assert.equal(rec.summary.result, 'confidential via the queue');
    assert.equal((await q.run('approve', rec.id, '--as', 'alice')).code, 0);
    const r = await call;
    assert.notEqual(r.isError, true, text(r));
    assert.match(text(r), /confidential via the queue/);
  });

  it('no elicitation and no queue: the result is withheld at once, naming the pending approval', async () => {
    const gw = await gateway();
    const c = await client(gw.url);
    const r = await c.client.callTool({ name: 'echo', arguments: { message: 'confidential' } });
    assert.equal(r.isError, true);
    assert.match(text(r), /withheld the result of `echo`: approval apr_[0-9a-f-]+ is pending: confidential_result/);
  });
});

describe('rein mcp --listen: hot reload with live sessions', function () {
  this.timeout(90_000);

  it('a changed policy is picked up by an open session; an invalid one is refused and the session keeps the last good policy', async () => {
    const ws = mcpTempWorkspace();
    const dir = path.join(ws.dir, 'policy');
    cpSync(path.join(FIXTURES, 'everything'), dir, { recursive: true });
    const up = await httpTestServer();
    const gw = await httpGateway(up.url, ['--policy', dir, '--audit', ws.audit]);
    const c = await connectHttp(gw.url);
    try {
      const sid = c.transport.sessionId;
      assert.match(text(await c.client.callTool({ name: 'echo', arguments: { message: 'reload me' } })), /reload me/);
      const before = (gw.out().match(/policy reloaded/g) ?? []).length;
      writeFileSync(path.join(dir, 'extra.rein'), 'rule no_reload {\n  when phase == "call" and "${arguments.message ?? ""}".contains("reload")\n  deny "reloading is denied now"\n}\n');
      await waitFor(() => (gw.out().match(/policy reloaded: sha256:[0-9a-f]+ -> sha256:[0-9a-f]+/g) ?? []).length > before, 'the reload', 20_000);
      // The same session, no reconnect: the new policy decides.
      const denied = await c.client.callTool({ name: 'echo', arguments: { message: 'reload me' } });
      assert.equal(denied.isError, true);
      assert.match(text(denied), /reloading is denied now/);
      assert.equal(c.transport.sessionId, sid);
      // A policy that does not check: refused, diagnostics on stderr, the last good one keeps serving.
      writeFileSync(path.join(dir, 'broken.rein'), 'rule broken { when phase == deny }\n');
      await waitFor(() => /policy reload refused/.test(gw.out()), 'the refusal', 20_000);
      assert.match(gw.out(), /broken\.rein:\d+:\d+/);
      const still = await c.client.callTool({ name: 'echo', arguments: { message: 'reload me' } });
      assert.match(text(still), /reloading is denied now/);
      assert.match(text(await c.client.callTool({ name: 'echo', arguments: { message: 'other' } })), /other/);
      assert.equal(c.transport.sessionId, sid);
      // Both policies' decisions are in one audit chain (finish() verifies it).
      const hashes = readFileSync(ws.audit, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => (JSON.parse(l) as { policy: { hash: string } }).policy.hash);
      assert.equal(new Set(hashes).size, 2, 'decisions of the old and the new policy');
    } finally {
      await c.close();
      await gw.kill();
      await up.kill();
      ws.finish();
    }
  });
});
