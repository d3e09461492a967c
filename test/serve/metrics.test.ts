// rein serve's latency histogram is counted in place (DurationTally, language/node/serve/metrics.ts) and
// added to the collected data at scrape time: its Prometheus text must be what OpenTelemetry's own
// explicit-bucket histogram (the instrument it replaces) gives for the same values.
import assert from 'node:assert/strict';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import type { Decision } from '../../language/runtime/decision.js';
import { DURATION_BOUNDARIES, DurationTally, ServeMetrics } from '../../language/node/serve/metrics.js';
import { forEachMatch } from '../../language/audit/metrics.js';
import { rng } from '../helpers/prng.js';

const POLICY = `policy metrics_test {
  version "1.0.0"
  default allow
}
input {
  tool: string
}
rule no_drop {
  when tool == "db.drop"
  deny "blocked"
}
`;

/** The same values through the SDK's histogram, as ServeMetrics configured it before. */
async function reference(values: { effect: string; ms: number }[]): Promise<string> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    readers: [exporter],
    views: [{ instrumentName: 'rein.decision.duration', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...DURATION_BOUNDARIES] } } }],
  });
  const h = provider.getMeter('rein', '0.1.0').createHistogram('rein.decision.duration', { description: 'Evaluation latency', unit: 'ms' });
  for (const v of values) h.record(v.ms, { effect: v.effect, policy: 'metrics_test' });
  const { resourceMetrics } = await exporter.collect();
  const text = new PrometheusSerializer(undefined, false, undefined, true).serialize(resourceMetrics);
  await provider.shutdown();
  return text;
}

const durationLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^(# (HELP|TYPE|UNIT) )?rein_decision_duration/.test(l))
    .sort();

describe('rein serve metrics: the latency histogram counted in place', () => {
  const engine = new Engine(compile({ 'p.rein': POLICY }));
  const allow = engine.decideSync({ tool: 'search' }) as Decision;
  const deny = engine.decideSync({ tool: 'db.drop' }) as Decision;

  it('gives the Prometheus text of the SDK histogram for the same values (bucket edges, +Inf, count, sum)', async () => {
    const values: { effect: string; ms: number }[] = [];
    // every boundary, just above it, zero, and values past the last boundary
    for (const b of DURATION_BOUNDARIES) values.push({ effect: 'allow', ms: b }, { effect: 'allow', ms: b * 1.0001 });
    values.push({ effect: 'allow', ms: 0 }, { effect: 'deny', ms: 0.3 }, { effect: 'deny', ms: 5000 }, { effect: 'allow', ms: 0.013 });
    const m = new ServeMetrics();
    try {
      for (const v of values) m.decision(v.effect === 'allow' ? allow : deny, v.ms);
      const ours = durationLines(await m.scrape());
      assert.ok(ours.some((l) => /^rein_decision_duration_bucket\{effect="allow",policy="metrics_test",otel_scope_name="rein",otel_scope_version="0.1.0",le="\+Inf"\} 32$/.test(l)), ours.join('\n'));
      assert.deepEqual(ours, durationLines(await reference(values)));
    } finally {
      await m.close();
    }
  });

  it('counts across scrapes (cumulative) and has no series before the first decision', async () => {
    const m = new ServeMetrics();
    try {
      assert.deepEqual(durationLines(await m.scrape()), []);
      m.decision(allow, 0.02);
      assert.match(await m.scrape(), /^rein_decision_duration_count\{effect="allow"[^}]*\} 1$/m);
      m.decision(allow, 0.2);
      const text = await m.scrape();
      assert.match(text, /^rein_decision_duration_count\{effect="allow"[^}]*\} 2$/m);
      assert.match(text, /^rein_decision_duration_bucket\{effect="allow"[^}]*le="0.025"\} 1$/m);
      assert.match(text, /^rein_decision_duration_bucket\{effect="allow"[^}]*le="0.25"\} 2$/m);
      // the decisions counter is still there beside it
      assert.match(text, /^rein_decisions_total\{effect="allow",policy="metrics_test"[^}]*\} 2$/m);
    } finally {
      await m.close();
    }
  });

  it('drops negative and non-finite latencies', () => {
    const t = new DurationTally();
    for (const ms of [-1, NaN, Infinity, 0.5]) t.record(ms);
    assert.equal(t.count, 1);
    assert.equal(t.sum, 0.5);
    assert.deepEqual([t.min, t.max], [0.5, 0.5]);
  });

  it('the budget utilization gauge is the last decision\'s, computed at scrape; a budget without a positive limit keeps the last value', async () => {
    const m = new ServeMetrics();
    const entry = (name: string, limit: string, spent: string, charge: string) => ({ name, key: [], limit, spent, reserved: '0.000000', charge, remaining: '0', window: null, exceeded: false, warned: false });
    const withBudgets = (...budgets: ReturnType<typeof entry>[]) => Object.assign(Object.create(Object.getPrototypeOf(allow)), allow, { budgets }) as Decision;
    try {
      m.decision(withBudgets(entry('daily', '1.000000', '0.100000', '0.100000')), 0.1);
      m.decision(withBudgets(entry('daily', '1.000000', '0.200000', '0.050000'), entry('hourly', '4.000000', '1.000000', '0.000000')), 0.1);
      let text = await m.scrape();
      assert.match(text, /^rein_budget_utilization\{budget="daily",policy="metrics_test"[^}]*\} 0\.25$/m);
      assert.match(text, /^rein_budget_utilization\{budget="hourly",policy="metrics_test"[^}]*\} 0\.25$/m);
      // a zero limit (data-driven limits) has no utilization: the gauge stays at the last value
      m.decision(withBudgets(entry('daily', '0.000000', '0.300000', '0.100000')), 0.1);
      text = await m.scrape();
      assert.match(text, /^rein_budget_utilization\{budget="daily",policy="metrics_test"[^}]*\} 0\.25$/m);
      m.decision(withBudgets(entry('daily', '2.000000', '1.000000', '0.000000')), 0.1);
      assert.match(await m.scrape(), /^rein_budget_utilization\{budget="daily",policy="metrics_test"[^}]*\} 0\.5$/m);
    } finally {
      await m.close();
    }
  });

  it('rein.rule.matches counts what forEachMatch names, per name, kind, effect and policy (generated decisions)', async () => {
    const r = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const names = ['a', 'b', 'c_d'];
    const kinds = ['rule', 'budget'] as const;
    const effects = ['allow', 'deny', 'require_approval'] as const;
    const want = new Map<string, number>();
    const m = new ServeMetrics();
    try {
      for (let i = 0; i < 400; i++) {
        const entry = () => ({ kind: pick(kinds), name: pick(names), effect: pick(effects), message: null });
        const d = {
          ...allow,
          policy: { ...allow.policy, name: pick(['p1', 'p2']) },
          reasons: [...Array(Math.floor(r() * 3))].map(entry),
          approvals: [...Array(Math.floor(r() * 2))].map(() => ({ kind: pick(kinds), name: pick(names), from: null, message: null })),
          warnings: [...Array(Math.floor(r() * 2))].map(() => ({ ...entry(), effect: 'warn' as const })),
          budgets: [],
        } as unknown as Decision;
        m.decision(d, 0.1);
        forEachMatch(d, (name, kind, effect) => {
          const k = `${name}|${kind}|${effect}|${d.policy.name}`;
          want.set(k, (want.get(k) ?? 0) + 1);
        });
      }
      const got = new Map<string, number>();
      for (const line of (await m.scrape()).split('\n')) {
        const x = /^rein_rule_matches_total\{name="([^"]*)",kind="([^"]*)",effect="([^"]*)",policy="([^"]*)"[^}]*\} (\d+)$/.exec(line);
        if (x) got.set(`${x[1]}|${x[2]}|${x[3]}|${x[4]}`, Number(x[5]));
      }
      assert.ok(want.size > 20, `${want.size}`);
      assert.deepEqual(new Map([...got].sort()), new Map([...want].sort()));
    } finally {
      await m.close();
    }
  });
});
