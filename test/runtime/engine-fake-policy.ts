// A hand-built CompiledPolicy for engine tests: exercises the engine through the compiler/engine
// contract (language/runtime/compiled.ts) without depending on the parser, checker or compiler.
//
// Requests: { user: string, team?: string, kind?: string, cost?: money (number or decimal string in
// currency units), n?: number }. Money is validated to integer micros like the real validator.

import type { BudgetWindow, ClauseEffect, CompiledBudget, CompiledPolicy, DecisionError, Env, RuleOutcome } from '../../language/runtime/compiled.js';
import type { PolicyLike } from '../../language/runtime/engine.js';
import type { CheckedProgram } from '../../language/semantics/program.js';
import { parseMoney } from '../../language/runtime/money.js';

export interface FakeBudget {
  name: string;
  unit?: 'money' | 'number';
  limit: number;
  window?: BudgetWindow;
  warnAt?: number;
  onExceed?: ClauseEffect;
  from?: string;
  message?: (env: Env) => string;
  monitor?: boolean;
  applies?: (env: Env) => boolean;
  /** Default: `cost` (money) or 1 (number). */
  charge?: (env: Env) => number;
  /** Default: by user. */
  key?: (env: Env) => unknown[];
}

export interface FakeRule {
  name: string;
  effect: ClauseEffect;
  when: (env: Env) => boolean;
  message?: string;
  monitor?: boolean;
}

export interface FakeOptions {
  budgets?: FakeBudget[];
  rules?: FakeRule[];
  budgetsReadByRules?: string[];
  default?: 'allow' | 'deny';
  onError?: 'allow' | 'deny';
}

const loc = (line: number) => ({ file: 'fake.rein', line, column: 1 });

function validate(request: unknown): { ok: true; value: Record<string, unknown> } | { ok: false; errors: DecisionError[] } {
  const errors: DecisionError[] = [];
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { ok: false, errors: [{ kind: 'input', message: 'expected an object', path: '$', expected: 'object' }] };
  }
  const r = request as Record<string, unknown>;
  const out: Record<string, unknown> = Object.create(null);
  if (typeof r.user !== 'string') errors.push({ kind: 'input', message: 'expected a string', path: '$.user', expected: 'string' });
  else out.user = r.user;
  for (const f of ['team', 'kind'] as const) {
    if (r[f] === undefined || r[f] === null) out[f] = null;
    else if (typeof r[f] !== 'string') errors.push({ kind: 'input', message: 'expected a string', path: `$.${f}`, expected: 'string' });
    else out[f] = r[f];
  }
  if (r.cost === undefined || r.cost === null) out.cost = null;
  else {
    const m = parseMoney(r.cost);
    if (m === undefined) errors.push({ kind: 'input', message: 'expected money', path: '$.cost', expected: 'money' });
    else out.cost = m;
  }
  if (r.n === undefined || r.n === null) out.n = null;
  else if (typeof r.n !== 'number') errors.push({ kind: 'input', message: 'expected a number', path: '$.n', expected: 'number' });
  else out.n = r.n;
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}

export function fakePolicy(opts: FakeOptions = {}): PolicyLike {
  const budgets: CompiledBudget[] = (opts.budgets ?? []).map((b, i) => {
    const unit = b.unit ?? 'money';
    return {
      name: b.name,
      unit,
      limit: b.limit,
      window: b.window ?? { kind: 'fixed', unit: 'day' },
      warnAt: b.warnAt,
      onExceed: {
        effect: b.onExceed ?? 'deny',
        from: b.from !== undefined ? () => b.from as string : undefined,
        message: b.message,
      },
      annotations: {},
      monitor: b.monitor ?? false,
      location: loc(100 + i),
      applies: b.applies ?? (() => true),
      charge: b.charge ?? ((env: Env) => (unit === 'money' ? ((env.input.cost as number | null) ?? 0) : 1)),
      key: b.key ?? ((env: Env) => [env.input.user]),
    };
  });
  const rules = opts.rules ?? [];
  const compiled: CompiledPolicy = {
    header: { name: 'fake', version: '1.0.0', default: opts.default ?? 'allow', defaultImplicit: false, onError: opts.onError ?? 'deny', currency: 'USD' },
    hash: 'sha256:' + '0'.repeat(64),
    program: {} as CheckedProgram,
    validate,
    budgets,
    budgetsReadByRules: opts.budgetsReadByRules ?? [],
    evaluateRules(env: Env): RuleOutcome[] {
      return rules.map((r, i) => {
        const o: RuleOutcome = { name: r.name, matched: false, effect: r.effect, monitor: r.monitor ?? false, annotations: {}, location: loc(10 + i) };
        try {
          o.matched = r.when(env);
          if (o.matched && r.message) o.message = r.message;
        } catch (e) {
          o.matched = true;
          o.error = e instanceof Error ? e.message : String(e);
        }
        return o;
      });
    },
  };
  return { compiled };
}

/** $ amount → micros. */
export const usd = (n: number): number => Math.round(n * 1_000_000);
