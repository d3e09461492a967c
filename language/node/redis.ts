// Entry point `rein/redis` (Node only): the shared budget store.
export { RedisBudgetStore } from './redis-store.js';
export type { RedisBudgetStoreOptions } from './redis-store.js';
