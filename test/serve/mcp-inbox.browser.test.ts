// End to end in a real Chromium: an MCP tool call held by `rein mcp` (SDK client → gateway →
// @modelcontextprotocol/server-filesystem) waits in the approval queue; approving it in the control
// room's inbox lets it run, denying refuses it. Approvals are signed (REIN_APPROVAL_KEY): the gateway's
// engine verifies the token the inbox's queue signed.
//
// Needs Chromium at /usr/bin/chromium: fails under CI=true when missing, skipped locally.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { dashboardPlugin } from '../../language/node/serve/dashboard/plugin.js';
import { ApprovalQueue, FileApprovalStore } from '../../language/node/approvals/queue.js';
import { signingKeyFromEnv } from '../../language/node/approvals/config.js';
import { connect, FS_SERVER, ROOT, tempDir, type Connected } from '../mcp/helpers.js';
import { launchChromium, requireChromium, signIn } from '../helpers/chromium.js';

const ARTIFACTS = path.resolve('test-results');
const POLICY = path.join(ROOT, 'examples/mcp-filesystem');

describe('browser: approving a held MCP tool call in the control room', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let app: FastifyInstance | undefined;
  let gw: Connected | undefined;
  let page: Page;
  let tmp: ReturnType<typeof tempDir>;
  let work = '';
  const env = { REIN_APPROVAL_KEY: 'hs256:' + 'k'.repeat(40) };

  before(async function () {
    requireChromium(this, 'the MCP inbox browser tests');
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = tempDir();
    work = path.join(tmp.dir, 'work');
    mkdirSync(work);
    const queueDir = path.join(tmp.dir, 'approvals');
    const approvers = path.join(tmp.dir, 'approvers.json');
    writeFileSync(approvers, JSON.stringify({ groups: { user: ['alice'] } }));
    const queue = new ApprovalQueue({ store: new FileApprovalStore(queueDir), groups: { user: ['alice'] }, signingKey: signingKeyFromEnv(env)! });
    app = Fastify();
    await app.register(dashboardPlugin({ queue, users: { alice: 'alice-pw' } }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    gw = await connect(['--policy', POLICY, '--approvals', queueDir, '--approvers', approvers, '--approval-timeout', '60s'], [FS_SERVER, work], { env });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
    await signIn(page, base, 'alice', 'alice-pw');
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await app?.close();
    tmp?.cleanup();
  });

  it('approve in the inbox → the held write_file call runs', async () => {
    const target = path.join(work, 'approved.txt');
    const call = gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'approved in the browser' } });
    const card = page.locator('[data-testid="approval-card"]').filter({ hasText: 'approved.txt' });
    await card.waitFor({ timeout: 20_000 });
    assert.equal(await card.locator('[data-testid="approval-tool"]').textContent(), 'write_file');
    assert.equal(existsSync(target), false, 'nothing runs before the approval');
    await page.screenshot({ path: path.join(ARTIFACTS, 'control-room-mcp-inbox.png') });
    await card.locator('input').fill('looks right');
    await card.locator('[data-testid="approve-btn"]').click();
    const r = await call;
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(readFileSync(target, 'utf8'), 'approved in the browser');
  });

  it('deny in the inbox → the held call is refused', async () => {
    const target = path.join(work, 'denied.txt');
    const call = gw!.client.callTool({ name: 'write_file', arguments: { path: target, content: 'no' } });
    const card = page.locator('[data-testid="approval-card"]').filter({ hasText: 'denied.txt' });
    await card.waitFor({ timeout: 20_000 });
    await card.locator('[data-testid="deny-btn"]').click();
    const r = await call;
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /denied by alice/);
    assert.equal(existsSync(target), false);
  });
});
