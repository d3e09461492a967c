// A web page must not reach `rein serve` on loopback (review h11r R12): a cross-origin "simple" POST
// (text/plain, no preflight) reserved budget, and a DNS-rebinding page (its own name re-resolved to
// 127.0.0.1, so any Host) could read answers and approve. Now: 403 for an Origin that is not the
// server's own or allowed, and for a non-loopback Host on a loopback connection.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { browserRefusal, parseAllowedHosts, parseAllowedOrigins } from '../../language/node/browser-guard.js';
import { model, serve, type Served } from './helpers.js';
import { preflight as corsPreflight } from '../helpers/preflight.js';

/** A raw HTTP/1.1 request (fetch will not send a Host of our choosing). */
function raw(url: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: body === undefined ? 'GET' : 'POST', headers: { ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('rein serve refuses what a web page sends (Origin, DNS-rebinding Host)', function () {
  this.timeout(30_000);
  let s: Served;
  before(async () => {
    s = await serve({ allowOrigins: parseAllowedOrigins(['https://console.example.com']), allowHosts: parseAllowedHosts(['rein.internal']) });
  });
  after(async () => s.close());
  const decide = JSON.stringify({ input: model('victim', '0.9') });
  const port = () => new URL(s.url).port;

  it('a cross-origin text/plain POST to /v1/decide is refused with 403 and decides nothing', async () => {
    const r = await raw(s.url, '/v1/decide', { 'content-type': 'text/plain', origin: 'http://evil.example' }, decide);
    assert.equal(r.status, 403, r.body);
    const b = JSON.parse(r.body);
    assert.equal(b.error.code, 'forbidden');
    assert.match(b.error.message, /cross-origin request from `http:\/\/evil\.example` refused/);
    assert.ok(r.headers['rein-policy-hash'], 'the policy hash is on the refusal too');
    // No reservation was made for the victim team: the metrics count no decision.
    const m = await raw(s.url, '/metrics', {});
    assert.doesNotMatch(m.body, /rein_decisions_total\{[^}]*\} [1-9]/);
  });

  it('a DNS-rebinding Host on the loopback connection is refused, for reads too', async () => {
    for (const path of ['/v1/policy', '/metrics', '/openapi.json', '/health']) {
      const r = await raw(s.url, path, { host: `evil.example:${port()}` });
      assert.equal(r.status, 403, `${path}: ${r.body}`);
      assert.match(JSON.parse(r.body).error.message, /Host `evil\.example:\d+` is not a loopback name/);
    }
    const p = await raw(s.url, '/v1/decide', { host: `evil.example:${port()}`, 'content-type': 'application/json' }, decide);
    assert.equal(p.status, 403);
  });

  it('agents and same-origin pages pass: no Origin, loopback Host names, the server\'s own origin, an allowed origin', async () => {
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', host: `localhost:${port()}` },
      { 'content-type': 'application/json', host: `[::1]:${port()}` },
      { 'content-type': 'application/json', origin: `http://127.0.0.1:${port()}` },
      { 'content-type': 'application/json', origin: 'https://console.example.com' },
      { 'content-type': 'application/json', host: `Rein.Internal:${port()}` },
    ] as Record<string, string>[]) {
      const r = await raw(s.url, '/v1/decide', headers, JSON.stringify({ input: model('ok', '0.01') }));
      assert.equal(r.status, 200, `${JSON.stringify(headers)}: ${r.body}`);
      assert.equal(JSON.parse(r.body).effect, 'allow');
    }
    // (the metrics pattern the first test relies on does see decisions)
    assert.match((await raw(s.url, '/metrics', {})).body, /rein_decisions_total\{[^}]*\} [1-9]/);
    // `null` (a sandboxed page, a file:) is not an origin anyone allowed.
    assert.equal((await raw(s.url, '/v1/decide', { origin: 'null' }, decide)).status, 403);
  });

  it('an allowed origin speaks CORS: its preflight is answered, and its page may read the answer (review h13r1 S14)', async () => {
    const preflight = await corsPreflight(port(), '/v1/decide', 'https://console.example.com', 'content-type,authorization');
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://console.example.com');
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /content-type/);
    const r = await raw(s.url, '/v1/decide', { 'content-type': 'application/json', origin: 'https://console.example.com' }, JSON.stringify({ input: model('cors', '0.01') }));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], 'https://console.example.com');
    assert.equal(r.headers.vary, 'Origin');
    assert.match(String(r.headers['access-control-expose-headers']), /rein-policy-hash/i);
    // an error answer too (the page reads why)
    const bad = await raw(s.url, '/v1/decide', { 'content-type': 'application/json', origin: 'https://console.example.com' }, '{');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['access-control-allow-origin'], 'https://console.example.com');
    // no CORS for agents, the server's own origin, or a refused origin
    assert.equal((await raw(s.url, '/v1/decide', { 'content-type': 'application/json' }, decide)).headers['access-control-allow-origin'], undefined);
    assert.equal((await raw(s.url, '/v1/decide', { origin: 'http://evil.example' }, decide)).headers['access-control-allow-origin'], undefined);
  });

  it('--allow-host takes host names only', () => {
    assert.deepEqual([...parseAllowedHosts(['rein.example.com,Proxy.Local'])], ['rein.example.com', 'proxy.local']);
    assert.throws(() => parseAllowedHosts(['https://rein.example.com']), /is not a host name/);
    assert.throws(() => parseAllowedHosts(['rein.example.com:8181']), /is not a host name/);
  });

  it('--allow-origin takes origins only', () => {
    assert.deepEqual([...parseAllowedOrigins(['https://a.example, http://localhost:5173/'])], ['https://a.example', 'http://localhost:5173']);
    assert.throws(() => parseAllowedOrigins(['https://a.example/path']), /not an origin: write the scheme, host and port only/);
    assert.throws(() => parseAllowedOrigins(['*']), /is not an origin/);
    assert.throws(() => parseAllowedOrigins(['ftp://a.example']), /is not an origin/);
  });

  it('a connection that did not arrive on loopback is not held to loopback Host names', () => {
    const req = { headers: { host: 'rein.internal:8181' }, socket: { localAddress: '10.0.0.5' } } as never;
    assert.equal(browserRefusal(req, new Set()), null);
    const lo = { headers: { host: 'rein.internal:8181' }, socket: { localAddress: '::ffff:127.0.0.1' } } as never;
    assert.equal(browserRefusal(lo, new Set())?.code, 'forbidden_host');
  });
});
