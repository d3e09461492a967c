// `rein report`'s page rendered in headless Chromium (Debian's chromium via playwright-core), with a
// screenshot saved to test-results/report.png, and checked for the numbers it shows.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { parseRecords, verifyChain } from '../../language/audit/record.js';
import { renderReport, summarize } from '../../language/audit/report.js';
import type { Decision } from '../../language/runtime/decision.js';
import { launchChromium, requireChromium } from '../helpers/chromium.js';


function decisions(): { d: Decision; latency: number }[] {
  const out: { d: Decision; latency: number }[] = [];
  const start = Date.UTC(2026, 10, 25, 9, 0, 0);
  for (let i = 0; i < 120; i++) {
    const effect: Decision['effect'] = i % 10 === 0 ? 'deny' : i % 7 === 0 ? 'require_approval' : 'allow';
    const spent = (i * 0.25).toFixed(6);
    out.push({
      latency: 0.01 * ((i % 5) + 1),
      d: {
        effect,
        reasons: effect === 'deny' ? [{ kind: 'rule', name: i % 20 === 0 ? 'no_shell' : 'no_pii_output', effect: 'deny', message: 'x' }] : [],
        approvals: effect === 'require_approval' ? [{ kind: 'rule', name: 'large_refund', from: 'lead', message: null }] : [],
        warnings: [],
        monitored: [],
        budgets: [{ name: 'team_daily', key: ['support'], limit: '50.000000', spent, reserved: '0.000000', charge: '0.250000', remaining: '0', window: null, exceeded: false, warned: false }],
        errors: [],
        reservation: null,
        policy: { name: 'support_agent', version: i < 60 ? '1.4.0' : '1.5.0', hash: i < 60 ? 'sha256:' + 'a'.repeat(64) : 'sha256:' + 'b'.repeat(64) },
        request_hash: null,
        time: new Date(start + i * 60_000).toISOString(),
        mode: 'enforce',
      },
    });
  }
  return out;
}

describe('rein report: the HTML page', function () {
  this.timeout(60_000);
  const sink = new MemoryAuditSink();
  const logger = new AuditLogger(sink);
  for (const { d, latency } of decisions()) logger.record(d, { latencyMs: latency });
  const records = parseRecords(sink.text());
  const html = renderReport(records, { verify: verifyChain([{ source: 'decisions.jsonl', text: sink.text() }]) });

  it('summarises the log', () => {
    const s = summarize(records);
    assert.equal(s.total, 120);
    assert.deepEqual(s.byEffect, { allow: 92, deny: 12, require_approval: 16 });
    assert.deepEqual(s.topDeny, [{ name: 'no_pii_output', count: 6 }, { name: 'no_shell', count: 6 }]);
    assert.deepEqual(s.topApproval, [{ name: 'large_refund', count: 16 }]);
    assert.equal(s.versions.length, 2);
    assert.equal(s.latency!.max, 0.05);
    // the last allowed decision (i = 118): spent 29.50 + its charge 0.25; i = 119 needed approval, so no charge
    assert.equal(s.budgets[0].peak, 29.5 + 0.25);
  });

  it('is self-contained: no scripts, no external resources', () => {
    assert.doesNotMatch(html, /<script|<link|src=|url\(|https?:\/\/(?!www\.w3\.org)/i);
  });

  it('renders in headless Chromium with the right numbers (screenshot in test-results/report.png)', async function () {
    requireChromium(this, 'the report in Chromium');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.setContent(html);
      assert.equal(await page.locator('#total b').innerText(), '120');
      assert.equal(await page.locator('#deny b').innerText(), '12');
      assert.equal(await page.locator('#require_approval b').innerText(), '16');
      assert.match(await page.locator('#top-deny').innerText(), /no_shell\s+6/);
      assert.equal(await page.locator('#versions tr').count(), 3);
      assert.ok((await page.locator('svg rect').count()) > 10, 'timeline bars drawn');
      assert.deepEqual(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:')), []);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/report.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
