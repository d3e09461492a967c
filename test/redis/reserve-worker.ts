// A worker process that only reserves (store level), prints the outcome and exits: the reservations
// it made are then settled or released by another process (test/redis/settle-anywhere.test.ts).
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import type { ReserveRequest } from '../../language/runtime/store.js';

const nodes = process.env.REIN_CLUSTER_NODES ? (JSON.parse(process.env.REIN_CLUSTER_NODES) as { host: string; port: number }[]) : undefined;
const store = new RedisBudgetStore({ url: process.env.REIN_REDIS_URL, nodes, prefix: process.env.REIN_PREFIX, timeoutMs: 10_000 });
await store.ready(10_000);
const requests = JSON.parse(process.env.REIN_REQUESTS!) as ReserveRequest[];
const outcomes = await Promise.all(
  requests.map((r) =>
    store.reserve(r).then(
      (res) => (res.committed ? 'committed' : 'refused'),
      (e: Error) => `rejected: ${e.message}`,
    ),
  ),
);
await store.close();
process.stdout.write(JSON.stringify(outcomes) + '\n');
