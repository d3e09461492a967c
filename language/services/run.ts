// Running things from the editor: one `test` block (the Run test lens) and one request against
// the set (the Evaluate lens). Thin adapters over the runtime: compile, evaluate, runTests.

import { compile, type Policy } from '../policy.js';
import { runTests } from '../runtime/test-runner.js';
import { PolicyError } from '../errors.js';
import type { Decision } from '../runtime/decision.js';
import type { Analysis } from './policy-set.js';

export interface TestRun {
  name: string;
  passed: boolean;
  /** "passed", or what differed: "expected deny, got allow". */
  message: string;
  file?: string;
  line?: number;
}

export type Evaluation =
  | { ok: true; effect: Decision['effect']; matched: Set<string>; decision: Decision }
  | { ok: false; error: string };

const compiled = new WeakMap<Analysis, Policy | { error: string }>();

/** The compiled policy of an analysis (cached per analysis), or why it cannot compile. */
export function policyOf(analysis: Analysis): Policy | { error: string } {
  let p = compiled.get(analysis);
  if (!p) {
    try {
      p = compile(analysis.result);
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      const n = e.diagnostics.filter((d) => d.severity === 'error').length;
      p = { error: `the policy set has ${n} error${n === 1 ? '' : 's'}` };
    }
    compiled.set(analysis, p);
  }
  return p;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function runTest(analysis: Analysis, name: string): TestRun {
  const policy = policyOf(analysis);
  if ('error' in policy) return { name, passed: false, message: policy.error };
  const report = runTests(policy, { filter: new RegExp(`^${escapeRegExp(name)}$`) });
  const r = report.results.find((x) => x.name === name);
  if (!r) return { name, passed: false, message: `no test named \`${name}\`` };
  return { name, passed: r.passed, message: r.passed ? 'passed' : r.message ?? 'failed', file: r.location?.file, line: r.location?.line };
}

/** Run every test of the set (the Run all tests lens). */
export function runAllTests(analysis: Analysis): TestRun[] | { error: string } {
  const policy = policyOf(analysis);
  if ('error' in policy) return policy;
  return runTests(policy).results.map((r) => ({
    name: r.name,
    passed: r.passed,
    message: r.passed ? 'passed' : r.message ?? 'failed',
    file: r.location?.file,
    line: r.location?.line,
  }));
}

/** Evaluate a request (rules only, stateless) and name every rule that matched. */
export function evaluateRequest(analysis: Analysis, request: unknown): Evaluation {
  const policy = policyOf(analysis);
  if ('error' in policy) return { ok: false, error: policy.error };
  const decision = policy.evaluate(request);
  const matched = new Set<string>();
  for (const list of [decision.reasons, decision.approvals, decision.warnings, decision.monitored]) {
    for (const r of list as { name?: string }[]) if (r.name) matched.add(r.name);
  }
  return { ok: true, effect: decision.effect, matched, decision };
}
