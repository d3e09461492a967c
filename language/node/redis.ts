// Entry point `rein/redis` (Node only): the shared budget store.
export { RedisBudgetStore } from './redis-store.js';
export type { RedisBudgetStoreOptions } from './redis-store.js';
export { RedisApprovalStore } from './approvals/redis-queue.js';
export type { RedisApprovalStoreOptions } from './approvals/redis-queue.js';
export { RedisStreamAuditSink } from './serve/dashboard/redis-stream.js';
export type { RedisStreamAuditSinkOptions } from './serve/dashboard/redis-stream.js';
