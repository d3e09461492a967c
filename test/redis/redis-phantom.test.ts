// No phantom spend: a reserve whose reply comes too late (Redis frozen) or never (Redis killed) must
// not leave a reservation that no client holds. Real redis-server processes, started by the test.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import type { Decision } from '../../language/runtime/decision.js';
import { NOON } from './ceiling-policy.js';
import { requireRedis, startRedis, type RedisProcess } from './redis-server.js';

// A ceiling large enough that every reserve fits: whatever Redis holds beyond what clients hold is phantom.
const POLICY = {
  'fleet.rein': `policy fleet {
  version "1.0.0"
  default allow
  on error deny
}
input {
  team: string
  cost: money
}
budget team_ceiling {
  limit $100000 per day
  charge cost
  by team
}
`,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Decides in `concurrency` loops until `stop()`; keeps every allowed decision (held, never settled). */
function load(engine: Engine, concurrency: number) {
  const held: Decision[] = [];
  let failed = 0;
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    for (let i = 0; running && i < 1_000_000; i++) {
      const d = await engine.decide({ team: 'fleet', cost: '0.01' });
      if (d.effect === 'allow') held.push(d);
      else failed++;
      if (d.effect !== 'allow') await sleep(5); // a failing store answers at once: do not spin
    }
  });
  return {
    held,
    failed: () => failed,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** What Redis holds for the counter: the reserved amount (micros) and the number of live reservations. */
async function stored(url: string, prefix: string): Promise<{ reserved: number; reservations: number }> {
  const { Redis } = await import('ioredis');
  const c = new Redis(url);
  try {
    const keys = await c.keys(`${prefix}*`);
    let reserved = 0;
    let reservations = 0;
    for (const k of keys) {
      if (k.endsWith('}c')) reserved += Number((await c.hget(k, 'reserved')) ?? 0);
      // pending reservations: the members of p (the member '~' at +inf only keeps the key)
      if (k.endsWith('}p')) reservations += await c.zcount(k, '-inf', '(+inf');
    }
    return { reserved, reservations };
  } finally {
    c.disconnect();
  }
}

/** Settles, retrying a settle that timed out (200 ms: a loaded host can stall one call that long; a
 *  settle that timed out is retryable, and settle by id is idempotent). */
async function settleRetrying(engine: Engine, d: Decision): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await engine.settle(d, { cost: '0.01' });
    } catch (e) {
      if (i >= 4 || !/did not answer|timed out/.test(String(e))) throw e;
    }
  }
}

describe('No phantom spend after timeouts and lost replies (real redis-server)', function () {
  this.timeout(60_000);
  const servers: RedisProcess[] = [];
  const stores: RedisBudgetStore[] = [];
  before(function () {
    requireRedis(this);
  });
  after(async () => {
    for (const s of stores) await s.close();
    for (const r of servers) await r.destroy();
  });

  it('Redis frozen (SIGSTOP) 3 s under load, then resumed: Redis holds exactly what clients hold', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const prefix = 'stop:';
    const store = new RedisBudgetStore({ url: redis.url, prefix, timeoutMs: 200 });
    stores.push(store);
    await store.ready();
    const engine = new Engine(compile(POLICY), { store, clock: () => NOON });
    const run = load(engine, 40);
    await sleep(300);
    redis.signal('SIGSTOP');
    await sleep(3000);
    redis.signal('SIGCONT');
    await sleep(500);
    await run.stop();
    await store.flushReleases(10_000);
    const s = await stored(redis.url, prefix);
    assert.ok(run.failed() >= 40, `reserves timed out while Redis was frozen (failed: ${run.failed()})`);
    assert.ok(run.held.length > 0, 'decisions were allowed before and after the freeze');
    assert.equal(s.reservations, run.held.length, `0 phantom reservations (held ${run.held.length}, stored ${s.reservations})`);
    assert.equal(s.reserved, run.held.length * 10_000, 'the stored reserved amount equals what clients hold');
    // every held reservation settles
    for (const d of run.held) await settleRetrying(engine, d);
    assert.deepEqual(await stored(redis.url, prefix), { reserved: 0, reservations: 0 });
  });

  it('Redis killed (-9) mid-call with appendfsync always and restarted from its AOF: no phantom reservations', async () => {
    const redis = await startRedis({ appendonly: true });
    servers.push(redis);
    const prefix = 'kill:';
    const store = new RedisBudgetStore({ url: redis.url, prefix, timeoutMs: 300 });
    stores.push(store);
    await store.ready();
    const engine = new Engine(compile(POLICY), { store, clock: () => NOON });
    const run = load(engine, 40);
    await sleep(400);
    redis.signal('SIGKILL');
    await sleep(300);
    await redis.start();
    await store.ready(5000);
    await sleep(300);
    await run.stop();
    await store.flushReleases(10_000);
    const s = await stored(redis.url, prefix);
    assert.ok(run.failed() > 0, 'some decisions failed while Redis was down');
    assert.equal(s.reservations, run.held.length, `0 phantom reservations (held ${run.held.length}, stored ${s.reservations})`);
    assert.equal(s.reserved, run.held.length * 10_000);
  });
});
