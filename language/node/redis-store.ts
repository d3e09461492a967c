// RedisBudgetStore: budget counters shared by every process and host that points at one Redis.
// Node only (entry point `rein/redis`). It implements the algorithm of docs/budgets.md ("The store
// algorithm") — the same as MemoryBudgetStore — with one Lua script per call, so each `reserve`
// checks and reserves every applicable budget in ONE atomic round trip.
//
// Data model (K = counter key built by the engine, ID = reservation id, P = prefix):
//   P c:K   hash   { spent, reserved }                integers (micro-units for money), never floats
//   P p:K   zset   ID → reservation expiry (epoch ms, engine clock)
//   P a:K   hash   ID → reserved amount
//   P r:ID  hash   { exp } plus K → amount for each counter of the reservation
// Windows live in K (the window index is part of it), so no reset job exists: the keys of an ended
// window expire by TTL (window end + reservation TTL + settle grace, relative to the engine's clock).
// Expired reservations are swept lazily by every script that touches their counter: their estimate
// moves from `reserved` to `spent` (conservative).
//
// Redis Cluster: the scripts derive some keys from arguments, so all keys must live on one node;
// run a single primary (with replicas/Sentinel for failover). See docs/redis.md.

import { Redis, type RedisOptions } from 'ioredis';
import type { Actual, BudgetStore, CounterState, ReserveRequest, ReserveResult, SettleResult } from '../runtime/store.js';
import { assertAmount } from '../runtime/store.js';

export interface RedisBudgetStoreOptions {
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). Ignored when `client` is given. */
  url?: string;
  /** Prefix for every key (default `rein:`). */
  prefix?: string;
  /** An existing ioredis client to use (the store then does not close it). */
  client?: Redis;
  /** A call that takes longer fails (the engine then returns the `on error` decision). Default 500 ms. */
  timeoutMs?: number;
  /** How long after a reservation expires a late `settle` can still correct it (default 24 h). */
  settleGraceMs?: number;
  /** Extra ioredis options (reconnection strategy, TLS, password…). */
  redisOptions?: RedisOptions;
}

const DEFAULT_GRACE = 24 * 60 * 60 * 1000;

// Shared Lua helpers. Amounts travel as decimal integer strings; arithmetic in Lua doubles is exact up
// to 2^53, the same bound as the engine's safe integers. Writes use HINCRBY with strings.
const LUA_HELPERS = `
-- Redis rejects "-0" as an integer: negate decimal integer strings with care.
local function neg(s)
  if s == '0' then return '0' end
  return '-' .. s
end
local function sweep(c, p, a, now)
  local due = redis.call('ZRANGEBYSCORE', p, '-inf', now)
  for i = 1, #due do
    local id = due[i]
    local amt = redis.call('HGET', a, id)
    if amt then
      redis.call('HINCRBY', c, 'reserved', neg(amt))
      redis.call('HINCRBY', c, 'spent', amt)
      redis.call('HDEL', a, id)
    end
    redis.call('ZREM', p, id)
  end
end
-- Returns the raw integer strings too: tostring() of a Lua double keeps only 14 digits.
local function state(c)
  local v = redis.call('HMGET', c, 'spent', 'reserved')
  local s, r = v[1] or '0', v[2] or '0'
  return tonumber(s), tonumber(r), s, r
end
local function keep(keys, ttl)
  if ttl and ttl > 0 then
    for i = 1, #keys do redis.call('PEXPIRE', keys[i], ttl) end
  end
end
`;

// KEYS: r:ID, then c:K, p:K, a:K for each item.
// ARGV: now, ttlMs, commit(0/1), graceMs, id, then per item: limit, charge, keepMs (-1 = lifetime), enforce(0/1), rawKey
const RESERVE = `${LUA_HELPERS}
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local commit = ARGV[3] == '1'
local grace = tonumber(ARGV[4])
local id = ARGV[5]
local n = (#KEYS - 1) / 3
local out = {}
local ok = 1
for i = 1, n do
  local c, p, a = KEYS[3*i-1], KEYS[3*i], KEYS[3*i+1]
  sweep(c, p, a, now)
  local spent, reserved, rawSpent, rawReserved = state(c)
  local base = 5 + (i-1)*5
  local limit = tonumber(ARGV[base+1])
  local charge = tonumber(ARGV[base+2])
  local exceeded = 0
  if spent + reserved + charge > limit then
    exceeded = 1
    if ARGV[base+4] == '1' then ok = 0 end
  end
  out[#out+1] = rawSpent
  out[#out+1] = rawReserved
  out[#out+1] = exceeded
end
local committed = 0
if ok == 1 and commit and n > 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.error_reply('reservation ' .. id .. ' already exists')
  end
  local exp = now + ttl
  redis.call('HSET', KEYS[1], 'exp', string.format('%d', exp))
  for i = 1, n do
    local c, p, a = KEYS[3*i-1], KEYS[3*i], KEYS[3*i+1]
    local base = 5 + (i-1)*5
    local charge = ARGV[base+2]
    local keepMs = tonumber(ARGV[base+3])
    local raw = ARGV[base+5]
    redis.call('HINCRBY', c, 'reserved', charge)
    redis.call('HINCRBY', c, 'spent', '0')
    redis.call('HINCRBY', a, id, charge)
    redis.call('ZADD', p, exp, id)
    redis.call('HINCRBY', KEYS[1], 'k:' .. raw, charge)
    if keepMs >= 0 then
      keep({c, p, a}, keepMs)
    else
      redis.call('PERSIST', c)
    end
  end
  redis.call('PEXPIRE', KEYS[1], ttl + grace)
  committed = 1
end
return {ok, committed, out}
`;

// KEYS: c:K, p:K, a:K for each key.  ARGV: now
const PEEK = `${LUA_HELPERS}
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS / 3 do
  local c, p, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  sweep(c, p, a, now)
  local _, _, rawSpent, rawReserved = state(c)
  out[#out+1] = rawSpent
  out[#out+1] = rawReserved
end
return out
`;

// KEYS: r:ID.  ARGV: now, prefix, id, then pairs rawKey, actual (counters missing keep their estimate)
const SETTLE = `${LUA_HELPERS}
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local id = ARGV[3]
local rec = redis.call('HGETALL', KEYS[1])
if #rec == 0 then return 0 end
local actuals = {}
for i = 4, #ARGV, 2 do actuals[ARGV[i]] = ARGV[i+1] end
for i = 1, #rec, 2 do
  local field = rec[i]
  if string.sub(field, 1, 2) == 'k:' then
    local raw = string.sub(field, 3)
    local estimate = rec[i+1]
    local actual = actuals[raw] or estimate
    local c, p, a = prefix .. 'c:' .. raw, prefix .. 'p:' .. raw, prefix .. 'a:' .. raw
    if redis.call('EXISTS', c) == 1 then
      sweep(c, p, a, now)
      local pending = redis.call('HGET', a, id)
      if pending then
        redis.call('HDEL', a, id)
        redis.call('ZREM', p, id)
        redis.call('HINCRBY', c, 'reserved', neg(pending))
        redis.call('HINCRBY', c, 'spent', actual)
      else
        local spent = tonumber(redis.call('HGET', c, 'spent') or '0')
        local fixed = spent + tonumber(actual) - tonumber(estimate)
        if fixed < 0 then fixed = 0 end
        redis.call('HSET', c, 'spent', string.format('%d', fixed))
      end
    end
  end
end
redis.call('DEL', KEYS[1])
return 1
`;

// KEYS: c:K, p:K, a:K.  ARGV: now, amount, keepMs (-1 = lifetime)
const ADD_SPENT = `${LUA_HELPERS}
local now = tonumber(ARGV[1])
sweep(KEYS[1], KEYS[2], KEYS[3], now)
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'reserved', '0')
local keepMs = tonumber(ARGV[3])
if keepMs >= 0 then keep({KEYS[1], KEYS[2], KEYS[3]}, keepMs) end
return 1
`;

type ReinRedis = Redis & {
  reinReserve(...args: (string | number)[]): Promise<[number, number, (string | number)[]]>;
  reinPeek(...args: (string | number)[]): Promise<string[]>;
  reinSettle(...args: (string | number)[]): Promise<number>;
  reinAddSpent(...args: (string | number)[]): Promise<number>;
};

export class RedisBudgetStore implements BudgetStore {
  readonly prefix: string;
  private readonly redis: ReinRedis;
  private readonly ownsClient: boolean;
  private readonly timeoutMs: number;
  private readonly graceMs: number;
  /** Set on the first 'ready': until then a call waits for the connection (within its timeout). */
  private everReady = false;

  constructor(opts: RedisBudgetStoreOptions = {}) {
    this.prefix = opts.prefix ?? 'rein:';
    this.timeoutMs = opts.timeoutMs ?? 500;
    this.graceMs = opts.settleGraceMs ?? DEFAULT_GRACE;
    this.ownsClient = !opts.client;
    const client =
      opts.client ??
      new Redis(opts.url ?? 'redis://127.0.0.1:6379', {
        // Fail fast instead of queueing while disconnected: a decision must not wait for a reconnect.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: this.timeoutMs,
        connectTimeout: Math.max(1000, this.timeoutMs),
        // Reconnect by itself, backing off up to 2 s.
        retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
        lazyConnect: false,
        ...opts.redisOptions,
      });
    // Errors surface through the calls that fail; an unhandled 'error' event would crash the host.
    client.on('error', () => undefined);
    if (client.status === 'ready') this.everReady = true;
    else client.once('ready', () => (this.everReady = true));
    client.defineCommand('reinReserve', { lua: RESERVE });
    client.defineCommand('reinPeek', { lua: PEEK });
    client.defineCommand('reinSettle', { lua: SETTLE, numberOfKeys: 1 });
    client.defineCommand('reinAddSpent', { lua: ADD_SPENT, numberOfKeys: 3 });
    this.redis = client as ReinRedis;
  }

  /** Resolves once connected (optional: calls made before the first connection wait for it, within their timeout). */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await this.withTimeout(
      new Promise<void>((resolve) => this.redis.once('ready', () => resolve())),
      timeoutMs,
      'connect',
    );
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    assertAmount(req.ttlMs, 'ttlMs');
    const keys: string[] = [this.key('r:', req.reservationId)];
    const args: (string | number)[] = [req.now, req.ttlMs, req.commit ? 1 : 0, this.graceMs, req.reservationId];
    for (const it of req.items) {
      assertAmount(it.charge, 'charge', it.counterKey);
      assertAmount(it.limit, 'limit', it.counterKey);
      keys.push(this.key('c:', it.counterKey), this.key('p:', it.counterKey), this.key('a:', it.counterKey));
      const keepMs = it.expiresAt === null ? -1 : Math.max(0, it.expiresAt - req.now) + req.ttlMs + this.graceMs;
      args.push(it.limit, it.charge, keepMs, it.enforce ? 1 : 0, it.counterKey);
    }
    const [ok, committed, flat] = await this.call('reserve', () => this.redis.reinReserve(keys.length, ...keys, ...args));
    const items = req.items.map((_, i) => ({
      spent: Number(flat[3 * i]),
      reserved: Number(flat[3 * i + 1]),
      exceeded: Number(flat[3 * i + 2]) === 1,
    }));
    return { ok: ok === 1, committed: committed === 1, items };
  }

  async peek(counterKeys: string[], now: number): Promise<CounterState[]> {
    if (counterKeys.length === 0) return [];
    const keys = counterKeys.flatMap((k) => [this.key('c:', k), this.key('p:', k), this.key('a:', k)]);
    const flat = await this.call('peek', () => this.redis.reinPeek(keys.length, ...keys, now));
    return counterKeys.map((_, i) => ({ spent: Number(flat[2 * i]), reserved: Number(flat[2 * i + 1]) }));
  }

  async settle(reservationId: string, actuals: Actual[], now: number): Promise<SettleResult> {
    const args: (string | number)[] = [now, this.prefix, reservationId];
    for (const a of actuals) {
      assertAmount(a.amount, 'actual', a.counterKey);
      args.push(a.counterKey, a.amount);
    }
    const found = await this.call('settle', () => this.redis.reinSettle(this.key('r:', reservationId), ...args));
    return { found: found === 1 };
  }

  async release(reservationId: string, now: number): Promise<SettleResult> {
    // Actual usage zero for every counter of the reservation: read its counters inside the script by
    // passing no actuals would keep the estimates, so list them first.
    const rec = await this.call('release', () => this.redis.hgetall(this.key('r:', reservationId)));
    const actuals = Object.keys(rec)
      .filter((f) => f.startsWith('k:'))
      .map((f) => ({ counterKey: f.slice(2), amount: 0 }));
    if (actuals.length === 0) return { found: false };
    return this.settle(reservationId, actuals, now);
  }

  async addSpent(counterKey: string, amount: number, expiresAt: number | null, now: number): Promise<void> {
    assertAmount(amount, 'amount');
    const keepMs = expiresAt === null ? -1 : Math.max(0, expiresAt - now) + this.graceMs;
    await this.call('addSpent', () =>
      this.redis.reinAddSpent(this.key('c:', counterKey), this.key('p:', counterKey), this.key('a:', counterKey), now, amount, keepMs),
    );
  }

  /** Closes the connection (only when the store created it). */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private key(kind: string, k: string): string {
    return this.prefix + kind + k;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let budget = this.timeoutMs;
    if (this.redis.status !== 'ready') {
      // Before the first connection, wait for it (a store used right after construction); after a
      // disconnect, fail fast: a decision must not wait for a reconnect.
      const status = this.redis.status;
      if (this.everReady || !['connecting', 'connect', 'reconnecting'].includes(status)) {
        throw new Error(`redis budget store: not connected (status ${status}); ${what} refused`);
      }
      const start = Date.now();
      try {
        await this.ready(budget);
      } catch {
        throw new Error(`redis budget store: not connected within ${budget} ms (status ${this.redis.status}); ${what} refused`);
      }
      budget = Math.max(1, budget - (Date.now() - start));
    }
    return this.withTimeout(fn(), budget, what);
  }

  private withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis budget store: ${what} timed out after ${ms} ms`)), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer)) as Promise<T>;
  }
}
