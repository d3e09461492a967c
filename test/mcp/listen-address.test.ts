// `rein mcp --listen` on an address other than loopback (regression, session 9 review R7): it served
// the upstream's tools to the network with no token, and printed 127.0.0.1 for a wildcard address.
// Now, as `rein serve` does, it refuses such an address without REIN_MCP_TOKEN (exit 2), and says
// what it bound.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { BIN, FIXTURES, env, freePort, start, waitFor } from './helpers.js';

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
