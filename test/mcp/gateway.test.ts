// The Gateway in-process, between the SDK's Client and the SDK's McpServer (linked in-memory
// transports): message order under pipelining, approvals bound to the request hash, cancellation of
// a pending approval, and the shipped request schema.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
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
import { LineTransport } from '../../language/node/mcp/stdio.js';
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
  host: PolicyHost;
  /** Decisions the gateway asked for, by phase (counted on the engine). */
  decided: Record<string, number>;
  close(): Promise<void>;
}

/** `lines`: the stdio framing (LineTransport over in-memory streams) on both sides instead of the SDK's in-memory transports. */
async function rig(broker: ApprovalBroker, rules = RULES, schema = MCP_INPUT_SCHEMA, gwOpts: { upstreamTimeoutMs?: number; lines?: boolean } = {}): Promise<Rig> {
  const server = new McpServer({ name: 'unit-server', version: '1.0.0' });
  const writes: string[] = [];
  server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  server.registerTool('write', { inputSchema: { path: z.string() } }, async ({ path: p }) => {
    writes.push(p);
    return { content: [{ type: 'text', text: `wrote ${p}` }] };
  });
  server.registerTool('hang', { inputSchema: { ms: z.number() } }, ({ ms }) => new Promise((res) => setTimeout(() => res({ content: [{ type: 'text', text: `slept ${ms}` }] }), ms)));
  let [upClient, upServer]: Transport[] = InMemoryTransport.createLinkedPair();
  let [downClient, downServer]: Transport[] = InMemoryTransport.createLinkedPair();
  if (gwOpts.lines) {
    const [c2g, g2c, g2s, s2g] = [new PassThrough(), new PassThrough(), new PassThrough(), new PassThrough()];
    [downClient, downServer] = [new LineTransport(g2c, c2g, 'gateway'), new LineTransport(c2g, g2c, 'client')];
    [upClient, upServer] = [new LineTransport(s2g, g2s, 'upstream server'), new LineTransport(g2s, s2g, 'gateway')];
  }
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
  const decided: Record<string, number> = {};
  const engine = host.engine;
  const count = (req: unknown) => {
    const phase = (req as { phase?: string }).phase ?? '?';
    decided[phase] = (decided[phase] ?? 0) + 1;
  };
  const decide = engine.decide.bind(engine);
  const decideSync = engine.decideSync.bind(engine);
  engine.decide = (req, o) => (count(req), decide(req, o));
  engine.decideSync = (req, o) => (count(req), decideSync(req, o));
  const gateway = new Gateway(downServer, upClient, { host, broker, upstreamTimeoutMs: gwOpts.upstreamTimeoutMs });
  await gateway.start();
  const client = new Client({ name: 'unit-client', version: '0.0.1' }, { capabilities: {} });
  await client.connect(downClient);
  return {
    client,
    received,
    writes,
    gateway,
    host,
    decided,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

describe('Gateway (in-process)', () => {
  for (const lines of [false, true])
  it(`pipelined messages reach the upstream in the order the client sent them, denied calls left out (${lines ? 'stdio framing: sent at once when nothing waits ahead' : 'SDK in-memory transports'})`, async () => {
    const r = await rig(new ElicitationBroker(), RULES, MCP_INPUT_SCHEMA, { lines });
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

describe('Gateway: work a policy cannot need is skipped', () => {
  const calls = async (r: Rig, n: number) => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await r.client.callTool({ name: 'echo', arguments: { message: `m${i}` } }));
    return out;
  };

  it('no rule or budget can match the result phase: the first result is decided, later ones are not', async () => {
    const r = await rig(new ElicitationBroker());
    try {
      await r.client.listTools();
      const res = await calls(r, 5);
      res.forEach((x, i) => assert.match(JSON.stringify(x.content), new RegExp(`"m${i}"`)));
      assert.equal(r.decided.call, 5);
      assert.equal(r.decided.result, 1);
    } finally {
      await r.close();
    }
  });

  it('a result rule: every result is decided (and a matching one withheld)', async () => {
    const rules = `${RULES}
rule no_m3 { when phase == "result" and result.text == "m3" deny "not m3" }`;
    const r = await rig(new ElicitationBroker(), rules);
    try {
      const res = await calls(r, 5);
      assert.equal(r.decided.result, 5);
      assert.equal(res[3].isError, true);
      assert.match(JSON.stringify(res[3].content), /not m3/);
      assert.notEqual(res[4].isError, true);
    } finally {
      await r.close();
    }
  });

  it('default deny: results are decided every time (and withheld, as the policy says), not only the first', async () => {
    const rules = 'policy closed { default deny  on error deny }\nrule open_calls { when phase != "result" allow "listing and calling are fine" }';
    const r = await rig(new ElicitationBroker(), rules);
    try {
      const res = await calls(r, 3);
      assert.equal(r.decided.result, 3);
      for (const x of res) assert.equal(x.isError, true);
    } finally {
      await r.close();
    }
  });

  it('a tool\'s list-phase check is made once per session while the policy cannot change it; again after a reload', async () => {
    const r = await rig(new ElicitationBroker());
    try {
      await r.client.listTools(); // one list decision per tool
      const listed = r.decided.list;
      await calls(r, 4);
      assert.equal(r.decided.list, listed, 'calls reuse the decisions tools/list made');
      // A new engine (hot reload): decided again, once.
      const next = compile({ 'schema.rein': MCP_INPUT_SCHEMA, 'rules.rein': `${RULES}
rule no_echo { when tool.name == "echo" deny "echo is gone" }` });
      const engine = new (r.host.engine.constructor as typeof import('../../language/runtime/engine.js').Engine)(next, { store: r.host.store });
      r.host.engine = engine;
      const decideSync = engine.decideSync.bind(engine);
      let listNow = 0;
      engine.decideSync = (req, o) => ((req as { phase: string }).phase === 'list' && listNow++, decideSync(req, o));
      const res = await calls(r, 3);
      assert.equal(listNow, 1);
      for (const x of res) {
        assert.equal(x.isError, true);
        assert.match(JSON.stringify(x.content), /echo is gone/);
      }
    } finally {
      await r.close();
    }
  });

  it('a budget in the list phase: every call checks the list phase again (its charge is real)', async () => {
    const rules = `${RULES}
budget listing { limit 100 per hour  charge 1  when phase == "list"  on exceed deny "too many" }`;
    const r = await rig(new ElicitationBroker(), rules);
    try {
      await r.client.listTools();
      const before = r.decided.list;
      await calls(r, 3);
      assert.equal(r.decided.list - before, 3);
    } finally {
      await r.close();
    }
  });
});

describe('Gateway: --upstream-timeout (one timer for every pending request)', () => {
  it('each pending request is answered with -32001 at its own deadline; an answer in time passes', async () => {
    const r = await rig(new ElicitationBroker(), RULES, MCP_INPUT_SCHEMA, { upstreamTimeoutMs: 400 });
    try {
      const t0 = performance.now();
      const settle = (p: Promise<unknown>) => p.then((v) => ({ ok: true, v, at: performance.now() - t0 }), (e: Error) => ({ ok: false, v: e.message, at: performance.now() - t0 }));
      const first = settle(r.client.callTool({ name: 'hang', arguments: { ms: 1500 } }, undefined, { timeout: 10_000 }));
      await new Promise((res) => setTimeout(res, 200));
      const second = settle(r.client.callTool({ name: 'hang', arguments: { ms: 1500 } }, undefined, { timeout: 10_000 }));
      const quick = settle(r.client.callTool({ name: 'hang', arguments: { ms: 50 } }, undefined, { timeout: 10_000 }));
      const [a, b, q] = await Promise.all([first, second, quick]);
      assert.equal(q.ok, true);
      assert.match(JSON.stringify(q.v), /slept 50/);
      for (const x of [a, b]) {
        assert.equal(x.ok, false);
        assert.match(String(x.v), /did not answer tools\/call within 0.4 s/);
      }
      // Each at its own deadline, never before it: the second (sent 200 ms later) not with the first.
      // Only lower bounds: on a loaded machine a late timer may answer both in the same turn, which
      // is right once both deadlines have passed (a gap between them would assert the scheduler).
      assert.ok(a.at >= 390, `first answered at ${a.at}`);
      assert.ok(b.at >= 590, `second answered at ${b.at}`);
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
