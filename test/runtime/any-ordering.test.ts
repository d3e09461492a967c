// Ordering on `any` values (regression, session 9 review R3): `(args.amount ?? 0) > 1000` with
// `"amount": "5000"` was silently false, so the rule never matched and the call was allowed (fail
// open). Ordering two values that are neither two numbers nor two strings is now a rule error (the
// `on error` effect), as arithmetic on a wrong `any` already was; `null` still compares false. And a
// number read from untyped request data beside money is in currency units (`(args.m ?? $0) > $100`
// with 500 is $500), scaled exactly as a money limit from such data is.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';

const SRC = `policy p { default allow }
input { args: map<any>, limit?: any }
rule big { when (args.a ?? 0) > 100 deny "big" }
rule small { when args.b < 10 deny "small" }
rule money { when (args.m ?? $0) > $100 deny "money" }
rule exact { when args.e == $1.10 deny "exact" }
rule both_any { when args.x >= args.y deny "both" }
`;

type Row = [args: Record<string, unknown>, effect: string, reasons: string[], error?: RegExp];
const ROWS: Row[] = [
  [{ a: 500 }, 'deny', ['big']],
  [{ a: 50 }, 'allow', []],
  [{ a: '500' }, 'deny', ['big'], /ordering needs two numbers or two strings, got string and number/],
  [{ a: true }, 'deny', ['big'], /got bool and number/],
  [{ a: [1] }, 'deny', ['big'], /got list and number/],
  [{ a: null }, 'allow', []],
  [{}, 'allow', []],
  [{ b: '3' }, 'deny', ['small'], /got string and number/],
  [{ b: 3 }, 'deny', ['small']],
  [{ m: 500 }, 'deny', ['money']],
  [{ m: 50 }, 'allow', []],
  [{ m: 100.000001 }, 'deny', ['money']],
  [{ m: '500' }, 'deny', ['money'], /got string and number/],
  [{ e: 1.1 }, 'deny', ['exact']],
  [{ x: 'b', y: 'a' }, 'deny', ['both_any']],
  [{ x: 2, y: 'a' }, 'deny', ['both_any'], /got string and number/],
];

/** Each row's effect, deciding rule names (matched or failed) and error message, on one backend. */
function checkRows(src: string, rows: Row[], codegen: boolean, explain: boolean): void {
  const p = compile({ 'p.rein': src }, { codegen });
  for (const [args, effect, reasons, error] of rows) {
    const d = p.evaluate({ args }, explain ? { explain: true } : undefined);
    const what = JSON.stringify(args);
    assert.equal(d.effect, effect, what);
    assert.deepEqual(d.reasons.filter((r) => r.kind === 'rule' || r.kind === 'error').map((r) => r.name), reasons, what);
    if (error) assert.match(d.errors.map((e) => e.message).join('\n'), error, what);
    else assert.deepEqual(d.errors, [], what);
  }
}

describe('ordering on `any` values (regression: a wrong type was silently false)', () => {
  for (const codegen of [true, false]) {
    for (const explain of [false, true]) {
      it(`${codegen ? 'generated code' : 'closures'}${explain ? ', explained' : ''}: every row decides as expected`, () => checkRows(SRC, ROWS, codegen, explain));
    }
  }

  it('through Engine.decide (the fused path) as well', async () => {
    const e = new Engine(compile({ 'p.rein': SRC }));
    const d = await e.decide({ args: { a: '5000' } });
    assert.equal(d.effect, 'deny');
    assert.equal(d.errors.length, 1);
    assert.equal((await e.decide({ args: { a: 5000 } })).effect, 'deny');
    assert.equal((await e.decide({ args: { a: 5 } })).effect, 'allow');
  });
});

describe('conditions, `matches`, detectors and `from` on `any` values (regression, session 9 review R3)', () => {
  // Each was silently false (or "any group") on a value of the wrong type, so a deny or an approval
  // rule did not apply. Now: a rule error (`on error`), and `null` keeps its documented meaning.
  const SRC2 = `policy p { default allow }
input { args: map<any> }
rule flag { when args.dangerous deny "dangerous" }
rule both { when args.a and args.b deny "both" }
rule neg { when not (args.safe ?? true) deny "not safe" }
rule rm { when args.cmd matches "rm -rf" deny "rm" }
rule email { when pii.email(args.body) deny "email" }
rule iff { when if args.c then true else false deny "iff" }
rule pay { when args.pay == true require approval from args.group "pay" }
budget spend { limit 100 charge 1 when args.spend == true on exceed require approval from args.group "over" }
`;
  const ROWS2: Row[] = [
    [{}, 'allow', []],
    [{ dangerous: true }, 'deny', ['flag']],
    [{ dangerous: 'yes' }, 'deny', ['flag'], /`when` needs a bool/],
    [{ dangerous: null }, 'allow', []],
    [{ a: 1, b: true }, 'deny', ['both'], /`and` needs a bool/],
    [{ a: true, b: true }, 'deny', ['both']],
    [{ safe: 'no' }, 'deny', ['neg'], /`not` needs a bool/],
    [{ safe: false }, 'deny', ['neg']],
    [{ cmd: ['rm -rf /'] }, 'deny', ['rm'], /`matches` needs a string/],
    [{ cmd: 'rm -rf /' }, 'deny', ['rm']],
    [{ cmd: null }, 'allow', []],
    [{ body: ['a@b.com'] }, 'deny', ['email'], /`pii.email` needs a string/],
    [{ body: 'mail a@b.com' }, 'deny', ['email']],
    [{ c: 'x' }, 'deny', ['iff'], /`if` needs a bool/],
    [{ pay: true }, 'deny', ['pay'], /approver group is unknown/],
    [{ pay: true, group: 'fin' }, 'require_approval', ['pay']],
    // a group that is not a string fails the rule (session 13 review L2: was rendered, `5` → group "5")
    [{ pay: true, group: 5 }, 'deny', ['pay'], /`require approval from` needs a string, got number/],
    [{ pay: true, group: true }, 'deny', ['pay'], /needs a string, got bool/],
    [{ pay: true, group: ['ops', 'x'] }, 'deny', ['pay'], /needs a string, got list/],
    [{ pay: true, group: { g: 'ops' } }, 'deny', ['pay'], /needs a string, got map/],
  ];
  for (const codegen of [true, false]) {
    it(`${codegen ? 'generated code' : 'closures'}: every row decides as expected`, () => checkRows(SRC2, ROWS2, codegen, false));
  }

  it('a budget over its limit whose approver group comes out null fails closed; with a group it asks that group', async () => {
    const e = new Engine(compile({ 'p.rein': SRC2.replace('limit 100', 'limit 1') }));
    assert.equal((await e.decide({ args: { spend: true } })).effect, 'allow');
    const d = await e.decide({ args: { spend: true } });
    assert.equal(d.effect, 'deny', JSON.stringify(d.reasons));
    assert.match(d.errors.map((x) => x.message).join('\n'), /approver group is unknown/);
    const g = await e.decide({ args: { spend: true, group: 'fin' } });
    assert.equal(g.effect, 'require_approval');
    assert.equal(g.approvals[0]!.from, 'fin');
    // over the limit with a group that is not a string: fails closed, names the type (review L2)
    for (const group of [5, false, ['ops']]) {
      const n = await e.decide({ args: { spend: true, group } });
      assert.equal(n.effect, 'deny', JSON.stringify(group));
      assert.match(n.errors.map((x) => x.message).join('\n'), /budget `spend` approver: `require approval from` needs a string, got (number|bool|list)/);
    }
  });
});

describe('a rule that scans `string(v)` sees a value nested at any depth (regression, session 13 review L3)', () => {
  // `string()` and `${…}` cut lists and maps below 9 levels to `…`, so a credential the model nested
  // 10 deep in a tool argument passed `args.values().any(v => secrets.any(string(v)))`.
  const SRC3 = `policy p { default allow }
input { args: map<any> }
rule deep { when args.values().any(v => secrets.any(string(v))) deny "secret in args" }
rule text { when "\${args}".contains("needle") deny "needle" }
`;
  const nest = (n: number, leaf: unknown): unknown => {
    let v = leaf;
    for (let i = 0; i < n; i++) v = i % 3 === 0 ? [v] : { k: v };
    return v;
  };
  for (const codegen of [true, false]) {
    it(`${codegen ? 'generated code' : 'closures'}: 1 to 60 levels deep`, () => {
      const p = compile({ 'p.rein': SRC3 }, { codegen });
      for (const n of [1, 8, 9, 10, 30, 60]) {
        const d = p.evaluate({ args: { a: nest(n, 'AKIAIOSFODNN7EXAMPLE') } });
        assert.deepEqual(d.reasons.filter((r) => r.effect === 'deny').map((r) => r.name), ['deep'], String(n));
        const t = p.evaluate({ args: { a: nest(n, 'a needle') } });
        assert.deepEqual(t.reasons.filter((r) => r.effect === 'deny').map((r) => r.name), ['text'], String(n));
        assert.deepEqual(t.errors, []);
      }
    });
  }
});
