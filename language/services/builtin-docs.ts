// Editor documentation for the built-ins of LANGUAGE §4 and §6: globals, list and string methods,
// budget members and detectors. Used by completion, hover and signature help.

export interface BuiltinDoc {
  name: string;
  /** Signature as shown to the user, e.g. `xs.any(p: x => bool): bool`. */
  signature: string;
  params: { name: string; doc?: string }[];
  doc: string;
  /** A snippet for completion (`any(${1:x} => ${2:cond})`). */
  snippet?: string;
  /** True for properties read without a call (`now`, budget members). */
  property?: boolean;
}

const fn = (name: string, signature: string, params: string[], doc: string, snippet?: string): BuiltinDoc => ({
  name,
  signature,
  params: params.map((p) => ({ name: p })),
  doc,
  snippet: snippet ?? (params.length ? `${name}(${params.map((p, i) => `\${${i + 1}:${p.split(':')[0].trim()}}`).join(', ')})` : `${name}()`),
});

export const GLOBALS: BuiltinDoc[] = [
  fn('len', 'len(x: string | list | map): int', ['x'], 'The length of a string, list or map.'),
  fn('min', 'min(a, b)', ['a', 'b'], 'The smaller of two numbers, money amounts or durations.'),
  fn('max', 'max(a, b)', ['a', 'b'], 'The larger of two numbers, money amounts or durations.'),
  { name: 'now', signature: 'now: time', params: [], doc: 'The evaluation time (the engine clock; `at` in tests).', property: true },
  fn('type_of', 'type_of(x: any): "string" | "number" | "bool" | "list" | "map" | "null"', ['x'], 'The shape of a value, to handle each shape of an `any` field: `type_of(cmd) == "list" and cmd.any(a => …)`. Money, durations and times are `"number"`.'),
  fn('hour', 'hour(t: time): int', ['t'], 'The hour of day of `t` in UTC, 0–23.'),
  fn('weekday', 'weekday(t: time): int', ['t'], 'The day of week of `t` in UTC: 1 = Monday … 7 = Sunday.'),
];

const lambda = (name: string, sig: string, doc: string): BuiltinDoc => ({
  name,
  signature: sig,
  params: [{ name: 'p', doc: 'a lambda `x => expr`' }],
  doc,
  snippet: `${name}(\${1:x} => \${2})`,
});

export const LIST_METHODS: BuiltinDoc[] = [
  lambda('any', 'xs.any(p: x => bool): bool', 'True when `p` holds for at least one element.'),
  lambda('all', 'xs.all(p: x => bool): bool', 'True when `p` holds for every element (true for an empty list).'),
  lambda('count', 'xs.count(p: x => bool): int', 'The number of elements for which `p` holds.'),
  lambda('filter', 'xs.filter(p: x => bool): list<T>', 'The elements for which `p` holds.'),
  lambda('map', 'xs.map(f: x => U): list<U>', 'Each element transformed by `f`.'),
  lambda('sum', 'xs.sum(f: x => number | money): number | money', 'The sum of `f` over the elements (exact for money).'),
  fn('len', 'xs.len(): int', [], 'The number of elements.'),
  fn('contains', 'xs.contains(v): bool', ['v'], 'True when `v` is an element (same as `v in xs`).'),
];

export const STRING_METHODS: BuiltinDoc[] = [
  fn('len', 's.len(): int', [], 'The length in characters.'),
  fn('lower', 's.lower(): string', [], 'Lower case.'),
  fn('upper', 's.upper(): string', [], 'Upper case.'),
  fn('trim', 's.trim(): string', [], 'Without leading and trailing white space.'),
  fn('starts_with', 's.starts_with(prefix: string): bool', ['prefix'], 'True when `s` starts with `prefix`.'),
  fn('ends_with', 's.ends_with(suffix: string): bool', ['suffix'], 'True when `s` ends with `suffix`.'),
  fn('contains', 's.contains(part: string): bool', ['part'], 'True when `part` occurs in `s`.'),
  fn('split', 's.split(sep: string): list<string>', ['sep'], 'The parts of `s` between occurrences of `sep`.'),
  fn('replace', 's.replace(old: string, new: string): string', ['old', 'new'], 'Every occurrence of `old` replaced by `new`.'),
  fn('domain', 's.domain(): string?', [], 'The lower-cased domain of an e-mail address; `null` unless `s` is exactly one plain address (`"a@x.com, b@y.com"` and `"B <b@y.com>"` are null).'),
];

const member = (name: string, doc: string): BuiltinDoc => ({ name, signature: `${name}`, params: [], doc, property: true });
export const BUDGET_MEMBERS: BuiltinDoc[] = [
  member('spent', 'What this request\'s key has spent in the current window, before this request.'),
  member('remaining', 'The limit minus spent and reserved, for this request\'s key.'),
  member('limit', 'The budget\'s limit.'),
  member('used', 'Spent plus reserved as a fraction of the limit (compare with a percent: `used >= 80%`).'),
];

export const DETECTOR_NAMESPACES: BuiltinDoc[] = [
  { name: 'pii', signature: 'pii', params: [], doc: 'Detectors for personal data: `email`, `phone`, `card`, `iban`, `any`.', property: true },
  { name: 'secrets', signature: 'secrets', params: [], doc: 'Detectors for credentials: `any` (cloud keys, tokens, private-key blocks, JWTs).', property: true },
];

const det = (ns: string, name: string, doc: string): BuiltinDoc => ({
  name,
  signature: `${ns}.${name}(s: string): bool`,
  params: [{ name: 's', doc: 'the text to scan' }],
  doc: doc + ' Plain and deterministic: no network.',
  snippet: `${name}(\${1:text})`,
});
export const DETECTORS: Record<string, BuiltinDoc[]> = {
  pii: [
    det('pii', 'email', 'True when `s` contains an e-mail address.'),
    det('pii', 'phone', 'True when `s` contains a phone number.'),
    det('pii', 'card', 'True when `s` contains a payment card number (Luhn valid).'),
    det('pii', 'iban', 'True when `s` contains an IBAN (checksum valid).'),
    det('pii', 'any', 'True when `s` contains any of the personal data above.'),
  ],
  secrets: [det('secrets', 'any', 'True when `s` contains a secret: cloud keys, tokens, private-key blocks, JWTs.')],
};

export function findGlobal(name: string): BuiltinDoc | undefined {
  return GLOBALS.find((g) => g.name === name);
}
export function findDetector(ns: string, name: string): BuiltinDoc | undefined {
  return DETECTORS[ns]?.find((d) => d.name === name);
}
export function findNamespace(name: string): BuiltinDoc | undefined {
  return DETECTOR_NAMESPACES.find((d) => d.name === name);
}

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
  require: '`require approval [from EXPR] [MSG]`: only with a human approval bound to this exact request.',
  warn: 'Allowed, with a warning. In a budget: `warn at PCT`.',
  allow: 'Explicitly allowed (matters under `default deny`).',
  limit: '`limit AMOUNT [per WINDOW]`: the ceiling; windows are fixed and aligned to UTC.',
  charge: '`charge EXPR`: what one request draws.',
  by: '`by EXPR, …`: one counter per distinct value tuple. In a test: `expect EFFECT by NAME, …`.',
  given: '`given EXPR`: the request of the test.',
  spent: '`spent BUDGET = AMOUNT`: pre-existing spend for the request\'s key.',
  at: '`at "RFC 3339 time"`: the test clock.',
  approved: '`approved RULE, …`: approvals granted for this exact request.',
  expect: '`expect EFFECT [by NAME, …]` or `expect warnings NAME, … | none`.',
};
