// The policy behind a gateway: one Engine at a time, swapped atomically on hot reload, sharing one
// budget store, one audit log and one set of metrics across reloads (so ceilings and the hash chain
// carry on). A reload that does not check is refused with its diagnostics; the old policy keeps serving.

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { DataWatch, ReplaceableWatch, dataPathsOf, namedPathsOf, setRootOf } from '../data-watch.js';
import { PolicyError } from '../../errors.js';
import { compile, type Policy } from '../../policy.js';
import { Engine, type EngineMode } from '../../runtime/engine.js';
import type { Decision } from '../../runtime/decision.js';
import type { BudgetStore } from '../../runtime/store.js';
import type { ApprovalKey } from '../../runtime/approvals.js';
import { MemoryBudgetStore } from '../../runtime/memory-store.js';
import type { AuditLogger } from '../../audit/logger.js';
import { checkPolicySet, loadPolicy, readPolicySet, type PolicySet } from '../load.js';
import { emptyFilesProblem, RELOAD_QUIET_MS } from '../reload-guard.js';
import type { GatewayMetrics } from './metrics.js';
import type { ExternImpls } from '../../runtime/externs.js';

export interface PolicyHostOptions {
  mode?: EngineMode;
  store?: BudgetStore;
  audit?: AuditLogger;
  metrics?: GatewayMetrics;
  /** Verify approvals as signed tokens (docs/approvals.md); absent: grants are trusted as given. */
  approvalKeys?: readonly ApprovalKey[];
  /** Implementations of the policy's `extern def`s (`--externs FILE`; docs/externs.md). */
  externs?: ExternImpls;
  /** Where reload messages and diagnostics go (stderr; the CLI passes its `Ctx`). */
  ctx: HostIO;
  /** How a reloaded policy's errors are printed (default: one line per diagnostic). */
  report?: PolicyErrorReporter;
}

/** Where the host reads its working directory and writes its messages. */
export interface HostIO {
  io: { cwd: string };
  err(s: string): void;
}

/** Prints a policy's errors; the CLI renders them with source excerpts (cli/shared.ts `printPolicyError`). */
export type PolicyErrorReporter = (e: PolicyError, set?: PolicySet) => void;

/** The default reporter: the message, then `file:line:col: CODE message` per diagnostic. */
export function plainPolicyErrors(ctx: HostIO): PolicyErrorReporter {
  return (e) => {
    ctx.err(`rein: ${e.message}\n`);
    for (const d of e.diagnostics) ctx.err(`  ${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.code} ${d.message}\n`);
  };
}

/** Load and check a policy directory, `.rein` file or bundle; diagnostics are printed through `ctx`
 *  and the result is null when the set has errors or cannot be read. */
export async function loadChecked(ctx: HostIO, p: string, report: PolicyErrorReporter = plainPolicyErrors(ctx), opts: { reload?: boolean } = {}): Promise<Policy | null> {
  try {
    const st = await stat(p);
    if (st.isDirectory() || p.endsWith('.rein')) {
      const set = await readPolicySet(p, ctx.io.cwd);
      // A reload refuses a set with an empty `.rein` file: one being written (reload-guard.ts).
      const empty = opts.reload ? emptyFilesProblem(set) : null;
      if (empty) {
        ctx.err(`rein mcp: ${empty}\n`);
        return null;
      }
      const result = checkPolicySet(set);
      if (!result.ok) {
        report(new PolicyError('the policy set has errors', result.diagnostics.filter((d) => d.severity === 'error')), set);
        return null;
      }
      return compile(result);
    }
    return await loadPolicy(p);
  } catch (e) {
    if (e instanceof PolicyError) report(e);
    else ctx.err(`rein mcp: cannot load the policy \`${p}\`: ${(e as Error).message}\n`);
    return null;
  }
}

export class PolicyHost {
  /** The engine deciding now. Read it per decision; keep the one that decided for `settle`. */
  engine: Engine;
  readonly store: BudgetStore;
  private watcher: ReplaceableWatch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reloading: Promise<void> | null = null;
  private again = false;
  private onHup: (() => void) | null = null;
  private dataWatch: DataWatch | null = null;
  private dataRoot: string | null = null;

  constructor(
    policy: Policy,
    private readonly opts: PolicyHostOptions,
  ) {
    this.store = opts.store ?? new MemoryBudgetStore();
    this.engine = this.engineFor(policy);
  }

  get policy(): Policy {
    return this.engine.policy as Policy;
  }

  get mode(): EngineMode {
    return this.engine.mode;
  }

  private engineFor(policy: Policy): Engine {
    const { audit, metrics } = this.opts;
    const onDecision =
      audit || metrics
        ? (d: Decision, c: { request: unknown; latencyMs: number }) => {
            audit?.record(d, c);
            metrics?.record(d, c.latencyMs);
          }
        : undefined;
    return new Engine(policy, {
      store: this.store,
      mode: this.opts.mode ?? 'enforce',
      onDecision,
      ...(this.opts.approvalKeys ? { approvalKeys: this.opts.approvalKeys } : {}),
      ...(this.opts.externs ? { externs: this.opts.externs } : {}),
    });
  }

  /** Check and load `p`; swap it in when it checks (returns true), else keep the current policy. */
  async reload(p: string): Promise<boolean> {
    const next = await loadChecked(this.opts.ctx, p, this.opts.report, { reload: true });
    if (!next) {
      this.opts.ctx.err(`rein mcp: policy reload refused (${p} has errors); still serving ${this.policy.hash}\n`);
      await this.watchNamed(p);
      return false;
    }
    const old = this.policy.hash;
    if (next.hash === old) return true;
    try {
      this.engine = this.engineFor(next);
    } catch (e) {
      // The Engine refused it (e.g. its `extern def`s no longer match the host functions).
      if (e instanceof PolicyError) this.opts.report?.(e);
      this.opts.ctx.err(`rein mcp: policy reload refused (${e instanceof Error ? e.message : String(e)}); still serving ${old}\n`);
      return false;
    }
    this.opts.ctx.err(`rein mcp: policy reloaded: ${old} -> ${next.hash}\n`);
    this.watchData();
    return true;
  }

  /** Reload when files under `p` change, once they have been quiet for `debounceMs` (a file written
   *  in parts is not loaded half-way: reload-guard.ts), and on SIGHUP. */
  watch(p: string, debounceMs = RELOAD_QUIET_MS): void {
    const kick = (ms = debounceMs) => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.serialReload(p);
      }, ms);
    };
    // A policy directory that is replaced (deleted and recreated, an `mv` swap) is followed
    // (ReplaceableWatch also watches its parent and re-arms: data-watch.ts).
    this.watcher = new ReplaceableWatch(p, () => kick(), (m) => this.opts.ctx.err(`rein mcp: ${m}\n`));
    this.watcher.start();
    // SIGHUP: the operator says the files are ready; reload at once
    this.onHup = () => kick(0);
    process.on('SIGHUP', this.onHup);
    // Data files (`data … from "f.json"`), wherever they are: their directories are watched too.
    this.dataWatch = new DataWatch(() => kick(), (m) => this.opts.ctx.err(`rein mcp: ${m}\n`));
    stat(p).then(
      (st) => {
        if (!st.isDirectory() && !p.endsWith('.rein')) return; // a bundle carries its data
        this.dataRoot = setRootOf(path.resolve(this.opts.ctx.io.cwd, p), st.isDirectory());
        this.watchData();
      },
      () => undefined,
    );
  }

  private watchData(): void {
    if (this.dataWatch && this.dataRoot !== null) this.dataWatch.set(dataPathsOf(this.policy, this.dataRoot));
  }

  /** After a refused reload: watch also the files the set at `p` names now (a data file it names that
   *  does not exist yet is watched, so creating it reloads). */
  private async watchNamed(p: string): Promise<void> {
    if (!this.dataWatch || this.dataRoot === null) return;
    this.dataWatch.set([...dataPathsOf(this.policy, this.dataRoot), ...(await namedPathsOf(path.resolve(this.opts.ctx.io.cwd, p)))]);
  }

  /** One reload at a time; a change during a reload triggers one more. */
  private async serialReload(p: string): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return;
    }
    this.reloading = this.reload(p).then(() => undefined);
    await this.reloading;
    this.reloading = null;
    if (this.again) {
      this.again = false;
      await this.serialReload(p);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = null;
    this.dataWatch?.close();
    this.dataWatch = null;
    if (this.onHup) process.off('SIGHUP', this.onHup);
    this.onHup = null;
  }
}
