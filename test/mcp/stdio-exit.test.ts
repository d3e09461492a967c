// `rein mcp` (stdio)'s exit code (docs/cli.md, `rein mcp --help`): 0 when the client disconnects —
// Rein then stops the upstream itself, which is no failure — and 1 when the upstream exits on its own.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { EVERYTHING, FIXTURES, ROOT, env } from './helpers.js';

const REIN = path.join(ROOT, 'bin/rein.js');
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });

/** Runs `rein mcp` with `upstream`, writes the initialize request, and (with `closeAfterAnswer`)
 *  ends stdin once it is answered. Resolves with the exit code and stderr; bounded. */
function run(upstream: string[], closeAfterAnswer: boolean, before = ''): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REIN, 'mcp', '--policy', path.join(FIXTURES, 'everything'), '--', ...upstream], { env: env(), cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rein mcp did not exit; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (closeAfterAnswer && /"id":1/.test(stdout)) child.stdin.end();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
    child.stdin.write(before + INIT + '\n');
  });
}

describe('rein mcp (stdio): exit code', function () {
  this.timeout(60_000);

  it('the client disconnecting (EOF on stdin) is a clean exit 0, without an "upstream exited/killed" line (regression)', async () => {
    const r = await run([process.execPath, EVERYTHING, 'stdio'], true);
    assert.match(r.stdout, /"id":1,.*"result"|"result".*"id":1/);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /upstream server (exited|was killed)/);
  });

  it('a line from the client that is not JSON is answered with a JSON-RPC -32700 parse error; the session goes on (regression)', async () => {
    const r = await run([process.execPath, EVERYTHING, 'stdio'], true, 'this is not json\n');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the line is not JSON' } });
    assert.ok(lines.some((m) => m.id === 1 && m.result), r.stdout);
    assert.equal(r.code, 0, r.stderr);
  });

  it('the upstream exiting on its own is exit 1, with the reason', async () => {
    const r = await run([process.execPath, '-e', 'setTimeout(() => process.exit(3), 300)'], false);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /upstream server exited with code 3/);
  });
});
