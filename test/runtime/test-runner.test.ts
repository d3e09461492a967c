// The test runner against hand-built test ASTs over the fake compiled policy (the compiler contract),
// so it exercises given/spent/at/approved/expect handling independently of the parser and compiler.
import { strict as assert } from 'node:assert';
import type * as A from '../../language/syntax/ast.js';
import type { Range } from '../../language/diagnostics.js';
import type { CompiledPolicy } from '../../language/runtime/compiled.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { fakePolicy, usd } from './engine-fake-policy.js';

const range = (line: number): Range => ({ start: { line, character: 0, offset: 0 }, end: { line, character: 1, offset: 1 } });
const nm = (text: string, line = 0): A.Name => ({ kind: 'Name', text, range: range(line) });
const str = (value: string, line = 0): A.StringLit => ({ kind: 'String', parts: [{ kind: 'Text', value, range: range(line) }], raw: JSON.stringify(value), range: range(line) });

/** Expressions are opaque nodes; the fake `evaluateExpr` looks their values up. */
const values = new Map<unknown, unknown>();
function expr(value: unknown): A.Expr {
  const e = { kind: 'Null', range: range(0) } as unknown as A.Expr;
  values.set(e, value);
  return e;
}

interface Spec {
  name: string;
  line: number;
  given?: unknown;
  spent?: [string, number][];
  at?: string;
  approved?: string[];
  expect?: { effect?: 'allow' | 'deny' | 'require_approval'; by?: string[] };
  warnings?: string[] | 'none';
}

function testDecl(s: Spec): A.TestDecl {
  const items: A.TestItem[] = [];
  if (s.given !== undefined) items.push({ kind: 'Given', expr: expr(s.given), range: range(s.line + 1) });
  for (const [b, amount] of s.spent ?? []) items.push({ kind: 'Spent', budget: nm(b), amount: expr(amount), range: range(s.line + 2) });
  if (s.at) items.push({ kind: 'At', time: str(s.at), range: range(s.line + 3) });
  if (s.approved) items.push({ kind: 'Approved', names: s.approved.map((n) => nm(n)), range: range(s.line + 4) });
  if (s.expect) {
    items.push({
      kind: 'Expect',
      effect: s.expect.effect ? { value: s.expect.effect, range: range(s.line + 5) } : undefined,
      by: (s.expect.by ?? []).map((n) => nm(n)),
      range: range(s.line + 5),
    });
  }
  if (s.warnings) items.push({ kind: 'ExpectWarnings', names: s.warnings === 'none' ? [] : s.warnings.map((n) => nm(n)), none: s.warnings === 'none', range: range(s.line + 6) });
  return { kind: 'TestDecl', name: str(s.name), items, annotations: [], range: range(s.line) };
}

function policyWith(specs: Spec[]) {
  const p = fakePolicy({
    budgets: [{ name: 'daily', limit: usd(50), warnAt: 0.8, key: (env) => [env.input.team] }, { name: 'unused', unit: 'number', limit: 5, applies: () => false }],
    rules: [
      { name: 'no_shell', effect: 'deny', when: (env) => env.input.kind === 'shell' },
      { name: 'big_spend', effect: 'require_approval', when: (env) => ((env.input.cost as number) ?? 0) > usd(10) },
      { name: 'never', effect: 'warn', when: () => false },
    ],
  });
  const tests = specs.map(testDecl);
  const ruleDecl = (name: string, line: number, effect: A.EffectClause['kind']): A.RuleDecl =>
    ({ kind: 'RuleDecl', name: nm(name, line), body: [{ kind: effect, range: range(line + 1) } as A.EffectClause], annotations: [], range: range(line) });
  const budgetDecl = (name: string, line: number, warn: boolean): A.BudgetDecl => ({
    kind: 'BudgetDecl',
    name: nm(name, line),
    items: warn ? [{ kind: 'WarnAt', range: range(line + 1) }] : [],
    annotations: [],
    range: range(line),
  });
  const rules = [ruleDecl('no_shell', 1, 'Deny'), ruleDecl('big_spend', 4, 'RequireApproval'), ruleDecl('never', 7, 'Warn')];
  const budgets = [budgetDecl('daily', 10, true), budgetDecl('unused', 15, false)];
  const file: A.SourceFile = { kind: 'SourceFile', file: 'p.rein', decls: [...rules, ...budgets, ...tests], comments: [], range: range(0) };
  const compiled: CompiledPolicy = {
    ...p.compiled,
    program: { ...p.compiled.program, files: [file], rules, budgets, tests, declFile: new Map(), types: new Map() },
    evaluateExpr: (e: A.Expr) => {
      if (!values.has(e)) throw new Error('unknown expression');
      const v = values.get(e);
      if (v instanceof Error) throw v;
      return v;
    },
  };
  return { compiled };
}

const base = { user: 'ann', team: 'support', kind: 'tool_call', cost: '0.01' };

describe('runTests', () => {
  it('passes and fails tests, reporting expected vs actual and the position', () => {
    const report = runTests(
      policyWith([
        { name: 'shell is blocked', line: 20, given: { ...base, kind: 'shell' }, expect: { effect: 'deny', by: ['no_shell'] } },
        { name: 'wrong expectation', line: 30, given: base, expect: { effect: 'deny', by: ['no_shell'] } },
        { name: 'ceiling holds', line: 40, given: { ...base, cost: '2' }, spent: [['daily', usd(49)]], expect: { effect: 'deny', by: ['daily'] } },
        { name: 'wrong names', line: 50, given: { ...base, cost: '2', kind: 'shell' }, spent: [['daily', usd(49)]], expect: { effect: 'deny', by: ['no_shell'] } },
      ]),
    );
    assert.deepEqual(report.summary, { passed: 2, failed: 2, total: 4 });
    const [a, b, c, d] = report.results;
    assert.equal(a!.passed, true);
    assert.equal(a!.message, undefined);
    assert.deepEqual([b!.passed, b!.file, b!.line], [false, 'p.rein', 31]);
    assert.deepEqual(b!.expected, { effect: 'deny', by: ['no_shell'], warnings: null, redact: null });
    assert.deepEqual(b!.actual, { effect: 'allow', by: [], warnings: [], redact: [] });
    assert.match(b!.message!, /expected deny by no_shell, got allow/);
    assert.equal(c!.passed, true);
    assert.equal(d!.passed, false);
    assert.deepEqual(d!.actual!.by, ['daily', 'no_shell']);
    assert.match(d!.message!, /expected deny by no_shell, got deny by daily, no_shell/);
  });

  it('grants approvals bound to the request, and names the approvals still needed', () => {
    const report = runTests(
      policyWith([
        { name: 'needs approval', line: 1, given: { ...base, cost: '20' }, expect: { effect: 'require_approval', by: ['big_spend'] } },
        { name: 'approved', line: 10, given: { ...base, cost: '20' }, approved: ['big_spend'], expect: { effect: 'allow' }, warnings: 'none' },
      ]),
    );
    assert.deepEqual(
      report.results.map((r) => [r.name, r.passed, r.message]),
      [
        ['needs approval', true, undefined],
        ['approved', true, undefined],
      ],
    );
  });

  it('checks warnings exactly, and `at` picks the window', () => {
    const report = runTests(
      policyWith([
        { name: 'warns at 80%', line: 1, given: { ...base, cost: '41' }, approved: ['big_spend'], expect: { effect: 'allow' }, warnings: ['daily'] },
        { name: 'expects none but warns', line: 10, given: { ...base, cost: '41' }, approved: ['big_spend'], warnings: 'none' },
        // spend seeded yesterday (the same test's window) still denies; the `at` sets the day.
        { name: 'at sets the clock', line: 20, at: '2026-03-01T23:59:00Z', given: { ...base, cost: '2' }, spent: [['daily', usd(49)]], expect: { effect: 'deny' } },
      ]),
    );
    assert.deepEqual(report.results.map((r) => r.passed), [true, false, true]);
    assert.match(report.results[1]!.message!, /expected warnings none, got daily/);
    assert.equal(report.results[2]!.decision!.budgets[0]!.window!.start, '2026-03-01T00:00:00.000Z');
  });

  it('reports broken tests instead of throwing', () => {
    const report = runTests(
      policyWith([
        { name: 'no given', line: 1, expect: { effect: 'allow' } },
        { name: 'given fails', line: 5, given: new Error('division by zero'), expect: { effect: 'allow' } },
        { name: 'no expect', line: 9, given: base },
        { name: 'bad time', line: 13, given: base, at: 'yesterday', expect: { effect: 'allow' } },
        { name: 'invalid request', line: 17, given: { user: 1 }, expect: { effect: 'allow' } },
      ]),
    );
    assert.equal(report.summary.failed, 5);
    const msgs = report.results.map((r) => r.message ?? '');
    assert.match(msgs[0]!, /no `given`/);
    assert.match(msgs[1]!, /`given` failed: division by zero/);
    assert.match(msgs[2]!, /no `expect`/);
    assert.match(msgs[3]!, /RFC 3339/);
    assert.match(msgs[4]!, /expected allow, got deny[\s\S]*\$\.user/);
  });

  it('a test whose request is not valid input fails, even when `on error` gives the expected effect (regression, review h11r R5)', () => {
    const report = runTests(
      policyWith([
        { name: 'invalid, expect deny', line: 1, given: { user: 1 }, expect: { effect: 'deny' } },
        { name: 'valid, expect allow', line: 5, given: base, expect: { effect: 'allow' } },
      ]),
    );
    assert.deepEqual(report.results.map((r) => r.passed), [false, true]);
    const r = report.results[0]!;
    assert.match(r.message ?? '', /the test's request is not valid input \(\$\.user: [^)]*\): `on error` decided it \(deny\), not the rules/);
    assert.doesNotMatch(r.message ?? '', /^expected/m);
    assert.equal(r.actual?.onError, true);
    assert.equal(report.results[1]!.actual?.onError, undefined);
  });

  it('filters by name and measures coverage', () => {
    const specs: Spec[] = [
      { name: 'shell is blocked', line: 20, given: { ...base, kind: 'shell' }, expect: { effect: 'deny', by: ['no_shell'] } },
      { name: 'plain', line: 30, given: base, expect: { effect: 'allow' } },
    ];
    const filtered = runTests(policyWith(specs), { filter: /shell/ });
    assert.deepEqual(filtered.results.map((r) => r.name), ['shell is blocked']);
    assert.equal(filtered.coverage, undefined);

    const report = runTests(policyWith(specs), { coverage: true });
    const cov = report.coverage!;
    assert.deepEqual(cov.rules.items.map((i) => [i.name, i.covered]), [
      ['no_shell', true],
      ['big_spend', false],
      ['never', false],
    ]);
    assert.equal(cov.rules.percent, 33.3);
    assert.deepEqual(cov.budgets.items.map((i) => [i.name, i.hits]), [
      ['daily', 2],
      ['unused', 0],
    ]);
    assert.deepEqual(cov.effects.items.map((i) => [i.name, i.covered]), [
      ['no_shell: deny', true],
      ['big_spend: require approval', false],
      ['never: warn', false],
      ['daily: on exceed', false],
      ['daily: warn at', false],
      ['unused: on exceed', false],
    ]);
    assert.deepEqual(cov.total, { covered: 3, total: 11, percent: 27.3 });
  });
});
