// The Engine: decisions with budgets (ceilings). Rules come from the compiled policy; budgets are
// planned here, checked and reserved in a BudgetStore in one atomic call, and settled later.
// See docs/budgets.md for the semantics, the store algorithm and performance notes.

import type { CompiledBudget, CompiledPolicy, DecisionError, Env, FusedFinish, RuleOutcome } from './compiled.js';
import { groupSatisfies, type Approval, type BudgetOutcome, type Decision } from './decision.js';
import { assemble, countGrants, Entries, type Assembler } from './entries.js';
import { EFFECTS, blocksReservation } from './effects.js';
import { nonceKey, prepareApprovalKeys, verifyApprovalToken, type ApprovalKey } from './approvals.js';
import { deepMerge, formatDuration, isPlainObject, newRecord } from './values.js';
import { SettledIds } from './settled-ids.js';
import { KEPT_GIVEN, KEPT_LEAVES, KEPT_PATHS, KEPT_TREE, Kept, SettleData, flattenerOf, settleColumns, keepPaths, rebuildPaths, settlePaths, settleType, snapshot, unflattenAll, unflattenerOf, type FieldPath, type Flattener, type Unflattener } from './settle-data.js';
import { compileValidator } from './validate.js';
import { formatMicros, formatMoney } from './money.js';
import type { Type } from '../semantics/types.js';
import { BudgetPlanner, chargeProblem, counterModeOf, keyOf, counterKeyOf, liveWindow, viewOf, warnThreshold, type BudgetPlan } from './budgets.js';
import { MemoryBudgetStore } from './memory-store.js';
import type { Actual, BudgetStore, CounterMode, CounterState, ReserveItem, ReserveRequest, ReserveResult, SyncBudgetStore } from './store.js';
import { rollingShape, rollingSiblings, windowInfo, windowOf } from './windows.js';
import { hostApprovals, hostExplain, hostNow, hostOptions } from './host-options.js';
import { BoundExterns, ExternCalls, bindExterns, withCalls, type ExternImpls } from './externs.js';
import type { IrProgram } from './ir.js';

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
  /**
   * How long after a reservation expires the engine still keeps what `settle` needs (and remembers
   * a settled id, to refuse a second settle), for a late settle to correct the estimate that then
   * counts as spent (default 24 h; 0: forget at expiry). Each unsettled reservation costs memory until
   * then (docs/budgets.md). A settle after it changes nothing and the estimate stands, as for a
   * reservation this engine never made. Stores keep their own grace (`MemoryBudgetStore` and
   * `RedisBudgetStore` option `settleGraceMs`): a late settle corrects only within both.
   */
  settleGraceMs?: number;
  /** A store call slower than this fails the decision with the `on error` effect (default: the
   *  store's own `timeoutMs` when it declares one, else 5 s). A reserve that fails or times out is
   *  released by its id, whatever its outcome turns out to be. */
  storeTimeoutMs?: number;
  /** Prepended to every counter key (separate policy sets sharing one store). Default: none. */
  keyPrefix?: string;
  /**
   * Keys that verify signed approval tokens (`signApproval`). When set (even empty), an approval
   * counts only as a valid, unexpired token for this very request, rule and policy, whose group
   * matches the rule's `from`; anything else is ignored and reported in `errors` (kind `approval`),
   * never an allow. A token with a nonce is single use: consumed in the budget store. Without this
   * option approvals are trusted as given ("trusted callers only", docs/approvals.md).
   */
  approvalKeys?: readonly ApprovalKey[];
  /**
   * Implementations of the policy's `extern def`s by name (docs/externs.md), instead of or replacing
   * those given to `compile`. Checked here: a missing, extra or non-function one throws `PolicyError`
   * (REIN231). A policy that declares externs needs them (from here or from `compile`). `decide`
   * awaits asynchronous ones, each under its declared timeout.
   */
  externs?: ExternImpls;
}

export interface DecideOptions {
  /** Granted approvals, each bound to a request hash; `rule` names a rule or a budget. A string is a
   *  signed approval token (it needs the Engine option `approvalKeys`). */
  approvals?: readonly (Approval | string)[];
  explain?: boolean;
  /** Evaluation time for this decision (overrides the clock). */
  now?: Date;
  /** Tooling hook (test coverage): receives the rule and budget outcomes behind the decision. */
  trace?: (t: { rules: RuleOutcome[]; budgets: BudgetOutcome[] }) => void;
}

/** The options with `approvals` read once (a throwing getter or a non-list is a TypeError naming it). */
function checkedOptions(options: DecideOptions | null): DecideOptions {
  if (options === NO_OPTIONS) return options;
  const opts = hostOptions(options, 'decide') ?? NO_OPTIONS;
  if (opts === NO_OPTIONS) return opts;
  hostExplain(opts.explain, 'decide');
  if (!('approvals' in opts)) return opts;
  const approvals = hostApprovals(opts, 'decide');
  return { approvals, explain: opts.explain, now: opts.now, trace: opts.trace };
}

/** A store call of the decide algorithm (`Engine.steps`), made by the driver. */
type StoreCall =
  | { op: 'consume'; nonces: readonly Spend[]; now: number }
  | { op: 'peek'; keys: string[]; now: number }
  | { op: 'reserve'; req: ReserveRequest }
  | { op: 'release'; id: string; now: number };

/** A verified single-use token (its nonce's key in the store) and the approvals it gave. */
interface Spend {
  key: string;
  expiresAt: number;
  approvals: Approval[];
}

/** The single-use tokens decision `d` spends: those of the approvals that granted an entry, when the
 *  decision allows (in monitor mode: would allow), in key order; none otherwise. */
function spendable(run: Run, d: Decision): Spend[] {
  const used = run.entries.used;
  if (used === null || (d.would_effect ?? d.effect) !== 'allow') return [];
  const byKey = new Map<string, Spend>();
  for (const n of run.nonces!) {
    if (!used.includes(n.approval)) continue;
    const s = byKey.get(n.key);
    if (s === undefined) byKey.set(n.key, { key: n.key, expiresAt: n.expiresAt, approvals: [n.approval] });
    else {
      s.approvals.push(n.approval);
      if (n.expiresAt > s.expiresAt) s.expiresAt = n.expiresAt;
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** One store call of `steps`, made synchronously (throws what the store throws, except `consume`,
 *  which consumes the nonces in order and stops after the first that is not consumed). */
function callSync(sync: SyncBudgetStore, c: StoreCall): unknown {
  switch (c.op) {
    case 'consume': {
      const out: (boolean | undefined | Error)[] = [];
      for (const n of c.nonces) {
        let r: boolean | undefined | Error;
        if (typeof sync.consumeOnceSync !== 'function') r = undefined;
        else {
          try {
            r = sync.consumeOnceSync(n.key, n.expiresAt, c.now);
          } catch (e) {
            r = e instanceof Error ? e : new Error(String(e));
          }
        }
        out.push(r);
        if (r !== true) break;
      }
      return out;
    }
    case 'peek':
      return sync.peekSync(c.keys, c.now);
    case 'reserve':
      return sync.reserveSync(c.req);
    case 'release':
      return sync.releaseSync(c.id, c.now);
  }
}

const DEFAULT_TTL = 15 * 60 * 1000;
const DEFAULT_STORE_TIMEOUT = 5_000;
/** How long the engine remembers reservations for `settle` after they expire (the default). */
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

/** A random per-process prefix for reservation ids: ids must not collide between engines (and
 *  processes) sharing one store, so each is `<random prefix>-<counter>`. */
function randomPrefix(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `r-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}-${Math.random().toString(36).slice(2, 12)}`;
}
const ID_PREFIX = randomPrefix().replace(/-/g, '').slice(0, 20) + '-';
let idCounter = 0;
/** The last id made (its counter is `idCounter`). */
let lastId = '';
function newReservationId(): string {
  return (lastId = ID_PREFIX + (++idCounter).toString(36));
}
/** `IdIndex`'s group key of the ids with counters in `idGroup` × 1296 … + 1295 (all but their last
 *  two base-36 digits), made once per group. */
let idGroup = -1;
let idGroupKey = '';

/** Adds the settle data of reservation `id` to `index`: without reading the id's characters when it
 *  is the id just made (the fused path's case; from 1296 on, when it has two base-36 digits after
 *  its group key). */
function addKept(index: SettleData, id: string, kept: Kept): void {
  if (id !== lastId || idCounter < 1296) {
    index.add(id, kept);
    return;
  }
  const g = Math.floor(idCounter / 1296);
  if (g !== idGroup) {
    idGroup = g;
    idGroupKey = ID_PREFIX + g.toString(36);
  }
  index.addIn(idGroupKey, idCounter % 1296, id, kept);
}

/** The result of reserving no items. */
const NOTHING_RESERVED: ReserveResult = Object.freeze({ ok: true, committed: false, items: Object.freeze([]) as unknown as [] }) as ReserveResult;
const NO_OPTIONS: DecideOptions = Object.freeze({});
/** Passes of `decideGathering` at most (a call whose argument is another call's result needs one more). */
const MAX_EXTERN_ROUNDS = 16;
const NO_VIEWS: Env['budgets'] = Object.freeze({}) as Env['budgets'];

/** A budget that rules read (`team.used`): its limit for this request and the counters of its view. */
interface ViewRead {
  name: string;
  limit: number;
  counterKey: string | null;
  rolling: number;
}
const NO_APPROVALS: readonly Approval[] = Object.freeze([]);
/** A group no approval has: `approvedBudgets` when a budget's `from` fails. */
const UNKNOWN_GROUP = '\u0000unknown group';
const EXPLAIN_ON = Object.freeze({ explain: true });
const EXPLAIN_OFF = Object.freeze({ explain: undefined });

/** One decision in progress: what the steps between store calls share. */
class Run {
  input: Record<string, unknown> = EMPTY_INPUT;
  env: Env | null = null;
  /** The decision's entries (and its request hash): created when the request is validated. */
  entries: Entries = NO_ENTRIES;
  plans: BudgetPlan[] = [];
  rules: RuleOutcome[] = [];
  /** The counted budgets (a counter, no error), parallel to the reserve request's items. */
  counted: BudgetPlan[] = [];
  /** Budgets whose approval was granted for this request (their exceeding does not block). */
  approved: Set<string> | null = null;
  reservationId = '';
  /** Budgets that rules read, with their counter keys (null: no counter). */
  reads: ViewRead[] | null = null;
  peekKeys: string[] | null = null;
  /** Set by `finish` when a committed reservation must be released (the decision is not `allow`). */
  release = false;
  /** Approvals given but not counted (invalid tokens, replays): reported in the decision's `errors`. */
  approvalErrors: DecisionError[] | null = null;
  /** The decision's host-function calls (null: the policy declares no `extern def`). */
  externCalls: ExternCalls | null = null;
  /** Verified single-use tokens still to consume: the approval and its nonce key. */
  nonces: { approval: Approval; key: string; expiresAt: number }[] | null = null;
  constructor(
    readonly request: unknown,
    readonly opts: DecideOptions,
    readonly now: number,
    public approvals: readonly Approval[],
  ) {}
  /** The request hash, computed on first use (the decision's `request_hash` getter, approvals). */
  requestHash(): string | null {
    return this.entries.get();
  }
}

const EMPTY_INPUT: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
const NO_ENTRIES = new Entries(undefined, 0);

export class Engine {
  readonly policy: PolicyLike;
  readonly store: BudgetStore;
  readonly mode: EngineMode;
  private readonly compiled: CompiledPolicy;
  private readonly clock: (() => Date) | null;
  private readonly onDecision?: (d: Decision, ctx: DecisionHookContext) => void | Promise<void>;
  private readonly onHookError?: (err: unknown) => void;
  private readonly ttlMs: number;
  /** `settleGraceMs`. */
  private readonly graceMs: number;
  private readonly storeTimeoutMs: number;
  private readonly keyPrefix: string;
  private readonly planner: BudgetPlanner;
  /** What `assemble` needs besides the entries (policy, default effect, mode). */
  private readonly how: Assembler;
  /** The store's synchronous twin when it declares one (`BudgetStore.synchronous`): `decide` then
   *  calls it directly, without promises or timers, and takes the fused path. */
  private readonly sync: SyncBudgetStore | null;
  /** Settle data, by reservation id: its one home, whatever the store (settle-data.ts `SettleData`:
   *  columns of typed arrays for the usual case, `Kept` objects for the rest). */
  private readonly pending: SettleData;
  /** Settled reservation ids (until their grace ends), to reject a second `settle`. */
  private readonly settledIds = new SettledIds(ID_PREFIX);
  private readonly settledDecisions = new WeakSet<object>();
  /** The input type when settle may start from the validated request (`keepsValidated`), else null;
   *  `rawFormNeeded`: it has money or time values (which `rawForm` converts back). */
  private readonly inputType: Type | null;
  private readonly rawFormNeeded: boolean;
  /** The request fields the budgets' charges read (settle-data.ts `settlePaths`): `settle` keeps
   *  only those; null: they cannot be known, and the flattener keeps the whole request. */
  private readonly paths: readonly FieldPath[] | null;
  /** `settle`'s validator of a kept request merged with usage (`settleType`), made on first use. */
  private settleValidator: ((request: unknown) => ReturnType<CompiledPolicy['validate']>) | null = null;
  /** The input type's flattener (`Kept`), its most leaves and its inverse; null without an input type
   *  or when `paths` are known. */
  private readonly flattener: { flatten: Flattener; leaves: number; unflatten: Unflattener } | null;
  /** `Kept.at` is the decision time minus this (the first kept decision's time): a small integer. */
  private timeBase = NaN;
  /** `needsRawForm` by type (memo): `toRawForm` shares the parts that need no conversion. */
  private readonly rawFormTypes = new Map<Type, boolean>();
  private lastPurge = -Infinity;
  private expiresFor = NaN;
  private expiresIso = '';
  /** The fused path's last step (`compiled.fused` calls it with the rule entry lists); null when the
   *  policy has no fused function or rules read budgets (views must be read before the rules). */
  private readonly fusedFinish: FusedFinish | null;
  /** Prepared `approvalKeys` (null: approvals are trusted as given). */
  private readonly approvalKeys: ReturnType<typeof prepareApprovalKeys> | null;
  /** The policy's `extern def`s with their implementations (null: it declares none). */
  private readonly externs: BoundExterns | null;
  constructor(policy: PolicyLike, opts: EngineOptions = {}) {
    if (!policy || !policy.compiled) throw new TypeError('Engine: expected a compiled policy (the result of `compile()`)');
    this.policy = policy;
    this.compiled = policy.compiled;
    this.store = opts.store ?? new MemoryBudgetStore();
    this.clock = opts.clock ?? null;
    this.mode = opts.mode ?? 'enforce';
    if (this.mode !== 'enforce' && this.mode !== 'monitor') throw new TypeError(`Engine: unknown mode \`${String(this.mode)}\``);
    this.onDecision = opts.onDecision;
    this.onHookError = opts.onHookError;
    this.ttlMs = opts.reservationTtlMs ?? DEFAULT_TTL;
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs <= 0) throw new RangeError('Engine: reservationTtlMs must be a positive integer');
    this.graceMs = opts.settleGraceMs ?? SETTLE_GRACE;
    if (!Number.isSafeInteger(this.graceMs) || this.graceMs < 0) throw new RangeError('Engine: settleGraceMs must be a non-negative integer (ms)');
    // One timeout: a store that declares its own (the Redis store's `timeoutMs`) sets the default.
    this.storeTimeoutMs = opts.storeTimeoutMs ?? (typeof this.store.timeoutMs === 'number' && this.store.timeoutMs > 0 ? this.store.timeoutMs : DEFAULT_STORE_TIMEOUT);
    this.keyPrefix = opts.keyPrefix ?? '';
    this.approvalKeys = opts.approvalKeys === undefined ? null : prepareApprovalKeys(opts.approvalKeys);
    this.planner = new BudgetPlanner(this.compiled.budgets, this.keyPrefix, this.store.windowKinds ?? []);
    this.externs = this.bindExterns(opts.externs);
    const header = this.compiled.header;
    this.how = { policy: Object.freeze({ name: header.name, version: header.version ?? null, hash: this.compiled.hash }), defaultEffect: header.default, mode: this.mode };
    if (this.compiled.redact !== undefined) this.how.redact = this.compiled.redact;
    this.sync = directSyncBudgetStore(this.store);
    this.inputType = (this.compiled.program as { inputType?: Type } | undefined)?.inputType ?? null;
    this.rawFormNeeded = this.inputType !== null && needsRawForm(this.inputType, this.rawFormTypes);
    this.paths = settlePaths(this.compiled.ir, this.inputType);
    this.pending = new SettleData(ID_PREFIX, this.paths, settleColumns.on);
    this.flattener = this.inputType !== null && this.paths === null ? { ...flattenerOf(this.inputType), unflatten: unflattenerOf(this.inputType) } : null;
    this.fusedFinish = this.compiled.fused !== undefined && this.compiled.budgetsReadByRules.length === 0 && this.inputType !== null ? this.makeFusedFinish() : null;
  }

  /** The policy's externs bound to `impls` (or to those given to `compile`); throws PolicyError
   *  (REIN231) when they do not match or when a policy that declares externs has none. */
  private bindExterns(impls: ExternImpls | undefined): BoundExterns | null {
    const c = this.compiled;
    const decls = c.ir?.externs;
    if (!decls || decls.length === 0) {
      if (impls !== undefined && Object.keys(impls).length > 0) bindExterns(c.program, c.ir ?? ({ externs: [] } as unknown as IrProgram), impls, 'Engine');
      return null;
    }
    const bound = impls !== undefined ? bindExterns(c.program, c.ir!, impls, 'Engine') : (c.externs ?? null);
    if (bound === null || bound.impls === null) {
      bindExterns(c.program, c.ir!, {}, 'Engine'); // throws: every declared extern is missing
    }
    return bound;
  }

  /** Whether `decideSync` gives the decision `decide` would: a synchronous store and no host
   *  functions (`extern def`, which `decide` may have to await). */
  get decidesSynchronously(): boolean {
    return this.sync !== null && this.externs === null;
  }

  /** Decide one request: rules, then budgets (reserved atomically when the effect is `allow`). Never
   *  rejects on bad input or a failing store: those become the `on error` decision with `errors`. */
  decide(request: unknown, opts: DecideOptions = NO_OPTIONS): Promise<Decision> {
    try {
      opts = checkedOptions(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.externs !== null) return this.decideGathering(request, opts);
    if (this.sync !== null) {
      try {
        return Promise.resolve(this.decideWith(this.sync, request, opts));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.decideAsync(request, opts);
  }

  /**
   * With host functions: evaluate (plan and rules) while calls are pending, awaiting them between
   * passes (each call is bounded by its timeout), then decide with every result cached (mode
   * `final`: a call first made then cannot be awaited and fails). Evaluation is pure, so the
   * decision is the one a synchronous host would have got.
   */
  private async decideGathering(request: unknown, opts: DecideOptions): Promise<Decision> {
    const now = this.timeOf(opts);
    const calls = new ExternCalls(this.externs!, 'gather');
    const v = this.compiled.validate(request);
    if (v.ok) {
      const env: Env = { input: v.value, now, budgets: {}, externs: calls };
      const redact = this.how.redact;
      for (let round = 0; round < MAX_EXTERN_ROUNDS; round++) {
        try {
          this.planner.plan(env);
        } catch {
          // a failing budget clause is reported by the real pass
        }
        // The views the rules read, as the real pass will peek them: a call reached only once a view
        // is known (`team.used >= 50% and judge(prompt)`) is gathered too.
        if (this.compiled.budgetsReadByRules.length > 0) {
          try {
            const { reads, keys } = this.viewReads(env, now);
            const states = keys.length === 0 ? [] : this.sync !== null ? this.sync.peekSync(keys, now) : await this.withTimeout(callStore(() => this.store.peek(keys, now)));
            fillViews(env, reads, states);
          } catch {
            // a failing store is reported by the real pass
          }
        }
        this.compiled.evaluateRules(env, EXPLAIN_OFF);
        // `redact` rules' conditions call host functions too (their transforms are made by the real pass).
        if (redact !== undefined) {
          const scratch = new Entries(v.value, now);
          scratch.externs = calls;
          redact(scratch, now, 'enforce');
        }
        if (calls.pending.size === 0) break;
        await calls.drain();
      }
    }
    calls.mode = 'final';
    if (this.sync !== null) return this.decideWith(this.sync, request, opts, now, calls);
    return this.decideAsync(request, opts, now, calls);
  }

  /**
   * `decide` without a microtask, for synchronous stores (`MemoryBudgetStore`, the default): the test
   * runner and `rein eval` use it. Throws a TypeError when the store is not synchronous.
   */
  decideSync(request: unknown, opts: DecideOptions = NO_OPTIONS): Decision {
    const store = this.sync ?? (this.store as Partial<SyncBudgetStore>);
    if (typeof store.reserveSync !== 'function' || typeof store.peekSync !== 'function' || typeof store.releaseSync !== 'function') {
      throw new TypeError('decideSync needs a synchronous budget store (MemoryBudgetStore)');
    }
    opts = checkedOptions(opts);
    const calls = this.externs !== null ? new ExternCalls(this.externs, 'sync') : undefined;
    return this.decideWith(store as SyncBudgetStore, request, opts, this.timeOf(opts), calls);
  }

  /** The synchronous driver: the fused path when it applies, else `steps` with each store call made
   *  synchronously. */
  private decideWith(sync: SyncBudgetStore, request: unknown, opts: DecideOptions, now: number = this.timeOf(opts), calls?: ExternCalls): Decision {
    const t0 = this.onDecision ? clockMs() : 0;
    if (
      this.fusedFinish !== null &&
      sync === this.sync &&
      this.mode === 'enforce' &&
      !opts.explain &&
      opts.trace === undefined &&
      (opts.approvals === undefined || opts.approvals === null || opts.approvals.length === 0)
    ) {
      const d = this.decideFused(request, now);
      if (d !== undefined) return this.emit(d, request, t0);
    }
    const steps = this.steps(request, opts, now, calls);
    let r = steps.next();
    while (!r.done) {
      let v: unknown;
      try {
        v = callSync(sync, r.value);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next(v);
    }
    return this.emit(r.value, request, t0);
  }

  /** The asynchronous driver: `steps` with each store call awaited under the store timeout. */
  private async decideAsync(request: unknown, opts: DecideOptions, now: number = this.timeOf(opts), calls?: ExternCalls): Promise<Decision> {
    const t0 = this.onDecision ? clockMs() : 0;
    const steps = this.steps(request, opts, now, calls);
    let r = steps.next();
    while (!r.done) {
      let v: unknown;
      try {
        v = await this.callAsync(r.value);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next(v);
    }
    return this.emit(r.value, request, t0);
  }

  /**
   * The decide algorithm, written once (docs/budgets.md "How a decision is made"): validate → verify
   * approvals → read the budget views rules use → rules → plan budgets → reserve → assemble → release
   * a reservation the decision does not keep → when it allows, consume the single-use tokens that
   * granted it (one refused: release, and decide again without it). Every store call is
   * yielded to the driver (`decideWith`: synchronous, `decideAsync`: awaited with a timeout), which
   * answers with its result or throws its failure back in here. A failure becomes the decision.
   */
  private *steps(request: unknown, opts: DecideOptions, now: number, calls?: ExternCalls): Generator<StoreCall, Decision, unknown> {
    const first = this.begin(request, opts, now, calls);
    if (!(first instanceof Run)) return first;
    let run = first;
    for (;;) {
      let d: Decision | null = null;
      if (run.peekKeys !== null) {
        let states: CounterState[] | null = null;
        try {
          states = (yield { op: 'peek', keys: run.peekKeys, now: run.now }) as CounterState[];
        } catch (e) {
          d = this.storeFailedBeforeRules(run, e);
        }
        if (states !== null) this.applyViews(run, states);
      }
      if (d === null) {
        const req = this.evaluate(run);
        let result = NOTHING_RESERVED;
        if (req !== null) {
          try {
            result = (yield { op: 'reserve', req }) as ReserveResult;
          } catch (e) {
            d = this.storeFailedAtReserve(run, e);
          }
        }
        if (d === null) {
          try {
            d = this.finish(run, result);
          } catch (e) {
            // A bug after a committed reserve: do not leave the reservation behind (as the fused path).
            if (result.committed) {
              try {
                yield { op: 'release', id: run.reservationId, now: run.now };
              } catch {
                // it expires by itself (conservatively counted)
              }
            }
            throw e;
          }
          if (run.release) {
            try {
              yield { op: 'release', id: run.reservationId, now: run.now };
            } catch {
              // the reservation expires by itself (conservatively counted)
            }
          }
        }
      }
      if (run.nonces === null) return d;
      // Single-use tokens are spent only by a decision they let through (docs/approvals.md "Single
      // use"): consumed now, after the decision, one by one in key order, stopping at the first that
      // is not (so two decisions racing for the same tokens cannot each spend a part of a quorum).
      const spend = spendable(run, d);
      if (spend.length === 0) return d;
      // Never throws: true, false (a replay), undefined (the store cannot) or an Error, for each nonce tried.
      const results = (yield { op: 'consume', nonces: spend, now: run.now }) as (boolean | undefined | Error)[];
      const dropped = this.consumeNonces(run, spend, results);
      if (dropped === null) return d;
      // A token was replayed (another decision spent it first) or could not be consumed: it does not
      // count, and the decision is made again without it; what this one reserved is given back.
      if (d.reservation !== null) {
        this.pending.delete(run.reservationId);
        try {
          yield { op: 'release', id: run.reservationId, now: run.now };
        } catch {
          // the reservation expires by itself (conservatively counted)
        }
      }
      run = this.again(run, dropped);
    }
  }

  /** One store call of `steps`, awaited under the store timeout. */
  private async callAsync(c: StoreCall): Promise<unknown> {
    const store = this.store;
    switch (c.op) {
      case 'consume': {
        // One by one, in order, stopping after the first not consumed (as `callSync`).
        const out: (boolean | undefined | Error)[] = [];
        for (const n of c.nonces) {
          let r: boolean | undefined | Error;
          if (typeof store.consumeOnce !== 'function') r = undefined;
          else {
            try {
              r = await this.withTimeout(callStore(() => store.consumeOnce!(n.key, n.expiresAt, c.now)));
            } catch (e) {
              r = e instanceof Error ? e : new Error(String(e));
            }
          }
          out.push(r);
          if (r !== true) break;
        }
        return out;
      }
      case 'peek':
        return this.withTimeout(callStore(() => store.peek(c.keys, c.now)));
      case 'release':
        return this.withTimeout(callStore(() => store.release(c.id, c.now)));
      case 'reserve': {
        const req = c.req;
        const call = callStore(() => store.reserve(req));
        try {
          return await this.withTimeout(call);
        } catch (e) {
          if (req.commit) {
            // The outcome is unknown: release by id now (a store with tombstones, like the Redis store,
            // then refuses the reserve should it arrive later), and again after a late success (for
            // stores without tombstones). Deliberately twice: release is idempotent.
            callStore(() => store.release(req.reservationId, req.now)).catch(() => undefined);
            call.then((r) => (r.committed ? store.release(req.reservationId, req.now) : undefined)).catch(() => undefined);
          }
          throw e;
        }
      }
    }
  }

  /** The evaluation time of one decision (read once). */
  private timeOf(opts: DecideOptions): number {
    if (opts.now != null) return hostNow(opts.now, 'decide', false);
    if (this.clock === null) return Date.now();
    const t = this.clock();
    return t instanceof Date && !Number.isNaN(t.getTime()) ? t.getTime() : hostNow(t, 'Engine clock', false);
  }

  /**
   * The common case in one pass (synchronous store, enforce mode, no approvals, no explanation, rules
   * that read no budget): the policy's fused function validates the request, evaluates the rules
   * into entry lists and calls `fusedFinish`, which plans the budgets, reserves, assembles and keeps
   * what `settle` needs. The same decisions as the general path (test/runtime/engine-fused.test.ts).
   * Undefined when the quick validator rejects the request: the general path then reports it.
   */
  private decideFused(request: unknown, now: number): Decision | undefined {
    this.purge(now);
    return this.compiled.fused!(request, now, NO_VIEWS, this.fusedFinish!);
  }

  /** The fused path's last step (see `decideFused`): the rules' entries are in `E`. Everything it
   *  needs per call is local to the call. A store failure becomes the decision, nothing is thrown. */
  private makeFusedFinish(): FusedFinish {
    const how = this.how;
    const header = this.compiled.header;
    const onError = header.onError;
    const sync = this.sync as SyncBudgetStore;
    return (E, input, now, env, request) => {
      const plans = this.planner.plan(env);
      const np = plans.length;
      if (np === 0) return assemble(E, how, now);
      // `classifyPlans` without its result object (no approvals here).
      let capped = false;
      let failed = false;
      let n = 0;
      for (let i = 0; i < np; i++) {
        const p = plans[i]!;
        if (p.error !== undefined) failed = true;
        else if (p.counterKey === null) {
          if (p.charge > p.limit && enforced(p, null)) capped = true;
        } else n++;
      }
      const counted = n === np ? plans : countedOf(plans, n);
      let result = NOTHING_RESERVED;
      let reservationId = '';
      if (n > 0) {
        // Charges are written only when the rules (and failed budgets) so far allow.
        const soFar = E.effectSoFar(header.default, failed ? failedBudgetsEffect(plans, onError) : null);
        reservationId = newReservationId();
        try {
          result = sync.reserveSync({ reservationId, now, ttlMs: this.ttlMs, commit: !capped && EFFECTS[soFar].keepsReservation, items: itemsOf(counted, null) });
        } catch (e) {
          return this.storeFailed(E, plans, env, e, now);
        }
      }
      const reservation = result.committed ? { id: reservationId, expires: this.expires(now) } : null;
      try {
        // The outcomes, placed as `E.budgetList(this.outcomesOf(…))` would: one that neither failed
        // nor is exceeded (the usual case) without its outcome object.
        const items = result.items;
        for (let i = 0, j = 0; i < np; i++) {
          const p = plans[i]!;
          if (p.error !== undefined) E.budget(this.outcome(p, 0, 0, false, env), onError);
          else if (p.counterKey === null) {
            if (p.charge > p.limit) E.budget(this.outcome(p, 0, 0, true, env), onError);
            else this.within(E, p, 0, 0, env, undefined);
          } else {
            const r = items[j++]!;
            if (r.exceeded) E.budget(this.outcome(p, r.spent, r.reserved, true, env, false, r.start), onError);
            else this.within(E, p, r.spent, r.reserved, env, r.start);
          }
        }
        const d = assemble(E, how, now, reservation);
        if (reservation === null) return d;
        if (EFFECTS[d.effect].keepsReservation) this.keepForSettle(reservationId, hasObjectKey(counted) ? null : input, request, counted, now);
        else {
          // An `on exceed` message failed after the check: never keep a reservation then.
          d.reservation = null;
          try {
            sync.releaseSync(reservationId, now);
          } catch {
            // the reservation expires by itself (conservatively counted)
          }
        }
        return d;
      } catch (e) {
        // A bug after a committed reserve: do not leave the reservation behind.
        if (reservation !== null) {
          try {
            sync.releaseSync(reservationId, now);
          } catch {
            // it expires by itself (conservatively counted)
          }
        }
        throw e;
      }
    };
  }

  // The decision algorithm, in steps between store calls (the same for synchronous and async stores).

  /** The decision from a run's entries (approvals that did not count are added to its errors). */
  private decision(run: Run, E: Entries, reservation: { id: string; expires: string } | null): Decision {
    const d = assemble(E, this.how, run.now, reservation);
    if (run.externCalls !== null) withCalls(d, run.externCalls);
    if (this.approvalKeys !== null || run.approvalErrors !== null) this.reportApprovals(run, d);
    return d;
  }

  /** 1–3: validate, plan budgets, list the counters rules read. A decision when the request is invalid. */
  private begin(request: unknown, opts: DecideOptions, now: number = this.timeOf(opts), calls?: ExternCalls): Run | Decision {
    const given = opts.approvals;
    const run = new Run(request, opts, now, NO_APPROVALS);
    if (this.externs !== null) run.externCalls = calls ?? new ExternCalls(this.externs, 'sync');
    this.purge(now);
    const c = this.compiled;

    // 1. Validate.
    const v = c.validate(request);
    if (!v.ok) {
      const E = new Entries(undefined, now);
      if (opts.explain) E.explain = [];
      E.failRequest(v.errors, c.header.onError);
      return this.decision(run, E, null);
    }
    run.input = v.value;
    run.entries = new Entries(v.value, now);
    run.entries.externs = run.externCalls;
    if (opts.explain) run.entries.explain = [];
    if (given !== undefined && given !== null && given.length > 0) this.prepareApprovals(run, given);
    this.plan(run);
    return run;
  }

  /** A run made again without the approvals in `dropped` (single-use tokens that were replayed or
   *  could not be consumed); the approvals and errors otherwise as they were. */
  private again(run: Run, dropped: ReadonlySet<Approval>): Run {
    const next = new Run(run.request, run.opts, run.now, run.approvals.filter((a) => !dropped.has(a)));
    next.externCalls = run.externCalls;
    next.approvalErrors = run.approvalErrors;
    next.nonces = run.nonces;
    next.input = run.input;
    next.entries = new Entries(run.input, run.now, NO_APPROVALS, run.requestHash());
    next.entries.externs = next.externCalls;
    if (run.opts.explain) next.entries.explain = [];
    this.plan(next);
    return next;
  }

  /** 2–3 of a validated run: plan budgets, list the counters rules read. */
  private plan(run: Run): void {
    const c = this.compiled;
    const now = run.now;
    // Rules see only the budgets they read (step 3): no views object to allocate when they read none.
    const env: Env = { input: run.input, now, budgets: c.budgetsReadByRules.length > 0 ? {} : NO_VIEWS };
    if (run.externCalls !== null) env.externs = run.externCalls;
    run.env = env;

    // 2. Plan budgets (applicability, keys, charges).
    run.plans = this.planner.plan(env);

    // 3. Views for the budgets rules read (a snapshot; the ceiling guarantee comes from step 5).
    if (c.budgetsReadByRules.length > 0) {
      const { reads, keys } = this.viewReads(env, now);
      run.reads = reads;
      if (keys.length > 0) run.peekKeys = keys;
      else this.applyViews(run, []);
    }
  }

  /** Step 3's plan: the budgets rules read, with their limits for this request and the counter keys
   *  to peek (a rolling window's sub-buckets after its key). */
  private viewReads(env: Env, now: number): { reads: ViewRead[]; keys: string[] } {
    const reads: ViewRead[] = [];
    const keys: string[] = [];
    for (const name of this.compiled.budgetsReadByRules) {
      let k: ReturnType<BudgetPlanner['counterKeyByName']>;
      try {
        k = this.planner.counterKeyByName(name, env);
      } catch {
        continue; // no view (the budget reads as null in the rules); the budget's own plan reports the error
      }
      if (!k) continue;
      let limit = k.budget.limit;
      if (k.budget.limitOf !== undefined) {
        try {
          limit = k.budget.limitOf(env);
        } catch {
          continue; // as above: the budget's own plan reports the error
        }
      }
      // A rolling window's view sums its sub-buckets (the store's `rolling` does that for reserve).
      const rolling = k.counterKey !== null && k.budget.window.kind === 'rolling' ? windowInfo(k.budget.window, now).rolling : 0;
      reads.push({ name, limit, counterKey: k.counterKey, rolling });
      if (k.counterKey !== null) {
        keys.push(k.counterKey);
        if (rolling > 0) keys.push(...rollingSiblings(k.counterKey, rolling));
      }
    }
    return { reads, keys };
  }

  /**
   * The approvals that count for this request. Without `approvalKeys`: the given objects (trusted
   * callers); a token string is then ignored with an error. With keys: only verified tokens, bound to
   * this request and policy and unexpired, each as `{ rule, request_hash, group }`.
   */
  private prepareApprovals(run: Run, given: readonly (Approval | string)[]): void {
    const keys = this.approvalKeys;
    const out: Approval[] = [];
    const fail = (message: string, name?: string): void => {
      const e: DecisionError = { kind: 'approval', message };
      if (name !== undefined) e.name = name;
      (run.approvalErrors ??= []).push(e);
    };
    if (!Array.isArray(given)) {
      fail('approvals must be an array');
      return;
    }
    for (const a of given) {
      const token = typeof a === 'string' ? a : a !== null && typeof a === 'object' && typeof a.token === 'string' ? a.token : undefined;
      if (keys === null) {
        if (typeof a === 'string') fail('an approval token was given, but the engine has no `approvalKeys` to verify it: ignored');
        else if (a !== null && typeof a === 'object' && typeof a.rule === 'string') out.push(a);
        // Not an approval (null, a number, an object without `rule`): ignored, and said, as with keys.
        else fail(`an approval must be an object { rule, request_hash }, got ${a === null ? 'null' : Array.isArray(a) ? 'a list' : typeof a === 'object' ? 'an object without a `rule`' : typeof a}: ignored`);
        continue;
      }
      const ruleName = a !== null && typeof a === 'object' && typeof a.rule === 'string' ? a.rule : undefined;
      if (token === undefined) {
        fail(`approval${ruleName !== undefined ? ` for \`${ruleName}\`` : ''} ignored: not a signed token (the engine verifies approvals)`, ruleName);
        continue;
      }
      const r = verifyApprovalToken(token, keys, { request_hash: run.requestHash(), policy_hash: this.compiled.hash, now: run.now });
      const name = r.claims?.rule ?? ruleName;
      if (!r.ok) {
        fail(`approval token${name !== undefined ? ` for \`${name}\`` : ''} ignored: ${r.reason}`, name);
        continue;
      }
      const approval: Approval = { rule: r.claims.rule, request_hash: r.claims.request_hash, group: r.claims.group, approver: r.claims.approver, at: r.claims.iat };
      if (r.claims.nonce !== undefined) (run.nonces ??= []).push({ approval, key: nonceKey(r.claims), expiresAt: r.claims.exp });
      out.push(approval);
    }
    run.approvals = out;
  }

  /** The results of consuming the single-use tokens `spend` (true; false for a replay; undefined when
   *  the store cannot; an Error when it failed; missing: not tried, after one that was not consumed):
   *  the approvals of a token that was not consumed are returned (null: none), with an error each;
   *  `run.nonces` keeps the tokens still to consume (neither consumed nor refused). */
  private consumeNonces(run: Run, spend: readonly Spend[], results: readonly (boolean | undefined | Error)[]): Set<Approval> | null {
    const tried = new Set<string>();
    const refused = new Set<string>();
    for (let i = 0; i < results.length; i++) {
      const n = spend[i]!;
      const r = results[i];
      tried.add(n.key);
      if (r === true) continue;
      refused.add(n.key);
      const message =
        r instanceof Error
          ? `ignored: the budget store failed to consume the single-use token: ${r.message}`
          : r === false
            ? 'ignored: the single-use token was already used'
            : 'ignored: the budget store cannot consume single-use tokens (no `consumeOnce`)';
      const rule = n.approvals[0]!.rule;
      (run.approvalErrors ??= []).push({ kind: 'approval', name: rule, message: `approval token for \`${rule}\` ${message}` });
    }
    let dropped: Set<Approval> | null = null;
    const left: NonNullable<Run['nonces']> = [];
    for (const n of run.nonces!) {
      // Every copy of a refused token goes (the same token may be presented twice).
      if (refused.has(n.key)) (dropped ??= new Set()).add(n.approval);
      else if (!tried.has(n.key)) left.push(n);
    }
    run.nonces = left.length > 0 ? left : null;
    return dropped;
  }

  /** The budgets whose `on exceed require approval [from G]` the given approvals grant for this very
   *  request (`countGrants`, as for rules and as the decision's entries will: group satisfied, and
   *  with `quorum` / `expires` enough distinct unexpired approvals): exceeding them then does not
   *  block the reservation. An approval from another group must not lift the ceiling, not even until
   *  the decision releases it. */
  private approvedBudgets(run: Run, plans: readonly BudgetPlan[], env: Env): Set<string> {
    const approved = new Set<string>();
    for (let i = 0; i < plans.length; i++) {
      const b = plans[i]!.budget;
      if (approved.has(b.name)) continue;
      let named = false;
      let grouped = false;
      for (const a of run.approvals) {
        if (a?.rule !== b.name) continue;
        named = true;
        if (a.group !== undefined) grouped = true;
      }
      if (!named) continue;
      // The group it asks for (when an approval names one). When it cannot be known, no approval
      // with a group counts (the outcome reports the error).
      let from: string | null | undefined;
      if (grouped && b.onExceed.from) {
        try {
          from = b.onExceed.from(env);
        } catch {
          from = UNKNOWN_GROUP;
        }
      }
      if (countGrants(run.approvals, b.name, from, b.onExceed, run.requestHash(), run.now).granted) approved.add(b.name);
    }
    return approved;
  }

  /** Adds the approvals that did not count to the decision's `errors` (they never change the effect). */
  private reportApprovals(run: Run, d: Decision): void {
    if (run.approvalErrors !== null) for (const e of run.approvalErrors) d.errors.push(e);
    // A verified approval whose group is not the one the rule or budget asks for.
    if (run.approvals.length === 0 || d.approvals.length === 0) return;
    for (const p of d.approvals) {
      for (const a of run.approvals) {
        if (a.rule === p.name && a.group !== undefined && !groupSatisfies(a, p.from)) {
          d.errors.push({ kind: 'approval', name: p.name, message: `approval for \`${p.name}\` ignored: it was given by group \`${a.group ?? '(none)'}\`, the ${p.kind} requires approval from \`${p.from}\`` });
        }
      }
    }
  }

  private applyViews(run: Run, states: CounterState[]): void {
    fillViews(run.env!, run.reads ?? [], states);
  }


  private storeFailedBeforeRules(run: Run, e: unknown): Decision {
    run.entries.failRequest([{ kind: 'store', message: `budget store failed: ${errorMessage(e)}` }], this.compiled.header.onError);
    return this.decision(run, run.entries, null);
  }

  /** 4–5: rules (into the entries), then the reserve request (null when no budget has a counter). */
  private evaluate(run: Run): ReserveRequest | null {
    const env = run.env!;
    const E = run.entries;
    E.granted = run.approvals;
    const header = this.compiled.header;
    const rules = this.compiled.evaluateRules(env, run.opts.explain ? EXPLAIN_ON : EXPLAIN_OFF);
    run.rules = rules;
    E.rules(rules, header.onError);
    const plans = run.plans;
    if (plans.length === 0) return null;

    const approved = run.approvals.length > 0 ? this.approvedBudgets(run, plans, env) : null;
    run.approved = approved;
    const { counted, capped, failed } = classifyPlans(plans, approved);
    run.counted = counted;
    if (counted.length === 0) return null;
    // Charges are written only when the effect so far (rules and failed budgets, before the budget
    // counters) is `allow`, in enforce mode; otherwise the call only reports the counters. When in
    // doubt this must say `allow`: a reservation made for a decision that turns out not to allow is
    // released (`finish`), a missing one cannot be made later.
    const soFar = E.effectSoFar(header.default, failed ? failedBudgetsEffect(plans, header.onError) : null);
    const commit = this.mode === 'enforce' && !capped && EFFECTS[soFar].keepsReservation;
    const items = itemsOf(counted, approved);
    const reservationId = newReservationId();
    run.reservationId = reservationId;
    return { reservationId, now: run.now, ttlMs: this.ttlMs, commit, items };
  }

  /** A store failure at the reserve step: the decision from the entries so far (rules), every budget
   *  reported with unknown counters, and the store error with the `on error` effect. */
  private storeFailedAtReserve(run: Run, e: unknown): Decision {
    const outcomes = this.unknownOutcomes(run.plans, run.env!);
    run.opts.trace?.({ rules: run.rules, budgets: outcomes });
    const E = run.entries;
    E.failRequest([{ kind: 'store', message: `budget store failed: ${errorMessage(e)}` }], this.compiled.header.onError);
    E.budgetList(outcomes, this.compiled.header.onError);
    if (run.opts.explain) this.explainBudgets(run, outcomes, 'failed', false);
    return this.decision(run, E, null);
  }

  /** The fused path's `storeFailedAtReserve` (no `Run`, no approvals). */
  private storeFailed(E: Entries, plans: BudgetPlan[], env: Env, e: unknown, now: number): Decision {
    const onError = this.compiled.header.onError;
    E.failRequest([{ kind: 'store', message: `budget store failed: ${errorMessage(e)}` }], onError);
    E.budgetList(this.unknownOutcomes(plans, env), onError);
    return assemble(E, this.how, now);
  }

  /** The budgets' outcomes when the store failed: a budget with a counter has unknown counters (its
   *  entry shows them as null), and is exceeded when its charge alone is over the limit (the counters
   *  only add to it); a `per request` cap and a failed budget are what they are without the store. */
  private unknownOutcomes(plans: BudgetPlan[], env: Env): BudgetOutcome[] {
    return plans.map((p) => {
      if (p.error !== undefined || p.counterKey === null) return this.outcome(p, 0, 0, p.error === undefined && p.charge > p.limit, env);
      const o = this.outcome(p, 0, 0, p.charge > p.limit, env, true);
      o.unknown = true;
      return o;
    });
  }

  /** 6: outcomes and the decision (a committed reservation is kept only with an `allow`). */
  private finish(run: Run, result: ReserveResult): Decision {
    const outcomes = this.outcomesOf(run.plans, result, run.env!);
    run.opts.trace?.({ rules: run.rules, budgets: outcomes });
    run.entries.budgetList(outcomes, this.compiled.header.onError);
    if (run.opts.explain) this.explainBudgets(run, outcomes, 'ok', result.committed);
    const reservation = result.committed ? { id: run.reservationId, expires: this.expires(run.now) } : null;
    const decision = this.decision(run, run.entries, reservation);
    if (result.committed) {
      if (!EFFECTS[decision.effect].keepsReservation) {
        // An `on exceed` message failed after the check: never keep a reservation then (the caller
        // releases it).
        run.release = true;
        decision.reservation = null;
      } else {
        this.keepForSettle(run.reservationId, this.keepsValidated(run) ? run.input : null, run.request, run.counted, run.now);
      }
    }
    return decision;
  }

  /**
   * `explain_budgets`: every budget of the policy in source order — whether it applied, its numbers
   * (the same outcome the decision's `budgets` entry and its effect come from) and why.
   */
  private explainBudgets(run: Run, outcomes: BudgetOutcome[], store: 'ok' | 'failed', committed: boolean): void {
    const E = run.entries;
    E.budgetExplain = [];
    const index = new Map<CompiledBudget, number>();
    run.plans.forEach((p, i) => index.set(p.budget, i));
    for (const b of this.compiled.budgets) {
      const i = index.get(b);
      if (i === undefined) {
        const w = windowOf(b.window, run.now);
        const window = w.start !== null && w.end !== null ? { start: w.start.toISOString(), end: w.end.toISOString() } : null;
        let why = 'not applied: its `when`/`unless` clauses do not hold for this request';
        let limit = b.limit;
        // A limit read from the request or data: the one this request would be held to.
        if (b.limitOf !== undefined) {
          try {
            limit = b.limitOf(run.env!);
          } catch (e) {
            why += `; its limit fails for this request (${errorMessage(e)})`;
          }
        }
        E.explainBudget(limit === b.limit ? b : { ...b, limit }, undefined, why, false, window);
        continue;
      }
      const p = run.plans[i]!;
      const o = outcomes[i]!;
      const blocks = enforced(p, run.approved);
      let why: string;
      if (p.error !== undefined) why = `applied, and failed (${p.error}): it counts with the \`on error\` effect`;
      else if (store === 'failed') why = 'applied; the budget store failed, so its counters are unknown';
      else if (p.counterKey === null) why = o.exceeded ? 'applied: a per-request cap, and this charge exceeds the limit' : 'applied: a per-request cap; this charge is within the limit (nothing is counted)';
      else if (o.exceeded)
        why = blocks
          ? 'applied: spent + reserved + charge exceeds the limit, and exceeding it blocks the request (nothing was reserved)'
          : 'applied: spent + reserved + charge exceeds the limit; it does not block (`@monitor`, a non-blocking `on exceed`, or a granted approval)';
      else why = committed ? 'applied: within the limit; the charge is reserved until settled' : 'applied: within the limit; nothing reserved (the decision does not allow, or monitor mode)';
      const how = windowHow(b.window, b.unit);
      if (how !== '') why += `; ${how}`;
      E.explainBudget(b, o, why, blocks, o.window);
    }
  }

  /** The decision's budget outcomes: errors, `per request` caps, and counters as the store reported them. */
  private outcomesOf(plans: BudgetPlan[], result: ReserveResult, env: Env): BudgetOutcome[] {
    const outcomes: BudgetOutcome[] = new Array(plans.length);
    let j = 0;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      if (p.error !== undefined) {
        outcomes[i] = this.outcome(p, 0, 0, false, env);
      } else if (p.counterKey === null) {
        outcomes[i] = this.outcome(p, 0, 0, p.charge > p.limit, env); // per request: caps one charge
      } else {
        const r = result.items[j++]!;
        outcomes[i] = this.outcome(p, r.spent, r.reserved, r.exceeded, env, false, r.start);
      }
    }
    return outcomes;
  }

  /** When a kept reservation may be forgotten (its expiry plus the settle grace). */
  private dropAtOf(p: Kept): number {
    return this.timeOfKept(p) + this.ttlMs + this.graceMs;
  }

  /** A kept reservation's decision time. */
  private timeOfKept(p: Kept): number {
    return p.at + this.timeBase;
  }

  /** Keep what `settle` needs for a reservation kept with an `allow` (settle-data.ts `Kept`): the
   *  fields of the validated request that charges read (`validated`, when nothing outside the engine
   *  can reach it), or else a copy of the request as given. */
  private keepForSettle(id: string, validated: Record<string, unknown> | null, request: unknown, counted: BudgetPlan[], now: number): void {
    if (this.timeBase !== this.timeBase) this.timeBase = now;
    const at = now - this.timeBase;
    // The usual case: a row of the settle data's columns, nothing on the heap (a `Kept` otherwise).
    if (validated !== null && this.paths !== null && this.pending.keepPaths(id, id === lastId ? idCounter : -1, at, counted, validated)) return;
    const one = counted.length === 1;
    const budget = one ? counted[0]!.budget : counted.map((c) => c.budget);
    const key = one ? (counted[0]!.counterKey as string) : counted.map((c) => c.counterKey as string);
    let kept: Kept;
    if (validated === null) kept = new Kept(at, budget, key, KEPT_GIVEN, snapshot(request, 0));
    else if (this.paths !== null) kept = new Kept(at, budget, key, KEPT_PATHS, keepPaths(validated, this.paths));
    else {
      const f = this.flattener;
      const leaves: unknown[] = f !== null ? new Array(f.leaves) : [];
      const end = f !== null ? f.flatten(validated, leaves, 0) : -1;
      if (end >= 0) {
        leaves.length = end;
        kept = new Kept(at, budget, key, KEPT_LEAVES, leaves);
      } else kept = new Kept(at, budget, key, KEPT_TREE, validated);
    }
    addKept(this.pending, id, kept);
  }

  /**
   * Whether `settle` can start from the validated request instead of a copy of the caller's. The
   * validated request is already a fresh copy made of records, arrays and scalars that nothing else
   * writes to (rules and budget expressions only read it), so it needs no second copy, unless a part of it may be
   * reachable from outside: explanations and `trace` (values read by rules) or a non-scalar `by`
   * element (a decision's `budgets[].key`). Then the request as given is copied as before.
   */
  private keepsValidated(run: Run): boolean {
    if (this.inputType === null || run.opts.explain || run.opts.trace !== undefined) return false;
    return !hasObjectKey(run.counted);
  }

  /** Validates a kept request (`KEPT_PATHS`: only the fields charges read) merged with usage: the
   *  input type with every other field optional (settle-data.ts `settleType`). */
  private validateKept(merged: unknown): ReturnType<CompiledPolicy['validate']> {
    if (this.settleValidator === null) {
      const generated = (this.compiled.validate as { generated?: boolean }).generated;
      this.settleValidator = compileValidator(settleType(this.inputType as Type, this.paths!), generated === false ? { codegen: false } : {});
    }
    return this.settleValidator(merged);
  }

  /** A validated request back in a form the validator reads to the same value (settle merges the usage
   *  into it and validates again): money micros as decimal strings, times as Dates; everything else is
   *  already in request form (durations are milliseconds, `any` is plain JSON). Shares unchanged parts. */
  private rawForm(input: unknown): unknown {
    return this.rawFormNeeded ? toRawForm(this.inputType as Type, input, 0, this.rawFormTypes) : input;
  }

  private expires(now: number): string {
    if (now !== this.expiresFor) {
      this.expiresIso = new Date(now + this.ttlMs).toISOString();
      this.expiresFor = now;
    }
    return this.expiresIso;
  }

  /**
   * Replace a decision's reservation by the actual usage: `charge` is re-evaluated on the request
   * deep-merged with `usage` (validated like a request). Call once per decision; a second call throws.
   * A decision without a reservation settles to nothing. Throws (and leaves the reservation to expire
   * conservatively) when the merged request is invalid or a charge is unusable; rejects when the store fails.
   */
  async settle(decision: Decision, usage: unknown = {}): Promise<void> {
    // A decision (or what a service keeps of one: `{ reservation: { id } }`); `{}` is a host mistake,
    // never a silent no-op.
    if (!decision || typeof decision !== 'object' || (typeof (decision as { effect?: unknown }).effect !== 'string' && !('reservation' in decision)))
      throw new TypeError('settle: expected a decision returned by decide()');
    if (this.settledDecisions.has(decision)) throw new Error('settle: this decision was already settled (settle is called once per decision)');
    const id = decision.reservation?.id;
    if (!id) {
      this.settledDecisions.add(decision);
      return;
    }
    if (this.settledIds.has(id)) throw new Error(`settle: reservation ${id} was already settled (settle is called once per decision)`);
    const now = this.nowMs();
    const p = this.pending.get(id);
    if (p === undefined || now >= this.dropAtOf(p)) {
      // Unknown here (another engine, or forgotten after its grace): the estimate stands.
      this.settledDecisions.add(decision);
      return;
    }
    if (usage !== null && usage !== undefined && !isPlainObject(usage)) throw new TypeError('settle: usage must be an object, e.g. { cost: { estimate: 0.031 } }');
    const form = p.form;
    const request = form === KEPT_PATHS ? rebuildPaths(p.v, this.paths!) : form === KEPT_LEAVES ? unflattenAll(this.flattener!.unflatten, p.v as unknown[]) : p.v;
    let input: Record<string, unknown>;
    if (form !== KEPT_GIVEN && (usage === null || usage === undefined || isEmptyObject(usage))) {
      // Nothing to merge: the validated request is what validating it again would give.
      input = request as Record<string, unknown>;
    } else {
      const merged = deepMerge(form !== KEPT_GIVEN ? this.rawForm(request) : request, usage ?? {});
      const v = form === KEPT_PATHS ? this.validateKept(merged) : this.compiled.validate(merged);
      if (!v.ok) {
        const first = v.errors[0];
        throw new Error(`settle: the request merged with the usage is invalid: ${first ? `${first.path ?? '$'}: ${first.message}` : 'invalid'}`);
      }
      input = v.value;
    }
    const env: Env = { input, now: this.timeOfKept(p), budgets: {} };
    const charge = (budget: CompiledBudget, counterKey: string): Actual => {
      let amount: number;
      try {
        amount = budget.charge(env);
      } catch (e) {
        throw new Error(`settle: \`charge\` of budget \`${budget.name}\` failed: ${errorMessage(e)}`);
      }
      const problem = chargeProblem(amount, budget.unit);
      if (problem) throw new Error(`settle: budget \`${budget.name}\`: ${problem}`);
      return { counterKey, amount };
    };
    const keys = p.key;
    const actuals: Actual[] = typeof keys === 'string' ? [charge(p.budget as CompiledBudget, keys)] : keys.map((k, i) => charge((p.budget as readonly CompiledBudget[])[i]!, k));
    // Mark first: a concurrent second settle must throw, not double-apply. The id is enough (the
    // decision object is not added to `settledDecisions`: a WeakSet insert cost ~4 % of a decide +
    // settle); after the grace a second settle is a no-op, as any settle then.
    this.pending.delete(id);
    this.settledIds.add(id, this.dropAtOf(p));
    try {
      if (this.sync !== null) this.sync.settleSync(id, actuals, now);
      else await this.withTimeout(callStore(() => this.store.settle(id, actuals, now)));
    } catch (e) {
      // Allow a retry; the reservation otherwise expires and counts its estimate.
      this.pending.add(id, p);
      this.settledIds.delete(id);
      throw new Error(`settle: budget store failed: ${errorMessage(e)}`);
    }
  }

  /**
   * Add pre-existing spend for a request's counter of one budget (test `spent`, CLI `--spent`).
   * `amount` is in the budget's unit (integer micros for money). Throws on an invalid request or name.
   */
  async addSpent(request: unknown, budgetName: string, amount: number, now: Date = this.nowDate()): Promise<void> {
    const t = this.spentTarget(request, budgetName, amount, now);
    if (t) await this.store.addSpent(t.key, amount, t.expiresAt, now.getTime(), t.mode);
  }

  /** `addSpent` for synchronous stores (MemoryBudgetStore). */
  addSpentSync(request: unknown, budgetName: string, amount: number, now: Date = this.nowDate()): void {
    const store = this.store as Partial<SyncBudgetStore>;
    if (typeof store.addSpentSync !== 'function') throw new TypeError('addSpentSync needs a synchronous budget store (MemoryBudgetStore)');
    const t = this.spentTarget(request, budgetName, amount, now);
    if (t) store.addSpentSync(t.key, amount, t.expiresAt, now.getTime(), t.mode);
  }

  /** The counter key (for this request) of a budget; null for `per request` budgets. Throws on bad
   *  input or an unknown budget. */
  counterKeyFor(request: unknown, budgetName: string, now: Date = this.nowDate()): string | null {
    const b = this.compiled.budgets.find((x) => x.name === budgetName);
    if (!b) throw new Error(`unknown budget \`${budgetName}\``);
    const v = this.compiled.validate(request);
    if (!v.ok) throw new Error(`invalid request: ${v.errors[0]?.path ?? '$'}: ${v.errors[0]?.message ?? 'invalid'}`);
    const env: Env = { input: v.value, now: now.getTime(), budgets: {} };
    return counterKeyOf(this.keyPrefix, b, keyOf(b, env), windowOf(b.window, env.now));
  }

  private spentTarget(request: unknown, budgetName: string, amount: number, now: Date): { key: string; expiresAt: number | null; mode: CounterMode | undefined } | null {
    const b = this.compiled.budgets.find((x) => x.name === budgetName);
    if (!b) throw new Error(`addSpent: unknown budget \`${budgetName}\``);
    const problem = chargeProblem(amount, b.unit);
    if (problem) throw new Error(`addSpent: ${problem.replace('charge', 'amount')}`);
    const key = this.counterKeyFor(request, budgetName, now);
    if (key === null) return null; // per request: no counter
    return { key, expiresAt: windowInfo(b.window, now.getTime()).expiresAt, mode: counterModeOf(b.window) };
  }

  // ------------------------------------------------------------------ internals

  private nowDate(): Date {
    return this.clock !== null ? this.clock() : new Date();
  }

  private nowMs(): number {
    return this.clock !== null ? this.clock().getTime() : Date.now();
  }

  /** `E.budget(this.outcome(p, spent, reserved, false, env, false, start))` for a plan without an
   *  error whose counters are known and not exceeded, without the outcome object. */
  private within(E: Entries, p: BudgetPlan, spent: number, reserved: number, env: Env, start: number | undefined): void {
    const b = p.budget;
    const kind = b.window.kind;
    const window = kind === 'bucket' || kind === 'anchored' ? liveWindow(b.window, p.window.json, env.now, spent, reserved, start) : p.window.json;
    const warned = p.warnAt !== undefined && spent + reserved + p.charge >= warnThreshold(p.limit, p.warnAt);
    E.budgetWithin(b, p.key, p.limit, spent, reserved, p.charge, window, warned);
  }

  private outcome(p: BudgetPlan, spent: number, reserved: number, exceeded: boolean, env: Env, unknownState = false, start?: number): BudgetOutcome {
    const b = p.budget;
    const kind = b.window.kind;
    const total = spent + reserved + p.charge;
    // One object shape for every outcome (`monitor` always present: no `delete`, no second literal).
    const o: BudgetOutcome = {
      name: b.name,
      unit: b.unit,
      key: p.key,
      limit: p.limit,
      spent,
      reserved,
      charge: p.charge,
      remaining: p.limit - total,
      window: kind === 'bucket' || kind === 'anchored' ? liveWindow(b.window, p.window.json, env.now, spent, reserved, start) : p.window.json,
      exceeded,
      warned: !unknownState && p.error === undefined && p.warnAt !== undefined && total >= warnThreshold(p.limit, p.warnAt),
      effect: b.onExceed.effect,
      location: b.location,
      annotations: b.annotations,
      monitor: b.monitor,
    };
    if (p.error !== undefined) o.error = p.error;
    if (b.onExceed.quorum !== undefined) o.quorum = b.onExceed.quorum;
    if (b.onExceed.expires_ms !== undefined) o.expires_ms = b.onExceed.expires_ms;
    if (exceeded && p.error === undefined) {
      // The approver first, on its own: a message that fails must not leave it unknown (an approval
      // "from" anyone), and an approver that fails fails the budget closed (entries.ts `budget`).
      if (b.onExceed.from) {
        try {
          o.from = b.onExceed.from(env);
        } catch (e) {
          o.error = `\`on exceed\` failed: ${errorMessage(e)}`;
          o.approverFailed = true;
        }
      }
      try {
        o.message = b.onExceed.message ? b.onExceed.message(env) : this.exceedMessage(p);
      } catch (e) {
        o.error ??= `\`on exceed\` failed: ${errorMessage(e)}`;
        // The exceed effect stands (entries.ts `budget`); a failed message gives way to the default.
        o.message ??= this.exceedMessage(p);
      }
    }
    return o;
  }

  /** An exceeded budget's message without (or with a failed) `on exceed` message: one naming the
   *  budget and its limit, money in the policy's currency (`$1.50`, as messages print money). Made
   *  only for an exceeded budget, never on the path of an allow. */
  private exceedMessage(p: BudgetPlan): string {
    const b = p.budget;
    return `budget \`${b.name}\` would go over its limit of ${b.unit === 'money' ? formatMoney(p.limit, this.compiled.header.currency) : p.limit}`;
  }

  /** `p`, or a rejection with StoreTimeout when it does not settle within `storeTimeoutMs` (one timer
   *  per call: only asynchronous stores get here). */
  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.storeTimeoutMs;
    if (!(ms > 0) || !Number.isFinite(ms)) return p;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreTimeout(ms)), ms);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
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
    this.pending.deleteWhere((at) => now >= at + this.timeBase + this.ttlMs + this.graceMs);
    this.settledIds.purge(now);
  }
}

/** Whether values of type `t` differ between their validated and request forms (money, time).
 *  Memoised per type in `seen`. (The checker rejects recursive types; should one get here, the
 *  guard below keeps this from recursing forever.) */
function needsRawForm(t: Type, seen: Map<Type, boolean>): boolean {
  const known = seen.get(t);
  if (known !== undefined) return known;
  seen.set(t, false);
  let r = false;
  switch (t.kind) {
    case 'money':
    case 'time':
      r = true;
      break;
    case 'nullable':
      r = needsRawForm(t.inner, seen);
      break;
    case 'list':
      r = needsRawForm(t.elem, seen);
      break;
    case 'map':
      r = needsRawForm(t.value, seen);
      break;
    case 'object':
      r = t.fields.some((f) => needsRawForm(f.type, seen));
      break;
  }
  seen.set(t, r);
  return r;
}

function toRawForm(t: Type, v: unknown, depth: number, needs: Map<Type, boolean>): unknown {
  if (v === null || v === undefined || depth > 256) return v;
  // Values of types without money or time are already in request form: shared, not copied.
  if (!needsRawForm(t, needs)) return v;
  switch (t.kind) {
    case 'money':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? formatMicros(v) : v;
    case 'time':
      return typeof v === 'number' && Number.isFinite(v) ? new Date(v) : v;
    case 'nullable':
      return toRawForm(t.inner, v, depth, needs);
    case 'list':
      return Array.isArray(v) ? v.map((x) => toRawForm(t.elem, x, depth + 1, needs)) : v;
    case 'map': {
      if (!isPlainObject(v)) return v;
      const out = newRecord();
      for (const k of Object.keys(v)) out[k] = toRawForm(t.value, v[k], depth + 1, needs);
      return out;
    }
    case 'object': {
      if (!isPlainObject(v)) return v;
      const out = newRecord();
      for (const k of Object.keys(v)) out[k] = v[k];
      for (const f of t.fields) if (Object.prototype.hasOwnProperty.call(v, f.name)) out[f.name] = toRawForm(f.type, v[f.name], depth + 1, needs);
      return out;
    }
    default:
      return v;
  }
}

/** An object with no own enumerable keys. */
function isEmptyObject(v: Record<string, unknown>): boolean {
  for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) return false;
  return true;
}

/**
 * The budgets of one request by role: `counted` (a counter, no error: the plans themselves when
 * every plan is counted), whether an enforced `per request` cap is exceeded (`capped`:
 * it decides without a counter), and whether any budget failed.
 */
function classifyPlans(plans: BudgetPlan[], approved: Set<string> | null): { counted: BudgetPlan[]; capped: boolean; failed: boolean } {
  let capped = false;
  let failed = false;
  let n = 0;
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i]!;
    if (p.error !== undefined) failed = true;
    else if (p.counterKey === null) {
      if (p.charge > p.limit && enforced(p, approved)) capped = true;
    } else n++;
  }
  // Every plan counted (the usual case): the plans are the list (nothing writes to either).
  return { counted: n === plans.length ? plans : countedOf(plans, n), capped, failed };
}

/** The `n` plans with a counter and no error, in order. */
function countedOf(plans: BudgetPlan[], n: number): BudgetPlan[] {
  const counted: BudgetPlan[] = new Array(n);
  for (let i = 0, k = 0; i < plans.length; i++) {
    const p = plans[i]!;
    if (p.error === undefined && p.counterKey !== null) counted[k++] = p;
  }
  return counted;
}

/** What failed (non-`@monitor`) budgets add to the effect so far: the set's `on error` effect, or
 *  null when none failed. */
function failedBudgetsEffect(plans: BudgetPlan[], onError: 'allow' | 'deny'): 'allow' | 'deny' | null {
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i]!;
    if (p.error !== undefined && !p.budget.monitor) return onError;
  }
  return null;
}

/** The store items of the counted budgets. */
function itemsOf(counted: BudgetPlan[], approved: Set<string> | null): ReserveItem[] {
  const items: ReserveItem[] = new Array(counted.length);
  for (let i = 0; i < counted.length; i++) {
    const p = counted[i]!;
    const w = p.window;
    const it: ReserveItem = { counterKey: p.counterKey as string, limit: p.limit, charge: p.charge, expiresAt: w.expiresAt, enforce: enforced(p, approved) };
    const kind = p.budget.window.kind;
    if (kind === 'rolling') it.rolling = w.rolling;
    else if (kind === 'bucket' || kind === 'anchored') it.mode = counterModeOf(p.budget.window);
    items[i] = it;
  }
  return items;
}

/** Whether a counted budget's `by` tuple holds a list or object (then it is reachable from the
 *  decision's `budgets[].key`, and settle keeps a copy of the request instead of the validated one). */
function hasObjectKey(counted: BudgetPlan[]): boolean {
  for (let i = 0; i < counted.length; i++) {
    const key = counted[i]!.key;
    for (let j = 0; j < key.length; j++) {
      const k = key[j];
      if (typeof k === 'object' && k !== null) return true;
    }
  }
  return false;
}

/** Whether exceeding this budget blocks the reservation (effects.ts; `@monitor` budgets never do). */
function enforced(p: BudgetPlan, approved: Set<string> | null): boolean {
  const b = p.budget;
  return !b.monitor && blocksReservation(b.onExceed.effect, approved !== null && approved.has(b.name));
}

const ZERO_STATE: CounterState = Object.freeze({ spent: 0, reserved: 0 });

/** A store call as a promise (a synchronous throw becomes a rejection). */
function callStore<T>(f: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The synchronous twin a store declares (sync support), or null. */
function directSyncBudgetStore(store: BudgetStore): SyncBudgetStore | null {
  const sync = store.synchronous;
  return sync === undefined || sync === null ? null : (sync as SyncBudgetStore);
}

/** What `explain` adds about a rolling window, token bucket or anchored period ('' for others). */
function windowHow(w: CompiledBudget['window'], unit: 'money' | 'number'): string {
  if (w.kind === 'rolling') {
    const { bucketMs } = rollingShape(w.ms!);
    return `a rolling window of ${formatDuration(w.ms!)}, counted in sub-buckets of ${formatDuration(bucketMs)}: a charge counts for at least ${formatDuration(w.ms!)} and less than ${formatDuration(w.ms! + 2 * bucketMs)}`;
  }
  if (w.kind === 'bucket') return `a token bucket: the limit is its burst, and it refills ${unit === 'money' ? formatMicros(w.refill!) : w.refill} every ${formatDuration(w.ms!)}; the window ends when it is full again`;
  if (w.kind === 'anchored') return `periods of ${formatDuration(w.ms!)} from the key's first charge (the window is the current period)`;
  return '';
}

/** Step 3's views from the peeked counter states (in `viewReads`' key order). */
function fillViews(env: Env, reads: readonly ViewRead[], states: readonly CounterState[]): void {
  let i = 0;
  for (const r of reads) {
    let s = r.counterKey === null ? ZERO_STATE : states[i++]!;
    for (let j = 0; j < r.rolling; j++) {
      const t = states[i++]!;
      s = { spent: s.spent + t.spent, reserved: s.reserved + t.reserved };
    }
    env.budgets[r.name] = viewOf(r.limit, s.spent, s.reserved);
  }
}
