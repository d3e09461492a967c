// The Gateway in-process, between the SDK's Client and the SDK's McpServer (linked in-memory
// transports): message order under pipelining, approvals bound to the request hash, cancellation of
// a pending approval, and the shipped request schema.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { compile } from '../../language/policy.js';
import { makeCtx } from '../../cli/context.js';
import type { ApprovalBroker, ApprovalContext } from '../../language/node/mcp/approvals.js';
import { ElicitationBroker } from '../../language/node/mcp/approvals.js';
import { Gateway } from '../../language/node/mcp/gateway.js';
import { PolicyHost } from '../../language/node/mcp/host.js';
import { MCP_INPUT_SCHEMA } from '../../language/node/mcp/schema.js';
import { ROOT } from './helpers.js';

const RULES = `
policy unit { default allow  on error deny }
rule no_secret { when phase == "call" and tool.name == "echo" and "\${arguments.message ?? ""}" == "deny me" deny "denied echo" }
rule ask { when phase == "call" and tool.name == "write" require approval from "user" "writing needs approval" }
`;

interface Rig {
  client: Client;
  received: string[];
  writes: string[];
  gateway: Gateway;
  close(): Promise<void>;
}

async function rig(broker: ApprovalBroker, rules = RULES, schema = MCP_INPUT_SCHEMA): Promise<Rig> {
  const server = new McpServer({ name: 'unit-server', version: '1.0.0' });
  const writes: string[] = [];
  server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  server.registerTool('write', { inputSchema: { path: z.string() } }, async ({ path: p }) => {
    writes.push(p);
    return { content: [{ type: 'text', text: `wrote ${p}` }] };
  });
  const [upClient, upServer] = InMemoryTransport.createLinkedPair();
  const [downClient, downServer] = InMemoryTransport.createLinkedPair();
  await server.connect(upServer);
  // Record what reaches the server, in order.
  const received: string[] = [];
  const deliver = upServer.onmessage!;
  upServer.onmessage = (m: JSONRPCMessage, extra) => {
    const r = m as { id?: unknown; method?: string; params?: { name?: string; arguments?: { message?: string } } };
    if (r.method) received.push(r.method === 'tools/call' ? `call:${r.params?.arguments?.message ?? r.params?.name}` : r.method);
    deliver.call(upServer, m, extra);
  };
  const policy = compile({ 'schema.rein': schema, 'rules.rein': rules });
  const sink = { write: () => undefined };
  const ctx = makeCtx({ stdout: sink, stderr: sink, stdin: Readable.from([]), env: {}, cwd: ROOT, isTTY: false });
  const host = new PolicyHost(policy, { ctx });
  const gateway = new Gateway(downServer, upClient, { host, broker });
  await gateway.start();
  const client = new Client({ name: 'unit-client', version: '0.0.1' }, { capabilities: {} });
  await client.connect(downClient);
  return {
    client,
    received,
    writes,
    gateway,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

describe('Gateway (in-process)', () => {
  it('pipelined messages reach the upstream in the order the client sent them, denied calls left out', async () => {
    const r = await rig(new ElicitationBroker());
    try {
      const sent: Promise<unknown>[] = [];
      const expected: string[] = [];
      for (let i = 0; i < 60; i++) {
        if (i % 7 === 3) {
          sent.push(r.client.callTool({ name: 'echo', arguments: { message: 'deny me' } }));
        } else if (i % 5 === 0) {
          sent.push(r.client.ping());
          expected.push('ping');
        } else {
          sent.push(r.client.callTool({ name: 'echo', arguments: { message: `m${i}` } }));
          expected.push(`call:m${i}`);
        }
      }
      const results = await Promise.all(sent);
      const seen = r.received.filter((x) => x === 'ping' || x.startsWith('call:'));
      assert.deepEqual(seen, expected);
      // Each answer went to its own request.
      results.forEach((res, i) => {
        if (i % 7 === 3) assert.equal((res as { isError?: boolean }).isError, true);
        else if (i % 5 !== 0) assert.match(JSON.stringify((res as { content: unknown }).content), new RegExp(`"m${i}"`));
      });
    } finally {
      await r.close();
    }
  });

  it('approvals count only when bound to this request\'s hash', async () => {
    const asked: ApprovalContext[] = [];
    // A broker that grants the right rule for the wrong request: it must not unlock the call.
    const wrongHash: ApprovalBroker = {
      request: async (ctx) => {
        asked.push(ctx);
        return { approved: true, approvals: [{ rule: 'ask', request_hash: 'sha256:' + '0'.repeat(64) }] };
      },
    };
    const r = await rig(wrongHash);
    try {
      const res = await r.client.callTool({ name: 'write', arguments: { path: 'a.txt' } });
      assert.equal(res.isError, true);
      assert.match(JSON.stringify(res.content), /writing needs approval/);
      assert.deepEqual(r.writes, []);
      assert.equal(asked.length, 1);
      assert.match(asked[0].id, /^apr_/);
      assert.equal(asked[0].elicit, undefined, 'the client declared no elicitation capability');
    } finally {
      await r.close();
    }
  });

  it('a right approval forwards exactly the approved call', async () => {
    const grant: ApprovalBroker = {
      request: async (ctx) => ({ approved: true, approvals: [{ rule: 'ask', request_hash: ctx.decision.request_hash! }] }),
    };
    const r = await rig(grant);
    try {
      const res = await r.client.callTool({ name: 'write', arguments: { path: 'b.txt' } });
      assert.notEqual(res.isError, true);
      assert.deepEqual(r.writes, ['b.txt']);
    } finally {
      await r.close();
    }
  });

  it('a client cancelling a call that waits for approval: the broker is aborted and nothing is forwarded', async () => {
    let aborted = false;
    const waiting: ApprovalBroker = {
      request: (ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve({ approved: true, approvals: [{ rule: 'ask', request_hash: ctx.decision.request_hash! }] });
          });
        }),
    };
    const r = await rig(waiting);
    try {
      const ac = new AbortController();
      const p = r.client.callTool({ name: 'write', arguments: { path: 'c.txt' } }, undefined, { signal: ac.signal });
      await new Promise((res) => setTimeout(res, 50));
      ac.abort('changed my mind');
      await assert.rejects(p);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(aborted, true);
      assert.deepEqual(r.writes, []);
      // The connection still works.
      const ok = await r.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
      assert.match(JSON.stringify(ok.content), /still here/);
    } finally {
      await r.close();
    }
  });
});

describe('Gateway: policy errors', () => {
  it('a request the policy cannot validate gets the set\'s `on error` effect: with `on error deny`, tools are hidden and calls refused', async () => {
    // The set requires a field the gateway never sends: every decision is invalid input.
    const schema = MCP_INPUT_SCHEMA.replace('  session: string', '  session: string\n  tenant: string');
    const r = await rig(new ElicitationBroker(), 'policy strict { default allow  on error deny }', schema);
    try {
      assert.deepEqual((await r.client.listTools()).tools, []);
      const res = await r.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      assert.equal(res.isError, true);
      assert.match(JSON.stringify(res.content), /tenant/);
      assert.deepEqual(r.received.filter((x) => x.startsWith('call:')), []);
    } finally {
      await r.close();
    }
  });

  it('with `on error allow` the same invalid requests pass (fail open, when the author asks for it)', async () => {
    const schema = MCP_INPUT_SCHEMA.replace('  session: string', '  session: string\n  tenant: string');
    const r = await rig(new ElicitationBroker(), 'policy lax { default allow  on error allow }', schema);
    try {
      assert.ok((await r.client.listTools()).tools.length > 0);
      const res = await r.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      assert.notEqual(res.isError, true);
      assert.deepEqual(r.received.filter((x) => x.startsWith('call:')), ['call:hi']);
    } finally {
      await r.close();
    }
  });
});

describe('the shipped MCP request schema', () => {
  it('examples/mcp-filesystem/schema.rein is MCP_INPUT_SCHEMA, and it checks on its own', () => {
    assert.equal(readFileSync(path.join(ROOT, 'examples/mcp-filesystem/schema.rein'), 'utf8'), MCP_INPUT_SCHEMA);
    const p = compile({ 'schema.rein': MCP_INPUT_SCHEMA, 'policy.rein': 'policy p { default allow }' });
    const ok = p.evaluate({
      phase: 'call',
      server: { name: 's' },
      tool: { name: 't', annotations: { readOnlyHint: true } },
      arguments: { any: ['thing'] },
      client: { name: 'c', version: '1' },
      session: 'x',
    });
    assert.equal(ok.effect, 'allow');
    assert.deepEqual(ok.errors, []);
    const bad = p.evaluate({ phase: 'other' });
    assert.ok(bad.errors.length > 0);
  });
});
