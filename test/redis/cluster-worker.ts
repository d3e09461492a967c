// A worker process for the cluster test: N concurrent decides over several teams (ceilings on
// different slots) against one Redis Cluster, then settles every allowed decision. Prints counts.
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { FLEET_POLICY, NOON } from './ceiling-policy.js';

import { createHook } from 'node:async_hooks';
// REIN_DEBUG_TIMERS=1: should the worker not exit after printing, say which timers hold it (stderr).
const live = new Map<number, string>();
if (process.env.REIN_DEBUG_TIMERS) {
  createHook({
    init(id, type) {
      if (type === 'Timeout') live.set(id, new Error().stack!.split('\n').slice(2, 12).join(' <- '));
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
}
const nodes = JSON.parse(process.env.REIN_CLUSTER_NODES!) as { host: string; port: number }[];
const teams = JSON.parse(process.env.REIN_TEAMS!) as string[];
const n = Number(process.env.REIN_DECIDES ?? 1000);
const prefix = process.env.REIN_PREFIX ?? 'rein:';

const store = new RedisBudgetStore({ nodes, prefix, timeoutMs: 10_000 });
await store.ready(10_000);
const engine = new Engine(compile(FLEET_POLICY), { store, clock: () => NOON });
const decisions = await Promise.all(Array.from({ length: n }, (_, i) => engine.decide({ team: teams[i % teams.length], cost: '0.01' })));
const allowed: Record<string, number> = {};
for (const t of teams) allowed[t] = 0;
decisions.forEach((d, i) => {
  if (d.effect === 'allow') allowed[teams[i % teams.length]]++;
});
const errors = decisions.filter((d) => d.errors.length > 0).map((d) => d.errors[0].message);
await Promise.all(decisions.filter((d) => d.effect === 'allow').map((d) => engine.settle(d, { cost: '0.01' })));
await store.close();
process.stdout.write(JSON.stringify({ allowed, errors: errors.length, firstError: errors[0] ?? null }) + '\n');
setTimeout(() => {
  process.stderr.write(`HUNG: ${process.getActiveResourcesInfo().join(',')}\n${[...live.values()].slice(-5).join('\n\n')}\n`);
}, 5000).unref();
