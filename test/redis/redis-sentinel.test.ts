// RedisBudgetStore through Redis Sentinel (ioredis's sentinel support) against real processes: a
// primary, a replica and 3 sentinels (redis-server --sentinel) on free loopback ports. The primary is
// killed mid-run: decisions fail closed, then recover once the sentinels promote the replica. What a
// failover loses (acknowledged spend the replica had not received), and that `waitReplicas: 1` loses none.
import { strict as assert } from 'node:assert';
import { Redis } from 'ioredis';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import type { Decision } from '../../language/runtime/decision.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { CEILING_POLICY, NOON } from './ceiling-policy.js';
import { requireRedis } from './redis-server.js';
import { startSentinelGroup, type SentinelGroup } from './redis-sentinel.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  group: SentinelGroup;
  store: RedisBudgetStore;
  engine: Engine;
}

/** `timeoutMs` bounds each store call; with `waitReplicas`, WAIT gets half of it. A loaded host (CI
 *  beside other work) can take a few hundred ms to replicate: session 7's CI saw a healthy WAIT time out
 *  at 250 ms, so the `waitReplicas` test gives it 1 s. */
async function setUp(waitReplicas: number, timeoutMs = 500): Promise<Run> {
  const group = await startSentinelGroup({ sentinels: 3, quorum: 2, downAfterMs: 1000 });
  const store = new RedisBudgetStore({ sentinels: group.sentinels, name: group.name, prefix: 'sen:', timeoutMs, waitReplicas });
  await store.ready(10_000);
  const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON });
  return { group, store, engine };
}

/** Decide and, when allowed, settle $0.01; true when both were acknowledged. */
async function spendCent({ engine }: Run): Promise<{ d: Decision; acked: boolean }> {
  const d = await engine.decide({ team: 'support', cost: '0.01' });
  if (d.effect !== 'allow') return { d, acked: false };
  try {
    await engine.settle(d, { cost: '0.01' });
    return { d, acked: true };
  } catch {
    return { d, acked: false };
  }
}

/** The team's spent and reserved, read from the current primary (through the store). */
async function ceiling({ engine }: Run): Promise<{ spent: string; reserved: string; errors: number }> {
  const d = await engine.decide({ team: 'support', cost: '0' });
  const b = d.budgets.find((x) => x.name === 'team_ceiling');
  return { spent: String(b?.spent), reserved: String(b?.reserved), errors: d.errors.length };
}

/** Cuts replication: the replica is frozen (so it cannot reconnect) and the primary drops its link, so
 *  what the primary acknowledges from now on exists only there. Every earlier write reached the replica. */
async function cutReplica(group: SentinelGroup): Promise<void> {
  const r = new Redis({ host: '127.0.0.1', port: group.primary.port });
  try {
    assert.equal(await r.wait(1, 5000), 1);
    group.replica.signal('SIGSTOP');
    await r.client('KILL', 'TYPE', 'replica');
  } finally {
    r.disconnect();
  }
}

/** Kills the primary, resumes the replica, and waits (bounded) until a decision through `probe` succeeds
 *  again; returns the decisions that failed meanwhile. */
async function failOver(run: Run, probe: Engine = run.engine): Promise<{ outage: Decision[]; recoveredMs: number }> {
  const killedAt = Date.now();
  run.group.primary.signal('SIGKILL');
  run.group.replica.signal('SIGCONT');
  const outage: Decision[] = [];
  for (;;) {
    assert.ok(Date.now() - killedAt < 45_000, `no recovery within 45 s (${outage.length} decisions failed meanwhile)`);
    const d = await probe.decide({ team: 'support', cost: '0' });
    if (d.errors.length === 0) return { outage, recoveredMs: Date.now() - killedAt };
    outage.push(d);
    await sleep(50);
  }
}

describe('RedisBudgetStore through Redis Sentinel (real primary, replica and 3 sentinels)', function () {
  this.timeout(120_000);
  let run: Run | undefined;
  before(function () {
    requireRedis(this);
  });
  afterEach(async () => {
    await run?.store.close();
    await run?.group.destroy();
    run = undefined;
  });

  it('primary killed: decisions fail closed, then recover on the promoted replica; spend the replica had not received is lost', async () => {
    run = await setUp(0);
    for (let i = 0; i < 100; i++) assert.equal((await spendCent(run)).acked, true, `decision ${i} before the failover`);
    await cutReplica(run.group);
    let ackedDuringFreeze = 0;
    for (let i = 0; i < 50; i++) if ((await spendCent(run)).acked) ackedDuringFreeze++;
    assert.equal(ackedDuringFreeze, 50, 'without waitReplicas the primary acknowledges without its replica');
    assert.deepEqual(await ceiling(run), { spent: '1.500000', reserved: '0.000000', errors: 0 });
    const { outage, recoveredMs } = await failOver(run);
    // fail closed while no primary answers: every decision meanwhile is a deny with a store error
    assert.ok(outage.length > 0, 'decisions were made during the outage');
    assert.ok(outage.every((d) => d.effect === 'deny' && d.errors.some((e) => /store|redis/i.test(e.message))), JSON.stringify(outage[0]));
    assert.equal(await run.group.currentPrimaryPort(), run.group.replica.port, 'the sentinels promoted the replica');
    // the 50 cents acknowledged during the freeze are gone: the ceiling allows them again
    assert.deepEqual(await ceiling(run), { spent: '1.000000', reserved: '0.000000', errors: 0 });
    assert.equal((await spendCent(run)).acked, true, 'decisions go on after the failover');
    console.log(`      failover: ${outage.length} decisions failed closed, recovered ${recoveredMs} ms after the kill; lost $0.50 of acknowledged spend`);
  });

  it('waitReplicas: 1 — with the replica cut off, decisions fail closed instead; after the failover no acknowledged spend is lost', async () => {
    run = await setUp(1, 2000);
    for (let i = 0; i < 100; i++) assert.equal((await spendCent(run)).acked, true, `decision ${i} before the failover`);
    await cutReplica(run.group);
    // Few decisions: each waits out WAIT (1 s), and a replica cut off for more than 10 × down-after
    // (10 s here) is no longer eligible for promotion, so the failover below would never come.
    const frozen: Decision[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await spendCent(run);
      assert.equal(r.acked, false, 'nothing is acknowledged without a replica');
      frozen.push(r.d);
    }
    assert.ok(frozen.every((d) => d.effect === 'deny'), 'every decision without a replica acknowledgement is denied (fail closed)');
    // The promoted replica has no replica of its own, so with waitReplicas every write fails there: read
    // through a second store without it.
    const reader = new RedisBudgetStore({ sentinels: run.group.sentinels, name: run.group.name, prefix: 'sen:', timeoutMs: 500 });
    try {
      await reader.ready(10_000);
      const readRun = { ...run, store: reader, engine: new Engine(compile(CEILING_POLICY), { store: reader, clock: () => NOON }) };
      const { recoveredMs } = await failOver(run, readRun.engine);
      assert.equal(await run.group.currentPrimaryPort(), run.group.replica.port, 'the sentinels promoted the replica');
      // exactly what was acknowledged: $1.00; the denied decisions left nothing either
      assert.deepEqual(await ceiling(readRun), { spent: '1.000000', reserved: '0.000000', errors: 0 });
      const d = await run.engine.decide({ team: 'support', cost: '0.01' });
      assert.equal(d.effect, 'deny', 'no replica behind the new primary: waitReplicas keeps failing closed');
      console.log(`      waitReplicas 1: 4 decisions denied while the replica was cut off; recovered ${recoveredMs} ms after the kill; lost $0.00`);
    } finally {
      await reader.close();
    }
  });
});
