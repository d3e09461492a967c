// The decide route's one-pass decision serializer (language/node/serve/decision-json.ts) writes
// exactly what JSON.stringify writes: on generated decisions of a policy with every kind of entry
// (rules of each effect, @monitor, redact, money and count budgets, approvals granted and asked,
// errors, explain, monitor mode, rules-only evaluate), with odd strings in every field the request
// reaches, and on decisions changed after assembly (fields of other types, extra or reordered
// fields, shared objects changed in place) — which it must hand to JSON.stringify.
import assert from 'node:assert/strict';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Decision } from '../../language/runtime/decision.js';
import { decisionJson, decisionJsonText } from '../../language/node/serve/decision-json.js';
import { rng, type Rng } from '../helpers/prng.js';
import { call, model, serve } from './helpers.js';

const SOURCE = `policy json_shapes {
  version "2.0.0"
  default deny
  on error deny
  currency "USD"
}
input {
  kind?: string
  name?: string
  team?: string
  n?: number
  cost?: money
  text?: string
}
@owner("sec")
rule allow_known {
  when kind == "ok" or kind == "mask" or kind == "warn"
  allow "ok \${name}"
}
rule block {
  when kind == "bad"
  deny "blocked \${name}"
}
rule ask {
  when kind == "ask"
  require approval from "lead" "approve \${name}"
}
rule careful {
  when kind == "warn"
  warn "careful \${name}"
}
@monitor
rule watch {
  when name == "watch me"
  deny "watched \${name}"
}
rule mask {
  when kind == "mask"
  redact text using pii.email "[email]"
}
budget spend {
  limit $5 per day
  charge cost ?? $0
  by team
  warn at 50%
  on exceed deny "over \${team}"
}
budget calls {
  limit 3 per hour
  charge 1
  by team, n
  when kind == "ok"
  on exceed require approval from "lead" "too many for \${team}"
}
`;

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Strings JSON.stringify escapes or not: quotes, backslashes, control characters, U+2028, DEL,
 *  surrogate pairs and lone surrogates, non-ASCII. */
const ODD = ['', 'a', 'watch me', 'quote"d', 'back\\slash', 'new\nline', 'tab\t', '\u0000nul', '\u001f', '\u007f', '\u2028sep', 'é ü 中', '😀 pair', 'lone \ud800', 'lone \udc00 low', '</script>', 'x'.repeat(300)];

function input(r: Rng): unknown {
  const kinds = ['ok', 'bad', 'ask', 'warn', 'mask', 'other'];
  const i: Record<string, unknown> = {};
  if (r() < 0.95) i.kind = pick(r, kinds);
  if (r() < 0.9) i.name = pick(r, ODD);
  if (r() < 0.9) i.team = r() < 0.8 ? pick(r, ODD) : pick(r, [1, 2.5, -0, true, null]);
  if (r() < 0.8) i.n = pick(r, [0, 1, -3, 1.5e300, 'n', null]);
  if (r() < 0.8) i.cost = pick(r, ['0.01', '2.50', '4', '0', 'lots', -1, 1e21]);
  if (r() < 0.4) i.text = pick(r, ['write to ann@example.com', 'none', 'a@b.co and "c"@d.org']);
  return i;
}

function engines() {
  const policy = compile({ 'p.rein': SOURCE });
  let now = Date.parse('2026-11-24T10:00:00Z');
  const clock = () => new Date(now);
  const enforce = new Engine(policy, { store: new MemoryBudgetStore(), clock });
  const monitor = new Engine(policy, { store: new MemoryBudgetStore(), clock, mode: 'monitor' });
  return { policy, enforce, monitor, tick: (ms: number) => (now += ms) };
}

function decisions(seed: number, n: number): Decision[] {
  const r = rng(seed);
  const { policy, enforce, monitor, tick } = engines();
  const out: Decision[] = [];
  for (let k = 0; k < n; k++) {
    const req = input(r);
    const explain = r() < 0.2 ? true : undefined;
    const which = Math.floor(r() * 6);
    let d: Decision;
    if (which === 0) d = monitor.decideSync(req, { explain });
    else if (which === 1) d = policy.evaluate(req, { explain });
    else {
      d = enforce.decideSync(req, { explain });
      if (which === 2 && d.effect === 'require_approval') {
        // the same request again, approved: granted reasons and approvals
        const hash = d.request_hash!;
        const approvals = [...d.approvals.map((a) => ({ rule: a.name, request_hash: hash })), { rule: 'nothing', request_hash: 'sha256:00' }];
        out.push(d);
        d = enforce.decideSync(req, { approvals, explain });
      }
    }
    if (r() < 0.7) void d.request_hash; // read first, or left to the serializer to compute
    out.push(d);
    tick(Math.floor(r() * 20 * 60_000));
  }
  return out;
}

/** decisionJson(d) is JSON.stringify(d), byte for byte (UTF-8). */
function same(d: unknown, msg?: string): void {
  const got = decisionJson(d);
  const want = JSON.stringify(d);
  assert.equal(decisionJsonText(d), want, msg);
  assert.ok(Buffer.from(got).equals(Buffer.from(want, 'utf8')), msg);
}

describe('decisionJson (the decide route\'s serializer)', () => {
  it('writes what JSON.stringify writes, on generated decisions of every kind', () => {
    const ds = decisions(20261207, 3000);
    const seen = { explain: 0, monitor: 0, transforms: 0, approvals: 0, granted: 0, errors: 0, budgets: 0, warnings: 0, monitored: 0, reservation: 0, escaped: 0 };
    for (const d of ds) {
      const want = JSON.stringify(d);
      same(d);
      if (d.explain) seen.explain++;
      if (d.mode === 'monitor') seen.monitor++;
      if (d.transforms) seen.transforms++;
      if (d.approvals.length) seen.approvals++;
      if (d.reasons.some((x) => x.approved)) seen.granted++;
      if (d.errors.length) seen.errors++;
      if (d.budgets.length) seen.budgets++;
      if (d.warnings.length) seen.warnings++;
      if (d.monitored.length) seen.monitored++;
      if (d.reservation) seen.reservation++;
      if (/\\u|\\"|\\n/.test(want)) seen.escaped++;
    }
    // the generator reaches every shape
    for (const [k, v] of Object.entries(seen)) assert.ok(v >= 10, `${k}: ${v}`);
  });

  it('hands decisions changed after assembly to JSON.stringify (same text)', () => {
    const r = rng(7);
    const ds = decisions(11, 600).filter((d) => d.budgets.length > 0 && d.reservation);
    assert.ok(ds.length > 50, `${ds.length}`);
    const changes: ((d: Decision) => void)[] = [
      (d) => ((d.budgets[0] as unknown as Record<string, unknown>).extra = 1),
      (d) => {
        const b = d.budgets[0] as unknown as Record<string, unknown>;
        const name = b.name;
        delete b.name;
        b.name = name; // same fields, another order
      },
      (d) => (d.budgets[0]!.key = [{ a: 1 }, undefined, NaN, -0, 'k"', () => 1]),
      (d) => (d.budgets[0]!.key = [Infinity, 1e21, 5e-324, -0]),
      (d) => (d.budgets[0]!.spent = NaN),
      (d) => (d.budgets[0]!.remaining = undefined as never),
      (d) => (d.budgets[0]!.limit = { toJSON: () => 'L' } as never),
      (d) => (d.budgets[0]!.exceeded = 'no' as never),
      (d) => (d.budgets[0]!.window = { end: 'e', start: 's' }),
      (d) => (d.budgets[0]!.window = Object.assign({ start: 's', end: 'e' }, { more: true })),
      (d) => {
        // a window changed in place after it was written once (the engine's are frozen)
        const w = { start: 'a', end: 'b' };
        d.budgets[0]!.window = w;
        same(d);
        w.start = 'changed "in place"';
      },
      (d) => (d.budgets[0] = Object.assign(Object.create({ inherited: 1 }), d.budgets[0])),
      (d) => (d.budgets[0] = null as never),
      (d) => ((d.reservation as unknown as Record<string, unknown>).note = 'x'),
      (d) => (d.reservation = { expires: 'e', id: 'i' }),
      (d) => (d.reservation = undefined as never),
      (d) => (d.reservation = { id: 1 as never, expires: 'e' }),
      (d) => d.reasons.push(undefined as never, (() => 1) as never, Object.freeze({ kind: 'rule', effect: 'deny', message: null, annotations: Object.freeze({ a: 'b' }) }) as never),
      (d) => d.reasons.push(Object.freeze({ kind: 'rule', effect: 'deny', get message() { return 'getter'; } }) as never),
      (d) => (d.warnings = 'not a list' as never),
      (d) => (d.effect = undefined as never),
      (d) => (d.time = 0 as never),
      (d) => (d.request_hash = 'sha256:"odd"\u2028'),
      (d) => (d.request_hash = null),
      (d) => (d.policy = { hash: 'h', name: 'n', version: null }),
      (d) => (d.policy = Object.freeze({ name: 'n', version: 'v', hash: 'h', extra: Object.freeze({ deep: 1 }) }) as never),
      (d) => (d.would_effect = (() => 'deny') as never),
      (d) => (d.externs = [{ name: 'f', args: [1n.toString(), undefined], value: new Date(0) }]),
      (d) => ((d as unknown as Record<string, unknown>).toJSON = () => ({ own: true })),
      (d) => ((d as unknown as Record<string, unknown>).unlisted = 'ignored by toJSON'),
      // a value whose toJSON serializes another decision while this one is being written
      (d) => (d.externs = [{ name: 'f', args: [], value: { toJSON: () => JSON.parse(decisionJsonText(inner)) } }]),
    ];
    const inner = decisions(12, 1)[0];
    let k = 0;
    for (const d of ds) {
      const change = changes[k++ % changes.length];
      change(d);
      if (r() < 0.3) {
        try {
          pick(r, changes)(d); // a second change (it may not apply to what the first left)
        } catch (e) {
          if (!(e instanceof TypeError)) throw e;
        }
      }
      same(d, `change ${(k - 1) % changes.length}`);
    }
    // a window object shared by decisions, changed in place between two of them
    const [a, b] = decisions(3, 40).filter((d) => d.budgets.length > 0 && d.budgets[0]!.window);
    assert.ok(Object.isFrozen(a.budgets[0]!.window), 'the engine shares frozen windows');
    const w = { start: 's', end: 'e' };
    a.budgets[0]!.window = b.budgets[0]!.window = w;
    same(a);
    w.end = 'moved';
    same(a);
    same(b);
  });

  it('repeats remembered pieces only for the same values (shared frozen ones, or equal strings)', () => {
    // decision-json.ts copies the bytes of pieces written before (the head of a default allow, a
    // budget's name, limit and charge, the policy, time, mode) when an answer has the same values:
    // a value changed in place, or another value in the same place, must be written anew.
    const ds = decisions(31, 200).filter((d) => d.budgets.length > 0);
    assert.ok(ds.length > 50, `${ds.length}`);
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i];
      same(d);
      switch (i % 6) {
        case 0: {
          // a reason of its own (not frozen), changed in place between two answers
          const r = { ...d.reasons[0]!, message: 'mine' };
          d.reasons = [r];
          d.approvals = [];
          d.warnings = [];
          d.monitored = [];
          same(d);
          r.message = 'changed "in place"';
          same(d);
          break;
        }
        case 1: {
          // a policy of its own (not frozen), changed in place
          const p = { ...d.policy };
          d.policy = p;
          same(d);
          p.name = 'renamed';
          same(d);
          break;
        }
        case 2:
          d.budgets[0]!.name = `${d.budgets[0]!.name}\u00e9`;
          d.budgets[0]!.limit = '7.000000';
          d.budgets[0]!.charge = 3;
          same(d);
          break;
        case 3:
          // the mode alone, then the rest
          d.mode = d.mode === 'enforce' ? 'monitor' : 'enforce';
          same(d);
          d.mode = d.mode === 'enforce' ? 'monitor' : 'enforce';
          same(d);
          d.effect = d.effect === 'allow' ? 'deny' : 'allow';
          d.mode = d.mode === 'enforce' ? 'monitor' : 'enforce';
          d.time = '2026-01-01T00:00:00.000Z';
          if (d.reservation) d.reservation = { id: d.reservation.id, expires: `${d.reservation.expires}\u2028` };
          same(d);
          break;
      }
    }
  });

  it('leaves every answer intact while later ones are written (answers share a slab)', () => {
    // Answers are views into a slab the next answers are written to: kept all together (as
    // sockets keep what they could not send yet), each must still be its decision's JSON — across
    // slab boundaries, an answer larger than a slab, and a throw halfway through an answer.
    const ds = decisions(99, 400);
    const big = decisions(98, 1)[0];
    big.budgets[0] = { ...big.budgets[0]!, key: ['x'.repeat(40_000), 'é'.repeat(30_000)] } as never; // larger than any slab
    const throwing = decisions(97, 1)[0];
    throwing.externs = [{ name: 'f', args: [], value: { toJSON: () => 1n } }] as never;
    const answers: { d: unknown; got: string | Buffer }[] = [];
    for (let i = 0; i < ds.length; i++) {
      answers.push({ d: ds[i], got: decisionJson(ds[i]) });
      if (i === 100 || i === 250) answers.push({ d: big, got: decisionJson(big) });
      if (i % 50 === 7) assert.throws(() => decisionJson(throwing), TypeError);
    }
    assert.ok(answers.filter((a) => Buffer.isBuffer(a.got)).length >= 350);
    for (const { d, got } of answers) assert.ok(Buffer.from(got).equals(Buffer.from(JSON.stringify(d), 'utf8')), JSON.stringify(d).slice(0, 200));
  });

  it('writes other values as JSON.stringify does, and throws where it throws', () => {
    for (const v of [{ a: 1 }, [1, 'x'], 'str', 3, null, { effect: 'allow', reasons: [] }, { toJSON: () => 'x' }]) same(v);
    const [d] = decisions(5, 1);
    d.budgets.push({ key: [1n] } as never);
    assert.throws(() => JSON.stringify(d), TypeError);
    assert.throws(() => decisionJson(d), TypeError);
  });

  it('is what POST /v1/decide and /v1/evaluate answer (and their errors stay JSON)', async () => {
    const s = await serve();
    try {
      const res = await call(s.url, '/v1/decide', { body: { input: model('t"eam\u2028', '0.01') } });
      assert.equal(res.status, 200);
      assert.match(String(res.headers.get('content-type')), /^application\/json; charset=utf-8$/);
      const d = res.body as Decision;
      assert.ok(d.reservation && d.request_hash && d.budgets.length > 0, JSON.stringify(d));
      assert.ok(d.budgets.some((b) => b.key.includes('t"eam\u2028')), JSON.stringify(d.budgets));
      assert.equal(res.text, JSON.stringify(d)); // the same bytes as JSON.stringify of what it means
      const ev = await call(s.url, '/v1/evaluate', { body: { input: model('t', '0.01'), explain: true } });
      assert.equal(ev.status, 200);
      assert.match(String(ev.headers.get('content-type')), /^application\/json; charset=utf-8$/);
      assert.ok(Array.isArray((ev.body as Decision).explain));
      const bad = await call(s.url, '/v1/decide', { body: { nope: 1 } });
      assert.equal(bad.status, 400);
      assert.match(String(bad.headers.get('content-type')), /^application\/json; charset=utf-8$/);
      assert.equal((bad.body as { error: { code: string } }).error.code, 'invalid_body');
    } finally {
      await s.close();
    }
  });
});
