// The Engine: decisions with budgets (ceilings). Rules come from the compiled policy; budgets are
// planned here, checked and reserved in a BudgetStore in one atomic call, and settled later.
// See docs/budgets.md for the semantics and the store algorithm.

import type { CompiledPolicy, DecisionError, Env, RuleOutcome } from './compiled.js';
import { assembleDecision, type Approval, type BudgetOutcome, type Decision } from './decision.js';
import { hashValue } from './hash.js';
import { deepMerge, isPlainObject } from './values.js';
import { chargeProblem, planBudgets, viewOf, warnThreshold, type BudgetPlan } from './budgets.js';
import { MemoryBudgetStore } from './memory-store.js';
import type { BudgetStore, CounterState, ReserveItem, ReserveRequest, ReserveResult } from './store.js';
import { keyOf, counterKeyOf } from './budgets.js';
import { windowOf } from './windows.js';

/** What `onDecision` gets besides the decision: the request as given and the time `decide` took. */
export interface DecisionHookContext {
  request: unknown;
  latencyMs: number;
}

const clockMs: () => number =
  typeof globalThis.performance?.now === 'function' ? () => globalThis.performance.now() : () => Date.now();

/** What the engine needs from a compiled policy (`compile()`'s `Policy` has it). */
export interface PolicyLike {
  compiled: CompiledPolicy;
}

export type EngineMode = 'enforce' | 'monitor';

export interface EngineOptions {
  /** Where counters live (default: a new `MemoryBudgetStore`). */
  store?: BudgetStore;
  /** Evaluation time (default: `new Date()`). */
  clock?: () => Date;
  /** `monitor`: evaluate everything, enforce nothing — the effect is always `allow`, `would_effect`
   *  holds the enforce-mode effect, and nothing is reserved (counters are read, never written). */
  mode?: EngineMode;
  /** Called with every decision (audit log). A throwing or rejecting hook never breaks `decide`. */
  onDecision?: (d: Decision, ctx: DecisionHookContext) => void | Promise<void>;
  /** Called when `onDecision` throws or rejects (default: ignored). */
  onHookError?: (err: unknown) => void;
  /** Unsettled reservations expire after this long and then count their estimate as spent (default 15 min). */
  reservationTtlMs?: number;
  /** A store call slower than this fails the decision with the `on error` effect (default 5 s). */
  storeTimeoutMs?: number;
  /** Prepended to every counter key (separate policy sets sharing one store). Default: none. */
  keyPrefix?: string;
}

export interface DecideOptions {
  /** Granted approvals, each bound to a request hash; `rule` names a rule or a budget. */
  approvals?: readonly Approval[];
  explain?: boolean;
  /** Evaluation time for this decision (overrides the clock). */
  now?: Date;
  /** Tooling hook (test coverage): receives the rule and budget outcomes behind the decision. */
  trace?: (t: { rules: RuleOutcome[]; budgets: BudgetOutcome[] }) => void;
}

/** Everything `settle` needs, kept per reservation. */
interface Pending {
  request: unknown;
  decideTime: number;
  items: { plan: BudgetPlan; counterKey: string }[];
  dropAt: number;
}

/** A store operation requested by the decision algorithm. */
type StoreOp =
  | { op: 'peek'; keys: string[]; now: number }
  | { op: 'reserve'; req: ReserveRequest }
  | { op: 'release'; id: string; now: number };

/** A store that can also run synchronously (MemoryBudgetStore). */
interface SyncStore {
  peekSync(keys: string[], now: number): CounterState[];
  reserveSync(req: ReserveRequest): ReserveResult;
  releaseSync(id: string, now: number): unknown;
  addSpentSync(counterKey: string, amount: number, expiresAt: number | null, now: number): void;
}

const DEFAULT_TTL = 15 * 60 * 1000;
const DEFAULT_STORE_TIMEOUT = 5_000;
/** How long the engine remembers reservations for `settle` after they expire. */
const SETTLE_GRACE = 24 * 60 * 60 * 1000;

class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`budget store did not answer within ${ms} ms`);
    this.name = 'StoreTimeout';
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let idCounter = 0;
function newReservationId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  idCounter = (idCounter + 1) % 1e9;
  return `r-${Date.now().toString(36)}-${idCounter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

function clone<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}

export class Engine {
  readonly policy: PolicyLike;
  readonly store: BudgetStore;
  readonly mode: EngineMode;
  private readonly compiled: CompiledPolicy;
  private readonly clock: () => Date;
  private readonly onDecision?: (d: Decision, ctx: DecisionHookContext) => void | Promise<void>;
  private readonly onHookError?: (err: unknown) => void;
  private readonly ttlMs: number;
  private readonly storeTimeoutMs: number;
  private readonly keyPrefix: string;
  private readonly pending = new Map<string, Pending>();
  /** Settled reservation ids (until their grace ends), to reject a second `settle`. */
  private readonly settledIds = new Map<string, number>();
  private readonly settledDecisions = new WeakSet<object>();
  private lastPurge = -Infinity;

  constructor(policy: PolicyLike, opts: EngineOptions = {}) {
    if (!policy || !policy.compiled) throw new TypeError('Engine: expected a compiled policy (the result of `compile()`)');
    this.policy = policy;
    this.compiled = policy.compiled;
    this.store = opts.store ?? new MemoryBudgetStore();
    this.clock = opts.clock ?? (() => new Date());
    this.mode = opts.mode ?? 'enforce';
    if (this.mode !== 'enforce' && this.mode !== 'monitor') throw new TypeError(`Engine: unknown mode \`${String(this.mode)}\``);
    this.onDecision = opts.onDecision;
    this.onHookError = opts.onHookError;
    this.ttlMs = opts.reservationTtlMs ?? DEFAULT_TTL;
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs <= 0) throw new RangeError('Engine: reservationTtlMs must be a positive integer');
    this.storeTimeoutMs = opts.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT;
    this.keyPrefix = opts.keyPrefix ?? '';
  }

  /** Decide one request: rules, then budgets (reserved atomically when the effect is `allow`). Never
   *  throws on bad input or a failing store: those become the `on error` decision with `errors`. */
  async decide(request: unknown, opts: DecideOptions = {}): Promise<Decision> {
    const t0 = this.onDecision ? clockMs() : 0;
    const g = this.core(request, opts);
    let step = g.next();
    while (!step.done) {
      const op = step.value;
      let result: unknown;
      let failure: unknown;
      let failed = false;
      const call = this.runAsync(op);
      try {
        result = await this.withTimeout(call);
      } catch (e) {
        failed = true;
        failure = e;
        if (op.op === 'reserve' && op.req.commit) {
          // A late success must not leave a reservation behind.
          (call as Promise<ReserveResult>)
            .then((r) => (r.committed ? this.store.release(op.req.reservationId, op.req.now) : undefined))
            .catch(() => undefined);
        }
      }
      step = failed ? g.throw(failure) : g.next(result);
    }
    return this.emit(step.value, request, t0);
  }

  /**
   * `decide` without a microtask, for synchronous stores (`MemoryBudgetStore`, the default): the test
   * runner and `rein eval` use it. Throws a TypeError when the store is not synchronous.
   */
  decideSync(request: unknown, opts: DecideOptions = {}): Decision {
    const store = this.store as Partial<SyncStore>;
    if (typeof store.reserveSync !== 'function' || typeof store.peekSync !== 'function' || typeof store.releaseSync !== 'function') {
      throw new TypeError('decideSync needs a synchronous budget store (MemoryBudgetStore)');
    }
    const sync = store as SyncStore;
    const t0 = this.onDecision ? clockMs() : 0;
    const g = this.core(request, opts);
    let step = g.next();
    while (!step.done) {
      const op = step.value;
      let result: unknown;
      try {
        result = op.op === 'peek' ? sync.peekSync(op.keys, op.now) : op.op === 'reserve' ? sync.reserveSync(op.req) : sync.releaseSync(op.id, op.now);
      } catch (e) {
        step = g.throw(e);
        continue;
      }
      step = g.next(result);
    }
    return this.emit(step.value, request, t0);
  }

  private runAsync(op: StoreOp): Promise<unknown> {
    try {
      switch (op.op) {
        case 'peek':
          return this.store.peek(op.keys, op.now);
        case 'reserve':
          return this.store.reserve(op.req);
        case 'release':
          return this.store.release(op.id, op.now);
      }
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The decision algorithm, independent of how store calls run: it yields each store operation and
   *  receives its result (or has the failure thrown in). */
  private *core(request: unknown, opts: DecideOptions): Generator<StoreOp, Decision, unknown> {
    const nowDate = opts.now ?? this.clock();
    const now = nowDate.getTime();
    const c = this.compiled;
    const header = c.header;
    const base = {
      policy: { name: header.name, version: header.version ?? null, hash: c.hash },
      defaultEffect: header.default,
      onError: header.onError,
      currency: header.currency,
      approvals: opts.approvals ?? [],
      mode: this.mode,
      time: now,
      explain: opts.explain,
    };
    this.purge(now);

    // 1. Validate.
    const v = c.validate(request);
    if (!v.ok) return assembleDecision({ ...base, rules: [], errors: v.errors, requestHash: null });
    const input = v.value;
    let hash: string | null | undefined;
    const requestHash = (): string | null => {
      if (hash === undefined) {
        try {
          hash = hashValue(input);
        } catch {
          hash = null;
        }
      }
      return hash;
    };
    const env: Env = { input, now, budgets: {} };

    // 2. Plan budgets (applicability, keys, charges).
    const plans = planBudgets(c.budgets, env, this.keyPrefix);

    // 3. Views for the budgets rules read (a snapshot; the ceiling guarantee comes from step 5).
    const errors: DecisionError[] = [];
    if (c.budgetsReadByRules.length > 0) {
      const reads: { name: string; limit: number; counterKey: string | null }[] = [];
      for (const name of c.budgetsReadByRules) {
        const b = c.budgets.find((x) => x.name === name);
        if (!b) continue;
        try {
          const key = keyOf(b, env);
          reads.push({ name, limit: b.limit, counterKey: counterKeyOf(this.keyPrefix, b, key, windowOf(b.window, now)) });
        } catch {
          // no view: a rule reading it fails at run time and counts with the `on error` effect
        }
      }
      const keys = reads.filter((r) => r.counterKey !== null).map((r) => r.counterKey as string);
      let states: CounterState[] = [];
      try {
        if (keys.length > 0) states = (yield { op: 'peek', keys, now }) as CounterState[];
      } catch (e) {
        errors.push({ kind: 'store', message: `budget store failed: ${errorMessage(e)}` });
        return assembleDecision({ ...base, rules: [], errors, requestHash });
      }
      let i = 0;
      for (const r of reads) {
        const s = r.counterKey === null ? { spent: 0, reserved: 0 } : states[i++]!;
        env.budgets[r.name] = viewOf(r.limit, s.spent, s.reserved);
      }
    }

    // 4. Rules.
    const rules: RuleOutcome[] = c.evaluateRules(env, { explain: opts.explain });
    const applicable = plans.filter((p) => p.applies);
    const failedBudgets = applicable.filter((p) => p.error !== undefined).map((p) => this.outcome(p, 0, 0, false, env));
    const preliminary = assembleDecision({ ...base, mode: 'enforce', rules, budgets: failedBudgets, requestHash });

    // 5. Budgets: one atomic check-and-reserve. Charges are written only when the effect so far is
    //    `allow` (and in enforce mode); otherwise the call only reports the counters.
    const approved = new Set<string>();
    for (const a of base.approvals) {
      if (a && typeof a.rule === 'string' && a.request_hash === requestHash()) approved.add(a.rule);
    }
    // `per request` caps need no counter: an enforced one over its limit already decides.
    const capped = applicable.some((p) => p.error === undefined && p.counterKey === null && p.charge > p.budget.limit && this.enforced(p, approved));
    const commit = this.mode === 'enforce' && preliminary.effect === 'allow' && !capped;
    const counted = applicable.filter((p) => p.error === undefined && p.counterKey !== null);
    const items: ReserveItem[] = counted.map((p) => ({
      counterKey: p.counterKey as string,
      limit: p.budget.limit,
      charge: p.charge,
      expiresAt: p.window.end ? p.window.end.getTime() : null,
      enforce: this.enforced(p, approved),
    }));
    const reservationId = newReservationId();
    let result: ReserveResult = { ok: true, committed: false, items: [] };
    if (items.length > 0) {
      try {
        result = (yield { op: 'reserve', req: { reservationId, now, ttlMs: this.ttlMs, commit, items } }) as ReserveResult;
      } catch (e) {
        errors.push({ kind: 'store', message: `budget store failed: ${errorMessage(e)}` });
        const outcomes = applicable.map((p) => this.outcome(p, 0, 0, false, env, true));
        opts.trace?.({ rules, budgets: outcomes });
        return assembleDecision({ ...base, rules, budgets: outcomes, errors, requestHash });
      }
    }

    // 6. Outcomes and the decision.
    const outcomes: BudgetOutcome[] = [];
    let j = 0;
    for (const p of applicable) {
      if (p.error !== undefined) {
        outcomes.push(this.outcome(p, 0, 0, false, env));
      } else if (p.counterKey === null) {
        outcomes.push(this.outcome(p, 0, 0, p.charge > p.budget.limit, env)); // per request: caps one charge
      } else {
        const r = result.items[j++]!;
        outcomes.push(this.outcome(p, r.spent, r.reserved, r.exceeded, env));
      }
    }
    opts.trace?.({ rules, budgets: outcomes });
    const expires = new Date(now + this.ttlMs).toISOString();
    let decision = assembleDecision({
      ...base,
      rules,
      budgets: outcomes,
      errors,
      requestHash,
      reservation: result.committed ? { id: reservationId, expires } : null,
    });
    if (result.committed) {
      if (decision.effect !== 'allow') {
        // Only when an `on exceed` message failed after the check: never keep a reservation then.
        try {
          yield { op: 'release', id: reservationId, now };
        } catch {
          // the reservation expires by itself (conservatively counted)
        }
        decision = assembleDecision({ ...base, rules, budgets: outcomes, errors, requestHash, reservation: null });
      } else {
        this.pending.set(reservationId, {
          request: clone(request),
          decideTime: now,
          items: counted.map((p) => ({ plan: p, counterKey: p.counterKey as string })),
          dropAt: now + this.ttlMs + SETTLE_GRACE,
        });
      }
    }
    return decision;
  }

  /**
   * Replace a decision's reservation by the actual usage: `charge` is re-evaluated on the request
   * deep-merged with `usage` (validated like a request). Call once per decision; a second call throws.
   * A decision without a reservation settles to nothing. Throws (and leaves the reservation to expire
   * conservatively) when the merged request is invalid or a charge is unusable; rejects when the store fails.
   */
  async settle(decision: Decision, usage: unknown = {}): Promise<void> {
    if (!decision || typeof decision !== 'object') throw new TypeError('settle: expected a decision returned by decide()');
    if (this.settledDecisions.has(decision)) throw new Error('settle: this decision was already settled (settle is called once per decision)');
    const id = decision.reservation?.id;
    if (!id) {
      this.settledDecisions.add(decision);
      return;
    }
    if (this.settledIds.has(id)) throw new Error(`settle: reservation ${id} was already settled (settle is called once per decision)`);
    const p = this.pending.get(id);
    if (!p) {
      // Unknown here (another engine, or forgotten after its grace): the estimate stands.
      this.settledDecisions.add(decision);
      return;
    }
    if (usage !== null && usage !== undefined && !isPlainObject(usage)) throw new TypeError('settle: usage must be an object, e.g. { cost: { estimate: 0.031 } }');
    const merged = deepMerge(p.request, usage ?? {});
    const v = this.compiled.validate(merged);
    if (!v.ok) {
      const first = v.errors[0];
      throw new Error(`settle: the request merged with the usage is invalid: ${first ? `${first.path ?? '$'}: ${first.message}` : 'invalid'}`);
    }
    const env: Env = { input: v.value, now: p.decideTime, budgets: {} };
    const actuals = p.items.map(({ plan, counterKey }) => {
      let amount: number;
      try {
        amount = plan.budget.charge(env);
      } catch (e) {
        throw new Error(`settle: \`charge\` of budget \`${plan.budget.name}\` failed: ${errorMessage(e)}`);
      }
      const problem = chargeProblem(amount, plan.budget.unit);
      if (problem) throw new Error(`settle: budget \`${plan.budget.name}\`: ${problem}`);
      return { counterKey, amount };
    });
    // Mark first: a concurrent second settle must throw, not double-apply.
    this.pending.delete(id);
    this.settledIds.set(id, p.dropAt);
    this.settledDecisions.add(decision);
    try {
      await this.withTimeout(this.store.settle(id, actuals, this.clock().getTime()));
    } catch (e) {
      // Allow a retry; the reservation otherwise expires and counts its estimate.
      this.pending.set(id, p);
      this.settledIds.delete(id);
      this.settledDecisions.delete(decision);
      throw new Error(`settle: budget store failed: ${errorMessage(e)}`);
    }
  }

  /**
   * Add pre-existing spend for a request's counter of one budget (test `spent`, CLI `--spent`).
   * `amount` is in the budget's unit (integer micros for money). Throws on an invalid request or name.
   */
  async addSpent(request: unknown, budgetName: string, amount: number, now: Date = this.clock()): Promise<void> {
    const t = this.spentTarget(request, budgetName, amount, now);
    if (t) await this.store.addSpent(t.key, amount, t.expiresAt, now.getTime());
  }

  /** `addSpent` for synchronous stores (MemoryBudgetStore). */
  addSpentSync(request: unknown, budgetName: string, amount: number, now: Date = this.clock()): void {
    const store = this.store as Partial<SyncStore>;
    if (typeof store.addSpentSync !== 'function') throw new TypeError('addSpentSync needs a synchronous budget store (MemoryBudgetStore)');
    const t = this.spentTarget(request, budgetName, amount, now);
    if (t) store.addSpentSync(t.key, amount, t.expiresAt, now.getTime());
  }

  /** The counter key (for this request) of a budget; null for `per request` budgets. Throws on bad
   *  input or an unknown budget. */
  counterKeyFor(request: unknown, budgetName: string, now: Date = this.clock()): string | null {
    const b = this.compiled.budgets.find((x) => x.name === budgetName);
    if (!b) throw new Error(`unknown budget \`${budgetName}\``);
    const v = this.compiled.validate(request);
    if (!v.ok) throw new Error(`invalid request: ${v.errors[0]?.path ?? '$'}: ${v.errors[0]?.message ?? 'invalid'}`);
    const env: Env = { input: v.value, now: now.getTime(), budgets: {} };
    return counterKeyOf(this.keyPrefix, b, keyOf(b, env), windowOf(b.window, env.now));
  }

  private spentTarget(request: unknown, budgetName: string, amount: number, now: Date): { key: string; expiresAt: number | null } | null {
    const b = this.compiled.budgets.find((x) => x.name === budgetName);
    if (!b) throw new Error(`addSpent: unknown budget \`${budgetName}\``);
    const problem = chargeProblem(amount, b.unit);
    if (problem) throw new Error(`addSpent: ${problem.replace('charge', 'amount')}`);
    const key = this.counterKeyFor(request, budgetName, now);
    if (key === null) return null; // per request: no counter
    const win = windowOf(b.window, now.getTime());
    return { key, expiresAt: win.end ? win.end.getTime() : null };
  }

  // ------------------------------------------------------------------ internals

  /** Whether exceeding this budget blocks the reservation. */
  private enforced(p: BudgetPlan, approved: Set<string>): boolean {
    const b = p.budget;
    if (b.monitor) return false;
    if (b.onExceed.effect === 'deny') return true;
    if (b.onExceed.effect === 'require_approval') return !approved.has(b.name);
    return false;
  }

  private outcome(p: BudgetPlan, spent: number, reserved: number, exceeded: boolean, env: Env, unknownState = false): BudgetOutcome {
    const b = p.budget;
    const total = spent + reserved + p.charge;
    const o: BudgetOutcome = {
      name: b.name,
      unit: b.unit,
      key: p.key,
      limit: b.limit,
      spent,
      reserved,
      charge: p.charge,
      remaining: b.limit - total,
      window: p.window.start && p.window.end ? { start: p.window.start.toISOString(), end: p.window.end.toISOString() } : null,
      exceeded,
      warned: !unknownState && p.error === undefined && b.warnAt !== undefined && total >= warnThreshold(b.limit, b.warnAt),
      effect: b.onExceed.effect,
      location: b.location,
      annotations: b.annotations,
      monitor: b.monitor || undefined,
    };
    if (p.error !== undefined) o.error = p.error;
    if (exceeded && p.error === undefined) {
      try {
        if (b.onExceed.message) o.message = b.onExceed.message(env);
        if (b.onExceed.from) o.from = b.onExceed.from(env);
      } catch (e) {
        o.error = `\`on exceed\` failed: ${errorMessage(e)}`;
      }
    }
    if (!o.monitor) delete o.monitor;
    return o;
  }

  private async withTimeout<T>(p: Promise<T>): Promise<T> {
    if (!(this.storeTimeoutMs > 0) || !Number.isFinite(this.storeTimeoutMs)) return p;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeout(this.storeTimeoutMs)), this.storeTimeoutMs);
    });
    try {
      return await Promise.race([p, t]);
    } finally {
      clearTimeout(timer);
    }
  }

  private emit(d: Decision, request: unknown, t0: number): Decision {
    if (this.onDecision) {
      try {
        const r = this.onDecision(d, { request, latencyMs: clockMs() - t0 });
        if (r && typeof (r as Promise<void>).then === 'function') {
          (r as Promise<void>).then(undefined, (e) => this.hookError(e));
        }
      } catch (e) {
        this.hookError(e);
      }
    }
    return d;
  }

  private hookError(e: unknown): void {
    try {
      this.onHookError?.(e);
    } catch {
      // never let error reporting break a decision
    }
  }

  private purge(now: number): void {
    if (now - this.lastPurge < 60_000 && now >= this.lastPurge) return;
    this.lastPurge = now;
    for (const [id, p] of this.pending) if (now >= p.dropAt) this.pending.delete(id);
    for (const [id, until] of this.settledIds) if (now >= until) this.settledIds.delete(id);
  }
}
