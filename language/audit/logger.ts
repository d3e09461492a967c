// Connects decisions to audit sinks. Browser-safe: a sink is anything with `write(line)`.
// Writing never blocks or fails a decision: sink errors are counted and reported via `onError`.

import type { Decision } from '../runtime/decision.js';
import { AuditChain, type AuditEvent, type AuditOptions } from './record.js';

/** Where audit lines go. `write` may be async; the logger never awaits it on the decision path. */
export interface AuditSink {
  write(line: string): void | Promise<void>;
  flush?(): Promise<void>;
  close?(): Promise<void>;
  /** Where the chain stands in an existing log (so appending continues it). */
  head?(): { seq: number; hash: string } | undefined;
  /** A faster SHA-256 (`sha256:<hex>`) the chain may use, e.g. node:crypto in a Node sink. */
  hash?(s: string): string;
}

export interface AuditLoggerOptions extends AuditOptions {
  /** Called for each failed write (the decision is unaffected). */
  onError?: (err: unknown) => void;
}

export interface DecisionContext {
  request?: unknown;
  latencyMs?: number;
}

export class AuditLogger {
  private readonly chain: AuditChain;
  /** Writes that failed (sink threw or rejected). */
  failures = 0;
  /** Records handed to the sink. */
  written = 0;
  private readonly onError?: (err: unknown) => void;

  constructor(
    private readonly sink: AuditSink,
    opts: AuditLoggerOptions = {},
  ) {
    this.chain = new AuditChain({ ...opts, head: sink.head?.(), hash: sink.hash ? (s) => sink.hash!(s) : undefined });
    this.onError = opts.onError;
  }

  /** Records one decision. Never throws. */
  record(decision: Decision, ctx: DecisionContext = {}): void {
    let line: string;
    try {
      line = this.chain.next(decision, ctx);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.append(line);
  }

  /** Records an event (an approval verdict, …) in the same chain. Never throws. */
  event(event: AuditEvent, ctx: { time?: string; policy?: Decision['policy'] | null; requestHash?: string | null } = {}): void {
    let line: string;
    try {
      line = this.chain.nextEvent(event, { ...ctx, time: ctx.time ?? new Date().toISOString() });
    } catch (e) {
      this.fail(e);
      return;
    }
    this.append(line);
  }

  /** An `onDecision` hook for `new Engine(policy, { onDecision: logger.hook() })`. */
  hook(): (d: Decision, ctx?: DecisionContext) => void {
    return (d, ctx) => this.record(d, ctx);
  }

  async flush(): Promise<void> {
    await this.sink.flush?.();
  }

  async close(): Promise<void> {
    await this.sink.close?.();
  }

  private append(line: string): void {
    this.written++;
    try {
      const r = this.sink.write(line);
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch((e) => this.fail(e));
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.failures++;
    try {
      this.onError?.(e);
    } catch {
      /* a failing error callback must not break anything either */
    }
  }
}

/** A sink that keeps lines in memory (tests, browsers, or forwarding elsewhere). */
export class MemoryAuditSink implements AuditSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  text(): string {
    return this.lines.map((l) => l + '\n').join('');
  }
}
