// The control room's aggregation on hand-made records: projections, alerts, drift by policy hash,
// latency quantiles, and the caps that bound memory.
import assert from 'node:assert/strict';
import { DashboardModel, Histogram } from '../../language/node/serve/dashboard/model.js';
import type { AuditRecord } from '../../language/audit/record.js';

const T0 = Date.parse('2026-12-06T00:00:00Z');
let seq = 0;
function rec(t: number, effect: 'allow' | 'deny' | 'require_approval', opts: { spent?: string; limit?: string; rule?: string; hash?: string; latency?: number } = {}): AuditRecord {
  return {
    v: 1,
    seq: seq++,
    prev: '',
    hash: '',
    time: new Date(t).toISOString(),
    latency_ms: opts.latency ?? 0.1,
    policy: { name: 'p', version: '1', hash: opts.hash ?? 'sha256:a' },
    request_hash: 'sha256:r',
    decision: {
      effect,
      reasons: opts.rule ? [{ kind: 'rule', name: opts.rule, effect, message: null }] : [],
      approvals: [],
      warnings: [],
      monitored: [],
      budgets: opts.spent
        ? [{ name: 'daily', key: ['t'], limit: opts.limit ?? '100.000000', spent: opts.spent, reserved: '0.000000', charge: '1.000000', remaining: '0', window: { start: new Date(T0).toISOString(), end: new Date(T0 + 86_400_000).toISOString() }, exceeded: false, warned: false }]
        : [],
      errors: [],
      reservation: null,
      mode: 'enforce',
    },
  } as unknown as AuditRecord;
}

describe('dashboard model', () => {
  it('projects when a ceiling is reached and alerts when that is before the window ends', () => {
    const m = new DashboardModel();
    // 10 per hour for 2 hours: 20 of 100 used at 02:00 → 80 left at 10/h → limit at 10:00, before midnight
    m.add(rec(T0, 'allow', { spent: '0.000000' }), 'c');
    m.add(rec(T0 + 2 * 3600_000, 'allow', { spent: '19.000000' }), 'c');
    let [c] = m.ceilingsView(T0 + 2 * 3600_000);
    assert.ok(Math.abs(c!.burn_per_hour - 10) < 1e-9, String(c!.burn_per_hour));
    assert.equal(c!.projected_limit_at, new Date(T0 + 10 * 3600_000).toISOString());
    assert.equal(c!.alert, true);
    // a slow burn that ends the day under the limit: no alert
    const slow = new DashboardModel();
    slow.add(rec(T0, 'allow', { spent: '0.000000' }), 'c');
    slow.add(rec(T0 + 12 * 3600_000, 'allow', { spent: '9.000000' }), 'c');
    [c] = slow.ceilingsView(T0 + 12 * 3600_000);
    assert.equal(c!.alert, false);
    assert.ok(Date.parse(c!.projected_limit_at!) > T0 + 86_400_000);
  });

  it('drift against the previous policy hash flags a rule whose rate moved', () => {
    const m = new DashboardModel();
    for (let i = 0; i < 100; i++) m.add(rec(T0 + i, i < 10 ? 'deny' : 'allow', { rule: i < 10 ? 'r' : undefined, hash: 'sha256:old' }), 'c');
    for (let i = 0; i < 100; i++) m.add(rec(T0 + 1000 + i, i < 30 ? 'deny' : 'allow', { rule: i < 30 ? 'r' : undefined, hash: 'sha256:new' }), 'c');
    const d = m.drift({ baseline: 'policy' });
    const r = d.rules.find((x) => x.name === 'r')!;
    assert.equal(r.baseline, 10);
    assert.equal(r.current, 30);
    assert.equal(r.flagged, true);
    assert.equal(m.drift({ baseline: 'policy', driftThreshold: 25 }).rules[0]!.flagged, false);
  });

  it('latency quantiles from the histogram are within one bucket (25%)', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.add(i / 100); // 0.01 .. 10 ms
    const p50 = h.quantile(0.5)!;
    const p99 = h.quantile(0.99)!;
    assert.ok(p50 >= 5 && p50 <= 5 * 1.25, String(p50));
    assert.ok(p99 >= 9.9 && p99 <= 9.9 * 1.25, String(p99));
  });

  it('a decision made with the store down (spent null: counters unknown) does not reset a ceiling', () => {
    const m = new DashboardModel();
    m.add(rec(T0, 'allow', { spent: '19.000000' }), 'c');
    const down = rec(T0 + 60_000, 'deny', { spent: '0.000000' });
    const row = (down.decision.budgets as unknown as Record<string, unknown>[])[0]!;
    Object.assign(row, { spent: null, reserved: null, remaining: null });
    m.add(down, 'c');
    const [c] = m.ceilingsView(T0 + 60_000);
    assert.equal(c!.spent, 19);
  });

  it('memory stays bounded: minute buckets, recent decisions and ceilings are capped', () => {
    const m = new DashboardModel();
    for (let i = 0; i < 3000; i++) m.add(rec(T0 + i * 60_000, 'allow', { spent: '1.000000' }), 'c');
    const s = m.summary({ now: T0 + 3000 * 60_000 });
    assert.equal(s.series.t.length, 24 * 60);
    assert.equal(s.recent.length, 50);
    assert.equal(m.recent.length, 200);
    assert.equal(s.totals.n, 3000);
  });
});

describe('dashboard tags', () => {
  it("reads the model of rein/ai and rein/openai-agents' requests (`model: { provider, id }`) as the model tag (review h12r1 P6)", async () => {
    const { tagsOf, matchesFilter } = await import('../../language/node/serve/dashboard/model.js');
    const sdk = { agent: { id: 'a1', team: 'support' }, phase: 'model', model: { provider: 'openai.chat', id: 'gpt-4o' } };
    assert.deepEqual(tagsOf(sdk), { agent: 'a1', team: 'support', model: 'gpt-4o' });
    assert.equal(tagsOf({ model: 'gpt-4o-mini' }).model, 'gpt-4o-mini');
    assert.equal(tagsOf({ action: { model: { id: 'acme-llm' } } }).model, 'acme-llm');
    const r = { ...rec(T0, 'allow'), request: sdk } as unknown as AuditRecord;
    assert.equal(matchesFilter(r, { model: 'gpt-4o' }), true);
    assert.equal(matchesFilter(r, { model: 'gpt-4o-mini' }), false);
  });
});
