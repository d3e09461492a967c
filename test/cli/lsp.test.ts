import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, FIXTURES } from './helpers.js';

function frame(msg: unknown): string {
  const body = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`;
}

describe('rein lsp', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('speaks LSP over stdio: initialize answers with capabilities; shutdown + exit ends the process with 0', async () => {
    const child = spawn(process.execPath, [BIN, 'lsp', '--stdio'], { cwd: FIXTURES });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 1200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      return re.test(out);
    };
    child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
    assert.ok(await waitFor(/"id":1,"result"/), `no initialize result: ${out.slice(0, 500)}`);
    const body = out.slice(out.indexOf('{'));
    const msg = JSON.parse(body.slice(0, Number(/Content-Length: (\d+)/.exec(out)![1])));
    assert.equal(msg.id, 1);
    assert.ok(msg.result.capabilities, 'has capabilities');
    child.stdin.write(frame({ jsonrpc: '2.0', method: 'initialized', params: {} }));
    child.stdin.write(frame({ jsonrpc: '2.0', id: 2, method: 'shutdown' }));
    assert.ok(await waitFor(/"id":2,"result":null/), 'shutdown answered');
    child.stdin.write(frame({ jsonrpc: '2.0', method: 'exit' }));
    assert.equal(await exited, 0);
  });
});
