// Issue 11 §7: a budget `limit` or `warn at` that reads the request passed `rein check` and became 0
// at run time (every request denied, the warning never fired).
import assert from 'node:assert/strict';
import { checkBody } from './helpers.js';

function budgetDiags(items: string, prelude = ''): { code: string; message: string }[] {
  return checkBody(`${prelude}\nbudget b {\n  ${items}\n  charge 1\n}\n`)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => ({ code: d.code, message: d.message }));
}

describe('budget limits are constants', () => {
  it('rejects a limit that reads the request, with the name it reads', () => {
    const d = budgetDiags('limit agent.autonomy per 30d');
    assert.deepEqual(d.map((x) => x.code), ['REIN213']);
    assert.match(d[0].message, /`limit` must be a constant, but it reads the request \(`agent`\)/);
  });

  it('rejects reads through a let or a def, of the clock and of budgets', () => {
    assert.match(budgetDiags('limit cap per day', 'let cap = agent.autonomy * 2')[0]?.message ?? '', /reads the request \(`agent`\) through `cap`/);
    assert.match(budgetDiags('limit f(1) per day', 'def f(x: int): int = x + agent.autonomy')[0]?.message ?? '', /through `f`/);
    assert.match(budgetDiags('limit hour(now) + 1 per day')[0]?.message ?? '', /the clock/);
    assert.match(budgetDiags('limit other.limit', 'budget other { limit 5 charge 1 }')[0]?.message ?? '', /a budget \(`other`\)/);
  });

  it('rejects a warn at that reads the request', () => {
    const d = budgetDiags('limit 10 per day\n  warn at agent.autonomy * 1%');
    assert.deepEqual(d.map((x) => x.code), ['REIN213']);
    assert.match(d[0].message, /`warn at` must be a constant/);
  });

  it('accepts constants, lets of constants and defs called with constants', () => {
    assert.deepEqual(budgetDiags('limit 10 per day'), []);
    assert.deepEqual(budgetDiags('limit cap * 2 per day\n  warn at 80%', 'let cap = 5'), []);
    assert.deepEqual(budgetDiags('limit twice(5) per day', 'def twice(x: int): int = x * 2'), []);
  });
});
