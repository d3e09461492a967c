// The VS Code extension's direct uses of the core (extension/src/extension.ts; bundled into dist/extension.js): listing and running a
// policy set's tests for the Test Explorer, and evaluating a request. The same loading and functions
// as `rein test` and `rein eval` (language/node/load.ts): `rein.json` found upward, a base set layered
// under `extends`, data files, symbolic links followed, a dangling link or an unreadable file reported.

import * as path from 'node:path';
import { compile } from '../policy.js';
import { runTests } from '../runtime/test-runner.js';
import { checkPolicySet, readPolicyDir, type PolicySet } from './load.js';
import type { CheckResult } from '../semantics/program.js';

export interface TestInfo {
  name: string;
  /** File name within the set (relative to its directory; a base set's files start with `../`). */
  file: string;
  /** The file's absolute path. */
  path: string;
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

/** The set in `dir` as `rein test DIR` reads it, or why it cannot be read (no `.rein` files, a
 *  dangling link, a rein.json that is not JSON, …). */
async function readSet(dir: string): Promise<{ set: PolicySet } | { error: string }> {
  try {
    return { set: await readPolicyDir(dir) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const pathOf = (set: PolicySet, file: string) => set.paths[file] ?? path.join(set.root, file);

/** The first error of a set that does not check, as one line. */
function firstError(set: PolicySet, result: CheckResult): string {
  const e = result.diagnostics.find((d) => d.severity === 'error')!;
  return `${path.relative(set.root, pathOf(set, e.file)) || e.file}:${e.range.start.line + 1}:${e.range.start.character + 1} ${e.code} ${e.message}`;
}

function testsOf(set: PolicySet, result: CheckResult): TestInfo[] {
  const tests: TestInfo[] = [];
  for (const t of result.program.tests) {
    const file = result.program.declFile.get(t) ?? '';
    const name = t.name ? t.name.parts.map((p) => (p.kind === 'Text' ? p.value : '')).join('') : '';
    if (name) tests.push({ name, file, path: pathOf(set, file), line: t.range.start.line + 1 });
  }
  return tests;
}

/** The tests of the set in `dir` (from the syntax tree; works even when the set has type errors);
 *  null when the directory is not a policy set that loads. */
export async function loadSetFromDirectory(dir: string): Promise<{ tests: TestInfo[] } | null> {
  const r = await readSet(dir);
  if ('error' in r) return null;
  return { tests: testsOf(r.set, checkPolicySet(r.set)) };
}

/** Runs every test of the set; a set with errors reports each test as failed with the first error. */
export async function runSetTests(dir: string): Promise<TestResultView[]> {
  const r = await readSet(dir);
  if ('error' in r) return [];
  const { set } = r;
  const result = checkPolicySet(set);
  if (!result.ok) {
    const msg = `the policy set has errors: ${firstError(set, result)}`;
    return testsOf(set, result).map((t) => ({ ...t, passed: false, message: msg, durationMs: 0 }));
  }
  const t0 = Date.now();
  const report = runTests(compile(result));
  const each = report.results.length ? (Date.now() - t0) / report.results.length : 0;
  return report.results.map((t) => ({
    name: t.name,
    file: t.file,
    path: pathOf(set, t.file),
    line: t.line,
    passed: t.passed,
    message: t.message ?? (t.passed ? 'passed' : 'failed'),
    expected: t.passed ? undefined : JSON.stringify(t.expected, null, 2),
    actual: t.passed || !t.actual ? undefined : JSON.stringify(t.actual, null, 2),
    durationMs: each,
  }));
}

/** Evaluates one request (JSON text) against the set in `dir`: the decision as pretty JSON and a one-line summary. */
export async function evaluateInDirectory(dir: string, requestText: string): Promise<{ json: string; summary: string }> {
  const r = await readSet(dir);
  if ('error' in r) return { json: JSON.stringify({ error: r.error }, null, 2), summary: `the policy set does not load: ${r.error}` };
  let request: unknown;
  try {
    request = JSON.parse(requestText);
  } catch (e) {
    return { json: JSON.stringify({ error: `the request is not JSON: ${(e as Error).message}` }, null, 2), summary: 'the request is not valid JSON' };
  }
  const result = checkPolicySet(r.set);
  if (!result.ok) {
    return { json: JSON.stringify({ diagnostics: result.diagnostics }, null, 2), summary: `the policy set has errors (${firstError(r.set, result)})` };
  }
  const d = compile(result).evaluate(request, { explain: true });
  const names = [...d.reasons.map((x) => x.name ?? x.kind), ...d.approvals.map((a) => a.name)].filter(Boolean);
  return { json: JSON.stringify(d, null, 2), summary: `${d.effect}${names.length ? ` by ${names.join(', ')}` : ''}` };
}
