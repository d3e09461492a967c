import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '../../language/policy.js';
import type { Env } from '../../language/runtime/compiled.js';

const schema = readFileSync(fileURLToPath(new URL('../fixtures/runtime/schema.rein', import.meta.url)), 'utf8');
const budgets = `
budget team_daily {
  limit $50 per day
  charge cost.estimate ?? $0
  by agent.team
  when action.kind == "model_call"
  warn at 80%
  on exceed deny "team \${agent.team} has spent its $50 for today"
}

budget tool_rate {
  limit 30 per minute
  charge 1
  by session.id, agent.id
  when action.kind == "tool_call"
  on exceed require approval from "on-call"
}

budget session_risk {
  limit 10
  charge if action.tool == "payments.transfer" then 5 else 1
  by session.id
  on exceed require approval from "supervisor"
}

budget window_15m {
  limit 100 per 15m
  charge 1
}

rule near_ceiling {
  when team_daily.used >= 80%
  warn "the team is near its daily ceiling"
}
`;

describe('compile: budget closures for the engine', () => {
  const p = compile({ 'schema.rein': schema, 'budgets.rein': budgets });
  const b = Object.fromEntries(p.compiled.budgets.map((x) => [x.name, x]));
  const v = p.compiled.validate({
    session: { id: 's1', actions: 0 },
    agent: { id: 'a1', team: 'support', autonomy: 2 },
    action: { kind: 'model_call', model: 'small' },
    data: { classification: 'public' },
    cost: { estimate: '0.031', tokens: 500 },
    history: [],
  });
  assert.ok(v.ok);
  const env: Env = { input: v.value, now: Date.UTC(2026, 0, 5, 10), budgets: {} };

  it('limits, units, windows and thresholds are constants', () => {
    assert.equal(b.team_daily.unit, 'money');
    assert.equal(b.team_daily.limit, 50_000_000);
    assert.deepEqual(b.team_daily.window, { kind: 'fixed', unit: 'day' });
    assert.equal(b.team_daily.warnAt, 0.8);
    assert.equal(b.tool_rate.unit, 'number');
    assert.equal(b.tool_rate.limit, 30);
    assert.deepEqual(b.session_risk.window, { kind: 'lifetime' });
    assert.deepEqual(b.window_15m.window, { kind: 'fixed', ms: 900_000 });
  });

  it('applies / charge / key evaluate against the request', () => {
    assert.equal(b.team_daily.applies(env), true);
    assert.equal(b.tool_rate.applies(env), false);
    assert.equal(b.session_risk.applies(env), true, 'no when: always applies');
    assert.equal(b.team_daily.charge(env), 31_000, 'money charges are micros');
    assert.equal(b.session_risk.charge(env), 1);
    assert.deepEqual(b.team_daily.key(env), ['support']);
    assert.deepEqual(b.tool_rate.key(env), ['s1', 'a1']);
    assert.deepEqual(b.window_15m.key(env), []);
  });

  it('on exceed: effect, message and approver', () => {
    assert.equal(b.team_daily.onExceed.effect, 'deny');
    assert.equal(b.team_daily.onExceed.message!(env), 'team support has spent its $50 for today');
    assert.equal(b.tool_rate.onExceed.effect, 'require_approval');
    assert.equal(b.tool_rate.onExceed.from!(env), 'on-call');
  });

  it('records which budgets rules read; evaluate treats them as empty', () => {
    assert.deepEqual(p.compiled.budgetsReadByRules, ['team_daily']);
    const d = p.evaluate({ ...Object.fromEntries(Object.entries(v.value)), cost: { estimate: 1, tokens: 1 } });
    assert.deepEqual(d.warnings, [], 'nothing spent in stateless evaluation');
    const outcomes = p.compiled.evaluateRules({ ...env, budgets: { team_daily: { spent: 45_000_000, remaining: 5_000_000, limit: 50_000_000, used: 0.9 } } });
    assert.equal(outcomes.find((o) => o.name === 'near_ceiling')?.matched, true);
  });
});

describe('compile: evaluateExpr (test expressions)', () => {
  it('evaluates lets, `with` and money in the runtime representation', () => {
    const p = compile({
      'schema.rein': schema,
      't.rein': 'let base = { action: { kind: "tool_call", tool: "a" }, cost: { estimate: $0.5, tokens: 1 } }\ntest "t" {\n  given base with { action: { tool: "b" } }\n  expect allow\n}',
    });
    const given = p.compiled.program.tests[0].items.find((i) => i.kind === 'Given') as { expr: import('../../language/syntax/ast.js').Expr };
    const v = p.compiled.evaluateExpr!(given.expr) as Record<string, Record<string, unknown>>;
    assert.equal(v.action.tool, 'b');
    assert.equal(v.action.kind, 'tool_call');
    assert.equal(v.cost.estimate, 500_000);
  });
});

describe('compile: a charge that is not a number', () => {
  it('names null (an absent optional field) in the decision error, not "NaN"', async () => {
    const p = compile({
      'p.rein': 'policy p { default allow  on error deny  currency "USD" }\ninput { cost?: { estimate: money } }\nbudget spend { limit $1 per day  charge cost.estimate }',
    });
    const { Engine } = await import('../../language/runtime/engine.js');
    const d = await new Engine(p).decide({});
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.errors.map((e) => [e.kind, e.name]), [['budget', 'spend']]);
    assert.match(d.errors[0]!.message, /charge is null/);
  });
});
