// The stdio gateway's framing (LineTransport): newline-delimited JSON-RPC read from any chunking,
// broken lines reported and skipped, and messages forwarded unchanged written out byte for byte.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LineTransport } from '../../language/node/mcp/stdio.js';

function rig(maxLine?: number, answersPeer?: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  const t = new LineTransport(input, output, 'client', maxLine, answersPeer);
  const got: JSONRPCMessage[] = [];
  const errors: string[] = [];
  t.onmessage = (m) => got.push(m);
  t.onerror = (e) => errors.push(e.message);
  let written = '';
  output.on('data', (d: Buffer) => (written += d.toString('utf8')));
  return { t, input, got, errors, written: () => written };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LineTransport (stdio framing)', () => {
  it('reads the same messages whatever the chunking, multi-byte characters split across chunks included', async () => {
    const text = [
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'héllo wörld — ✓ 𝄞' } } }),
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: 1 } }),
      JSON.stringify({ jsonrpc: '2.0', id: 'x', result: { content: [{ type: 'text', text: 'x'.repeat(70_000) }] } }),
    ].join('\n') + '\n';
    const bytes = Buffer.from(text, 'utf8');
    for (const size of [1, 2, 3, 7, 64, 65_536, bytes.length]) {
      const r = rig();
      await r.t.start();
      for (let i = 0; i < bytes.length; i += size) r.input.write(bytes.subarray(i, i + size));
      await tick();
      assert.deepEqual(r.got, text.trim().split('\n').map((l) => JSON.parse(l)), `chunks of ${size} bytes`);
      assert.deepEqual(r.errors, []);
    }
  });

  it('CRLF endings and blank lines are fine; a line that is not JSON, or not an object, is reported and skipped', async () => {
    const r = rig();
    await r.t.start();
    r.input.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n\n  \r\nnot json\n[1,2]\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    await tick();
    assert.deepEqual(r.got.map((m) => (m as { id: number }).id), [1, 2]);
    assert.equal(r.errors.length, 2);
    assert.match(r.errors[0], /client sent a line that is not JSON: not json/);
    assert.match(r.errors[1], /not a JSON-RPC message: \[1,2\]/);
    assert.equal(r.written(), '', 'toward a server (the default) nothing is answered');
  });

  it('facing a client, a line that is not JSON gets -32700 and one that is not an object -32600 (id null), and reading goes on', async () => {
    const r = rig(undefined, true);
    await r.t.start();
    r.input.write('not json\n[1,2]\n"x"\n{"jsonrpc":"2.0","id":3,"method":"ping"}\n');
    await tick();
    assert.deepEqual(r.got.map((m) => (m as { id: number }).id), [3]);
    const answers = r.written().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(answers.map((a) => [a.jsonrpc, a.id, a.error.code]), [['2.0', null, -32700], ['2.0', null, -32600], ['2.0', null, -32600]]);
    assert.equal(r.errors.length, 3);
  });

  it('a line over the limit is dropped and reported once; the next line is read', async () => {
    const r = rig(1000);
    await r.t.start();
    r.input.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
    for (let i = 0; i < 10; i++) r.input.write('y'.repeat(500));
    r.input.write('"}}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    await tick();
    assert.deepEqual(r.got.map((m) => (m as { id: number }).id), [2]);
    assert.deepEqual(r.errors, ['client sent a message over 1000 bytes; dropped']);
  });

  it('a message forwarded unchanged is written exactly as it was read; a new one is serialised', async () => {
    const from = rig();
    const to = rig();
    await from.t.start();
    // Key order, spacing, a float written as 1.0 and escaped characters: JSON.stringify would change each.
    const line = '{"id": 7, "jsonrpc":"2.0", "result": {"n": 1.0, "s": "\\u00e9\\/"}}';
    from.input.write(line + '\n');
    await tick();
    assert.equal(from.got.length, 1);
    await to.t.send(from.got[0]);
    await to.t.send({ ...(from.got[0] as object), id: 8 } as JSONRPCMessage);
    assert.equal(to.written(), `${line}\n{"id":8,"jsonrpc":"2.0","result":{"n":1,"s":"é/"}}\n`);
  });

  it('a line that arrived in pieces, or with a CRLF ending, is forwarded byte for byte too (sendNow, no promise)', async () => {
    const from = rig();
    const to = rig();
    await from.t.start();
    const big = '{"jsonrpc":"2.0", "id":"a", "result":{"text":"' + 'ü'.repeat(50_000) + '"}}';
    const bytes = Buffer.from(big + '\n', 'utf8');
    // Split inside a multi-byte character, in three pieces.
    from.input.write(bytes.subarray(0, 1001));
    from.input.write(bytes.subarray(1001, 70_001));
    from.input.write(bytes.subarray(70_001));
    from.input.write('{"jsonrpc":"2.0",  "method":"notifications/x"}\r\n');
    await tick();
    assert.equal(from.got.length, 2);
    for (const m of from.got) to.t.sendNow(m);
    await tick();
    assert.equal(to.written(), `${big}\n{"jsonrpc":"2.0",  "method":"notifications/x"}\r\n`);
  });
});
