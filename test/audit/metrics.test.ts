import { strict as assert } from 'node:assert';
import { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DecisionMetrics } from '../../language/audit/metrics.js';
import type { Decision } from '../../language/runtime/decision.js';

function d(effect: Decision['effect'], extra: Partial<Decision> = {}): Decision {
  return {
    effect,
    reasons: effect === 'deny' ? [{ kind: 'rule', name: 'no_shell', effect: 'deny', message: 'no' }] : [],
    approvals: effect === 'require_approval' ? [{ kind: 'rule', name: 'big_refund', from: 'lead', message: null }] : [],
    warnings: [],
    monitored: [],
    budgets: [],
    errors: [],
    reservation: null,
    policy: { name: 'support', version: '1', hash: 'sha256:x' },
    request_hash: null,
    time: '2026-11-25T00:00:00.000Z',
    mode: 'enforce',
    ...extra,
  };
}

async function collect(fn: (m: DecisionMetrics) => void) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  fn(new DecisionMetrics({ meterProvider: provider }));
  await reader.forceFlush();
  const batches: ResourceMetrics[] = exporter.getMetrics();
  await provider.shutdown();
  const byName = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const rm of batches)
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics) byName.set(m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
  return byName;
}

describe('decision metrics (OpenTelemetry API, checked with the SDK in-memory exporter)', () => {
  it('counts decisions by effect and by rule, records latency and budget utilisation', async () => {
    const got = await collect((m) => {
      m.record(d('allow', { budgets: [{ name: 'team_daily', key: ['support'], limit: '50.000000', spent: '30.000000', reserved: '5.000000', charge: '5.000000', remaining: '10.000000', window: null, exceeded: false, warned: true }] }), { latencyMs: 0.2 });
      m.record(d('deny'), { latencyMs: 0.4 });
      m.record(d('deny'), { latencyMs: 0.6 });
      m.record(d('require_approval'), { latencyMs: 0.1 });
      // As the engine gives it: the rule asking for approval is also among the reasons — counted once.
      m.record(d('require_approval', { reasons: [{ kind: 'rule', name: 'big_refund', effect: 'require_approval', message: 'needs a lead' }] }), { latencyMs: 0.1 });
      m.sinkFailure('support');
    });
    const decisions = got.get('rein.decisions')!;
    const count = (effect: string) => decisions.find((p) => p.attributes.effect === effect)?.value;
    assert.equal(count('deny'), 2);
    assert.equal(count('allow'), 1);
    assert.equal(count('require_approval'), 2);
    const matches = got.get('rein.rule.matches')!;
    assert.equal(matches.find((p) => p.attributes.name === 'no_shell')?.value, 2);
    assert.equal(matches.find((p) => p.attributes.name === 'big_refund')?.value, 2);
    const hist = got.get('rein.decision.duration')!;
    const denyHist = hist.find((p) => p.attributes.effect === 'deny')!.value as { count: number; sum: number };
    assert.equal(denyHist.count, 2);
    assert.ok(Math.abs(denyHist.sum - 1.0) < 1e-9);
    const util = got.get('rein.budget.utilization')!;
    assert.equal(util[0].attributes.budget, 'team_daily');
    assert.equal(util[0].value, 0.8);
    assert.equal(got.get('rein.audit.sink_failures')![0].value, 1);
  });

  it('is a no-op without a registered MeterProvider, and never throws on odd decisions', async () => {
    const m = new DecisionMetrics();
    assert.doesNotThrow(() => m.record(d('deny'), { latencyMs: 1 }));
    // a decision missing its lists or with a zero limit must not break the decision path
    assert.doesNotThrow(() => m.record({ ...d('allow'), reasons: undefined } as unknown as Decision));
    const got = await collect((mm) => mm.record(d('allow', { budgets: [{ name: 'b', key: [], limit: '0.000000', spent: '0', reserved: '0', charge: '0', remaining: '0', window: null, exceeded: false, warned: false }] })));
    assert.equal(got.get('rein.budget.utilization'), undefined, 'no utilisation point for a zero limit');
    assert.equal(got.get('rein.decisions')![0].value, 1);
  });
});
