// The policy a `rein serve` process decides with, and its hot reload. One Engine per policy version;
// every version shares one budget store, so ceilings carry over a reload. A new version replaces the
// old one only after it loaded and checked: until then (and when it fails) the old one keeps serving.

import { promises as fs } from 'node:fs';
import { DataWatch, ReplaceableWatch, dataPathsOf, namedPathsOf, setRootOf } from '../data-watch.js';
import * as path from 'node:path';
import { Engine, type EngineOptions } from '../../runtime/engine.js';
import type { Policy } from '../../runtime/compile.js';
import type { Decision } from '../../runtime/decision.js';
import type { BudgetStore } from '../../runtime/store.js';
import { PolicyError } from '../../errors.js';
import { loadPolicy } from '../load.js';
import { loadForReload, RELOAD_QUIET_MS } from '../reload-guard.js';

export interface PolicyVersion {
  readonly policy: Policy;
  readonly engine: Engine;
  /** RFC 3339 time it started serving. */
  readonly loadedAt: string;
  /** 1 for the first version, +1 per successful reload. */
  readonly generation: number;
  /** Whether `engine.decideSync` gives what `engine.decide` would, without a promise: the store is
   *  synchronous (the memory store) and the policy declares no `extern def` (host functions may be
   *  asynchronous). The decide route then answers without awaiting. */
  readonly synchronous: boolean;
}

export interface ReloadResult {
  ok: boolean;
  /** Whether the hash changed (false also when the files changed but compile to the same policy). */
  changed: boolean;
  hash: string | null;
  error?: string;
}

export interface PolicyHolderOptions {
  /** Directory, `.rein` file or bundle (absolute or relative to the working directory). */
  source: string;
  store: BudgetStore;
  engine?: Omit<EngineOptions, 'store'>;
  /** Messages about reloads (stderr in the CLI). */
  log?: (msg: string) => void;
  /** Called after every reload attempt (metrics). */
  onReload?: (r: ReloadResult) => void;
  /** Versions kept after they were replaced, so reservations they made can still be settled (default 8). */
  keepRetired?: number;
}

/** A short, readable form of a load failure (first few diagnostics). */
export function describeLoadError(e: unknown): string {
  if (e instanceof PolicyError || (e instanceof Error && e.name === 'PolicyError')) {
    const diags = (e as PolicyError).diagnostics.filter((d) => d.severity === 'error');
    if (diags.length === 0) return e.message;
    const shown = diags.slice(0, 5).map((d) => `${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1} ${d.code} ${d.message}`);
    if (diags.length > 5) shown.push(`… and ${diags.length - 5} more`);
    return `the policy set has errors:\n  ${shown.join('\n  ')}`;
  }
  return e instanceof Error ? e.message : String(e);
}

export class PolicyHolder {
  private version: PolicyVersion | null = null;
  private readonly retired: PolicyVersion[] = [];
  private readonly owners = new Map<string, { v: PolicyVersion; dropAt: number }>();
  private watcher: ReplaceableWatch | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private reloading: Promise<ReloadResult> | null = null;
  private again = false;
  /** The last reload failure (cleared by a successful reload). */
  lastError: { message: string; time: string } | null = null;
  readonly source: string;

  constructor(private readonly opts: PolicyHolderOptions) {
    this.source = path.resolve(opts.source);
  }

  /** The version serving now (null before the first successful load). */
  get current(): PolicyVersion | null {
    return this.version;
  }

  get hash(): string | null {
    return this.version?.policy.hash ?? null;
  }

  /** Load the first version. Throws (LoadError, BundleError, PolicyError) when it cannot be loaded. */
  async load(): Promise<PolicyVersion> {
    const policy = await loadPolicy(this.source);
    return this.install(policy);
  }

  /**
   * Load the source again and swap when it checks. Never throws: a failure keeps the old version and
   * is returned (and kept in `lastError`). Concurrent calls share one reload (plus one more after it
   * when files changed meanwhile).
   */
  reload(): Promise<ReloadResult> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = this.doReload().then((r) => {
      this.opts.onReload?.(r);
      return r;
    }).finally(() => {
      this.reloading = null;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadResult> {
    let policy: Policy;
    try {
      policy = await loadForReload(this.source);
    } catch (e) {
      const message = describeLoadError(e);
      this.lastError = { message, time: new Date().toISOString() };
      this.opts.log?.(`reload failed; still serving ${this.hash}: ${message}`);
      await this.watchNamed();
      return { ok: false, changed: false, hash: this.hash, error: message };
    }
    this.lastError = null;
    if (this.version && policy.hash === this.version.policy.hash) return { ok: true, changed: false, hash: policy.hash };
    const before = this.hash;
    try {
      this.install(policy);
    } catch (e) {
      // The Engine refused it (e.g. its `extern def`s no longer match the host functions).
      const message = describeLoadError(e);
      this.lastError = { message, time: new Date().toISOString() };
      this.opts.log?.(`reload failed; still serving ${before}: ${message}`);
      return { ok: false, changed: false, hash: before, error: message };
    }
    this.opts.log?.(`reloaded: ${before} → ${policy.hash}`);
    this.watchData();
    return { ok: true, changed: true, hash: policy.hash };
  }

  private install(policy: Policy): PolicyVersion {
    const engine = new Engine(policy, { ...this.opts.engine, store: this.opts.store });
    const synchronous = engine.decidesSynchronously;
    const v: PolicyVersion = { policy, engine, loadedAt: new Date().toISOString(), generation: (this.version?.generation ?? 0) + 1, synchronous };
    if (this.version) {
      this.retired.unshift(this.version);
      const keep = this.opts.keepRetired ?? 8;
      while (this.retired.length > keep) {
        const dropped = this.retired.pop()!;
        for (const [id, o] of this.owners) if (o.v === dropped) this.owners.delete(id);
        this.runs.delete(dropped);
      }
    }
    this.version = v;
    return v;
  }

  /**
   * Remember which version made a decision's reservation (for `settle` after a reload), until `graceMs`
   * after it expires. Reservation ids are `<per-process prefix>-<counter in base 36>` with one counter
   * for every engine of the process, so each version made one run of counters: it is enough to keep,
   * per version, the first and last counter it issued and a checkpoint per minute (for the expiry).
   * Nothing is kept per decision — at 10,000 decisions/s a map of ids would grow by gigabytes a day,
   * and its entries made every young-generation GC copy them. An id of another shape is remembered
   * one by one (as before), so correctness never depends on the shape.
   */
  track(v: PolicyVersion, d: Decision, graceMs: number): void {
    const r = d.reservation;
    if (!r) return;
    // Decisions in the same millisecond share one `expires` text: parse it once.
    if (r.expires !== this.lastExpires) {
      this.lastExpires = r.expires;
      this.lastExpiresMs = Date.parse(r.expires);
    }
    const dropAt = this.lastExpiresMs + graceMs;
    const n = this.parseId(r.id);
    if (n < 0 || (this.prefix !== null && this.parsedPrefix !== this.prefix)) {
      this.owners.set(r.id, { v, dropAt });
      return;
    }
    this.prefix ??= this.parsedPrefix;
    let run = this.runs.get(v);
    if (!run) {
      run = { first: n, last: n, marks: [] };
      this.runs.set(v, run);
    }
    if (n < run.first) run.first = n;
    if (n > run.last) run.last = n;
    // A checkpoint (last counter so far, when it may be forgotten) per minute of decisions.
    const m = run.marks[run.marks.length - 1];
    if (m && dropAt - m[1] < 60_000) {
      if (n > m[0]) m[0] = n;
      m[1] = Math.max(m[1], dropAt);
    } else run.marks.push([n, dropAt]);
  }

  private prefix: string | null = null;
  private lastExpires = '';
  private lastExpiresMs = NaN;
  private readonly runs = new Map<PolicyVersion, { first: number; last: number; marks: [n: number, dropAt: number][] }>();

  /** The prefix of the id `parseId` read last (a field, not a result object: it runs per decision). */
  private parsedPrefix = '';

  /** The counter of an id `<prefix>-<base 36>` (its prefix in `parsedPrefix`), or -1. */
  private parseId(id: string): number {
    const cut = id.lastIndexOf('-');
    if (cut <= 0) return -1;
    const len = id.length - cut - 1;
    if (len < 1 || len > 10) return -1;
    // base-36 digits [0-9a-z] (by hand: one decision's id, no regex and no substring for the test)
    let n = 0;
    for (let i = cut + 1; i < id.length; i++) {
      const c = id.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
      if (digit < 0) return -1;
      n = n * 36 + digit;
    }
    if (!Number.isSafeInteger(n)) return -1;
    // the prefix is the same string for every id of this process: compare before slicing
    this.parsedPrefix = this.prefix !== null && id.length - len - 1 === this.prefix.length && id.startsWith(this.prefix) ? this.prefix : id.slice(0, cut);
    return n;
  }

  /** The version that made reservation `id`, or undefined when this process does not know it. */
  ownerOf(id: string, now: number = Date.now()): PolicyVersion | undefined {
    const o = this.owners.get(id);
    if (o) return o.dropAt > now ? o.v : undefined;
    const n = this.parseId(id);
    if (n < 0 || this.parsedPrefix !== this.prefix) return undefined;
    for (const [v, run] of this.runs) {
      if (n < run.first || n > run.last) continue;
      // the first checkpoint at or after this counter says until when it is kept
      const mark = run.marks.find((m) => m[0] >= n);
      return mark && mark[1] > now ? v : undefined;
    }
    return undefined;
  }

  /** Forget a settled reservation. */
  forget(id: string): void {
    this.owners.delete(id);
  }

  /** Forget reservations past their expiry plus grace (called periodically). */
  sweep(now: number): void {
    // Ids are tracked in decision order, so the map's order is expiry order (same TTL for all).
    for (const [id, o] of this.owners) {
      if (o.dropAt > now) break;
      this.owners.delete(id);
    }
    for (const [v, run] of this.runs) {
      // counters up to a dropped checkpoint are forgotten
      while (run.marks.length > 0 && run.marks[0]![1] <= now) run.first = run.marks.shift()![0] + 1;
      if (run.marks.length === 0) this.runs.delete(v);
    }
  }

  /** Watch the source for changes and reload once they have been quiet for `debounceMs` (default
   *  RELOAD_QUIET_MS: a file written in parts is not loaded half-way, review h13r1 S10). */
  watch(debounceMs = RELOAD_QUIET_MS): void {
    if (this.watcher) return;
    const dir = this.isDirSync() ? this.source : path.dirname(this.source);
    const base = path.basename(this.source);
    const relevant = (f: string | null) =>
      // `..data` and its siblings: a Kubernetes ConfigMap volume swapping in a new version of the set
      f === null || (this.isDirSync() ? f.endsWith('.rein') || f === 'rein.json' || f.startsWith('..') : f === base);
    // A directory that is replaced (deleted and recreated, an `mv` swap) is followed: ReplaceableWatch
    // also watches its parent and re-arms (data-watch.ts).
    this.watcher = new ReplaceableWatch(
      dir,
      (f) => {
        if (!relevant(f)) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          this.debounce = null;
          void this.reload();
        }, debounceMs);
      },
      (m) => this.opts.log?.(m),
    );
    this.watcher.start();
    // Data files (`data … from "f.json"`, docs/data.md): their directories are watched too.
    this.dataWatch = new DataWatch(() => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.debounce = null;
        void this.reload();
      }, debounceMs);
    }, (m) => this.opts.log?.(m));
    this.watchData();
  }

  private dataWatch: DataWatch | null = null;
  private watchData(): void {
    // a bundle carries its data: only a directory or a `.rein` file reads data files
    if (this.dataWatch && this.version && (this.isDirSync() || this.source.endsWith('.rein'))) this.dataWatch.set(dataPathsOf(this.version.policy, setRootOf(this.source, this.isDirSync())));
  }

  /** After a refused reload: watch also the files the set names now (a data file it names that does
   *  not exist yet is watched, so creating it reloads). */
  private async watchNamed(): Promise<void> {
    if (!this.dataWatch || !this.version || !(this.isDirSync() || this.source.endsWith('.rein'))) return;
    const now = dataPathsOf(this.version.policy, setRootOf(this.source, this.isDirSync()));
    this.dataWatch.set([...now, ...(await namedPathsOf(this.source))]);
  }

  private dirFlag: boolean | null = null;
  private isDirSync(): boolean {
    return this.dirFlag ?? false;
  }

  /** Find out once whether the source is a directory (watching needs it). */
  async init(): Promise<void> {
    try {
      this.dirFlag = (await fs.stat(this.source)).isDirectory();
    } catch {
      this.dirFlag = false;
    }
  }

  close(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    this.watcher?.close();
    this.watcher = null;
    this.dataWatch?.close();
    this.dataWatch = null;
  }
}
