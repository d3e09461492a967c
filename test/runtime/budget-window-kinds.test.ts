// Rolling windows (`per rolling 1h`), token buckets (`burst 3 refill 1 per 1s`) and anchored periods
// (`per 30d anchored`): the language (parse, check, format), both backends, and the engine with the
// memory store (the Redis store runs the same store cases: test/redis/store-conformance.test.ts).

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';
import { format } from '../../language/format/format.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { rollingShape } from '../../language/runtime/windows.js';
import { runTests } from '../../language/runtime/test-runner.js';
import type { BudgetStore } from '../../language/runtime/store.js';

const HEAD = `policy windows {
  version "1"
  default allow
}

input {
  session: { id: string }
  cost: { estimate: money }
}
`;

const src = (budgets: string): Record<string, string> => ({ "p.rein": HEAD + budgets });

const BUDGETS = `
budget hourly {
  limit 10 per rolling 1h
  charge 1
  by session.id
}

budget calls {
  burst 3 refill 1 per 1s
  charge 1
  by session.id
}

budget monthly {
  limit $30 per 30d anchored
  charge cost.estimate
  by session.id
}
`;

/** Test-block cases need the budgets they name. */
const BUDGETS_FOR_DIAGS = (b: string) => (b.includes('test "') ? BUDGETS + b : b);

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const req = (id = 's1', cost = '1') => ({ session: { id }, cost: { estimate: cost } });

function engineFor(budgets: string, opts: { codegen?: boolean; store?: BudgetStore } = {}) {
  let now = T0;
  const policy = compile(src(budgets), { codegen: opts.codegen });
  const engine = new Engine(policy, { store: opts.store ?? new MemoryBudgetStore(), clock: () => new Date(now) });
  return { engine, set: (t: number) => (now = t) };
}

const diags = (budgets: string) => check(src(BUDGETS_FOR_DIAGS(budgets))).diagnostics.map((d) => ({ code: d.code, message: d.message, help: d.help }));

describe('budget window kinds: rolling windows, token buckets, anchored periods', () => {
  describe('language', () => {
    it('parses and checks all three without diagnostics, and lowers them to their windows', () => {
      assert.deepEqual(diags(BUDGETS), []);
      const p = compile(src(BUDGETS));
      const w = Object.fromEntries(p.compiled.budgets.map((b) => [b.name, b.window]));
      assert.deepEqual(w.hourly, { kind: 'rolling', ms: H });
      assert.deepEqual(w.calls, { kind: 'bucket', ms: 1000, refill: 1 });
      assert.deepEqual(w.monthly, { kind: 'anchored', ms: 30 * 24 * H });
    });

    it('calendar words give the length (`per rolling hour`, `per day anchored`); money refills are micros', () => {
      const p = compile(src(`
budget a { limit 5 per rolling hour
  charge 1 }
budget b { limit 5 per day anchored
  charge 1 }
budget c { burst $5 refill $0.50 per minute
  charge cost.estimate }
budget d { burst $5 refill 1 per minute
  charge cost.estimate }
`));
      const w = Object.fromEntries(p.compiled.budgets.map((b) => [b.name, b.window]));
      assert.deepEqual(w.a, { kind: 'rolling', ms: H });
      assert.deepEqual(w.b, { kind: 'anchored', ms: 24 * H });
      assert.deepEqual(w.c, { kind: 'bucket', ms: 60_000, refill: 500_000 });
      assert.deepEqual(w.d, { kind: 'bucket', ms: 60_000, refill: 1_000_000 }, 'a plain number on a money bucket is currency units, as for `limit`');
    });

    it('formats to the canonical spelling and is stable', () => {
      const messy = `${HEAD}
budget hourly {
  limit   10   per   rolling   1h
  charge 1
}
budget calls {
  burst 3   refill  1 per   1s
  charge 1
}
budget monthly {
  limit $30 per   30d   anchored
  charge cost.estimate
}
`;
      const out = format(messy);
      assert.match(out, /\n {2}limit 10 per rolling 1h\n/);
      assert.match(out, /\n {2}burst 3 refill 1 per 1s\n/);
      assert.match(out, /\n {2}limit \$30 per 30d anchored\n/);
      assert.equal(format(out), out);
    });

    it('rejects windows without a fixed length, mixed styles, and bad refills (REIN213/REIN207)', () => {
      const codes = (b: string) => diags(b).map((d) => `${d.code} ${d.message}`);
      assert.deepEqual(codes(`budget a {\n  limit 5 per rolling month\n  charge 1\n}`), ['REIN213 a rolling window needs a fixed length: `month` has none']);
      assert.deepEqual(codes(`budget a {\n  limit 5 per month anchored\n  charge 1\n}`), ['REIN213 an anchored period needs a fixed length: `month` has none']);
      assert.deepEqual(codes(`budget a {\n  limit 5 per rolling 1h anchored\n  charge 1\n}`), ['REIN213 a window is either `rolling` or `anchored`, not both']);
      assert.deepEqual(codes(`budget a {\n  burst 5 refill 0 per 1s\n  charge 1\n}`), ["REIN213 a token bucket's `refill` must be greater than zero"]);
      assert.deepEqual(codes(`budget a {\n  burst 5 refill 1 per request\n  charge 1\n}`), ['REIN213 a token bucket needs a fixed length: `request` has none']);
      assert.deepEqual(codes(`budget a {\n  burst 5 refill $1 per 1s\n  charge 1\n}`), ['REIN207 the `refill` is `money` but the burst is a plain number']);
      assert.match(codes(`budget a {\n  burst 5 refill session.id per 1s\n  charge 1\n}`)[0]!, /^REIN213 a budget `refill` must be a constant, but it reads the request/);
      assert.match(codes(`budget a {\n  burst 5 refill 1 per 1s\n  limit 5 per day\n  charge 1\n}`)[0]!, /^REIN213 `limit` or `burst` appears more than once/);
    });

    it('misspelt keywords get a did-you-mean', () => {
      const rolling = diags(`budget a {\n  limit 5 per rollng 1h\n  charge 1\n}`);
      assert.ok(rolling.some((d) => d.code === 'REIN101' && d.help === 'did you mean `rolling`?'), JSON.stringify(rolling));
      const refill = diags(`budget a {\n  burst 5 refil 1 per 1s\n  charge 1\n}`);
      assert.ok(refill.some((d) => d.code === 'REIN101' && d.help === 'did you mean `refill`?'), JSON.stringify(refill));
    });
  });

  describe('tests: `spent … at` sets when the spend was made', () => {
    const TESTS = `
test "spend at 09:58 still counts at 10:01 in a rolling hour" {
  given { session: { id: "s" }, cost: { estimate: $1 } }
  spent hourly = 10 at "2026-03-02T09:58:00Z"
  at "2026-03-02T10:01:00Z"
  expect deny by hourly
}
test "and no longer at 11:00" {
  given { session: { id: "s" }, cost: { estimate: $1 } }
  spent hourly = 10 at "2026-03-02T09:58:00Z"
  at "2026-03-02T11:00:00Z"
  expect allow
}
test "a bucket emptied at 10:00 has one unit back at 10:00:01" {
  given { session: { id: "s" }, cost: { estimate: $1 } }
  spent calls = 3 at "2026-03-02T10:00:00Z"
  at "2026-03-02T10:00:01Z"
  expect allow
}
test "an anchored period runs from the first spend" {
  given { session: { id: "s" }, cost: { estimate: $1 } }
  spent monthly = $29.50 at "2026-02-10T09:00:00Z"
  at "2026-03-12T08:59:59Z"
  expect deny by monthly
}
`;
    it('parses, formats, checks and runs', () => {
      const files = { 'p.rein': HEAD + BUDGETS + TESTS };
      assert.deepEqual(check(files).diagnostics, []);
      assert.match(format(HEAD + BUDGETS + TESTS.replace('= 10 at "2026-03-02T09:58:00Z"', '= 10   at   "2026-03-02T09:58:00Z"')), /\n {2}spent hourly = 10 at "2026-03-02T09:58:00Z"\n/);
      for (const codegen of [true, false]) {
        const report = runTests(compile(files, { codegen }));
        assert.deepEqual(report.results.map((r) => [r.name, r.passed, r.message ?? '']), [
          ['spend at 09:58 still counts at 10:01 in a rolling hour', true, ''],
          ['and no longer at 11:00', true, ''],
          ['a bucket emptied at 10:00 has one unit back at 10:00:01', true, ''],
          ['an anchored period runs from the first spend', true, ''],
        ]);
      }
    });

    it('`spent … at` needs an RFC 3339 time (REIN402)', () => {
      const d = diags(`test "t" {\n  given { session: { id: "s" }, cost: { estimate: $1 } }\n  spent hourly = 1 at "yesterday"\n  expect allow\n}`);
      assert.deepEqual(d.map((x) => `${x.code} ${x.message}`), ['REIN402 `spent … at` needs an RFC 3339 time such as `"2026-01-05T10:00:00Z"`, found `yesterday`']);
    });
  });

  for (const codegen of [true, false]) {
    describe(`engine (${codegen ? 'generated code' : 'closures'})`, () => {
      it('a fixed hour lets 2× the limit through around its boundary; a rolling hour never admits more than the limit in any hour', () => {
        const fixed = engineFor(`budget b {\n  limit 10 per hour\n  charge 1\n}`, { codegen });
        const rolling = engineFor(`budget b {\n  limit 10 per rolling 1h\n  charge 1\n}`, { codegen });
        const count = (e: ReturnType<typeof engineFor>) => {
          let allowed = 0;
          for (const t of [T0 + H - 60_000, T0 + H + 1]) {
            e.set(t);
            for (let i = 0; i < 10; i++) if (e.engine.decideSync(req()).effect === 'allow') allowed++;
          }
          return allowed;
        };
        assert.equal(count(fixed), 20, 'fixed: 10 in the last minute of one hour and 10 in the first of the next');
        assert.equal(count(rolling), 10, 'rolling: 10 within the same two minutes');
      });

      it('property: in every interval [t − 1h, t] the admitted charges of a rolling hour sum to at most the limit', async () => {
        const e = engineFor(`budget b {\n  limit 25 per rolling 1h\n  charge 1 + (cost.estimate > $1 ? 2 : 0)\n}`.replace('(cost.estimate > $1 ? 2 : 0)', 'if cost.estimate > $1 then 2 else 0'), { codegen });
        let seed = 7;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const admitted: { t: number; c: number }[] = [];
        let t = T0;
        for (let i = 0; i < 400; i++) {
          t += Math.floor(rnd() * 120_000);
          e.set(t);
          const big = rnd() < 0.3;
          const d = e.engine.decideSync(req('s1', big ? '2' : '0.5'));
          if (d.effect === 'allow') {
            admitted.push({ t, c: big ? 3 : 1 });
            await e.engine.settle(d, {});
          }
        }
        assert.ok(admitted.length > 50, `enough traffic admitted (${admitted.length})`);
        for (const a of admitted) {
          const sum = admitted.filter((x) => x.t >= a.t - H && x.t <= a.t).reduce((s, x) => s + x.c, 0);
          assert.ok(sum <= 25, `at ${new Date(a.t).toISOString()} the hour before holds ${sum}`);
        }
        // and the error bound: a charge stops counting less than 1h + 2 sub-buckets after it was made
        const { bucketMs } = rollingShape(H);
        e.set(t + H + 2 * bucketMs);
        assert.equal(e.engine.decideSync(req()).budgets[0]!.spent, 0);
      });

      it('the decision shows each window: rolling (the covered span), bucket (until full again), anchored (the current period)', () => {
        const e = engineFor(BUDGETS, { codegen });
        e.set(T0 + 5 * 60_000 + 30_000);
        const d1 = e.engine.decideSync(req('s1', '1'));
        assert.equal(d1.effect, 'allow');
        const by = Object.fromEntries(d1.budgets.map((b) => [b.name, b]));
        assert.deepEqual(by.hourly!.window, { start: '2026-11-24T09:05:00.000Z', end: '2026-11-24T10:06:00.000Z' });
        assert.deepEqual(by.calls!.window, { start: '2026-11-24T10:05:30.000Z', end: '2026-11-24T10:05:30.000Z' }, 'an empty bucket is full now');
        assert.deepEqual(by.monthly!.window, { start: '2026-11-24T10:05:30.000Z', end: '2026-12-24T10:05:30.000Z' }, 'no charge yet: the period the first charge opens');
        const d2 = e.engine.decideSync(req('s1', '1'));
        const by2 = Object.fromEntries(d2.budgets.map((b) => [b.name, b]));
        assert.deepEqual(by2.calls!.window, { start: '2026-11-24T10:05:30.000Z', end: '2026-11-24T10:05:31.000Z' }, 'one held unit: full again a second later');
        assert.equal(by2.calls!.remaining, 1);
        e.set(T0 + 10 * 24 * H);
        const d3 = e.engine.decideSync(req('s1', '1'));
        const m = d3.budgets.find((b) => b.name === 'monthly')!;
        assert.deepEqual(m.window, { start: '2026-11-24T10:05:30.000Z', end: '2026-12-24T10:05:30.000Z' }, 'anchored at the first charge');
        assert.equal(m.spent, '2.000000', 'two unsettled reservations expired into spent');
      });

      it('a token bucket admits its burst, then one request per refill', async () => {
        const e = engineFor(`budget calls {\n  burst 3 refill 1 per 1s\n  charge 1\n}`, { codegen });
        const effects: string[] = [];
        for (let i = 0; i < 4; i++) {
          const d = e.engine.decideSync(req());
          effects.push(d.effect);
          if (d.reservation) await e.engine.settle(d, {});
        }
        assert.deepEqual(effects, ['allow', 'allow', 'allow', 'deny']);
        e.set(T0 + 1000);
        assert.equal(e.engine.decideSync(req()).effect, 'allow');
        assert.equal(e.engine.decideSync(req()).effect, 'deny');
      });

      it('an anchored 30-day budget resets 30 days after the key\'s first charge, not at a calendar boundary', async () => {
        const e = engineFor(`budget monthly {\n  limit $30 per 30d anchored\n  charge cost.estimate\n  by session.id\n}`, { codegen });
        e.set(T0);
        const d = await e.engine.decide(req('k', '25'));
        assert.equal(d.effect, 'allow');
        await e.engine.settle(d, {});
        e.set(T0 + 29 * 24 * H);
        assert.equal((await e.engine.decide(req('k', '10'))).effect, 'deny');
        e.set(T0 + 30 * 24 * H);
        assert.equal((await e.engine.decide(req('k', '10'))).effect, 'allow');
        // another key has its own anchor
        e.set(T0 + 29 * 24 * H);
        assert.equal((await e.engine.decide(req('other', '30'))).effect, 'allow');
      });

      it('settle replaces a rolling estimate in its own sub-bucket; rules read a rolling view summed over the window', async () => {
        const e = engineFor(`budget hourly {\n  limit 10 per rolling 1h\n  charge cost.estimate > $1 ? 5 : 1\n}\nrule near {\n  when hourly.remaining <= 3\n  deny "near the hourly limit"\n}`.replace('cost.estimate > $1 ? 5 : 1', 'if cost.estimate > $1 then 5 else 1'), { codegen });
        const d = await e.engine.decide(req('s1', '2'));
        assert.equal(d.budgets[0]!.charge, 5);
        e.set(T0 + 30 * 60_000);
        await e.engine.settle(d, { cost: { estimate: '0.5' } });
        const d2 = await e.engine.decide(req('s1', '0.5'));
        assert.equal(d2.budgets[0]!.spent, 1, 'the actual (1) replaced the estimate (5)');
        const d3 = await e.engine.decide(req('s1', '2'));
        assert.equal(d3.effect, 'allow');
        e.set(T0 + 31 * 60_000);
        const d4 = await e.engine.decide(req('s1', '0.5'));
        assert.equal(d4.effect, 'deny', 'the rule sees 1 spent and 1 + 5 reserved over the window (remaining 3)');
        assert.deepEqual(d4.reasons.map((r) => (r as { name?: string }).name), ['near']);
      });

      it('explain says how each window counts', () => {
        const e = engineFor(BUDGETS, { codegen });
        const d = e.engine.decideSync(req(), { explain: true });
        const why = Object.fromEntries((d.explain_budgets ?? []).map((b) => [b.name, b.why]));
        assert.match(why.hourly!, /a rolling window of 1h, counted in sub-buckets of 1m: a charge counts for at least 1h and less than 1h2m/);
        assert.match(why.calls!, /a token bucket: the limit is its burst, and it refills 1 every 1s/);
        assert.match(why.monthly!, /periods of 30d from the key's first charge/);
      });
    });
  }

  it('a token bucket whose refill time passes the last representable time: the decision shows no window, never throws; nothing leaks (sync and async stores)', async () => {
    const src = `policy p { default allow  on error deny }\ninput { c: money }\nbudget b {\n  burst $1000 refill $0.000001 per 1d\n  charge c\n}\n`;
    class AsyncStore extends MemoryBudgetStore {
      override async reserve(r: Parameters<MemoryBudgetStore['reserve']>[0]) {
        return super.reserve(r);
      }
    }
    const now = new Date('2026-11-24T12:00:00Z');
    for (const store of [new MemoryBudgetStore(), new AsyncStore()]) {
      const eng = new Engine(compile({ 'p.rein': src }), { store, clock: () => now });
      const key = eng.counterKeyFor({ c: '1' }, 'b', now)!;
      const effects: string[] = [];
      for (const c of ['999', '0.5', '0.3']) {
        const d = await eng.decide({ c });
        effects.push(d.effect);
        // the first sees an empty bucket (full now); then $999 held takes 999e6 days to refill
        if (c !== '999') assert.equal(d.budgets[0]!.window, null, 'no window past the year 275760');
      }
      assert.deepEqual(effects, ['allow', 'allow', 'allow']);
      // each allowed charge is reserved once (none leaked, none lost): 999.8 dollars in micros
      assert.deepEqual(store.peekSync([key], now.getTime()), [{ spent: 0, reserved: 999_800_000 }]);
    }
  });

  it('rolling windows: the error bound table of docs/budgets.md (sub-bucket, how many count, when a charge stops counting)', () => {
    const doc = readFileSync(new URL('../../docs/budgets.md', import.meta.url), 'utf8');
    const rows: [string, number][] = [['1s', 1000], ['1m', 60_000], ['1h', 3_600_000], ['1d', 86_400_000], ['30d', 30 * 86_400_000]];
    for (const [name, w] of rows) {
      const { bucketMs, buckets } = rollingShape(w);
      assert.ok(bucketMs * buckets >= w && bucketMs * (buckets - 1) < w, `${name}: N sub-buckets cover the window, N − 1 do not`);
      const row = doc.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`| \`rolling ${name}\` |`) && /^\| [^|]+ \| [\d.]+ (ms|s|min|h) \|/.test(l));
      assert.ok(row, `docs/budgets.md has a row for rolling ${name}`);
      const cells = row.split('|').map((c) => c.trim());
      const ms = (t: string) => Number(/^([\d.]+) (ms|s|min|h)$/.exec(t)![1]) * { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[/ (ms|s|min|h)$/.exec(t)![1] as 'ms'];
      assert.equal(ms(cells[2]!), bucketMs, `${name}: the sub-bucket`);
      assert.match(cells[3]!, new RegExp(`^${buckets + 1}\\b`), `${name}: sub-buckets counted`);
    }
  });

  it('the memory store forgets a token bucket once it is full again, nothing is pending and no late settle can reach it (gc)', () => {
    const store = new MemoryBudgetStore({ settleGraceMs: 1500 });
    const mode = { kind: 'bucket' as const, refill: 1, everyMs: 1000 };
    store.addSpentSync('b:k', 2, null, T0, mode);
    store.gc(T0 + 1000);
    assert.deepEqual(store.inspect(T0 + 1000).counters['b:k'], { spent: 1, reserved: 0, pending: 0 }, 'still draining: kept');
    store.gc(T0 + 2000);
    assert.equal(store.inspect(T0 + 2000).counters['b:k'], undefined, 'full: forgotten');
    assert.deepEqual(store.peekSync(['b:k'], T0 + 2000), [{ spent: 0, reserved: 0 }], 'and reads as full');
    const longer = new MemoryBudgetStore({ settleGraceMs: 5000 });
    longer.addSpentSync('b:k', 2, null, T0, mode);
    longer.gc(T0 + 2000);
    assert.deepEqual(longer.inspect(T0 + 2000).counters['b:k'], { spent: 0, reserved: 0, pending: 0 }, 'full, but within the settle grace: kept');
    longer.gc(T0 + 5000);
    assert.equal(longer.inspect(T0 + 5000).counters['b:k'], undefined, 'then forgotten');
  });

  it('the memory store forgets an anchored counter one period + reservation TTL + settle grace after its last write, as Redis expires it', () => {
    const grace = 3_600_000;
    const store = new MemoryBudgetStore({ settleGraceMs: grace });
    const mode = { kind: 'anchored' as const, periodMs: 30 * 86_400_000 };
    const ttl = 15 * 60_000;
    const item = (charge: number) => ({ counterKey: 'a:k', limit: 100, charge, expiresAt: null, enforce: true, mode });
    const r = store.reserveSync({ reservationId: 'r1', now: T0, ttlMs: ttl, commit: true, items: [item(10)] });
    assert.equal(r.committed, true);
    store.settleSync('r1', [{ counterKey: 'a:k', amount: 10 }], T0 + 1);
    const last = T0 + 40 * 86_400_000; // in the second period: the anchor is kept and moves the dropping on
    store.addSpentSync('a:k', 1, null, last, mode);
    assert.deepEqual(store.peekSync(['a:k'], last), [{ spent: 1, reserved: 0, start: T0 + mode.periodMs }]);
    const drop = last + grace + mode.periodMs; // addSpent has no reservation TTL
    store.gc(drop - 1);
    assert.deepEqual(store.peekSync(['a:k'], drop - 1), [{ spent: 0, reserved: 0, start: T0 + 2 * mode.periodMs }], 'kept until then (a new period, nothing spent)');
    store.gc(drop);
    assert.equal(store.inspect(drop).counters['a:k'], undefined, 'then forgotten');
    const again = store.reserveSync({ reservationId: 'r2', now: drop + 5, ttlMs: ttl, commit: true, items: [item(3)] });
    assert.deepEqual(again.items, [{ spent: 0, reserved: 0, exceeded: false }], 'the next charge anchors a new period');
    assert.deepEqual(store.peekSync(['a:k'], drop + 6), [{ spent: 0, reserved: 3, start: drop + 5 }]);
  });

  it('a store that does not list a window kind fails those budgets closed, with an error that names it', async () => {
    const mem = new MemoryBudgetStore();
    // a store like a third party's: the same operations, no `windowKinds`
    const plain: BudgetStore = {
      reserve: (r) => mem.reserve(r),
      peek: (k, n) => mem.peek(k, n),
      settle: (i, a, n) => mem.settle(i, a, n),
      release: (i, n) => mem.release(i, n),
      addSpent: (k, a, x, n) => mem.addSpent(k, a, x, n),
    };
    const e = engineFor(BUDGETS, { store: plain });
    const d = await e.engine.decide(req());
    assert.equal(d.effect, 'deny');
    const errs = d.errors.filter((x) => x.kind === 'budget').map((x) => x.message);
    assert.deepEqual(errs.map((m) => m.replace(/^.*?: /, '')), [
      'the budget store does not implement rolling windows (its `windowKinds` does not list `rolling`)',
      'the budget store does not implement token buckets (its `windowKinds` does not list `bucket`)',
      'the budget store does not implement anchored periods (its `windowKinds` does not list `anchored`)',
    ]);
    assert.equal(d.reservation, null);
  });
});
