// The inbox card in a real Chromium (review h12r1 P14, P16): a verified record shows the request the
// token approves; a forged one ("the request does not match its hash") cannot be approved; one with
// no stored request is marked as the queue writer's word; bidi controls show as \uXXXX.
//
// Needs Chromium at /usr/bin/chromium: fails under CI=true when missing, skipped locally.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { tempDir } from '../mcp/helpers.js';
import { launchChromium, requireChromium, signIn } from '../helpers/chromium.js';
import { FIXTURE_POLICY } from './dashboard-fixture.js';

describe('browser: what an inbox card can verify', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let app: FastifyInstance | undefined;
  let page: Page;
  let tmp: ReturnType<typeof tempDir>;
  let queue: ApprovalQueue;
  const policy = compile({ 'p.rein': FIXTURE_POLICY });
  const engine = new Engine(policy);
  const transfer = (amount: number, agent = 'a1') => ({ agent: { id: agent, team: 'support' }, action: { tool: 'payments.transfer', model: 'small', amount }, cost: { estimate: '0.01' } });

  before(async function () {
    requireChromium(this, 'the inbox card browser tests');
    tmp = tempDir();
    queue = new ApprovalQueue({ store: new FileApprovalStore(path.join(tmp.dir, 'approvals')), groups: { finance: ['alice'] } });
    app = Fastify();
    await app.register(dashboardPlugin({ queue, users: { alice: 'alice-pw' } }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
    await signIn(page, base, 'alice', 'alice-pw');
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    tmp?.cleanup();
  });

  it('verified, forged and unverified cards; bidi characters escaped', async () => {
    const good = transfer(5000, 'a1\u202Eexe.');
    const [verified] = await queue.request(await engine.decide(good), { says: 'anything' }, { request: good, policy });
    const [forged] = await queue.request(await engine.decide(transfer(9000)), { transfer: 150 });
    const file = path.join(tmp.dir, 'approvals', `${forged!.id}.json`);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), request: { ...transfer(150), cost: { estimate: 10_000 } } }));
    const [missing] = await queue.request(await engine.decide(transfer(7000)), { transfer: 7000, note: 'to \u2066savings\u2069' });
    await page.reload();
    const card = (id: string) => page.locator(`[data-testid="approval-card"][data-id="${id}"]`);
    for (const r of [verified!, forged!, missing!]) await card(r.id).waitFor({ timeout: 10_000 });

    const v = card(verified!.id);
    assert.match((await v.locator('[data-testid="approval-verified"]').textContent()) ?? '', /verified/);
    const shown = (await v.locator('[data-testid="approval-request"]').textContent()) ?? '';
    assert.match(shown, /a1\\u202Eexe\./);
    assert.doesNotMatch(shown, /\u202E/);
    assert.doesNotMatch((await v.textContent()) ?? '', /anything/, 'a verified card shows the request, not the writer\'s summary');
    assert.equal(await v.locator('[data-testid="approve-btn"]').isDisabled(), false);

    const f = card(forged!.id);
    assert.match((await f.locator('[data-testid="approval-unverified"]').textContent()) ?? '', /does not match its hash/);
    assert.equal(await f.locator('[data-testid="approve-btn"]').isDisabled(), true);

    const m = card(missing!.id);
    assert.match((await m.locator('[data-testid="approval-unverified"]').textContent()) ?? '', /queue writer's description/);
    const text = (await m.textContent()) ?? '';
    assert.match(text, /to \\u2066savings\\u2069/);
    assert.doesNotMatch(text, /[\u2066\u2069]/);
  });
});
