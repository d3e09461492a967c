// Two gateway processes share one Redis: a $1 ceiling at $0.10 a call lets exactly 10 calls reach
// the upstream (the real filesystem server), however the calls are spread over the two.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import * as path from 'node:path';
import { startRedis, requireRedis, type RedisProcess } from '../redis/redis-server.js';
import { BIN, connect, env, FIXTURES, FS_SERVER, tempDir, verifyAudit, type Connected } from './helpers.js';

describe('rein mcp --redis: one ceiling across gateway processes', function () {
  this.timeout(90_000);
  let redis: RedisProcess | undefined;
  let tmp: ReturnType<typeof tempDir>;
  const gws: Connected[] = [];

  before(async function () {
    requireRedis(this);
    redis = await startRedis();
    tmp = tempDir();
  });
  after(async () => {
    for (const g of gws) await g.close();
    await redis?.destroy();
    tmp?.cleanup();
  });

  it('exactly 10 of 20 concurrent calls through two gateways reach the upstream', async () => {
    const work = path.join(tmp.dir, 'work');
    mkdirSync(work);
    for (const i of [1, 2]) {
      gws.push(
        await connect(['--policy', path.join(FIXTURES, 'budget'), '--redis', redis!.url, '--audit', path.join(tmp.dir, `audit-${i}.jsonl`)], [FS_SERVER, work], {
          name: `client-${i}`,
        }),
      );
    }
    const calls = Array.from({ length: 20 }, (_, i) =>
      gws[i % 2].client.callTool({ name: 'create_directory', arguments: { path: path.join(work, `d${String(i).padStart(2, '0')}`) } }),
    );
    const results = await Promise.all(calls);
    const allowed = results.filter((r) => r.isError !== true);
    const refused = results.filter((r) => r.isError === true);
    assert.equal(allowed.length, 10);
    assert.equal(refused.length, 10);
    for (const r of refused) assert.match(JSON.stringify(r.content), /the \$1 ceiling is spent/);
    // What reached the upstream: the directories it created.
    assert.equal(readdirSync(work).length, 10);
    // Both gateways served some of the allowed calls.
    for (const g of gws) await g.close();
    for (const i of [1, 2]) assert.ok(verifyAudit(path.join(tmp.dir, `audit-${i}.jsonl`)) > 0);
  });

  it('--redis-prefix: gateways of two policy sets on one Redis each have their own $1 (review h13r1 S1)', async () => {
    const work = path.join(tmp.dir, 'work-prefix');
    mkdirSync(work);
    const [a, b] = [
      await connect(['--policy', path.join(FIXTURES, 'budget'), '--redis', redis!.url, '--redis-prefix', 'rein:mcp-a:'], [FS_SERVER, work], { name: 'client-a' }),
      await connect(['--policy', path.join(FIXTURES, 'budget'), '--redis', redis!.url, '--redis-prefix', 'rein:mcp-b:'], [FS_SERVER, work], { name: 'client-b' }),
    ];
    gws.push(a, b);
    const mk = (g: Connected, name: string) => g.client.callTool({ name: 'create_directory', arguments: { path: path.join(work, name) } });
    const results = [];
    for (let i = 0; i < 11; i++) results.push(await mk(a, `a${i}`));
    assert.deepEqual(results.map((r) => r.isError === true), [...Array(10).fill(false), true], 'gateway A: ten calls at $0.10 fill its $1');
    // B's ceiling of the same name is its own: untouched by A's $1
    const first = await mk(b, 'b0');
    assert.notEqual(first.isError, true, JSON.stringify(first.content));
    const client = new Redis(redis!.url, { maxRetriesPerRequest: 1 });
    try {
      assert.ok((await client.keys('rein:mcp-a:*')).length > 0);
      assert.ok((await client.keys('rein:mcp-b:*')).length > 0);
    } finally {
      client.disconnect();
    }
  });

  it('a Redis that cannot serve decisions (a read-only replica) is refused at start, exit 2 (review h13r1 S7)', async () => {
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(redis!.port)] });
    try {
      const r = await promisify(execFile)(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'budget'), '--redis', replica.url, '--', process.execPath, '-e', '0'], { env: env(), timeout: 30_000 }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /rein mcp: cannot use Redis at redis:\/\/127\.0\.0\.1:\d+: READONLY/);
    } finally {
      await replica.destroy();
    }
  });

  it('--redis-prefix without --redis is a usage error', async () => {
    const r = await promisify(execFile)(process.execPath, [BIN, 'mcp', '--policy', path.join(FIXTURES, 'budget'), '--redis-prefix', 'rein:x:', '--', process.execPath, '-e', '0'], { env: env() }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--redis-prefix needs --redis URL/);
  });
});
