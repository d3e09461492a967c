// The built-ins of LANGUAGE §4 and §6, one entry each: global functions and values, list, map and
// string methods, budget members and detectors. An entry holds everything about its built-in: the
// signature the checker types with, the editor documentation (hover, signature help, completion and
// its snippet), an example, and how the evaluator runs it — for a list method its loop as data
// (`ListLoop`: both backends of the evaluator read it, runtime/closures.ts and runtime/codegen-rules.ts),
// for a map method what each key yields, for a string method its implementation (string-methods.ts:
// the one the closure backend calls; the JavaScript backend inlines `starts_with`/`ends_with`/
// `contains` and calls the closure for the rest).
//
// Adding a list or map method is one entry here, whose run (its `loop`, or what it `yields`) it
// spreads from method-runs.ts, where lowering reads it without the docs and typing (a prebuilt
// policy's bundle); a string method is one entry here and its implementation in string-methods.ts. Tests fail when its user documentation (docs/language.md §6)
// or its completion item is missing, or when the evaluator (both backends) does not run its example
// (test/semantics/builtins.test.ts); test/runtime/list-loops.test.ts adds methods at test time and
// checks that nothing besides the entry is needed.

import { emailDomain, STRING_RUN, type StringRun } from './string-methods.js';
import { T, typeToString as typeName, type Type } from './types.js';
import { LIST_RUNS, MAP_RUNS, type ListLoop, type MapYield } from './method-runs.js';

/**
 * A call that shows what a method does, and that tests run through the evaluator (both backends):
 * `v.CALL == RESULT` holds for a request whose `v` is `on`.
 */
export interface BuiltinExample {
  on: string | number[] | string[] | Record<string, string>;
  call: string;
  result: unknown;
}

/** What editors show for a built-in (hover, signature help, completion). */
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

/** A registry as an object without a prototype: `xs.toString()` or `m.constructor()` name no entry. */
const registry = <T extends object>(entries: T): T => Object.assign(Object.create(null) as T, entries);

const fnType = (params: Type[], result: Type): Type => ({ kind: 'function', params, result });

const snippetOf = (name: string, params: string[]) =>
  params.length ? `${name}(${params.map((p, i) => `\${${i + 1}:${p.split(':')[0].trim()}}`).join(', ')})` : `${name}()`;

const doc = (name: string, signature: string, params: string[], text: string, snippet?: string): BuiltinDoc => ({
  name,
  signature,
  params: params.map((p) => ({ name: p })),
  doc: text,
  snippet: snippet ?? snippetOf(name, params),
});

// ------------------------------------------------------------------ global functions and values

export interface GlobalBuiltin extends BuiltinDoc {
  /** A function type, or the value's type (`now`). The checker refines the result (`min`, `max`). */
  type: Type;
}

const global = (name: string, type: Type, signature: string, params: string[], text: string): GlobalBuiltin => ({
  ...doc(name, signature, params, text),
  type,
});

export const GLOBAL_BUILTINS = registry({
  len: global('len', fnType([T.any], T.int), 'len(x: string | list | map): int', ['x'], 'The length of a string, list or map.'),
  min: global('min', fnType([T.any, T.any], T.any), 'min(a, b)', ['a', 'b'], 'The smaller of two numbers, money amounts or durations.'),
  max: global('max', fnType([T.any, T.any], T.any), 'max(a, b)', ['a', 'b'], 'The larger of two numbers, money amounts or durations.'),
  now: { name: 'now', type: T.time, signature: 'now: time', params: [], doc: 'The evaluation time (the engine clock; `at` in tests).', property: true },
  type_of: global(
    'type_of',
    fnType([T.any], { kind: 'enum', values: ['string', 'number', 'bool', 'list', 'map', 'null'] }),
    'type_of(x: any): "string" | "number" | "bool" | "list" | "map" | "null"',
    ['x'],
    'The shape of a value, to handle each shape of an `any` field: `type_of(cmd) == "list" and cmd.any(a => …)`. Money, durations and times are `"number"`.',
  ),
  hour: global('hour', fnType([T.time], T.int), 'hour(t: time): int', ['t'], 'The hour of day of `t` in UTC, 0–23.'),
  weekday: global('weekday', fnType([T.time], T.int), 'weekday(t: time): int', ['t'], 'The day of week of `t` in UTC: 1 = Monday … 7 = Sunday.'),
  string: global(
    'string',
    fnType([T.any], T.string),
    'string(x: any): string',
    ['x'],
    'Any value as text, rendered as in `"${x}"`: a string as itself, money as `$1.50`, durations as `1h30m`, times in RFC 3339, `null` as `null`, lists as `[1, "a"]` and maps as `{ k: v }` (strings inside quoted).',
  ),
} satisfies Record<string, GlobalBuiltin>);
export type GlobalName = keyof typeof GLOBAL_BUILTINS;

/** Global functions and values by name, as types (the checker's view). */
export const GLOBALS: Record<string, Type> = registry(Object.fromEntries(Object.values(GLOBAL_BUILTINS).map((g) => [g.name, g.type])));

// ------------------------------------------------------------------ list methods

/**
 * What the checker offers a list method's typing: the receiver's element type, and its arguments
 * typed on demand (a lambda with the element as its parameter, or a plain value). Diagnostics go
 * through `error`. The checker has already checked the arity (`min`/`max`).
 */
export interface ListMethodTyping {
  /** The receiver (a list type). */
  list: Type & { kind: 'list' };
  /** The method as shown in messages: `` `.any()` ``. */
  what: string;
  /** How many arguments the call has. */
  argc: number;
  /** Type argument `i` as a lambda `x => …` with `x: elem`; the body's type (`T.error` when absent). */
  lambda(i: number): Type;
  /** Type argument `i` as a lambda whose body must be a `bool` (reported otherwise). */
  predicate(i: number): void;
  /** Type argument `i` as a plain value (`T.error` when absent). */
  value(i: number): Type;
  /** Report on argument `i` (the call itself when it has none). */
  error(i: number, code: 'REIN206' | 'REIN209', message: string, extra?: { help?: string; nullGuard?: boolean }): void;
  /** Whether `t` compares with the element type (`==`), and an enum literal's check against it. */
  comparable(t: Type, i: number): boolean;
}

export type { ListLoop, MapYield } from './method-runs.js';

export interface ListMethod extends BuiltinDoc {
  /** Whether its argument is a lambda (`x => …`); otherwise its argument (if any) is a value. */
  lambda: boolean;
  min: number;
  max: number;
  /** The result type; types the arguments through `c`. */
  type(c: ListMethodTyping): Type;
  /** How the evaluator runs it. */
  loop: ListLoop;
  example: BuiltinExample;
}

const lambdaDoc = (name: string, signature: string, text: string): BuiltinDoc => ({
  name,
  signature,
  params: [{ name: 'p', doc: 'a lambda `x => expr`' }],
  doc: text,
  snippet: `${name}(\${1:x} => \${2})`,
});

const isNumericResult = (k: Type['kind']) => k === 'int' || k === 'number' || k === 'money' || k === 'duration';

export const LIST_BUILTINS = registry({
  any: {
    ...lambdaDoc('any', 'xs.any(p: x => bool): bool', 'True when `p` holds for at least one element.'),
    ...LIST_RUNS.any,
    example: { on: [1, 2, 3], call: 'any(x => x > 2)', result: true },
    type: (c) => (c.predicate(0), T.bool),
  },
  all: {
    ...lambdaDoc('all', 'xs.all(p: x => bool): bool', 'True when `p` holds for every element (true for an empty list).'),
    ...LIST_RUNS.all,
    example: { on: [1, 2, 3], call: 'all(x => x > 1)', result: false },
    type: (c) => (c.predicate(0), T.bool),
  },
  count: {
    ...lambdaDoc('count', 'xs.count(p: x => bool): int', 'The number of elements for which `p` holds.'),
    ...LIST_RUNS.count,
    example: { on: [1, 2, 3], call: 'count(x => x >= 2)', result: 2 },
    type: (c) => (c.predicate(0), T.int),
  },
  filter: {
    ...lambdaDoc('filter', 'xs.filter(p: x => bool): list<T>', 'The elements for which `p` holds.'),
    ...LIST_RUNS.filter,
    example: { on: [1, 2, 3], call: 'filter(x => x != 2)', result: [1, 3] },
    type: (c) => (c.predicate(0), c.list),
  },
  map: {
    ...lambdaDoc('map', 'xs.map(f: x => U): list<U>', 'Each element transformed by `f`.'),
    ...LIST_RUNS.map,
    example: { on: [1, 2], call: 'map(x => x * 10)', result: [10, 20] },
    type: (c) => ({ kind: 'list', elem: c.argc > 0 ? c.lambda(0) : T.any }),
  },
  sum: {
    ...lambdaDoc('sum', 'xs.sum(f: x => number | money): number | money', 'The sum of `f` over the elements (exact for money).'),
    ...LIST_RUNS.sum,
    example: { on: [1, 2, 3], call: 'sum(x => x * 2)', result: 12 },
    type: (c) => {
      const it = c.argc > 0 ? c.lambda(0) : c.list.elem;
      const s = it.kind === 'nullable' ? it.inner : it;
      const loose = s.kind === 'any' || s.kind === 'error';
      if (it.kind === 'nullable' && !loose) {
        c.error(0, 'REIN206', `the values summed by ${c.what} may be null`, { nullGuard: true, help: 'add a default with `??`' });
        return T.error;
      }
      if (loose) return T.any;
      if (isNumericResult(s.kind)) return s;
      c.error(0, 'REIN209', `${c.what} needs numbers, money or durations, found \`${typeName(it)}\``);
      return T.error;
    },
  },
  len: {
    ...doc('len', 'xs.len(): int', [], 'The number of elements.'),
    ...LIST_RUNS.len,
    example: { on: [1, 2, 3], call: 'len()', result: 3 },
    type: () => T.int,
  },
  contains: {
    ...doc('contains', 'xs.contains(v): bool', ['v'], 'True when `v` is an element (same as `v in xs`).'),
    ...LIST_RUNS.contains,
    example: { on: ['a', 'b'], call: 'contains("b")', result: true },
    type: (c) => {
      if (c.argc > 0) {
        const t = c.value(0);
        if (!c.comparable(t, 0)) c.error(0, 'REIN209', `${c.what} on \`${typeName(c.list)}\` needs a \`${typeName(c.list.elem)}\`, found \`${typeName(t)}\``);
      }
      return T.bool;
    },
  },
} satisfies Record<string, ListMethod>);
export type ListMethodName = keyof typeof LIST_BUILTINS;

/** List methods by name (the checker's and the linter's view). The same object as method-runs.ts's
 *  `LIST_RUNS`, which lowering reads: its entries become these full ones. */
export const LIST_METHODS: Record<string, ListMethod> = Object.assign(LIST_RUNS as Record<string, ListMethod>, LIST_BUILTINS);

// ------------------------------------------------------------------ map methods

/** A map method (`m.keys()`): no arguments; its result type from the receiver's value type. */
export interface MapMethod extends BuiltinDoc {
  /** The result type for a map (or object) whose values are `value`. */
  result(value: Type): Type;
  /** How the evaluator runs it (runtime/ops.ts `mapMethod`): one list item per key, in sorted key
   *  order — the key, its value, or an entry `{ key, value }`. */
  yields: MapYield;
  example: BuiltinExample;
}

/** The element of `m.entries()`: an object `{ key, value }`. */
export const entryType = (value: Type): Type => ({
  kind: 'object',
  fields: [
    { name: 'key', type: T.string, optional: false, doc: 'The key.' },
    { name: 'value', type: value, optional: false, doc: 'The value.' },
  ],
});

export const MAP_BUILTINS = registry({
  keys: {
    ...doc('keys', 'm.keys(): list<string>', [], 'The keys, sorted (by UTF-16 code units, so the order does not depend on the request\'s JSON).'),
    ...MAP_RUNS.keys,
    example: { on: { b: '2', a: '1' }, call: 'keys()', result: ['a', 'b'] },
    result: () => ({ kind: 'list', elem: T.string }),
  },
  values: {
    ...doc('values', 'm.values(): list<V>', [], 'The values, in the order of `keys()`: `args.values().any(v => …)` scans every argument, whatever its name.'),
    ...MAP_RUNS.values,
    example: { on: { b: '2', a: '1' }, call: 'values()', result: ['1', '2'] },
    result: (v) => ({ kind: 'list', elem: v }),
  },
  entries: {
    ...doc('entries', 'm.entries(): list<{ key: string, value: V }>', [], 'One object `{ key, value }` per key, in the order of `keys()`: `args.entries().any(e => e.key.starts_with("x_") and …)`.'),
    ...MAP_RUNS.entries,
    example: { on: { b: '2', a: '1' }, call: 'entries().map(e => "${e.key}=${e.value}")', result: ['a=1', 'b=2'] },
    result: (v) => ({ kind: 'list', elem: entryType(v) }),
  },
} satisfies Record<string, MapMethod>);
export type MapMethodName = keyof typeof MAP_BUILTINS;

/** Map methods by name (the checker's view). The same object as method-runs.ts's `MAP_RUNS`. */
export const MAP_METHODS: Record<string, MapMethod> = Object.assign(MAP_RUNS as Record<string, MapMethod>, MAP_BUILTINS);

// ------------------------------------------------------------------ string methods

export interface StringMethod extends BuiltinDoc {
  params: { name: string; doc?: string; type: Type }[];
  result: Type;
  /** The implementation, from string-methods.ts (the one the evaluator's closure backend calls). */
  run: StringRun;
  example: BuiltinExample;
}

/** A string method: its signature is written from its parameters and result, its implementation is
 *  string-methods.ts's of the same name. */
const str = (
  name: keyof typeof STRING_RUN,
  params: [string, Type][],
  result: Type,
  text: string,
  example: [on: string, call: string, result: unknown],
): StringMethod => ({
  ...doc(name, `s.${name}(${params.map(([n, t]) => `${n}: ${typeName(t)}`).join(', ')}): ${typeName(result)}`, params.map((p) => p[0]), text),
  params: params.map(([n, type]) => ({ name: n, type })),
  result,
  run: STRING_RUN[name],
  example: { on: example[0], call: example[1], result: example[2] },
});

export { emailDomain };

export const STRING_BUILTINS = registry({
  len: str('len', [], T.int, 'The length in characters.', ['abc', 'len()', 3]),
  lower: str('lower', [], T.string, 'Lower case.', ['AbC', 'lower()', 'abc']),
  upper: str('upper', [], T.string, 'Upper case.', ['AbC', 'upper()', 'ABC']),
  trim: str('trim', [], T.string, 'Without leading and trailing white space.', ['  a b ', 'trim()', 'a b']),
  starts_with: str(
    'starts_with',
    [['prefix', T.string]],
    T.bool,
    'True when `s` starts with `prefix`.',
    ['rm -rf /', 'starts_with("rm ")', true],
  ),
  ends_with: str(
    'ends_with',
    [['suffix', T.string]],
    T.bool,
    'True when `s` ends with `suffix`.',
    ['report.pdf', 'ends_with(".exe")', false],
  ),
  contains: str(
    'contains',
    [['part', T.string]],
    T.bool,
    'True when `part` occurs in `s`.',
    ['DROP TABLE users', 'contains("TABLE")', true],
  ),
  split: str(
    'split',
    [['sep', T.string]],
    { kind: 'list', elem: T.string },
    'The parts of `s` between occurrences of `sep`.',
    ['a,b', 'split(",")', ['a', 'b']],
  ),
  replace: str(
    'replace',
    [['old', T.string], ['new', T.string]],
    T.string,
    'Every occurrence of `old` replaced by `new`.',
    ['a-b-c', 'replace("-", "+")', 'a+b+c'],
  ),
  domain: str(
    'domain',
    [],
    { kind: 'nullable', inner: T.string },
    'The lower-cased domain of an e-mail address; `null` unless `s` is exactly one plain address (`"a@x.com, b@y.com"` and `"B <b@y.com>"` are null).',
    ['bob@Example.COM', 'domain()', 'example.com'],
  ),
  like: str(
    'like',
    [['glob', T.string]],
    T.bool,
    'True when the whole of `s` matches `glob` (Cedar\'s `like`): `*` is any run of characters (none included), `\\*` a literal star (written `"\\\\*"` in a string). No backtracking, so it is safe with globs from the request or from data.',
    ['list_files', 'like("list_*")', true],
  ),
} satisfies Record<string, StringMethod>);
export type StringMethodName = keyof typeof STRING_BUILTINS;

/** String methods by name (the checker's and the linter's view). */
export const STRING_METHODS: Record<string, StringMethod> = STRING_BUILTINS;

// ------------------------------------------------------------------ budgets and detectors

/** Budget properties (LANGUAGE §6): `used` is a fraction; the others are in the limit's unit. */
export function budgetProperty(unit: 'money' | 'number', name: string): Type | undefined {
  if (name === 'used') return T.number;
  if (name === 'spent' || name === 'remaining' || name === 'limit') return unit === 'money' ? T.money : T.number;
  return undefined;
}

const member = (name: string, text: string): BuiltinDoc => ({ name, signature: `${name}`, params: [], doc: text, property: true });
export const BUDGET_MEMBERS: BuiltinDoc[] = [
  member('spent', "What this request's key has spent in the current window, before this request."),
  member('remaining', "The limit minus spent and reserved, for this request's key."),
  member('limit', "The budget's limit."),
  member('used', 'Spent plus reserved as a fraction of the limit (compare with a percent: `used >= 80%`).'),
];
export const BUDGET_PROPERTIES = BUDGET_MEMBERS.map((m) => m.name);

export const DETECTOR_NAMESPACES: BuiltinDoc[] = [
  { name: 'pii', signature: 'pii', params: [], doc: 'Detectors for personal data: `email`, `phone`, `card`, `iban`, `any`.', property: true },
  { name: 'secrets', signature: 'secrets', params: [], doc: 'Detectors for credentials: `any` (cloud keys, tokens, private-key blocks, JWTs).', property: true },
];

const det = (ns: string, name: string, text: string): BuiltinDoc => ({
  name,
  signature: `${ns}.${name}(s: string): bool`,
  params: [{ name: 's', doc: 'the text to scan' }],
  doc: text + ' Plain and deterministic: no network.',
  snippet: `${name}(\${1:text})`,
});

/** Detectors by namespace (`pii.email(s)`); the implementations are runtime/detectors.ts `DETECTORS`. */
export const DETECTOR_DOCS: Record<string, BuiltinDoc[]> = {
  pii: [
    det('pii', 'email', 'True when `s` contains an e-mail address.'),
    det('pii', 'phone', 'True when `s` contains a phone number.'),
    det('pii', 'card', 'True when `s` contains a payment card number (Luhn valid).'),
    det('pii', 'iban', 'True when `s` contains an IBAN (checksum valid).'),
    det('pii', 'ssn', 'True when `s` contains a valid US SSN (`AAA-GG-SSSS`).'),
    det('pii', 'ip', 'True when `s` contains an IPv4 or IPv6 address.'),
    det('pii', 'url', 'True when `s` contains a web URL (`https://…`, `www.…`).'),
    det('pii', 'any', 'True when `s` contains any of email, phone, card, IBAN, SSN.'),
  ],
  secrets: [
    det('secrets', 'aws', 'True when `s` contains an AWS access key id.'),
    det('secrets', 'github', 'True when `s` contains a GitHub token.'),
    det('secrets', 'slack', 'True when `s` contains a Slack token or webhook URL.'),
    det('secrets', 'stripe', 'True when `s` contains a Stripe live key.'),
    det('secrets', 'google', 'True when `s` contains a Google API key.'),
    det('secrets', 'openai', 'True when `s` contains an OpenAI API key.'),
    det('secrets', 'anthropic', 'True when `s` contains an Anthropic API key.'),
    det('secrets', 'jwt', 'True when `s` contains a JWT.'),
    det('secrets', 'private_key', 'True when `s` contains a private-key block.'),
    det('secrets', 'any', 'True when `s` contains any secret above.'),
  ],
};

/** Detector namespaces and their detectors' names (the checker's view). Every detector is `(string) => bool`. */
export const DETECTORS: Record<string, string[]> = Object.fromEntries(Object.entries(DETECTOR_DOCS).map(([ns, ds]) => [ns, ds.map((d) => d.name)]));
export const DETECTOR_TYPE: Type = fnType([T.string], T.bool);

/** Builtin type names usable in type positions. */
export const BUILTIN_TYPES = ['string', 'number', 'int', 'bool', 'money', 'duration', 'time', 'any', 'list', 'map'];
