// `rein serve` as a process: options, defaults, usage errors, signals.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/cli.js';
import { isLoopback, parseListen } from '../../cli/commands/serve.js';
import { AGENT, call, copyAgent, model, spawnServe } from './helpers.js';

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env, cwd: process.cwd(), isTTY: false });
  return { code, out, err };
}

describe('rein serve (command)', function () {
  this.timeout(90_000);

  it('--help tells the options, the defaults and the exit codes', async () => {
    const r = await run(['serve', '--help']);
    assert.equal(r.code, 0);
    for (const o of ['--policy', '--api', '--no-dashboard', '--listen', '--redis', '--audit', '--log', '--token-file', '--settle-token-file', '--approvals-token-file', '--redis-prefix', '127.0.0.1:8181', '127.0.0.1:8787', 'REIN_API_TOKEN']) {
      assert.ok(r.out.includes(o), o);
    }
  });

  it('an address in use: exit 2 and the reason in words (not a raw EADDRINUSE)', async () => {
    const { createServer } = await import('node:net');
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = await run(['serve', '--api', '--no-dashboard', '--policy', AGENT, '--no-watch', '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`), r.err);
      assert.doesNotMatch(r.err, /EADDRINUSE/);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('usage errors exit 2 with a message', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--api'], /--api needs --policy/],
      [['serve', '--no-dashboard'], /nothing to serve/],
      [['serve', '--api', '--policy', AGENT, '--listen', 'nope'], /--listen must be HOST:PORT/],
      [['serve', '--api', '--policy', AGENT, '--listen', '0.0.0.0:0'], /refusing to listen on 0\.0\.0\.0/],
      [['serve', '--api', '--policy', AGENT, '--redis', 'http://x'], /--redis must be a redis:\/\//],
      [['serve', '--api', '--policy', AGENT, '--redis-prefix', 'rein:x:'], /--redis-prefix needs --redis URL/],
      [['serve', '--api', '--policy', AGENT, '--redis', 'redis://127.0.0.1:1', '--redis-prefix', 'rein:{x}:'], /--redis-prefix must be 1 to 128 letters/],
      [['serve', '--api', '--policy', AGENT, '--redis', 'redis://127.0.0.1:1', '--redis-prefix', ''], /--redis-prefix must be 1 to 128 letters/],
      [['serve', '--api', '--policy', AGENT, '--token-file', '/nonexistent/token'], /cannot read the api token file `\/nonexistent\/token`: no such file or directory/],
      [['serve', '--api', '--policy', AGENT, '--mode', 'x'], /--mode must be enforce or monitor/],
      [['serve', '--api', '--policy', '/nonexistent/dir', '--listen', '127.0.0.1:0'], /no such file or directory/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
    }
  });

  it('an audit log that cannot be opened: exit 2 and the reason (not an internal error, exit 1) (review h13r1 S2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-audit-'));
    writeFileSync(join(dir, 'afile'), '');
    const base = ['serve', '--api', '--no-dashboard', '--policy', AGENT, '--no-watch', '--listen', '127.0.0.1:0'];
    for (const [audit, re] of [
      [join(dir, 'afile', 'decisions.jsonl'), /cannot open the audit log `[^`]*afile[/\\]decisions\.jsonl`: a part of the path is not a directory/],
      [dir, /cannot open the audit log `[^`]*`: is a directory, not a file/],
    ] as const) {
      const r = await run([...base, '--audit', audit]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.doesNotMatch(r.err, /internal error|\n\s+at /);
    }
    // a log another replica writes (one writer per log): its lock message, exit 2
    const held = join(dir, 'held.jsonl');
    const other = await spawnServe([...base.slice(1), '--audit', held]);
    try {
      const r = await run([...base, '--audit', held]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /cannot open the audit log `[^`]*held\.jsonl`: audit log .* is already written by process \d+/);
      assert.doesNotMatch(r.err, /internal error/);
    } finally {
      assert.equal(await other.stop(), 0);
    }
  });

  it('an approval queue on a read-only volume is said at start (review h13r1 S18)', async function () {
    const { execFileSync } = await import('node:child_process');
    const { mkdirSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-roq-'));
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', ro], { stdio: 'pipe' });
    } catch {
      rmSync(dir, { recursive: true, force: true });
      this.skip();
    }
    try {
      const srv = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--no-watch', '--approvals', join(ro, 'queue')]);
      try {
        assert.match(srv.stderr(), /warning: the approval queue \S+ cannot be written \(read-only file system\): request_approval answers 503/);
        const d = await call(srv.url, '/v1/decide', { body: { input: { agent: { id: 'a1', team: 'ops' }, action: { kind: 'tool_call', tool: 'transfer', amount: '500' } }, request_approval: true } });
        assert.equal(d.status, 503, d.text);
        assert.equal(d.body.error.code, 'approval_queue_unavailable');
      } finally {
        assert.equal(await srv.stop(), 0);
      }
    } finally {
      execFileSync('umount', ['-l', ro], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a policy with errors exits 1 naming the error', async () => {
    const dir = copyAgent();
    writeFileSync(join(dir, 'broken.rein'), 'rule oops { when nope.x deny }');
    const r = await run(['serve', '--api', '--policy', dir, '--listen', '127.0.0.1:0']);
    assert.equal(r.code, 1);
    assert.match(r.err, /broken\.rein:1:/);
  });

  it('parses addresses and knows loopback', () => {
    assert.deepEqual(parseListen('127.0.0.1:8181'), { host: '127.0.0.1', port: 8181 });
    assert.deepEqual(parseListen('[::1]:9'), { host: '::1', port: 9 });
    assert.deepEqual(parseListen(':8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) assert.ok(!isLoopback(h), h);
  });

  it('the audit log can be rotated: logrotate\'s rename + SIGHUP continues it in a fresh file; --audit-max-bytes rotates by size (review h13r1 S9)', async () => {
    const { existsSync, renameSync, readdirSync } = await import('node:fs');
    const { verifyChain } = await import('../../language/audit/record.js');
    const { nodeLineHash } = await import('../../language/node/audit-file.js');
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-rot-'));
    const log = join(dir, 'decisions.jsonl');
    const decide = async (url: string, n: number) => {
      for (let i = 0; i < n; i++) assert.equal((await call(url, '/v1/decide', { body: { input: model('rot', '0.001') } })).status, 200);
    };
    const settled = async (file: string, n: number) => {
      for (let i = 0; i < 100 && (!existsSync(file) || readFileSync(file, 'utf8').split('\n').length - 1 < n); i++) await new Promise((r) => setTimeout(r, 50));
    };
    const verify = (files: string[]) => verifyChain(files.map((f) => ({ source: f, text: readFileSync(f, 'utf8') })), nodeLineHash);
    const srv = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--no-watch', '--audit', log]);
    try {
      await decide(srv.url, 5);
      await settled(log, 5);
      renameSync(log, join(dir, 'decisions.1.jsonl')); // logrotate, `create` mode
      await decide(srv.url, 5); // still into the renamed file (its descriptor)
      srv.proc.kill('SIGHUP'); // postrotate
      for (let i = 0; i < 100 && !existsSync(log); i++) await new Promise((r) => setTimeout(r, 50));
      await decide(srv.url, 5);
      await settled(log, 5);
      const r = verify([join(dir, 'decisions.1.jsonl'), log]);
      assert.equal(r.ok, true, JSON.stringify(r.problem));
      assert.equal(r.records, 15);
      assert.equal(readFileSync(log, 'utf8').split('\n').length - 1, 5, 'the new file has the decisions after SIGHUP');
    } finally {
      assert.equal(await srv.stop(), 0);
    }
    // by size
    const dir2 = mkdtempSync(join(tmpdir(), 'rein-serve-rot-'));
    const log2 = join(dir2, 'decisions.jsonl');
    const srv2 = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--no-watch', '--audit', log2, '--audit-max-bytes', '4096']);
    try {
      await decide(srv2.url, 30);
    } finally {
      assert.equal(await srv2.stop(), 0);
    }
    const { auditFiles } = await import('../../language/node/audit-file.js');
    const files = auditFiles(log2);
    assert.ok(files.length >= 3, readdirSync(dir2).join(' '));
    const r2 = verify(files);
    assert.equal(r2.ok, true, JSON.stringify(r2.problem));
    assert.equal(r2.records, 30);
    const usage = await run(['serve', '--api', '--policy', AGENT, '--audit-max-bytes', '4096']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--audit-max-bytes needs --audit FILE/);
  });

  it('serves as a process: decides over HTTP, reloads on SIGHUP, stops with 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-cli-'));
    const token = join(dir, 'token');
    writeFileSync(token, 'tok-123\n');
    const policy = copyAgent();
    const srv = await spawnServe(['--api', '--no-dashboard', '--policy', policy, '--listen', '127.0.0.1:0', '--token-file', token, '--no-watch']);
    try {
      const r = await call(srv.url, '/v1/decide', { body: { input: model('p', '0.10') }, headers: { authorization: 'Bearer tok-123' } });
      assert.equal(r.status, 200);
      assert.equal(r.body.effect, 'allow');
      assert.equal((await call(srv.url, '/v1/decide', { body: { input: model('p', '0.10') } })).status, 401);
      assert.match(srv.stderr(), /listening on http:\/\/127\.0\.0\.1:\d+ \(api; policy service_test 1\.0\.0 sha256:[0-9a-f]{64}; store memory\)/);
      // SIGHUP reloads (watching is off here).
      const h1 = r.headers.get('rein-policy-hash');
      writeFileSync(join(policy, 'policy.rein'), readFileSync(join(policy, 'policy.rein'), 'utf8').replace('version "1.0.0"', 'version "1.0.1"'));
      srv.proc.kill('SIGHUP');
      let info = await call(srv.url, '/v1/policy', { headers: { authorization: 'Bearer tok-123' } });
      for (let i = 0; i < 200 && info.body.version !== '1.0.1'; i++) {
        await new Promise((res) => setTimeout(res, 50));
        info = await call(srv.url, '/v1/policy', { headers: { authorization: 'Bearer tok-123' } });
      }
      assert.equal(info.body.version, '1.0.1');
      assert.notEqual(info.headers.get('rein-policy-hash'), h1);
      assert.match(srv.stderr(), /reloaded: sha256:\w+ → sha256:\w+/);
      // A non-loopback address with a token is allowed for the API; the dashboard there needs logins
      // too (regression: its read API served every logged request without any credential).
      const open = await run(['serve', '--api', '--policy', AGENT, '--listen', '0.0.0.0:0'], { REIN_API_TOKEN: 'env-token' });
      assert.equal(open.code, 2, open.err);
      assert.match(open.err, /refusing to serve the dashboard on 0\.0\.0\.0 \(not loopback\) without logins/);
      const wide = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '0.0.0.0:0'], { REIN_API_TOKEN: 'env-token' });
      try {
        assert.match(wide.stderr(), /listening on http:\/\/0\.0\.0\.0:\d+ \(every interface\)/);
        const port = new URL(wide.url).port;
        assert.equal((await call(`http://127.0.0.1:${port}`, '/v1/policy', { headers: { authorization: 'Bearer env-token' } })).status, 200);
      } finally {
        assert.equal(await wide.stop(), 0);
      }
    } finally {
      assert.equal(await srv.stop(), 0);
    }
    assert.match(srv.stderr(), /SIGTERM: shutting down/);
  });

  it('--approvals DIR with REIN_APPROVAL_KEY: queued by the API, approved with `rein approvals`, the token allows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-queue-'));
    const queue = join(dir, 'queue');
    const approvers = join(dir, 'approvers.json');
    writeFileSync(approvers, JSON.stringify({ groups: { finance: ['alice'] } }));
    const env = { REIN_APPROVAL_KEY: 'hs256:' + 'k'.repeat(40), REIN_APPROVERS: approvers };
    const srv = await spawnServe(['--api', '--policy', AGENT, '--listen', '127.0.0.1:0', '--approvals', queue], env);
    try {
      assert.match(srv.stderr(), /approval queue .*queue; approval tokens verified/);
      const input = { agent: { id: 'c', team: 'ops' }, action: { kind: 'tool_call', tool: 'transfer', amount: '400' } };
      const d = await call(srv.url, '/v1/decide', { body: { input, request_approval: true } });
      const id = d.body.approval_requests[0].id;
      const r = await run(['approvals', 'approve', id, '--as', 'alice', '--approvals', queue], env);
      assert.equal(r.code, 0, r.err);
      const got = await call(srv.url, `/v1/approvals/${id}`);
      assert.equal(got.body.status, 'approved');
      const ok = await call(srv.url, '/v1/decide', { body: { input, approvals: [got.body.verdict.token] } });
      assert.equal(ok.body.effect, 'allow', JSON.stringify(ok.body.errors));
    } finally {
      assert.equal(await srv.stop(), 0);
    }
  });
});
