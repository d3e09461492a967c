// Editor documentation for the built-ins of LANGUAGE §4 and §6, as lists for completion, hover and
// signature help. The entries themselves (signature, typing, documentation, snippet) are the
// registry in semantics/builtins.ts: nothing is written here.

import {
  BUDGET_MEMBERS,
  DETECTOR_DOCS,
  DETECTOR_NAMESPACES,
  GLOBAL_BUILTINS,
  LIST_BUILTINS,
  MAP_BUILTINS,
  STRING_BUILTINS,
  type BuiltinDoc,
} from '../semantics/builtins.js';

export type { BuiltinDoc } from '../semantics/builtins.js';
export { BUDGET_MEMBERS, DETECTOR_NAMESPACES } from '../semantics/builtins.js';

const view = (b: BuiltinDoc): BuiltinDoc => ({
  name: b.name,
  signature: b.signature,
  params: b.params.map((p) => ({ name: p.name, ...(p.doc ? { doc: p.doc } : {}) })),
  doc: b.doc,
  ...(b.snippet !== undefined ? { snippet: b.snippet } : {}),
  ...(b.property ? { property: true } : {}),
});

export const GLOBALS: BuiltinDoc[] = Object.values(GLOBAL_BUILTINS).map(view);
export const LIST_METHODS: BuiltinDoc[] = Object.values(LIST_BUILTINS).map(view);
export const STRING_METHODS: BuiltinDoc[] = Object.values(STRING_BUILTINS).map(view);
export const MAP_METHODS: BuiltinDoc[] = Object.values(MAP_BUILTINS).map(view);
export const DETECTORS: Record<string, BuiltinDoc[]> = DETECTOR_DOCS;

export function findGlobal(name: string): BuiltinDoc | undefined {
  return GLOBALS.find((g) => g.name === name);
}
export function findDetector(ns: string, name: string): BuiltinDoc | undefined {
  return DETECTORS[ns]?.find((d) => d.name === name);
}
export function findNamespace(name: string): BuiltinDoc | undefined {
  return DETECTOR_NAMESPACES.find((d) => d.name === name);
}

/** Annotation documentation for hover on `@NAME` and for its completion. */
export const ANNOTATION_DOCS: Record<string, string> = {
  priority: '`@priority("N")` on a rule: under `combine first_match` rules are tried by priority, higher first (a whole number, negative allowed, default 0); rules of one priority in source order. Without `combine first_match` it orders nothing (REIN241).',
  monitor: '`@monitor`: the rule is evaluated and reported under `monitored`, but never changes the effect.',
  severity: '`@severity("…")`: metadata carried into the decision (`annotations`).',
  owner: '`@owner("…")`: metadata carried into the decision (`annotations`).',
};

/** Keyword documentation for hover on keywords. */
export const KEYWORD_DOCS: Record<string, string> = {
  policy: 'The policy header: `version`, `default allow|deny`, `on error deny|allow`, `currency`.',
  input: 'The request schema. Its top-level fields are names in scope; `input` names the whole request.',
  type: 'A named type: `type Action = { … }`.',
  let: 'A constant: `let NAME [: TYPE] = EXPR`.',
  def: 'A pure helper function: `def NAME(PARAMS) [: TYPE] = EXPR`. Recursion is an error.',
  rule: 'A rule: `when`/`unless` conditions and exactly one effect (`deny`, `require approval`, `warn`, `allow`).',
  budget: 'A ceiling: `limit`, `charge`, `by`, `when`/`unless`, `warn at`, `on exceed`.',
  test: 'A test: `given` a request, `spent`, `at`, `approved`, then `expect`.',
  when: 'A condition that must hold (all `when` clauses must hold).',
  unless: 'A condition that must not hold.',
  deny: 'The action must not happen.',
  require: '`require approval [from EXPR] [quorum N] [expires DURATION] [MSG]`: only with a human approval bound to this exact request.',
  combine: '`combine deny_overrides | first_match` in the policy header: how rules combine. `deny_overrides` (default): any deny wins, then a pending approval, then an allow. `first_match`: only the first deciding rule counts, higher `@priority("N")` first, ties in source order.',
  first_match: '`combine first_match`: rules are tried by `@priority("N")` (higher first, default 0; ties in source order) and the first that matches and decides (deny, require approval, allow; not `warn`, not `@monitor`) is the only rule that counts.',
  deny_overrides: '`combine deny_overrides` (the default): every matching rule counts; any deny wins, then a pending approval, then an allow.',
  quorum: '`require approval … quorum N`: N distinct approvers (counted by the identity in their signed tokens) must approve; default 1.',
  expires: '`require approval … expires DURATION`: an approval counts only until DURATION after it was given (the token\'s issue time), checked against `now`.',
  warn: 'Allowed, with a warning. In a budget: `warn at PCT` (PCT may read the request and `let` data; null: no warning).',
  matches: '`s matches PATTERN`: a regular expression (RE2: linear time, no backtracking) found anywhere in `s`; anchor it with `^…$`. `(?i)` at its start makes it case-insensitive. PATTERN may be a list of patterns (a `let` or from the request): true when any matches, each checked.',
  allow: 'Explicitly allowed (matters under `default deny`).',
  limit: '`limit AMOUNT [per WINDOW]`: the ceiling; windows are fixed and aligned to UTC, or `per rolling 1h` (sliding) or `per 30d anchored` (from the key\'s first charge). AMOUNT may read the request and `let` data (`limit caps[agent.team] ?? $50 per 30d`), evaluated per request; a null, negative or infinite limit fails the budget closed.',
  rolling: '`per rolling DURATION`: a sliding window — every interval of that length admits at most the limit. Counted in 60 sub-buckets: a charge counts for at least the window and less than the window plus two sub-buckets.',
  anchored: '`per DURATION anchored`: periods of that length starting at the key\'s first charge (LiteLLM-style budgets), not at a calendar boundary.',
  burst: '`burst AMOUNT refill AMOUNT per DURATION`: a token bucket holding at most the burst; each period adds the refill back, in whole units. Written instead of `limit`.',
  refill: '`refill AMOUNT per DURATION`: what a token bucket gets back each period (the budget\'s unit).',
  charge: '`charge EXPR`: what one request draws.',
  by: '`by EXPR, …`: one counter per distinct value tuple. In a test: `expect EFFECT by NAME, …`.',
  given: '`given EXPR`: the request of the test.',
  spent: '`spent BUDGET = AMOUNT`: pre-existing spend for the request\'s key.',
  at: '`at "RFC 3339 time"`: the test clock.',
  approved: '`approved RULE, …`: approvals granted for this exact request.',
  expect: '`expect EFFECT [by NAME, …]` or `expect warnings NAME, … | none`.',
};
