// Generated rule evaluation (see codegen.ts for when and how code is generated). All rules of a set
// become ONE straight-line function: reads of the request are inline property loads with constant
// keys, comparisons and `and`/`or`/`not` are inline operators, `in [constants]` is a Set lookup.
// Any other node (arithmetic, lambdas, defs, budgets, detectors …) calls its closure, so the generated
// code only implements the simple forms, with exactly the closures' semantics (null handling, `=== true`
// truthiness, evaluation order).
// `generateFused` is the request validator, the rules and the decision of `policy.evaluate` (enforce
// mode, no approvals) in one function: reasons go straight into the list their (static) effect selects.
// The generated code comes from the IR (ir.ts) that the closure backend (closures.ts) also compiles,
// and is built only from typed `Code` (codegen.ts).

import type { ClauseEffect, Env, FusedFinish, RuleOutcome } from './compiled.js';
import type { Decision } from './decision.js';
import type { IrBody, IrRule, ListMethodNode, Node } from './ir.js';
import { STRING_RUN } from '../semantics/string-methods.js';
import { conjuncts } from './ir.js';
import type { Type } from '../semantics/types.js';
import { CodeBuilder, Name, _, join, prop, type Code } from './codegen.js';
import * as ops from './ops.js';
import { addMoney } from './money.js';
import { EMPTY_FRAME, listLoop, spendSteps } from './closures.js';
import { EFFECTS } from './effects.js';
import { Entries } from './entries.js';

type Fn = (env: Env, frame: unknown[]) => unknown;

/** What the generator needs from the compiler: the closure backend, for the nodes it does not inline. */
export interface RuleGenHost {
  /** The closure of an IR node (the reference semantics). */
  closure(n: Node): Fn;
  /** The program's defs: a call of one is a generated helper (its closure otherwise). */
  defs?: readonly IrBody[];
}

export interface GenRule {
  rule: IrRule;
  /** The outcome when the rule does not match (shared, frozen). */
  notMatched: RuleOutcome;
  /** A matched outcome without its message and approver (`matched: true`, the rule's terms): every
   *  field of it goes into the generated outcomes and approval requests (compile.ts `compileRule`). */
  matched: RuleOutcome;
  /** The outcome for a run-time error. */
  failed: (e: unknown) => RuleOutcome;
  /** The outcome for a run-time error in the message or approver, after the conditions held. */
  afterMatch?: (e: unknown, env: Env, frame: unknown[]) => RuleOutcome;
  /** The approver as a string (rendered by its type when it is not one), when the rule has one. */
  from?: Fn;
  /** The shared outcome when the message and approver are constants. */
  matchedConst?: RuleOutcome;
}

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0));
}

const NONE: RuleOutcome[] = Object.freeze([]) as unknown as RuleOutcome[];

/** `"key": value` for each own field of `o` (an outcome: never `__proto__`), in its order (primitives
 *  inline, objects by reference). */
function fieldsOf(b: CodeBuilder, o: object): Code[] {
  return Object.entries(o).map(([k, v]) => _`${k}: ${isPrimitive(v) ? _`${v}` : _`${b.ref(v)}`}`);
}

/**
 * One function evaluating every rule in order: `(env, all) => RuleOutcome[]`, the same outcomes (the
 * same objects for non-matching rules) as evaluating each rule's closures; with `all` false, only
 * those of matched and failed rules (a shared empty, frozen list when there are none).
 */
export function generateRules(
  host: RuleGenHost,
  rules: GenRule[],
  helpers: RuleHelpers,
): (env: Env, all: boolean) => RuleOutcome[] {
  return generate(host, rules, helpers, undefined) as (env: Env, all: boolean) => RuleOutcome[];
}

/** What the decision-building variant needs besides the rule helpers. */
export interface DecideHelpers {
  /** The `on error` effect of the set. */
  onError: 'allow' | 'deny';
  /** The `error` reason of a failed rule's outcome (decision.ts, as the general assembly builds it). */
  errorReason: (o: RuleOutcome, effect: ClauseEffect) => unknown;
  /** The decision from the rules' entries (entries.ts `assemble` for `policy.evaluate`; the engine's
   *  budget step in the fused path). */
  finish: FusedFinish;
}

/** What the fused variant needs: the validator, emitted into the same function (validate-js.ts `emitValidator`). */
export interface FusedHelpers {
  /** Emits the quick validator reading the local `src`; lines `return undefined` on the first problem. */
  validator: (b: CodeBuilder, src: Name, inPlace?: boolean) => { result: Name; fields: Map<string, Name> };
  /** Validate in place (validate-js.ts `inPlaceNodes`): the rules read the caller's own lists and
   *  objects where validation would copy them unchanged. */
  inPlace?: boolean;
}

/** A fused evaluation: the decision, or undefined when the request is not valid (or could not be read). */
export type FusedEvaluate = (request: unknown, now: number, views: Env['budgets'], finish: FusedFinish) => Decision | undefined;

/**
 * Validation, every rule and the decision in ONE generated function (enforce mode, no approvals, no
 * explanation): the rules read the validator's locals (each field's normalised value) instead of
 * reading the validated records again, and the decision's last step is the `finish` argument, so
 * `policy.evaluate` and the engine share the function. Same decisions as validating, then assembling
 * the closures' outcomes (test/runtime/perf-codegen.test.ts).
 */
export function generateFused(host: RuleGenHost, rules: GenRule[], helpers: RuleHelpers, decide: DecideHelpers, fused: FusedHelpers): FusedEvaluate {
  return generate(host, rules, helpers, { decide, fused }) as FusedEvaluate;
}

type RuleHelpers = {
    renderValue: (v: unknown, t: Type | undefined, currency: string) => string;
    currency: string;
    /** The same evaluation through the closures (used when reading the request throws). */
    slow: (env: Env, all: boolean) => RuleOutcome[];
};

// Names the generated functions use (parameters and fixed locals).
const N = {
  env: new Name('env'),
  all: new Name('all'),
  input: new Name('input'),
  request: new Name('request'),
  now: new Name('now'),
  views: new Name('views'),
  finish: new Name('finish'),
  f: new Name('f'),
  o: new Name('o'),
  r: new Name('r'),
  m: new Name('m'),
  out: new Name('out'),
  ms: new Name('ms'),
  fr: new Name('fr'),
};

/** The names of a list method's helper (`listMethod`). */
const LOOP = { xs: new Name('xs'), i: new Name('i'), v: new Name('v'), r: new Name('r') };

const COMMA = _`, `;
const AND = _` && `;
const SP = _` `;

/** `let a, b, c;` (nothing for none). */
function letAll(names: Name[]): Code | undefined {
  return names.length > 0 ? _`let ${join(names.map((x) => _`${x}`), COMMA)};` : undefined;
}

/** Where code is generated: the main function (reads hoisted) or a helper (reads inline), each with its own temporaries. */
class Scope {
  readonly temps: Name[] = [];
  constructor(
    private readonly prefix: string,
    /** Hoists a read (by key) to the top of the function; undefined in helpers. */
    readonly hoist: ((key: string, code: () => Code) => Name) | undefined,
  ) {}
  temp(): Name {
    const t = new Name(`${this.prefix}${this.temps.length}`);
    this.temps.push(t);
    return t;
  }
}

function generate(host: RuleGenHost, rules: GenRule[], helpers: RuleHelpers, fusedWith: { decide: DecideHelpers; fused: FusedHelpers } | undefined): unknown {
  const fused = fusedWith?.fused;
  const b = new CodeBuilder();
  const { env, f, input } = N;

  // Fused: the validator comes first in the same function; its locals hold every inlined field's
  // normalised value (null when absent), which the rules read directly.
  let fields: Map<string, Name> | undefined;
  if (fused) {
    b.declare(input);
    b.line(_`try {`);
    const v = fused.validator(b, N.request, fused.inPlace);
    b.line(_`${input} = ${v.result};`);
    // Getters that throw, proxies: the general path validates again and reports the problem.
    b.line(_`} catch (e) { return undefined; }`);
    b.line(_`const ${env} = { input: ${input}, now: ${N.now}, budgets: ${N.views} };`);
    fields = v.fields;
  }

  // Every request read (`action.kind`) of the main function is computed once, at its top, into a
  // constant: reads of validated records have no side effects and cannot throw, so reading them all up
  // front gives the same values as reading them where they appear.
  const reads = new Map<string, Name>();
  const readLines: Code[] = [];
  const main = new Scope('t', (key, code) => {
    let name = reads.get(key);
    if (name === undefined) {
      name = new Name(`c${reads.size}`);
      reads.set(key, name);
      readLines.push(_`${name} = ${code()};`);
    }
    return name;
  });
  let helpers_ = 0;
  /** A def's generated helper, by def index (made at its first call). */
  const defHelpers: (Name | undefined)[] = [];

  /** A node the generated code does not inline: a call of its closure. */
  const fallback = (n: Node): Code => _`${b.ref(host.closure(n))}(${env}, ${f})`;

  const gen = (n: Node, sc: Scope): Code => {
    switch (n.k) {
      case 'const':
        return isPrimitive(n.v) ? _`${n.v}` : _`${b.ref(n.v)}`;
      case 'read':
        return read(n.root, n.keys, n.safe, sc);
      case 'slot':
        return _`${f}[${n.i}]`;
      case 'not':
        return _`(${gen(n.x, sc)} !== true)`;
      case 'if':
        return _`(${gen(n.c, sc)} === true ? ${gen(n.t, sc)} : ${gen(n.f, sc)})`;
      case 'and':
        return _`(${gen(n.l, sc)} === true && ${gen(n.r, sc)} === true)`;
      case 'or':
        return _`(${gen(n.l, sc)} === true || ${gen(n.r, sc)} === true)`;
      case 'eq':
        if (!n.scalar) return fallback(n);
        return n.neg ? _`(${gen(n.l, sc)} !== ${gen(n.r, sc)})` : _`(${gen(n.l, sc)} === ${gen(n.r, sc)})`;
      case 'cmp': {
        const op = n.op;
        if (n.r.k === 'const' && typeof n.r.v === 'number' && Number.isFinite(n.r.v) && n.l.k !== 'const') {
          const t = sc.temp();
          const rv = n.r.v;
          const test = op === '<' ? _`${t} < ${rv}` : op === '<=' ? _`${t} <= ${rv}` : op === '>' ? _`${t} > ${rv}` : _`${t} >= ${rv}`;
          return _`(${t} = ${gen(n.l, sc)}, typeof ${t} === "number" ? ${test} : ${b.ref(ops.notNumber)}(${t}))`;
        }
        if (n.l.k === 'const' && n.r.k === 'const') return fallback(n);
        const fn = op === '<' || op === '>' ? b.ref(ops.lt) : b.ref(ops.le);
        // Same evaluation order as the closures: `a > b` is `lt(b, a)`.
        return op === '<' || op === '<=' ? _`${fn}(${gen(n.l, sc)}, ${gen(n.r, sc)})` : _`${fn}(${gen(n.r, sc)}, ${gen(n.l, sc)})`;
      }
      case 'in': {
        const r = n.r;
        if (r.k === 'const' && Array.isArray(r.v) && r.v.every((x) => typeof x !== 'object' || x === null) && n.l.k !== 'const') {
          const set = b.ref(new Set(r.v.filter((x) => x !== null)));
          const t = sc.temp();
          const has = _`(${t} = ${gen(n.l, sc)}, ${t} !== null && ${t} !== undefined && ${set}.has(${t}))`;
          return n.neg ? _`(${has} !== true)` : _`(${has} === true)`;
        }
        // ops.ts `memberOf`, its list-of-scalars case inline (`"admin" in user.roles`).
        const x = sc.temp();
        const c = sc.temp();
        const call = _`(${x} = ${gen(n.l, sc)}, ${c} = ${gen(r, sc)}, Array.isArray(${c}) && typeof ${x} !== "object" && ${x} !== undefined ? ${c}.includes(${x}) : ${b.ref(ops.memberOf)}(${x}, ${c}))`;
        return n.neg ? _`(${call} !== true)` : call;
      }
      case 'coalesce': {
        const t = sc.temp();
        return _`(${t} = ${gen(n.l, sc)}, ${t} === null || ${t} === undefined ? ${gen(n.r, sc)} : ${t})`;
      }
      case 'def': {
        // A helper function of the def's body, called with a fresh frame holding the arguments (in
        // order, in the caller's frame) and room for the body's lambdas: as the closure does.
        const def = host.defs?.[n.i];
        if (def === undefined || n.args.length > def.frameSize) return fallback(n);
        let h = defHelpers[n.i];
        if (h === undefined) {
          h = new Name(`D${n.i}`);
          defHelpers[n.i] = h;
          const inner = new Scope('u', undefined);
          const body = gen(def.body, inner);
          b.outer(_`function ${h}(${env}, ${f}, ${input}) { ${letAll(inner.temps) ?? _``} return ${body}; }`);
        }
        const slots = n.args.map((a) => gen(a, sc));
        while (slots.length < def.frameSize) slots.push(_`undefined`);
        return _`${h}(${env}, [${join(slots, COMMA)}], ${input})`;
      }
      case 'units':
        return _`${b.ref(n.how === 'scale' ? ops.moneyOfUnits : ops.notAmbiguous)}(${gen(n.x, sc)}, ${n.at})`;
      case 'call':
        if (n.fn === 'len' && n.args.length >= 1) return _`${b.ref(ops.lengthOf)}(${gen(n.args[0]!, sc)})`;
        return fallback(n);
      case 'strMethod': {
        // A string: the tests inline, the other methods through their one implementation
        // (semantics/string-methods.ts), arguments in order. Any other value (a list for
        // `contains`/`len`, null, or a wrong shape that is a rule error): the closure decides, from
        // the start (expressions have no side effects).
        const m = n.m;
        if (n.args.length > 2) return fallback(n);
        const s = sc.temp();
        const args = n.args.map((a) => gen(a, sc));
        const p = sc.temp();
        const test = m === 'starts_with' ? _`${s}.startsWith(${p})` : m === 'ends_with' ? _`${s}.endsWith(${p})` : m === 'contains' ? _`${s}.includes(${p})` : undefined;
        if (test && args.length === 1) return _`(${s} = ${gen(n.obj, sc)}, typeof ${s} !== "string" ? ${fallback(n)} : (${p} = ${args[0]!}, typeof ${p} === "string" && ${test}))`;
        while (args.length < 2) args.push(_`null`);
        return _`(${s} = ${gen(n.obj, sc)}, typeof ${s} !== "string" ? ${fallback(n)} : ${b.ref(STRING_RUN[m])}(${s}, ${join(args, COMMA)}))`;
      }
      case 'listMethod':
        return listMethod(n, sc);
      case 'mapMethod':
        return _`${b.ref(ops.mapMethod)}(${gen(n.obj, sc)}, ${n.yields}, ${n.m}, ${n.at})`;
      case 'member': {
        // ops.ts `member`, inline (a lambda's `m.role`: a call per element otherwise).
        const t = sc.temp();
        return _`(${t} = ${gen(n.obj, sc)}, typeof ${t} !== "object" || ${t} === null || Array.isArray(${t}) ? null : (${t} = ${t}[${n.key}], ${t} === undefined || typeof ${t} === "function" ? null : ${t}))`;
      }
      case 'index':
        return _`${b.ref(ops.indexOf)}(${gen(n.obj, sc)}, ${gen(n.index, sc)})`;
      case 'str': {
        // Text parts as literals; strings render as themselves and plain numbers as `String(n)`
        // (values.ts `renderValue`, depth 0): inline; other values call `renderValue`.
        const render = b.ref(helpers.renderValue);
        const cur = helpers.currency;
        const parts = n.parts.map((p) => {
          if (typeof p === 'string') return _`${p}`;
          const k = p.type?.kind === 'nullable' ? p.type.inner.kind : p.type?.kind;
          const t = sc.temp();
          const rendered = _`${render}(${t}, ${b.ref(p.type)}, ${cur})`;
          const other = k === 'int' || k === 'number' ? _`typeof ${t} === "number" ? "" + ${t} : ${rendered}` : rendered;
          return _`(${t} = ${gen(p.e, sc)}, typeof ${t} === "string" ? ${t} : ${other})`;
        });
        return _`("" + ${join(parts, _` + `)})`;
      }
      default:
        return fallback(n);
    }
  };

  /**
   * A list method's loop (semantics/builtins.ts `ListLoop`), specialised here from its description:
   * with a lambda, a helper function in the enclosing scope with the body inline (its parameter is
   * the frame slot, as in the closures); without one (`xs.len()`, `xs.contains(a)`: nothing to
   * inline), the closure backend's loop (closures.ts `listLoop`). Same semantics as the closures
   * (ops.ts `asList` for the shape check); the argument is evaluated before the list, as there.
   */
  const listMethod = (n: ListMethodNode, sc: Scope): Code => {
    const { loop } = n;
    const { step, when } = loop;
    const arg = n.arg ? gen(n.arg, sc) : _`null`;
    const l = sc.temp();
    const list = _`(${l} = ${gen(n.obj, sc)}, Array.isArray(${l}) ? ${l} : ${b.ref(ops.asList)}(${l}, ${n.m}, ${n.at}))`;
    const { xs, i, v, r } = LOOP;
    // Which elements act (`equalsArg` needs the argument a lambda method has not: the closure loop).
    const holds = when === 'true' ? _`${v} === true` : when === 'notTrue' ? _`${v} !== true` : when === 'number' ? _`typeof ${v} === "number"` : when === 'summand' ? _`(typeof ${v} === "number" || ${b.ref(ops.summand)}(${v}, ${n.m}, ${n.at}))` : when === 'always' ? _`true` : undefined;
    if (n.body === undefined || holds === undefined)
      return _`${b.ref(listLoop(loop, n.body === undefined ? undefined : host.closure(n.body), n.slot ?? 0, n.money === true, n.m, n.at))}(${arg}, ${list}, ${env}, ${f})`;
    const stop = step === 'stop';
    const start = stop ? _`${!loop.stopWith}` : step === 'keep' || step === 'push' ? _`[]` : _`0`;
    const act = stop
      ? _`return ${loop.stopWith};`
      : step === 'count'
        ? _`${r}++;`
        : step === 'add'
          ? _`${r} = ${n.money === true ? _`${b.ref(addMoney)}(${r}, ${v})` : _`${r} + ${v}`};`
          : _`${r}.push(${step === 'keep' ? _`${xs}[${i}]` : _`${v} === undefined ? null : ${v}`});`;
    const inner = new Scope('u', undefined);
    const body = gen(n.body, inner);
    const h = new Name(`L${helpers_++}`);
    b.outer(
      _`function ${h}(${xs}, ${env}, ${f}, ${input}) { if (${xs} === null) return ${loop.ifNull === null ? _`null` : start}; ${b.ref(spendSteps)}(${env}, ${xs}.length); ${letAll([v, ...inner.temps])!} let ${r} = ${start}; for (let ${i} = 0; ${i} < ${xs}.length; ${i}++) { ${f}[${n.slot ?? 0}] = ${xs}[${i}]; ${v} = ${body}; if (${holds}) ${act} } return ${r}; }`,
    );
    return _`${h}(${list}, ${env}, ${f}, ${input})`;
  };

  /** An input read: a local the validator holds (fused), a read hoisted to the top of the main
   *  function, or (in a helper) the read itself. */
  const read = (root: string, keys: string[], safe: boolean[], sc: Scope): Code => {
    // Fused: start from the deepest field the validator holds in a local (the whole chain, or the
    // record/map it reads into). Only the main function sees the validator's locals.
    let start: Name = input;
    let from = -1;
    if (fields !== undefined && sc.hoist !== undefined) {
      for (let p = keys.length; p >= 0; p--) {
        const held = fields.get(JSON.stringify([root, ...keys.slice(0, p)]));
        if (held !== undefined) {
          if (p === keys.length) return _`${held}`;
          start = held;
          from = p;
          break;
        }
      }
    }
    // Same steps as the closure read (ops.ts `readN`).
    const code = (): Code => {
      let cur = sc.temp();
      if (keys.length === 0) return _`(${cur} = ${input}[${root}], ${cur} === undefined ? null : ${cur})`;
      const parts: Code[] = [from < 0 ? _`${cur} = ${input}[${root}]` : _`${cur} = ${start}`];
      for (let i = Math.max(from, 0); i < keys.length; i++) {
        const next = sc.temp();
        const guard = safe[i]
          ? _`${cur} === null || ${cur} === undefined`
          : _`${cur} === null || ${cur} === undefined || typeof ${cur} !== "object" || Array.isArray(${cur})`;
        parts.push(_`${next} = (${guard}) ? undefined : ${cur}[${keys[i]!}]`);
        cur = next;
      }
      return _`(${join(parts, COMMA)}, ${cur} === undefined || ${cur} === null || typeof ${cur} === "function" ? null : ${cur})`;
    };
    if (sc.hoist === undefined) return code();
    return _`${sc.hoist(JSON.stringify([root, keys, safe]), code)}`;
  };

  /** A rule's conditions as one expression (`true` when it has none). */
  const conditions = (r: IrRule): Code => {
    const cs = [
      ...r.clauses.filter((c) => c.kind === 'when').flatMap((c) => conjuncts(c.expr).map((x) => _`${gen(x, main)} === true`)),
      ...r.clauses.filter((c) => c.kind === 'unless').map((c) => _`${gen(c.expr, main)} !== true`),
    ];
    return cs.length > 0 ? join(cs, AND) : _`true`;
  };
  const frame = (r: IrRule): Code => (r.frameSize > 0 ? _`new Array(${r.frameSize})` : _`${b.ref(EMPTY_FRAME)}`);

  const matchedCode = (r: GenRule): Code => {
    if (r.matchedConst) return _`${b.ref(r.matchedConst)}`;
    // Every field of the rule's matched base (name … location, `quorum`, `expires_ms`), then the
    // message and approver, as the closures' `matchedOutcome` spreads it: no field left out here (a
    // rule granted on one approver and any age when the terms were).
    const parts = fieldsOf(b, r.matched);
    if (r.rule.message) parts.push(_`message: ${gen(r.rule.message, main)}`);
    if (r.from) parts.push(_`from: ${b.ref(r.from)}(${env}, ${f})`);
    return _`{ ${join(parts, COMMA)} }`;
  };

  const ctx: GenContext = { b, gen: (n) => gen(n, main), conditions, frame, reads, readLines, temps: main.temps };
  if (fusedWith) return generateFusedBody(ctx, rules, fusedWith.decide, fusedWith.fused.inPlace === true);
  const { out, m, o, all } = N;
  const body: Code[] = [];
  const keep = (i: number) => _`if (${out} !== null) ${out}[${i}] = ${o}; else if (${m} === null) ${m} = [${o}]; else ${m}.push(${o});`;
  rules.forEach((r, i) => {
    const conds = conditions(r.rule);
    const matchedOutcome = matchedCode(r);
    body.push(_`${f} = ${frame(r.rule)};`);
    body.push(_`try {`);
    // A message or approver that can fail after the conditions held has its own catch (compile.ts
    // `failedAfterMatch`: an extern's `on error allow` there leaves the rule standing).
    const matched = r.matchedConst || !r.afterMatch ? _`${o} = ${matchedOutcome};` : _`try { ${o} = ${matchedOutcome}; } catch (e) { ${o} = ${b.ref(r.afterMatch)}(e, ${env}, ${f}); }`;
    body.push(_`if (${conds}) { ${matched} ${keep(i)} }`);
    body.push(_`else if (${out} !== null) ${out}[${i}] = ${b.ref(r.notMatched)};`);
    body.push(_`} catch (e) { ${o} = ${b.ref(r.failed)}(e); ${keep(i)} }`);
  });
  b.line(_`const ${input} = ${env}.input;`);
  b.line(_`const ${out} = ${all} === true ? new Array(${rules.length}) : null;`);
  b.line(_`let ${m} = null;`);
  b.line(_`let ${f}, ${o};`);
  const lt = letAll(main.temps);
  if (lt) b.line(lt);
  if (readLines.length > 0) {
    // Only an env that did not come from validation (a proxy, a getter) can make a read throw: then
    // the closures evaluate the rules, each failing on its own.
    b.line(letAll([...reads.values()])!);
    b.line(_`try {`);
    for (const l of readLines) b.line(l);
    b.line(_`} catch (e) { return ${b.ref(helpers.slow)}(${env}, ${all}); }`);
  }
  for (const l of body) b.line(l);
  b.line(_`return ${out} !== null ? ${out} : ${m} === null ? ${b.ref(NONE)} : ${m};`);
  return b.build<(env: Env, all: boolean) => RuleOutcome[]>('generatedRules', ['env', 'all']);
}

/** What the rule bodies are generated with (set up by `generate`). */
interface GenContext {
  b: CodeBuilder;
  gen: (n: Node) => Code;
  conditions: (r: IrRule) => Code;
  frame: (r: IrRule) => Code;
  reads: Map<string, Name>;
  readLines: Code[];
  temps: Name[];
}

/** The rules and decision part of `generateFused` (after the validator and the conditions' code generators are set up by `generate`). */
function generateFusedBody(ctx: GenContext, rules: GenRule[], decide: DecideHelpers, inPlace: boolean): unknown {
  const { b, gen, conditions, reads, readLines, temps } = ctx;
  const { env, f, o, r: rv, ms, fr, input } = N;
  // The rules' entries go into one `Entries` (entries.ts), `E`: each into the list its effect (known
  // here) selects in the effects table, exactly as `Entries.rule` places an outcome.
  const E = new Name('E');
  const push = (list: string, item: Code): Code => {
    const l = prop(E, list);
    return _`if (${l} === null) ${l} = [${item}]; else ${l}.push(${item});`;
  };
  const listOf = (effect: ClauseEffect): string => EFFECTS[effect].list;
  const body: Code[] = [];
  for (const r of rules) {
    const nm = r.notMatched; // name, effect, monitor, annotations and location of the rule
    const conds = conditions(r.rule);
    // The message and approver, evaluated in the same order as the outcome would be built.
    const parts: Code[] = [];
    if (r.matchedConst) {
      const c = r.matchedConst;
      parts.push(_`${ms} = ${c.message === undefined ? null : c.message};`);
      parts.push(_`${fr} = ${c.from === undefined || c.from === null ? null : c.from};`);
    } else {
      const ir = r.rule;
      parts.push(ir.message ? _`${ms} = ${gen(ir.message)} ?? null;` : _`${ms} = null;`);
      parts.push(r.from ? _`${fr} = ${b.ref(r.from)}(${env}, ${f}) ?? null;` : _`${fr} = null;`);
    }
    const reason = _`{ kind: "rule", name: ${nm.name}, effect: ${nm.effect}, message: ${ms}, annotations: ${b.ref(nm.annotations)}, location: ${b.ref(nm.location)} }`;
    if (nm.monitor) parts.push(push('monitored', reason));
    else {
      parts.push(push(listOf(nm.effect), reason));
      if (EFFECTS[nm.effect].approval) {
        // `quorum N` / `expires D`: from the rule's matched base, as `Entries.rule` adds them.
        const terms: Code[] = [];
        if (r.matched.quorum !== undefined) terms.push(_`, quorum: ${r.matched.quorum}`);
        if (r.matched.expires_ms !== undefined) terms.push(_`, expires_ms: ${r.matched.expires_ms}`);
        parts.push(push('approvals', _`{ kind: "rule", name: ${nm.name}, from: ${fr}, message: ${ms}, location: ${b.ref(nm.location)}${join(terms, _``)} }`));
      }
    }
    const failed = [
      _`${o} = ${b.ref(r.failed)}(e);`,
      push('errors', _`{ kind: "rule", name: ${o}.name, message: ${o}.error, location: ${o}.location }`),
      _`${rv} = ${b.ref(decide.errorReason)}(${o}, ${decide.onError});`,
      push(nm.monitor ? 'monitored' : listOf(decide.onError), _`${rv}`),
    ];
    body.push(_`try {`);
    body.push(_`if (${conds}) { ${join(parts, SP)} }`);
    body.push(_`} catch (e) { ${join(failed, SP)} }`);
  }
  // One frame for every rule's lambda parameters, made once with the function: a slot is always
  // written before it is read, and no code a caller wrote runs between the first rule and the last
  // (the request was copied by the validator; host functions have no fused path), so a re-entered
  // evaluation (from a getter of the request, during validation) is over before the rules start.
  // In place, the rules read the caller's objects, whose getters may run (and evaluate again): a
  // call that starts while another one's rules run (`busy`) makes its own frame.
  const size = Math.max(0, ...rules.map((r) => r.rule.frameSize));
  const busy = new Name('busy');
  const reenter = inPlace && size > 0;
  if (reenter) b.outer(_`let ${busy} = 0;`);
  // In place, the decision hashes the validated value as it is when `request_hash` is first read: the
  // caller's own objects in it have the canonical JSON of their records (validate-js.ts `inPlaceNodes`).
  b.line(_`const ${E} = new ${b.ref(Entries)}(${input}, ${N.now});`);
  b.line(_`let ${o}, ${rv}, ${ms}, ${fr};`);
  const shared = b.ref(size > 0 ? new Array(size) : EMPTY_FRAME);
  b.line(_`const ${f} = ${reenter ? _`${busy} > 0 ? new Array(${size}) : ${shared}` : shared};`);
  const lt = letAll(temps);
  if (lt) b.line(lt);
  if (readLines.length > 0) {
    b.line(letAll([...reads.values()])!);
    // Reads into records and maps the validator has just built (every declared field of an object
    // it checks in place is a local): nothing to throw.
    for (const l of readLines) b.line(l);
  }
  if (reenter) b.line(_`${busy}++; try {`);
  for (const l of body) b.line(l);
  if (reenter) b.line(_`} finally { ${busy}--; }`);
  b.line(_`return ${N.finish}(${E}, ${input}, ${N.now}, ${env}, ${N.request});`);
  return b.build<FusedEvaluate>('generatedEvaluate', ['request', 'now', 'views', 'finish']);
}
