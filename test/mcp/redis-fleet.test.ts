// Two gateway processes share one Redis: a $1 ceiling at $0.10 a call lets exactly 10 calls reach
// the upstream (the real filesystem server), however the calls are spread over the two.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { startRedis, requireRedis, type RedisProcess } from '../redis/redis-server.js';
import { connect, FIXTURES, FS_SERVER, tempDir, verifyAudit, type Connected } from './helpers.js';

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
});
