// A budget that blocks without an `on exceed` message names itself and its limit (regression R6 of
// session 9: `message: null`, so `rein mcp` told the model only "refused this call to `echo`: per_session").
import assert from 'node:assert/strict';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';

const SRC = (onExceed: string) => ({
  'p.rein': `policy p { default allow }
input { user: string, cost: money }
budget per_session {
  limit 2 per hour
  charge 1
${onExceed}}
budget spend {
  limit $1.50 per day
  charge cost
  on exceed require approval from "ops" quorum 1
}
`,
});

describe('budget reasons without an `on exceed` message (R6)', () => {
  for (const codegen of [false, true]) {
    it(`name the budget and its limit (codegen ${codegen}); an explicit message is kept`, async () => {
      const e = new Engine(compile(SRC(''), { codegen }));
      for (let i = 0; i < 2; i++) await e.settle(await e.decide({ user: 'u', cost: '0' }), {});
      const d = await e.decide({ user: 'u', cost: '2' });
      assert.equal(d.effect, 'deny');
      assert.deepEqual(d.reasons.map((r) => [r.name, r.message]), [['per_session', 'budget `per_session` would go over its limit of 2']]);
      assert.deepEqual(d.approvals.map((a) => [a.name, a.message]), [['spend', 'budget `spend` would go over its limit of $1.50']]);
      const m = new Engine(compile(SRC('  on exceed deny "at most 2 a session"\n'), { codegen }));
      for (let i = 0; i < 2; i++) await m.settle(await m.decide({ user: 'u', cost: '0' }), {});
      assert.equal((await m.decide({ user: 'u', cost: '0' })).reasons[0]!.message, 'at most 2 a session');
    });
  }
});

describe('a money budget\'s default message prints the policy\'s currency (session 11, R8)', () => {
  // regression: the limit was printed as the decision's decimal string, `1.000000`.
  for (const codegen of [false, true]) {
    it(`\`$1\` reads \`$1.00\`, \`currency "EUR"\` reads \`1.25 EUR\` (codegen ${codegen})`, async () => {
      const src = (header: string, limit: string) => ({
        'p.rein': `policy p { default allow${header} }\ninput { cost: money }\nbudget b {\n  limit ${limit} per day\n  charge cost\n}\n`,
      });
      const usd = new Engine(compile(src('', '$1'), { codegen }));
      const d = await usd.decide({ cost: '2' });
      assert.equal(d.effect, 'deny');
      assert.equal(d.reasons[0]!.message, 'budget `b` would go over its limit of $1.00');
      assert.equal(d.budgets[0]!.limit, '1.000000', 'the decision\'s money stays a 6-digit decimal string');
      const eur = new Engine(compile(src('\n  currency "EUR"', '$1.25'), { codegen }));
      assert.equal((await eur.decide({ cost: '2' })).reasons[0]!.message, 'budget `b` would go over its limit of 1.25 EUR');
    });
  }
});

describe('an `on exceed` message that fails at run time', () => {
  // regression (session 11, R8 leftover): the exceeded budget's reason had `message: null`.
  for (const codegen of [false, true]) {
    it(`gives way to the default message; the failure is in errors and the exceed effect stands (codegen ${codegen})`, async () => {
      const src = {
        'p.rein': `policy p {\n  default allow\n  on error allow\n}\ninput { cost: money, args: map<any> }\nbudget b {\n  limit $1 per day\n  charge cost\n  on exceed deny "over, with \${args.xs.sum()} items"\n}\n`,
      };
      const e = new Engine(compile(src, { codegen }));
      const d = await e.decide({ cost: '2', args: { xs: ['a'] } });
      assert.equal(d.effect, 'deny', 'on error allow never opens a ceiling');
      assert.deepEqual(d.reasons.filter((r) => r.kind === 'budget').map((r) => [r.name, r.message]), [['b', 'budget `b` would go over its limit of $1.00']]);
      assert.match(d.errors.map((x) => x.message).join('\n'), /`on exceed` failed: budget `b` message: `\.sum\(\)` needs numbers/);
      const ok = await e.decide({ cost: '2', args: { xs: [1, 2] } });
      assert.equal(ok.reasons[0]!.message, 'over, with 3 items');
    });
  }
});

describe('a null charge says so', () => {
  // regression (review h12r2 T14): an absent optional field as the charge failed with "charge is NaN".
  for (const codegen of [false, true]) {
    it(`names null and the \`??\` default that fixes it (codegen ${codegen})`, async () => {
      const src = { 'p.rein': `policy p { default allow }\ninput { team: string, cost?: { estimate: money }, n?: int }\nbudget b {\n  limit $5 per day\n  charge cost.estimate\n  by team\n}\nbudget c {\n  limit 5 per day\n  charge n\n  by team\n}\n` };
      const d = await new Engine(compile(src, { codegen })).decide({ team: 'a' });
      assert.equal(d.effect, 'deny', 'a failed budget fails closed');
      assert.deepEqual(d.errors.map((e) => [e.name, e.message]), [
        ['b', '`charge` failed: the charge is null (an absent optional field? give it a default with `??`: `?? $0`)'],
        ['c', '`charge` failed: the charge is null (an absent optional field? give it a default with `??`: `?? 0`)'],
      ]);
    });
  }
});
