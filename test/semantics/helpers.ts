// Small helpers for checker tests: a standard schema prelude and diagnostic summaries.
import { check } from '../../language/check.js';
import type { CheckResult } from '../../language/semantics/program.js';

export const SCHEMA = `
policy p { default deny }
input {
  action: { kind: "tool_call" | "model_call" | "output", tool?: string, args?: map<any>, text?: string }
  agent: { id: string, team: string, autonomy: int }
  cost?: { estimate: money, tokens: int }
  history: list<Step>
  started: time
  score: number
}
type Step = { tool: string, ok: bool, cost: money }
`;

/** Check `body` after the standard schema, in one file `t.rein`. */
export function checkBody(body: string): CheckResult {
  return check({ 't.rein': SCHEMA + body });
}

/** Codes of error diagnostics, in order. */
export function errors(body: string): string[] {
  return checkBody(body)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => d.code);
}

/** Error codes for a single condition inside a rule with a message. */
export function whenErrors(cond: string): string[] {
  return errors(`rule r {\n  when ${cond}\n  deny "m"\n}\n`);
}
