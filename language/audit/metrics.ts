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
      for (const r of d.reasons) if (r.name) this.matches.add(1, { name: r.name, kind: r.kind, effect: r.effect, policy });
      // A rule or budget that asks for approval is also among the reasons (effect require_approval):
      // count it once.
      for (const a of d.approvals) if (!askedInReasons(d, a)) this.matches.add(1, { name: a.name, kind: a.kind, effect: 'require_approval', policy });
      for (const w of d.warnings) if (w.name) this.matches.add(1, { name: w.name, kind: w.kind, effect: 'warn', policy });
      if (ctx.latencyMs !== undefined) this.duration.record(ctx.latencyMs, { effect: d.effect, policy });
      for (const b of d.budgets) {
        const limit = amount(b.limit);
        if (limit > 0) this.utilization.record((amount(b.spent) + amount(b.reserved) + amount(b.charge)) / limit, { budget: b.name, policy });
      }
    } catch {
      /* metrics never break decisions */
    }
  }

  sinkFailure(policy = 'unknown'): void {
    this.sinkFailures.add(1, { policy });
  }
}
