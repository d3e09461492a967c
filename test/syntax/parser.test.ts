import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, tokenize } from '../../language/syntax/parser.js';
import { RESERVED_WORDS, CONTEXTUAL_KEYWORDS } from '../../language/syntax/lexer.js';
import type * as A from '../../language/syntax/ast.js';
import { sx, diags } from './sx.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/syntax/${name}`, import.meta.url), 'utf8');

/** Parses `src`, asserts it has no diagnostics, returns the declarations. */
function ok(src: string): A.Decl[] {
  const r = parse(src);
  assert.deepEqual(diags(r), [], `unexpected diagnostics for:\n${src}`);
  return r.ast.decls;
}

/** The expression of `let x = <src>`. */
function expr(src: string): A.Expr {
  const [d] = ok(`let x = ${src}`);
  assert.equal(d.kind, 'LetDecl');
  return (d as A.LetDecl).value!;
}

describe('parser: declarations', () => {
  it('parses the LANGUAGE.md samples with no syntax errors', () => {
    const schema = parse(fixture('language-schema.rein'), 'language-schema.rein');
    assert.deepEqual(
      schema.diagnostics.map((d) => `${d.code} ${d.message}`),
      [],
    );
    assert.deepEqual(
      schema.ast.decls.map((d) => d.kind),
      ['PolicyDecl', 'InputDecl', 'TypeDecl', 'TypeDecl', 'LetDecl', 'LetDecl', 'DefDecl', 'ExternDecl'],
    );
    assert.equal(schema.ast.file, 'language-schema.rein');
    const rules = parse(fixture('language-rules.rein'));
    assert.deepEqual(diags(rules), []);
    assert.deepEqual(
      rules.ast.decls.map((d) => d.kind),
      ['RuleDecl', 'RuleDecl', 'RuleDecl', 'BudgetDecl', 'BudgetDecl', 'BudgetDecl', 'LetDecl', 'TestDecl', 'TestDecl', 'TestDecl'],
    );
  });

  it('policy header', () => {
    const [p] = ok('policy support_agent {\n  version "1.4.0"\n  default allow\n  on error deny\n  currency "USD"\n}') as [A.PolicyDecl];
    assert.equal(p.name?.text, 'support_agent');
    assert.deepEqual(
      p.items.map((i) => (i.kind === 'PolicyDefault' || i.kind === 'PolicyOnError' ? `${i.kind}:${i.effect}` : i.kind === 'PolicyCombine' ? `${i.kind}:${i.algorithm.text}` : `${i.kind}:${sx(i.value)}`)),
      ['PolicyVersion:"1.4.0"', 'PolicyDefault:allow', 'PolicyOnError:deny', 'PolicyCurrency:"USD"'],
    );
    const def = p.items[1] as Extract<A.PolicyItem, { kind: 'PolicyDefault' }>;
    assert.deepEqual([def.effectRange.start.line, def.effectRange.start.character, def.effectRange.end.character], [2, 10, 15]);
  });

  it('input: optional fields, nested objects, unions, generics, commas optional', () => {
    const [i] = ok(`input {
  session: { id: string, actions: int }
  data: { classification: "public" | "internal" | "confidential" }
  cost?: { estimate: money tokens: int },
  history: list<Step>
  args: map<any>
}`) as [A.InputDecl];
    assert.deepEqual(
      i.fields.map((f) => `${f.name.text}${f.optional ? '?' : ''}: ${sx(f.type)}`),
      [
        'session: (ObjectType fields=[(FieldDecl name=id optional=false type=(TypeName name=string)) (FieldDecl name=actions optional=false type=(TypeName name=int))])',
        'data: (ObjectType fields=[(FieldDecl name=classification optional=false type=(UnionType members=["public" "internal" "confidential"]))])',
        'cost?: (ObjectType fields=[(FieldDecl name=estimate optional=false type=(TypeName name=money)) (FieldDecl name=tokens optional=false type=(TypeName name=int))])',
        'history: (TypeName name=list args=[(TypeName name=Step)])',
        'args: (TypeName name=map args=[(TypeName name=any)])',
      ],
    );
  });

  it('type, let, def, extern', () => {
    const ds = parse('type Step = { tool: string, ok: bool }\nlet n: int = 3\ndef external(addr: string, n): bool = not addr.ends_with("@example.com")\nextern def risk(a: Action): number').ast.decls;
    assert.deepEqual(ds.map(sx), [
      '(TypeDecl name=Step type=(ObjectType fields=[(FieldDecl name=tool optional=false type=(TypeName name=string)) (FieldDecl name=ok optional=false type=(TypeName name=bool))]))',
      '(LetDecl name=n type=(TypeName name=int) value=3)',
      '(DefDecl name=external params=[(Param name=addr type=(TypeName name=string)) (Param name=n)] returnType=(TypeName name=bool) body=(not (call (. addr ends_with) "@example.com")))',
      '(ExternDecl name=risk params=[(Param name=a type=(TypeName name=Action))] returnType=(TypeName name=number))',
    ]);
    assert.deepEqual(ok('def zero() = 0').map(sx), ['(DefDecl name=zero body=0)']);
  });

  it('rules: annotations, conditions in order, every effect', () => {
    const [r] = ok(`@severity("critical") @owner("secops")
@monitor
rule r {
  when a
  unless b
  when c
  require approval from "finance" "needs sign-off"
}`) as [A.RuleDecl];
    assert.equal(r.name?.text, 'r');
    assert.deepEqual(
      r.annotations.map((a) => `${a.name.text}=${a.value ? sx(a.value) : ''}`),
      ['severity="critical"', 'owner="secops"', 'monitor='],
    );
    assert.deepEqual(r.body.map(sx), ['(When expr=a)', '(Unless expr=b)', '(When expr=c)', '(RequireApproval from="finance" message="needs sign-off")']);
    assert.equal(r.range.start.line, 0, 'a declaration range starts at its first annotation');

    const effects = ['deny', 'deny "no"', 'warn', 'warn "w"', 'allow', 'allow "ok"', 'require approval', 'require approval "m"', 'require approval from team.lead'];
    const got = effects.map((e) => sx((ok(`rule r { ${e} }`)[0] as A.RuleDecl).body[0]));
    assert.deepEqual(got, [
      '(Deny )',
      '(Deny message="no")',
      '(Warn )',
      '(Warn message="w")',
      '(Allow )',
      '(Allow message="ok")',
      '(RequireApproval )',
      '(RequireApproval message="m")',
      '(RequireApproval from=(. team lead))',
    ]);
  });

  it('budgets: every clause and window', () => {
    const [b] = ok(`budget team_daily {
  limit $50 per day
  charge cost.estimate
  by agent.team, session.id
  when action.kind == "model_call"
  unless x
  warn at 80%
  on exceed require approval from "on-call" "over budget"
}`) as [A.BudgetDecl];
    assert.deepEqual(b.items.map(sx), [
      '(Limit amount=$50 per=(Unit unit=day))',
      '(Charge expr=(. cost estimate))',
      '(By keys=[(. agent team) (. session id)])',
      '(When expr=(== (. action kind) "model_call"))',
      '(Unless expr=x)',
      '(WarnAt threshold=80%)',
      '(OnExceed effect=(RequireApproval from="on-call" message="over budget"))',
    ]);
    const windows = ['minute', 'hour', 'day', 'week', 'month', 'request', '15m'];
    const pers = windows.map((w) => ((ok(`budget b { limit 1 per ${w} }`)[0] as A.BudgetDecl).items[0] as A.LimitClause).per);
    assert.deepEqual(
      pers.map((p) => (p?.kind === 'Unit' ? p.unit : p?.kind === 'Duration' ? `${p.ms}ms` : p?.kind)),
      ['minute', 'hour', 'day', 'week', 'month', 'Request', '900000ms'],
    );
    const lifetime = (ok('budget b { limit 10\n charge if a then 5 else 1 }')[0] as A.BudgetDecl).items;
    assert.deepEqual(lifetime.map(sx), ['(Limit amount=10)', '(Charge expr=(if a 5 1))']);
    assert.deepEqual((ok('budget b { on exceed warn "careful" }')[0] as A.BudgetDecl).items.map(sx), ['(OnExceed effect=(Warn message="careful"))']);
  });

  it('tests: given, spent, at, approved, expect, expect warnings', () => {
    const [t] = ok(`test "the team ceiling holds" {
  given base with { cost: { estimate: $2 } }
  spent team_daily = $49
  at "2026-01-05T10:00:00Z"
  approved large_transfer, team_daily
  expect deny by team_daily, other
  expect require_approval
  expect warnings a, b
  expect warnings none
}`) as [A.TestDecl];
    assert.equal(sx(t.name), '"the team ceiling holds"');
    assert.deepEqual(
      t.items.map((i) => (i.kind === 'Expect' ? `Expect ${i.effect?.value} by=${sx(i.by)}` : sx(i))),
      [
        '(Given expr=(with base {cost:{estimate:$2}}))',
        '(Spent budget=team_daily amount=$49)',
        '(At time="2026-01-05T10:00:00Z")',
        '(Approved names=[large_transfer team_daily])',
        'Expect deny by=[team_daily other]',
        'Expect require_approval by=[]',
        '(ExpectWarnings names=[a b] none=false)',
        '(ExpectWarnings none=true)',
      ],
    );
  });

  it('several declarations on one line and declarations without newlines between them', () => {
    assert.deepEqual(ok('let a = 1 let b = 2 rule r { deny } let c = a').map((d) => d.kind), ['LetDecl', 'LetDecl', 'RuleDecl', 'LetDecl']);
  });
});

describe('parser: expressions', () => {
  const cases: [string, string][] = [
    ['a or b and c', '(or a (and b c))'],
    ['a and b or c', '(or (and a b) c)'],
    ['not a and b', '(and (not a) b)'],
    ['not a == b', '(not (== a b))'],
    ['not not a', '(not (not a))'],
    ['a == b with c', '(== a (with b c))'],
    ['a with b ?? c', '(with a (?? b c))'],
    ['a ?? b + c', '(?? a (+ b c))'],
    ['a + b * c', '(+ a (* b c))'],
    ['a - b - c', '(- (- a b) c)'],
    ['a / b % c * d', '(* (% (/ a b) c) d)'],
    ['-a * b', '(* (- a) b)'],
    ['- -a', '(- (- a))'],
    ['-a.b', '(- (. a b))'],
    ['a < b', '(< a b)'],
    ['a <= b', '(<= a b)'],
    ['a > b', '(> a b)'],
    ['a >= b', '(>= a b)'],
    ['a != b', '(!= a b)'],
    ['a in b', '(in a b)'],
    ['a not in b', '(not in a b)'],
    ['not a in b', '(not (in a b))'],
    ['s matches "^x+$"', '(matches s "^x+$")'],
    ['a in b and c not in d', '(and (in a b) (not in c d))'],
    ['(a or b) and c', '(and (paren (or a b)) c)'],
    ['if a then b else c or d', '(if a b (or c d))'],
    ['if a then if b then 1 else 2 else 3', '(if a (if b 1 2) 3)'],
    ['1 + if a then 1 else 2', '(+ 1 (if a 1 2))'],
    ['a.b[0].c(d, e)', '(call (. ([] (. a b) 0) c) d e)'],
    ['f()', '(call f )'],
    ['pii.email(s)', '(call (. pii email) s)'],
    ['xs.any(x => x.a > 1 and x.b)', '(call (. xs any) (=> [x] (and (> (. x a) 1) (. x b))))'],
    ['xs.map((a, b) => a + b)', '(call (. xs map) (=> [a b] (+ a b)))'],
    ['(x) => x', '(=> [x] x)'],
    ['() => 1', '(=> [] 1)'],
    ['[1, 2, 3,]', '(list 1 2 3)'],
    ['[]', '(list )'],
    ['{ a: 1, "b c": 2, }', '{a:1 "b c":2}'],
    ['{}', '{}'],
    ['base with { action: { tool: "db.drop" } }', '(with base {action:{tool:"db.drop"}})'],
    ['(action.args.amount ?? 0) > 1000', '(> (paren (?? (. (. action args) amount) 0)) 1000)'],
    ['true or false or null', '(or (or true false) null)'],
    ['a == b == c', '(== (== a b) c)'],
  ];
  for (const [src, want] of cases) {
    it(`${src}  →  ${want}`, () => assert.equal(sx(expr(src)), want));
  }

  it('binary nodes carry the operator range', () => {
    const e = expr('a  not  in b') as A.BinaryExpr;
    assert.equal(e.op, 'not in');
    assert.deepEqual([e.opRange.start.character, e.opRange.end.character], [11, 18]);
    assert.deepEqual([e.range.start.character, e.range.end.character], [8, 20]);
  });

  it('member and call ranges', () => {
    const e = expr('xs.len()') as A.CallExpr;
    const m = e.callee as A.MemberExpr;
    assert.deepEqual([m.range.start.offset, m.range.end.offset, m.property?.range.start.offset], [8, 14, 11]);
    assert.deepEqual([e.range.start.offset, e.range.end.offset], [8, 16]);
  });
});

describe('parser: literals', () => {
  it('numbers', () => {
    const ns = ['1_000', '0.5', '1e3', '42', '1_000.25'].map((s) => expr(s) as A.NumberLit);
    assert.deepEqual(
      ns.map((n) => [n.value, n.isInt, n.raw]),
      [
        [1000, true, '1_000'],
        [0.5, false, '0.5'],
        [1000, false, '1e3'],
        [42, true, '42'],
        [1000.25, false, '1_000.25'],
      ],
    );
  });

  it('money is exact micro-units', () => {
    const ms = ['$0.50', '$1_000', '$0.000001', '$0.0001', '$12.345678', '$0'].map((s) => (expr(s) as A.MoneyLit).micros);
    assert.deepEqual(ms, [500_000, 1_000_000_000, 1, 100, 12_345_678, 0]);
  });

  it('durations', () => {
    const ds = ['500ms', '30s', '5m', '1h', '1d', '7d', '1.5h'].map((s) => (expr(s) as A.DurationLit).ms);
    assert.deepEqual(ds, [500, 30_000, 300_000, 3_600_000, 86_400_000, 604_800_000, 5_400_000]);
  });

  it('percentages, and `%` as modulo when an operand follows', () => {
    assert.equal((expr('80%') as A.PercentLit).value, 0.8);
    assert.equal((expr('12.5%') as A.PercentLit).value, 0.125);
    assert.equal(sx(expr('a >= 80% and b')), '(and (>= a 80%) b)');
    assert.equal(sx(expr('10%3')), '(% 10 3)');
    assert.equal(sx(expr('10 % n')), '(% 10 n)');
  });

  it('booleans and null', () => {
    assert.deepEqual(['true', 'false', 'null'].map((s) => sx(expr(s))), ['true', 'false', 'null']);
  });

  it('string escapes', () => {
    const s = expr(String.raw`"a\n\t\"q\" \\ \$ \u{1F600} \u00e9 {x}"`) as A.StringLit;
    assert.equal(s.parts.length, 1);
    assert.equal((s.parts[0] as A.StringText).value, 'a\n\t"q" \\ $ \u{1F600} \u00e9 {x}');
    const empty = expr('""') as A.StringLit;
    assert.deepEqual(empty.parts.map((p) => p.kind), ['Text']);
  });

  it('interpolation: parts and exact ranges', () => {
    const src = 'let x = "tool ${action.tool} is blocked"';
    const s = (ok(src)[0] as A.LetDecl).value as A.StringLit;
    assert.deepEqual(s.parts.map((p) => p.kind), ['Text', 'Interpolation', 'Text']);
    const [t1, i, t2] = s.parts as [A.StringText, A.Interpolation, A.StringText];
    assert.equal(t1.value, 'tool ');
    assert.equal(t2.value, ' is blocked');
    assert.equal(src.slice(i.range.start.offset, i.range.end.offset), '${action.tool}');
    const e = i.expr as A.MemberExpr;
    assert.equal(src.slice(e.range.start.offset, e.range.end.offset), 'action.tool');
    assert.equal(src.slice(e.property!.range.start.offset, e.property!.range.end.offset), 'tool');
    assert.equal(s.raw, '"tool ${action.tool} is blocked"');
  });

  it('interpolation with braces and strings inside, and nested interpolation', () => {
    const src = 'let x = "a ${ {k: "}"}.k } b ${ "in ${ n + 1 }" } c"';
    const s = (ok(src)[0] as A.LetDecl).value as A.StringLit;
    assert.equal(sx(s), '"a ${(. {k:\\"}\\"} k)} b ${\\"in ${(+ n 1)}\\"} c"');
    const inner = ((s.parts[3] as A.Interpolation).expr as A.StringLit).parts[1] as A.Interpolation;
    assert.equal(src.slice(inner.expr!.range.start.offset, inner.expr!.range.end.offset), 'n + 1');
  });

  it('interpolation ranges on a later line', () => {
    const src = 'rule r {\n  deny "over ${ limit }!"\n}';
    const d = (ok(src)[0] as A.RuleDecl).body[0] as A.DenyEffect;
    const i = d.message!.parts[1] as A.Interpolation;
    assert.deepEqual([i.expr!.range.start.line, i.expr!.range.start.character, i.expr!.range.end.character], [1, 16, 21]);
  });
});

describe('parser: contextual keywords are names', () => {
  it('as input fields, object keys, members, references and declaration names', () => {
    const ds = ok(`input {
  type: string
  limit: int
  request: { default: bool, per: int }
  in: int
}
let limit = 3
let o = { type: 1, limit: 2, in: 3, "quoted key": 4 }
rule when { when request.default and type == "x" and limit > 3 and action.in deny }
budget test { limit 1 }
let y = test.used >= 80%`);
    const input = ds[0] as A.InputDecl;
    assert.deepEqual(input.fields.map((f) => f.name.text), ['type', 'limit', 'request', 'in']);
    assert.equal(sx(ds[1]), '(LetDecl name=limit value=3)');
    assert.equal(sx((ds[2] as A.LetDecl).value), '{type:1 limit:2 in:3 "quoted key":4}');
    const rule = ds[3] as A.RuleDecl;
    assert.equal(rule.name?.text, 'when');
    assert.equal(sx(rule.body[0]), '(When expr=(and (and (and (. request default) (== type "x")) (> limit 3)) (. action in)))');
    assert.equal((ds[4] as A.BudgetDecl).name?.text, 'test');
    assert.equal(sx((ds[5] as A.LetDecl).value), '(>= (. test used) 80%)');
  });

  // regression: `x.type`, `x.rule`, `by x.on }` … were "expected a field or method name after `.`"
  // whenever the word was a declaration/clause keyword followed by the end of input, `}` or a string
  it('every keyword, reserved or contextual, may follow `.` and be an object key or a field name', () => {
    const words = [...RESERVED_WORDS, ...CONTEXTUAL_KEYWORDS];
    const forms: ((w: string) => string)[] = [
      (w) => `let d = x.${w}`,
      (w) => `let d = x.${w} == 1`,
      (w) => `let d = x.${w}(1).${w}[0]`,
      (w) => `let d = x.${w}\nrule r { when d deny "m" }`,
      (w) => `let d = x\n  .${w}\n  .y`,
      (w) => `rule r {\n  when x.${w}\n  deny "m"\n}`,
      (w) => `rule r { when x.${w} deny "m" }`,
      (w) => `rule r { when x.${w} require approval from x.${w} "m" }`,
      (w) => `budget b {\n  limit 3\n  charge x.${w}\n  by x.${w}\n}`,
      (w) => `budget b { limit 3 charge x.${w} by x.${w} }`,
      (w) => `test "t" {\n  given x.${w}\n  expect allow\n}`,
      (w) => `test "t" { given x with { ${w}: x.${w} } expect allow }`,
      (w) => `let d = { ${w}: 1, "${w}": 2 }`,
      (w) => `let d = {\n  a: 1,\n  ${w}: { ${w}: 1 },\n}`,
      (w) => `input {\n  ${w}: int\n  ${w}2?: { ${w}: string }\n}`,
      (w) => `input { ${w}: int, b: { ${w}?: int } }`,
      (w) => `type T = {\n  ${w}: int\n  b?: { ${w}: int }\n}`,
    ];
    const failures: string[] = [];
    for (const form of forms) {
      for (const w of words) {
        const src = form(w);
        const r = parse(src);
        if (r.diagnostics.length > 0) failures.push(`${JSON.stringify(src)}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      }
    }
    // contextual keywords are plain names in expressions and parameters, also at the end of input
    const nameForms: ((w: string) => string)[] = [
      (w) => `let d = ${w}`,
      (w) => `let d = 1 + ${w}`,
      (w) => `def f(${w}: int) = ${w}`,
      (w) => `let d = [${w}, ${w}]\nlet e = 1`,
      (w) => `let d = xs.any(${w} => ${w})`,
    ];
    for (const form of nameForms) {
      for (const w of CONTEXTUAL_KEYWORDS) {
        const src = form(w);
        const r = parse(src);
        if (r.diagnostics.length > 0) failures.push(`${JSON.stringify(src)}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      }
    }
    assert.deepEqual(failures, []);
    // and the word really is the member name, not the start of the next item
    assert.equal(sx(expr('x.type')), '(. x type)');
    assert.equal(sx(expr('x.rule.test')), '(. (. x rule) test)');
    const [b] = ok('budget b { limit 3 charge 1 by x.on }') as [A.BudgetDecl];
    assert.equal(sx(b.items[2]), "(By keys=[(. x on)])");
  });

  it('a clause keyword on the line after a dangling `.` still starts the next clause', () => {
    const r = parse('rule r {\n  when action.\n  deny "m"\n}');
    assert.deepEqual(diags(r), ['REIN101 1:13-1:14 expected a field or method name after `.`']);
    assert.deepEqual((r.ast.decls[0] as A.RuleDecl).body.map(sx), ['(When expr=(. action _))', '(Deny message="m")']);
  });

  // regression (review h12r2 T2): a line starting `type in …`, `rule and …` (input fields named by a
  // declaration keyword, then an operator word) was cut off as a new declaration `type in = …`
  it('a declaration keyword first on a line and followed by an operator word is an operand', () => {
    const declKeywords = ['policy', 'input', 'type', 'let', 'def', 'extern', 'rule', 'budget', 'test', 'data'];
    // every reserved word that can follow an operand
    const ops: ((k: string) => string)[] = [
      (k) => `${k} in xs`,
      (k) => `${k} not in xs`,
      (k) => `${k} and b`,
      (k) => `${k} or b`,
      (k) => `${k} matches "^a"`,
      (k) => `${k} with { a: 1 }`,
    ];
    // where a formatter or an author breaks a line before an operand
    const places: ((e: string) => string)[] = [
      (e) => `let d = [\n  ${e},\n  ${e}\n]`,
      (e) => `let d = f(\n  ${e},\n  ${e}\n)`,
      (e) => `let d =\n  ${e}`,
      (e) => `let d = a and\n  ${e}`,
      (e) => `rule r {\n  when [\n    ${e}\n  ].any(x => x)\n  deny "m"\n}`,
      (e) => `rule r {\n  when c or\n    ${e}\n  deny "m"\n}`,
      (e) => `budget b {\n  limit 3\n  when [\n    ${e}\n  ].any(x => x)\n}`,
      (e) => `test "t" {\n  given [\n    ${e}\n  ]\n  expect allow\n}`,
    ];
    const failures: string[] = [];
    let cases = 0;
    for (const k of declKeywords) {
      for (const op of ops) {
        for (const place of places) {
          const e = op(k);
          // the same program on one line is the reference: same tree, no diagnostics
          const src = `${place(e)}\nlet after = 1`;
          const flat = `${place(e).replace(/\n\s*/g, ' ')}\nlet after = 1`;
          cases++;
          const r = parse(src);
          const ref = parse(flat);
          if (r.diagnostics.length > 0) failures.push(`${JSON.stringify(src)}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
          else if (ref.diagnostics.length > 0) failures.push(`(reference) ${JSON.stringify(flat)}: ${ref.diagnostics.map((d) => d.message).join('; ')}`);
          else if (sx(r.ast.decls) !== sx(ref.ast.decls)) failures.push(`${JSON.stringify(src)}: ${sx(r.ast.decls)} != ${sx(ref.ast.decls)}`);
        }
      }
      // `then` and `else` first after the keyword: `if\n  rule then …`, `if c then\n  rule else …`
      for (const src of [`let d = if\n  ${k} then 1 else 2`, `let d = if c then\n  ${k} else 2`]) {
        cases++;
        const r = parse(src);
        if (r.diagnostics.length > 0) failures.push(`${JSON.stringify(src)}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      }
    }
    assert.equal(cases, 10 * 6 * 8 + 10 * 2);
    assert.deepEqual(failures, []);
    // the reviewer's policy, as `rein fmt` lays it out
    const [, rule] = ok(`input { type: string, rule: string }
rule r1 {
  when [
    type in ["aaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbb"],
    rule in ["ccccccccccccccccccccccccccccccccc"],
  ].any(x => x)
  deny "blocked"
}`) as [A.InputDecl, A.RuleDecl];
    assert.equal(rule.name?.text, 'r1');
    assert.equal(
      sx(rule.body[0]),
      '(When expr=(call (. (list (in type (list "aaaaaaaaaaaaaaaaaaaaaaa" "bbbbbbbbbbbbbbbbbbbbbbbbbbb")) (in rule (list "ccccccccccccccccccccccccccccccccc"))) any) (=> [x] x)))',
    );
  });

  it('a declaration keyword that ends an operand at the end of a line, before the next clause, is an operand', () => {
    const declKeywords = ['policy', 'input', 'type', 'let', 'def', 'extern', 'rule', 'budget', 'test', 'data'];
    const places: ((k: string) => string)[] = [
      (k) => `rule r {\n  when a and\n    ${k}\n  deny "m"\n}`,
      (k) => `rule r {\n  when a ==\n    ${k}\n  require approval\n}`,
      (k) => `rule r {\n  when a\n  unless b or\n    ${k}\n  warn "w"\n}`,
      (k) => `budget b {\n  limit 3\n  by\n    ${k}\n  when x\n}`,
      (k) => `budget b {\n  limit 3\n  charge\n    ${k}\n  by x\n}`,
      (k) => `test "t" {\n  given\n    ${k}\n  expect allow\n}`,
    ];
    const failures: string[] = [];
    for (const k of declKeywords) {
      for (const place of places) {
        // in a test, `extern …` and `data …` on their own line are steps
        if ((k === 'extern' || k === 'data') && place(k).startsWith('test')) continue;
        const src = `${place(k)}\nlet after = 1`;
        const flat = `${place(k).replace(/\n\s*/g, ' ')}\nlet after = 1`;
        const r = parse(src);
        if (r.diagnostics.length > 0) failures.push(`${JSON.stringify(src)}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
        else if (sx(r.ast.decls) !== sx(parse(flat).ast.decls)) failures.push(`${JSON.stringify(src)}: a different tree than on one line`);
      }
    }
    assert.deepEqual(failures, []);
    // a declaration keyword typed on its own line before the next declaration is still cut off
    const typing = parse('let a = 1\nrule\nrule b { deny "m" }');
    assert.deepEqual(typing.diagnostics.map((d) => d.message), ['expected a name after `rule`']);
    assert.deepEqual(typing.ast.decls.map((d) => (d as A.RuleDecl).name?.text), ['a', 'b']);
  });

  it('a declaration keyword followed by a reserved word on a new line is still a declaration: REIN104 and the declarations after it are kept', () => {
    // a reserved word that cannot continue an operand still starts a declaration at the start of a line,
    // also after a declaration left open
    const r = parse('rule a {\n  when x\n  deny "m"\nrule if { deny "n" }\nlet true = 1\nlet z = 2');
    assert.deepEqual(
      r.diagnostics.map((d) => `${d.code} ${d.message}`),
      [
        'REIN101 expected `}` to close rule `a`',
        'REIN104 `if` is a reserved word and cannot be used as a name',
        'REIN104 `true` is a reserved word and cannot be used as a name',
      ],
    );
    assert.deepEqual(r.ast.decls.map((d) => (d as A.LetDecl).name?.text), ['a', 'if', 'true', 'z']);
  });

  it('a contextual keyword on the line after a clause keyword starts the next clause', () => {
    const [r] = parse('rule r {\n  when\n  deny "m"\n}').ast.decls as [A.RuleDecl];
    assert.deepEqual(r.body.map(sx), ['(When )', '(Deny message="m")']);
  });
});

describe('parser: comments and docs', () => {
  it('collects every comment in order with its kind', () => {
    const src = '// line\n/* block\n */ let a = 1 /// trailing doc-looking\n//// four slashes\n/// doc\nlet b = 2';
    const r = parse(src);
    assert.deepEqual(diags(r), []);
    assert.deepEqual(
      r.ast.comments.map((c) => `${c.kind}:${c.text}`),
      ['line:// line', 'block:/* block\n */', 'doc:/// trailing doc-looking', 'line://// four slashes', 'doc:/// doc'],
    );
    const [a, b] = r.ast.decls;
    assert.equal(a.doc, undefined);
    assert.equal(b.doc, 'doc');
  });

  // regression (review h12r2 T3): comments inside `${…}` were lexed and dropped
  it('collects comments inside interpolations, nested ones too, in text order', () => {
    const src = '// a\nlet s = "x${1 /* b */ + "${2 /* c */}"} ${3 // d}" /* e */';
    const r = parse(src);
    assert.deepEqual(diags(r), []);
    const texts = r.ast.comments.map((c) => `${c.kind}:${c.text}@${c.range.start.offset}`);
    assert.deepEqual(texts, [
      `line:// a@0`,
      `block:/* b */@${src.indexOf('/* b')}`,
      `block:/* c */@${src.indexOf('/* c')}`,
      `line:// d@${src.indexOf('// d')}`,
      `block:/* e */@${src.indexOf('/* e')}`,
    ]);
    // and the editor's lexical layer (semantic tokens) sees the same comments
    assert.deepEqual(tokenize(src).comments.map((c) => c.text), ['// a', '/* b */', '/* c */', '// d', '/* e */']);
  });

  it('attaches `///` directly above a declaration, annotations in between, markers stripped', () => {
    const src = `/// First line.
///   indented
///
/// Last.
@severity("high")
rule r { deny }

/// detached by a blank line

let x = 1
/// on let
let y = 2
input {
  /// the action
  action: string
  plain: int
}
/// The step.
type Step = {
  /// tool name
  tool: string
}`;
    const ds = ok(src);
    assert.equal(ds[0].doc, 'First line.\n  indented\n\nLast.');
    assert.equal(ds[1].doc, undefined);
    assert.equal(ds[2].doc, 'on let');
    const input = ds[3] as A.InputDecl;
    assert.deepEqual(input.fields.map((f) => f.doc), ['the action', undefined]);
    assert.equal(ds[4].doc, 'The step.');
    assert.equal(((ds[4] as A.TypeDecl).type as A.ObjectTypeExpr).fields[0].doc, 'tool name');
  });
});

describe('parser: annotations after code on the same line', () => {
  // regression: `let a = 1 @monitor⏎rule r …` cut the chunk before `rule`, stranding `@monitor`
  it('belong to the next declaration, also when it starts on the next line', () => {
    for (const src of [
      'let a = 1 @monitor rule r { deny "m" }',
      'let a = 1 @monitor\nrule r { deny "m" }',
      'let a = 1 @monitor @owner("x")\nrule r { deny "m" }',
      'let a = 1 /* c */ @monitor // d\n@owner("x")\nrule r { deny "m" }',
      'rule q { deny "x" } @monitor\n\nrule r { deny "m" }',
    ]) {
      const ds = ok(src);
      assert.deepEqual(ds.map((d) => d.kind), [ds[0].kind, 'RuleDecl'], src);
      const r = ds[1] as A.RuleDecl;
      assert.equal(r.annotations[0].name.text, 'monitor', src);
      assert.equal(src.slice(r.range.start.offset, r.range.start.offset + 8), '@monitor', 'the rule range starts at its first annotation');
    }
  });

  it('an annotation with nothing after it is still an error, and the declaration before it is kept', () => {
    const r = parse('let a = 1 @monitor');
    assert.deepEqual(diags(r), ['REIN101 0:10-0:18 expected a declaration (`rule`, `budget`, `let`, `def`, `type`, `input`, `policy` or `test`) after `@monitor`']);
    assert.equal(sx(r.ast.decls[0]), '(LetDecl name=a value=1)');
  });
});

describe('parser: docs go only to the node that starts the line below them', () => {
  // regression: `/// d` above `input { a: int }` gave field `a` the doc `d`
  it('a field on the declaration line does not take the declaration doc', () => {
    const ds = ok('/// d\ninput { a: int, b: { c: int } }\n/// t\ntype T = { x: int }\n/// o\ntype O = {\n  /// y doc\n  y: { z: int }\n}');
    const input = ds[0] as A.InputDecl;
    assert.equal(input.doc, 'd');
    assert.deepEqual(input.fields.map((f) => f.doc), [undefined, undefined]);
    assert.equal(((input.fields[1].type as A.ObjectTypeExpr).fields[0]).doc, undefined);
    assert.equal(ds[1].doc, 't');
    assert.equal(((ds[1] as A.TypeDecl).type as A.ObjectTypeExpr).fields[0].doc, undefined);
    const y = ((ds[2] as A.TypeDecl).type as A.ObjectTypeExpr).fields[0];
    assert.equal(ds[2].doc, 'o');
    assert.equal(y.doc, 'y doc');
    assert.equal((y.type as A.ObjectTypeExpr).fields[0].doc, undefined);
  });

  it('a second declaration on the same line does not take the first one\'s doc', () => {
    const ds = ok('/// a doc\nlet a = 1 let b = 2\n  /// c doc\n  let c = 3');
    assert.deepEqual(ds.map((d) => d.doc), ['a doc', undefined, 'c doc']);
  });

  it('a field first on its line after another field keeps its own doc', () => {
    const [i] = ok('input { a: int,\n  /// b doc\n  b: int }') as [A.InputDecl];
    assert.deepEqual(i.fields.map((f) => f.doc), [undefined, 'b doc']);
  });
});

describe('parser: positions', () => {
  it('uses 0-based lines and characters with exclusive ends, also after CRLF', () => {
    const src = 'let a = 1\r\nrule  rr {\r\n  deny\r\n}';
    const r = parse(src);
    assert.deepEqual(diags(r), []);
    const rule = r.ast.decls[1] as A.RuleDecl;
    assert.deepEqual(rule.name!.range, {
      start: { line: 1, character: 6, offset: 17 },
      end: { line: 1, character: 8, offset: 19 },
    });
    assert.deepEqual([rule.range.start.offset, rule.range.end.offset], [11, src.length]);
    assert.deepEqual([r.ast.range.start.offset, r.ast.range.end.offset], [0, src.length]);
  });
});
