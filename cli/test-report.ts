// Adapts the core test runner's report (language/runtime/test-runner.ts) to what the CLI prints.

import type { TestActual, TestExpectation, TestReport } from '../language/runtime/test-runner.js';
import type { SetCoverage, TestCaseResult } from './output/tests.js';

function names(xs: string[]): string {
  return xs.length ? xs.join(', ') : 'nothing';
}

/** `deny by no_shell; warnings none` — only the parts the test asserts. */
export function describeExpected(e: TestExpectation): string {
  const parts: string[] = [];
  if (e.effect !== null) parts.push(e.by !== null ? `${e.effect} by ${names(e.by)}` : e.effect);
  if (e.redact != null) parts.push(`with redact ${e.redact.length ? e.redact.join(', ') : 'none'}`);
  if (e.warnings !== null) parts.push(`warnings ${e.warnings.length ? e.warnings.join(', ') : 'none'}`);
  return parts.join('; ') || 'nothing';
}

/** `allow by default; warnings none` — the same parts, from the decision. */
export function describeActual(a: TestActual | null, e: TestExpectation): string {
  if (!a) return 'the test could not run';
  const parts = [`${a.effect} by ${a.by.length ? a.by.join(', ') : a.onError ? 'on error' : 'default'}${a.by.length && a.onError ? ' (and on error)' : ''}`];
  if (e.redact != null) parts.push(`with redact ${a.redact.length ? a.redact.join(', ') : 'none'}`);
  if (e.warnings !== null) parts.push(`warnings ${a.warnings.length ? a.warnings.join(', ') : 'none'}`);
  return parts.join('; ');
}

export function toCases(report: TestReport, set: string, display: (file: string) => string): TestCaseResult[] {
  return report.results.map((r) => {
    const t: TestCaseResult = {
      set,
      name: r.name,
      file: display(r.file),
      line: r.line,
      column: r.column,
      passed: r.passed,
    };
    if (!r.passed) {
      t.expected = describeExpected(r.expected);
      if (r.message) {
        t.message = r.message.split('\n').join('; ');
        // What expected vs actual does not show: an invalid request, the decision's errors.
        const notes = r.message.split('\n').filter((l) => !l.startsWith('expected '));
        if (notes.length > 0 && r.actual) t.note = notes.join('; ');
      }
      t.actual = r.actual ? describeActual(r.actual, r.expected) : `the test could not run${t.message ? ` (${t.message})` : ''}`;
    }
    return t;
  });
}

export function toCoverage(report: TestReport, set: string, display: (file: string) => string): SetCoverage | undefined {
  const c = report.coverage;
  if (!c) return undefined;
  const items = [...c.rules.items, ...c.budgets.items, ...c.effects.items].map((i) => ({
    kind: i.kind,
    name: i.name,
    covered: i.covered,
    file: display(i.location.file),
    line: i.location.line,
    column: i.location.column,
  }));
  return { set, covered: c.total.covered, total: c.total.total, percent: c.total.percent, items };
}
