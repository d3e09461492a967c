// `rein test`: money written in a test's `given` (or `data NAME = …`) where the schema says `any`
// (also inside `map<any>`) reaches the policy as untyped JSON does — a number in currency units
// (the R4 rule) — so `$50` there means 50 dollars. Regression (session 11's leftover): it was the
// string "50.000000", and every rule comparing it failed (`deny by on error`).
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { runTests } from '../../language/runtime/test-runner.js';

const SRC = `policy p { default allow }
input { tool: string, arguments: map<any>, extra: any, cost: money }
data caps: map<any> from "caps.json"
rule big {
  when (arguments.amount ?? $0) > $10
  deny "too big"
}
rule big_extra {
  when (extra ?? $0) > $10
  deny "extra too big"
}
rule over_cap {
  when cost > (caps[tool] ?? $1000)
  deny "over the tool's cap"
}
budget spend {
  limit $100 per day
  charge arguments.amount ?? $0
}
test "money in map<any>" {
  given { tool: "pay", arguments: { amount: $50 }, extra: null, cost: $0 }
  expect deny by big
}
test "small money in map<any>" {
  given { tool: "pay", arguments: { amount: $5, nested: [{ x: $1 }, { x: $2 }] }, extra: null, cost: $0 }
  expect allow
}
test "money in any" {
  given { tool: "pay", arguments: {}, extra: $50, cost: $0 }
  expect deny by big_extra
}
test "small money in any" {
  given { tool: "pay", arguments: {}, extra: $5.25, cost: $0 }
  expect allow
}
test "a plain number in map<any> is currency units too" {
  given { tool: "pay", arguments: { amount: 50 }, extra: null, cost: $0 }
  expect deny by big
}
test "the charge is in dollars: $60 spent + $5 is within $100" {
  given { tool: "pay", arguments: { amount: $5 }, extra: null, cost: $0 }
  spent spend = $60
  expect allow
}
test "the charge is in dollars: $96 spent + $5 is over" {
  given { tool: "pay", arguments: { amount: $5 }, extra: null, cost: $0 }
  spent spend = $96
  expect deny by spend
}
test "money in a map<any> data document" {
  given { tool: "pay", arguments: {}, extra: null, cost: $3 }
  data caps = { pay: $2 }
  expect deny by over_cap
}
test "money in a map<any> data document, within" {
  given { tool: "pay", arguments: {}, extra: null, cost: $1.50 }
  data caps = { pay: $2 }
  expect allow
}
`;

describe('`rein test`: money in `any` positions of `given` and `data`', () => {
  for (const codegen of [true, false]) {
    it(`is untyped JSON in currency units (codegen ${codegen})`, () => {
      const policy = compile({ 'p.rein': SRC }, { codegen, data: { 'caps.json': '{}' } });
      const report = runTests(policy);
      const failed = report.results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.message ?? ''}`);
      assert.deepEqual(failed, []);
      assert.equal(report.results.length, 9);
    });
  }
});

describe('`rein test --coverage` and `redact` rules', () => {
  // regression (review h12r2 T7): a `redact` rule was never counted as exercised, so a set with one
  // could not reach `--min-coverage 100` even when its tests checked the masking.
  it('a redact rule that masked something in a test is covered, with its `redact` clause', () => {
    const src = `policy p { default allow }
input { tool: string, text?: string }
rule rd { when text != null redact text using pii.email "[e]" }
rule d1 { when tool == "x" deny "d1" }
test "redact passes" { given { tool: "y", text: "a@b.com" } expect allow with redact text }
test "deny passes" { given { tool: "x" } expect deny by d1 }
`;
    for (const codegen of [true, false]) {
      const report = runTests(compile({ 'p.rein': src }, { codegen }), { coverage: true });
      assert.deepEqual(report.results.map((r) => r.passed), [true, true]);
      const cov = report.coverage!;
      assert.deepEqual(cov.rules.items.map((i) => [i.name, i.covered]), [['rd', true], ['d1', true]]);
      assert.deepEqual(cov.effects.items.map((i) => [i.name, i.covered]), [['rd: redact', true], ['d1: deny', true]]);
      assert.equal(cov.total.percent, 100);
      // Without a test that masks, it is not covered.
      const none = runTests(compile({ 'p.rein': src.replace(/test "redact passes".*\n/, '') }, { codegen }), { coverage: true });
      assert.deepEqual(none.coverage!.rules.items.map((i) => [i.name, i.covered]), [['rd', false], ['d1', true]]);
    }
  });
});

describe('coverage places an annotated rule or budget at its keyword (regression, session 13 docs review D8)', () => {
  it('the `rule` / `budget` line, as decisions and `rein doc` do, not the annotation line', () => {
    const src = `policy p { default allow }
input { tool: string }
@severity("high")
@owner("sec")
rule no_shell {
  when tool == "shell"
  deny "no shell"
}
@owner("fin")
budget calls {
  limit 3 per day
  charge 1
}
test "shell" {
  given { tool: "shell" }
  expect deny by no_shell
}
`;
    const p = compile({ 'p.rein': src });
    const report = runTests(p, { coverage: true });
    const c = report.coverage!;
    assert.deepEqual(
      [...c.rules.items, ...c.budgets.items].map((i) => [i.name, i.location.line, i.location.column]),
      [
        ['no_shell', 5, 1],
        ['calls', 10, 1],
      ],
    );
    const d = p.evaluate({ tool: 'shell' });
    assert.equal(d.reasons[0]!.location!.line, 5);
  });
});
