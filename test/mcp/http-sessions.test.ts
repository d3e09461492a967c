// The remote gateway's sessions: an idle session expires (with its upstream session), a connected
// one does not; and no abort listener piles up on a long session (the MaxListenersExceededWarning
// seen under load): the fetch the upstream transport uses gives every request its own signal.

import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { abortIsolatingFetch, IsolatingFetch } from '../../language/node/mcp/isolating-fetch.js';
import { FIXTURES, httpGateway, httpTestServer, waitFor, type Started } from './helpers.js';

const POLICY = path.join(FIXTURES, 'everything');

/** An SDK client over Streamable HTTP (its own fetch isolates abort signals too: the SDK client has the same pile-up). */
async function connectHttp(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: abortIsolatingFetch() });
  const client = new Client({ name: 'sessions-test', version: '1' });
  await client.connect(transport);
  return { client, transport };
}

const text = (r: unknown) => JSON.stringify((r as { content?: unknown }).content);

describe('rein mcp --listen: session lifetime', function () {
  this.timeout(60_000);
  let up: Started;
  let gw: Started;

  before(async () => {
    up = await httpTestServer();
    gw = await httpGateway(up.url, ['--policy', POLICY, '--no-reload', '--session-timeout', '1s']);
  });
  after(async () => {
    await gw?.kill();
    await up?.kill();
  });

  it('a body that is not JSON is a JSON-RPC -32700 parse error (HTTP 400), not fastify\'s error shape (regression)', async () => {
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc": "2.0", nope' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
    assert.deepEqual([body.jsonrpc, body.id, body.error.code], ['2.0', null, -32700]);
    assert.match(body.error.message, /^Parse error/);
  });

  it('a session left without a DELETE is closed after --session-timeout, and its upstream session too; a connected idle one stays', async () => {
    const keeper = await connectHttp(gw.url);
    const gone = await connectHttp(gw.url);
    try {
      assert.match(text(await keeper.client.callTool({ name: 'sessions', arguments: {} })), /open sessions: 2,/);
      const sid = gone.transport.sessionId!;
      assert.ok(sid);
      // The client vanishes: its connections close, no DELETE is sent.
      await gone.transport.close();
      await waitFor(() => new RegExp(`session ${sid} idle for`).test(gw.out()), 'the idle session to be closed', 15_000);
      await waitFor(() => /test-server: session closed/.test(up.out()), 'the upstream session to be ended', 10_000);
      assert.match(text(await keeper.client.callTool({ name: 'sessions', arguments: {} })), /open sessions: 1,/);
      // The expired session id is unknown now: the client is told to initialize again.
      const res = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      assert.equal(res.status, 404);
      assert.match(await res.text(), /unknown or expired session/);
      // The keeper made no request for longer than the timeout, but its GET stream is open: still served.
      await new Promise((r) => setTimeout(r, 2500));
      assert.match(text(await keeper.client.callTool({ name: 'echo', arguments: { message: 'still here' } })), /still here/);
      assert.doesNotMatch(gw.out(), new RegExp(`session ${keeper.transport.sessionId} idle`));
    } finally {
      await keeper.transport.terminateSession().catch(() => undefined);
      await keeper.client.close();
      await gone.client.close().catch(() => undefined);
    }
  });

  it('a call open longer than the timeout keeps its session (raw HTTP: no standalone GET stream)', async () => {
    const post = (body: unknown, sid?: string, signal?: AbortSignal) =>
      fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...(sid ? { 'mcp-session-id': sid } : {}) },
        body: JSON.stringify(body),
        signal,
      });
    const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const sid = init.headers.get('mcp-session-id')!;
    assert.ok(sid, `no session id (${init.status})`);
    await init.text();
    (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid)).body?.cancel();
    // `hang` never answers: the POST stays open for 2.5 s, more than the 1 s timeout.
    const ac = new AbortController();
    const hanging = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'hang', arguments: {} } }, sid, ac.signal);
    assert.equal(hanging.status, 200);
    await new Promise((r) => setTimeout(r, 2500));
    assert.doesNotMatch(gw.out(), new RegExp(`session ${sid} idle`));
    const list = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, sid);
    assert.equal(list.status, 200);
    assert.match(await list.text(), /"echo"/);
    // Once the client is gone (its open request closed), the session expires.
    ac.abort();
    await waitFor(() => new RegExp(`session ${sid} idle for`).test(gw.out()), 'the session to expire once nothing is open', 15_000);
  });
});

describe('rein mcp --listen: abort listeners on a long session', function () {
  this.timeout(240_000);

  // Before the fix, Node's fetch left one listener per upstream request on the session's signal
  // until a major GC, and warned past 1,500.
  it('1,600 calls on one session: no MaxListenersExceededWarning in the gateway (node --trace-warnings)', async () => {
    const up = await httpTestServer();
    const gw = await httpGateway(up.url, ['--policy', POLICY, '--no-reload'], { nodeArgs: ['--trace-warnings'] });
    const c = await connectHttp(gw.url);
    try {
      // Four at a time, some cancelled by the client (their cancellations reach the upstream too).
      let next = 0;
      const worker = async () => {
        while (next < 1600) {
          const i = next++;
          const ac = new AbortController();
          const p = c.client.callTool({ name: 'echo', arguments: { message: `m${i}` } }, undefined, { signal: ac.signal });
          if (i % 50 === 0) ac.abort();
          await p.catch(() => undefined);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      assert.match(text(await c.client.callTool({ name: 'echo', arguments: { message: 'last' } })), /last/);
      const warnings = gw.out().match(/MaxListenersExceededWarning[^\n]*/g) ?? [];
      assert.equal(warnings.length, 0, `${warnings.length} warnings, the first: ${warnings[0]}`);
    } finally {
      await c.transport.terminateSession().catch(() => undefined);
      await c.client.close();
      await gw.kill();
      await up.kill();
    }
  });
});

describe('rein mcp --listen: cancelled calls', function () {
  this.timeout(60_000);

  for (const resumable of [false, true]) {
  it(`leave no HTTP request open, on the client side or the upstream side${resumable ? ' (an upstream that resumes streams: not reopened)' : ''}`, async () => {
    const up = await httpTestServer({}, resumable ? ['--resumable'] : []);
    const gw = await httpGateway(up.url, ['--policy', POLICY, '--no-reload']);
    const f = new IsolatingFetch();
    const transport = new StreamableHTTPClientTransport(new URL(gw.url), { fetch: f.fetch });
    const client = new Client({ name: 'cancel-test', version: '1' });
    try {
      await client.connect(transport);
      // `hang` never answers: each call is open until the client cancels it.
      for (let i = 0; i < 30; i++) {
        const ac = new AbortController();
        const p = client.callTool({ name: 'hang', arguments: { i } }, undefined, { signal: ac.signal });
        await new Promise((r) => setTimeout(r, 20));
        ac.abort();
        await assert.rejects(p);
      }
      // The client's POST streams of the cancelled calls were ended by the gateway.
      await waitFor(() => f.streaming === 0, `the client's cancelled streams to end (${f.streaming} open)`, 10_000);
      // The upstream sees: the gateway's standalone GET stream and this call; nothing left from the 30.
      let seen = '';
      for (let i = 0; i < 50; i++) {
        seen = text(await client.callTool({ name: 'sessions', arguments: {} }));
        if (/open requests: [12]"/.test(seen)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(seen, /open sessions: 1, open requests: [12]"/);
      if (resumable) {
        // Still so a while later: a resuming client transport would have reconnected by now.
        await new Promise((r) => setTimeout(r, 1500));
        seen = text(await client.callTool({ name: 'sessions', arguments: {} }));
        assert.match(seen, /open sessions: 1, open requests: [12]"/);
      }
      assert.doesNotMatch(gw.out(), /SSE stream disconnected|Error/);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
      await gw.kill();
      await up.kill();
    }
  });
  }
});

describe('rein mcp --listen: an HTTP upstream that dies with calls in flight', function () {
  this.timeout(60_000);

  for (const resumable of [false, true]) {
    it(`answers them with -32000 at once, not after --upstream-timeout (review h12r1 P4)${resumable ? ' (a resumable upstream: after its reconnection fails)' : ''}`, async () => {
      const up = await httpTestServer({}, resumable ? ['--resumable'] : []);
      const gw = await httpGateway(up.url, ['--policy', POLICY, '--no-reload', '--upstream-timeout', '120s']);
      const { client, transport } = await connectHttp(gw.url);
      try {
        const started = Date.now();
        // `crash_streaming` starts the call's answer stream, then exits the upstream: the stream breaks
        await assert.rejects(client.callTool({ name: 'crash_streaming', arguments: {} }, undefined, { timeout: 60_000, onprogress: () => undefined }), (e: Error) => {
          assert.match(e.message, /-32000|upstream/);
          assert.match(e.message, /answer stream was lost .* cannot be reached/);
          return true;
        });
        assert.ok(Date.now() - started < 30_000, `answered after ${Date.now() - started} ms`);
        // a later call is answered at once with the cause, not left to time out
        const later = Date.now();
        await assert.rejects(client.callTool({ name: 'echo', arguments: { message: 'x' } }, undefined, { timeout: 60_000 }), /cannot reach the upstream MCP server/);
        assert.ok(Date.now() - later < 30_000);
      } finally {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
        await gw.kill();
        await up.kill();
      }
    });
  }
});

describe('abortIsolatingFetch', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        return; // left open: only an abort ends it
      }
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('leaves no listener on the shared signal once each response is read, failed or cancelled', async () => {
    const f = abortIsolatingFetch();
    const shared = new AbortController();
    for (let i = 0; i < 300; i++) {
      const r = await f(`${base}/${i % 10 === 0 ? 'missing' : 'ok'}`, { signal: shared.signal });
      if (i % 3 === 0) await r.body?.cancel();
      else assert.deepEqual(await r.json(), { url: `/${i % 10 === 0 ? 'missing' : 'ok'}` });
      assert.ok(getEventListeners(shared.signal, 'abort').length <= 0, `listeners after request ${i}: ${getEventListeners(shared.signal, 'abort').length}`);
    }
    // A request that fails (nothing listens there) releases its listener too.
    await assert.rejects(f('http://127.0.0.1:1/none', { signal: shared.signal }));
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
  });

  it('aborting the shared signal still aborts a body that is streaming', async () => {
    const f = abortIsolatingFetch();
    const shared = new AbortController();
    const r = await f(`${base}/stream`, { signal: shared.signal });
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /first/);
    assert.equal(getEventListeners(shared.signal, 'abort').length, 1, 'linked while the body streams');
    const pending = reader.read();
    shared.abort(new Error('session closed'));
    await assert.rejects(pending);
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
  });
});
