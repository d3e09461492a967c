// One helper for editor-service tests: inline sources, one of which may hold a `<|>` cursor marker.
import { PolicySet, type Analysis } from '../../language/services/policy-set.js';

export const CURSOR = '<|>';

export interface Fixture {
  analysis: Analysis;
  /** The file holding the cursor (or the first file). */
  file: string;
  /** The cursor offset (-1 when no marker). */
  offset: number;
  set: PolicySet;
  text(file?: string): string;
}

/** The schema most tests share (`schema.rein`). */
export const SCHEMA = `input {
  session: { id: string, actions: int }
  agent: { id: string, team: string }
  /// The action the agent wants to take.
  action: Action
  cost?: { estimate: money, tokens: int }
  history: list<Step>
}

type Action = {
  kind: "tool_call" | "model_call" | "output"
  /// The tool name, for tool calls.
  tool?: string
  args?: map<any>
  text?: string
}
type Step = { tool: string, ok: bool }
`;

/**
 * Build a checked policy set from inline files. A string is one file `main.rein` plus `schema.rein`
 * (SCHEMA) unless it declares its own `input`.
 */
export function fixture(files: string | Record<string, string>): Fixture {
  const map: Record<string, string> = typeof files === 'string' ? { 'main.rein': files } : { ...files };
  if (typeof files === 'string' && !/^\s*input\s*\{/m.test(files)) map['schema.rein'] = SCHEMA;
  let file = Object.keys(map)[0];
  let offset = -1;
  for (const [name, text] of Object.entries(map)) {
    const i = text.indexOf(CURSOR);
    if (i >= 0) {
      if (offset >= 0) throw new Error('more than one cursor marker');
      file = name;
      offset = i;
      map[name] = text.slice(0, i) + text.slice(i + CURSOR.length);
    }
  }
  const set = new PolicySet();
  for (const [name, text] of Object.entries(map)) set.set(name, text, 1);
  const analysis = set.analysis();
  return { analysis, file, offset, set, text: (f = file) => map[f] };
}

/** The source text a range covers. */
export function slice(fx: Fixture, file: string, range: { start: { offset: number }; end: { offset: number } }): string {
  return fx.text(file).slice(range.start.offset, range.end.offset);
}
