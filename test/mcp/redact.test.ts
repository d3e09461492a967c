// `redact` through `rein mcp` (issue #18), against the real @modelcontextprotocol/server-everything:
// its `echo` tool answers with what it received, so the answer shows that the upstream got the masked
// arguments; a result holding a key reaches the client masked; the audit log keeps no masked text.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { connect, EVERYTHING, FIXTURES, tempDir, verifyAudit, type Connected } from './helpers.js';

const text = (r: unknown) => ((r as { content?: unknown }).content as { type: string; text: string }[]).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

describe('rein mcp: redact transforms (server-everything)', function () {
  this.timeout(90_000);
  let gw: Connected;
  const tmp = tempDir();
  const audit = path.join(tmp.dir, 'audit.jsonl');
  before(async () => {
    gw = await connect(['--policy', path.join(FIXTURES, 'redact'), '--audit', audit], [EVERYTHING, 'stdio']);
  });
  after(async () => {
    await gw?.close();
    tmp.cleanup();
  });

  it('masked arguments are what the upstream receives', async () => {
    const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'mail bob@example.com or a@b.io now' } });
    assert.equal(r.isError ?? false, false);
    assert.equal(text(r), 'Echo: mail [email] or [email] now');
  });

  it('masked results are what the model reads', async () => {
    const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'key AKIAIOSFODNN7EXAMPLE done' } });
    assert.equal(r.isError ?? false, false);
    assert.equal(text(r), 'Echo: key [REDACTED] done');
  });

  it('a call with nothing to mask passes unchanged', async () => {
    const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.equal(text(r), 'Echo: hello');
  });

  it('the audit log records what was masked (rule, path, detector, spans), never the masked text', async () => {
    await gw.close();
    assert.ok(verifyAudit(audit) > 0);
    const log = readFileSync(audit, 'utf8');
    assert.equal(log.includes('bob@example.com'), false, `the e-mail address is in the audit log: ${log.split('\n').find((l) => l.includes('bob@'))}`);
    const records = log.trim().split('\n').map((l) => JSON.parse(l) as { decision?: { transforms?: { rule: string; path: unknown[]; detector: string; spans: unknown[] }[] }; request?: { phase?: string; arguments?: { message?: string }; result?: { text: string } } });
    // The policy masks keys in results only: the call carried it (and is logged with it); no result
    // record holds it.
    const results = records.filter((r) => r.request?.phase === 'result');
    assert.ok(results.length >= 3);
    assert.equal(results.some((r) => r.request?.result?.text.includes('AKIAIOSFODNN7EXAMPLE')), false, 'a result record holds the key in its text');
    assert.ok(results.some((r) => r.request?.result?.text === 'Echo: key [REDACTED] done'));
    const masked = records.flatMap((r) => r.decision?.transforms ?? []).map((t) => [t.rule, t.path.join('.'), t.detector, t.spans.length]);
    assert.deepEqual(masked, [
      ['mask_emails_in_arguments', 'arguments.message', 'pii.email', 2],
      ['mask_keys_in_results', 'result.text', 'secrets.aws', 1],
    ]);
    assert.ok(records.some((r) => r.request?.arguments?.message === 'mail [email] or [email] now'));
  });
});

// structuredContent, through a small real MCP server built with the official SDK
// (test/fixtures/mcp/test-server.mjs: `account` returns a record as structured content with its JSON
// as text, `account_structured` as structured content only), and server-everything's
// get-structured-content (nothing to mask: passed as is).
describe('rein mcp: redact masks structuredContent too', function () {
  this.timeout(90_000);
  let gw: Connected;
  let everything: Connected;
  const tmp = tempDir();
  const audit = path.join(tmp.dir, 'audit.jsonl');
  const SECRETS = ['ann@corp.example', 'billing.ann@corp.example', 'AKIAIOSFODNN7EXAMPLE'];
  const MASKED = { owner: '[email]', key: '[REDACTED]', plan: 'pro', contacts: ['[email]'] };
  before(async () => {
    gw = await connect(['--policy', path.join(FIXTURES, 'redact-structured'), '--audit', audit], [path.join(FIXTURES, 'test-server.mjs')]);
    everything = await connect(['--policy', path.join(FIXTURES, 'redact-structured')], [EVERYTHING, 'stdio']);
  });
  after(async () => {
    await gw?.close();
    await everything?.close();
    tmp.cleanup();
  });

  it('masks the text parts and the structured content alike (the client validates it against the output schema)', async () => {
    const r = await gw.client.callTool({ name: 'account', arguments: { who: 'ann' } });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.deepEqual(r.structuredContent, MASKED);
    assert.deepEqual(JSON.parse(text(r)), MASKED, 'the JSON text stays JSON');
    for (const s of SECRETS) assert.equal(JSON.stringify(r).includes(s), false, `the client read ${s}`);
  });

  it('masks a result that has structured content only', async () => {
    const r = await gw.client.callTool({ name: 'account_structured', arguments: { who: 'ann' } });
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.deepEqual(r.structuredContent, MASKED);
  });

  it('passes structured content with nothing to mask as it is (server-everything)', async () => {
    const r = await everything.client.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } });
    assert.deepEqual(r.structuredContent, { temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 });
    assert.equal(text(r), JSON.stringify(r.structuredContent));
  });

  it('the audit log keeps none of it', async () => {
    await gw.close();
    assert.ok(verifyAudit(audit) > 0);
    const log = readFileSync(audit, 'utf8');
    for (const s of SECRETS) assert.equal(log.includes(s), false, `the audit log holds ${s}`);
    assert.match(log, /"detector":"pii\.email"/);
  });
});
