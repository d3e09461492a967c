// Untyped values (`any`, `map<any>`) where money is needed (regression, session 11 review R4): a
// number read from JSON as sent (the request, a data document) is in currency units wherever it
// becomes money, as the docs say (evaluation.md "Null", budgets.md "Types") — not only in a direct
// comparison and a limit. It was taken as micros in a budget `charge` (`charge args.c ?? $0` with
// `"c": 600` charged $0.0006: every ceiling charged from `rein mcp`'s `arguments` let through a
// million times its limit), `min`/`max`, `+`/`-`, `in`/`contains`, `if`, `.sum()` and lets. A number
// whose unit lowering cannot tell (a def parameter typed `any`) fails the rule. Both backends.
//
// Also R1 (`.sum()` skipped a non-number, `len()` of a number was a silent null) and R7
// (`hour()`/`weekday()` of a string was a silent null): rule errors now.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';

const SRC = `policy p { default allow }
input { user: string, args: map<any> }
let blocked = [$500]
let held: any = $500
let amount = args.c ?? $0
def over(x: any) = x > $100
def over_money(x: money) = x > $100
rule min_deny { when min(args.m ?? $0, $1000) > $100 deny "min" }
rule max_deny { when max(args.x, $0) > $100 deny "max" }
rule plus { when (args.p ?? $0) + $1 > $100 deny "plus" }
rule minus { when $1000 - (args.p2 ?? 0) < $900 deny "minus" }
rule in_list { when args.i in blocked deny "in" }
rule in_literal { when args.i2 in [$500] deny "in literal" }
rule contains { when [$500].contains(args.k) deny "contains" }
rule in_any_list { when $500 in args.l deny "in any list" }
rule any_list_contains { when args.l2.contains($500) deny "any list contains" }
rule sum { when args.s.sum(x => x) > $100 deny "sum" }
rule sum_mixed { when args.items.sum(i => i.cost ?? $0) > $100 deny "sum mixed" }
rule iff { when (if args.f == null then $0 else args.f) > $100 deny "if" }
rule let_mixed { when amount > $100 deny "let" }
rule times { when (args.t ?? $0) * 2 > $100 deny "times" }
rule factor { when $5 * (args.qty ?? 0) > $100 deny "factor" }
rule held_eq { when args.h == held deny "held" }
rule held_twice { when held * 2 == args.h2 deny "held twice" }
rule via_money_param { when over_money(args.d) deny "money param" }
rule via_any_param { when over(args.a) deny "any param" }
`;

const BUDGETS = `policy p { default allow }
input { user: string, args: map<any> }
rule show { warn "plus=\${(args.w ?? $0) + $1}" when args.w != null }
budget b1 { limit $1000 per day  charge args.c ?? $0  by user }
budget b2 { limit $1000 per day  charge max(args.c, $0.01)  by user }
budget b3 { limit $1000 per day  charge (args.c ?? $0) + $0  by user }
`;

type Row = [args: Record<string, unknown>, deny: string[], error?: RegExp];
const ROWS: Row[] = [
  [{ m: 500 }, ['min_deny']],
  [{ m: 50 }, []],
  [{ x: 500 }, ['max_deny']],
  [{ x: 50 }, []],
  [{ p: 100 }, ['plus']],
  [{ p: 99 }, []],
  [{ p2: 101 }, ['minus']],
  [{ p2: 100 }, []],
  [{ i: 500 }, ['in_list']],
  [{ i: 500000000 }, []],
  [{ i2: 500 }, ['in_literal']],
  [{ k: 500 }, ['contains']],
  [{ k: 0.0005 }, []],
  [{ l: [1, 500] }, ['in_any_list']],
  [{ l: [500000000] }, []],
  [{ l2: ['x', 500] }, ['any_list_contains']],
  [{ s: [60, 50] }, ['sum']],
  [{ s: [60, null, 30] }, []],
  [{ items: [{ cost: 60 }, {}, { cost: 50 }] }, ['sum_mixed']],
  [{ items: [{ cost: 60 }, {}] }, []],
  [{ f: 500 }, ['iff']],
  [{ f: 50 }, []],
  [{ c: 101 }, ['let_mixed']],
  [{ c: 100 }, []],
  [{ t: 60 }, ['times']],
  [{ t: 40 }, []],
  // a plain factor stays a factor: $5 × 30 = $150
  [{ qty: 30 }, ['factor']],
  [{ qty: 20 }, []],
  [{ h: 500 }, ['held_eq']],
  [{ h: 500000000 }, []],
  [{ h2: 1000 }, ['held_twice']],
  [{ h2: 1000000000 }, []],
  [{ d: 500 }, ['via_money_param']],
  [{ d: 50 }, []],
  // an `any` parameter whose every caller passes JSON: units
  [{ a: 500 }, ['via_any_param']],
  [{ a: 50 }, []],
  [{ a: null }, []],
  // strings still fail closed
  [{ m: '500' }, ['min_deny'], /ordering needs two numbers or two strings/],
];

function decisions(codegen: boolean, explain: boolean): void {
  const p = compile({ 'p.rein': SRC }, { codegen });
  for (const [args, deny, error] of ROWS) {
    const d = p.evaluate({ user: 'u', args }, explain ? { explain: true } : undefined);
    const what = JSON.stringify(args);
    assert.deepEqual(d.reasons.filter((r) => r.effect === 'deny').map((r) => r.name), deny, what);
    if (error) assert.match(d.errors.map((e) => e.message).join('\n'), error, what);
    else assert.deepEqual(d.errors, [], what);
    assert.equal(d.effect, deny.length > 0 ? 'deny' : 'allow', what);
  }
}

describe('untyped numbers where money is needed are currency units (regression, review R4)', () => {
  for (const codegen of [true, false]) {
    for (const explain of [false, true]) {
      it(`${codegen ? 'generated code' : 'closures'}${explain ? ', explained' : ''}: min/max, + and -, in and contains, sum, if, lets, parameters`, () => decisions(codegen, explain));
    }

    it(`${codegen ? 'generated code' : 'closures'}: a budget charged from untyped data charges currency units; a message renders money`, async () => {
      const e = new Engine(compile({ 'p.rein': BUDGETS }, { codegen }));
      const d = JSON.parse(JSON.stringify(await e.decide({ user: 'u', args: { c: 600, w: 5 } }))) as {
        effect: string;
        budgets: { name: string; charge: string }[];
        warnings: { message: string }[];
      };
      assert.deepEqual(
        d.budgets.map((b) => [b.name, b.charge]),
        [
          ['b1', '600.000000'],
          ['b2', '600.000000'],
          ['b3', '600.000000'],
        ],
      );
      assert.deepEqual(
        d.warnings.map((w) => w.message),
        ['plus=$6.00'],
      );
      // $600 + $600 > $1000: the second request is over every ceiling
      const again = JSON.parse(JSON.stringify(await e.decide({ user: 'u', args: { c: 600 } }))) as { effect: string; budgets: { name: string; exceeded: boolean }[] };
      assert.equal(again.effect, 'deny');
      assert.deepEqual(
        again.budgets.map((b) => b.exceeded),
        [true, true, true],
      );
      // a string amount fails the budget (its `on error`), as before
      const bad = await new Engine(compile({ 'p.rein': BUDGETS }, { codegen })).decide({ user: 'u', args: { c: '600' } });
      assert.equal(bad.effect, 'deny');
      assert.ok(bad.errors.length > 0);
    });

    it(`${codegen ? 'generated code' : 'closures'}: an untyped number that is not a whole number of micros fails the budget and the rule, never rounds (regression, session 13 review L1)`, async () => {
      // `"c": 0.0000004` was rounded half to even to a charge of $0: an agent controlling the amount
      // could make every call free; the same amount in a \`money\` field is invalid input.
      for (const c of [0.0000004, 0.0000009, 1.0000005, 2.5e-7]) {
        const d = JSON.parse(JSON.stringify(await new Engine(compile({ 'p.rein': BUDGETS }, { codegen })).decide({ user: 'u', args: { c } }))) as {
          effect: string;
          errors: { kind: string; name: string; message: string }[];
        };
        assert.equal(d.effect, 'deny', String(c));
        assert.deepEqual(
          d.errors.map((e) => [e.kind, e.name]),
          [
            ['budget', 'b1'],
            ['budget', 'b2'],
            ['budget', 'b3'],
          ],
          String(c),
        );
        assert.match(d.errors[0].message, /is not an amount of money: more than 6 fractional digits/, String(c));
      }
      // six digits and fewer are exact, as before
      for (const [c, charge] of [
        [0.000001, '0.000001'],
        [0.1, '0.100000'],
        [1.000005, '1.000005'],
        [1e-6, '0.000001'],
      ] as const) {
        const d = JSON.parse(JSON.stringify(await new Engine(compile({ 'p.rein': BUDGETS }, { codegen })).decide({ user: 'u', args: { c } }))) as { effect: string; budgets: { charge: string }[] };
        assert.equal(d.effect, 'allow', String(c));
        assert.equal(d.budgets[0].charge, charge, String(c));
      }
      // in a rule: a rule error (fail closed), not a comparison with a rounded amount
      const r = compile({ 'p.rein': SRC }, { codegen }).evaluate({ user: 'u', args: { c: 100.0000001 } });
      assert.deepEqual(r.reasons.map((x) => [x.name, x.effect]), [['let_mixed', 'deny']]);
      assert.match(r.errors.map((e) => e.message).join('\n'), /`100\.0000001` is not an amount of money/);
    });

    it(`${codegen ? 'generated code' : 'closures'}: a def parameter typed \`any\` takes its unit from its callers; callers that differ fail the rule`, () => {
      const src = `policy p { default allow }
input { args: map<any> }
def over(x: any) = x > $100
def only_money(x: any) = x > $100
def cost(a: any) = a.cost
rule from_request { when over(args.g) deny "request" }
rule from_money { when args.lit == true and over($500) deny "money" }
rule literal_only { when args.lit2 == true and only_money($500) deny "literal" }
rule result { when cost(args) > $100 deny "result" }
`;
      const p = compile({ 'p.rein': src }, { codegen });
      const run = (args: Record<string, unknown>) => {
        const d = p.evaluate({ args });
        return [d.reasons.filter((r) => r.effect === 'deny').map((r) => r.name), d.errors.map((e) => e.message).join('\n')];
      };
      // `over` is called with JSON and with money: its parameter's unit is unknown, a number fails
      assert.deepEqual(run({ g: 500 }), [['from_request'], 'a number of unknown unit (an untyped value) is used as money at p.rein:3:20: give it a type (`money`), or read it straight from the request']);
      assert.deepEqual(run({ lit: true })[0], ['from_money']);
      assert.match(run({ lit: true })[1] as string, /unknown unit/);
      assert.deepEqual(run({ g: null }), [[], '']);
      // every caller passes money: micros, as before
      assert.deepEqual(run({ lit2: true }), [['literal_only'], '']);
      // a def's result read from JSON: units
      assert.deepEqual(run({ cost: 500 }), [['result'], '']);
      assert.deepEqual(run({ cost: 50 }), [[], '']);
    });

    it(`${codegen ? 'generated code' : 'closures'}: a limit from an untyped data document is in currency units, as one from the request`, async () => {
      const src = 'policy p { default allow }\ninput { team: string, cost: money }\ndata caps: map<any> from "caps.json"\nbudget b {\n  limit caps[team] ?? $50 per day\n  charge cost\n  by team\n}\n';
      const p = compile({ 'p.rein': src }, { codegen, data: { 'caps.json': '{"a": 5}' } });
      const limit = async (team: string) => (JSON.parse(JSON.stringify(await new Engine(p).decide({ team, cost: '1' }))) as { budgets: { limit: string }[] }).budgets[0].limit;
      assert.equal(await limit('a'), '5.000000');
      assert.equal(await limit('b'), '50.000000');
    });
  }
});

describe('`.sum()`, `len()`, `hour()` and `weekday()` of a wrong-shaped `any` value fail the rule (regression, review R1, R7)', () => {
  const SRC2 = `policy p { default allow }
input { args: map<any>, items: list<map<any>> }
rule big_total { when items.sum(i => i.amount) > 1000 deny "total" }
rule big_sum { when args.amounts.sum() > 1000 deny "sum" }
rule long { when len(args.v) > 3 deny "len" }
rule off_hours { when hour(args.t) < 9 or hour(args.t) >= 17 deny "off hours" }
rule weekend { when weekday(args.u) >= 6 deny "weekend" }
`;
  type Row2 = [input: Record<string, unknown>, deny: string[], error?: RegExp];
  const ROWS2: Row2[] = [
    [{ items: [{ amount: '5000' }, { amount: 1 }] }, ['big_total'], /`\.sum\(\)` needs numbers, got string at p\.rein:3:/],
    [{ items: [{ amount: true }] }, ['big_total'], /needs numbers, got bool/],
    [{ items: [{ amount: 600 }, { amount: 500 }] }, ['big_total']],
    // null is skipped (an absent amount), as documented
    [{ items: [{ amount: 600 }, {}, { amount: null }] }, []],
    [{ args: { amounts: [5, true, 100] } }, ['big_sum'], /needs numbers, got bool/],
    [{ args: { amounts: [5, [7]] } }, ['big_sum'], /needs numbers, got list/],
    [{ args: { amounts: [5000, null] } }, ['big_sum']],
    [{ args: { v: 99999 } }, ['long'], /`len` needs a string, a list or a map, got number/],
    [{ args: { v: false } }, ['long'], /got bool/],
    [{ args: { v: 'abcd' } }, ['long']],
    [{ args: { v: null } }, []],
    // RFC 3339 text is not parsed: a rule error, never a silent null that lets "off hours" through
    [{ args: { t: '2026-01-03T20:00:00Z' } }, ['off_hours'], /`hour` needs a time, got string/],
    [{ args: { t: true } }, ['off_hours'], /got bool/],
    [{ args: { t: Date.parse('2026-01-03T20:00:00Z') } }, ['off_hours']],
    [{ args: { t: Date.parse('2026-01-05T10:00:00Z') } }, []],
    [{ args: { t: null } }, []],
    [{ args: { u: '2026-01-03T20:00:00Z' } }, ['weekend'], /`weekday` needs a time, got string/],
    [{ args: { u: [1] } }, ['weekend'], /got list/],
    [{ args: { u: Date.parse('2026-01-03T20:00:00Z') } }, ['weekend']],
  ];
  for (const codegen of [true, false]) {
    it(`${codegen ? 'generated code' : 'closures'}: a rule error (the on error effect), null keeps its meaning`, () => {
      const p = compile({ 'p.rein': SRC2 }, { codegen });
      for (const [input, deny, error] of ROWS2) {
        const d = p.evaluate({ args: {}, items: [], ...input });
        const what = JSON.stringify(input);
        assert.deepEqual(d.reasons.filter((r) => r.effect === 'deny').map((r) => r.name), deny, what);
        if (error) assert.match(d.errors.map((e) => e.message).join('\n'), error, what);
        else assert.deepEqual(d.errors, [], what);
      }
    });
  }
});
