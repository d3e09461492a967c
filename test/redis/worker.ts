// A worker process for the multi-process ceiling test: N concurrent decides against one Redis,
// then settles every allowed decision with its actual cost. Prints one JSON line of counts.
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { CEILING_POLICY, NOON } from './ceiling-policy.js';

const url = process.env.REIN_REDIS_URL!;
const n = Number(process.env.REIN_DECIDES ?? 1000);
const prefix = process.env.REIN_PREFIX ?? 'rein:';

const store = new RedisBudgetStore({ url, prefix, timeoutMs: 10_000 });
await store.ready();
const engine = new Engine(compile(CEILING_POLICY), { store, clock: () => NOON, storeTimeoutMs: 20_000 });
const decisions = await Promise.all(Array.from({ length: n }, () => engine.decide({ team: 'support', cost: '0.01' })));
const allowed = decisions.filter((d) => d.effect === 'allow');
const errors = decisions.filter((d) => d.errors.length > 0).length;
await Promise.all(allowed.map((d) => engine.settle(d, { cost: '0.01' })));
await store.close();
process.stdout.write(JSON.stringify({ allowed: allowed.length, denied: n - allowed.length, errors }) + '\n');
