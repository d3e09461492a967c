// Fuzzed bodies against every POST endpoint: random JSON, wrong types, huge strings, deep nesting,
// broken bytes. Every answer is 2xx or 4xx, never 5xx, and the server stays alive.
import assert from 'node:assert/strict';
import { rng, type Rng } from '../helpers/prng.js';
import { call, model, serve, type Served } from './helpers.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function randomValue(r: Rng, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 6 : 9));
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick(r, [0, -1, 1e308, -1e-308, 0.1, 2 ** 53 + 2, 12.5]);
    case 3: return pick(r, ['', 'model_call', 'tool_call', 'db.drop', '0.01', '-5', 'NaN', '\u0000', 'é', '🙂', 'x'.repeat(Math.floor(r() * 3000))]);
    case 4: return pick(r, ['2026-11-24T10:00:00Z', 'sha256:00', '__proto__', 'constructor']);
    case 5: return '9'.repeat(400);
    case 6: return [...Array(Math.floor(r() * 4))].map(() => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const keys = ['input', 'approvals', 'explain', 'now', 'reservation', 'usage', 'agent', 'action', 'cost', 'kind', 'tool', 'amount', 'team', 'id', 'estimate', 'rule', 'request_hash', 'token', 'x'];
      for (let i = Math.floor(r() * 5); i > 0; i--) o[pick(r, keys)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

/** Near-valid decide bodies with one part mutated. */
function mutatedDecide(r: Rng): unknown {
  const base: Record<string, unknown> = { input: model('f', '0.01') };
  const input = base.input as Record<string, Record<string, unknown>>;
  switch (Math.floor(r() * 7)) {
    case 0: input.cost.estimate = randomValue(r, 3); break;
    case 1: input.action.kind = randomValue(r, 3); break;
    case 2: input.agent = randomValue(r, 3) as Record<string, unknown>; break;
    case 3: base.approvals = randomValue(r, 2); break;
    case 4: base.now = randomValue(r, 3); break;
    case 5: base.explain = randomValue(r, 3); break;
    default: base.input = randomValue(r, 1);
  }
  return base;
}

function deep(n: number, leaf: string): string {
  return '{"a":'.repeat(n) + leaf + '}'.repeat(n);
}

describe('rein serve --api: fuzzed bodies never yield a 5xx', function () {
  this.timeout(120_000);
  let s: Served;
  before(async () => {
    s = await serve({ bodyLimit: 256 * 1024 });
  });
  after(async () => {
    await s.close();
  });

  const paths = ['/v1/decide', '/v1/evaluate', '/v1/settle', '/v1/decide/batch', '/v1/evaluate/batch'];

  it('random and mutated JSON bodies (600 requests)', async () => {
    const r = rng(20);
    const seen = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const path = pick(r, paths);
      let body: unknown;
      const k = r();
      if (path.endsWith('batch')) body = k < 0.5 ? [...Array(Math.floor(r() * 5))].map(() => mutatedDecide(r)) : randomValue(r, 0);
      else if (path === '/v1/settle') body = k < 0.5 ? { reservation: randomValue(r, 2), usage: randomValue(r, 1) } : randomValue(r, 0);
      else body = k < 0.7 ? mutatedDecide(r) : randomValue(r, 0);
      const res = await call(s.url, path, { body });
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `${path} ${JSON.stringify(body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status >= 400) assert.equal(typeof res.body?.error?.code, 'string', res.text.slice(0, 200));
    }
    assert.ok((seen.get(200) ?? 0) > 50, `some bodies were valid: ${JSON.stringify([...seen])}`);
    assert.ok((seen.get(400) ?? 0) > 50, `some bodies were refused: ${JSON.stringify([...seen])}`);
  });

  it('broken bytes, huge strings, deep nesting, odd content types', async () => {
    const r = rng(7);
    const raws: { raw: string; type?: string }[] = [
      { raw: '\u0000\u0001\u0002' },
      { raw: '{"input": {"agent": "\ud800"}}' },
      { raw: '{"input": {}}'.repeat(3) },
      { raw: '[' },
      { raw: 'null' },
      { raw: '1e999' },
      { raw: '"' + 'x'.repeat(200_000) + '"' },
      { raw: JSON.stringify({ input: { agent: { id: 'x'.repeat(200_000), team: 't' }, action: { kind: 'model_call' } } }) },
      { raw: 'x'.repeat(300_000) },
      { raw: deep(50, '1') },
      { raw: deep(5_000, '1') },
      { raw: '{"input":' + deep(20_000, '{}') + '}' },
      { raw: '[' + '['.repeat(30_000) + ']'.repeat(30_000) + ']' },
      { raw: '{"input": {"a": 1}}', type: 'application/x-ndjson' },
      { raw: '{"input": {"a": 1}}', type: 'text/html' },
      { raw: '{"input": {"a": 1}}', type: 'multipart/form-data; boundary=x' },
      { raw: [...Array(200)].map(() => String.fromCharCode(Math.floor(r() * 256))).join('') },
    ];
    for (const path of paths) {
      for (const { raw, type } of raws) {
        const res = await call(s.url, path, { raw, headers: { 'content-type': type ?? 'application/json' } });
        assert.ok(res.status < 500, `${path} ${type ?? ''} ${raw.slice(0, 80)} → ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
    const big = [...Array(1000)].map(() => ({ input: model('b', '0.0001') }));
    const many = await call(s.url, '/v1/evaluate/batch', { body: big });
    assert.equal(many.status, 200);
    assert.equal(many.body.results.length, 1000);
    const tooMany = await call(s.url, '/v1/evaluate/batch', { raw: [...Array(10_001)].map(() => '{}').join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.body.error.code, 'too_many_items');
  });

  it('the server is alive afterwards and still decides', async () => {
    const h = await call(s.url, '/health');
    assert.equal(h.status, 200);
    const d = await call(s.url, '/v1/decide', { body: { input: model('alive', '0.01') } });
    assert.equal(d.body.effect, 'allow');
  });
});
