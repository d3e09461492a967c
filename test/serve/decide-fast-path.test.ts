// The decide route's fast paths against the general ones (docs/benchmarks.md, "Decision service"):
// - `{ input }` bodies skip zod (`plainDecideBody`): what they give is what zod gives, on generated bodies;
// - `tooDeep` (recursive, allocation-free) answers as the iterative walk it replaced;
// - a synchronous store is decided without a promise (`PolicyVersion.synchronous`, `engine.decideSync`):
//   the same answers over HTTP as a store the engine must await.
import assert from 'node:assert/strict';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { ReserveRequest, ReserveResult } from '../../language/runtime/store.js';
import { MAX_DEPTH, parseDecideBody, plainBody, plainDecideBody, tooDeep } from '../../language/node/serve/api.js';
import { decideBodySchema, issuesOf } from '../../language/node/serve/schemas.js';
import { rng, type Rng } from '../helpers/prng.js';
import { call, model, serve, type Served } from './helpers.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function value(r: Rng, depth: number): unknown {
  switch (Math.floor(r() * (depth > 3 ? 5 : 8))) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return pick(r, [0, -0, 1.5, -7, 1e21]);
    case 3: return pick(r, ['', 'x', 'model_call', '2026-11-24T10:00:00Z', 'sha256:00']);
    case 4: return pick(r, [undefined, 'input']);
    case 5: return [...Array(Math.floor(r() * 3))].map(() => value(r, depth + 1));
    default: return object(r, depth + 1);
  }
}

function object(r: Rng, depth: number): Record<string, unknown> {
  const keys = ['input', 'approvals', 'explain', 'now', 'request_approval', 'agent', 'cost', 'x'];
  const o: Record<string, unknown> = r() < 0.1 ? Object.create(null) : {};
  for (let i = Math.floor(r() * 4); i > 0; i--) o[pick(r, keys)] = value(r, depth);
  return o;
}

/** Bodies around the valid shape: mostly `{ input: … }` with an input of every kind, plus extra keys. */
function body(r: Rng): unknown {
  const k = Math.floor(r() * 10);
  if (k === 0) return value(r, 0);
  if (k === 1) return object(r, 0);
  if (k === 6) return Object.assign(Object.create(null), { input: model('t', '0.01') });
  const input = pick(r, [() => model('t', '0.01'), () => object(r, 1), () => value(r, 1), () => new Date(0), () => [1, 2], () => Object.create(null), () => Object.assign(Object.create({ inherited: 1 }), { a: 1 })])();
  const b: Record<string, unknown> = { input };
  if (k === 2) b.explain = pick(r, [true, false, 'yes']);
  if (k === 3) b.now = pick(r, ['2026-11-24T10:00:00Z', 'tomorrow']);
  if (k === 4) b.extra = 1;
  if (k === 5) b.approvals = [];
  return b;
}

/** What the route did before the fast path: the depth check, then zod. */
function viaZod(raw: unknown): { ok: boolean; body?: unknown; code?: string; message?: string } {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, code: 'invalid_body' };
  if (tooDeep(raw)) return { ok: false, code: 'too_deep' };
  const r = decideBodySchema.safeParse(raw);
  if (!r.success) {
    const issues = issuesOf(r.error);
    return { ok: false, code: 'invalid_body', message: `${issues[0].path}: ${issues[0].message}` };
  }
  return { ok: true, body: r.data };
}

/** The iterative depth walk `tooDeep` replaced. */
function tooDeepIterative(v: unknown, max: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > max) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x as object)) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
  return false;
}

function nested(r: Rng, depth: number): unknown {
  if (depth <= 0) return pick(r, [1, 'x', null]);
  const inner = nested(r, depth - 1);
  const side = r() < 0.3 ? { s: nested(r, Math.floor(r() * depth)) } : 0;
  return r() < 0.5 ? [side, inner] : { a: side, b: inner };
}

describe('rein serve --api: the decide route\'s fast paths give what the general paths give', function () {
  this.timeout(60_000);

  it('{ input } bodies: plainDecideBody accepts only what zod accepts, unchanged (3,000 generated bodies)', () => {
    const r = rng(20);
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      const raw = body(r);
      const want = viaZod(raw);
      const got = parseDecideBody(raw);
      const what = `body ${i}: ${JSON.stringify(raw)}`;
      assert.equal(got.ok, want.ok, what);
      if (got.ok) assert.deepEqual(got.body, want.body, what);
      else assert.equal(got.code, want.code, what);
      if (want.message !== undefined && !got.ok) assert.equal(got.message, want.message, what);
      if (raw !== null && typeof raw === 'object' && plainDecideBody(raw) !== null) {
        fast++;
        assert.ok(want.ok, `the fast path accepted what zod refuses: ${what}`);
      }
      // the route's shortcut (no `{ ok, body }` wrapper): the very body parseDecideBody gives, or null
      const pb = plainBody(raw);
      if (pb !== null) {
        assert.ok(got.ok, what);
        assert.equal(pb, got.body, what);
      } else if (got.ok) assert.equal(plainDecideBody(raw as object), null, what);
    }
    assert.ok(fast > 200, `the fast path was taken ${fast} times`);
    // too deep for the route: refused by parseDecideBody, not taken by the shortcut
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < MAX_DEPTH + 2; i++) deep = { a: deep };
    assert.equal(plainBody({ input: deep }), null);
    const refused = parseDecideBody({ input: deep });
    assert.ok(!refused.ok && refused.code === 'too_deep');
    for (const raw of [null, undefined, 'x', 3, [{ input: {} }]]) assert.equal(plainBody(raw), null);
  });

  it('tooDeep agrees with the iterative walk around the limit, and a very deep body does not overflow the stack', () => {
    const r = rng(7);
    for (let i = 0; i < 400; i++) {
      const v = nested(r, MAX_DEPTH - 4 + Math.floor(r() * 8));
      assert.equal(tooDeep(v), tooDeepIterative(v, MAX_DEPTH), `case ${i}`);
      assert.equal(tooDeep(v, 10), tooDeepIterative(v, 10), `case ${i}, max 10`);
    }
    const text = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    assert.equal(tooDeep(JSON.parse(text)), true);
    assert.equal(tooDeep([[[]]], 3), false);
    assert.equal(tooDeep([[[[]]]], 3), true);
  });

  describe('a synchronous store (no promise) and one the engine awaits answer the same', () => {
    /** A memory store whose `reserve` is its own: it declares no synchronous twin, so the engine awaits it. */
    class AwaitedStore extends MemoryBudgetStore {
      override async reserve(req: ReserveRequest): Promise<ReserveResult> {
        return this.reserveSync(req);
      }
    }
    let sync: Served;
    let awaited: Served;
    before(async () => {
      sync = await serve({ clientTime: true });
      awaited = await serve({ store: new AwaitedStore(), clientTime: true });
    });
    after(async () => {
      await sync?.close();
      await awaited?.close();
    });

    const tool = (t: string, extra: Record<string, unknown> = {}) => ({ agent: { id: 'a1', team: 'x' }, action: { kind: 'tool_call', tool: t, ...extra } });
    /** Fields that differ between two servers by construction (ids, clocks). */
    const normal = (b: Record<string, unknown>) => {
      const o = { ...b };
      if (o.reservation) o.reservation = { id: typeof (o.reservation as { id: unknown }).id, expires: typeof (o.reservation as { expires: unknown }).expires };
      if (typeof o.time === 'string') o.time = 'T';
      return o;
    };

    it('the two servers take the two paths', () => {
      assert.equal(sync.ctx.policy!.current!.synchronous, true);
      assert.equal(awaited.ctx.policy!.current!.synchronous, false);
    });

    it('240 decisions: allows up to the ceiling then denies, deny and approval rules, invalid input, explain, now, approvals', async () => {
      const r = rng(3);
      for (let i = 0; i < 240; i++) {
        const team = `team${i % 7}`;
        const bodies: unknown[] = [
          { input: model(team, pick(r, ['0.05', '0.20', '0.45'])) },
          { input: model(team, '0.10'), now: '2026-11-24T10:00:00Z' },
          { input: tool('db.drop') },
          { input: tool('transfer', { amount: '250.00' }) },
          { input: tool('transfer', { amount: '250.00' }), approvals: [{ rule: 'large_transfer', request_hash: 'sha256:00' }] },
          { input: { agent: { id: 1 } } },
          { input: tool('search'), explain: true },
          { input: model(team, '0.01'), extra: true },
        ];
        const b = pick(r, bodies);
        const [x, y] = await Promise.all([call(sync.url, '/v1/decide', { body: b }), call(awaited.url, '/v1/decide', { body: b })]);
        assert.equal(x.status, y.status, JSON.stringify(b));
        assert.deepEqual(normal(x.body), normal(y.body), JSON.stringify(b));
        assert.equal(x.headers.get('rein-policy-hash'), y.headers.get('rein-policy-hash'));
      }
    });

    it('a reservation made on the synchronous path settles (it was tracked)', async () => {
      const d = await call(sync.url, '/v1/decide', { body: { input: model('settle-team', '0.30') } });
      assert.equal(d.body.effect, 'allow');
      const st = await call(sync.url, '/v1/settle', { body: { reservation: d.body.reservation.id, usage: { cost: { estimate: '0.10' } } } });
      assert.equal(st.status, 200, st.text);
    });
  });
});
