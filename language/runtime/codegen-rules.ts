// Generated rule evaluation (see codegen.ts for when and how code is generated). All rules of a set
// become ONE straight-line function: reads of the request are inline property loads with constant
// keys, comparisons and `and`/`or`/`not` are inline operators, `in [constants]` is a Set lookup.
// Anything else (arithmetic, interpolation, lambdas, defs, budgets, detectors …) calls the closure the
// compiler built for that sub-expression, so the generated code only implements the simple forms, with
// exactly the closures' semantics (null handling, `=== true` truthiness, evaluation order).
// `generateDecide` is the same function building the decision of `policy.evaluate` in place (enforce
// mode, no approvals): reasons go straight into the list their (static) effect selects.

import type * as A from '../syntax/ast.js';
import type { Type } from '../semantics/types.js';
import type { ClauseEffect, Env, FusedFinish, RuleOutcome } from './compiled.js';
import type { Decision } from './decision.js';
import { CodeBuilder, lit, prop } from './codegen.js';
import { EFFECTS } from './effects.js';
import { Entries } from './entries.js';

type Fn = (env: Env, frame: unknown[]) => unknown;

/** What the generator needs from the compiler (compile.ts `Compiler`). */
export interface RuleGenHost {
  /** Compile a sub-expression to a closure (the fallback); `constant`/`value` when it folds. */
  expr(e: A.Expr, scope: unknown): { fn: Fn; constant: boolean; value?: unknown };
  typeOf(e: A.Expr | undefined): Type | undefined;
  /** An input-rooted member chain (`action.args.amount`) as root field, keys, and whether each step's object is statically a record. */
  inputChain(e: A.MemberExpr): { root: string; keys: string[]; safe: boolean[] } | undefined;
  /** The symbol kind a name refers to, and its name. */
  symbolOf(e: A.NameExpr): { kind: string; name: string } | undefined;
  /** A `let` by name, compiled (constant when it does not depend on the request). */
  letValue(name: string): { fn: Fn; constant: boolean; value?: unknown };
}

export interface GenRule {
  /** Compile scope for the rule's clauses (lambda slots); the frame size is read after generation. */
  scope: unknown;
  frameSize: () => number;
  whens: A.Expr[];
  unlesses: A.Expr[];
  /** The outcome when the rule does not match (shared, frozen). */
  notMatched: RuleOutcome;
  /** Builds the outcome when it matches (may throw: message / approver errors). */
  matched: (env: Env, frame: unknown[]) => RuleOutcome;
  /** The outcome for a run-time error. */
  failed: (e: unknown) => RuleOutcome;
  /** The shared outcome when the message and approver are constants. */
  matchedConst?: RuleOutcome;
  /** Otherwise the parts of the matched outcome, built inline (same fields, same order as `matched`). */
  outcome?: {
    name: string;
    effect: string;
    monitor: boolean;
    annotations: unknown;
    location: unknown;
    message?: { node: A.Expr | undefined; fn: Fn };
    from?: Fn;
  };
}

function baseKind(t: Type | undefined): Type['kind'] | undefined {
  if (!t) return undefined;
  return t.kind === 'nullable' ? t.inner.kind : t.kind;
}

function isScalarKind(k: Type['kind'] | undefined): boolean {
  return (
    k === 'string' || k === 'number' || k === 'int' || k === 'bool' || k === 'money' || k === 'duration' || k === 'time' || k === 'enum' || k === 'null'
  );
}

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0));
}

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
  /** The decision from the rules' entries (entries.ts `assemble` for `policy.evaluate`; the engine's
   *  budget step in the fused path). */
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

  const fallback = (e: A.Expr, scope: unknown): string => {
    const c = host.expr(e, scope);
    if (c.constant) return isPrimitive(c.value) ? lit(c.value) : b.ref(c.value);
    return `${b.ref(c.fn)}(env, f)`;
  };

  const gen = (e: A.Expr | undefined, scope: unknown): string => {
    if (!e) return 'null';
    switch (e.kind) {
      case 'Number':
        return isPrimitive(e.value) ? lit(e.value) : fallback(e, scope);
      case 'Money':
        return lit(e.micros);
      case 'Bool':
        return lit(e.value);
      case 'Null':
        return 'null';
      case 'String':
        if (e.parts.every((p) => p.kind === 'Text')) return lit(e.parts.map((p) => (p as A.StringText).value).join(''));
        return fallback(e, scope);
      case 'Paren':
        return e.expr ? gen(e.expr, scope) : 'null';
      case 'NameRef': {
        const s = host.symbolOf(e);
        if (s?.kind === 'input-field') {
          const held = fields?.get(JSON.stringify([s.name]));
          if (held !== undefined) return held;
        }
        if (s?.kind === 'input-field') return hoisted(JSON.stringify([s.name]), () => {
          const t = temp();
          return `(${t} = input[${lit(s.name)}], ${t} === undefined ? null : ${t})`;
        });
        if (s?.kind === 'let') {
          const c = host.letValue(s.name);
          if (c.constant) return isPrimitive(c.value) ? lit(c.value) : b.ref(c.value);
        }
        return fallback(e, scope);
      }
      case 'Member': {
        if (baseKind(host.typeOf(e.object)) === 'budget') return fallback(e, scope);
        const chain = host.inputChain(e);
        if (!chain) return fallback(e, scope);
        // Same steps as the fused closure read (compile.ts `fusedInputRead`). Fused: start from the
        // deepest field the validator holds in a local (the whole chain, or the record/map it reads into).
        let start = 'input';
        let from = -1;
        if (fields !== undefined) {
          for (let p = chain.keys.length; p >= 0; p--) {
            const held = fields.get(JSON.stringify([chain.root, ...chain.keys.slice(0, p)]));
            if (held !== undefined) {
              if (p === chain.keys.length) return held;
              start = held;
              from = p;
              break;
            }
          }
        }
        return hoisted(JSON.stringify([chain.root, chain.keys, chain.safe]), () => {
        let cur = temp();
        const parts: string[] = [from < 0 ? `${cur} = input[${lit(chain.root)}]` : `${cur} = ${start}`];
        for (let i = Math.max(from, 0); i < chain.keys.length; i++) {
          const next = temp();
          const guard = chain.safe[i]
            ? `${cur} === null || ${cur} === undefined`
            : `${cur} === null || ${cur} === undefined || typeof ${cur} !== "object" || Array.isArray(${cur})`;
          parts.push(`${next} = (${guard}) ? undefined : ${cur}[${lit(chain.keys[i])}]`);
          cur = next;
        }
        return `(${parts.join(', ')}, ${cur} === undefined || ${cur} === null || typeof ${cur} === "function" ? null : ${cur})`;
        });
      }
      case 'Unary':
        if (e.op === 'not' && e.operand) return `(${gen(e.operand, scope)} !== true)`;
        return fallback(e, scope);
      case 'If':
        if (!e.cond) return fallback(e, scope);
        return `(${gen(e.cond, scope)} === true ? ${gen(e.then, scope)} : ${gen(e.else, scope)})`;
      case 'Binary':
        return binary(e, scope);
      case 'Call':
        return call(e, scope);
      default:
        return fallback(e, scope);
    }
  };

  const binary = (e: A.BinaryExpr, scope: unknown): string => {
    if (!e.right) return fallback(e, scope);
    const op = e.op;
    switch (op) {
      case 'and':
        return `(${gen(e.left, scope)} === true && ${gen(e.right, scope)} === true)`;
      case 'or':
        return `(${gen(e.left, scope)} === true || ${gen(e.right, scope)} === true)`;
      case '==':
      case '!=':
        if (isScalarKind(baseKind(host.typeOf(e.left))) || isScalarKind(baseKind(host.typeOf(e.right))))
          return `(${gen(e.left, scope)} ${op === '==' ? '===' : '!=='} ${gen(e.right, scope)})`;
        return fallback(e, scope);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const r = host.expr(e.right, scope);
        const l = host.expr(e.left, scope);
        if (r.constant && typeof r.value === 'number' && Number.isFinite(r.value) && !l.constant) {
          const t = temp();
          return `(${t} = ${gen(e.left, scope)}, typeof ${t} === "number" && ${t} ${op} ${lit(r.value)})`;
        }
        if (l.constant && r.constant) return fallback(e, scope);
        const fn = op === '<' || op === '>' ? b.ref(helpers.lt) : b.ref(helpers.le);
        // Same evaluation order as the closures: `a > b` is `lt(b, a)`.
        return op === '<' || op === '<=' ? `${fn}(${gen(e.left, scope)}, ${gen(e.right, scope)})` : `${fn}(${gen(e.right, scope)}, ${gen(e.left, scope)})`;
      }
      case 'in':
      case 'not in': {
        const r = host.expr(e.right, scope);
        if (r.constant && Array.isArray(r.value) && r.value.every((x) => typeof x !== 'object' || x === null)) {
          const l = host.expr(e.left, scope);
          if (l.constant) return fallback(e, scope);
          const set = b.ref(new Set(r.value.filter((x) => x !== null)));
          const t = temp();
          return `((${t} = ${gen(e.left, scope)}, ${t} !== null && ${t} !== undefined && ${set}.has(${t})) ${op === 'in' ? '=== true' : '!== true'})`;
        }
        return fallback(e, scope);
      }
      case '??': {
        const l = host.expr(e.left, scope);
        if (l.constant) return fallback(e, scope);
        const t = temp();
        return `(${t} = ${gen(e.left, scope)}, ${t} === null || ${t} === undefined ? ${gen(e.right, scope)} : ${t})`;
      }
      default:
        return fallback(e, scope);
    }
  };

  const STRING_TESTS: Record<string, string> = { starts_with: 'startsWith', ends_with: 'endsWith', contains: 'includes' };
  const call = (e: A.CallExpr, scope: unknown): string => {
    const callee = e.callee;
    if (callee.kind !== 'Member' || !callee.property || e.args.length !== 1) return fallback(e, scope);
    const m = callee.property.text;
    const jsMethod = STRING_TESTS[m];
    const ok = baseKind(host.typeOf(callee.object));
    // Inline only on values typed as strings: on `any` the closure decides (a non-string value other
    // than a list is a rule error there, compile.ts `method`).
    if (!jsMethod || (ok !== 'string' && ok !== 'enum')) return fallback(e, scope);
    if (callee.object.kind === 'NameRef') {
      const sym = host.symbolOf(callee.object);
      if (!sym || sym.kind === 'detector') return fallback(e, scope); // detectors: the closure decides
    }
    const o = host.expr(callee.object, scope);
    const a = host.expr(e.args[0], scope);
    if (o.constant && a.constant) return fallback(e, scope);
    const s = temp();
    const p = temp();
    const arrayCase = m === 'contains' ? `Array.isArray(${s}) ? ${b.ref(helpers.memberOf)}(${gen(e.args[0], scope)}, ${s}) : null` : 'null';
    return `(${s} = ${gen(callee.object, scope)}, typeof ${s} !== "string" ? (${arrayCase}) : (${p} = ${gen(e.args[0], scope)}, typeof ${p} === "string" && ${s}.${jsMethod}(${p})))`;
  };

  // `all`: every outcome, in rule order (the `evaluateRules` contract). Otherwise only the outcomes
  // of rules that matched or failed (what a decision is assembled from), without allocating a list
  // when none did.
  /** A message: text parts as literals, interpolations rendered as the closures do (compile.ts `string`). */
  const message = (m: { node: A.Expr | undefined; fn: Fn }, scope: unknown): string => {
    const e = m.node;
    if (!e || e.kind !== 'String' || e.parts.some((p) => p.kind !== 'Text' && !p.expr)) return `${b.ref(m.fn)}(env, f)`;
    const render = b.ref(helpers.renderValue);
    const cur = lit(helpers.currency);
    // Strings render as themselves and plain numbers as `String(n)` (values.ts `renderValue`, depth 0): inline.
    const interp = (x: A.Expr | undefined): string => {
      const ty = host.typeOf(x);
      const k = baseKind(ty);
      const t = temp();
      const plainNumber = k === 'int' || k === 'number' ? ` : typeof ${t} === "number" ? "" + ${t}` : '';
      return `(${t} = ${gen(x, scope)}, typeof ${t} === "string" ? ${t}${plainNumber} : ${render}(${t}, ${b.ref(ty)}, ${cur}))`;
    };
    const parts = e.parts.map((p) => (p.kind === 'Text' ? lit(p.value) : interp(p.expr)));
    return `("" + ${parts.join(' + ')})`;
  };
  const matchedCode = (r: GenRule): string => {
    if (r.matchedConst) return b.ref(r.matchedConst);
    const o = r.outcome;
    if (!o) return `${b.ref(r.matched)}(env, f)`;
    const fields = [
      `name: ${lit(o.name)}`,
      'matched: true',
      `effect: ${lit(o.effect)}`,
      `monitor: ${lit(o.monitor)}`,
      `annotations: ${b.ref(o.annotations)}`,
      `location: ${b.ref(o.location)}`,
    ];
    if (o.message) fields.push(`message: ${message(o.message, r.scope)}`);
    if (o.from) fields.push(`from: ${b.ref(o.from)}(env, f)`);
    return `{ ${fields.join(', ')} }`;
  };

  if (decide) return generateDecideBody(b, rules, helpers, decide, gen, message, reads, readLines, () => temps, fused !== undefined);
  b.line('const input = env.input;');
  b.line(`const out = all === true ? new Array(${lit(rules.length)}) : null;`);
  b.line('let m = null;');
  b.line('let f, o;');
  const body: string[] = [];
  const keep = (i: number) => `if (out !== null) out[${lit(i)}] = o; else if (m === null) m = [o]; else m.push(o);`;
  rules.forEach((r, i) => {
    const conds = [...r.whens.map((w) => `${gen(w, r.scope)} === true`), ...r.unlesses.map((u) => `${gen(u, r.scope)} !== true`)];
    const matchedOutcome = matchedCode(r);
    // After generating everything of the rule: fallbacks may have allocated lambda slots.
    const n = r.frameSize();
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
  helpers: RuleHelpers,
  decide: DecideHelpers,
  gen: (e: A.Expr | undefined, scope: unknown) => string,
  message: (m: { node: A.Expr | undefined; fn: Fn }, scope: unknown) => string,
  reads: Map<string, string>,
  readLines: string[],
  temps: () => number,
  fused: boolean,
): unknown {
  void helpers;
  // The rules' entries go into one `Entries` (entries.ts), `E`: each into the list its effect
  // (known here) selects in the effects table, exactly as `Entries.rule` places an outcome.
  const push = (list: string, item: string): string => `if (${prop('E', list)} === null) ${prop('E', list)} = [${item}]; else ${prop('E', list)}.push(${item});`;
  const listOf = (effect: ClauseEffect): string => EFFECTS[effect].list;
  const body: string[] = [];
  for (const r of rules) {
    const nm = r.notMatched; // name, effect, monitor, annotations and location of the rule
    const conds = [...r.whens.map((w) => `${gen(w, r.scope)} === true`), ...r.unlesses.map((u) => `${gen(u, r.scope)} !== true`)];
    // The message and approver, evaluated in the same order as the outcome would be built.
    const parts: string[] = [];
    if (r.matchedConst) {
      const c = r.matchedConst;
      parts.push(`ms = ${c.message === undefined ? 'null' : lit(c.message)};`);
      parts.push(`fr = ${c.from === undefined || c.from === null ? 'null' : lit(c.from)};`);
    } else if (r.outcome) {
      const o = r.outcome;
      parts.push(`ms = ${o.message ? `${message(o.message, r.scope)} ?? null` : 'null'};`);
      parts.push(`fr = ${o.from ? `${b.ref(o.from)}(env, f) ?? null` : 'null'};`);
    } else {
      parts.push(`o = ${b.ref(r.matched)}(env, f);`);
      parts.push('ms = o.message ?? null;');
      parts.push('fr = o.from ?? null;');
    }
    const reason = `{ kind: "rule", name: ${lit(nm.name)}, effect: ${lit(nm.effect)}, message: ms, annotations: ${b.ref(nm.annotations)}, location: ${b.ref(nm.location)} }`;
    if (nm.monitor) parts.push(push('monitored', reason));
    else {
      parts.push(push(listOf(nm.effect), reason));
      if (EFFECTS[nm.effect].approval) parts.push(push('approvals', `{ kind: "rule", name: ${lit(nm.name)}, from: fr, message: ms, location: ${b.ref(nm.location)} }`));
    }
    const failed = [
      `o = ${b.ref(r.failed)}(e);`,
      push('errors', '{ kind: "rule", name: o.name, message: o.error, location: o.location }'),
      `r = ${b.ref(decide.errorReason)}(o, ${lit(decide.onError)});`,
      push(nm.monitor ? 'monitored' : listOf(decide.onError), 'r'),
    ];
    const n = r.frameSize();
    body.push(`f = ${n > 0 ? `new Array(${lit(n)})` : b.ref(EMPTY_FRAME)};`);
    body.push('try {');
    body.push(`if (${conds.length ? conds.join(' && ') : 'true'}) { ${parts.join(' ')} }`);
    body.push(`} catch (e) { ${failed.join(' ')} }`);
  }
  if (!fused) b.line('const input = env.input;');
  b.line(`const E = new ${b.ref(Entries)}(input);`);
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
    b.line('return finish(E, input, now, env, request);');
    return b.build<FusedEvaluate>('generatedEvaluate', ['request', 'now', 'views', 'finish']);
  }
  b.line(`return ${b.ref(decide.finish)}(E, input, env.now, env, undefined);`);
  return b.build<(env: Env) => Decision>('generatedDecide', ['env']);
}
