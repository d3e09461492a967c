// `rein mcp --externs` with an asynchronous host function and the default (memory, synchronous) store,
// against the real server-everything. The gateway used to decide synchronously whenever the store was
// synchronous, so every asynchronous extern failed ("returned a Promise") — and with `on error allow`
// its check was silently skipped (review finding, session 7).
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { connect, EVERYTHING, FIXTURES, type Connected } from './helpers.js';

const text = (r: unknown) => ((r as { content?: { type: string; text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('\n');

describe('rein mcp --externs: an asynchronous extern with the memory store (server-everything)', function () {
  this.timeout(90_000);
  let gw: Connected | undefined;
  before(async () => {
    const dir = path.join(FIXTURES, 'async-externs');
    gw = await connect(['--policy', dir, '--externs', path.join(dir, 'externs.mjs')], [EVERYTHING, 'stdio']);
    await gw.client.listTools();
  });
  after(async () => {
    await gw?.close();
  });

  it('awaits it: a clean call goes through, a flagged one is denied by the rule (not by an error)', async () => {
    const ok = await gw!.client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.notEqual(ok.isError, true, text(ok) + '\n' + gw!.stderr().slice(-600));
    assert.match(text(ok), /hello/);
    const bad = await gw!.client.callTool({ name: 'echo', arguments: { message: 'a bad one' } });
    assert.equal(bad.isError, true);
    assert.match(text(bad), /flagged/);
    assert.doesNotMatch(text(bad), /Promise|failed/);
  });
});
