// Everything Rein does not govern passes through unchanged: resources, prompts, progress,
// cancellation, logging, pings, and the server's own requests (sampling, elicitation, roots) —
// against the real @modelcontextprotocol/server-everything, driven by the SDK's Client.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connect, EVERYTHING, FIXTURES, tempDir, verifyAudit, verifyLiveAudit, type Connected } from './helpers.js';

const CAPS = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

describe('rein mcp (stdio) with @modelcontextprotocol/server-everything', function () {
  this.timeout(90_000);
  let direct: Connected;
  let gw: Connected;

  function handlers(c: Connected, seen: string[]): void {
    c.client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      seen.push(`sampling:${JSON.stringify(req.params.messages[0].content)}`);
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled answer 42' } };
    });
    c.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      seen.push(`elicitation:${req.params.message}`);
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
    });
    c.client.setRequestHandler(ListRootsRequestSchema, async () => {
      seen.push('roots');
      return { roots: [{ uri: 'file:///tmp/rein-root', name: 'rein root' }] };
    });
  }

  const seenDirect: string[] = [];
  const seenGw: string[] = [];
  const tmp = tempDir();
  const audit = path.join(tmp.dir, 'audit.jsonl');
  before(async () => {
    direct = await connect(false, [EVERYTHING, 'stdio'], { capabilities: CAPS });
    handlers(direct, seenDirect);
    gw = await connect(['--policy', path.join(FIXTURES, 'everything'), '--audit', audit], [EVERYTHING, 'stdio'], { capabilities: CAPS });
    handlers(gw, seenGw);
  });
  // The audit log verifies after every test (the gateway appends as it decides).
  afterEach(() => {
    verifyLiveAudit(audit);
  });
  after(async () => {
    await gw?.close();
    await direct?.close();
    // The whole log, once the gateway has exited: every decision of these tests, chained.
    assert.ok(verifyAudit(audit) > 0);
    tmp.cleanup();
  });

  it('initialize: the same server info and capabilities as a direct connection', () => {
    assert.deepEqual(gw.client.getServerVersion(), direct.client.getServerVersion());
    assert.deepEqual(gw.client.getServerCapabilities(), direct.client.getServerCapabilities());
    assert.equal(gw.client.getInstructions(), direct.client.getInstructions());
  });

  it('resources and resource templates: listed and read exactly as directly', async () => {
    const a = await direct.client.listResources();
    const b = await gw.client.listResources();
    assert.deepEqual(b, a);
    assert.ok(a.resources.length > 0);
    const uri = a.resources[0].uri;
    assert.deepEqual(await gw.client.readResource({ uri }), await direct.client.readResource({ uri }));
    assert.deepEqual(await gw.client.listResourceTemplates(), await direct.client.listResourceTemplates());
  });

  it('prompts: listed and fetched exactly as directly', async () => {
    const a = await direct.client.listPrompts();
    assert.deepEqual(await gw.client.listPrompts(), a);
    const simple = a.prompts.find((p) => !p.arguments || p.arguments.every((x) => !x.required));
    assert.ok(simple, 'a prompt without required arguments');
    assert.deepEqual(await gw.client.getPrompt({ name: simple.name }), await direct.client.getPrompt({ name: simple.name }));
  });

  it('tools/list passes unchanged when the policy hides nothing', async () => {
    assert.deepEqual(await gw.client.listTools(), await direct.client.listTools());
  });

  it('ping and logging/setLevel pass through', async () => {
    assert.deepEqual(await gw.client.ping(), {});
    assert.deepEqual(await gw.client.setLoggingLevel('debug'), {});
  });

  it('progress notifications reach the client', async () => {
    const progress: number[] = [];
    const r = await gw.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.5, steps: 5 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.match(JSON.stringify(r.content), /Long running operation completed/);
    // The server sends the last notification right before its result; the SDK client dispatches
    // notifications asynchronously and drops one that it handles after the result (a client-side race,
    // the same on a direct connection under load). Every other step arrives, in order.
    assert.ok(progress.length >= 4, `progress: ${progress.join(',')}`);
    assert.deepEqual(progress, [1, 2, 3, 4, 5].slice(0, progress.length));
  });

  it('cancellation reaches the server, and the connection keeps working', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const pending = gw.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, { signal: ac.signal });
    setTimeout(() => ac.abort('user cancelled'), 300);
    await assert.rejects(pending);
    assert.ok(Date.now() - started < 10_000);
    const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'after cancel' } });
    assert.match(JSON.stringify(r.content), /after cancel/);
  });

  it('the server\'s sampling request reaches the client and its answer the server', async () => {
    const r = await gw.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'what is six times seven', maxTokens: 20 } });
    assert.match(JSON.stringify(r.content), /sampled answer 42/);
    assert.ok(seenGw.some((s) => s.startsWith('sampling:') && s.includes('six times seven')));
  });

  it('the server\'s elicitation request reaches the client and its answer the server', async () => {
    const r = await gw.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.match(JSON.stringify(r.content), /Ada Lovelace/);
    assert.ok(seenGw.some((s) => s.startsWith('elicitation:')));
  });

  it('the server\'s roots/list request reaches the client', async () => {
    const r = await gw.client.callTool({ name: 'get-roots-list', arguments: {} });
    assert.match(JSON.stringify(r.content), /rein-root/);
  });

  it('logging notifications from the server reach the client', async () => {
    const got: unknown[] = [];
    gw.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void got.push(n.params));
    await gw.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    const end = Date.now() + 15_000;
    while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    await gw.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    assert.ok(got.length > 0, 'a log message arrived');
  });

  it('a denied call and a withheld result; other calls unaffected', async () => {
    const denied = await gw.client.callTool({ name: 'echo', arguments: { message: 'this is forbidden' } });
    assert.equal(denied.isError, true);
    assert.match(JSON.stringify(denied.content), /echoing that is forbidden/);
    const withheld = await gw.client.callTool({ name: 'echo', arguments: { message: 'key AKIAIOSFODNN7EXAMPLE' } });
    assert.equal(withheld.isError, true);
    assert.match(JSON.stringify(withheld.content), /withheld the result of `echo`: the result contains a credential/);
    assert.doesNotMatch(JSON.stringify(withheld), /AKIAIOSFODNN7EXAMPLE/);
    const fine = await gw.client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.deepEqual(fine, await direct.client.callTool({ name: 'echo', arguments: { message: 'hello' } }));
  });
});
