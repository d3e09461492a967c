// #17 items 1–6: each construct's mistakes get a clear diagnostic, and a misspelling a did-you-mean.
// (More cases per construct: limits-from-data, map-iteration, patterns-data, combine, approval-quorum,
// budget-window-kinds tests.)
import { strict as assert } from 'node:assert';
import { check } from '../../language/check.js';

const HEAD = 'policy p { default allow }\ninput { team: string, cost: money, n: int }\n';
const diags = (body: string) =>
  check({ 'p.rein': HEAD + body })
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.message}${d.help ? ` [${d.help}]` : ''}`);

describe('#17 constructs: diagnostics and did-you-mean', () => {
  const cases: [string, string, RegExp][] = [
    ['limits from data: a misspelt table', 'let caps = { a: $1 }\nbudget b {\n  limit capz[team] ?? $5 per day\n  charge cost\n}\n', /REIN200: unknown name `capz` \[did you mean `caps`\?\]/],
    ['limits from data: a limit reading a budget', 'budget b {\n  limit b.spent per day\n  charge cost\n}\n', /REIN213: a budget `limit` may read the request and `let` data, but it reads a budget \(`b`\)/],
    ['map iteration: a misspelt map method', 'let m = { a: 1 }\nrule r {\n  when m.kyes().len() > 1\n  deny "x"\n}\n', /REIN204: an object has no method `kyes` .* \[did you mean `keys`\?\]/],
    ['string(): misspelt', 'rule r {\n  when strng(n) == "1"\n  deny "x"\n}\n', /REIN200: unknown name `strng` \[did you mean `string`\?\]/],
    ['like: misspelt', 'rule r {\n  when team.lik("a*")\n  deny "x"\n}\n', /REIN204: `string` has no method `lik` \[did you mean `like`\?\]/],
    ['like: a glob that is not a string', 'rule r {\n  when team.like(3)\n  deny "x"\n}\n', /REIN209: argument 1 of `\.like\(\)` must be `string`, found `int`/],
    ['pattern lists: each pattern is checked', 'rule r {\n  when team matches ["(?i)a(", "b"]\n  deny "x"\n}\n', /REIN211: invalid regular expression: missing closing \): `\(\?i\)a\(`/],
    ['rolling: misspelt', 'budget b {\n  limit 5 per roling 1h\n  charge 1\n}\n', /REIN101: .*after `per` \[did you mean `rolling`\?\]/],
    ['rolling: no length', 'budget b {\n  limit 5 per rolling request\n  charge 1\n}\n', /REIN213: a rolling window needs a fixed length: `request` has none/],
    ['anchored: misspelt', 'budget b {\n  limit 5 per 30d anchord\n  charge 1\n}\n', /REIN101: unexpected `anchord`: .* \[did you mean `anchored`\?\]/],
    ['anchored: a month has no fixed length', 'budget b {\n  limit 5 per month anchored\n  charge 1\n}\n', /REIN213: an anchored period needs a fixed length: `month` has none \[write a duration, e\.g\. `30d`\]/],
    ['bucket: misspelt refill', 'budget b {\n  burst 3 refil 1 per 1s\n  charge 1\n}\n', /REIN101: expected `refill` after the burst \[did you mean `refill`\?\]/],
    ['bucket: a zero refill', 'budget b {\n  burst 3 refill 0 per 1s\n  charge 1\n}\n', /REIN213: a token bucket's `refill` must be greater than zero/],
    ['quorum: misspelt', 'rule r {\n  when n > 1\n  require approval from "x" quorom 2\n}\n', /REIN101: .*found `quorom` \[did you mean `quorum`\?\]/],
    ['expires: misspelt', 'rule r {\n  when n > 1\n  require approval from "x" expire 15m\n}\n', /REIN101: .*found `expire` \[did you mean `expires`\?\]/],
    ['quorum: not a whole number', 'rule r {\n  when n > 1\n  require approval quorum 2.5\n}\n', /REIN240: `quorum` must be a whole number from 1 to 100, found `2\.5`/],
  ];
  for (const [what, body, re] of cases) {
    it(what, () => {
      const d = diags(body);
      assert.ok(d.some((x) => re.test(x)), d.join('\n'));
    });
  }

  it('combine: a misspelt algorithm', () => {
    const d = check({ 'p.rein': 'policy p { default deny  combine deny_overide }\ninput { a: int }\n' }).diagnostics.map((x) => `${x.code}: ${x.message} [${x.help}]`);
    assert.deepEqual(d, ['REIN216: unknown combining algorithm `deny_overide` [did you mean `deny_overrides`?]']);
  });

  it('a token bucket without `refill … per …` is one error, and the next clause still parses', () => {
    assert.deepEqual(diags('budget b {\n  burst 3\n  charge 1\n}\n'), ['REIN101: expected `refill AMOUNT per LENGTH` (e.g. `burst 3 refill 1 per 1s`) after `3`']);
    assert.deepEqual(diags('budget b {\n  burst 3 refil 1 per 1s\n  charge 1\n}\n'), ['REIN101: expected `refill` after the burst [did you mean `refill`?]']);
    assert.deepEqual(diags('budget b {\n  burst 3 refill 1 per 1s\n  charge 1\n}\n'), []);
  });

  it('a word nowhere near a keyword gets no guess', () => {
    const d = diags('rule r {\n  when n > 1\n  require approval from "x" zebra 2\n}\n');
    assert.ok(d.some((x) => /found `zebra`/.test(x) && !/did you mean/.test(x)), d.join('\n'));
  });
});
