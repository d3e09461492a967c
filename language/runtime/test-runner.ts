// The policy test runner (LANGUAGE §7): runs every `test` block of a compiled policy set against a
// fresh Engine and MemoryBudgetStore, compares effects, deciding names and warnings, and measures
// coverage. Synchronous (the memory store is), pure (no IO): the CLI and the language server render
// the report.

import type * as A from '../syntax/ast.js';
import type { CheckedProgram } from '../semantics/program.js';
import type { Effect, Env, RuleOutcome, SourceLocation } from './compiled.js';
import type { BudgetOutcome, Decision } from './decision.js';
import { EFFECTS } from './effects.js';
import { Engine, type PolicyLike } from './engine.js';
import { canonicalJson, hashValue } from './hash.js';
import { toHost, type ExternImpl, type ExternImpls, type IrExtern } from './externs.js';
import { MemoryBudgetStore } from './memory-store.js';
import { compileProgram, toJsonValue } from './compile.js';
import { dataType } from './data.js';
import { baseKind, childType, mapChildren } from './ops.js';
import type { Type } from '../semantics/types.js';
import { compileValidator } from './validate.js';
import { printExpr } from '../semantics/print.js';
import { pathText } from './transforms.js';

/** Tests without `at` run at this fixed time, so results never depend on the day they run. */
export const DEFAULT_TEST_TIME = '2026-01-01T00:00:00Z';

export interface RunTestsOptions {
  /** Run only the tests whose name matches. */
  filter?: RegExp;
  /** Compute `coverage`. */
  coverage?: boolean;
}

/** What a test asserts; `null` fields are not asserted. */
export interface TestExpectation {
  effect: Effect | null;
  /** `expect EFFECT by A, B`: exactly these names decided (sorted). */
  by: string[] | null;
  /** `expect warnings A, B` (sorted) or `[]` for `expect warnings none`. */
  warnings: string[] | null;
  /** `expect … with redact PATH, …` (sorted) or `[]` for `with redact none`. */
  redact: string[] | null;
}

/** What the decision said, in the same terms. */
export interface TestActual {
  effect: Effect;
  /** The deciding names: `reasons` (rules and budgets), or for `require_approval` the approvals still needed (sorted). */
  by: string[];
  /** Names in `warnings` (sorted). */
  warnings: string[];
  /** The request paths the decision's transforms mask (sorted, each once; `expect … with redact`). */
  redact: string[];
  /** The policy's `on error` decided (an invalid request, a rule or budget that failed, a failed store). */
  onError?: boolean;
}

export interface TestResult {
  name: string;
  /** The file holding the test, as given to `compile`. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  location: SourceLocation;
  passed: boolean;
  expected: TestExpectation;
  /** Null when the test could not run (its `given` failed, no `given`, …). */
  actual: TestActual | null;
  /** Why it failed (absent when it passed). One line per failed expectation. */
  message?: string;
  /** The decision the test produced (absent when it could not run). */
  decision?: Decision;
}

export interface CoverageItem {
  kind: 'rule' | 'budget' | 'effect';
  /** Rule or budget name; for effects `rule_name: deny`, `budget_name: on exceed`, `budget_name: warn at`. */
  name: string;
  location: SourceLocation;
  /** How many tests exercised it. */
  hits: number;
  covered: boolean;
}

export interface CoverageSection {
  covered: number;
  total: number;
  /** 0–100, one decimal; 100 when total is 0. */
  percent: number;
  items: CoverageItem[];
}

/** Rules: matched at least once. Budgets: applied to at least one test request. Effects: each rule's
 *  effect clause fired (the rule matched), each budget's `on exceed` fired (exceeded) and `warn at`
 *  fired (warned). */
export interface TestCoverage {
  rules: CoverageSection;
  budgets: CoverageSection;
  effects: CoverageSection;
  /** All three together. */
  total: { covered: number; total: number; percent: number };
}

export interface TestReport {
  results: TestResult[];
  summary: { passed: number; failed: number; total: number };
  /** Present with `coverage: true`. */
  coverage?: TestCoverage;
}

function text(s: A.StringLit | undefined): string {
  if (!s) return '';
  return s.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('');
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

function fmtNames(xs: string[] | null): string {
  return xs && xs.length > 0 ? xs.join(', ') : 'nothing';
}

/** The names that decided a decision, as `expect … by` compares them. */
export function decidingNames(d: Decision, failuresExpected = false): string[] {
  if (EFFECTS[d.effect].approval) return sorted(d.approvals.map((a) => a.name));
  // A rule or budget that failed (kind `error`, the `on error` effect) did not decide by its own
  // effect: `expect deny by big` must not pass because `big` errored (review h11r R5) — unless the
  // test makes calls fail on purpose (an `extern … = error` stub): then the failure is what it tests.
  return sorted(d.reasons.filter((r) => r.kind === 'rule' || r.kind === 'budget' || (failuresExpected && r.kind === 'error' && r.name)).map((r) => r.name as string));
}

interface Tally {
  rules: Map<string, number>;
  budgets: Map<string, number>;
  effects: Map<string, number>;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function ruleEffectLabel(r: A.RuleDecl): string {
  const eff = r.body.find((b) => b.kind !== 'When' && b.kind !== 'Unless');
  switch (eff?.kind) {
    case 'Deny':
      return 'deny';
    case 'RequireApproval':
      return 'require approval';
    case 'Warn':
      return 'warn';
    case 'Allow':
      return 'allow';
    case 'Set':
      return 'set';
    case 'Redact':
      return 'redact';
    default:
      return 'effect';
  }
}

/** Run the `test` blocks of a compiled policy set. Never throws on a failing or broken test. */
export function runTests(policy: PolicyLike, opts: RunTestsOptions = {}): TestReport {
  const compiled = policy.compiled;
  const program = compiled.program;
  const tally: Tally = { rules: new Map(), budgets: new Map(), effects: new Map() };
  const results: TestResult[] = [];

  for (const decl of program.tests ?? []) {
    const name = text(decl.name);
    if (opts.filter) {
      opts.filter.lastIndex = 0;
      if (!opts.filter.test(name)) continue;
    }
    const result = runOne(policy, decl, name, tally);
    results.push(result);
  }

  const passed = results.filter((r) => r.passed).length;
  const report: TestReport = { results, summary: { passed, failed: results.length - passed, total: results.length } };
  if (opts.coverage) report.coverage = coverageOf(policy, tally);
  return report;
}

function locationOf(policy: PolicyLike, decl: A.Decl, node: A.Node = decl): SourceLocation {
  const program = policy.compiled.program;
  const file = program.declFile?.get(decl) ?? program.files?.find((f) => f.decls.includes(decl))?.file ?? '';
  // The declaration itself: its keyword, after any annotations (as decisions and `rein doc` place it).
  const start = node === decl ? (decl.head ?? decl.range.start) : node.range.start;
  return { file, line: start.line + 1, column: start.character + 1 };
}

function runOne(policy: PolicyLike, decl: A.TestDecl, name: string, tally: Tally): TestResult {
  const compiled = policy.compiled;
  const location = locationOf(policy, decl);
  const expected: TestExpectation = { effect: null, by: null, warnings: null, redact: null };
  const result: TestResult = { name, file: location.file, line: location.line, column: location.column, location, passed: false, expected, actual: null };

  let given: A.GivenItem | undefined;
  let at: A.AtItem | undefined;
  const spent: A.SpentItem[] = [];
  const approved: string[] = [];
  const stubs: A.ExternStubItem[] = [];
  const dataItems: A.DataOverrideItem[] = [];
  let expectCount = 0;
  for (const item of decl.items) {
    switch (item.kind) {
      case 'DataOverride':
        dataItems.push(item);
        break;
      case 'ExternStub':
        stubs.push(item);
        break;
      case 'Given':
        given = item;
        break;
      case 'At':
        at = item;
        break;
      case 'Spent':
        spent.push(item);
        break;
      case 'Approved':
        for (const n of item.names) approved.push(n.text);
        break;
      case 'Expect':
        expectCount++;
        if (item.effect) expected.effect = item.effect.value;
        if (item.by.length > 0) expected.by = sorted(item.by.map((n) => n.text));
        if (item.redact) expected.redact = item.redact.none ? [] : sorted([...new Set(item.redact.paths.map((p) => printExpr(p).replace(/^input\./, '')))]);
        break;
      case 'ExpectWarnings':
        expectCount++;
        expected.warnings = item.none ? [] : sorted(item.names.map((n) => n.text));
        break;
    }
  }
  const fail = (message: string): TestResult => {
    result.message = message;
    return result;
  };
  if (!given?.expr) return fail('the test has no `given` request');
  if (expectCount === 0) return fail('the test has no `expect`');
  if (typeof compiled.evaluateExpr !== 'function') return fail('this compiled policy cannot evaluate test expressions (`evaluateExpr` is missing)');

  // The clock.
  let now = new Date(DEFAULT_TEST_TIME);
  if (at) {
    const t = Date.parse(text(at.time));
    if (!at.time || !Number.isFinite(t)) return fail(`\`at\` is not an RFC 3339 time: \`${text(at.time)}\``);
    now = new Date(t);
  }
  const env: Env = { input: Object.create(null) as Record<string, unknown>, now: now.getTime(), budgets: {} };

  // The request: evaluate, then turn into JSON (money → decimal strings) so it is validated like a real one.
  let request: unknown;
  try {
    const value = compiled.evaluateExpr(given.expr, env);
    request = requestJson(value, compiled.program.types?.get(given.expr), compiled.program.inputType);
  } catch (e) {
    return fail(`\`given\` failed: ${errorMessage(e)}`);
  }

  // Host functions: the test's stubs stand in for every `extern def` (no host code runs in a test).
  let externs: ReturnType<typeof stubExterns> | undefined;
  if ((compiled.ir?.externs?.length ?? 0) > 0) {
    try {
      externs = stubExterns(compiled.ir!.externs!, stubs, (e) => compiled.evaluateExpr!(e, env));
    } catch (e) {
      return fail(`an \`extern\` stub failed: ${errorMessage(e)}`);
    }
  }
  // `data NAME = EXPR`: this test decides with its own value of a data document (the policy is
  // compiled again with it: data documents are constants of the compiled policy).
  if (dataItems.length > 0) {
    try {
      policy = withData(policy, dataItems, (e) => compiled.evaluateExpr!(e, env));
    } catch (e) {
      return fail(`\`data\` failed: ${errorMessage(e)}`);
    }
  }
  const engine = new Engine(policy, { store: new MemoryBudgetStore(), clock: () => now, ...(externs ? { externs: externs.impls } : {}) });
  for (const s of spent) {
    const budgetName = s.budget?.text ?? '';
    try {
      const amount = s.amount ? compiled.evaluateExpr(s.amount, env) : undefined;
      if (typeof amount !== 'number') throw new Error('the amount is not a number');
      // `spent b = 5 at "…"`: made at that time (its window, sub-bucket, anchor or refill start)
      let when = now;
      if (s.at) {
        const t = Date.parse(text(s.at));
        if (!Number.isFinite(t)) throw new Error(`\`at\` is not an RFC 3339 time: \`${text(s.at)}\``);
        when = new Date(t);
      }
      engine.addSpentSync(request, budgetName, amount, when);
    } catch (e) {
      return fail(`\`spent ${budgetName}\` failed: ${errorMessage(e)}`);
    }
  }

  let approvals: { rule: string; request_hash: string; approver?: string; at?: number }[] = [];
  if (approved.length > 0) {
    const v = compiled.validate(request);
    if (v.ok) {
      const hash = hashValue(v.value);
      approvals = completeApprovals(compiled.program, approved, hash, now.getTime());
    }
  }

  let outcomes: { rules: RuleOutcome[]; budgets: BudgetOutcome[] } | undefined;
  let decision: Decision;
  try {
    decision = engine.decideSync(request, { approvals, now, trace: (t) => (outcomes = t) });
  } catch (e) {
    return fail(`the decision failed: ${errorMessage(e)}`);
  }
  result.decision = decision;
  if (externs && externs.unstubbed.length > 0) {
    const calls = externs.unstubbed.map((c) => `\`extern ${c}\``);
    return fail(`the policy called ${calls.join(', ')} but the test does not stub ${calls.length === 1 ? 'it' : 'them'}: add \`${calls[0].slice(1, -1)} = VALUE\` (or \`= error "why"\`) to the test`);
  }
  const actual: TestActual = {
    effect: decision.effect,
    by: decidingNames(decision, stubs.some((x) => x.fails !== undefined)),
    warnings: sorted(decision.warnings.filter((w) => w.name).map((w) => w.name as string)),
    redact: sorted([...new Set((decision.transforms ?? []).map((t) => pathText(t.path)))]),
  };
  if (decision.reasons.some((r) => r.kind === 'error')) actual.onError = true;
  result.actual = actual;

  // Coverage tally.
  if (outcomes) {
    for (const r of outcomes.rules) {
      // a rule that failed has not exercised its effect clause (`on error` decided)
      if (r.matched && r.error === undefined) {
        bump(tally.rules, r.name);
        bump(tally.effects, `rule:${r.name}`);
      }
    }
    // `redact` rules are not among the rule outcomes (they run at assembly): one that masked something
    // exercised its conditions and its `redact` clause (regression, review h12r2 T7: never counted).
    const masked = new Set<string>();
    for (const t of decision.transforms ?? []) masked.add(t.rule);
    for (const n of masked) {
      bump(tally.rules, n);
      bump(tally.effects, `rule:${n}`);
    }
    for (const b of outcomes.budgets) {
      bump(tally.budgets, b.name);
      if (b.exceeded) bump(tally.effects, `exceed:${b.name}`);
      if (b.warned) bump(tally.effects, `warn:${b.name}`);
    }
  }

  const problems: string[] = [];
  const invalid = decision.errors.filter((e) => e.kind === 'input');
  const actualDesc = `${actual.effect}${actual.by.length ? ` by ${actual.by.join(', ')}` : ''}`;
  if (expected.effect !== null && expected.effect !== actual.effect) {
    problems.push(`expected ${expected.effect}${expected.by ? ` by ${fmtNames(expected.by)}` : ''}, got ${actualDesc}`);
  } else if (expected.by !== null && expected.by.join('\0') !== actual.by.join('\0')) {
    problems.push(`expected ${expected.effect ?? actual.effect} by ${fmtNames(expected.by)}, got ${actualDesc}${actual.by.length ? '' : ' by nothing'}`);
  }
  if (expected.redact !== null && expected.redact.join('\0') !== actual.redact.join('\0')) {
    problems.push(`expected with redact ${expected.redact.length ? expected.redact.join(', ') : 'none'}, got ${actual.redact.length ? actual.redact.join(', ') : 'none'}`);
  }
  if (expected.warnings !== null && expected.warnings.join('\0') !== actual.warnings.join('\0')) {
    problems.push(`expected warnings ${expected.warnings.length ? expected.warnings.join(', ') : 'none'}, got ${actual.warnings.length ? actual.warnings.join(', ') : 'none'}`);
  }
  // A request that is not valid input never reaches a rule: `on error` decides it, whatever the
  // rules say, so an `expect deny` would pass for a reason the test does not name (a `let base` that
  // lacks a field added to `input` later turns every such test into a no-op). The test fails.
  if (invalid.length > 0) {
    const first = invalid.slice(0, 3).map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`);
    problems.push(`the test's request is not valid input (${first.join('; ')}${invalid.length > 3 ? `; and ${invalid.length - 3} more` : ''}): \`on error\` decided it (${decision.effect}), not the rules`);
  }
  if (problems.length > 0 && decision.errors.length > invalid.length) {
    const errs = decision.errors.filter((e) => e.kind !== 'input').slice(0, 3).map((e) => `${e.path ? `${e.path}: ` : e.name ? `${e.name}: ` : ''}${e.message}`);
    const other = decision.errors.length - invalid.length;
    problems.push(`decision errors: ${errs.join('; ')}${other > 3 ? ` (and ${other - 3} more)` : ''}`);
  }
  if (problems.length > 0) return fail(problems.join('\n'));
  result.passed = true;
  return result;
}

/**
 * A test's value (`given`, `data NAME = EXPR`) as the JSON a host would send, read against the
 * schema it is validated with: money as a 6-digit decimal string where the schema says `money`, and
 * as a JSON number in currency units where it says `any` (also inside `map<any>`, `list<any>`): there
 * untyped JSON numbers are currency units, so `$5` reaches the policy as 5 dollars (not the string
 * `"5.000000"`, which is no number, nor 5,000,000).
 */
function requestJson(v: unknown, t: Type | undefined, schema: Type | undefined, depth = 0): unknown {
  if (schema !== undefined && baseKind(schema) === 'any') return untypedJson(v, t, depth);
  if (v === null || v === undefined || typeof v !== 'object' || depth > 32) return toJsonValue(v, t, depth);
  return mapChildren(v, (x, key) => requestJson(x, childType(t, key), childType(schema, key), depth + 1));
}

/** `requestJson` under an `any`: money (by the value's own type) in currency units. */
function untypedJson(v: unknown, t: Type | undefined, depth: number): unknown {
  if (typeof v === 'number' && baseKind(t) === 'money') return v / 1_000_000;
  if (v === null || v === undefined || typeof v !== 'object' || depth > 32) return toJsonValue(v, t, depth);
  return mapChildren(v, (x, key) => untypedJson(x, childType(t, key), depth + 1));
}

/** The policy recompiled with a test's values of its data documents (`data NAME = EXPR`). */
function withData(policy: PolicyLike, items: readonly A.DataOverrideItem[], evaluate: (e: A.Expr) => unknown): PolicyLike {
  const program = policy.compiled.program;
  const data = (program.data ?? []).map((d) => ({ ...d }));
  for (const it of items) {
    const doc = data.find((d) => d.name === it.name?.text);
    if (!doc || !it.value) throw new Error(`\`${it.name?.text ?? ''}\` is not a \`data\` declaration`);
    const type = dataType(program, doc);
    const value = requestJson(evaluate(it.value), program.types?.get(it.value), type);
    const v = compileValidator(type, { codegen: false })(value);
    if (!v.ok) throw new Error(`\`${doc.name}\` ${v.errors.map((x) => `${x.path ?? '$'}: ${x.message}`).join('; ')}`);
    doc.value = value;
  }
  const codegen = (policy as { codegen?: boolean }).codegen;
  return compileProgram({ ok: true, diagnostics: [], program: { ...program, data } }, codegen === undefined ? {} : { codegen });
}

/** Implementations of every extern from a test's stubs: `extern f(args) = v` answers those
 *  arguments, `extern f = v` any; a call no stub answers is noted in `unstubbed` (the test fails). */
function stubExterns(decls: readonly IrExtern[], stubs: readonly A.ExternStubItem[], evaluate: (e: A.Expr) => unknown): { impls: ExternImpls; unstubbed: string[] } {
  const unstubbed: string[] = [];
  const impls: Record<string, ExternImpl> = {};
  for (const d of decls) {
    const exact = new Map<string, A.ExternStubItem>();
    let any: A.ExternStubItem | undefined;
    for (const st of stubs) {
      if (st.name?.text !== d.name) continue;
      if (st.args) exact.set(canonicalJson(st.args.map((a) => toHost(evaluate(a)))), st);
      else any = st;
    }
    impls[d.name] = (...args: unknown[]) => {
      const st = exact.get(canonicalJson(args)) ?? any;
      if (!st) {
        const call = `${d.name}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
        if (!unstubbed.includes(call)) unstubbed.push(call);
        throw new Error(`\`${call}\` is not stubbed in this test`);
      }
      if (st.fails) throw new Error(text(st.fails));
      return st.value ? toHost(evaluate(st.value)) : null;
    };
  }
  return { impls, unstubbed };
}

function section(items: CoverageItem[]): CoverageSection {
  const covered = items.filter((i) => i.covered).length;
  return { covered, total: items.length, percent: pct(covered, items.length), items };
}

function pct(covered: number, total: number): number {
  return total === 0 ? 100 : Math.round((covered / total) * 1000) / 10;
}

function coverageOf(policy: PolicyLike, tally: Tally): TestCoverage {
  const program = policy.compiled.program;
  const rules: CoverageItem[] = [];
  const budgets: CoverageItem[] = [];
  const effects: CoverageItem[] = [];
  const item = (kind: CoverageItem['kind'], name: string, location: SourceLocation, hits: number): CoverageItem => ({ kind, name, location, hits, covered: hits > 0 });
  for (const r of program.rules ?? []) {
    if (!r.name) continue;
    const n = r.name.text;
    rules.push(item('rule', n, locationOf(policy, r), tally.rules.get(n) ?? 0));
    const eff = r.body.find((b) => b.kind !== 'When' && b.kind !== 'Unless');
    effects.push(item('effect', `${n}: ${ruleEffectLabel(r)}`, locationOf(policy, r, eff ?? r), tally.effects.get(`rule:${n}`) ?? 0));
  }
  for (const b of program.budgets ?? []) {
    if (!b.name) continue;
    const n = b.name.text;
    budgets.push(item('budget', n, locationOf(policy, b), tally.budgets.get(n) ?? 0));
    const onExceed = b.items.find((i) => i.kind === 'OnExceed');
    effects.push(item('effect', `${n}: on exceed`, locationOf(policy, b, onExceed ?? b), tally.effects.get(`exceed:${n}`) ?? 0));
    const warnAt = b.items.find((i) => i.kind === 'WarnAt');
    if (warnAt) effects.push(item('effect', `${n}: warn at`, locationOf(policy, b, warnAt), tally.effects.get(`warn:${n}`) ?? 0));
  }
  const all = [...rules, ...budgets, ...effects];
  const covered = all.filter((i) => i.covered).length;
  return {
    rules: section(rules),
    budgets: section(budgets),
    effects: section(effects),
    total: { covered, total: all.length, percent: pct(covered, all.length) },
  };
}

/**
 * Trusted grants that fully approve each named rule or budget for one request (`approved RULE` in a
 * test, `rein eval --approve RULE`): as many distinct approvers as its `quorum`, given at `at` (so
 * its `expires` holds at that time).
 */
export function completeApprovals(program: CheckedProgram, names: readonly string[], hash: string, at: number): { rule: string; request_hash: string; approver?: string; at: number }[] {
  const out: { rule: string; request_hash: string; approver?: string; at: number }[] = [];
  for (const rule of names) {
    const q = quorumOf(program, rule);
    if (q === 1) out.push({ rule, request_hash: hash, at });
    else for (let i = 1; i <= q; i++) out.push({ rule, request_hash: hash, approver: `approver-${i}`, at });
  }
  return out;
}

/** The `quorum` of the rule or budget `name` asks for (1 when none, or when it is unknown). */
function quorumOf(program: CheckedProgram, name: string): number {
  for (const r of program.rules ?? []) {
    if (r.name?.text !== name) continue;
    for (const it of r.body) if (it.kind === 'RequireApproval' && it.quorum?.isInt && it.quorum.value > 1) return Math.min(it.quorum.value, 100);
  }
  for (const b of program.budgets ?? []) {
    if (b.name?.text !== name) continue;
    for (const it of b.items) if (it.kind === 'OnExceed' && it.effect?.kind === 'RequireApproval' && it.effect.quorum?.isInt && it.effect.quorum.value > 1) return Math.min(it.effect.quorum.value, 100);
  }
  return 1;
}
