// Generated rule evaluation (see codegen.ts for when and how code is generated). All rules of a set
// become ONE straight-line function: reads of the request are inline property loads with constant
// keys, comparisons and `and`/`or`/`not` are inline operators, `in [constants]` is a Set lookup.
// Anything else (arithmetic, interpolation, lambdas, defs, budgets, detectors …) calls the closure the
// compiler built for that sub-expression, so the generated code only implements the simple forms, with
// exactly the closures' semantics (null handling, `=== true` truthiness, evaluation order).
// `generateDecide` is the same function building the decision of `policy.evaluate` in place (enforce
// mode, no approvals): reasons go straight into the list their (static) effect selects.

import type { ClauseEffect, Env, FusedFinish, RuleOutcome } from './compiled.js';
import type { Decision } from './decision.js';
import type { IrRule, Node } from './ir.js';
import { conjuncts } from './ir.js';
import type { Type } from '../semantics/types.js';
import { CodeBuilder, lit } from './codegen.js';

type Fn = (env: Env, frame: unknown[]) => unknown;

/** What the generator needs from the compiler: the closure backend, for the nodes it does not inline. */
export interface RuleGenHost {
  /** The closure of an IR node (the reference semantics). */
  closure(n: Node): Fn;
}

export interface GenRule {
  rule: IrRule;
  /** The outcome when the rule does not match (shared, frozen). */
  notMatched: RuleOutcome;
  /** Builds the outcome when it matches (may throw: message / approver errors). */
  matched: (env: Env, frame: unknown[]) => RuleOutcome;
  /** The outcome for a run-time error. */
  failed: (e: unknown) => RuleOutcome;
  /** The approver as a string (rendered by its type when it is not one), when the rule has one. */
  from?: Fn;
  /** The shared outcome when the message and approver are constants. */
  matchedConst?: RuleOutcome;
}

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0));
}

/** String methods the generated code inlines on strings, and their JavaScript names. */
const STRING_TESTS: Record<string, string | undefined> = { starts_with: 'startsWith', ends_with: 'endsWith', contains: 'includes' };

const EMPTY_FRAME: unknown[] = Object.freeze([]) as unknown as unknown[];
const NONE: RuleOutcome[] = Object.freeze([]) as unknown as RuleOutcome[];

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
  /** Precedence and the decision object (decision.ts `ruleDecisionFinisher`; the generated code
   *  passes the validated request as `input` and stops there). */
  finish: FusedFinish;
  /** The same decision through the closures (used when reading the request throws). */
  slow: (env: Env) => Decision;
}

/** What the fused variant needs: the validator, emitted into the same function (validate.ts `emitQuickValidator`). */
export interface FusedHelpers {
  /** Emits the quick validator reading the local `src`; lines `return undefined` on the first problem. */
  validator: (b: CodeBuilder, src: string) => { result: string; fields: Map<string, string> };
}

/** A fused evaluation: the decision, or undefined when the request is not valid (or could not be read). */
export type FusedEvaluate = (request: unknown, now: number, views: Env['budgets'], finish: FusedFinish) => Decision | undefined;

/**
 * Validation, every rule and the decision in ONE generated function (enforce mode, no approvals, no
 * explanation): the rules read the validator's locals (each field's normalised value) instead of
 * reading the validated records again, and the decision's last step is the `finish` argument, so
 * `policy.evaluate` and the engine share the function. Same decisions as validating, then
 * `generateDecide` (test/runtime/perf-codegen.test.ts).
 */
export function generateFused(host: RuleGenHost, rules: GenRule[], helpers: RuleHelpers, decide: DecideHelpers, fused: FusedHelpers): FusedEvaluate {
  return generate(host, rules, helpers, decide, fused) as FusedEvaluate;
}

/**
 * One function evaluating every rule and building the decision in place (`policy.evaluate` in enforce
 * mode without approvals): each matched rule's reason (and approval request) goes straight into the
 * list its effect, known at compile time, selects; the same decision as assembling the outcomes of
 * `generateRules` (test/runtime/perf-codegen.test.ts).
 */
export function generateDecide(host: RuleGenHost, rules: GenRule[], helpers: RuleHelpers, decide: DecideHelpers): (env: Env) => Decision {
  return generate(host, rules, helpers, decide) as (env: Env) => Decision;
}

type RuleHelpers = {
    lt: (a: unknown, b: unknown) => boolean;
    le: (a: unknown, b: unknown) => boolean;
    memberOf: (x: unknown, c: unknown) => boolean;
    renderValue: (v: unknown, t: Type | undefined, currency: string) => string;
    currency: string;
    /** The same evaluation through the closures (used when reading the request throws). */
    slow: (env: Env, all: boolean) => RuleOutcome[];
};

function generate(host: RuleGenHost, rules: GenRule[], helpers: RuleHelpers, decide: DecideHelpers | undefined, fused?: FusedHelpers): unknown {
  const b = new CodeBuilder();
  let temps = 0;
  const temp = (): string => `t${temps++}`;

  // Fused: the validator comes first in the same function; its locals hold every inlined field's
  // normalised value (null when absent), which the rules read directly.
  let fields: Map<string, string> | undefined;
  if (fused) {
    b.declare('input');
    b.line('try {');
    const v = fused.validator(b, 'request');
    b.line(`input = ${v.result};`);
    // Getters that throw, proxies: the general path validates again and reports the problem.
    b.line('} catch (e) { return undefined; }');
    b.line('const env = { input: input, now: now, budgets: views };');
    fields = v.fields;
  }

  // Every request read (`action.kind`) is computed once, at the top of the function, into a constant:
  // reads of validated records have no side effects and cannot throw, so reading them all up front
  // gives the same values as reading them where they appear.
  const reads = new Map<string, string>();
  const readLines: string[] = [];
  const hoisted = (key: string, code: () => string): string => {
    let name = reads.get(key);
    if (name === undefined) {
      name = `c${reads.size}`;
      reads.set(key, name);
      readLines.push(`${name} = ${code()};`);
    }
    return name;
  };

  /** A node the generated code does not inline: a call of its closure. */
  const fallback = (n: Node): string => `${b.ref(host.closure(n))}(env, f)`;

  const gen = (n: Node): string => {
    switch (n.k) {
      case 'const':
        return isPrimitive(n.v) ? lit(n.v) : b.ref(n.v);
      case 'read':
        return read(n.root, n.keys, n.safe);
      case 'not':
        return `(${gen(n.x)} !== true)`;
      case 'if':
        return `(${gen(n.c)} === true ? ${gen(n.t)} : ${gen(n.f)})`;
      case 'and':
        return `(${gen(n.l)} === true && ${gen(n.r)} === true)`;
      case 'or':
        return `(${gen(n.l)} === true || ${gen(n.r)} === true)`;
      case 'eq':
        if (n.scalar) return `(${gen(n.l)} ${n.neg ? '!==' : '==='} ${gen(n.r)})`;
        return fallback(n);
      case 'cmp': {
        const op = n.op;
        if (n.r.k === 'const' && typeof n.r.v === 'number' && Number.isFinite(n.r.v) && n.l.k !== 'const') {
          const t = temp();
          return `(${t} = ${gen(n.l)}, typeof ${t} === "number" && ${t} ${op} ${lit(n.r.v)})`;
        }
        if (n.l.k === 'const' && n.r.k === 'const') return fallback(n);
        const fn = op === '<' || op === '>' ? b.ref(helpers.lt) : b.ref(helpers.le);
        // Same evaluation order as the closures: `a > b` is `lt(b, a)`.
        return op === '<' || op === '<=' ? `${fn}(${gen(n.l)}, ${gen(n.r)})` : `${fn}(${gen(n.r)}, ${gen(n.l)})`;
      }
      case 'in': {
        const r = n.r;
        if (r.k === 'const' && Array.isArray(r.v) && r.v.every((x) => typeof x !== 'object' || x === null) && n.l.k !== 'const') {
          const set = b.ref(new Set(r.v.filter((x) => x !== null)));
          const t = temp();
          return `((${t} = ${gen(n.l)}, ${t} !== null && ${t} !== undefined && ${set}.has(${t})) ${n.neg ? '!== true' : '=== true'})`;
        }
        return fallback(n);
      }
      case 'coalesce': {
        const t = temp();
        return `(${t} = ${gen(n.l)}, ${t} === null || ${t} === undefined ? ${gen(n.r)} : ${t})`;
      }
      case 'strMethod': {
        const jsMethod = STRING_TESTS[n.m];
        if (jsMethod === undefined || n.args.length !== 1) return fallback(n);
        const s = temp();
        const p = temp();
        // A value that is not a string (a list for `contains`, null, or a wrong shape that is a rule
        // error): the closure decides, from the start (expressions have no side effects).
        return `(${s} = ${gen(n.obj)}, typeof ${s} !== "string" ? ${fallback(n)} : (${p} = ${gen(n.args[0])}, typeof ${p} === "string" && ${s}.${jsMethod}(${p})))`;
      }
      case 'str': {
        // Text parts as literals; strings render as themselves and plain numbers as `String(n)`
        // (values.ts `renderValue`, depth 0): inline; other values call `renderValue`.
        const render = b.ref(helpers.renderValue);
        const cur = lit(helpers.currency);
        const parts = n.parts.map((p) => {
          if (typeof p === 'string') return lit(p);
          const k = p.type?.kind === 'nullable' ? p.type.inner.kind : p.type?.kind;
          const t = temp();
          const plainNumber = k === 'int' || k === 'number' ? ` : typeof ${t} === "number" ? "" + ${t}` : '';
          return `(${t} = ${gen(p.e)}, typeof ${t} === "string" ? ${t}${plainNumber} : ${render}(${t}, ${b.ref(p.type)}, ${cur}))`;
        });
        return `("" + ${parts.join(' + ')})`;
      }
      default:
        return fallback(n);
    }
  };

  /** An input read: a local the validator holds (fused), or a read hoisted to the top of the function. */
  const read = (root: string, keys: string[], safe: boolean[]): string => {
    if (keys.length === 0) {
      const held = fields?.get(JSON.stringify([root]));
      if (held !== undefined) return held;
      return hoisted(JSON.stringify([root]), () => {
        const t = temp();
        return `(${t} = input[${lit(root)}], ${t} === undefined ? null : ${t})`;
      });
    }
    // Same steps as the closure read (ops.ts `readN`). Fused: start from the deepest field the
    // validator holds in a local (the whole chain, or the record/map it reads into).
    let start = 'input';
    let from = -1;
    if (fields !== undefined) {
      for (let p = keys.length; p >= 0; p--) {
        const held = fields.get(JSON.stringify([root, ...keys.slice(0, p)]));
        if (held !== undefined) {
          if (p === keys.length) return held;
          start = held;
          from = p;
          break;
        }
      }
    }
    return hoisted(JSON.stringify([root, keys, safe]), () => {
      let cur = temp();
      const parts: string[] = [from < 0 ? `${cur} = input[${lit(root)}]` : `${cur} = ${start}`];
      for (let i = Math.max(from, 0); i < keys.length; i++) {
        const next = temp();
        const guard = safe[i]
          ? `${cur} === null || ${cur} === undefined`
          : `${cur} === null || ${cur} === undefined || typeof ${cur} !== "object" || Array.isArray(${cur})`;
        parts.push(`${next} = (${guard}) ? undefined : ${cur}[${lit(keys[i])}]`);
        cur = next;
      }
      return `(${parts.join(', ')}, ${cur} === undefined || ${cur} === null || typeof ${cur} === "function" ? null : ${cur})`;
    });
  };

  const conditions = (r: IrRule): string[] => [
    ...r.clauses.filter((c) => c.kind === 'when').flatMap((c) => conjuncts(c.expr).map((x) => `${gen(x)} === true`)),
    ...r.clauses.filter((c) => c.kind === 'unless').map((c) => `${gen(c.expr)} !== true`),
  ];

  const matchedCode = (r: GenRule): string => {
    if (r.matchedConst) return b.ref(r.matchedConst);
    const o = r.rule;
    const fields = [
      `name: ${lit(o.name)}`,
      'matched: true',
      `effect: ${lit(o.effect)}`,
      `monitor: ${lit(o.monitor)}`,
      `annotations: ${b.ref(o.annotations)}`,
      `location: ${b.ref(o.location)}`,
    ];
    if (o.message) fields.push(`message: ${gen(o.message)}`);
    if (r.from) fields.push(`from: ${b.ref(r.from)}(env, f)`);
    return `{ ${fields.join(', ')} }`;
  };

  if (decide) return generateDecideBody(b, rules, decide, gen, conditions, reads, readLines, () => temps, fused !== undefined);
  b.line('const input = env.input;');
  b.line(`const out = all === true ? new Array(${lit(rules.length)}) : null;`);
  b.line('let m = null;');
  b.line('let f, o;');
  const body: string[] = [];
  const keep = (i: number) => `if (out !== null) out[${lit(i)}] = o; else if (m === null) m = [o]; else m.push(o);`;
  rules.forEach((r, i) => {
    const conds = conditions(r.rule);
    const matchedOutcome = matchedCode(r);
    const n = r.rule.frameSize;
    body.push(`f = ${n > 0 ? `new Array(${lit(n)})` : b.ref(EMPTY_FRAME)};`);
    body.push(`try {`);
    body.push(`if (${conds.length ? conds.join(' && ') : 'true'}) { o = ${matchedOutcome}; ${keep(i)} }`);
    body.push(`else if (out !== null) out[${lit(i)}] = ${b.ref(r.notMatched)};`);
    body.push(`} catch (e) { o = ${b.ref(r.failed)}(e); ${keep(i)} }`);
  });
  if (temps > 0) b.line(`let ${Array.from({ length: temps }, (_, i) => `t${i}`).join(', ')};`);
  if (readLines.length > 0) {
    // Only an env that did not come from validation (a proxy, a getter) can make a read throw: then
    // the closures evaluate the rules, each failing on its own.
    b.line(`let ${[...reads.values()].join(', ')};`);
    b.line('try {');
    for (const l of readLines) b.line(l);
    b.line(`} catch (e) { return ${b.ref(helpers.slow)}(env, all); }`);
  }
  for (const l of body) b.line(l);
  b.line(`return out !== null ? out : m === null ? ${b.ref(NONE)} : m;`);
  return b.build<(env: Env, all: boolean) => RuleOutcome[]>('generatedRules', ['env', 'all']);
}

/** The body of `generateDecide` (after the conditions' code generators are set up by `generate`). */
function generateDecideBody(
  b: CodeBuilder,
  rules: GenRule[],
  decide: DecideHelpers,
  gen: (n: Node) => string,
  conditions: (r: IrRule) => string[],
  reads: Map<string, string>,
  readLines: string[],
  temps: () => number,
  fused: boolean,
): unknown {
  // Lists: dn denies, aq approval reasons, al allows, ap approvals, wn warnings, mo monitored, er errors.
  const push = (list: string, item: string): string => `if (${list} === null) ${list} = [${item}]; else ${list}.push(${item});`;
  const listOf = (effect: ClauseEffect): string => {
    switch (effect) {
      case 'deny':
        return 'dn';
      case 'allow':
        return 'al';
      case 'warn':
        return 'wn';
      default:
        return 'aq';
    }
  };
  const body: string[] = [];
  for (const r of rules) {
    const nm = r.notMatched; // name, effect, monitor, annotations and location of the rule
    const conds = conditions(r.rule);
    // The message and approver, evaluated in the same order as the outcome would be built.
    const parts: string[] = [];
    if (r.matchedConst) {
      const c = r.matchedConst;
      parts.push(`ms = ${c.message === undefined ? 'null' : lit(c.message)};`);
      parts.push(`fr = ${c.from === undefined || c.from === null ? 'null' : lit(c.from)};`);
    } else {
      const o = r.rule;
      parts.push(`ms = ${o.message ? `${gen(o.message)} ?? null` : 'null'};`);
      parts.push(`fr = ${r.from ? `${b.ref(r.from)}(env, f) ?? null` : 'null'};`);
    }
    const reason = `{ kind: "rule", name: ${lit(nm.name)}, effect: ${lit(nm.effect)}, message: ms, annotations: ${b.ref(nm.annotations)}, location: ${b.ref(nm.location)} }`;
    if (nm.monitor) parts.push(push('mo', reason));
    else {
      parts.push(push(listOf(nm.effect), reason));
      if (nm.effect === 'require_approval') parts.push(push('ap', `{ kind: "rule", name: ${lit(nm.name)}, from: fr, message: ms, location: ${b.ref(nm.location)} }`));
    }
    const failed = [
      `o = ${b.ref(r.failed)}(e);`,
      push('er', '{ kind: "rule", name: o.name, message: o.error, location: o.location }'),
      `r = ${b.ref(decide.errorReason)}(o, ${lit(decide.onError)});`,
      push(nm.monitor ? 'mo' : listOf(decide.onError), 'r'),
    ];
    const n = r.rule.frameSize;
    body.push(`f = ${n > 0 ? `new Array(${lit(n)})` : b.ref(EMPTY_FRAME)};`);
    body.push('try {');
    body.push(`if (${conds.length ? conds.join(' && ') : 'true'}) { ${parts.join(' ')} }`);
    body.push(`} catch (e) { ${failed.join(' ')} }`);
  }
  if (!fused) b.line('const input = env.input;');
  b.line('let dn = null, aq = null, al = null, ap = null, wn = null, mo = null, er = null;');
  b.line('let f, o, r, ms, fr;');
  const t = temps();
  if (t > 0) b.line(`let ${Array.from({ length: t }, (_, i) => `t${i}`).join(', ')};`);
  if (readLines.length > 0) {
    b.line(`let ${[...reads.values()].join(', ')};`);
    if (fused) {
      // Reads into records and maps the validator has just built: nothing to throw.
      for (const l of readLines) b.line(l);
    } else {
      b.line('try {');
      for (const l of readLines) b.line(l);
      b.line(`} catch (e) { return ${b.ref(decide.slow)}(env); }`);
    }
  }
  for (const l of body) b.line(l);
  if (fused) {
    b.line('return finish(dn, aq, al, ap, wn, mo, er, input, now, env, request);');
    return b.build<FusedEvaluate>('generatedEvaluate', ['request', 'now', 'views', 'finish']);
  }
  b.line(`return ${b.ref(decide.finish)}(dn, aq, al, ap, wn, mo, er, input, env.now);`);
  return b.build<(env: Env) => Decision>('generatedDecide', ['env']);
}
