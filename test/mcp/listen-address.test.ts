// `rein mcp --listen` on an address other than loopback (regression, session 9 review R7): it served
// the upstream's tools to the network with no token, and printed 127.0.0.1 for a wildcard address.
// Now, as `rein serve` does, it refuses such an address without REIN_MCP_TOKEN (exit 2), and says
// what it bound.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { BIN, FIXTURES, env, freePort, start, waitFor } from './helpers.js';
import { preflight as corsPreflight } from '../helpers/preflight.js';

describe('rein mcp --listen: a non-loopback address needs REIN_MCP_TOKEN (regression)', function () {
  this.timeout(60_000);

  it('0.0.0.0 without REIN_MCP_TOKEN: refused, exit 2, nothing listens', async () => {
    const port = await freePort();
    const g = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `0.0.0.0:${port}`, '--upstream', `http://127.0.0.1:${await freePort()}/mcp`], { env: env() });
    try {
      await waitFor(() => g.child.exitCode !== null, 'rein mcp to exit', 30_000);
      assert.equal(g.child.exitCode, 2, g.out());
      assert.match(g.out(), /refusing to listen on 0\.0\.0\.0 \(not loopback\) without REIN_MCP_TOKEN/);
    } finally {
      await g.kill();
    }
  });

  it('0.0.0.0 with REIN_MCP_TOKEN: listens, says it bound every interface and that the token is required', async () => {
    const port = await freePort();
    const g = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `0.0.0.0:${port}`, '--upstream', `http://127.0.0.1:${await freePort()}/mcp`], {
      env: env({ REIN_MCP_TOKEN: 'a-long-enough-token-for-the-test' }),
    });
    try {
      await waitFor(() => /listening at/.test(g.out()) || g.child.exitCode !== null, 'the gateway', 60_000);
      assert.match(g.out(), new RegExp(`listening at http://0\\.0\\.0\\.0:${port}/mcp, .*\\(X-Rein-Token required\\)`));
      const res = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401);
    } finally {
      await g.kill();
    }
  });
});

// MCP (Transports, Security Warning): servers MUST validate Origin, and answer 403 when it is present
// and invalid (regression, review h11r R13: a page's `Origin: http://evil.example` and a DNS-rebinding
// Host were served the whole session).
describe('rein mcp --listen validates Origin and the Host of loopback connections (regression)', function () {
  this.timeout(60_000);
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });

  it('403 for a foreign Origin and a rebinding Host; an allowed origin and plain clients get through to the session', async () => {
    const { request } = await import('node:http');
    const port = await freePort();
    const g = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${await freePort()}/mcp`, '--allow-origin', 'http://localhost:6274'], { env: env() });
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(init), ...headers } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end(init);
      });
    try {
      await waitFor(() => /listening at/.test(g.out()) || g.child.exitCode !== null, 'the gateway', 60_000);
      const evil = await post({ origin: 'http://evil.example' });
      assert.equal(evil.status, 403, evil.body);
      assert.match(JSON.parse(evil.body).error.message, /cross-origin request from `http:\/\/evil\.example` refused/);
      const rebinding = await post({ host: `evil.example:${port}` });
      assert.equal(rebinding.status, 403, rebinding.body);
      assert.match(JSON.parse(rebinding.body).error.message, /not a loopback name/);
      // Past the guard (the upstream is not running here, so the session itself fails later): not 403.
      for (const h of [{}, { origin: 'http://localhost:6274' }, { origin: `http://127.0.0.1:${port}` }] as Record<string, string>[]) {
        const ok = await post(h);
        assert.notEqual(ok.status, 403, `${JSON.stringify(h)}: ${ok.body}`);
      }
      // CORS for the allowed origin (review h13r1 S14): its preflight is answered, its answers readable
      const preflight = await corsPreflight(port, '/mcp', 'http://localhost:6274', 'content-type,mcp-session-id');
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'http://localhost:6274');
      assert.match(String(preflight.headers['access-control-allow-headers']), /mcp-session-id/);
      assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    } finally {
      await g.kill();
    }
  });

  it('--allow-origin without --listen, or not an origin, is a usage error', async () => {
    const a = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--allow-origin', 'http://x.example', '--', process.execPath, '-e', '0'], { env: env() });
    try {
      await waitFor(() => a.child.exitCode !== null, 'rein mcp to exit', 30_000);
      assert.equal(a.child.exitCode, 2, a.out());
      assert.match(a.out(), /--allow-origin is for the remote gateway \(--listen\)/);
    } finally {
      await a.kill();
    }
    const port = await freePort();
    const b = start(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${port}/mcp`, '--allow-origin', 'http://x.example/path'], { env: env() });
    try {
      await waitFor(() => b.child.exitCode !== null, 'rein mcp to exit', 30_000);
      assert.equal(b.child.exitCode, 2, b.out());
      assert.match(b.out(), /not an origin: write the scheme, host and port only/);
    } finally {
      await b.kill();
    }
  });
});
