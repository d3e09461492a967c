// The remote gateway (`--listen` / `--upstream`, Streamable HTTP on both sides) in front of
// server-everything in its HTTP mode, driven by the SDK's HTTP client; the gateway token; metrics;
// and a second, independent client — @modelcontextprotocol/inspector-cli — over stdio and HTTP.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { BIN, EVERYTHING, FIXTURES, FS_SERVER, INSPECTOR, env, freePort, start, tempDir, verifyAudit, waitFor } from './helpers.js';

const run = promisify(execFile);
const INSPECTOR_INDEX = path.join(path.dirname(INSPECTOR), 'index.js');
// inspector-cli looks for its package.json with fs.existsSync('../package.json') — relative to the
// working directory — so it runs from its build folder.
const INSPECTOR_CWD = path.dirname(INSPECTOR);

describe('rein mcp --listen (Streamable HTTP) and inspector-cli', function () {
  this.timeout(90_000);
  let upstream: ReturnType<typeof start>;
  let gateway: ReturnType<typeof start>;
  let upPort: number;
  let gwPort: number;
  let metricsPort: number;
  let tmp: ReturnType<typeof tempDir>;
  let audit: string;
  const TOKEN = 'test-token-123';

  before(async () => {
    tmp = tempDir();
    audit = path.join(tmp.dir, 'audit.jsonl');
    upPort = await freePort();
    upstream = start(process.execPath, [EVERYTHING, 'streamableHttp'], { env: env({ PORT: String(upPort) }) });
    await waitFor(() => /listening on port/.test(upstream.out()), 'server-everything (HTTP)', 60_000);
    gwPort = await freePort();
    metricsPort = await freePort();
    gateway = start(
      process.execPath,
      [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `127.0.0.1:${gwPort}`, '--upstream', `http://127.0.0.1:${upPort}/mcp`, '--audit', audit, '--metrics', `127.0.0.1:${metricsPort}`],
      { env: env({ REIN_MCP_TOKEN: TOKEN }) },
    );
    await waitFor(() => /listening at/.test(gateway.out()), 'the gateway', 60_000);
  });
  after(async () => {
    await gateway?.kill();
    await upstream?.kill();
    // The chain verifies (verifyAudit throws on a broken one).
    if (audit && existsSync(audit)) verifyAudit(audit);
    tmp?.cleanup();
  });

  async function httpClient(headers: Record<string, string> = { 'X-Rein-Token': TOKEN }): Promise<Client> {
    const client = new Client({ name: 'http-test', version: '0.1.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'sampled over http' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gwPort}/mcp`), { requestInit: { headers } }));
    return client;
  }

  it('the SDK HTTP client lists and calls tools through the gateway; deny and pass-through work', async () => {
    const c = await httpClient();
    try {
      assert.equal(c.getServerVersion()?.name, 'mcp-servers/everything');
      const tools = (await c.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('echo'));
      const ok = await c.callTool({ name: 'echo', arguments: { message: 'over http' } });
      assert.match(JSON.stringify(ok.content), /over http/);
      const denied = await c.callTool({ name: 'echo', arguments: { message: 'forbidden words' } });
      assert.equal(denied.isError, true);
      assert.match(JSON.stringify(denied.content), /echoing that is forbidden/);
      const progress: number[] = [];
      await c.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      assert.deepEqual(progress, [1, 2, 3]);
      const sampled = await c.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
      assert.match(JSON.stringify(sampled.content), /sampled over http/);
      const res = await c.listResources();
      assert.ok(res.resources.length > 0);
    } finally {
      await c.close();
    }
  });

  it('the gateway token protects the listener', async () => {
    await assert.rejects(httpClient({}), /401|X-Rein-Token/);
    await assert.rejects(httpClient({ 'X-Rein-Token': 'wrong' }), /401|X-Rein-Token/);
  });

  it('serves Prometheus metrics: decisions by effect, latency, calls', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(text, /rein_decisions_total\{[^}]*effect="deny"[^}]*\} [1-9]/);
    assert.match(text, /rein_decision_duration_milliseconds_bucket|rein_decision_duration_bucket/);
    assert.match(text, /rein_mcp_calls_total\{[^}]*outcome="refused"/);
  });

  it('the client\'s Authorization header reaches the upstream on every request; X-Rein-Token does not', async () => {
    const port = await freePort();
    const up = start(process.execPath, [path.join(FIXTURES, 'test-server.mjs'), '--http', String(port)]);
    const gwPort2 = await freePort();
    const gw2 = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `127.0.0.1:${gwPort2}`, '--upstream', `http://127.0.0.1:${port}/mcp`], {
      env: env({ REIN_MCP_TOKEN: TOKEN }),
    });
    try {
      await waitFor(() => /test-server listening/.test(up.out()), 'the test server', 60_000);
      await waitFor(() => /listening at/.test(gw2.out()), 'the second gateway', 60_000);
      const c = new Client({ name: 'auth-test', version: '1' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gwPort2}/mcp`), { requestInit: { headers: { 'X-Rein-Token': TOKEN, Authorization: 'Bearer upstream-secret' } } }),
      );
      const r = await c.callTool({ name: 'whoami', arguments: {} });
      assert.match(JSON.stringify(r.content), /authorization: Bearer upstream-secret/);
      await c.close();
      // Without an Authorization header, none reaches the upstream (the gateway token is not passed on).
      const c2 = new Client({ name: 'auth-test', version: '1' });
      await c2.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gwPort2}/mcp`), { requestInit: { headers: { 'X-Rein-Token': TOKEN } } }));
      const r2 = await c2.callTool({ name: 'whoami', arguments: {} });
      assert.match(JSON.stringify(r2.content), /authorization: \(none\)/);
      await c2.close();
    } finally {
      await gw2.kill();
      await up.kill();
    }
  });

  it('an unreachable upstream: the client gets a clear error at once, no hang', async () => {
    const closedPort = await freePort();
    const port = await freePort();
    const g = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${closedPort}/mcp`]);
    try {
      await waitFor(() => /listening at/.test(g.out()), 'the gateway', 60_000);
      const c = new Client({ name: 'unreachable', version: '1' });
      const started = Date.now();
      await assert.rejects(c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`))), /cannot reach the upstream MCP server/);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await g.kill();
    }
  });

  it('inspector-cli lists and calls tools through the HTTP gateway', async () => {
    const url = `http://127.0.0.1:${gwPort}/mcp`;
    const list = await run(process.execPath, [INSPECTOR_INDEX, url, '--transport', 'http', '--header', `X-Rein-Token: ${TOKEN}`, '--method', 'tools/list'], { env: env(), timeout: 30_000, cwd: INSPECTOR_CWD });
    assert.ok((JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.some((t) => t.name === 'echo'));
    const call = await run(
      process.execPath,
      [INSPECTOR_INDEX, url, '--transport', 'http', '--header', `X-Rein-Token: ${TOKEN}`, '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=forbidden'],
      { env: env(), timeout: 30_000, cwd: INSPECTOR_CWD },
    );
    const r = JSON.parse(call.stdout) as { isError?: boolean; content: unknown };
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /echoing that is forbidden/);
  });

  it('inspector-cli lists and calls tools through the stdio gateway', async () => {
    const work = path.join(tmp.dir, 'work');
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'hello.txt'), 'hello from the inspector');
    // The gateway's own options would be read as the inspector's: start it from a script.
    const script = path.join(tmp.dir, 'gateway.sh');
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    writeFileSync(script, `exec ${[process.execPath, BIN, 'mcp', '--policy', path.join(FIXTURES, 'deny-write'), '--', process.execPath, FS_SERVER, work].map(q).join(' ')}\n`);
    const gw = ['/bin/sh', script];
    const list = await run(process.execPath, [INSPECTOR_INDEX, ...gw, '--method', 'tools/list'], { env: env(), timeout: 60_000, cwd: INSPECTOR_CWD });
    const names = (JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
    assert.ok(names.includes('read_text_file'));
    assert.ok(!names.includes('move_file'));
    const call = await run(
      process.execPath,
      [INSPECTOR_INDEX, ...gw, '--method', 'tools/call', '--tool-name', 'read_text_file', '--tool-arg', `path=${path.join(work, 'hello.txt')}`],
      { env: env(), timeout: 60_000, cwd: INSPECTOR_CWD },
    );
    assert.match(call.stdout, /hello from the inspector/);
  });
});
