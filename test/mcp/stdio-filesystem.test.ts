// `rein mcp` over stdio in front of the real filesystem server, driven by the SDK's Client.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { connect, FIXTURES, FS_SERVER, ROOT, auditDecisions, tempDir, verifyAudit, type Connected } from './helpers.js';

describe('rein mcp (stdio) with @modelcontextprotocol/server-filesystem', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let work: string;
  let audit: string;
  const open: Connected[] = [];

  beforeEach(() => {
    tmp = tempDir();
    work = path.join(tmp.dir, 'work');
    mkdirSync(work);
    writeFileSync(path.join(work, 'notes.txt'), 'line one\nline two — ünïcödé\n');
    audit = path.join(tmp.dir, 'audit.jsonl');
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    // The audit log verifies after every test that wrote one.
    if (existsSync(audit)) assert.ok(verifyAudit(audit) > 0);
    tmp.cleanup();
  });

  async function gateway(policy = path.join(FIXTURES, 'deny-write'), extra: string[] = [], opts: Parameters<typeof connect>[2] = {}): Promise<Connected> {
    const c = await connect(['--policy', policy, '--audit', audit, ...extra], [FS_SERVER, work], opts);
    open.push(c);
    return c;
  }

  it('an allowed read returns exactly what a direct connection returns', async () => {
    const direct = await connect(false, [FS_SERVER, work]);
    open.push(direct);
    const gw = await gateway();
    const args = { name: 'read_text_file', arguments: { path: path.join(work, 'notes.txt') } };
    const viaDirect = await direct.client.callTool(args);
    const viaGateway = await gw.client.callTool(args);
    assert.deepEqual(viaGateway, viaDirect);
    assert.match(JSON.stringify(viaGateway.content), /ünïcödé/);
    // The warn rule logged, and did not block.
    assert.match(gw.stderr(), /warn tools\/call read_text_file: reading the notes/);
    assert.equal(gw.client.getServerVersion()?.name, direct.client.getServerVersion()?.name);
  });

  it("examples/mcp-filesystem refuses credential files however the path is spelled (review h10r F8: `.env/`, `.env/.` and read_multiple_files read them)", async () => {
    writeFileSync(path.join(work, '.env'), 'DB_PASSWORD=hunter2\n');
    mkdirSync(path.join(work, '.ssh'));
    writeFileSync(path.join(work, '.ssh', 'id_ed25519'), 'PRIVATE KEY hunter2\n');
    const gw = await gateway(path.join(ROOT, 'examples/mcp-filesystem'), ['--no-reload']);
    const calls = [
      { name: 'read_text_file', arguments: { path: path.join(work, '.env') } },
      { name: 'read_text_file', arguments: { path: `${path.join(work, '.env')}/` } },
      { name: 'read_text_file', arguments: { path: `${path.join(work, '.env')}/.` } },
      { name: 'read_multiple_files', arguments: { paths: [path.join(work, 'notes.txt'), path.join(work, '.ssh', 'id_ed25519')] } },
    ];
    for (const c of calls) {
      const r = await gw.client.callTool(c);
      assert.equal(r.isError, true, JSON.stringify(c));
      assert.match(JSON.stringify(r.content), /names a credential file/);
      assert.doesNotMatch(JSON.stringify(r.content), /hunter2/);
    }
    const ok = await gw.client.callTool({ name: 'read_text_file', arguments: { path: path.join(work, 'notes.txt') } });
    assert.match(JSON.stringify(ok.content), /line one/);
  });

  it('examples/mcp-filesystem: a credential in an ordinary file reaches the model neither as text nor as read_media_file\'s base64 (review h12r1 P3)', async () => {
    const key = 'aws_access_key_id = AKIAZ3KQ7EXAMPLE1234\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n';
    mkdirSync(path.join(work, 'notes'));
    writeFileSync(path.join(work, 'notes', 'aws.txt'), key);
    // a 1×1 PNG: media is still readable
    writeFileSync(path.join(work, 'dot.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64'));
    const gw = await gateway(path.join(ROOT, 'examples/mcp-filesystem'), ['--no-reload']);
    const text = await gw.client.callTool({ name: 'read_text_file', arguments: { path: path.join(work, 'notes', 'aws.txt') } });
    assert.equal(text.isError, true);
    assert.match(JSON.stringify(text.content), /contains a credential and was withheld/);
    const media = await gw.client.callTool({ name: 'read_media_file', arguments: { path: path.join(work, 'notes', 'aws.txt') } });
    assert.equal(media.isError, true);
    assert.match(JSON.stringify(media.content), /reads images and audio only/);
    const all = JSON.stringify(media) + JSON.stringify(text);
    assert.doesNotMatch(all, /AKIAZ3KQ7EXAMPLE1234/);
    assert.doesNotMatch(all, new RegExp(Buffer.from(key).toString('base64').slice(0, 24).replace(/[+/]/g, '.')));
    const png = await gw.client.callTool({ name: 'read_media_file', arguments: { path: path.join(work, 'dot.png') } });
    assert.notEqual(png.isError, true, JSON.stringify(png).slice(0, 300));
    assert.match(JSON.stringify(png.content), /image\/png/);
  });

  it('a denied write_file is not forwarded: no file on disk, an isError result with the rule message', async () => {
    const gw = await gateway();
    const target = path.join(work, 'new.txt');
    const r = await gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /writing files is not allowed/);
    assert.equal(existsSync(target), false);
    const meta = (r._meta as Record<string, { effect: string; rules: string[] }>)['rein/decision'];
    assert.equal(meta.effect, 'deny');
    assert.deepEqual(meta.rules, ['no_write']);
    await gw.close();
    const denied = auditDecisions(audit).filter((d) => d.effect === 'deny' && d.request?.phase === 'call');
    assert.equal(denied.length, 1);
    assert.equal(denied[0].request?.tool.name, 'write_file');
  });

  it('tools/list leaves out tools the list phase denies, and calling one is refused', async () => {
    const direct = await connect(false, [FS_SERVER, work]);
    open.push(direct);
    const gw = await gateway();
    const all = (await direct.client.listTools()).tools.map((t) => t.name);
    const shown = (await gw.client.listTools()).tools.map((t) => t.name);
    assert.ok(all.includes('move_file'));
    assert.deepEqual(shown, all.filter((n) => n !== 'move_file'));
    const src = path.join(work, 'notes.txt');
    const r = await gw.client.callTool({ name: 'move_file', arguments: { source: src, destination: path.join(work, 'moved.txt') } });
    assert.equal(r.isError, true);
    assert.match(JSON.stringify(r.content), /not available: moving files is not allowed/);
    assert.ok(existsSync(src));
  });

  it('a call before any tools/list is still governed (the gateway lists the tools itself)', async () => {
    const gw = await gateway();
    const r = await gw.client.callTool({ name: 'move_file', arguments: { source: path.join(work, 'notes.txt'), destination: path.join(work, 'm.txt') } });
    assert.equal(r.isError, true);
    assert.ok(existsSync(path.join(work, 'notes.txt')));
    const ok = await gw.client.callTool({ name: 'list_directory', arguments: { path: work } });
    assert.notEqual(ok.isError, true);
    assert.match(JSON.stringify(ok.content), /notes\.txt/);
  });

  it('results (the worked example): personal data passes with a warning; a credential is withheld', async () => {
    const gw = await gateway(path.join(ROOT, 'examples/mcp-filesystem'));
    writeFileSync(path.join(work, 'contact.txt'), 'write to ada@example.com\n');
    writeFileSync(path.join(work, 'creds.txt'), 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n');
    const pii = await gw.client.callTool({ name: 'read_text_file', arguments: { path: path.join(work, 'contact.txt') } });
    assert.notEqual(pii.isError, true);
    assert.match(JSON.stringify(pii.content), /ada@example\.com/);
    assert.match(gw.stderr(), /warn result of read_text_file: the result of read_text_file contains personal data/);
    const secret = await gw.client.callTool({ name: 'read_text_file', arguments: { path: path.join(work, 'creds.txt') } });
    assert.equal(secret.isError, true);
    assert.doesNotMatch(JSON.stringify(secret.content), /AKIA/);
    assert.match(JSON.stringify(secret.content), /withheld the result of `read_text_file`: the result contains a credential/);
    await gw.close();
    const results = auditDecisions(audit).filter((d) => d.request?.phase === 'result');
    assert.deepEqual(results.map((d) => d.effect), ['allow', 'deny']);
  });

  it('monitor mode forwards everything and logs would_effect', async () => {
    const gw = await gateway(path.join(FIXTURES, 'deny-write'), ['--mode', 'monitor']);
    const target = path.join(work, 'monitored.txt');
    const r = await gw.client.callTool({ name: 'write_file', arguments: { path: target, content: 'written' } });
    assert.notEqual(r.isError, true);
    assert.equal(readFileSync(target, 'utf8'), 'written');
    const shown = (await gw.client.listTools()).tools.map((t) => t.name);
    assert.ok(shown.includes('move_file'));
    assert.match(gw.stderr(), /monitor: tools\/call write_file would be deny: writing files is not allowed/);
    await gw.close();
    const d = auditDecisions(audit).find((x) => x.request?.phase === 'call' && x.request.tool.name === 'write_file');
    assert.equal(d?.effect, 'allow');
    assert.equal(d?.would_effect, 'deny');
  });
});
