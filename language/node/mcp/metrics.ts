// `rein mcp --metrics HOST:PORT`: Prometheus metrics through OpenTelemetry's Prometheus exporter.
// The decision metrics are the project's DecisionMetrics (language/audit/metrics.ts): decisions by
// effect, rule matches, latency histogram, budget utilization; the gateway adds spend by budget and
// counts of forwarded, refused and failed calls.

import { createServer, type Server } from 'node:http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { DecisionMetrics } from '../../audit/metrics.js';
import type { Decision } from '../../runtime/decision.js';

export interface GatewayMetrics {
  record(d: Decision, latencyMs: number): void;
  /** A tools/call outcome: forwarded, refused (policy) or failed (upstream error or timeout). */
  call(outcome: 'forwarded' | 'refused' | 'failed', tool: string): void;
}

export class PrometheusGatewayMetrics implements GatewayMetrics {
  private readonly decisions: DecisionMetrics;
  private readonly spend;
  private readonly calls;
  private readonly provider: MeterProvider;
  private readonly exporter: PrometheusExporter;
  private server: Server | null = null;

  constructor() {
    this.exporter = new PrometheusExporter({ preventServerStart: true });
    this.provider = new MeterProvider({ readers: [this.exporter] });
    this.decisions = new DecisionMetrics({ meterProvider: this.provider });
    const meter = this.provider.getMeter('rein-mcp');
    this.spend = meter.createGauge('rein.budget.spent', { description: 'Spent plus reserved in the budget counter the last decision touched, in the budget unit (money: currency units)' });
    this.calls = meter.createCounter('rein.mcp.calls', { description: 'tools/call requests by outcome (forwarded, refused, failed)' });
  }

  record(d: Decision, latencyMs: number): void {
    this.decisions.record(d, { latencyMs });
    try {
      for (const b of d.budgets) if (b.spent !== null) this.spend.record(Number(b.spent) + Number(b.reserved) + Number(b.charge), { budget: b.name, policy: d.policy.name });
    } catch {
      /* metrics never break decisions */
    }
  }

  call(outcome: 'forwarded' | 'refused' | 'failed', tool: string): void {
    this.calls.add(1, { outcome, tool });
  }

  /** Serve `/metrics` on host:port (port 0: any free port). Resolves with the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      if ((req.url ?? '').split('?')[0] === '/metrics') this.exporter.getMetricsRequestHandler(req, res);
      else {
        res.statusCode = 404;
        res.end('not found: metrics are at /metrics\n');
      }
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        resolve({ host, port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    await this.provider.shutdown().catch(() => undefined);
  }
}
