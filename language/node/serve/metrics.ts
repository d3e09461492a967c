// Prometheus metrics for `rein serve`: the decision instruments of DecisionMetrics
// (language/audit/metrics.ts: same names, labels and meter) on a private MeterProvider whose reader is
// the official Prometheus exporter, serialized on demand at GET /metrics (no second HTTP server).
//
// Recorded for every decision, so kept cheap: an OpenTelemetry `add`/`record` hashes its attribute
// object on every call (sorted keys, JSON) — four such calls per decision were ~7 µs of a decision's
// ~100 µs of server CPU. Counters and the utilization gauge are therefore counted here in small maps
// and reported through observable instruments, read only when /metrics is scraped. The latency
// histogram is counted here too (OpenTelemetry has no observable histogram: its buckets are added to
// the collected data at scrape time, in the shape the SDK's own histogram gives — `DurationTally`);
// its `record` was ~1.3 µs per decision.

import { AggregationTemporality, DataPointType, MeterProvider, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { ValueType, type Attributes, type Counter, type HrTime, type Meter } from '@opentelemetry/api';
import { askedInReasons, utilizationOf } from '../../audit/metrics.js';
import type { Decision } from '../../runtime/decision.js';

type BudgetEntry = Decision['budgets'][number];

interface Tally {
  readonly attrs: Attributes;
  n: number;
}

interface MatchTally extends Tally {
  readonly kind: string;
  readonly effect: string;
}

/** Bucket boundaries of `rein.decision.duration` (ms): decisions take microseconds to milliseconds,
 *  so OpenTelemetry's default buckets (0, 5, 10, … ms) would put every one in the first. */
export const DURATION_BOUNDARIES: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

const DURATION_NAME = 'rein.decision.duration';
const DURATION_DESCRIPTION = 'Evaluation latency';

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/**
 * One attribute set's latency histogram, as OpenTelemetry's explicit-bucket histogram aggregates it:
 * a value falls in the first bucket whose upper boundary is ≥ it (the last bucket is +Inf); count,
 * sum, min and max. Negative and non-finite values are dropped (the SDK drops negatives too).
 */
export class DurationTally {
  readonly counts: number[] = new Array<number>(DURATION_BOUNDARIES.length + 1).fill(0);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly start = Date.now();

  record(ms: number): void {
    if (!(ms >= 0) || ms === Infinity) return;
    const b = DURATION_BOUNDARIES;
    let i = 0;
    while (i < b.length && ms > b[i]) i++;
    this.counts[i]++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }
}

/** The instruments of DecisionMetrics (`rein.decisions`, `rein.rule.matches`, `rein.decision.duration`,
 *  `rein.budget.utilization`, `rein.audit.sink_failures`), pre-aggregated: see the top of this file. */
export class ServeDecisionMetrics {
  private readonly sinkFailures: Counter;
  /** policy → effect → the decisions counter's tally and the latency histogram of those decisions. */
  private readonly decisions = new Map<string, Map<string, Tally & { readonly duration: DurationTally }>>();
  /** policy → rule or budget name → its tallies, one per kind and effect (usually one): looked up
   *  with the decision's own strings, no key built per match. */
  private readonly matches = new Map<string, Map<string, MatchTally[]>>();
  /** policy → budget → its last entry with a positive limit: the gauge's value, `utilizationOf` it, is
   *  computed when /metrics is scraped (four decimal amounts parsed per budget and decision otherwise). */
  private readonly utilization = new Map<string, Map<string, { readonly attrs: Attributes; last: BudgetEntry }>>();
  /** The last limit seen and whether it is positive (a budget's limit text is one shared string). */
  private lastLimit: string | number = NaN;
  private lastLimitPositive = false;

  constructor(meter: Meter) {
    meter.createObservableCounter('rein.decisions', { description: 'Decisions by effect' }).addCallback((r) => {
      for (const byEffect of this.decisions.values()) for (const t of byEffect.values()) r.observe(t.n, t.attrs);
    });
    meter.createObservableCounter('rein.rule.matches', { description: 'Rules and budgets that decided, asked for approval or warned' }).addCallback((r) => {
      for (const byName of this.matches.values()) for (const ts of byName.values()) for (const t of ts) r.observe(t.n, t.attrs);
    });
    meter.createObservableGauge('rein.budget.utilization', { description: 'Budget use after this request: (spent + reserved + charge) / limit' }).addCallback((r) => {
      for (const byBudget of this.utilization.values()) {
        for (const u of byBudget.values()) {
          const value = utilizationOf(u.last);
          if (value !== null) r.observe(value, u.attrs);
        }
      }
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
      if (t === undefined) byEffect.set(effect, (t = { attrs: { effect, policy }, n: 0, duration: new DurationTally() }));
      t.n++;
      // what forEachMatch (audit/metrics.ts) counts, without its callback (a closure per decision)
      for (const r of d.reasons) if (r.name) this.match(r.name, r.kind, r.effect, policy);
      for (const a of d.approvals) if (!askedInReasons(d, a)) this.match(a.name, a.kind, 'require_approval', policy);
      for (const w of d.warnings) if (w.name) this.match(w.name, w.kind, 'warn', policy);
      if (latencyMs !== undefined) t.duration.record(latencyMs);
      const budgets = d.budgets;
      if (budgets.length > 0) {
        let byBudget = this.utilization.get(policy);
        if (byBudget === undefined) this.utilization.set(policy, (byBudget = new Map()));
        for (const b of budgets) {
          // A budget without a positive limit has no utilization: the gauge keeps its last value.
          if (b.limit !== this.lastLimit) {
            this.lastLimit = b.limit;
            this.lastLimitPositive = (typeof b.limit === 'number' ? b.limit : Number(b.limit)) > 0;
          }
          if (!this.lastLimitPositive) continue;
          const u = byBudget.get(b.name);
          if (u === undefined) byBudget.set(b.name, { attrs: { budget: b.name, policy }, last: b });
          else u.last = b;
        }
      }
    } catch {
      /* metrics never break decisions */
    }
  }

  private match(name: string, kind: string, effect: string, policy: string): void {
    let byName = this.matches.get(policy);
    if (byName === undefined) this.matches.set(policy, (byName = new Map()));
    let ts = byName.get(name);
    if (ts === undefined) byName.set(name, (ts = []));
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (t.kind === kind && t.effect === effect) {
        t.n++;
        return;
      }
    }
    ts.push({ attrs: { name, kind, effect, policy }, kind, effect, n: 1 });
  }

  sinkFailure(policy = 'unknown'): void {
    this.sinkFailures.add(1, { policy });
  }

  /** `rein.decision.duration` as the SDK's histogram would report it (cumulative), or null before
   *  the first decision with a latency. */
  durationData(now = Date.now()): MetricData | null {
    const dataPoints = [];
    for (const byEffect of this.decisions.values()) {
      for (const t of byEffect.values()) {
        const h = t.duration;
        if (h.count === 0) continue;
        dataPoints.push({
          attributes: t.attrs,
          startTime: hrTime(h.start),
          endTime: hrTime(now),
          value: { buckets: { boundaries: [...DURATION_BOUNDARIES], counts: [...h.counts] }, count: h.count, sum: h.sum, min: h.min, max: h.max },
        });
      }
    }
    if (dataPoints.length === 0) return null;
    return {
      descriptor: { name: DURATION_NAME, description: DURATION_DESCRIPTION, unit: 'ms', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints,
    };
  }
}


/** A counter with one attribute, counted in a map and observed when scraped: the same series as a
 *  `Counter` the SDK aggregates. */
class Tallies {
  private readonly tallies = new Map<string, Tally>();
  constructor(meter: Meter, name: string, description: string, private readonly attr: string) {
    meter.createObservableCounter(name, { description }).addCallback((r) => {
      for (const t of this.tallies.values()) r.observe(t.n, t.attrs);
    });
  }
  add(value: string): void {
    let t = this.tallies.get(value);
    if (t === undefined) this.tallies.set(value, (t = { attrs: { [this.attr]: value }, n: 0 }));
    t.n++;
  }
}

export class ServeMetrics {
  readonly exporter: PrometheusExporter;
  readonly provider: MeterProvider;
  readonly decisions: ServeDecisionMetrics;
  // No target_info series: the resource is this process, which the scrape target already names.
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, true);
  private readonly reloads: Counter;
  /** Settles by result and error answers by code: counted in maps, reported when scraped (an
   *  OpenTelemetry `Counter.add` with attributes costs ~0.5 µs and ~300 bytes per call). */
  private readonly settles: Tallies;
  private readonly rejected: Tallies;

  constructor() {
    this.exporter = new PrometheusExporter({ preventServerStart: true });
    this.provider = new MeterProvider({ readers: [this.exporter] });
    // The meter DecisionMetrics uses (`rein` 0.1.0): the same otel_scope labels on every series.
    this.decisions = new ServeDecisionMetrics(this.provider.getMeter('rein', '0.1.0'));
    const meter = this.provider.getMeter('rein-serve');
    this.reloads = meter.createCounter('rein.policy.reloads', { description: 'Policy reloads by result (ok, failed)' });
    this.settles = new Tallies(meter, 'rein.settles', 'Settle calls by result', 'result');
    this.rejected = new Tallies(meter, 'rein.http.rejected', 'Requests answered with a 4xx or 5xx error, by code', 'code');
  }

  decision(d: Decision, latencyMs: number): void {
    this.decisions.record(d, latencyMs);
  }

  reload(ok: boolean): void {
    this.reloads.add(1, { result: ok ? 'ok' : 'failed' });
  }

  settle(result: string): void {
    this.settles.add(result);
  }

  error(code: string): void {
    this.rejected.add(code);
  }

  /** The Prometheus text exposition of every instrument. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.exporter.collect();
    return this.serializer.serialize(withDuration(resourceMetrics, this.decisions.durationData()));
  }

  async close(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
  }
}

/** The collected metrics with the latency histogram in the `rein` scope, after `rein.rule.matches`
 *  (where the SDK's histogram was). */
function withDuration(rm: ResourceMetrics, duration: MetricData | null): ResourceMetrics {
  if (duration === null) return rm;
  const scopeMetrics = [...rm.scopeMetrics];
  let i = scopeMetrics.findIndex((s) => s.scope.name === 'rein');
  if (i < 0) {
    scopeMetrics.unshift({ scope: { name: 'rein', version: '0.1.0' }, metrics: [] });
    i = 0;
  }
  const metrics = [...scopeMetrics[i].metrics];
  const after = metrics.findIndex((m) => m.descriptor.name === 'rein.rule.matches');
  metrics.splice(after < 0 ? metrics.length : after + 1, 0, duration);
  scopeMetrics[i] = { ...scopeMetrics[i], metrics };
  return { ...rm, scopeMetrics };
}
