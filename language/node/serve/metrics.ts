// Prometheus metrics for `rein serve`: the project's OpenTelemetry instruments (DecisionMetrics,
// language/audit/metrics.ts) on a private MeterProvider whose reader is the official Prometheus
// exporter, serialized on demand at GET /metrics (no second HTTP server).

import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Counter } from '@opentelemetry/api';
import { DecisionMetrics } from '../../audit/metrics.js';
import type { Decision } from '../../runtime/decision.js';

export class ServeMetrics {
  readonly exporter: PrometheusExporter;
  readonly provider: MeterProvider;
  readonly decisions: DecisionMetrics;
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
    this.decisions = new DecisionMetrics({ meterProvider: this.provider });
    const meter = this.provider.getMeter('rein-serve');
    this.reloads = meter.createCounter('rein.policy.reloads', { description: 'Policy reloads by result (ok, failed)' });
    this.settles = meter.createCounter('rein.settles', { description: 'Settle calls by result' });
    this.rejected = meter.createCounter('rein.http.rejected', { description: 'Requests answered with a 4xx or 5xx error, by code' });
  }

  decision(d: Decision, latencyMs: number): void {
    this.decisions.record(d, { latencyMs });
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
