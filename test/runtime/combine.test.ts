// `combine first_match` with `@priority` (#17 item 3): only the first deciding rule counts, in
// priority order (higher first, ties in source order, across files); `warn` and `@monitor` rules
// never stop the search; a failing rule decides with `on error`; budgets still apply. Both backends
// (generated code, closures) and the engine decide the same; the checker, the lint (REIN340), the
// formatter and the services know the header.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { check } from '../../language/check.js';
import { format } from '../../language/format/format.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { runTests } from '../../language/runtime/test-runner.js';
import type { Decision } from '../../language/runtime/decision.js';
import { rng } from '../helpers/prng.js';

const GLOBAL = `policy tools { default deny  combine first_match }
input { tool: string, team: string, n: int }

rule no_shell { when tool == "shell"  deny "no shell" }
rule reads { when tool.starts_with("read")  allow "reads are fine" }
rule risky { when tool == "deploy"  require approval from "ops" "deploys need ops" }
rule odd { when 10 / n > 2  deny "small n" }
rule big { when n > 100  warn "big n" }
@monitor
rule watch { when tool == "shell"  allow "watching" }
rule everything_else { when tool != ""  deny "not on the list" }

budget deploys {
  limit 1 per day
  charge 1
  by team
  when tool == "deploy"
}
`;
// A team's exceptions, in its own file beside the global one: a higher priority wins.
const TEAM = `/// The ops team may use the shell.
@priority("100")
rule ops_shell { when tool == "shell" and team == "ops"  allow "ops may" }

@priority("100")
rule ops_deploy { when tool == "deploy" and team == "ops"  allow "ops deploy freely" }
`;

const T0 = Date.parse('2026-11-24T10:00:00Z');
const strip = (d: Decision) => JSON.parse(JSON.stringify({ ...d, reservation: null, time: null }));

describe('combine first_match', () => {
  const gen = compile({ 'global.rein': GLOBAL, 'team.rein': TEAM }, { codegen: true });
  const clo = compile({ 'global.rein': GLOBAL, 'team.rein': TEAM }, { codegen: false });

  const cases: [string, Record<string, unknown>, string, string[]][] = [
    ['the team exception wins over the global deny', { tool: 'shell', team: 'ops', n: 5 }, 'allow', ['ops_shell']],
    ['without it the global deny stands', { tool: 'shell', team: 'dev', n: 5 }, 'deny', ['no_shell']],
    ['an earlier allow stops the search (no deny_overrides)', { tool: 'read_file', team: 'dev', n: 5 }, 'allow', ['reads']],
    ['a pending approval is the first match', { tool: 'deploy', team: 'dev', n: 5 }, 'require_approval', ['risky']],
    ['a priority allow beats the approval', { tool: 'deploy', team: 'ops', n: 5 }, 'allow', ['ops_deploy']],
    ['the catch-all decides the rest', { tool: 'write', team: 'dev', n: 5 }, 'deny', ['everything_else']],
    ['a failing rule decides with `on error`', { tool: 'write', team: 'dev', n: 0 }, 'deny', ['odd']],
  ];
  for (const [what, req, effect, names] of cases) {
    it(`${what}; both backends agree`, () => {
      const a = gen.evaluate(req, { now: new Date(T0) });
      const b = clo.evaluate(req, { now: new Date(T0) });
      assert.equal(a.effect, effect, JSON.stringify(a.reasons));
      assert.deepEqual(a.reasons.map((r) => r.name), names, 'reasons name the winning rule');
      assert.deepEqual(strip(a), strip(b));
    });
  }

  it('warn and @monitor rules are reported but never stop the search', () => {
    const d = gen.evaluate({ tool: 'shell', team: 'dev', n: 500 }, { now: new Date(T0) });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.warnings.map((w) => w.name), ['big']);
    assert.deepEqual(d.monitored.map((m) => m.name), ['watch']);
  });

  it('the engine decides the same on both backends, budgets included; the winner is in the explanation', async () => {
    const mk = (p: typeof gen) => new Engine(p, { store: new MemoryBudgetStore(), clock: () => new Date(T0) });
    const eg = mk(gen);
    const ec = mk(clo);
    const deploy = { tool: 'deploy', team: 'ops', n: 5 };
    const [a1, b1] = [await eg.decide(deploy), await ec.decide(deploy)];
    assert.equal(a1.effect, 'allow');
    assert.deepEqual(strip(a1), strip(b1));
    // The budget is not a rule: first_match never skips it. The second deploy today is over the limit.
    const [a2, b2] = [await eg.decide(deploy), await ec.decide(deploy)];
    assert.equal(a2.effect, 'deny');
    assert.deepEqual(a2.reasons.map((r) => r.name), ['deploys']);
    assert.deepEqual(strip(a2), strip(b2));
    const ex = await eg.decide({ tool: 'shell', team: 'ops', n: 5 }, { explain: true });
    const shadowed = ex.explain!.find((r) => r.name === 'no_shell');
    assert.ok(shadowed, 'the shadowed rule is still explained');
    assert.equal(shadowed!.matched, false, 'it did not decide');
    assert.ok(shadowed!.clauses.every((c) => c.value === true), 'its conditions held');
    assert.equal(ex.explain!.find((r) => r.name === 'ops_shell')!.matched, true);
  });

  it('random requests: generated code, closures and the engine agree', () => {
    const r = rng(17);
    const tools = ['shell', 'read_x', 'deploy', 'write', ''];
    const e = new Engine(gen, { store: new MemoryBudgetStore(), clock: () => new Date(T0) });
    for (let i = 0; i < 300; i++) {
      const req = { tool: tools[Math.floor(r() * tools.length)]!, team: r() < 0.5 ? 'ops' : 'dev', n: Math.floor(r() * 200) - 2 };
      const a = gen.evaluate(req, { now: new Date(T0) });
      const b = clo.evaluate(req, { now: new Date(T0) });
      assert.deepEqual(strip(a), strip(b), JSON.stringify(req));
      if (req.tool !== 'deploy') assert.deepEqual(strip(e.decideSync(req)).reasons, strip(a).reasons, JSON.stringify(req));
    }
  });

  it('without `combine`, the same rules combine deny-overrides (unchanged)', () => {
    const p = compile({ 'global.rein': GLOBAL.replace('  combine first_match', ''), 'team.rein': TEAM.replace(/@priority\("100"\)\n/g, '') });
    const d = p.evaluate({ tool: 'shell', team: 'ops', n: 5 });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons.map((x) => x.name), ['no_shell', 'everything_else']);
  });

  it('test blocks run under first_match', () => {
    const p = compile({
      'global.rein': GLOBAL,
      'team.rein': TEAM,
      't.rein': `test "ops shell" {\n  given { tool: "shell", team: "ops", n: 5 }\n  expect allow by ops_shell\n}\n`,
    });
    const res = runTests(p);
    assert.equal(res.summary.failed, 0, JSON.stringify(res.results));
  });
});

describe('combine in the language', () => {
  const diags = (files: Record<string, string>) => check(files).diagnostics.map((d) => `${d.code}: ${d.message}${d.help ? ` (${d.help})` : ''}`);

  it('an unknown algorithm is an error with a did-you-mean', () => {
    assert.deepEqual(diags({ 'p.rein': 'policy p { default deny  combine first_mach }\ninput { a: int }\n' }), [
      'REIN216: unknown combining algorithm `first_mach` (did you mean `first_match`?)',
    ]);
    assert.deepEqual(diags({ 'p.rein': 'policy p { default deny  combine first_match  combine deny_overrides }\ninput { a: int }\n' }), ['REIN216: `combine` is set more than once in the policy header']);
    assert.match(diags({ 'p.rein': 'policy p { default deny  combine }\ninput { a: int }\n' }).join('\n'), /REIN101: expected a combining algorithm \(`deny_overrides` or `first_match`\) after `combine`/);
  });

  it('@priority must be a whole number, and means something only under first_match', () => {
    const rule = (p: string) => `${p}\nrule r { when a > 1  deny "m" }\n`;
    assert.deepEqual(diags({ 'p.rein': 'policy p { default deny  combine first_match }\ninput { a: int }\n' + rule('@priority("high")') }), [
      'REIN241: `@priority` needs a whole number, found `"high"` (e.g. `@priority("10")`: higher runs first under `combine first_match`)',
    ]);
    assert.match(diags({ 'p.rein': 'policy p { default deny }\ninput { a: int }\n' + rule('@priority("3")') }).join('\n'), /REIN241: `@priority` orders rules only under `combine first_match`/);
    assert.deepEqual(diags({ 'p.rein': 'policy p { default deny  combine first_match }\ninput { a: int }\n' + rule('@priority("-3")') }), []);
  });

  it('REIN340: a rule behind an unconditional one can never decide (priority and constants considered)', () => {
    const src = `policy p { default deny  combine first_match }
input { a: int }
let on = true
rule catch_all { when on  deny "all" }
rule late { when a > 1  allow "never reached" }
@priority("5")
rule early { when a > 3  allow "tried first" }
rule noted { when a > 2  warn "warn rules are not deciding" }
`;
    const d = check({ 'p.rein': src }).diagnostics;
    assert.deepEqual(d.map((x) => x.code), ['REIN340']);
    assert.match(d[0]!.message, /rule `late` can never decide: under `combine first_match`, rule `catch_all` is tried first/);
    assert.equal(d[0]!.related?.[0]?.message, 'rule `catch_all` always matches');
    // Under deny_overrides there is nothing unreachable.
    assert.deepEqual(check({ 'p.rein': src.replace('  combine first_match', '').replace('@priority("5")\n', '') }).diagnostics.map((x) => x.code), []);
  });

  it('formats `combine` in the header', () => {
    const out = format('policy p {\n  default deny\n  combine    first_match\n}\n');
    assert.match(out, /\n  combine first_match\n/);
    assert.equal(format(out), out);
  });

  it('LSP: completes the header keyword and the algorithms; hovers them', async () => {
    const { complete } = await import('../../language/services/completion.js');
    const { hover } = await import('../../language/services/hover.js');
    const { fixture } = await import('../services/helper.js');
    const a = fixture('policy p {\n  <|>\n}\n');
    assert.ok(complete(a.analysis, a.file, a.offset).some((i) => i.label === 'combine'));
    const b = fixture('policy p {\n  combine <|>\n}\n');
    assert.deepEqual(complete(b.analysis, b.file, b.offset).map((i) => i.label).sort(), ['deny_overrides', 'first_match']);
    const src = 'policy p {\n  default deny\n  combine first_match\n}\ninput { a: int }\n';
    const c = fixture({ 'main.rein': src });
    assert.match(hover(c.analysis, 'main.rein', src.indexOf('combine') + 1)!.contents, /\*\*combine\*\* — /);
    assert.match(hover(c.analysis, 'main.rein', src.indexOf('first_match') + 1)!.contents, /\*\*first_match\*\* — .*@priority/);
  });
});

describe('combine first_match across layers: the base first at equal priority (regression, session 9 review R4)', () => {
  // A team file whose name sorts before `../` (`-` and `#` sort before `.`) beat the base's rules at
  // equal priority, contrary to docs/layering.md; the lint (REIN340) must rank the same way.
  const BASE = `policy tools { default allow  combine first_match }
input { tool: string }
rule no_shell { when tool == "shell"  deny "no shell" }
`;
  const TEAM_RULE = `rule team_shell { when tool == "shell"  allow "team says yes" }\n`;
  for (const teamFile of ['-team.rein', '#team.rein', 'team.rein', 'z.rein']) {
    for (const codegen of [true, false]) {
      it(`team file \`${teamFile}\`, ${codegen ? 'generated code' : 'closures'}: the base's deny decides`, () => {
        const p = compile({ '../global/rules.rein': BASE, [teamFile]: TEAM_RULE }, { codegen });
        const d = p.evaluate({ tool: 'shell' });
        assert.equal(d.effect, 'deny', JSON.stringify(d.reasons));
        assert.deepEqual(d.reasons.map((r) => r.name), ['no_shell']);
      });
    }
    it(`team file \`${teamFile}\`: REIN340 names the team rule as unreachable behind the base's`, () => {
      const base = BASE.replace('when tool == "shell"  deny', 'deny');
      const r = check({ '../global/rules.rein': base, [teamFile]: TEAM_RULE });
      const d = r.diagnostics.filter((x) => x.code === 'REIN340');
      assert.equal(d.length, 1, JSON.stringify(r.diagnostics));
      assert.equal(d[0]!.file, teamFile);
    });
  }
  it('a higher @priority in the team still wins (the documented way to override)', () => {
    const p = compile({ '../global/rules.rein': BASE, '-team.rein': `@priority("10")\n${TEAM_RULE}` });
    assert.equal(p.evaluate({ tool: 'shell' }).effect, 'allow');
  });
});

describe('first_match with `on error allow`: a failed rule never hides a later deny (regression, session 13 review L7)', () => {
  // A priority-10 rule reading `args.amount > 1000` failed on `"amount": "5"` (a string): the failure
  // counted as a matched `allow` tried first, and the search stopped before the blocklist's deny —
  // the agent lifted the blocklist by sending the amount as text.
  const SRC = `policy pay { default deny  on error allow  combine first_match }
input { tool: string, args: map<any> }
@priority("10")
rule big_amounts { when tool == "pay" and args.amount > 1000 require approval from "fin" "big payment" }
rule no_pay_to_blocked { when tool == "pay" and args.to in ["mallory"] deny "blocked payee" }
rule pay_ok { when tool == "pay" and args.to != "nobody" allow "payments allowed" }
`;
  type Case = [what: string, args: Record<string, unknown>, effect: string, reasons: string[], errors: string[]];
  const cases: Case[] = [
    ['a failed rule does not stop the search: the deny holds', { amount: '5', to: 'mallory' }, 'deny', ['no_pay_to_blocked'], ['big_amounts']],
    ['the next explicit rule decides', { amount: '5', to: 'bob' }, 'allow', ['big_amounts', 'pay_ok'], ['big_amounts']],
    ['no explicit rule matches: the failure allows (on error allow), as under deny_overrides', { amount: '5', to: 'nobody' }, 'allow', ['big_amounts'], ['big_amounts']],
    ['without a failure, priority decides as before', { amount: 5000, to: 'mallory' }, 'require_approval', ['big_amounts'], []],
    ['and source order after it', { amount: 5, to: 'mallory' }, 'deny', ['no_pay_to_blocked'], []],
  ];
  for (const codegen of [true, false]) {
    const p = compile({ 'p.rein': SRC }, { codegen });
    for (const [what, args, effect, reasons, errors] of cases) {
      it(`${codegen ? 'generated code' : 'closures'}: ${what}`, async () => {
        for (const d of [p.evaluate({ tool: 'pay', args }), await new Engine(p).decide({ tool: 'pay', args }), p.evaluate({ tool: 'pay', args }, { explain: true })]) {
          assert.equal(d.effect, effect, JSON.stringify(d.reasons));
          assert.deepEqual(d.reasons.map((r) => r.name), reasons);
          assert.deepEqual(d.errors.map((e) => e.name), errors);
        }
      });
    }
  }

  it('with `on error deny` a failed rule tried first still decides (fail closed)', () => {
    const p = compile({ 'p.rein': SRC.replace('on error allow', 'on error deny') });
    const d = p.evaluate({ tool: 'pay', args: { amount: '5', to: 'bob' } });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons.map((r) => r.name), ['big_amounts']);
  });
});
