// RedisBudgetStore: budget counters shared by every process and host that points at one Redis (a
// single primary, Sentinel, or Redis Cluster). Node only (entry point `rein/redis`). It implements
// the algorithm of docs/budgets.md ("The store algorithm") — the same as MemoryBudgetStore — with Lua
// scripts, so each `reserve` checks and reserves every applicable budget of one hash slot in ONE atomic
// step.
//
// Data model (K = counter key built by the engine, ID = reservation id, P = prefix). Every key of one
// counter carries the same hash tag, so on Redis Cluster one counter lives in one slot and different
// counters spread over the cluster:
//   B = P{K}                        the counter's base (K hashed instead when it contains '}')
//   B c    hash   { spent, reserved } integers (micro-units for money), never floats; k = the TTL
//                 target last set (engine ms, `L` = lifetime)
//   B p    zset   `amount:ID` → reservation expiry (epoch ms, engine clock), one member per pending
//                 reservation; `~` (score +inf) keeps the key and its TTL while nothing is pending
//   R      hash   the reservation record: B → amount for each counter of the reservation (one record
//                 per hash slot group: `P r:ID` on a single node, `B0 r:ID` on a cluster, with B0 the
//                 base of the group's first counter); `x` = tombstone (released before it was made)
// Rolling windows: K ends with `:r<sub-bucket>`, and the base takes its hash tag from K without that
// suffix (`P{K0}:r<n>`), so every sub-bucket of one rolling counter is in one slot and a reserve sums
// them in the same script. Token buckets and anchored periods keep their mode in `B c` (`m`: `b:<refill>:
// <everyMs>` or `a:<periodMs>`; `t`: the bucket's refill time or the anchor; `i`: the period ordinal),
// and a reservation record marks their bases with a leading `!` so settle brings them to `now` first;
// they expire once they read like an unknown key again (`hold`: `h` = reservation TTL + settle grace,
// plus the bucket's refill time or one anchored period).
// Windows live in K (the window index is part of it), so no reset job exists: the keys of an ended
// window expire by TTL (window end + reservation TTL + settle grace, relative to the engine's clock).
// Expired reservations are swept lazily by every script that touches their counter: their estimate
// moves from `reserved` to `spent` (conservative).
//
// Timeouts and lost replies (docs/redis.md, "No phantom spend"): the reservation id is chosen by the
// engine before the call. A reserve whose outcome is unknown (timeout, lost connection) is released
// by id; the release is idempotent, and when it reaches Redis before the reserve it leaves a tombstone
// that makes the late reserve a no-op. A release that cannot be confirmed is retried until it is.

import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { Actual, BudgetStore, CounterMode, CounterState, ReserveItem, ReserveRequest, ReserveResult, ReserveItemResult, SettleResult, StoreWindowKind } from '../runtime/store.js';
import { assertAmount } from '../runtime/store.js';

export interface RedisBudgetStoreOptions {
  /** `redis://host:port/db` (default `redis://127.0.0.1:6379`). Ignored when `client` or `nodes` is given. */
  url?: string;
  /** Redis Cluster: the seed nodes (the store then creates an ioredis `Cluster`). */
  nodes?: ClusterNode[];
  /** Redis Sentinel: the sentinels to ask for the current primary (the store then connects to whichever
   *  primary they name, and follows a failover). Ignored when `client` or `nodes` is given. */
  sentinels?: { host: string; port: number }[];
  /** With `sentinels`: the name of the primary the sentinels monitor (default `mymaster`). */
  name?: string;
  /** Prefix for every key (default `rein:`). */
  prefix?: string;
  /** An existing ioredis client (`Redis` or `Cluster`) to use (the store then does not close it). */
  client?: Redis | Cluster;
  /** The one timeout: a call that takes longer fails (the engine then returns the `on error` decision,
   *  and a reserve that may have reached Redis is released by id). Default 500 ms. The engine's
   *  `storeTimeoutMs` defaults to this value. */
  timeoutMs?: number;
  /** How long after a reservation expires a late `settle` can still correct it (default 24 h). Also
   *  how long a tombstone of a reservation released before it was made is kept. */
  settleGraceMs?: number;
  /** Opt-in: after each write (reserve, settle, release, addSpent) wait until this many replicas
   *  acknowledged it (Redis `WAIT`); fewer within `waitTimeoutMs` fails the call. Default 0 (off). */
  waitReplicas?: number;
  /** How long `WAIT` may take (default: half of `timeoutMs`). */
  waitTimeoutMs?: number;
  /** Batch the commands made in one tick into one write (ioredis auto-pipelining). Default: on when
   *  `batching` is off (with batching, a tick's calls are one command per node already). */
  autoPipelining?: boolean;
  /** Send the calls made while the event loop turns as one script run per node (per hash slot on a
   *  cluster) instead of one run each. Each call stays atomic. Default true. */
  batching?: boolean;
  /** Extra ioredis options (reconnection strategy, TLS, password…). For a cluster: `redisOptions`
   *  of each node connection. */
  redisOptions?: RedisOptions;
  /** Extra options for the ioredis `Cluster` created from `nodes`. */
  clusterOptions?: ClusterOptions;
}

const DEFAULT_GRACE = 24 * 60 * 60 * 1000;
/** A rolling window sub-bucket's key suffix (windows.ts: `r<ordinal>`). */
const ROLLING_SUFFIX = /:r-?\d+$/;
/** Rolling windows, token buckets and anchored periods (store.ts `windowKinds`). */
const WINDOW_KINDS: readonly StoreWindowKind[] = Object.freeze(['rolling', 'bucket', 'anchored'] as StoreWindowKind[]);
/** Unconfirmed releases are retried at this interval (and at once on reconnect). */
const RETRY_MS = 250;
/** At most this many unconfirmed releases are remembered (the oldest are dropped: they expire by TTL). */
const RETRY_CAP = 1_000_000;

// Shared Lua helpers. Amounts travel as decimal integer strings; arithmetic in Lua doubles is exact up
// to 2^53, the same bound as the engine's safe integers.
// The scripts keep the number of Redis commands per call small (Redis's CPU is the fleet's limit):
// - a pending reservation is ONE sorted-set member carrying its amount;
// - the counter hash keeps `e`, a lower bound of its earliest pending expiry, so a reserve or peek reads
//   the sorted set only once that time has come (usually once per reservation TTL and counter);
// - a reservation record is ONE string key (msgpack), claimed with `SET NX` (which also refuses a
//   tombstone or a duplicate id), read with GET and dropped with DEL;
// - key TTLs are set once per counter and window (the `k` field), not per call.
// A reserve + settle over two counters is 15 Redis commands (19 before; 6 of them HINCRBY/HSET).
const LUA_HELPERS = `
-- On a cluster a run carries the calls of every slot its node serves, and declares only one key (see
-- BATCH): so each call first touches every key it will write (one EXISTS, which fails while a key's
-- slot is being migrated away) and fails before it writes anything rather than halfway.
local check = false
local function verify(keys)
  if check and #keys > 0 then redis.call('EXISTS', unpack(keys)) end
end
-- Redis rejects "-0" as an integer: negate decimal integer strings with care.
local function neg(s)
  if s == '0' then return '0' end
  return '-' .. s
end
-- Expired reservations of counter (c, p): their amounts leave reserved and count as spent
-- (conservative). s, r: the counter's spent and reserved as read; e: its bound of the earliest pending
-- expiry (false: unknown). Returns spent, reserved and the bound after the sweep. Only for a counter
-- that exists.
local function sweep(c, p, now, s, r, e)
  if e and tonumber(e) > now then return s, r, e end
  local due = redis.call('ZRANGEBYSCORE', p, '-inf', now)
  if #due > 0 then
    local sum = 0
    for i = 1, #due do sum = sum + tonumber(string.match(due[i], '^(%d+):')) end
    redis.call('ZREMRANGEBYSCORE', p, '-inf', now)
    s = string.format('%d', tonumber(s) + sum)
    r = string.format('%d', tonumber(r) - sum)
  end
  -- the new bound: the earliest member left ('~', score +inf, is no reservation), and at most 1 s
  -- ahead, so a member written without lowering the bound (a process of an earlier version during an
  -- upgrade) is swept at most 1 s late
  local first = redis.call('ZRANGE', p, 0, 0, 'WITHSCORES')
  local ne = string.format('%d', now + 1000)
  if first[1] ~= nil and first[1] ~= '~' and tonumber(first[2]) < now + 1000 then ne = first[2] end
  redis.call('HSET', c, 'spent', s, 'reserved', r, 'e', ne)
  return s, r, ne
end
-- hold's base for a counter written before its field h existed: the default reservation TTL (15 min)
-- plus the default settle grace (24 h).
local HOLD_DEFAULT = 87300000
-- Keep c and p until \`target\` (engine ms; keepMs < 0: for ever). \`k\` (c's field) is the target set
-- before: nothing to do when it already reaches this one. The member '~' (score +inf, never due) keeps
-- p, and so its TTL, when no reservation is pending.
local function keep(c, p, k, target, keepMs)
  if keepMs < 0 then
    if k ~= 'L' then
      redis.call('ZADD', p, '+inf', '~')
      redis.call('PERSIST', c)
      redis.call('PERSIST', p)
      redis.call('HSET', c, 'k', 'L')
    end
  elseif not k or (k ~= 'L' and tonumber(k) < target) then
    redis.call('ZADD', p, '+inf', '~')
    redis.call('PEXPIRE', c, keepMs)
    redis.call('PEXPIRE', p, keepMs)
    redis.call('HSET', c, 'k', string.format('%d', target))
  end
end
-- A token bucket or anchored counter expires once it reads like an unknown key again, if nothing is
-- written to it before (docs/budgets.md, "Keys that expire"): \`base\` (the reservation TTL plus the
-- settle grace, kept in c's field \`h\`) after the write, plus the time a bucket's level (spent +
-- reserved) takes to refill, or one period of an anchored counter. m: the mode, k: the target set
-- before (engine ms; 'L' from an earlier version that kept these for ever). The TTL is set a quarter
-- longer than needed, so a busy counter is re-expired about once per that quarter, not on every call.
local function hold(c, p, now, m, k, s, r, base)
  local kind, x, y = string.match(m, '^(%a):(%d+):?(%d*)$')
  local need
  if kind == 'b' then need = math.ceil((tonumber(s) + tonumber(r)) * tonumber(y) / tonumber(x))
  else need = tonumber(x) end
  need = base + need
  if need > 1e13 then need = 1e13 end
  if k and k ~= 'L' and tonumber(k) >= now + need then return end
  local ms = need + math.floor(need / 4)
  redis.call('ZADD', p, '+inf', '~')
  redis.call('PEXPIRE', c, ms)
  redis.call('PEXPIRE', p, ms)
  redis.call('HSET', c, 'k', string.format('%d', now + ms))
end
-- The base of \`hold\` kept in a counter (field h), raised to b when b is larger.
local function holdBase(c, h, b)
  h = tonumber(h)
  if h and h >= b then return h end
  redis.call('HSET', c, 'h', string.format('%d', b))
  return b
end
-- A token bucket or anchored counter brought to \`now\` (memory-store.ts \`touch\`, the same
-- arithmetic in doubles, exact for integers below 2^53). m: the mode (\`b:<refill>:<everyMs>\` or
-- \`a:<periodMs>\`), t, i: its fields as read. Returns the spent after it. Only for a counter that exists.
local function touch(c, now, s, m, t, i)
  if not m then return s end
  local kind, x, y = string.match(m, '^(%a):(%d+):?(%d*)$')
  t = tonumber(t) or now
  if kind == 'b' then
    if now <= t then return s end
    local sp = tonumber(s)
    if sp == 0 then
      redis.call('HSET', c, 't', string.format('%d', now))
      return s
    end
    local refill, every = tonumber(x), tonumber(y)
    local credit = math.floor((now - t) * refill / every)
    if credit >= sp then
      redis.call('HSET', c, 'spent', '0', 't', string.format('%d', now))
      return '0'
    elseif credit > 0 then
      s = string.format('%d', sp - credit)
      redis.call('HSET', c, 'spent', s, 't', string.format('%d', t + math.ceil(credit * every / refill)))
    end
    return s
  end
  local k = math.floor((now - t) / tonumber(x))
  if k > tonumber(i or '0') then
    redis.call('HSET', c, 'spent', '0', 'i', string.format('%d', k))
    return '0'
  end
  return s
end
-- An anchored counter's current period start ('' for other counters), after touch.
local function startOf(c, m)
  if not m or string.sub(m, 1, 1) ~= 'a' then return '' end
  local v = redis.call('HMGET', c, 't', 'i')
  return '@' .. string.format('%d', tonumber(v[1]) + tonumber(v[2] or '0') * tonumber(string.sub(m, 3)))
end
-- A record's base: '!' marks a token bucket or anchored counter (brought to now before settling).
local function unbang(b)
  if string.sub(b, 1, 1) == '!' then return string.sub(b, 2), true end
  return b, false
end
-- Replace the reservation's estimate on counter base b by actual.
local function finish(b, id, estimate, actual, now)
  local moded
  b, moded = unbang(b)
  local c, p = b .. 'c', b .. 'p'
  if moded then
    -- brought to now, and swept, as the memory store does before settling
    local v = redis.call('HMGET', c, 'spent', 'reserved', 'e', 'm', 't', 'i')
    if v[1] or v[2] then sweep(c, p, now, touch(c, now, v[1] or '0', v[4], v[5], v[6]), v[2] or '0', v[3]) end
  end
  if redis.call('ZREM', p, estimate .. ':' .. id) == 1 then
    -- still pending (or due and not swept yet: the same end state as sweeping first)
    redis.call('HINCRBY', c, 'reserved', neg(estimate))
    if actual ~= '0' then redis.call('HINCRBY', c, 'spent', actual) end
  elseif redis.call('EXISTS', c) == 1 then
    -- expired earlier, its estimate counted as spent: correct by actual - estimate
    local spent = tonumber(redis.call('HGET', c, 'spent') or '0')
    local fixed = spent + tonumber(actual) - tonumber(estimate)
    if fixed < 0 then fixed = 0 end
    redis.call('HSET', c, 'spent', string.format('%d', fixed))
  end
  if moded then
    -- an actual above the estimate raises a bucket's level: keep the counter until that refills too
    local w = redis.call('HMGET', c, 'spent', 'reserved', 'm', 'k', 'h')
    if w[3] then hold(c, p, now, w[3], w[4], w[1] or '0', w[2] or '0', tonumber(w[5]) or HOLD_DEFAULT) end
  end
end
-- The value of a record key R (GET), or 'x' for a tombstone of an earlier version's layout (a hash).
local function get(R)
  local v = redis.pcall('GET', R)
  if type(v) == 'table' and v.err then
    -- the earlier layout: a hash of base -> amount, or 'x' -> '1' (tombstone)
    local h = redis.call('HGETALL', R)
    local rec = { 9e15 }
    for i = 1, #h, 2 do
      if h[i] == 'x' then return 'x' end
      rec[#rec+1] = h[i]
      rec[#rec+1] = h[i+1]
    end
    return cmsgpack.pack(rec)
  end
  return v
end
-- A record (v: the value of R): nil when unknown, released ('x'), or past its settle grace at \`now\`
-- (then dropped); else {forgetAt, base1, amount1, base2, amount2, ...}.
local function record(R, v, now)
  if not v or v == 'x' then return nil end
  local rec = cmsgpack.unpack(v)
  if check then
    local ks = {}
    for i = 2, #rec, 2 do
      local b = unbang(rec[i])
      ks[#ks+1] = b .. 'c'
      ks[#ks+1] = b .. 'p'
    end
    verify(ks)
  end
  redis.call('DEL', R)
  if now >= rec[1] then return nil end
  return rec
end
`;

// KEYS: R, then the counter hash c (= base .. 'c') of each item.
// ARGV: now, ttlMs, commit(0/1), graceMs, id, then per item: limit, charge, keepMs (-1 = lifetime),
// enforce(0/1), rolling (how many sub-buckets before this one count; 0: none), mode ('-' or \`m\`)
// Returns 'ok committed' then spent reserved exceeded(0/1) per item, space-separated (an anchored
// counter's exceeded carries its period start: '0@<ms>'); ok = -1: the id was released (tombstone)
// before the reserve got here; -2: the id names a live reservation already.
const RESERVE = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local commit = ARGV[3] == '1'
local grace = tonumber(ARGV[4])
local id = ARGV[5]
local n = #KEYS - 1
local R = KEYS[1]
-- one pending member per counter (the same counter twice in a request: their sum)
local sums, first = {}, {}
if check then
  local ks = { R }
  for i = 1, n do
    ks[#ks+1] = KEYS[i+1]
    ks[#ks+1] = string.sub(KEYS[i+1], 1, -2) .. 'p'
  end
  verify(ks)
end
if commit and n > 0 then
  local rec = { now + ttl + grace }
  for i = 1, n do
    local c = KEYS[i+1]
    local charge = tonumber(ARGV[5 + (i-1)*6 + 2])
    if sums[c] == nil then
      sums[c] = charge
      first[#first+1] = i
    else
      sums[c] = sums[c] + charge
    end
  end
  for _, i in ipairs(first) do
    local c = KEYS[i+1]
    if ARGV[5 + (i-1)*6 + 6] ~= '-' then rec[#rec+1] = '!' .. string.sub(c, 1, -2)
    else rec[#rec+1] = string.sub(c, 1, -2) end
    rec[#rec+1] = string.format('%d', sums[c])
  end
  -- Claim the id before anything else: a tombstone or a live reservation with this id refuses the call.
  if not redis.call('SET', R, cmsgpack.pack(rec), 'PX', ttl + grace, 'NX') then
    if get(R) == 'x' then return '-1 0' end
    return '-2 0'
  end
end
local out = {}
local st = {}
local ok = 1
for i = 1, n do
  local c = KEYS[i+1]
  local base = 5 + (i-1)*6
  local moded = ARGV[base+6] ~= '-'
  local v
  if moded then v = redis.call('HMGET', c, 'spent', 'reserved', 'k', 'e', 'm', 't', 'i', 'h')
  else v = redis.call('HMGET', c, 'spent', 'reserved', 'k', 'e') end
  local s, r, e = v[1] or '0', v[2] or '0', v[4]
  if v[1] or v[2] then
    if moded then s = touch(c, now, s, v[5], v[6], v[7]) end
    s, r, e = sweep(c, string.sub(c, 1, -2) .. 'p', now, s, r, e)
  end
  st[i] = { s, r, v[3], e, moded and v[5], moded and v[8] }
  -- a rolling window: the sub-buckets before this one count too (same slot: the hash tag is K's root)
  local ts, tr = tonumber(s), tonumber(r)
  local roll = tonumber(ARGV[base+5])
  if roll > 0 then
    local head, cur = string.match(c, '^(.*:r)(%-?%d+)c$')
    cur = tonumber(cur)
    local sib = {}
    for j = 1, roll do sib[j] = head .. string.format('%d', cur - j) .. 'c' end
    if check then
      local ks = {}
      for j = 1, roll do ks[#ks+1] = sib[j]; ks[#ks+1] = string.sub(sib[j], 1, -2) .. 'p' end
      verify(ks)
    end
    for j = 1, roll do
      local w = redis.call('HMGET', sib[j], 'spent', 'reserved', 'e')
      if w[1] or w[2] then
        local ss, rr = sweep(sib[j], string.sub(sib[j], 1, -2) .. 'p', now, w[1] or '0', w[2] or '0', w[3])
        ts = ts + tonumber(ss)
        tr = tr + tonumber(rr)
      end
    end
  end
  local x = '0'
  if ts + tr + tonumber(ARGV[base+2]) > tonumber(ARGV[base+1]) then
    x = '1'
    if ARGV[base+4] == '1' then ok = 0 end
  end
  if moded and (v[1] or v[2]) then x = x .. startOf(c, v[5]) end
  out[#out+1] = string.format('%d', ts)
  out[#out+1] = string.format('%d', tr)
  out[#out+1] = x
end
local committed = 0
if commit and n > 0 then
  if ok == 1 then
    local exp = now + ttl
    for _, i in ipairs(first) do
      local c = KEYS[i+1]
      local b = string.sub(c, 1, -2)
      local p = b .. 'p'
      local amount = string.format('%d', sums[c])
      local s = st[i]
      local reserved = string.format('%d', tonumber(s[2]) + sums[c])
      -- e: lowered when this reservation expires before every other pending one
      if s[4] and tonumber(s[4]) <= exp then
        redis.call('HSET', c, 'reserved', reserved)
      else
        redis.call('HSET', c, 'reserved', reserved, 'e', string.format('%d', exp))
      end
      redis.call('ZADD', p, exp, amount .. ':' .. id)
      local mode = ARGV[5 + (i-1)*6 + 6]
      if mode ~= '-' then
        if not s[5] then redis.call('HSET', c, 'm', mode, 't', string.format('%d', now), 'i', '0') end
        hold(c, p, now, s[5] or mode, s[3], s[1], reserved, holdBase(c, s[6], ttl + grace))
      else
        local keepMs = tonumber(ARGV[5 + (i-1)*6 + 3])
        keep(c, p, s[3], now + keepMs, keepMs)
      end
    end
    committed = 1
  else
    redis.call('DEL', R)
  end
end
return ok .. ' ' .. committed .. ' ' .. table.concat(out, ' ')
`;

// KEYS: c for each key.  ARGV: now.  Returns spent reserved per key, space-separated.
const PEEK = `
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local c = KEYS[i]
  local v = redis.call('HMGET', c, 'spent', 'reserved', 'e', 'm', 't', 'i')
  local s, r = v[1] or '0', v[2] or '0'
  if v[1] or v[2] then
    s = touch(c, now, s, v[4], v[5], v[6])
    s, r = sweep(c, string.sub(c, 1, -2) .. 'p', now, s, r, v[3])
  end
  out[#out+1] = s
  out[#out+1] = r .. ((v[1] or v[2]) and startOf(c, v[4]) or '')
end
return table.concat(out, ' ')
`;

// KEYS: R.  ARGV: now, id, then pairs base, actual (counters missing keep their estimate).
// Returns '1' when settled, '0' when unknown (never made, settled, released, or past its settle grace).
const SETTLE = `
local id = ARGV[2]
local rec = record(KEYS[1], get(KEYS[1]), tonumber(ARGV[1]))
if not rec then return '0' end
local actuals = {}
for i = 3, #ARGV, 2 do actuals[ARGV[i]] = ARGV[i+1] end
for i = 2, #rec, 2 do
  local b = rec[i]
  finish(b, id, rec[i+1], actuals[unbang(b)] or rec[i+1], tonumber(ARGV[1]))
end
return '1'
`;

// KEYS: R.  ARGV: now, id, tombstoneMs.
// Idempotent: releases a live reservation (actual usage zero); when there is no record, leaves a
// tombstone so that a reserve arriving later commits nothing. Returns '1' when something was released.
const RELEASE = `
local id = ARGV[2]
local v = get(KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'x', 'PX', tonumber(ARGV[3]))
  return '0'
end
local rec = record(KEYS[1], v, tonumber(ARGV[1]))
if not rec then return '0' end
for i = 2, #rec, 2 do finish(rec[i], id, rec[i+1], '0', tonumber(ARGV[1])) end
return '1'
`;

// KEYS: c.  ARGV: now, amount, keepMs (-1 = lifetime; for a token bucket or anchored counter: the base of
// \`hold\`, the settle grace), mode ('-' or \`m\`; absent: '-')
const ADD_SPENT = `
local now = tonumber(ARGV[1])
local c = KEYS[1]
local p = string.sub(c, 1, -2) .. 'p'
verify({ c, p })
local v = redis.call('HMGET', c, 'spent', 'reserved', 'k', 'e', 'm', 't', 'i', 'h')
local s, r = v[1] or '0', v[2] or '0'
if v[1] or v[2] then
  s = touch(c, now, s, v[5], v[6], v[7])
  s, r = sweep(c, p, now, s, r, v[4])
end
local mode = ARGV[4] or '-'
if mode ~= '-' and not v[5] then redis.call('HSET', c, 'm', mode, 't', string.format('%d', now), 'i', '0') end
redis.call('HINCRBY', c, 'spent', ARGV[2])
local keepMs = tonumber(ARGV[3])
if v[5] or mode ~= '-' then
  hold(c, p, now, v[5] or mode, v[3], string.format('%d', tonumber(s) + tonumber(ARGV[2])), r, holdBase(c, v[8], math.max(keepMs, 0)))
else
  keep(c, p, v[3], now + keepMs, keepMs)
end
return '1'
`;

// KEYS: D (a reservation's directory entry, cluster only).  ARGV: value, ttlMs.
// SET NX that returns the previous value ('=' .. value; '-': written): \`SET … NX GET\` needs Redis 7.
const SET_DIR = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return '-'
end
return '=' .. v
`;

type Args = (string | number)[];

/** A script reply's space-separated fields. */
const fields = (reply: string): string[] => reply.split(' ');

/** Item `i` of a reserve reply: spent reserved exceeded, the last with `@<period start>` for an
 *  anchored counter. */
function itemOf(f: string[], i: number): ReserveItemResult {
  const x = f[4 + 3 * i]!;
  const r: ReserveItemResult = { spent: Number(f[2 + 3 * i]), reserved: Number(f[3 + 3 * i]), exceeded: x.charCodeAt(0) === 49 };
  if (x.length > 2) r.start = Number(x.slice(2));
  return r;
}

/** A counter mode as the scripts take it (\`m\`): \`b:<refill>:<everyMs>\`, \`a:<periodMs>\`, or '-'. */
function modeArg(m: CounterMode | undefined): string {
  if (m === undefined) return '-';
  if (m.kind === 'bucket') {
    assertAmount(m.refill, 'refill');
    assertAmount(m.everyMs, 'everyMs');
    return `b:${m.refill}:${m.everyMs}`;
  }
  assertAmount(m.periodMs, 'periodMs');
  return `a:${m.periodMs}`;
}

// Every call goes through ONE script, BATCH: the calls made while the event loop turns (concurrent
// decides and settles) are sent as one script run per node (per hash slot on a cluster) instead of one
// run each. Each call stays atomic (a script run is), and runs in its own pcall, so one failing call
// fails alone. Redis then parses one command for many calls, and ioredis handles one.
// KEYS: D (a directory entry, cluster only): dropped (settled or released).
const DEL_DIR = `
redis.call('DEL', KEYS[1])
return '1'
`;

const OPS = { reserve: RESERVE, peek: PEEK, settle: SETTLE, release: RELEASE, addSpent: ADD_SPENT, setDir: SET_DIR, delDir: DEL_DIR };
type Op = keyof typeof OPS;
const OP_NAMES = Object.keys(OPS) as Op[];
const OP_INDEX = Object.fromEntries(OP_NAMES.map((n, i) => [n, i + 1])) as Record<Op, number>;
// KEYS: one key, for routing only (the first call's first key).  ARGV: n, check (1 on a cluster), then
// per call: op, #keys, #args, its keys, its args. The calls' keys travel in ARGV because on a cluster
// one run carries the calls of every slot of one node, and Redis refuses declared keys of several
// slots (CROSSSLOT); the cluster script declares \`allow-cross-slot-keys\` (Redis 7) instead.
// Returns one string: per call a line, '1' and the call's reply, or '0' and its error message.
const batchLua = (flags: string) => `${flags}${LUA_HELPERS}
${OP_NAMES.map((n) => `local function op_${n}(KEYS, ARGV)\n${OPS[n]}\nend`).join('\n')}
local ops = { ${OP_NAMES.map((n) => `op_${n}`).join(', ')} }
local n = tonumber(ARGV[1])
check = ARGV[2] == '1'
local ai = 3
local out = {}
for c = 1, n do
  local op, nk, na = tonumber(ARGV[ai]), tonumber(ARGV[ai+1]), tonumber(ARGV[ai+2])
  ai = ai + 3
  local K, A = {}, {}
  for j = 1, nk do K[j] = ARGV[ai]; ai = ai + 1 end
  for j = 1, na do A[j] = ARGV[ai]; ai = ai + 1 end
  local ok, res = pcall(ops[op], K, A)
  if ok then
    out[c] = '1' .. res
  else
    if type(res) == 'table' and res.err then res = res.err end
    out[c] = '0' .. string.gsub(tostring(res), '\\n', ' ')
  end
end
return table.concat(out, '\\n')
`;
const BATCH_LUA = batchLua('');
const BATCH_SHA = createHash('sha1').update(BATCH_LUA).digest('hex');
const CLUSTER_LUA = batchLua('#!lua flags=allow-cross-slot-keys\n');
const CLUSTER_SHA = createHash('sha1').update(CLUSTER_LUA).digest('hex');
/** At most this many calls per script run (one run blocks Redis for its duration). */
const BATCH_MAX = 128;

interface Call {
  op: Op;
  keys: string[];
  args: Args;
  /** Followed by WAIT (waitReplicas). */
  wait: boolean;
  resolve: (v: string) => void;
  reject: (e: Error) => void;
}

/** One hash-slot group of a reservation: its record key and its items (indexes into the request). */
interface Group {
  record: string;
  slot: number;
  items: number[];
}

/** A reservation's groups, remembered (cluster only) so that settle and release by the process that
 *  made it need no directory look-up. */
interface Known {
  records: string[];
  dropAt: number;
  /** The reserve returned committed (its directory entry is written). */
  complete: boolean;
}

interface Deadline {
  at: number;
  fail: () => void;
  done: boolean;
}

/**
 * Deadlines that all lie the same time ahead (one call timeout), so they come due in the order they
 * were added: a queue watched by ONE timer, armed for its oldest pending entry, and cleared whenever
 * nothing is pending (an idle store keeps no timer, so it never holds a process open).
 */
class Deadlines {
  private q: Deadline[] = [];
  private head = 0;
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ms: number) {}

  add(fail: () => void): Deadline {
    const d: Deadline = { at: performance.now() + this.ms, fail, done: false };
    this.q.push(d);
    this.pending++;
    if (this.timer === null) this.arm(this.ms);
    return d;
  }

  done(d: Deadline): void {
    if (d.done) return;
    d.done = true;
    if (--this.pending === 0) this.reset();
  }

  private reset(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.q = [];
    this.head = 0;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(ms)));
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = performance.now();
    const q = this.q;
    let h = this.head;
    while (h < q.length) {
      const d = q[h]!;
      if (!d.done) {
        if (d.at > now) break;
        d.done = true;
        this.pending--;
        d.fail();
      }
      h++;
    }
    if (this.pending === 0 || h >= q.length) return this.reset();
    this.q = q.slice(h);
    this.head = 0;
    this.arm(this.q[0]!.at - now);
  };
}

/** A reserve whose id names a live reservation: refused before anything was written. */
class DuplicateReservation extends Error {
  constructor(id: string) {
    super(`redis budget store: reservation ${id} already exists`);
  }
}

/** A directory entry that marks a reservation released before its reserve wrote the entry. */
const DIR_TOMBSTONE = 'x';

/** The warning for a Redis whose `maxmemory-policy` evicts keys (review h13r1 S6); `rein mcp` says it too. */
export function evictionWarning(policy: string): string {
  return (
    `warning: Redis evicts keys under memory pressure (maxmemory-policy ${policy}): a budget counter it evicts starts again from zero, ` +
    'and its ceiling with it. Set maxmemory-policy noeviction, or give Rein a Redis of its own (docs/redis.md#failure-modes)'
  );
}

export class RedisBudgetStore implements BudgetStore {
  readonly prefix: string;
  /** The one timeout (ms) of every call; the engine's `storeTimeoutMs` defaults to it. */
  readonly timeoutMs: number;
  /** Rolling windows, token buckets and anchored periods (store.ts `windowKinds`). */
  readonly windowKinds = WINDOW_KINDS;
  /** Whether keys are grouped by hash slot (an ioredis `Cluster` client). */
  readonly cluster: boolean;
  private readonly redis: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly graceMs: number;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  /** Counter key → base (`P{K}`), memoised (bounded: cleared when it grows large). */
  private readonly baseCache = new Map<string, string>();
  private readonly hashCache = new Map<string, string>();
  /** Cluster: reservation id → its records, from before the reserve is sent until settle/release. */
  private readonly known = new Map<string, Known>();
  /** Releases not yet confirmed by Redis: record key → [id, the engine's time of the release, give-up time (wall clock)]. */
  private readonly unconfirmed = new Map<string, [string, number, number]>();
  private retryTimer: NodeJS.Timeout | null = null;
  /** Cluster created here: the periodic slot-map refresh. */
  private refreshTimer: NodeJS.Timeout | null = null;
  private retrying = false;
  private closed = false;
  /** Until the first 'ready', a call waits for it (within its timeout) instead of failing. */
  private firstReady: Promise<void> | null = null;
  private readonly batching: boolean;
  /** Calls waiting for the next batch, by primary ('' on a single node). */
  private readonly queued = new Map<string, Call[]>();
  private flushScheduled = false;
  /** The deadlines of calls under way (the one call timeout). */
  private readonly deadlines: Deadlines;

  constructor(opts: RedisBudgetStoreOptions = {}) {
    this.prefix = opts.prefix ?? 'rein:';
    this.timeoutMs = opts.timeoutMs ?? 500;
    this.deadlines = new Deadlines(this.timeoutMs);
    this.graceMs = opts.settleGraceMs ?? DEFAULT_GRACE;
    this.waitReplicas = opts.waitReplicas ?? 0;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? Math.max(1, Math.floor(this.timeoutMs / 2));
    if (!Number.isSafeInteger(this.waitReplicas) || this.waitReplicas < 0) throw new RangeError('RedisBudgetStore: waitReplicas must be a non-negative integer');
    this.ownsClient = !opts.client;
    this.batching = opts.batching ?? true;
    // With batching, a tick's calls are already one command per node: ioredis's auto-pipelining would
    // only wrap that command in a pipeline of one (measured: 1-2 µs of Node CPU per call).
    const autoPipelining = opts.autoPipelining ?? !this.batching;
    const nodeOptions: RedisOptions = {
      // Fail fast instead of queueing while disconnected: a decision must not wait for a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A command whose reply was lost is never sent again by the client: its reservation is released
      // by id instead (a resent reserve would be a second, unheld reservation).
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.timeoutMs,
      connectTimeout: Math.max(1000, this.timeoutMs),
      // Reconnect by itself, backing off up to 2 s.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      lazyConnect: false,
      ...opts.redisOptions,
    };
    let client: Redis | Cluster;
    if (opts.client) client = opts.client;
    else if (opts.nodes) {
      client = new Cluster(opts.nodes, {
        enableOfflineQueue: false,
        enableAutoPipelining: autoPipelining,
        clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
        // The periodic slot refresh is the store's own timer (below): ioredis's re-arms itself when a
        // refresh that was under way at quit() completes, and then holds the process open for ever.
        slotsRefreshInterval: 0,
        slotsRefreshTimeout: Math.max(1000, this.timeoutMs),
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        maxRedirections: 4,
        redisOptions: nodeOptions,
        ...opts.clusterOptions,
      });
      // A failover moves slots: refresh the map often so decisions recover within seconds. Unref'd, and
      // cleared by close().
      const every = opts.clusterOptions?.slotsRefreshInterval ?? 2000;
      if (every > 0) {
        const cluster = client;
        (cluster as Cluster).options.slotsRefreshInterval = 0;
        this.refreshTimer = setInterval(() => {
          if (cluster.status === 'ready') cluster.refreshSlotsCache();
        }, every);
        this.refreshTimer.unref();
      }
    } else if (opts.sentinels) {
      client = new Redis({
        sentinels: opts.sentinels,
        name: opts.name ?? 'mymaster',
        enableAutoPipelining: autoPipelining,
        // Reconnect to the new primary as soon as the sentinels announce a failover (+switch-master),
        // not only when the old one drops the connection (a demoted primary answers READONLY).
        failoverDetector: true,
        sentinelRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
        ...nodeOptions,
      });
    } else client = new Redis(opts.url ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: autoPipelining, ...nodeOptions });
    this.cluster = client instanceof Cluster;
    // Errors surface through the calls that fail (the last one is named when a call finds the store
    // not connected: a wrong password is otherwise invisible); an unhandled 'error' event would crash the host.
    client.on('error', (e: unknown) => {
      this.lastError = e instanceof Error ? e.message : String(e);
    });
    client.on('ready', () => {
      this.lastError = null;
      this.preload();
      this.scheduleRetry(0);
    });
    if (client.status !== 'ready') {
      this.firstReady = new Promise<void>((resolve) => client.once('ready', () => resolve())).then(() => {
        this.firstReady = null;
      });
    }
    this.redis = client;
    if (client.status === 'ready') this.preload();
  }

  /** Loads the scripts on every primary as soon as a connection is ready (a burst of first calls then
   *  needs no EVAL fallback); commands on one connection run in order, so they follow the load. */
  private preload(): void {
    const targets = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    for (const t of targets) t.script('LOAD', this.cluster ? CLUSTER_LUA : BATCH_LUA).catch(() => undefined);
  }

  /** Queues one call for the next batch (sent when the event loop turns, or at once when the batch is
   *  full); resolves to the call's own reply. `wait`: the batch is followed by WAIT (waitReplicas). */
  private run(op: Op, keys: string[], args: Args, wait = false): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const call: Call = { op, keys, args, wait: wait && this.waitReplicas > 0, resolve, reject };
      if (!this.batching) return void this.send([call]);
      const node = this.cluster ? this.nodeOf(keys[0]!) : '';
      let q = this.queued.get(node);
      if (q === undefined) this.queued.set(node, (q = []));
      q.push(call);
      if (q.length >= BATCH_MAX) {
        this.queued.delete(node);
        void this.send(q);
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** The primary serving a key's slot, as the cluster client's slot map says ('' on a single node; the
   *  slot itself while the map does not know it): calls for one primary share a run. */
  private nodeOf(key: string): string {
    const slot = calculateSlot(key);
    return (this.redis as Cluster).slots[slot]?.[0] ?? `#${slot}`;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = [...this.queued.values()];
    this.queued.clear();
    for (const b of batches) void this.send(b);
  }

  /**
   * One script run for `calls` (all for one primary): EVALSHA, and EVAL when Redis does not know the
   * script yet (NOSCRIPT: nothing ran). The run declares one key, the first call's first, so the cluster
   * client routes it to that key's primary (a `MOVED` reply — nothing ran — is followed to the new one;
   * a call whose keys then live elsewhere fails alone, before writing). With waitReplicas, `WAIT` follows on the same connection (in a cluster pipeline
   * it goes to the node of the write before it); too few replicas fail the calls that asked for it.
   */
  private async send(calls: Call[]): Promise<void> {
    // The command's arguments in one array: sha, 1, the routing key, n, check, then every call's
    // header, keys and args.
    const sha = this.cluster ? CLUSTER_SHA : BATCH_SHA;
    const lua = this.cluster ? CLUSTER_LUA : BATCH_LUA;
    const cmd: (string | number)[] = [sha, 1, calls[0]!.keys[0]!, calls.length, this.cluster ? 1 : 0];
    for (const c of calls) {
      cmd.push(OP_INDEX[c.op], c.keys.length, c.args.length);
      for (const k of c.keys) cmd.push(k);
      for (const a of c.args) cmd.push(a);
    }
    const wait = calls.some((c) => c.wait);
    let reply: string;
    let acked = Infinity;
    try {
      if (!wait) {
        try {
          reply = (await this.redis.call('evalsha', cmd)) as string;
        } catch (e) {
          if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
          cmd[0] = lua;
          reply = (await this.redis.call('eval', cmd)) as string;
        }
      } else {
        const attempt = async (useEval: boolean) => {
          const p = this.redis.pipeline();
          cmd[0] = useEval ? lua : sha;
          p.call(useEval ? 'eval' : 'evalsha', cmd);
          p.wait(this.waitReplicas, this.waitTimeoutMs);
          return (await p.exec()) ?? [];
        };
        let res = await attempt(false);
        if (res[0]?.[0] instanceof Error && res[0][0].message.startsWith('NOSCRIPT')) res = await attempt(true);
        const [writeErr, value] = res[0] ?? [new Error('no reply'), null];
        if (writeErr) throw writeErr;
        reply = value as string;
        const [waitErr, n] = res[1] ?? [new Error('no reply'), 0];
        acked = waitErr ? -1 : Number(n);
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const c of calls) c.reject(err);
      return;
    }
    // One line per call: '1' and its reply, or '0' and its error.
    const lines = calls.length === 1 ? [reply] : reply.split('\n');
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!;
      const line = lines[i] ?? '0no reply';
      if (line.charCodeAt(0) !== 49 /* '1' */) c.reject(new Error(`redis budget store: ${c.op} failed: ${line.slice(1)}`));
      else if (c.wait && acked < this.waitReplicas) {
        c.reject(new Error(`redis budget store: the ${c.op} on ${c.keys[0]} reached ${Math.max(0, acked)} of ${this.waitReplicas} replicas within ${this.waitTimeoutMs} ms`));
      } else c.resolve(line.slice(1));
    }
  }

  /** Resolves once connected (optional: until the first connection, calls wait for it within their timeout). */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await this.withTimeout(
      new Promise<void>((resolve) => this.redis.once('ready', () => resolve())),
      timeoutMs,
      'connect',
    );
  }

  /**
   * Whether this Redis can serve decisions now (`rein serve`'s GET /ready): a write with a TTL on
   * `<prefix>ready` — which fails on a read-only replica (an old primary after a failover), on a Redis
   * out of memory under `noeviction`, and when Redis is down — and, for a store given one `url` or
   * `client` (not `nodes`), that the node is not part of a Redis Cluster (it would answer MOVED for
   * most counters). A read alone passes all of those while every decide fails (review h13r1 S7, S4).
   * Rejects with the reason; fails closed like a decide.
   */
  async probe(): Promise<void> {
    await this.withTimeout(this.probeOnce(), this.timeoutMs, 'ready probe');
  }

  private async probeOnce(): Promise<void> {
    await this.assertReady('ready probe');
    const r = this.redis as Redis;
    if (!this.cluster && this.clusterNode === null) {
      // INFO may be refused to this user (an ACL without @dangerous): then the node is not judged
      // (a decide on another node's slot still fails closed with MOVED).
      const info = await r.info('cluster').catch(() => null);
      if (info !== null) this.clusterNode = /^cluster_enabled:1\s*$/m.test(info);
    }
    if (this.clusterNode) {
      throw new Error(
        'redis budget store: this Redis is a node of a Redis Cluster, and a store given one URL reaches only the slots of that node ' +
          '(decisions on the others fail with MOVED): give the store the cluster (`nodes`), or use a single primary (docs/redis.md#redis-cluster)',
      );
    }
    await r.set(`${this.prefix}ready`, String(Date.now()), 'PX', 60_000);
  }

  /** The connection's last error, until it connects again. */
  private lastError: string | null = null;

  /** Whether the node is a cluster node (`INFO cluster`), learned by the first probe; null before. */
  private clusterNode: boolean | null = null;

  /**
   * Redis's `maxmemory-policy` (from `INFO memory`), or null when Redis does not say. Anything but
   * `noeviction` lets Redis evict counters under memory pressure, and an evicted counter starts again
   * from zero: the ceiling with it (docs/redis.md, "Failure modes").
   */
  async evictionPolicy(): Promise<string | null> {
    await this.assertReady('INFO memory');
    const info = await this.withTimeout((this.redis as Redis).info('memory'), this.timeoutMs, 'INFO memory');
    return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
  }

  /** Resolves at the first connection (at once when connected); no timer: pending for ever if Redis never answers. */
  connected(): Promise<void> {
    return this.firstReady ?? Promise.resolve();
  }

  /** How many releases wait for Redis to confirm them (retried in the background). */
  get unconfirmedReleases(): number {
    return this.unconfirmed.size;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    assertAmount(req.ttlMs, 'ttlMs');
    for (const it of req.items) {
      assertAmount(it.charge, 'charge', it.counterKey);
      assertAmount(it.limit, 'limit', it.counterKey);
    }
    const groups = this.groupsOf(req);
    if (req.commit && this.cluster && req.items.length > 0) this.remember(req, groups);
    try {
      // A single node, connected: one call, no async frame of its own (the common path, kept lean).
      const p = !this.cluster && this.redis.status === 'ready' ? this.reserveOne(req, groups[0]!) : this.reserveGroups(req, groups);
      return await this.withTimeout(p, this.timeoutMs, 'reserve');
    } catch (e) {
      // The outcome is unknown (a reply may be lost, or the script may still run): release by id. Not
      // for a duplicate id: nothing was written, and the id names someone else's reservation.
      if (e instanceof DuplicateReservation) throw e;
      if (req.commit && req.items.length > 0) void this.release(req.reservationId, req.now).catch(() => undefined);
      throw e;
    }
  }

  /** A reservation of one group (a single node): its reply is the whole result. */
  private reserveOne(req: ReserveRequest, group: Group): Promise<ReserveResult> {
    return this.runReserve(req, group, req.commit).then((f) => {
      const ok = this.replyCode(f, req.reservationId);
      const n = req.items.length;
      const items: ReserveItemResult[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = itemOf(f, i);
      return { ok: ok === 1, committed: f[1] === '1', items };
    });
  }

  /** A reserve reply's first field (1 ok, 0 refused); throws for a released (-1) or duplicate (-2) id. */
  private replyCode(f: string[], id: string): number {
    const code = Number(f[0]);
    if (code === -1) throw new Error(`redis budget store: reservation ${id} was released before it reached Redis`);
    if (code === -2) throw new DuplicateReservation(id);
    return code;
  }

  private async reserveGroups(req: ReserveRequest, groups: Group[]): Promise<ReserveResult> {
    await this.assertReady('reserve');
    const items: ReserveItemResult[] = new Array(req.items.length);
    let ok = true;
    let committed = false;
    const done: Group[] = [];
    // Cluster: the directory entry (id → record keys) is written beside the slot scripts.
    let dir: Promise<string | null> | null = null;
    if (this.cluster && req.commit && groups.length > 0) {
      dir = this.setDirectory(req.reservationId, JSON.stringify(groups.map((g) => g.record)), req.ttlMs + this.graceMs);
      dir.catch(() => undefined); // awaited below; a slot script that throws first leaves it unawaited
    }
    // Cluster: one script per slot, in slot order (two requests over the same slots never hold one
    // slot each and refuse each other); a refusal releases the slots already reserved.
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      const commit = req.commit && ok;
      let f: string[];
      let gok: number;
      try {
        f = await this.runReserve(req, group, commit);
        gok = this.replyCode(f, req.reservationId);
      } catch (e) {
        // Compensation: the slots already reserved give their reservation back.
        if (done.length > 0) await Promise.all(done.map((d) => this.releaseRecord(d.record, req.reservationId, req.now))).catch(() => undefined);
        this.known.delete(req.reservationId);
        throw e;
      }
      group.items.forEach((idx, i) => {
        items[idx] = itemOf(f, i);
      });
      if (f[1] === '1') done.push(group);
      if (gok !== 1) ok = false;
    }
    if (req.commit && ok && done.length > 0) committed = true;
    else if (done.length > 0) {
      // Compensation: a later slot refused, so the earlier slots give their reservation back.
      await Promise.all(done.map((g) => this.releaseRecord(g.record, req.reservationId, req.now)));
      this.known.delete(req.reservationId);
    }
    if (req.commit && !committed) this.known.delete(req.reservationId);
    if (dir !== null) {
      // The directory entry was written beside the slot scripts; a tombstone there means another
      // process released this reservation before the entry existed: give every slot back.
      const prev = await dir;
      if (prev !== null) {
        // A tombstone there: another process released this reservation before the entry existed. Any
        // other entry: the id names another live reservation (over other slots). Give every slot back.
        if (committed) await Promise.all(done.map((g) => this.releaseRecord(g.record, req.reservationId, req.now)));
        this.known.delete(req.reservationId);
        if (prev === DIR_TOMBSTONE) throw new Error(`redis budget store: reservation ${req.reservationId} was released before it reached Redis`);
        throw new DuplicateReservation(req.reservationId);
      }
      if (committed) {
        const k = this.known.get(req.reservationId);
        if (k) k.complete = true;
      } else this.dropDirectory(req.reservationId);
    }
    return { ok, committed, items };
  }

  /** The directory entry of a reservation on a cluster: its record keys, in a slot of its own (hashed
   *  from the id), so any process can settle or release it by id. */
  private dirKey(id: string): string {
    return /[{}]/.test(id) ? `${this.prefix}d:{#${createHash('sha1').update(id).digest('hex')}}` : `${this.prefix}d:{${id}}`;
  }

  /** Writes a directory entry unless present; resolves to the previous value (null: written). */
  private setDirectory(id: string, value: string, ms: number): Promise<string | null> {
    return this.run('setDir', [this.dirKey(id)], [value, ms]).then((r) => (r === '-' ? null : r.slice(1)));
  }

  /** Deletes a directory entry (best effort: it expires by TTL anyway), in the batch of its primary. */
  private dropDirectory(id: string): void {
    this.run('delDir', [this.dirKey(id)], []).catch(() => undefined);
  }

  /** The record keys of a reservation: remembered in process, else (cluster) from its directory entry. */
  private async lookupRecords(id: string): Promise<string[]> {
    if (!this.cluster) return [this.prefix + 'r:' + id];
    const k = this.known.get(id);
    if (k) return k.records;
    const v = (await this.redis.get(this.dirKey(id))) as string | null;
    return v === null || v === DIR_TOMBSTONE ? [] : (JSON.parse(v) as string[]);
  }

  /** One group's reserve script; resolves to its reply's fields: ok committed, then spent reserved
   *  exceeded per item. */
  private runReserve(req: ReserveRequest, group: Group, commit: boolean): Promise<string[]> {
    const keys: string[] = [group.record];
    const args: Args = [req.now, req.ttlMs, commit ? 1 : 0, this.graceMs, req.reservationId];
    for (const idx of group.items) {
      const it = req.items[idx]!;
      keys.push(this.counterHash(it.counterKey));
      const keepMs = it.expiresAt === null ? -1 : Math.max(0, it.expiresAt - req.now) + req.ttlMs + this.graceMs;
      args.push(it.limit, it.charge, keepMs, it.enforce ? 1 : 0, it.rolling ?? 0, modeArg(it.mode));
    }
    return this.run('reserve', keys, args, commit).then(fields);
  }

  async peek(counterKeys: string[], now: number): Promise<CounterState[]> {
    if (counterKeys.length === 0) return [];
    return this.withTimeout(this.peekGroups(counterKeys, now), this.timeoutMs, 'peek');
  }

  private async peekGroups(counterKeys: string[], now: number): Promise<CounterState[]> {
    await this.assertReady('peek');
    const out: CounterState[] = new Array(counterKeys.length);
    const bySlot = new Map<number, number[]>();
    counterKeys.forEach((k, i) => {
      const slot = this.cluster ? calculateSlot(this.base(k)) : 0;
      const list = bySlot.get(slot);
      if (list) list.push(i);
      else bySlot.set(slot, [i]);
    });
    await Promise.all(
      [...bySlot.values()].map(async (idxs) => {
        const keys = idxs.map((i) => this.counterHash(counterKeys[i]!));
        const flat = fields(await this.run('peek', keys, [now]));
        idxs.forEach((idx, i) => {
          const r = flat[2 * i + 1]!;
          const at = r.indexOf('@');
          out[idx] = at < 0 ? { spent: Number(flat[2 * i]), reserved: Number(r) } : { spent: Number(flat[2 * i]), reserved: Number(r.slice(0, at)), start: Number(r.slice(at + 1)) };
        });
      }),
    );
    return out;
  }

  async settle(reservationId: string, actuals: Actual[], now: number): Promise<SettleResult> {
    for (const a of actuals) assertAmount(a.amount, 'actual', a.counterKey);
    const args: Args = [now, reservationId];
    for (const a of actuals) args.push(this.base(a.counterKey), a.amount);
    let found: boolean;
    if (!this.cluster && this.redis.status === 'ready') {
      // A single node, connected: one call (the common path, kept lean).
      found = (await this.withTimeout(this.run('settle', [this.prefix + 'r:' + reservationId], args, true), this.timeoutMs, 'settle')) === '1';
    } else {
      found = await this.withTimeout(
        (async () => {
          await this.assertReady('settle');
          const records = await this.lookupRecords(reservationId);
          const results = await Promise.all(records.map((record) => this.run('settle', [record], args, true)));
          return results.some((r) => r === '1');
        })(),
        this.timeoutMs,
        'settle',
      );
    }
    if (this.cluster) {
      this.known.delete(reservationId);
      this.dropDirectory(reservationId);
    }
    return { found };
  }

  /**
   * Drop a reservation as if its actual usage were zero. Idempotent, and safe to call before the
   * reserve reached Redis (a tombstone then makes the late reserve commit nothing). When Redis does
   * not confirm it (timeout, no connection), the release is retried in the background until it is.
   */
  async release(reservationId: string, now: number): Promise<SettleResult> {
    let records: string[];
    if (!this.cluster) records = [this.prefix + 'r:' + reservationId];
    else {
      const k = this.known.get(reservationId);
      if (k?.complete) {
        records = k.records;
        this.dropDirectory(reservationId);
      } else if (k) {
        // The reserve's outcome is unknown: its directory entry may still be on its way — a tombstone
        // makes it fail (best effort: the records' own tombstones are what hold the charge back).
        records = k.records;
        this.redis.set(this.dirKey(reservationId), DIR_TOMBSTONE, 'PX', this.graceMs).catch(() => undefined);
      } else {
        // Made by another process (or forgotten here): its directory entry names its records; when there
        // is none yet, the tombstone left in its place makes the late reserve give its slots back.
        const prev = await this.withTimeout(
          (async () => {
            await this.assertReady('release');
            return this.setDirectory(reservationId, DIR_TOMBSTONE, this.graceMs);
          })(),
          this.timeoutMs,
          'release',
        );
        records = prev === null || prev === DIR_TOMBSTONE ? [] : (JSON.parse(prev) as string[]);
        if (records.length > 0) this.dropDirectory(reservationId);
      }
    }
    this.known.delete(reservationId);
    const results = await Promise.allSettled(records.map((r) => this.releaseRecord(r, reservationId, now)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { found: results.some((r) => r.status === 'fulfilled' && r.value) };
  }

  /** Release one record; on failure it joins the retry queue (and the call rejects). */
  private async releaseRecord(record: string, id: string, now: number): Promise<boolean> {
    try {
      const r = await this.withTimeout(
        (async () => {
          await this.assertReady('release');
          const args: Args = [now, id, this.graceMs];
          return this.run('release', [record], args, true);
        })(),
        this.timeoutMs,
        'release',
      );
      this.unconfirmed.delete(record);
      return r === '1';
    } catch (e) {
      if (!this.closed) {
        if (!this.unconfirmed.has(record)) {
          if (this.unconfirmed.size >= RETRY_CAP) this.unconfirmed.delete(this.unconfirmed.keys().next().value as string);
          this.unconfirmed.set(record, [id, now, Date.now() + this.graceMs]);
        }
        this.scheduleRetry(RETRY_MS);
      }
      throw e;
    }
  }

  private scheduleRetry(ms: number): void {
    if (this.closed || this.unconfirmed.size === 0 || this.retrying) return;
    if (this.retryTimer) {
      if (ms > 0) return;
      clearTimeout(this.retryTimer);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retryReleases();
    }, ms);
    this.retryTimer.unref?.();
  }

  /** Send every unconfirmed release again (each is idempotent); the failures stay queued. */
  private async retryReleases(): Promise<void> {
    if (this.retrying || this.closed) return;
    this.retrying = true;
    try {
      if (this.redis.status !== 'ready') return;
      const wall = Date.now();
      const batch = [...this.unconfirmed].slice(0, 10_000);
      await Promise.allSettled(
        batch.map(async ([record, [id, now, giveUpAt]]) => {
          if (wall > giveUpAt) {
            this.unconfirmed.delete(record);
            return;
          }
          const args: Args = [now, id, this.graceMs];
          await this.withTimeout(this.run('release', [record], args), this.timeoutMs, 'release');
          this.unconfirmed.delete(record);
        }),
      );
    } finally {
      this.retrying = false;
      this.scheduleRetry(RETRY_MS);
    }
  }

  /** Resolves once every unconfirmed release is confirmed, or rejects after `timeoutMs` (tests, shutdown). */
  async flushReleases(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.unconfirmed.size > 0) {
      if (Date.now() > until) throw new Error(`redis budget store: ${this.unconfirmed.size} releases not confirmed within ${timeoutMs} ms`);
      await this.retryReleases();
      if (this.unconfirmed.size > 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  async addSpent(counterKey: string, amount: number, expiresAt: number | null, now: number, mode?: CounterMode): Promise<void> {
    assertAmount(amount, 'amount');
    // a token bucket or anchored counter: the script keeps it until it reads like an unknown key
    const keepMs = mode !== undefined ? this.graceMs : expiresAt === null ? -1 : Math.max(0, expiresAt - now) + this.graceMs;
    const b = this.base(counterKey);
    await this.withTimeout(
      (async () => {
        await this.assertReady('addSpent');
        const keys = [b + 'c'];
        const args: Args = [now, amount, keepMs, modeArg(mode)];
        await this.run('addSpent', keys, args, true);
      })(),
      this.timeoutMs,
      'addSpent',
    );
  }

  /**
   * The counter keys (as the engine built them) this store holds, found with SCAN on the primary (every
   * master of a cluster). Read-only; for dashboards (`rein serve --redis` reads ceilings with it and
   * `peek`). `max` bounds how many are returned (default 10,000).
   */
  async *counterKeys(opts: { count?: number; max?: number } = {}): AsyncGenerator<string> {
    await this.assertReady('scan');
    const nodes: Redis[] = this.cluster ? (this.redis as Cluster).nodes('master') : [this.redis as Redis];
    const match = this.prefix.replace(/[*?[\]\\]/g, (c) => '\\' + c) + '{*c';
    let left = opts.max ?? 10_000;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.withTimeout(node.scan(cursor, 'MATCH', match, 'COUNT', opts.count ?? 1000), this.timeoutMs * 4, 'scan');
        cursor = next;
        for (const k of keys) {
          const counter = this.counterOf(k);
          if (counter === null) continue;
          yield counter;
          if (--left <= 0) return;
        }
      } while (cursor !== '0');
    }
  }

  /** The counter key K of a counter's hash `P{K}c` (or `P{#sha1(K)}Kc`), or null for any other key. */
  private counterOf(redisKey: string): string | null {
    if (!redisKey.startsWith(this.prefix)) return null;
    const rest = redisKey.slice(this.prefix.length);
    const plain = /^\{([^}]*)\}(:r-?\d+)?c$/.exec(rest);
    if (plain) return plain[1]!.startsWith('#') ? null : plain[1]! + (plain[2] ?? '');
    const hashed = /^\{#([0-9a-f]{40})\}([\s\S]*)c$/.exec(rest);
    if (hashed) {
      // a rolling sub-bucket's tag hashes its key without the `:r<n>` suffix
      const k = hashed[2]!;
      const m = ROLLING_SUFFIX.exec(k);
      const root = m === null ? k : k.slice(0, m.index);
      if (createHash('sha1').update(root).digest('hex') === hashed[1]) return k;
    }
    return null;
  }

  /** Single-use markers (approval token nonces): `SET key 1 NX PX ttl`, one atomic command. */
  async consumeOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    if (typeof key !== 'string') throw new TypeError('consumeOnce: key must be a string');
    const ttl = Math.max(1, Math.ceil(expiresAt - now));
    const k = this.prefix + 'o:{' + key + '}';
    const r = await this.withTimeout(
      (async () => {
        await this.assertReady('consumeOnce');
        return this.redis.set(k, '1', 'PX', ttl, 'NX');
      })(),
      this.timeoutMs,
      'consumeOnce',
    );
    return r === 'OK';
  }

  /** Closes the connection (only when the store created it). Unconfirmed releases are tried once more. */
  async close(): Promise<void> {
    if (this.unconfirmed.size > 0 && this.redis.status === 'ready') await this.retryReleases().catch(() => undefined);
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.ownsClient) return;
    // QUIT waits for a reply: bounded, so a cluster in flux (or a frozen Redis) cannot hang shutdown.
    try {
      await this.withTimeout(this.redis.quit(), this.timeoutMs, 'close');
    } catch {
      /* disconnect below */
    }
    this.redis.disconnect();
  }

  /** The counter's hash key (`B c`), memoised beside its base. */
  private counterHash(k: string): string {
    let c = this.hashCache.get(k);
    if (c === undefined) {
      c = this.base(k) + 'c';
      if (this.hashCache.size >= 100_000) this.hashCache.clear();
      this.hashCache.set(k, c);
    }
    return c;
  }

  /** The hash-tagged base of a counter's keys: `P{K}` (`P{#sha1(K)}K` when K contains `}`). */
  private base(k: string): string {
    let b = this.baseCache.get(k);
    if (b === undefined) {
      // A rolling window's sub-bucket (`…:r<n>`): the hash tag of the key without it, so every
      // sub-bucket of the counter is in one slot.
      const m = ROLLING_SUFFIX.exec(k);
      const root = m === null ? k : k.slice(0, m.index);
      const tail = k.slice(root.length);
      b = root.includes('}') ? `${this.prefix}{#${createHash('sha1').update(root).digest('hex')}}${k}` : `${this.prefix}{${root}}${tail}`;
      if (this.baseCache.size >= 100_000) this.baseCache.clear();
      this.baseCache.set(k, b);
    }
    return b;
  }

  /** The request's items grouped by hash slot (one group on a single node), in slot order. */
  private groupsOf(req: ReserveRequest): Group[] {
    if (!this.cluster) return [{ record: this.prefix + 'r:' + req.reservationId, slot: 0, items: req.items.map((_, i) => i) }];
    const bySlot = new Map<number, Group>();
    req.items.forEach((it: ReserveItem, i) => {
      const b = this.base(it.counterKey);
      const slot = calculateSlot(b);
      const g = bySlot.get(slot);
      if (g) g.items.push(i);
      else bySlot.set(slot, { record: b + 'r:' + req.reservationId, slot, items: [i] });
    });
    return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
  }

  private remember(req: ReserveRequest, groups: Group[]): void {
    const now = Date.now();
    // Forget reservations past their settle grace (insertion order is roughly expiry order).
    for (const [id, k] of this.known) {
      if (k.dropAt > now) break;
      this.known.delete(id);
    }
    this.known.set(req.reservationId, { records: groups.map((g) => g.record), dropAt: now + req.ttlMs + this.graceMs, complete: false });
  }

  private async assertReady(what: string): Promise<void> {
    if (this.redis.status === 'ready') return;
    const status = this.redis.status;
    // Before the first connection (a store used right after construction), wait for it within the
    // call's timeout — whatever the status says meanwhile (a cluster's first connect passes through
    // `close`; a lazy client is `wait`: review h13r1 S8); after a disconnect, fail fast: a decision
    // must not wait for a reconnect.
    if (this.firstReady && !this.closed && status !== 'end') {
      const start = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)));
      await Promise.race([this.firstReady, late]).finally(() => clearTimeout(timer));
      if ((this.redis.status as string) === 'ready' && Date.now() - start < this.timeoutMs) return;
      throw new Error(`redis budget store: not connected within ${this.timeoutMs} ms (status ${this.redis.status}${this.lastErrorText()}); ${what} refused`);
    }
    throw new Error(`redis budget store: not connected (status ${status}${this.lastErrorText()}); ${what} refused`);
  }

  /** The connection's last error (`WRONGPASS …`, `ECONNREFUSED …`) for a "not connected" message. */
  private lastErrorText(): string {
    return this.lastError ? `; last error: ${this.lastError.slice(0, 200)}` : '';
  }

  /** `p`, or a rejection when it takes longer than `ms`. Calls with the store's own timeout share ONE
   *  timer (their deadlines come in order), so a call costs no timer of its own. */
  private withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    if (ms === this.timeoutMs) {
      const deadlines = this.deadlines;
      return new Promise<T>((resolve, reject) => {
        const d = deadlines.add(() => reject(new Error(`redis budget store: ${what} timed out after ${ms} ms`)));
        p.then(
          (v) => {
            deadlines.done(d);
            resolve(v);
          },
          (e) => {
            deadlines.done(d);
            reject(e);
          },
        );
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis budget store: ${what} timed out after ${ms} ms`)), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer)) as Promise<T>;
  }
}
