// Prometheus metrics for `rein serve`: the decision instruments of DecisionMetrics
// (language/audit/metrics.ts: same names, labels and meter) on a private MeterProvider whose reader is
// the official Prometheus exporter, serialized on demand at GET /metrics (no second HTTP server).
//
// Recorded for every decision, so kept cheap: an OpenTelemetry `add`/`record` hashes its attribute
// object on every call (sorted keys, JSON) — four such calls per decision were ~7 µs of a decision's
// ~100 µs of server CPU. Counters and the utilization gauge are therefore counted here in small maps
// and reported through observable instruments, read only when /metrics is scraped; only the latency
// histogram is recorded per decision (one call).

import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { forEachMatch, utilizationOf } from '../../audit/metrics.js';
import type { Decision } from '../../runtime/decision.js';

interface Tally {
  readonly attrs: Attributes;
  n: number;
}

/** The instruments of DecisionMetrics (`rein.decisions`, `rein.rule.matches`, `rein.decision.duration`,
 *  `rein.budget.utilization`, `rein.audit.sink_failures`), pre-aggregated: see the top of this file. */
export class ServeDecisionMetrics {
  private readonly duration: Histogram;
  private readonly sinkFailures: Counter;
  /** policy → effect → the decisions counter's tally (and the histogram's attribute object). */
  private readonly decisions = new Map<string, Map<string, Tally>>();
  /** `name\0kind\0effect\0policy` → tally. */
  private readonly matches = new Map<string, Tally>();
  /** `budget\0policy` → last utilization. */
  private readonly utilization = new Map<string, { attrs: Attributes; value: number }>();

  constructor(meter: Meter) {
    meter.createObservableCounter('rein.decisions', { description: 'Decisions by effect' }).addCallback((r) => {
      for (const byEffect of this.decisions.values()) for (const t of byEffect.values()) r.observe(t.n, t.attrs);
    });
    meter.createObservableCounter('rein.rule.matches', { description: 'Rules and budgets that decided, asked for approval or warned' }).addCallback((r) => {
      for (const t of this.matches.values()) r.observe(t.n, t.attrs);
    });
    this.duration = meter.createHistogram('rein.decision.duration', { description: 'Evaluation latency', unit: 'ms' });
    meter.createObservableGauge('rein.budget.utilization', { description: 'Budget use after this request: (spent + reserved + charge) / limit' }).addCallback((r) => {
      for (const u of this.utilization.values()) r.observe(u.value, u.attrs);
    });
    this.sinkFailures = meter.createCounter('rein.audit.sink_failures', { description: 'Audit records a sink failed to write' });
  }

  /** Records one decision. Never throws. */
  record(d: Decision, latencyMs?: number): void {
    try {
      const policy = d.policy.name;
      const effect = d.effect;
      let byEffect = this.decisions.get(policy);
      if (byEffect === undefined) this.decisions.set(policy, (byEffect = new Map()));
      let t = byEffect.get(effect);
      if (t === undefined) byEffect.set(effect, (t = { attrs: { effect, policy }, n: 0 }));
      t.n++;
      forEachMatch(d, (name, kind, effect) => this.match(name, kind, effect, policy));
      if (latencyMs !== undefined) this.duration.record(latencyMs, t.attrs);
      for (const b of d.budgets) {
        const value = utilizationOf(b);
        if (value === null) continue;
        const key = `${b.name}\0${policy}`;
        let u = this.utilization.get(key);
        if (u === undefined) this.utilization.set(key, (u = { attrs: { budget: b.name, policy }, value: 0 }));
        u.value = value;
      }
    } catch {
      /* metrics never break decisions */
    }
  }

  private match(name: string, kind: string, effect: string, policy: string): void {
    const key = `${name}\0${kind}\0${effect}\0${policy}`;
    let t = this.matches.get(key);
    if (t === undefined) this.matches.set(key, (t = { attrs: { name, kind, effect, policy }, n: 0 }));
    t.n++;
  }

  sinkFailure(policy = 'unknown'): void {
    this.sinkFailures.add(1, { policy });
  }
}


export class ServeMetrics {
  readonly exporter: PrometheusExporter;
  readonly provider: MeterProvider;
  readonly decisions: ServeDecisionMetrics;
  // No target_info series: the resource is this process, which the scrape target already names.
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, true);
  private readonly reloads: Counter;
  private readonly settles: Counter;
  private readonly rejected: Counter;

  constructor() {
    this.exporter = new PrometheusExporter({ preventServerStart: true });
    this.provider = new MeterProvider({
      readers: [this.exporter],
      // Decisions take microseconds to milliseconds: the default buckets (0, 5, 10, … ms) would put
      // every one in the first.
      views: [
        {
          instrumentName: 'rein.decision.duration',
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000] } },
        },
      ],
    });
    // The meter DecisionMetrics uses (`rein` 0.1.0): the same otel_scope labels on every series.
    this.decisions = new ServeDecisionMetrics(this.provider.getMeter('rein', '0.1.0'));
    const meter = this.provider.getMeter('rein-serve');
    this.reloads = meter.createCounter('rein.policy.reloads', { description: 'Policy reloads by result (ok, failed)' });
    this.settles = meter.createCounter('rein.settles', { description: 'Settle calls by result' });
    this.rejected = meter.createCounter('rein.http.rejected', { description: 'Requests answered with a 4xx or 5xx error, by code' });
  }

  decision(d: Decision, latencyMs: number): void {
    this.decisions.record(d, latencyMs);
  }

  reload(ok: boolean): void {
    this.reloads.add(1, { result: ok ? 'ok' : 'failed' });
  }

  settle(result: string): void {
    this.settles.add(1, { result });
  }

  error(code: string): void {
    this.rejected.add(1, { code });
  }

  /** The Prometheus text exposition of every instrument. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  async close(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
  }
}
