// A worker for the cluster test: a store whose slot map refreshes every 5 ms (so a refresh is often
// under way), used a little, then closed. The process must then exit by itself.
import { RedisBudgetStore } from '../../language/node/redis-store.js';

const nodes = JSON.parse(process.env.REIN_CLUSTER_NODES!) as { host: string; port: number }[];
const store = new RedisBudgetStore({ nodes, prefix: 'close:', clusterOptions: { slotsRefreshInterval: 5 } });
await store.ready(10_000);
for (let i = 0; i < 20; i++) {
  await store.peek([`k${i}`], Date.now());
  await new Promise((r) => setTimeout(r, 3));
}
await store.close();
process.stdout.write(JSON.stringify({ closed: true }) + '\n');
