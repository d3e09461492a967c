// The decision service over real HTTP (fetch/undici): every endpoint and its error paths.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync, mkdtempSync } from 'node:fs';
import { buildBundle, serializeBundle } from '../../language/node/bundle.js';
import { readPolicyDir } from '../../language/node/load.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { verifyChain, parseRecords } from '../../language/audit/record.js';
import { nodeLineHash } from '../../language/node/audit-file.js';
import { decideBodySchema, settleBodySchema } from '../../language/node/serve/schemas.js';
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { AGENT, BIN, call, copyAgent, model, serve, spawnServe, type Served } from './helpers.js';
import apiPlugin from '../../language/node/serve/api.js';
import dashboardPlugin from '../../language/node/serve/dashboard.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';

const tool = (t: string, extra: Record<string, unknown> = {}) => ({ agent: { id: 'a1', team: 'support' }, action: { kind: 'tool_call', tool: t, ...extra } });

describe('rein serve --api: decisions over HTTP', function () {
  this.timeout(30_000);
  let s: Served;
  beforeEach(async () => {
    s = await serve();
  });
  afterEach(async () => {
    await s.close();
  });

  it('GET /health answers ok with the policy hash header', async () => {
    const r = await call(s.url, '/health');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
    assert.match(r.headers.get('rein-policy-hash')!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(r.headers.get('rein-policy-hash'), s.ctx.policy!.hash);
  });

  it('GET /ready reports the policy and the store', async () => {
    const r = await call(s.url, '/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body.ready, true);
    assert.equal(r.body.checks.policy.name, 'service_test');
    assert.equal(r.body.checks.policy.hash, s.ctx.policy!.hash);
    assert.deepEqual(r.body.checks.store, { ok: true, kind: 'memory' });
  });

  it('POST /v1/decide returns the decision JSON with a reservation, the policy hash in body and header', async () => {
    const r = await call(s.url, '/v1/decide', { body: { input: model('support', 0.25) } });
    assert.equal(r.status, 200);
    assert.ok(decisionSchema.safeParse(r.body).success, 'matches the decision schema');
    assert.equal(r.body.effect, 'allow');
    assert.equal(r.body.budgets[0].name, 'team_daily');
    assert.equal(r.body.budgets[0].charge, '0.250000');
    assert.match(r.body.reservation.id, /.+/);
    assert.equal(r.body.policy.hash, r.headers.get('rein-policy-hash'));
    assert.match(r.body.request_hash, /^sha256:/);
  });

  it('deny and require_approval, and an approval for the request_hash turns it into allow', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: tool('db.drop') } });
    assert.equal(d.body.effect, 'deny');
    assert.equal(d.body.reasons[0].name, 'no_drop');
    assert.equal(d.body.reasons[0].message, 'tool db.drop is blocked');
    const a = await call(s.url, '/v1/decide', { body: { input: tool('transfer', { amount: '250.00' }) } });
    assert.equal(a.body.effect, 'require_approval');
    assert.equal(a.body.approvals[0].name, 'large_transfer');
    const ok = await call(s.url, '/v1/decide', { body: { input: tool('transfer', { amount: '250.00' }), approvals: [{ rule: 'large_transfer', request_hash: a.body.request_hash }] } });
    assert.equal(ok.body.effect, 'allow');
    const wrong = await call(s.url, '/v1/decide', { body: { input: tool('transfer', { amount: '250.00' }), approvals: [{ rule: 'large_transfer', request_hash: 'sha256:00' }] } });
    assert.equal(wrong.body.effect, 'require_approval', 'an approval for another request does not count');
  });

  it('an input the policy rejects is a decision with errors (on error deny), not an HTTP error', async () => {
    const r = await call(s.url, '/v1/decide', { body: { input: { agent: { id: 1 } } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.effect, 'deny');
    assert.ok(r.body.errors.some((e: { path?: string }) => e.path === '$.agent.id'), JSON.stringify(r.body.errors));
  });

  it('budgets are reserved: $1 a day at $0.30 allows three, then denies', async () => {
    const effects = [];
    for (let i = 0; i < 4; i++) effects.push((await call(s.url, '/v1/decide', { body: { input: model('support', '0.30') } })).body.effect);
    assert.deepEqual(effects, ['allow', 'allow', 'allow', 'deny']);
    const other = await call(s.url, '/v1/decide', { body: { input: model('sales', '0.30') } });
    assert.equal(other.body.effect, 'allow', 'another team has its own counter');
  });

  it('`now` in a decide body is refused unless the server trusts client time: the budget clock is the server\'s (regression: any caller escaped every windowed ceiling by naming another day)', async () => {
    for (const path of ['/v1/decide', '/v1/decide/batch']) {
      const r = await call(s.url, path, { body: path.endsWith('batch') ? [{ input: model('clock', '0.10'), now: '2026-11-25T10:00:00Z' }] : { input: model('clock', '0.10'), now: '2026-11-25T10:00:00Z' } });
      const err = path.endsWith('batch') ? r.body.results[0].error : r.body.error;
      assert.equal(err.code, 'invalid_body', JSON.stringify(r.body));
      assert.match(err.message, /^now: .*--client-time/);
    }
    // /v1/evaluate (rules only, nothing reserved) still takes a time.
    const e = await call(s.url, '/v1/evaluate', { body: { input: model('clock', '0.10'), now: '2026-11-24T10:00:00Z' } });
    assert.equal(e.status, 200);
    assert.equal(e.body.time, '2026-11-24T10:00:00.000Z');
  });

  it('with `clientTime` (--client-time), `now` in the body sets the evaluation time (the budget window follows it)', async () => {
    const t = await serve({ clientTime: true });
    try {
      const r = await call(t.url, '/v1/decide', { body: { input: model('support', '0.10'), now: '2026-11-24T10:00:00Z' } });
      assert.equal(r.body.time, '2026-11-24T10:00:00.000Z');
      assert.equal(r.body.budgets[0].window.start, '2026-11-24T00:00:00.000Z');
    } finally {
      await t.close();
    }
  });

  it('`explain: true` includes the explanation', async () => {
    const r = await call(s.url, '/v1/decide', { body: { input: tool('db.drop'), explain: true } });
    assert.ok(Array.isArray(r.body.explain));
    assert.ok(r.body.explain.some((e: { name: string; matched: boolean }) => e.name === 'no_drop' && e.matched));
  });

  it('POST /v1/settle replaces the estimate by the actual usage; a second settle is 409; unknown is 404', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: model('support', '0.90') } });
    assert.equal(d.body.effect, 'allow');
    const blocked = await call(s.url, '/v1/decide', { body: { input: model('support', '0.20') } });
    assert.equal(blocked.body.effect, 'deny', '0.90 reserved + 0.20 > $1');
    const st = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: '0.10' } } } });
    assert.equal(st.status, 200, st.text);
    assert.deepEqual(st.body, { settled: true, reservation: d.body.reservation.id, policy: d.body.policy });
    const after = await call(s.url, '/v1/decide', { body: { input: model('support', '0.20') } });
    assert.equal(after.body.effect, 'allow');
    assert.equal(after.body.budgets[0].spent, '0.100000');
    const again = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'already_settled');
    const unknown = await call(s.url, '/v1/settle', { body: { reservation: 'nope-1' } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'unknown_reservation');
  });

  it('settle with usage that does not fit the input schema is 422 and can be retried', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: model('support', '0.50') } });
    const bad = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: 'lots' } } } });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.body.error.code, 'invalid_usage');
    assert.match(bad.body.error.message, /cost\.estimate/);
    const ok = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: '0.40' } } } });
    assert.equal(ok.status, 200);
  });

  it('POST /v1/evaluate decides with rules only: no reservation, no budget spent', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await call(s.url, '/v1/evaluate', { body: { input: model('support', '0.90') } });
      assert.equal(r.body.effect, 'allow');
      assert.equal(r.body.reservation, null);
      assert.deepEqual(r.body.budgets, []);
    }
    assert.equal((await call(s.url, '/v1/evaluate', { body: { input: tool('db.drop') } })).body.effect, 'deny');
    const d = await call(s.url, '/v1/decide', { body: { input: model('support', '0.90') } });
    assert.equal(d.body.effect, 'allow', 'evaluate reserved nothing');
  });

  it('batch: a JSON array decides in order (budgets shared) with per-item errors', async () => {
    const items = [{ input: model('b', '0.60') }, { input: model('b', '0.60') }, { nope: 1 }, { input: tool('db.drop') }];
    const r = await call(s.url, '/v1/decide/batch', { body: items });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.results.map((x: { effect?: string; error?: { code: string } }) => x.effect ?? x.error!.code),
      ['allow', 'deny', 'invalid_body', 'deny'],
    );
    assert.equal(r.body.results[2].index, 2);
    assert.deepEqual(r.body.summary, { items: 4, allow: 1, deny: 2, require_approval: 0, errors: 1 });
  });

  it('batch: NDJSON in, NDJSON out, a malformed line is an error entry with its line number', async () => {
    const body = [JSON.stringify({ input: model('n', '0.10') }), '{oops', '', JSON.stringify({ input: tool('db.drop') })].join('\n');
    const r = await call(s.url, '/v1/evaluate/batch', { raw: body, headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type')!, /application\/x-ndjson/);
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[0].effect, 'allow');
    assert.equal(lines[1].error.code, 'invalid_json');
    assert.match(lines[1].error.message, /^line 2:/);
    assert.equal(lines[2].effect, 'deny');
  });

  it('batch: a body that is neither an array nor NDJSON is 400', async () => {
    const r = await call(s.url, '/v1/decide/batch', { body: { input: {} } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_body');
  });

  it('keep-alive: one connection carries many decisions (Connection: keep-alive, the socket is reused)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(s.url);
    const one = (i: number) =>
      new Promise<{ status: number; reused: boolean; connection: string | undefined; keepAlive: string | undefined }>((resolve, reject) => {
        const body = JSON.stringify({ input: model(`ka${i}`, '0.01') });
        const req = httpRequest({ agent, host: url.hostname, port: url.port, path: '/v1/decide', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket, connection: res.headers.connection as string | undefined, keepAlive: res.headers['keep-alive'] as string | undefined }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await one(i));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
      assert.deepEqual(answers.map((a) => a.reused), [false, true, true, true, true]);
      assert.equal(answers[0].connection, 'keep-alive');
      assert.match(answers[0].keepAlive ?? '', /timeout=\d+/);
    } finally {
      agent.destroy();
    }
  });

  it('GET /v1/policy names the version serving', async () => {
    const r = await call(s.url, '/v1/policy');
    assert.equal(r.body.name, 'service_test');
    assert.equal(r.body.version, '1.0.0');
    assert.equal(r.body.hash, s.ctx.policy!.hash);
    assert.equal(r.body.generation, 1);
    assert.equal(r.body.reload_error, null);
  });
});

describe('rein serve --api: bad requests are 4xx with a clear message, never 5xx', function () {
  this.timeout(30_000);
  let s: Served;
  before(async () => {
    s = await serve({ bodyLimit: 4096 });
  });
  after(async () => {
    await s.close();
  });

  const cases: [string, { raw?: string; body?: unknown; headers?: Record<string, string> }, number, string, RegExp][] = [
    ['malformed JSON', { raw: '{"input": ', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /not valid JSON/],
    ['an empty body', { raw: '', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /empty/],
    ['a JSON array', { body: [1, 2] }, 400, 'invalid_body', /object/],
    ['a JSON string', { body: 'x' }, 400, 'invalid_body', /object/],
    ['no input', { body: {} }, 400, 'invalid_body', /^input: /],
    ['input of the wrong type', { body: { input: [1] } }, 400, 'invalid_body', /^input: /],
    ['an unknown field', { body: { input: {}, inptu: {} } }, 400, 'invalid_body', /unknown field `inptu`/],
    ['a bad approval', { body: { input: {}, approvals: [{ rule: 'x' }] } }, 400, 'invalid_body', /^approvals\[0\]\.request_hash: /],
    ['explain not a boolean', { body: { input: {}, explain: 'yes' } }, 400, 'invalid_body', /^explain: /],
    ['a bad time', { body: { input: {}, now: 'yesterday' } }, 400, 'invalid_body', /^now: .*RFC 3339/],
    ['a body over the limit', { body: { input: { x: 'y'.repeat(10_000) } } }, 413, 'body_too_large', /.+/],
    ['deep nesting', { body: { input: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) } }, 400, 'too_deep', /deeper than 64/],
    // regression (session 9 review R6): these said "the body is not valid JSON" / named an internal field
    ['__proto__ keys', { raw: '{"input": {"__proto__": {"x": 1}}}', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /`__proto__` or `constructor.prototype` key, which is refused/],
    ['constructor.prototype keys', { raw: '{"input": {"constructor": {"prototype": {"x": 1}}}}', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /`__proto__` or `constructor.prototype` key/],
    // the key `__proto__` spelled with an escape: refused too (rein serve parses bodies without a `\` itself)
    ['an escaped __proto__ key', { raw: '{"input": {"\\u005f_proto__": {"x": 1}}}', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /.+/],
    ['broken JSON that mentions __proto__', { raw: '{"input": {"__proto__": ', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /^the body is not valid JSON$/],
    ['one decision sent as NDJSON', { raw: '{"input":{}}\n', headers: { 'content-type': 'application/x-ndjson' } }, 415, 'unsupported_media_type', /batch endpoints/],
  ];
  for (const [what, req, status, code, msg] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const r = await call(s.url, '/v1/decide', req);
      assert.equal(r.status, status, r.text);
      assert.equal(r.body.error.code, code);
      assert.match(r.body.error.message, msg);
    });
  }

  it('the issues list names every bad field', async () => {
    const r = await call(s.url, '/v1/decide', { body: { input: 1, explain: 2, extra: 3 } });
    assert.deepEqual(r.body.error.issues.map((i: { path: string }) => i.path).sort(), ['$', 'explain', 'input']);
  });

  it('settle without a reservation names the field', async () => {
    const r = await call(s.url, '/v1/settle', { body: { usage: {} } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.issues[0].path, 'reservation');
  });

  it('JSON is accepted without a JSON content type (curl -d sends form encoding)', async () => {
    const r = await call(s.url, '/v1/decide', { raw: JSON.stringify({ input: model('x', '0.01') }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.effect, 'allow');
  });

  it('every Content-Type gets the same JSON parser: the same answers for application/json (registered by name) and any other', async () => {
    // app.ts registers its parser for `*` and, by name, for `application/json` (fastify caches the
    // parser of named types only): what a body gets must not depend on which of the two took it.
    const types = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonl-not', 'x/y; a=b'];
    const bodies: [string, number, string | null][] = [
      [JSON.stringify({ input: tool('db.drop') }), 200, null],
      [JSON.stringify({ input: model('x', '0.01') }), 200, null],
      ['{"input": ', 400, 'invalid_json'],
      ['', 400, 'invalid_json'],
      ['{"input": {"__proto__": {"x": 1}}}', 400, 'invalid_json'],
      ['{"input": {"a\\u0062": 1, "agent": {"id": "a", "team": "t"}, "action": {"kind": "tool_call"}}}', 200, null],
      ['[1]', 400, 'invalid_body'],
    ];
    for (const [raw, status, code] of bodies) {
      const seen = new Set<string>();
      for (const type of types) {
        const r = await call(s.url, '/v1/decide', { raw, headers: { 'content-type': type } });
        assert.equal(r.status, status, `${type} ${raw}: ${r.text}`);
        if (code) assert.equal(r.body.error.code, code, `${type} ${raw}`);
        seen.add(code ? JSON.stringify(r.body) : `${r.body.effect} ${r.body.request_hash}`);
      }
      assert.equal(seen.size, 1, `${raw}: ${[...seen].join(' | ')}`);
    }
  });

  it('an unknown route is a JSON 404; a known route with another method a 405 naming the allowed ones', async () => {
    const r = await call(s.url, '/v1/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
    const g = await call(s.url, '/v1/decide');
    assert.equal(g.status, 405);
    assert.equal(g.body.error.code, 'method_not_allowed');
    assert.equal(g.headers.get('allow'), 'POST');
    const d = await call(s.url, '/v1/decide?x=1', { method: 'DELETE' });
    assert.equal(d.status, 405);
  });
});

describe('rein serve --api: bearer tokens', function () {
  this.timeout(30_000);
  let s: Served;
  before(async () => {
    s = await serve({ tokens: { api: 'api-secret', settle: 'settle-secret', approvals: 'approvals-secret' } });
  });
  after(async () => {
    await s.close();
  });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('decide needs the api token: missing or wrong → 401 with WWW-Authenticate', async () => {
    const none = await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') } });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthorized');
    assert.match(none.headers.get('www-authenticate')!, /^Bearer/);
    assert.equal((await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: bearer('wrong') })).status, 401);
    assert.equal((await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: { authorization: 'Basic x' } })).status, 401);
    assert.equal((await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: bearer('api-secret') })).status, 200);
  });

  it('settle needs the settle token (the api token is not enough)', async () => {
    const d = await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: bearer('api-secret') });
    const withApi = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id }, headers: bearer('api-secret') });
    assert.equal(withApi.status, 401);
    const ok = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id }, headers: bearer('settle-secret') });
    assert.equal(ok.status, 200, ok.text);
    const settleCannotDecide = await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: bearer('settle-secret') });
    assert.equal(settleCannotDecide.status, 401);
  });

  it('approvals in the body need the approvals token', async () => {
    const a = await call(s.url, '/v1/decide', { body: { input: tool('transfer', { amount: '500' }) }, headers: bearer('api-secret') });
    const body = { input: tool('transfer', { amount: '500' }), approvals: [{ rule: 'large_transfer', request_hash: a.body.request_hash }] };
    const denied = await call(s.url, '/v1/decide', { body, headers: bearer('api-secret') });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'forbidden');
    const ok = await call(s.url, '/v1/decide', { body, headers: bearer('approvals-secret') });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.effect, 'allow');
  });

  it('/health, /ready and /openapi.json are open; /metrics needs the api token', async () => {
    assert.equal((await call(s.url, '/health')).status, 200);
    assert.equal((await call(s.url, '/ready')).status, 200);
    assert.equal((await call(s.url, '/openapi.json')).status, 200);
    assert.equal((await call(s.url, '/metrics')).status, 401);
    assert.equal((await call(s.url, '/metrics', { headers: bearer('api-secret') })).status, 200);
  });
});

describe('rein serve --api as a process: token sources, the default address, the hash header', function () {
  this.timeout(60_000);
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it('the settle token from --settle-token-file and the approvals token from REIN_APPROVALS_TOKEN are separate from the api token (REIN_API_TOKEN)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-tokens-'));
    writeFileSync(join(dir, 'settle.token'), 'settle-from-file\nignored second line\n');
    const srv = await spawnServe(['--api', '--no-dashboard', '--policy', AGENT, '--listen', '127.0.0.1:0', '--no-watch', '--settle-token-file', join(dir, 'settle.token')], {
      REIN_API_TOKEN: 'api-from-env',
      REIN_APPROVALS_TOKEN: 'approvals-from-env',
    });
    try {
      const d = await call(srv.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: bearer('api-from-env') });
      assert.equal(d.status, 200, d.text);
      assert.equal((await call(srv.url, '/v1/settle', { body: { reservation: d.body.reservation.id }, headers: bearer('api-from-env') })).status, 401);
      assert.equal((await call(srv.url, '/v1/settle', { body: { reservation: d.body.reservation.id }, headers: bearer('ignored second line') })).status, 401);
      const settled = await call(srv.url, '/v1/settle', { body: { reservation: d.body.reservation.id }, headers: bearer('settle-from-file') });
      assert.equal(settled.status, 200, settled.text);
      const a = await call(srv.url, '/v1/decide', { body: { input: tool('transfer', { amount: '500' }) }, headers: bearer('api-from-env') });
      const body = { input: tool('transfer', { amount: '500' }), approvals: [{ rule: 'large_transfer', request_hash: a.body.request_hash }] };
      assert.equal((await call(srv.url, '/v1/decide', { body, headers: bearer('api-from-env') })).status, 403);
      const ok = await call(srv.url, '/v1/decide', { body, headers: bearer('approvals-from-env') });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.effect, 'allow');
    } finally {
      await srv.stop();
    }
  });

  it('without --listen, --api serves on 127.0.0.1:8181 (or says that address is in use)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rein-serve-default-'));
    const proc = spawn(process.execPath, [BIN, 'serve', '--api', '--no-dashboard', '--policy', AGENT, '--no-watch'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => proc.on('close', r));
    try {
      for (let i = 0; i < 1200 && !/listening on|cannot listen/.test(err) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      // Another process on this machine may hold OPA's port: then the refusal names the same address.
      assert.match(err, /listening on http:\/\/127\.0\.0\.1:8181 |cannot listen on 127\.0\.0\.1:8181: the address is already in use/, err);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  });
});

describe('rein serve --api: the policy hash on every answer', function () {
  this.timeout(30_000);
  let s: Served;
  before(async () => {
    s = await serve({ tokens: { api: 'k' } });
  });
  after(async () => {
    await s.close();
  });

  it('errors (400, 401, 404, 413) and open routes carry Rein-Policy-Hash too', async () => {
    const hash = s.ctx.policy!.hash!;
    const answers = [
      await call(s.url, '/v1/decide', { raw: '{"input": ', headers: { authorization: 'Bearer k', 'content-type': 'application/json' } }),
      await call(s.url, '/v1/decide', { body: { input: model('t', '0.01') } }),
      await call(s.url, '/nope', { headers: { authorization: 'Bearer k' } }),
      await call(s.url, '/v1/decide', { body: { input: { x: 'y'.repeat(2_000_000) } }, headers: { authorization: 'Bearer k' } }),
      await call(s.url, '/ready'),
      await call(s.url, '/openapi.json'),
      await call(s.url, '/metrics', { headers: { authorization: 'Bearer k' } }),
    ];
    assert.deepEqual(
      answers.map((r) => r.status),
      [400, 401, 404, 413, 200, 200, 200],
    );
    for (const r of answers) assert.equal(r.headers.get('rein-policy-hash'), hash);
  });

  // The hot routes set the header in their handler, the others through a route-level onSend hook
  // added when each route is registered, and the error answers in `fail` (app.ts): every kind here.
  it('every route and answer carries it: hot routes, route hooks, handler errors, HEAD, the dashboard', async () => {
    const d = await serve({ tokens: { api: 'k' }, plugins: [{ name: 'api', plugin: apiPlugin }, { name: 'dashboard', plugin: dashboardPlugin }] });
    try {
      const hash = d.ctx.policy!.hash!;
      const auth = { authorization: 'Bearer k' };
      const decided = await call(d.url, '/v1/decide', { body: { input: model('t', '0.01') }, headers: auth });
      const answers = {
        decide: decided,
        evaluate: await call(d.url, '/v1/evaluate', { body: { input: model('t', '0.01') }, headers: auth }),
        'decide, zod path': await call(d.url, '/v1/decide', { body: { input: model('t', '0.01'), explain: true }, headers: auth }),
        'decide, invalid body': await call(d.url, '/v1/decide', { body: { input: 'no' }, headers: auth }),
        'decide, bad JSON': await call(d.url, '/v1/decide', { raw: '{', headers: { ...auth, 'content-type': 'application/json' } }),
        'decide, no token': await call(d.url, '/v1/evaluate', { body: { input: model('t', '0.01') } }),
        settle: await call(d.url, '/v1/settle', { body: { reservation: decided.body.reservation.id, usage: { cost: { estimate: '0.01' } } }, headers: auth }),
        'settle, unknown': await call(d.url, '/v1/settle', { body: { reservation: 'nope-1', usage: {} }, headers: auth }),
        batch: await call(d.url, '/v1/decide/batch', { body: [{ input: model('t', '0.01') }], headers: auth }),
        policy: await call(d.url, '/v1/policy', { headers: auth }),
        health: await call(d.url, '/health'),
        'HEAD health': await call(d.url, '/health', { method: 'HEAD' }),
        'wrong method': await call(d.url, '/v1/decide', { method: 'DELETE', headers: auth }),
        'dashboard favicon': await call(d.url, '/favicon.ico'),
        'dashboard session': await call(d.url, '/dashboard/api/session'),
      };
      assert.deepEqual(
        Object.values(answers).map((r) => r.status),
        [200, 200, 200, 400, 400, 401, 200, 404, 200, 200, 200, 200, 405, 204, 200],
      );
      for (const [what, r] of Object.entries(answers)) assert.equal(r.headers.get('rein-policy-hash'), hash, what);
      // The decision's own policy hash is the header's.
      assert.equal(decided.body.policy.hash, hash);
    } finally {
      await d.close();
    }
  });
});

describe('rein serve --api: metrics, audit log, OpenAPI', function () {
  this.timeout(30_000);

  it('GET /metrics is Prometheus text with decisions by effect and latency', async () => {
    const s = await serve();
    try {
      for (let i = 0; i < 3; i++) await call(s.url, '/v1/decide', { body: { input: model('m', '0.01') } });
      await call(s.url, '/v1/decide', { body: { input: tool('db.drop') } });
      await call(s.url, '/v1/decide', { body: {} });
      const r = await call(s.url, '/metrics');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type')!, /^text\/plain/);
      assert.match(r.text, /^rein_decisions_total\{effect="allow",policy="service_test"[^}]*\} 3$/m);
      assert.match(r.text, /^rein_decisions_total\{effect="deny",policy="service_test"[^}]*\} 1$/m);
      assert.match(r.text, /^rein_decision_duration_count\{effect="allow"[^}]*\} 3$/m);
      assert.match(r.text, /^rein_decision_duration_bucket\{[^}]*le="0.1"\} \d+$/m);
      assert.match(r.text, /^rein_http_rejected_total\{code="invalid_body"[^}]*\} 1$/m);
      // Counted per decision in maps and reported at scrape time (metrics.ts): the same series as the
      // OpenTelemetry instruments of DecisionMetrics, cumulative across scrapes.
      assert.match(r.text, /^# TYPE rein_decisions_total counter$/m);
      assert.match(r.text, /^rein_rule_matches_total\{name="no_drop",kind="rule",effect="deny",policy="service_test",otel_scope_name="rein"[^}]*\} 1$/m);
      assert.match(r.text, /^# TYPE rein_budget_utilization gauge$/m);
      // team "m" reserved 3 × $0.01 of its $1: after the third decision (spent + reserved + charge) / limit = 0.03
      assert.match(r.text, /^rein_budget_utilization\{budget="team_daily",policy="service_test"[^}]*\} 0\.03$/m);
      await call(s.url, '/v1/decide', { body: { input: tool('db.drop') } });
      await call(s.url, '/v1/decide', { body: { input: tool('transfer', { amount: '500' }) } });
      await call(s.url, '/v1/decide', { body: { input: model('m', '0.07') } });
      const again = (await call(s.url, '/metrics')).text;
      assert.match(again, /^rein_decisions_total\{effect="deny",policy="service_test"[^}]*\} 2$/m);
      assert.match(again, /^rein_decisions_total\{effect="allow",policy="service_test"[^}]*\} 4$/m);
      assert.match(again, /^rein_decisions_total\{effect="require_approval",policy="service_test"[^}]*\} 1$/m);
      assert.match(again, /^rein_rule_matches_total\{name="no_drop",kind="rule",effect="deny"[^}]*\} 2$/m);
      assert.match(again, /^rein_rule_matches_total\{name="large_transfer",kind="rule",effect="require_approval"[^}]*\} 1$/m);
      assert.match(again, /^rein_budget_utilization\{budget="team_daily",policy="service_test"[^}]*\} 0\.1$/m);
      assert.match(again, /^rein_decision_duration_count\{effect="allow"[^}]*\} 4$/m);
    } finally {
      await s.close();
    }
  });

  it('every decision (decide, evaluate, batch) goes to the hash-chained audit log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rein-serve-audit-'));
    const file = join(dir, 'decisions.jsonl');
    const s = await serve({ audit: file });
    try {
      await call(s.url, '/v1/decide', { body: { input: model('m', '0.01') } });
      await call(s.url, '/v1/evaluate', { body: { input: tool('db.drop') } });
      await call(s.url, '/v1/decide/batch', { body: [{ input: model('m', '0.02') }, { input: model('m', '0.03') }] });
      await call(s.url, '/v1/decide', { body: { bad: 1 } });
    } finally {
      await s.close();
    }
    const text = readFileSync(file, 'utf8');
    const v = verifyChain([{ source: file, text }], nodeLineHash);
    assert.ok(v.ok, JSON.stringify(v.problem));
    const recs = parseRecords(text);
    assert.equal(recs.length, 4, 'four decisions; the 400 is not a decision');
    assert.deepEqual(recs.map((r) => r.decision.effect), ['allow', 'deny', 'allow', 'allow']);
    assert.deepEqual((recs[3].request as { cost: unknown }).cost, { estimate: '0.03' });
    // the evaluate record says it only scored the request, and `rein report` leaves it out (review h13r1 S16)
    assert.deepEqual(
      recs.map((r) => (r.decision as { evaluated_only?: boolean }).evaluated_only ?? false),
      [false, true, false, false],
    );
    const { summarize } = await import('../../language/audit/report.js');
    const sum = summarize(recs);
    assert.equal(sum.total, 3);
    assert.equal(sum.evaluated, 1);
    assert.deepEqual(sum.byEffect, { allow: 3, deny: 0, require_approval: 0 });
    assert.deepEqual(sum.topDeny, []);
  });

  it('HTTP it cannot read gets the one error shape with the policy hash; a request must arrive within 60 s; openapi servers is relative (review h13r1 S11)', async () => {
    const { connect } = await import('node:net');
    const s = await serve();
    const raw = (data: string) =>
      new Promise<string>((resolve, reject) => {
        const u = new URL(s.url);
        const sock = connect(Number(u.port), u.hostname, () => sock.end(data));
        let out = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (out += d));
        sock.on('close', () => resolve(out));
        sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(out) : reject(e)));
      });
    try {
      const both = await raw('POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      assert.match(both, /^HTTP\/1\.1 400 /);
      assert.match(both, /rein-policy-hash: sha256:[0-9a-f]{64}/i);
      assert.equal(JSON.parse(both.slice(both.indexOf('\r\n\r\n') + 4)).error.code, 'bad_request');
      const big = await raw(`GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 /);
      assert.equal(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4)).error.code, 'headers_too_large');
      assert.equal(s.app.server.requestTimeout, 60_000);
      assert.deepEqual((await call(s.url, '/openapi.json')).body.servers, [{ url: '/' }]);
    } finally {
      await s.close();
    }
  });

  it('/openapi.json is OpenAPI 3.1 whose schemas accept and reject exactly what the server does', async () => {
    const s = await serve();
    try {
      const doc = (await call(s.url, '/openapi.json')).body;
      assert.equal(doc.openapi, '3.1.0');
      for (const p of ['/v1/decide', '/v1/settle', '/v1/evaluate', '/v1/decide/batch', '/health', '/ready', '/metrics']) assert.ok(doc.paths[p], p);
      const ajv = new Ajv2020.default({ strict: false, allErrors: true });
      addFormats.default(ajv);
      ajv.addSchema({ $id: 'doc', components: doc.components });
      const v = (name: string) => ajv.getSchema(`doc#/components/schemas/${name}`)!;
      const decideBodies: unknown[] = [
        { input: {} },
        { input: { a: 1 }, explain: true, now: '2026-11-24T10:00:00Z' },
        { input: {}, approvals: [{ rule: 'r', request_hash: 'sha256:x' }] },
        {},
        { input: 1 },
        { input: {}, extra: 1 },
        { input: {}, approvals: [{ rule: '' , request_hash: 'h' }] },
        { input: {}, now: 'not a time' },
        { input: {}, explain: 'no' },
      ];
      for (const b of decideBodies) {
        const zodOk = decideBodySchema.safeParse(b).success;
        assert.equal(v('DecideRequest')(b), zodOk, `DecideRequest ${JSON.stringify(b)}`);
        const http = await call(s.url, '/v1/evaluate', { body: b });
        assert.equal(http.status === 200, zodOk, `server vs schema for ${JSON.stringify(b)}`);
      }
      for (const b of [{ reservation: 'x' }, { reservation: 'x', usage: { a: 1 } }, {}, { reservation: 1 }, { reservation: 'x', usage: [] }]) {
        assert.equal(v('SettleRequest')(b), settleBodySchema.safeParse(b).success, `SettleRequest ${JSON.stringify(b)}`);
      }
      const d = (await call(s.url, '/v1/decide', { body: { input: model('o', '0.01') } })).body;
      assert.ok(v('Decision')(d), JSON.stringify(v('Decision').errors));
      const ready = (await call(s.url, '/ready')).body;
      assert.ok(v('Ready')(ready), JSON.stringify(v('Ready').errors));
      // Every other response shape the document names.
      const checks: [string, unknown][] = [
        ['DecideResponse', d],
        ['SettleResponse', (await call(s.url, '/v1/settle', { body: { reservation: d.reservation.id } })).body],
        ['Error', (await call(s.url, '/v1/settle', { body: { reservation: d.reservation.id } })).body],
        ['Error', (await call(s.url, '/v1/decide', { body: { input: 1, x: 2 } })).body],
        ['BatchResponse', (await call(s.url, '/v1/decide/batch', { body: [{ input: model('o', '0.01') }, { bad: 1 }] })).body],
        ['PolicyInfo', (await call(s.url, '/v1/policy')).body],
        ['Health', (await call(s.url, '/health')).body],
      ];
      for (const [name, body] of checks) assert.ok(v(name)(body), `${name}: ${JSON.stringify(v(name).errors)} for ${JSON.stringify(body).slice(0, 200)}`);
      assert.equal(v('Error')({ error: { code: 1 } }), false);
    } finally {
      await s.close();
    }
  });
});

describe('rein serve --api: hot reload', function () {
  this.timeout(30_000);

  async function until<T>(f: () => Promise<T>, ok: (t: T) => boolean): Promise<T> {
    let last = await f();
    for (let i = 0; i < 200 && !ok(last); i++) {
      await new Promise((r) => setTimeout(r, 50));
      last = await f();
    }
    return last;
  }

  // Regression: the header was set by an app-wide onSend hook reading the version serving at send
  // time, so a reload that landed while an async store was answering gave the new hash in the header
  // and the old one in the decision's `policy.hash`. The decide route now sets it from the version
  // that decided.
  it('Rein-Policy-Hash is the deciding version\'s hash even when a reload lands while the store answers', async () => {
    const dir = copyAgent();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reserving!: () => void;
    const reached = new Promise<void>((r) => (reserving = r));
    // The memory store with a reserve that waits for the test: a subclass overriding an async method
    // has no synchronous twin, so the route awaits it as it awaits Redis.
    class GatedStore extends MemoryBudgetStore {
      override async reserve(req: Parameters<MemoryBudgetStore['reserve']>[0]) {
        reserving();
        await gate;
        return super.reserve(req);
      }
    }
    const store = new GatedStore();
    const s = await serve({ policy: dir, store });
    try {
      const h1 = s.ctx.policy!.hash!;
      const pending = call(s.url, '/v1/decide', { body: { input: model('r', '0.10') } });
      await reached;
      const file = join(dir, 'policy.rein');
      writeFileSync(file, readFileSync(file, 'utf8').replace('tool db.drop is blocked', 'no dropping, ever'));
      const r = await s.ctx.policy!.reload();
      assert.ok(r.ok && r.changed, JSON.stringify(r));
      assert.notEqual(s.ctx.policy!.hash, h1);
      release();
      const answer = await pending;
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.policy.hash, h1, 'decided by the version serving when the request came');
      assert.equal(answer.headers.get('rein-policy-hash'), answer.body.policy.hash);
    } finally {
      release();
      await s.close();
    }
  });

  it('a changed policy replaces the old one once it checks; a broken one leaves the old one serving', async () => {
    const dir = copyAgent();
    const s = await serve({ policy: dir, watch: true });
    try {
      const first = await call(s.url, '/v1/decide', { body: { input: tool('db.drop') } });
      const h1 = first.headers.get('rein-policy-hash');
      const reserved = await call(s.url, '/v1/decide', { body: { input: model('r', '0.50') } });
      const file = join(dir, 'policy.rein');
      writeFileSync(file, readFileSync(file, 'utf8').replace('tool db.drop is blocked', 'no dropping, ever'));
      const second = await until(
        () => call(s.url, '/v1/decide', { body: { input: tool('db.drop') } }),
        (r) => r.headers.get('rein-policy-hash') !== h1,
      );
      assert.notEqual(second.headers.get('rein-policy-hash'), h1, 'reloaded');
      assert.equal(second.body.reasons[0].message, 'no dropping, ever');
      assert.equal(second.body.policy.hash, second.headers.get('rein-policy-hash'));
      const h2 = second.headers.get('rein-policy-hash');
      // A reservation made by the old version settles after the reload; the counters carried over.
      const st = await call(s.url, '/v1/settle', { body: { reservation: reserved.body.reservation.id, usage: { cost: { estimate: '0.70' } } } });
      assert.equal(st.status, 200, st.text);
      assert.equal(st.body.policy.hash, h1, 'settled by the version that decided');
      const after = await call(s.url, '/v1/decide', { body: { input: model('r', '0.40') } });
      assert.equal(after.body.effect, 'deny', '0.70 spent + 0.40 > $1: the counter survived the reload');

      writeFileSync(join(dir, 'broken.rein'), 'rule oops { when nope.x deny }');
      const info = await until(
        () => call(s.url, '/v1/policy'),
        (r) => r.body.reload_error !== null,
      );
      assert.match(info.body.reload_error.message, /broken\.rein/);
      assert.equal(info.body.hash, h2, 'the old version still serves');
      const still = await call(s.url, '/v1/decide', { body: { input: tool('db.drop') } });
      assert.equal(still.headers.get('rein-policy-hash'), h2);
      assert.equal(still.body.reasons[0].message, 'no dropping, ever');
      const ready = await call(s.url, '/ready');
      assert.equal(ready.status, 200);
      assert.match(ready.body.checks.policy.reload_error, /broken\.rein/);
    } finally {
      await s.close();
    }
  });

  it('a bundle replaced atomically (write + rename) is reloaded; a corrupt one is refused', async () => {
    const dir = copyAgent();
    const bundleFile = join(dir, '..', 'agent.bundle.json');
    const build = async () => serializeBundle(buildBundle(await readPolicyDir(dir)).bundle);
    writeFileSync(bundleFile, await build());
    const s = await serve({ policy: bundleFile, watch: true });
    try {
      const h1 = (await call(s.url, '/health')).headers.get('rein-policy-hash');
      writeFileSync(join(dir, 'policy.rein'), readFileSync(join(dir, 'policy.rein'), 'utf8').replace('version "1.0.0"', 'version "2.0.0"'));
      writeFileSync(bundleFile + '.tmp', await build());
      renameSync(bundleFile + '.tmp', bundleFile);
      const info = await until(
        () => call(s.url, '/v1/policy'),
        (r) => r.body.version === '2.0.0',
      );
      assert.equal(info.body.version, '2.0.0');
      assert.notEqual(info.body.hash, h1);
      writeFileSync(bundleFile, '{"not": "a bundle"');
      const bad = await until(
        () => call(s.url, '/v1/policy'),
        (r) => r.body.reload_error !== null,
      );
      assert.equal(bad.body.version, '2.0.0', 'the old version still serves');
      assert.equal((await call(s.url, '/v1/decide', { body: { input: tool('db.drop') } })).body.effect, 'deny');
    } finally {
      await s.close();
    }
  });

  it('a policy file rewritten in place, in two parts with a stall, or emptied first, never serves half a policy (review h13r1 S10)', async () => {
    const { closeSync, openSync, writeSync } = await import('node:fs');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const dir = copyAgent();
    const file = join(dir, 'policy.rein');
    const text = readFileSync(file, 'utf8');
    // the cut falls between declarations: the first part (header, input) checks clean, and allows db.drop
    const cut = text.indexOf('/// Dropping databases');
    assert.ok(cut > 0);
    const logs: string[] = [];
    const s = await serve({ policy: dir, watch: true, logger: (m) => logs.push(m) });
    const drop = { agent: { id: 'a1', team: 'ops' }, action: { kind: 'tool_call', tool: 'db.drop' } };
    const effects: string[] = [];
    let stop = false;
    const poll = (async () => {
      while (!stop) {
        effects.push((await call(s.url, '/v1/decide', { body: { input: drop } })).body.effect);
        await sleep(20);
      }
    })();
    try {
      const h1 = s.ctx.policy!.hash;
      // as `cat > f`, scp or a slow copy write it: truncate, the first part, a stall, the rest
      const fd = openSync(file, 'w');
      writeSync(fd, text.slice(0, cut));
      await sleep(500);
      writeSync(fd, text.slice(cut) + '\n// redeployed\n');
      closeSync(fd);
      await until(async () => s.ctx.policy!.hash, (h) => h !== h1);
      assert.notEqual(s.ctx.policy!.hash, h1, 'the whole file was loaded');
      await sleep(1200); // no second reload follows: the first one was of the whole file
      assert.equal(s.ctx.policy!.current!.generation, 2, `one reload, of the whole file: ${logs.join('; ')}`);
      // emptied (the first step of an in-place rewrite) and left so: refused, the old version serves
      writeFileSync(file, '');
      const refused = await until(
        () => call(s.url, '/v1/policy'),
        (r) => r.body.reload_error !== null,
      );
      assert.match(refused.body.reload_error.message, /`policy\.rein` is empty/);
      writeFileSync(file, text);
      await until(async () => s.ctx.policy!.current!.generation, (g) => g === 3);
      assert.equal(s.ctx.policy!.current!.generation, 3);
      await sleep(100);
    } finally {
      stop = true;
      await poll;
      await s.close();
    }
    assert.ok(effects.length > 20, `${effects.length} decisions`);
    assert.deepEqual([...new Set(effects)], ['deny'], 'db.drop was denied throughout');
  });

  it('reload() without changes keeps the version', async () => {
    const s = await serve({ policy: AGENT });
    try {
      const r = await s.ctx.policy!.reload();
      assert.deepEqual(r, { ok: true, changed: false, hash: s.ctx.policy!.hash });
      assert.equal(s.ctx.policy!.current!.generation, 1);
    } finally {
      await s.close();
    }
  });
});
