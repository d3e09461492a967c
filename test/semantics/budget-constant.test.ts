// Issue 11 §7: a budget `limit` or `warn at` that read the request passed `rein check` and became 0 at
// run time. Issue 17 §1 made such limits work (evaluated per request: test/runtime/limits-from-data.test.ts);
// a limit that reads the clock or a budget is still rejected (REIN213), directly or through lets and defs.
import assert from 'node:assert/strict';
import { checkBody } from './helpers.js';

function budgetDiags(items: string, prelude = ''): { code: string; message: string }[] {
  return checkBody(`${prelude}\nbudget b {\n  ${items}\n  charge 1\n}\n`)
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => ({ code: d.code, message: d.message }));
}

describe('budget limits: the request and data, not the clock or budgets', () => {
  it('accepts a limit that reads the request, directly or through a let or a def', () => {
    assert.deepEqual(budgetDiags('limit agent.autonomy per 30d'), []);
    assert.deepEqual(budgetDiags('limit cap per day', 'let cap = agent.autonomy * 2'), []);
    assert.deepEqual(budgetDiags('limit f(1) per day', 'def f(x: int): int = x + agent.autonomy'), []);
  });

  it('rejects reads of the clock and of budgets, through lets and defs too', () => {
    assert.match(budgetDiags('limit hour(now) + 1 per day')[0]?.message ?? '', /`limit` may read the request and `let` data, but it reads the clock/);
    assert.match(budgetDiags('limit other.limit', 'budget other { limit 5 charge 1 }')[0]?.message ?? '', /a budget \(`other`\)/);
    assert.match(budgetDiags('limit f(1) per day', 'def f(x: int): int = x + hour(now)')[0]?.message ?? '', /the clock \(`now`\) through `f`/);
    assert.match(budgetDiags('limit agent.autonomy + hour(now) per day')[0]?.message ?? '', /the clock/, 'a request read first does not hide the clock');
  });

  it('accepts a warn at that reads the request; rejects one that reads the clock', () => {
    assert.deepEqual(budgetDiags('limit 10 per day\n  warn at agent.autonomy * 1%'), []);
    const d = budgetDiags('limit 10 per day\n  warn at hour(now) * 1%');
    assert.deepEqual(d.map((x) => x.code), ['REIN213']);
    assert.match(d[0].message, /`warn at` may read the request/);
  });

  it('accepts constants, lets of constants and defs called with constants', () => {
    assert.deepEqual(budgetDiags('limit 10 per day'), []);
    assert.deepEqual(budgetDiags('limit cap * 2 per day\n  warn at 80%', 'let cap = 5'), []);
    assert.deepEqual(budgetDiags('limit twice(5) per day', 'def twice(x: int): int = x * 2'), []);
  });
});
