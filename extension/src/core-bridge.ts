// The extension's direct uses of the core (bundled into dist/extension.js): listing and running a
// policy set's tests for the Test Explorer, and evaluating a request. The same functions as
// `rein test` and `rein eval`; file reading is synchronous and local to the set's directory.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { parseConfig } from '../../language/config.js';

export interface TestInfo {
  name: string;
  /** File name within the set's directory. */
  file: string;
  /** 1-based. */
  line: number;
}

export interface TestResultView extends TestInfo {
  passed: boolean;
  message: string;
  expected?: string;
  actual?: string;
  durationMs: number;
}

function readSet(dir: string): { files: Record<string, string>; config?: unknown } | null {
  if (!existsSync(dir)) return null;
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.rein')).sort()) files[f] = readFileSync(join(dir, f), 'utf8');
  if (Object.keys(files).length === 0) return null;
  const cfgPath = join(dir, 'rein.json');
  const config = existsSync(cfgPath) ? parseConfig(readFileSync(cfgPath, 'utf8')).config : undefined;
  return { files, config };
}

function testsOf(result: ReturnType<typeof check>): TestInfo[] {
  const tests: TestInfo[] = [];
  for (const t of result.program.tests) {
    const file = result.program.declFile.get(t) ?? '';
    const name = t.name ? t.name.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : '';
    if (name) tests.push({ name, file, line: t.range.start.line + 1 });
  }
  return tests;
}

/** The tests of the set in `dir` (from the syntax tree; works even when the set has type errors). */
export function loadSetFromDirectory(dir: string): { tests: TestInfo[] } | null {
  const set = readSet(dir);
  if (!set) return null;
  return { tests: testsOf(check(set.files, { config: set.config })) };
}

/** Runs every test of the set; a set with errors reports each test as failed with the first error. */
export function runSetTests(dir: string): TestResultView[] {
  const set = readSet(dir);
  if (!set) return [];
  const result = check(set.files, { config: set.config });
  if (!result.ok) {
    const listed = testsOf(result);
    const e = result.diagnostics.find((d) => d.severity === 'error')!;
    const msg = `the policy set has errors: ${e.file}:${e.range.start.line + 1}:${e.range.start.character + 1} ${e.code} ${e.message}`;
    return listed.map((t) => ({ ...t, passed: false, message: msg, durationMs: 0 }));
  }
  const t0 = Date.now();
  const report = runTests(compile(result));
  const each = report.results.length ? (Date.now() - t0) / report.results.length : 0;
  return report.results.map((r) => ({
    name: r.name,
    file: r.file,
    line: r.line,
    passed: r.passed,
    message: r.message ?? (r.passed ? 'passed' : 'failed'),
    expected: r.passed ? undefined : JSON.stringify(r.expected, null, 2),
    actual: r.passed || !r.actual ? undefined : JSON.stringify(r.actual, null, 2),
    durationMs: each,
  }));
}

/** Evaluates one request (JSON text) against the set in `dir`: the decision as pretty JSON and a one-line summary. */
export function evaluateInDirectory(dir: string, requestText: string): { json: string; summary: string } {
  const set = readSet(dir);
  if (!set) return { json: '{}', summary: `no .rein files in ${dir}` };
  let request: unknown;
  try {
    request = JSON.parse(requestText);
  } catch (e) {
    return { json: JSON.stringify({ error: `the request is not JSON: ${(e as Error).message}` }, null, 2), summary: 'the request is not valid JSON' };
  }
  const result = check(set.files, { config: set.config });
  if (!result.ok) {
    const e = result.diagnostics.find((d) => d.severity === 'error')!;
    return { json: JSON.stringify({ diagnostics: result.diagnostics }, null, 2), summary: `the policy set has errors (${e.code} ${e.message})` };
  }
  const d = compile(result).evaluate(request, { explain: true });
  const names = [...d.reasons.map((r) => r.name ?? r.kind), ...d.approvals.map((a) => a.name)].filter(Boolean);
  return { json: JSON.stringify(d, null, 2), summary: `${d.effect}${names.length ? ` by ${names.join(', ')}` : ''}` };
}
