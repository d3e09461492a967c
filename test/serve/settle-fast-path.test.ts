// The settle route's fast path (`plainSettleBody`: `{ reservation, usage? }` without zod) against zod
// on generated bodies, and the settle and error counters that are now counted in maps and reported
// when /metrics is scraped (the same series as the OpenTelemetry counters they replaced).
import assert from 'node:assert/strict';
import { plainSettleBody } from '../../language/node/serve/api.js';
import { settleBodySchema } from '../../language/node/serve/schemas.js';
import { rng, type Rng } from '../helpers/prng.js';
import { call, model, serve } from './helpers.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function value(r: Rng, depth: number): unknown {
  switch (Math.floor(r() * (depth > 2 ? 5 : 7))) {
    case 0:
      return null;
    case 1:
      return pick(r, [true, 0, -1.5, 1e21]);
    case 2:
      return pick(r, ['', 'x', 'a'.repeat(256), 'a'.repeat(257), 'abc-1']);
    case 3:
      return undefined;
    case 4:
      return [value(r, depth + 1)];
    case 5:
      return Object.create(null);
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 3); i > 0; i--) o[pick(r, ['cost', 'estimate', 'x'])] = value(r, depth + 1);
      return o;
    }
  }
}

/** Bodies around the valid shape: a reservation of every kind, usage of every kind, extra keys. */
function body(r: Rng): Record<string, unknown> {
  const b: Record<string, unknown> = r() < 0.1 ? Object.create(null) : {};
  if (r() < 0.9) b.reservation = r() < 0.6 ? `abcdef0123456789abcd-${Math.floor(r() * 1e6).toString(36)}` : value(r, 1);
  if (r() < 0.7) b.usage = r() < 0.5 ? { cost: { estimate: '0.001' } } : value(r, 1);
  if (r() < 0.1) b[pick(r, ['extra', 'input', 'Reservation'])] = 1;
  return b;
}

describe('settle body fast path', () => {
  it('accepts exactly what zod accepts as given, and leaves every other body to zod (4,000 generated bodies)', () => {
    const r = rng(4242);
    let fast = 0;
    for (let i = 0; i < 4000; i++) {
      const b = body(r);
      const z = settleBodySchema.safeParse(b);
      const p = plainSettleBody(b);
      if (p !== null) {
        fast++;
        assert.ok(z.success, `body ${i}: the fast path took a body zod refuses: ${JSON.stringify(b)}`);
        assert.deepEqual(p, z.data, `body ${i}`);
      } else if (z.success && Object.getPrototypeOf(b) === Object.prototype) {
        // only bodies the fast path cannot vouch for go to zod: a null-prototype usage, `usage: undefined`
        const u = (b as { usage?: unknown }).usage;
        assert.ok(u === undefined || Object.getPrototypeOf(u) !== Object.prototype, `body ${i}: left to zod for no reason: ${JSON.stringify(b)}`);
      }
    }
    assert.ok(fast > 1000, `only ${fast} bodies took the fast path`);
  });

  it('settles over HTTP through it, and /metrics counts settles and errors by result and code', async () => {
    const s = await serve();
    try {
      const d = await call(s.url, '/v1/decide', { body: { input: model('fp', '0.30') } });
      const ok = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: '0.10' } } } });
      assert.equal(ok.status, 200, ok.text);
      const again = await call(s.url, '/v1/settle', { body: { reservation: d.body.reservation.id } });
      assert.equal(again.status, 409);
      const unknown = await call(s.url, '/v1/settle', { body: { reservation: 'nope-1' } });
      assert.equal(unknown.status, 404);
      const bad = await call(s.url, '/v1/settle', { body: { reservation: '', usage: [] } });
      assert.equal(bad.status, 400);
      const next = await call(s.url, '/v1/decide', { body: { input: model('fp', '0.01') } });
      assert.equal(next.body.budgets[0].spent, '0.100000');
      const m = await call(s.url, '/metrics');
      assert.match(m.text, /^# TYPE rein_settles_total counter$/m);
      for (const [result, n] of [['ok', 1], ['already_settled', 1], ['unknown', 1]] as const) {
        assert.match(m.text, new RegExp(`^rein_settles_total\\{result="${result}",otel_scope_name="rein-serve"[^}]*\\} ${n}$`, 'm'));
      }
      assert.match(m.text, /^rein_http_rejected_total\{code="invalid_body",otel_scope_name="rein-serve"[^}]*\} 1$/m);
      assert.match(m.text, /^rein_http_rejected_total\{code="already_settled"[^}]*\} 1$/m);
    } finally {
      await s.close();
    }
  });
});
