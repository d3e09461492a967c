// The exported BudgetStore conformance suite (`rein/testing`) against RedisBudgetStore on a real
// redis-server (single node) and a real Redis Cluster (3 primaries), both on free loopback ports.
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { budgetStoreConformance } from '../../language/testing/index.js';
import { useRedis } from './redis-server.js';
import { useCluster } from './redis-cluster.js';

const GRACE = 60 * 60 * 1000;
const capabilities = { releaseBeforeReserve: true, consumeOnce: true, settleGraceMs: GRACE, rolling: true, bucket: true, anchored: true };

describe('RedisBudgetStore, single node (real redis-server)', function () {
  this.timeout(30_000);
  const redis = useRedis();
  let store: RedisBudgetStore | undefined;
  before(async () => {
    store = new RedisBudgetStore({ url: redis.url, prefix: 'conf:', settleGraceMs: GRACE });
    await store.ready();
  });
  after(async () => store?.close());
  budgetStoreConformance({ describe, it }, { store: () => store!, capabilities });
});

describe('RedisBudgetStore, Redis Cluster (real 3 primaries)', function () {
  this.timeout(60_000);
  const cluster = useCluster({ masters: 3, replicas: 0 });
  let store: RedisBudgetStore | undefined;
  before(async () => {
    store = new RedisBudgetStore({ nodes: cluster.seeds, prefix: 'conf:', settleGraceMs: GRACE });
    await store.ready(10_000);
  });
  after(async () => store?.close());
  budgetStoreConformance({ describe, it }, { store: () => store!, capabilities });
});
