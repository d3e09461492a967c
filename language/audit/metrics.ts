// Decision metrics through the OpenTelemetry API (no SDK dependency: with no MeterProvider registered
// every instrument is a no-op). Browser-safe.
//
//   rein.decisions                 counter    {effect, policy}
//   rein.rule.matches              counter    {name, kind (rule|budget), effect, policy}
//   rein.decision.duration         histogram  ms  {effect, policy}
//   rein.budget.utilization        gauge      (spent + reserved + charge) / limit  {budget, policy}
//   rein.audit.sink_failures       counter    {policy}

import { metrics } from '@opentelemetry/api';
import type { Decision } from '../runtime/decision.js';

type Attributes = Record<string, string | number | boolean>;
interface InstrumentOptions {
  description?: string;
  unit?: string;
}
/** The part of an OpenTelemetry `Meter` Rein uses (any `@opentelemetry/api` Meter fits). */
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptions): { add(value: number, attributes?: Attributes): void };
  createHistogram(name: string, options?: InstrumentOptions): { record(value: number, attributes?: Attributes): void };
  createGauge(name: string, options?: InstrumentOptions): { record(value: number, attributes?: Attributes): void };
}
/** The part of an OpenTelemetry `MeterProvider` Rein uses (any `@opentelemetry/api` MeterProvider fits). */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): MeterLike;
}

export interface DecisionMetricsOptions {
  /** Default: the global MeterProvider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProviderLike;
}

const amount = (v: string | number): number => (typeof v === 'number' ? v : Number(v));

/** Whether a pending approval's rule or budget is already among the decision's reasons. */
export function askedInReasons(d: Decision, a: { name: string; kind: string }): boolean {
  for (const r of d.reasons) if (r.name === a.name && r.kind === a.kind && r.effect === 'require_approval') return true;
  return false;
}

/** Each rule and budget a decision matched, as `rein.rule.matches` counts it: its reasons, the pending
 *  approvals not already among them (a rule or budget asking for approval is also a reason with effect
 *  require_approval: counted once), and its warnings. */
export function forEachMatch(d: Decision, fn: (name: string, kind: string, effect: string) => void): void {
  for (const r of d.reasons) if (r.name) fn(r.name, r.kind, r.effect);
  for (const a of d.approvals) if (!askedInReasons(d, a)) fn(a.name, a.kind, 'require_approval');
  for (const w of d.warnings) if (w.name) fn(w.name, w.kind, 'warn');
}

/** A budget's use after the request, `(spent + reserved + charge) / limit`; null without a positive
 *  limit or when the counters are unknown (the store failed). */
export function utilizationOf(b: Decision['budgets'][number]): number | null {
  if (b.spent === null || b.reserved === null) return null;
  const limit = amount(b.limit);
  return limit > 0 ? (amount(b.spent) + amount(b.reserved) + amount(b.charge)) / limit : null;
}

export class DecisionMetrics {
  private readonly decisions;
  private readonly matches;
  private readonly duration;
  private readonly utilization;
  private readonly sinkFailures;

  constructor(opts: DecisionMetricsOptions = {}) {
    const provider: MeterProviderLike = opts.meterProvider ?? metrics.getMeterProvider();
    const meter = provider.getMeter('rein', '0.1.0');
    this.decisions = meter.createCounter('rein.decisions', { description: 'Decisions by effect' });
    this.matches = meter.createCounter('rein.rule.matches', { description: 'Rules and budgets that decided, asked for approval or warned' });
    this.duration = meter.createHistogram('rein.decision.duration', { description: 'Evaluation latency', unit: 'ms' });
    this.utilization = meter.createGauge('rein.budget.utilization', { description: 'Budget use after this request: (spent + reserved + charge) / limit' });
    this.sinkFailures = meter.createCounter('rein.audit.sink_failures', { description: 'Audit records a sink failed to write' });
  }

  /** Records one decision. Never throws. */
  record(d: Decision, ctx: { latencyMs?: number } = {}): void {
    try {
      const policy = d.policy.name;
      this.decisions.add(1, { effect: d.effect, policy });
      forEachMatch(d, (name, kind, effect) => this.matches.add(1, { name, kind, effect, policy }));
      if (ctx.latencyMs !== undefined) this.duration.record(ctx.latencyMs, { effect: d.effect, policy });
      for (const b of d.budgets) {
        const u = utilizationOf(b);
        if (u !== null) this.utilization.record(u, { budget: b.name, policy });
      }
    } catch {
      /* metrics never break decisions */
    }
  }

  sinkFailure(policy = 'unknown'): void {
    this.sinkFailures.add(1, { policy });
  }
}
