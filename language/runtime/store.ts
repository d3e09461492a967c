// The budget store: where counters live. `MemoryBudgetStore` (one process) and the Redis store (many
// processes) implement this interface. The algorithm every implementation must follow is written
// down in docs/budgets.md ("The store algorithm"); the memory store is its reference implementation.
//
// Design constraints:
// - `reserve` is ONE atomic operation (one Lua script in Redis): every item is checked and, when all
//   enforced items fit, every item is reserved; otherwise nothing is written. There is no partial
//   reservation.
// - All amounts are non-negative safe integers in the budget's unit (micros for money).
// - Time is never read from the store's own clock: every call carries `now` (epoch ms) from the
//   engine's clock, so TTLs behave the same in tests, in the memory store and in Redis.
// - A counter key is opaque to the store (the engine builds it: budget name, window kind, canonical
//   JSON of the `by` tuple, window index). A store may add its own prefix.

export interface CounterState {
  /** Settled (or expired-unsettled) spend. For a token bucket: its level (what has not refilled yet). */
  spent: number;
  /** Sum of live, unsettled reservations. */
  reserved: number;
  /** Anchored counters only, once charged: the start of the current period (epoch ms). */
  start?: number;
}

/**
 * How a counter other than a plain window counter behaves (docs/budgets.md, "Rolling windows, token
 * buckets, anchored periods"). A store remembers it with the counter on the first write, so `peek`,
 * `settle` and `release` need no mode. Absent: a plain counter.
 * - `bucket`: a token bucket; the level (`spent`) drains by `refill` every `everyMs` (whole units:
 *   `floor(elapsed · refill / everyMs)`, the refill time advancing by `ceil(credit · everyMs / refill)`),
 *   reserved amounts do not drain until settled; the limit is the burst.
 * - `anchored`: periods of `periodMs` from the counter's first write (`start` = anchor + k·periodMs);
 *   a new period starts `spent` at 0 (live reservations stay reserved, then count in the period they
 *   settle or expire in).
 */
export type CounterMode = { kind: 'bucket'; refill: number; everyMs: number } | { kind: 'anchored'; periodMs: number };

export interface ReserveItem {
  counterKey: string;
  limit: number;
  /** Non-negative safe integer. */
  charge: number;
  /** The end of the counter's window (epoch ms), after which the key is never read for new decisions;
   *  null for lifetime counters. The store keeps the key a little longer (reservation TTL plus its
   *  settle grace) so late settles still land. */
  expiresAt: number | null;
  /** When true, this item exceeding its limit makes the whole reservation fail (`ok: false`).
   *  False for budgets whose exceeding does not block: `@monitor`, `on exceed warn|allow`, or an
   *  approved `require approval`. Their charges are still reserved when the reservation succeeds. */
  enforce: boolean;
  /** Rolling windows: the key names the current sub-bucket (`…:r<ordinal>`) and the `rolling`
   *  sub-buckets before it (`windows.ts` `rollingSiblings`) count with it: spent and reserved are
   *  their sums. The charge is reserved on the key itself. Absent or 0: the key alone. */
  rolling?: number;
  /** A token bucket or anchored counter (see `CounterMode`); absent: a plain counter. */
  mode?: CounterMode;
}

export interface ReserveRequest {
  reservationId: string;
  /** Evaluation time, epoch ms (the engine's clock). */
  now: number;
  /** Reservation lifetime: unsettled after `now + ttlMs`, the charge counts as spent. */
  ttlMs: number;
  /** False: check only (report the states, write nothing). */
  commit: boolean;
  items: ReserveItem[];
}

export interface ReserveItemResult extends CounterState {
  /** `spent + reserved + charge > limit`, with spent/reserved as they were BEFORE this request. */
  exceeded: boolean;
}

export interface ReserveResult {
  /** No enforced item exceeded. */
  ok: boolean;
  /** True when the charges were written (ok and commit, and at least one item). */
  committed: boolean;
  /** Parallel to the request's items: the states before this request's charge. */
  items: ReserveItemResult[];
}

export interface Actual {
  counterKey: string;
  /** Non-negative safe integer: the actual charge replacing the reserved estimate. */
  amount: number;
}

export interface SettleResult {
  /** False when the reservation is unknown (never made, already settled or released, or forgotten
   *  after its settle grace); nothing changed then. */
  found: boolean;
}

/**
 * A store's synchronous twin (sync support): the same operations as `BudgetStore`, each completing
 * before it returns, with exactly the effects of the async method of the same name. The engine calls
 * it directly in `decide` (no promise, timer or timeout per store call) and uses the fused path.
 */
export interface SyncBudgetStore {
  reserveSync(req: ReserveRequest): ReserveResult;
  peekSync(counterKeys: string[], now: number): CounterState[];
  settleSync(reservationId: string, actuals: Actual[], now: number): SettleResult;
  releaseSync(reservationId: string, now: number): SettleResult;
  addSpentSync(counterKey: string, amount: number, expiresAt: number | null, now: number, mode?: CounterMode): void;
  consumeOnceSync?(key: string, expiresAt: number, now: number): boolean;
}

/** The window kinds beyond fixed windows that a store implements (`BudgetStore.windowKinds`). */
export type StoreWindowKind = 'rolling' | 'bucket' | 'anchored';

export interface BudgetStore {
  /** The store's own call timeout (ms), when it has one: the engine's `storeTimeoutMs` defaults to it. */
  readonly timeoutMs?: number;
  /** Sync support, declared by the store: its synchronous twin when every async method is exactly
   *  that twin's operation (the memory store; null for a subclass that overrides an async method),
   *  else null/absent. A store that declares it gets the engine's fast path; the conformance suite
   *  (`rein/testing`, capability `sync`) checks the twin against the async methods. */
  readonly synchronous?: SyncBudgetStore | null;
  /** Which of `ReserveItem.rolling` and `mode` (`bucket`, `anchored`) the store implements. An engine
   *  whose policy uses a kind its store does not list fails those budgets closed (an error), rather
   *  than count them as plain counters. */
  readonly windowKinds?: readonly StoreWindowKind[];
  /** Check and (when `commit` and every enforced item fits) reserve all items atomically. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /** Current states (after expiring overdue reservations) for the given keys; zeros for unknown keys. */
  peek(counterKeys: string[], now: number): Promise<CounterState[]>;
  /** Replace a reservation's estimates by actual amounts. Counters missing from `actuals` keep
   *  their estimate. An already expired reservation (estimate counted as spent) is corrected by
   *  `actual - estimate`. */
  settle(reservationId: string, actuals: Actual[], now: number): Promise<SettleResult>;
  /** Drop a reservation as if its actual usage were zero. Idempotent. The engine also calls it for a
   *  reserve whose outcome is unknown (timeout, lost reply), possibly before that reserve reached the
   *  store: a store whose calls can arrive late (Redis) must then make the late reserve commit nothing. */
  release(reservationId: string, now: number): Promise<SettleResult>;
  /** Add pre-existing spend to a counter (test `spent`, CLI `--spent`, migrations). */
  addSpent(counterKey: string, amount: number, expiresAt: number | null, now: number, mode?: CounterMode): Promise<void>;
  /** Single-use markers (signed approval tokens with a nonce): true the first time `key` is consumed,
   *  false when it was consumed before and has not expired. The marker is kept until `expiresAt`
   *  (epoch ms). Optional: an engine verifying single-use tokens fails closed without it. */
  consumeOnce?(key: string, expiresAt: number, now: number): Promise<boolean>;
}

/** Throws unless `n` is a non-negative safe integer (a programming error at the store boundary). */
export function assertAmount(n: unknown, what: string, counterKey?: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    // The message is built only on failure (this runs for every item of every store call).
    throw new RangeError(`${what}${counterKey === undefined ? '' : ` for ${counterKey}`} must be a non-negative safe integer, got ${String(n)}`);
  }
}
