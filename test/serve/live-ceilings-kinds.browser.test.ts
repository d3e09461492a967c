// The live-ceilings panel in a real Chromium (Debian's, through playwright-core), fed by a real
// redis-server: rolling windows, token buckets and anchored periods (#17 item 5) each get a row with
// what counts now — a rolling window summed over its sub-buckets, a bucket's level until it is full
// again, an anchored counter's current period — and a label saying how the window counts. A limit read
// from the request is not shown as 0: with no decision seen it is "unknown". Screenshot to
// test-results/ (kept as an artifact).
//
// Needs Chromium at /usr/bin/chromium and redis-server: fails under CI=true when missing, skipped
// locally with a message.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createServeApp, type ServeApp } from '../../language/node/serve/app.js';
import dashboardServePlugin from '../../language/node/serve/dashboard.js';
import { dashboardAssets } from '../../language/node/serve/dashboard/assets.js';
import { RedisBudgetStore } from '../../language/node/redis-store.js';
import { Engine } from '../../language/runtime/engine.js';
import { loadPolicy } from '../../language/node/load.js';
import { useRedis } from '../redis/redis-server.js';
import { launchChromium, requireChromium } from '../helpers/chromium.js';

const ARTIFACTS = path.resolve('test-results');

const POLICY = `policy kinds {
  version "1"
  default allow
  on error deny
  currency "USD"
}

input {
  agent: { id: string, team: string }
  action: { kind: "model_call" | "tool_call" }
  cost?: { estimate: money }
}

let caps: map<money> = { gold: $9 }

/// At most 100 tool calls in any hour.
budget calls_hour {
  limit 100 per rolling 1h
  charge 1
  by agent.id
  when action.kind == "tool_call"
}

/// Bursts of 5 tool calls, then one a minute.
budget tool_bucket {
  burst 5 refill 1 per 1m
  charge 1
  by agent.id
  when action.kind == "tool_call"
}

/// $30 per 30 days from each key's first charge.
budget key_month {
  limit $30 per 30d anchored
  charge cost.estimate ?? $0
  by agent.id
  when action.kind == "model_call"
}

/// Per-team caps from data.
budget team_cap {
  limit caps[agent.team] ?? $2 per day
  charge cost.estimate ?? $0
  by agent.team
  when action.kind == "model_call"
}
`;

describe('browser: the live-ceilings panel shows rolling windows, token buckets and anchored periods (real Chromium, real redis-server)', function () {
  this.timeout(180_000);
  const redis = useRedis();
  let browser: Browser | undefined;
  let dash: ServeApp | undefined;
  let store: RedisBudgetStore | undefined;
  let engine: Engine;
  let base = '';
  let dir = '';

  before(async function () {
    requireChromium(this, 'the live-ceilings browser test');
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(path.join(tmpdir(), 'rein-kinds-'));
    writeFileSync(path.join(dir, 'policy.rein'), POLICY);
    await dashboardAssets();
    // "Another process": an engine on the same Redis store, whose decisions this server never sees.
    store = new RedisBudgetStore({ url: redis.url });
    engine = new Engine(await loadPolicy(dir), { store });
    dash = await createServeApp({ policy: dir, watch: false, redis: redis.url, plugins: [{ name: 'dashboard', plugin: dashboardServePlugin }], dashboard: { stream: false } });
    base = await dash.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await dash?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const row = (page: Page, budget: string, key: string) => page.locator(`[data-testid="ceiling-row"][data-budget="${budget}"][data-key="${key}"]`);
  // columns: budget, key, used, bar, spent, reserved, limit, window ends (+ kind), burn / h, limit reached at, state
  const until = async <T,>(page: Page, what: string, budget: string, key: string, ok: (c: string[], kind: string) => T | undefined, ms = 20_000): Promise<T> => {
    const deadline = Date.now() + ms;
    let last: string[] = [];
    while (Date.now() < deadline) {
      const r = row(page, budget, key);
      last = await r.locator('td').allTextContents().then((t) => t.map((x) => x.trim())).catch(() => []);
      const kind = last.length ? ((await r.locator('[data-testid="ceiling-window-kind"]').textContent().catch(() => null)) ?? '') : '';
      const v = last.length ? ok(last, kind.trim()) : undefined;
      if (v !== undefined) return v;
      await page.waitForTimeout(100);
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
  };
  const shown = (iso: number) => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

  it('one row per counter of each kind, with what counts now and how its window counts', async () => {
    const errors: string[] = [];
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));

    const tool = { agent: { id: 'k1', team: 'gold' }, action: { kind: 'tool_call' } };
    for (let i = 0; i < 3; i++) {
      const d = await engine.decide(tool);
      assert.equal(d.effect, 'allow');
      await engine.settle(d);
    }
    const t0 = Date.now();
    const m = await engine.decide({ agent: { id: 'k1', team: 'gold' }, action: { kind: 'model_call' }, cost: { estimate: '4' } });
    assert.equal(m.effect, 'allow');
    await engine.settle(m);
    const anchoredEnd = Date.parse((m.budgets.find((b) => b.name === 'key_month')!.window as { end: string }).end);

    await page.goto(base + '/');
    await page.waitForFunction(() => document.body.dataset.loaded === 'true');

    const rolling = await until(page, 'the rolling row', 'calls_hour', 'k1', (c, kind) => (c[4] === '3' && kind === 'rolling 1h' ? c : undefined));
    assert.equal(rolling[2], '3.0%');
    assert.equal(rolling[6], '100');
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    assert.ok([minute + 60_000, minute + 120_000].map(shown).some((s) => rolling[7]!.startsWith(s)), `the rolling window ends with the current sub-bucket: ${rolling[7]}`);

    const bucket = await until(page, 'the bucket row', 'tool_bucket', 'k1', (c, kind) => (kind === 'token bucket +1/1m' ? c : undefined));
    // 3 taken (at most one refilled if a minute has passed): full again within 3 minutes
    assert.ok(['3', '2'].includes(bucket[4]!), `level ${bucket[4]}`);
    assert.equal(bucket[6], '5', 'the burst');
    const fullAt = Date.parse(bucket[7]!.replace(/Z.*$/, 'Z').replace(' ', 'T'));
    assert.ok(fullAt > Date.now() && fullAt <= Date.now() + 3 * 60_000 + 5_000, `full again at ${bucket[7]}`);

    const anchored = await until(page, 'the anchored row', 'key_month', 'k1', (c, kind) => (kind === 'anchored 30d' ? c : undefined));
    assert.equal(anchored[4], '4.00');
    assert.equal(anchored[6], '30.00');
    assert.ok(anchored[7]!.startsWith(shown(anchoredEnd)), `the period ends 30 days after the first charge: ${anchored[7]} (${shown(anchoredEnd)})`);
    assert.ok(Math.abs(anchoredEnd - (t0 + 30 * 86_400_000)) < 60_000);

    // A limit read from the request or data: the policy cannot give it, and no decision was seen here.
    const cap = await until(page, 'the data-driven row', 'team_cap', 'gold', (c) => (c[4] === '4.00' ? c : undefined));
    assert.equal(cap[6], 'unknown', 'not 0');
    assert.equal(cap[10], 'ok');

    await page.locator('section:has(#ceilings)').screenshot({ path: path.join(ARTIFACTS, 'control-room-ceilings-kinds.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
