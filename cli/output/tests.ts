// Renderers for `rein test`: text, JSON, JUnit XML (GitHub and SARIF reuse the diagnostic renderers
// with one REIN403 diagnostic per failing test).

import type { Colors } from './color.js';
import { codePoint, escapeControls } from './printable.js';

/** One test's outcome as the CLI reports it (positions 1-based, paths as displayed). */
export interface TestCaseResult {
  /** The policy set (its directory, as displayed). */
  set: string;
  name: string;
  file: string;
  line: number;
  column: number;
  passed: boolean;
  /** What the test expected, e.g. `deny by no_shell` (failures). */
  expected?: string;
  /** What the policy decided, e.g. `allow (default)` (failures). */
  actual?: string;
  /** The failure, in one line. */
  message?: string;
  /** A failure's cause that expected vs actual does not show (the request was not valid input, the
   *  decision's errors), in one line. */
  note?: string;
}

export interface CoverageItem {
  kind: string;
  name: string;
  covered: boolean;
  file?: string;
  line?: number;
  column?: number;
}

export interface SetCoverage {
  set: string;
  covered: number;
  total: number;
  /** 0–100. */
  percent: number;
  items: CoverageItem[];
}

export interface TestRunResult {
  tests: TestCaseResult[];
  /** Wall time of each set's run, ms (by set). */
  timings?: Record<string, number>;
  coverage?: SetCoverage[];
  /** `min_coverage`: the `--min-coverage` threshold, when given (exit 3 when `coverage` is below it). */
  summary: { tests: number; passed: number; failed: number; coverage?: number; min_coverage?: number };
}

/** Text from a policy (a test's name, a request's strings in a message) as a terminal or CI log can
 *  show it: control characters (an ESC that would colour or move the cursor), and bidi overrides,
 *  escaped as `\u{1b}`; newlines too, unless `lines` (a multi-line note). */
export function printable(s: string, lines = false): string {
  return escapeControls(s, (ch) => (lines && ch === '\n' ? ch : codePoint(ch)));
}

export function renderTestsText(r: TestRunResult, c: Colors, minCoverage?: number): string {
  const out: string[] = [];
  let lastSet = '';
  for (const t of r.tests) {
    if (t.set !== lastSet) {
      out.push(c.bold(t.set));
      lastSet = t.set;
    }
    const name = printable(t.name);
    if (t.passed) out.push(`  ${c.green('✓')} ${name}`);
    else {
      out.push(`  ${c.red('✗')} ${name}  ${c.dim(`${t.file}:${t.line}:${t.column}`)}`);
      if (t.expected !== undefined) out.push(`      expected: ${t.expected}`);
      if (t.actual !== undefined) out.push(`      actual:   ${t.actual}`);
      if (t.note !== undefined) out.push(`      why:      ${printable(t.note, true)}`);
      if (t.message && t.expected === undefined) out.push(`      ${printable(t.message, true)}`);
    }
  }
  for (const cov of r.coverage ?? []) {
    out.push('');
    out.push(`coverage ${cov.set}: ${cov.percent.toFixed(1)}% (${cov.covered}/${cov.total})`);
    for (const it of cov.items.filter((i) => !i.covered)) {
      out.push(`  ${c.yellow('not covered')}: ${it.kind} ${it.name}${it.file ? `  ${c.dim(`${it.file}:${it.line}:${it.column}`)}` : ''}`);
    }
  }
  const s = r.summary;
  out.push('');
  const line = `${s.passed} passed, ${s.failed} failed`;
  out.push(s.failed > 0 ? c.red(line) : c.green(line));
  if (s.coverage !== undefined && minCoverage !== undefined && s.coverage < minCoverage) out.push(c.red(coverageShort(s.coverage, minCoverage)));
  return out.join('\n') + '\n';
}

/** The sentence for coverage under `--min-coverage` (every format says it: exit 3 must have a reason). */
export function coverageShort(coverage: number, min: number): string {
  return `coverage ${coverage.toFixed(1)}% is below --min-coverage ${min}%`;
}

export function renderTestsJson(r: TestRunResult): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/** Text for XML (JUnit): characters XML 1.0 cannot hold dropped, markup escaped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** JUnit XML: one <testsuite> per policy set, one <testcase> per test; failures carry expected vs actual. */
/** A policy set that could not be tested (it has errors): reported as a JUnit `<error>`, so a CI
 *  dashboard does not show an empty green run. `lines` are the errors as text (`file:line:col code message`). */
export interface SetError {
  set: string;
  lines: string[];
}

/** `short`: coverage is below `--min-coverage` (this sentence): one more suite, `coverage`, with a
 *  failing test case, so the CI's test view is not green while the exit code is 3. */
export function renderTestsJunit(r: TestRunResult, setErrors: readonly SetError[] = [], short?: string): string {
  const bySet = new Map<string, TestCaseResult[]>();
  for (const t of r.tests) {
    const list = bySet.get(t.set) ?? [];
    list.push(t);
    bySet.set(t.set, list);
  }
  const timing = (set: string) => r.timings?.[set] ?? 0;
  const total = Object.values(r.timings ?? {}).reduce((a, t) => a + t, 0);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rein" tests="${r.summary.tests + setErrors.length + (short ? 1 : 0)}" failures="${r.summary.failed + (short ? 1 : 0)}" errors="${setErrors.length}" time="${secs(total)}">`,
  ];
  for (const e of setErrors) {
    out.push(`  <testsuite name="${xmlEscape(e.set)}" tests="1" failures="0" errors="1" skipped="0" time="0.000">`);
    out.push(`    <testcase name="the policy set checks" classname="${xmlEscape(e.set)}">`);
    out.push(`      <error message="${xmlEscape(`${e.lines.length} error${e.lines.length === 1 ? '' : 's'}: the set was not tested`)}" type="policy errors">${xmlEscape(e.lines.join('\n'))}</error>`);
    out.push('    </testcase>');
    out.push('  </testsuite>');
  }
  for (const [set, tests] of bySet) {
    const failures = tests.filter((t) => !t.passed).length;
    const time = timing(set);
    out.push(`  <testsuite name="${xmlEscape(set)}" tests="${tests.length}" failures="${failures}" errors="0" skipped="0" time="${secs(time)}">`);
    for (const t of tests) {
      const attrs = `name="${xmlEscape(t.name)}" classname="${xmlEscape(t.file)}" file="${xmlEscape(t.file)}" line="${t.line}"`;
      if (t.passed) out.push(`    <testcase ${attrs}/>`);
      else {
        const msg = t.message ?? `expected ${t.expected ?? '?'}, got ${t.actual ?? '?'}`;
        const body = [`${t.file}:${t.line}:${t.column}`, `expected: ${t.expected ?? '?'}`, `actual:   ${t.actual ?? '?'}`, ...(t.note ? [`why:      ${t.note}`] : [])].join('\n');
        out.push(`    <testcase ${attrs}>`);
        out.push(`      <failure message="${xmlEscape(msg)}" type="REIN403">${xmlEscape(body)}</failure>`);
        out.push('    </testcase>');
      }
    }
    out.push('  </testsuite>');
  }
  if (short) {
    out.push('  <testsuite name="coverage" tests="1" failures="1" errors="0" skipped="0" time="0.000">');
    out.push('    <testcase name="coverage reaches --min-coverage" classname="coverage">');
    out.push(`      <failure message="${xmlEscape(short)}" type="coverage">${xmlEscape(short)}</failure>`);
    out.push('    </testcase>');
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
