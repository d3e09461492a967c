import assert from 'node:assert/strict';
import { parse } from '../../language/syntax/parser.js';
import type * as A from '../../language/syntax/ast.js';
import { sx, diags, covered } from './sx.js';

/** `CODE "covered text" message` for each diagnostic: exact ranges stated as the text they cover. */
function errs(src: string): string[] {
  return parse(src).diagnostics.map((d) => `${d.code} ${JSON.stringify(covered(src, d))} ${d.message}`);
}

describe('syntax errors: codes, ranges, wording', () => {
  it('REIN100 unexpected character (a run of them is one error)', () => {
    assert.deepEqual(errs('let x = 1 #'), ['REIN100 "#" unexpected character `#`']);
    assert.deepEqual(errs('let x = 1 ~^'), ['REIN100 "~^" unexpected characters `~^`']);
    const r = parse('let a = 1\nlet b = ¤2');
    assert.deepEqual(diags(r), ['REIN100 1:8-1:9 unexpected character `¤`']);
    assert.equal(sx(r.ast.decls[1]), '(LetDecl name=b value=2)');
  });

  it('habits from other languages get a help that says what to write instead', () => {
    const helps = (src: string) => parse(src).diagnostics.map((d) => `${d.code} ${JSON.stringify(covered(src, d))} ${d.help ?? '-'}`);
    assert.deepEqual(helps('rule r { when a == 1 && b deny "x" }')[0], 'REIN100 "&&" write `and`');
    assert.deepEqual(helps('rule r { when !a deny "x" }'), ['REIN100 "!" write `not` (and `!=` for "not equal")']);
    assert.deepEqual(helps("rule r { deny 'x' }")[0], 'REIN100 "\'" strings use double quotes: `"…"`');
    assert.deepEqual(helps('let a = 1;'), ['REIN100 ";" Rein needs no `;`: remove it']);
    assert.deepEqual(helps('let a = 1 # c')[0], 'REIN100 "#" comments start with `//`');
    assert.deepEqual(helps('rule r { when a = 1 deny "x" }'), ['REIN101 "= 1" to compare, write `==`']);
    assert.deepEqual(helps('rule r { when a || b deny "x" }'), ['REIN101 "|| b" write `or`']);
    assert.deepEqual(errs('let a = `x`')[0], 'REIN100 "`" unexpected character `` ` ``');
    // `|` in a type union is not an `or`
    assert.deepEqual(helps('input { k: "a" | }'), ['REIN101 "}" -']);
  });

  // regression (found by the check() fuzz): recovery inserted the missing `in` without a position
  // and the `not in` node's range ended at NaN
  it('`a not b` (missing `in`) gives a node with a real range', () => {
    const src = 'let a = f(s not s.ok)';
    const r = parse(src);
    assert.deepEqual(errs(src), ['REIN101 "s" expected `in` after `not`']);
    const call = (r.ast.decls[0] as A.LetDecl).value as A.CallExpr;
    assert.equal(sx(call.args[0]), '(not in s (. s ok))');
    assert.equal(covered(src, { range: call.args[0].range } as never), 's not s.ok');
  });

  it('REIN102 unterminated string and block comment', () => {
    assert.deepEqual(errs('let x = "abc\nlet y = 1'), ['REIN102 "\\"abc" unterminated string']);
    const r = parse('let x = "abc\nlet y = 1');
    assert.deepEqual(r.ast.decls.map(sx), ['(LetDecl name=x value="abc")', '(LetDecl name=y value=1)']);
    assert.deepEqual(errs('let x = "a ${ b\nlet y = 1'), ['REIN102 "\\"a ${ b" unterminated string']);
    assert.deepEqual(errs('let x = 1 /* never closed\nlet y = 2'), ['REIN102 "/*" unterminated block comment']);
    assert.equal(parse('let x = 1 /* x').diagnostics[0].help, 'close it with `*/`');
  });

  it('REIN103 bad literals', () => {
    assert.deepEqual(errs('let m = $0.1234567'), ['REIN103 "$0.1234567" invalid money literal `$0.1234567`: at most 6 decimal places (micro-units)']);
    assert.deepEqual(errs('let n = 1__0'), ['REIN103 "1__0" invalid number `1__0`: `_` may only separate digits']);
    assert.deepEqual(errs('let n = 10_'), ['REIN103 "10_" invalid number `10_`: `_` may only separate digits']);
    assert.deepEqual(errs('let d = 3w'), ['REIN103 "3w" invalid duration `3w`: units are `ms`, `s`, `m`, `h` and `d`']);
    assert.deepEqual(errs('let d = 1.5ms'), ['REIN103 "1.5ms" invalid duration `1.5ms`: must be a whole number of milliseconds']);
    // too large is out of range, not "not whole" (review h11r R6)
    assert.deepEqual(errs('let d = 100000000000000000d'), ['REIN103 "100000000000000000d" invalid duration `100000000000000000d`: out of range (at most 9007199254740991 ms, about 285,616 years)']);
    assert.deepEqual(errs('let s = "a\\qb"'), ['REIN103 "\\\\q" unknown escape `\\q`']);
    assert.deepEqual(errs('let n = 99999999999999999999'), ['REIN103 "99999999999999999999" integer `99999999999999999999` is too large (at most 2^53 - 1)']);
    assert.deepEqual(errs('let m = $1.'), ['REIN103 "$1." invalid money literal `$1.`: expected digits after `.`']);
  });

  it('REIN104 reserved word used as a name, but the declaration is kept', () => {
    const r = parse('let in = 3\nrule and { deny }\ndef f(not: int) = 1\ntest "t" { approved with\n spent if = $1 }');
    assert.deepEqual(
      r.diagnostics.map((d) => `${d.code} ${d.message}`),
      [
        'REIN104 `in` is a reserved word and cannot be used as a name',
        'REIN104 `and` is a reserved word and cannot be used as a name',
        'REIN104 `not` is a reserved word and cannot be used as a name',
        'REIN104 `with` is a reserved word and cannot be used as a name',
        'REIN104 `if` is a reserved word and cannot be used as a name',
      ],
    );
    assert.deepEqual(r.ast.decls.map((d) => (d as { name?: A.Name | A.StringLit }).name && sx((d as { name?: A.Name }).name)), ['in', 'and', 'f', '"t"']);
    assert.deepEqual(errs('let x = a.in + { with: 1 }.with'), [], 'reserved words are fine after `.` and as object keys');
  });

  it('REIN105 phase-2 constructs are parsed into the AST and reported (`redact` and `extern def` are supported: no REIN105)', () => {
    const r = parse('rule r {\n  set action.args.to = "x" "rewritten"\n}\nrule q { redact action.text using pii.email "masked" }\nextern def risk(a: Action): number');
    assert.deepEqual(diags(r), [
      'REIN105 1:2-1:5 `set` is not supported yet',
    ]);
    assert.equal(sx((r.ast.decls[0] as A.RuleDecl).body[0]), '(Set path=(. (. action args) to) value="x" message="rewritten")');
    assert.equal(sx((r.ast.decls[1] as A.RuleDecl).body[0]), '(Redact path=(. action text) using=(. pii email) message="masked")');
    assert.equal(sx(r.ast.decls[2]), '(ExternDecl name=risk params=[(Param name=a type=(TypeName name=Action))] returnType=(TypeName name=number))');
  });

  it('REIN106 a rule needs exactly one effect clause', () => {
    assert.deepEqual(errs('rule r { when a }'), ['REIN106 "r" rule `r` has no effect clause']);
    assert.deepEqual(errs('rule r { deny "a"\n warn "b"\n allow }'), ['REIN106 "warn \\"b\\"" rule `r` has more than one effect clause', 'REIN106 "allow" rule `r` has more than one effect clause']);
    const [rule] = parse('rule r { when a }').ast.decls as [A.RuleDecl];
    assert.equal(rule.name?.text, 'r', 'a rule missing its effect still yields a RuleDecl with its name');
  });

  it('REIN101 messages name what is missing and where', () => {
    assert.deepEqual(errs('rule no_tools when a deny "m" }'), ['REIN101 "when" expected `{` after the rule name']);
    assert.deepEqual(errs('rule r { when a and }'), ['REIN106 "r" rule `r` has no effect clause', 'REIN101 "}" expected an expression after `and`']);
    assert.deepEqual(errs('budget b { limit $1 per fortnight }'), ['REIN101 "fortnight" expected `minute`, `hour`, `day`, `week`, `month`, `request`, `rolling` or a duration after `per`']);
    assert.deepEqual(errs('budget b { on foo deny }'), ['REIN101 "foo" expected `exceed` after `on`']);
    assert.deepEqual(errs('policy p { default maybe }'), ['REIN101 "maybe" expected `allow` or `deny` after `default`']);
    assert.deepEqual(errs('test "t" { spent b $5 }'), ['REIN101 "$5" expected `=` after `b`']);
    assert.deepEqual(errs('rule r { deny msg }'), ['REIN101 "msg" an effect message must be a string literal, found `msg`']);
    assert.deepEqual(errs('rule { deny }'), ['REIN101 "{" expected a name after `rule`']);
    assert.deepEqual(errs('let x = (1 + 2'), ['REIN101 "2" expected `)` after `2`']);
    assert.deepEqual(errs('let x = [1, 2'), ['REIN101 "2" expected `,` or `]` after `2`']);
    assert.deepEqual(errs('let x = f(1, '), ['REIN101 "," expected an argument after `,`']);
    assert.deepEqual(errs('let x = { a: 1 b: 2 }'), ['REIN101 "b" expected `,` after `1`']);
    assert.deepEqual(errs('let x = if a then b'), ['REIN101 "b" expected `else` after `b`']);
    assert.deepEqual(errs('let x = "${}"'), ['REIN101 "${}" expected an expression inside `${…}`']);
    assert.deepEqual(errs('let x = "v ${1 +}"'), ['REIN101 "+" expected an expression after `+`']);
    assert.deepEqual(errs('let x = "v ${a b}"'), ['REIN101 "b" unexpected `b` in the interpolation']);
    assert.deepEqual(errs('input { a: , b: int }'), ['REIN101 "," expected a type after `:`']);
    assert.deepEqual(errs('let x = (1, 2)'), ['REIN101 ", " unexpected `,`: parentheses hold one expression (or write a lambda `(a, b) => …`)']);
    assert.deepEqual(errs('rule r { frobnicate 3\n deny }'), ['REIN101 "frobnicate 3" unexpected `frobnicate`: expected `when`, `unless`, `deny`, `require approval`, `warn`, `allow` or `}` in a rule']);
    assert.deepEqual(errs('}\nlet a = 1'), ['REIN101 "}" unexpected `}`: no block is open here']);
    assert.deepEqual(errs('type T = int | string'), ['REIN101 "| string" a union type lists string literals only (`"a" | "b"`)']);
    assert.deepEqual(errs('test "t" { expect require approval }'), ['REIN101 "require approval" write `require_approval` (the decision effect) after `expect`']);
    assert.deepEqual(errs('let x = {a: 1, : 2}'), ['REIN101 ":" expected a key or `}` after `,`']);
    assert.deepEqual(errs('@\nrule r { deny }'), ['REIN101 "@" expected an annotation name after `@`']);
    assert.deepEqual(errs('let x = xs.filter(x =>)'), ['REIN101 ")" expected the lambda body after `=>`']);
    assert.deepEqual(errs('hello world\nlet a = 1'), ['REIN101 "hello world" unexpected `hello`: expected a declaration (`rule`, `budget`, `let`, `def`, `type`, `input`, `policy` or `test`)']);
  });

  it('a missing `}` is reported at the unclosed `{`, the declaration is kept', () => {
    const src = 'rule r {\n  when a\n  deny\n\nlet b = 1';
    const r = parse(src);
    assert.deepEqual(diags(r), ['REIN101 0:7-0:8 expected `}` to close rule `r`']);
    assert.equal(r.diagnostics[0].help, 'the `{` here is never closed');
    assert.deepEqual(r.ast.decls.map(sx), ['(RuleDecl name=r body=[(When expr=a) (Deny )])', '(LetDecl name=b value=1)']);
  });

  it('when the missing piece is at the end of a line, the range is the token before it', () => {
    const r = parse('let x = a +\nlet y = 2');
    assert.deepEqual(diags(r), ['REIN101 0:10-0:11 expected an expression after `+`']);
  });

  it('reports every error in a file, each declaration kept', () => {
    const src = [
      'let a = 1 +',
      'rule r1 { when x and deny "m" }',
      'rule r2 {',
      '  when action.',
      '}',
      'budget b { limit $5 per eon charge 1 }',
      'test "t" { expect maybe }',
      'let ok = 2',
    ].join('\n');
    const r = parse(src);
    assert.deepEqual(diags(r), [
      'REIN101 0:10-0:11 expected an expression after `+`',
      'REIN101 1:21-1:25 expected an expression after `and`',
      'REIN106 2:5-2:7 rule `r2` has no effect clause',
      'REIN101 3:13-3:14 expected a field or method name after `.`',
      'REIN101 5:24-5:27 expected `minute`, `hour`, `day`, `week`, `month`, `request`, `rolling` or a duration after `per`',
      'REIN101 6:18-6:23 expected `warnings` or an effect (`allow`, `deny`, `require_approval`) after `expect`',
    ]);
    assert.deepEqual(
      r.ast.decls.map((d) => `${d.kind}:${sx((d as { name?: unknown }).name)}`),
      ['LetDecl:a', 'RuleDecl:r1', 'RuleDecl:r2', 'BudgetDecl:b', 'TestDecl:"t"', 'LetDecl:ok'],
    );
    // `when x and deny "m"`: `deny` followed by a string is the effect, not the missing operand
    assert.deepEqual((r.ast.decls[1] as A.RuleDecl).body.map(sx), ['(When expr=(and x _))', '(Deny message="m")']);
  });
});

describe('syntax errors: partial ASTs for the editor', () => {
  it('`action.` at the end of the input is a MemberExpr without property', () => {
    const src = 'rule r {\n  when action.';
    const r = parse(src);
    const rule = r.ast.decls[0] as A.RuleDecl;
    const when = rule.body[0] as A.Condition;
    const m = when.expr as A.MemberExpr;
    assert.equal(m.kind, 'Member');
    assert.equal(m.property, undefined);
    assert.equal(sx(m.object), 'action');
    assert.equal(m.range.end.offset, src.length);
  });

  it('`action.` followed by the next clause on a new line still has no property', () => {
    const src = 'rule r {\n  when action.\n  deny "m"\n}';
    const rule = parse(src).ast.decls[0] as A.RuleDecl;
    assert.deepEqual(rule.body.map(sx), ['(When expr=(. action _))', '(Deny message="m")']);
  });

  it('a binary operator without its right operand keeps the left one', () => {
    const e = (parse('let x = a.b ==').ast.decls[0] as A.LetDecl).value as A.BinaryExpr;
    assert.equal(sx(e), '(== (. a b) _)');
  });

  it('no message is a token dump', () => {
    const srcs = ['rule', 'rule r', 'rule r {', 'budget', 'budget b { on', 'test', 'test "t" { expect', 'policy p { on', 'input {', 'let', 'def f(', 'extern', 'extern def', '@', '@a(', '@a(1)', 'type T = ', 'type T = list<'];
    for (const s of srcs) {
      for (const d of parse(s).diagnostics) {
        assert.doesNotMatch(d.message, /Expecting|token of type|but found|-->|<\w+>|Kw_|Reserved_|LCurly|RCurly|Identifier/, `${s}: ${d.message}`);
        assert.match(d.message, /^[a-z`]/, `${s}: ${d.message}`);
        assert.doesNotMatch(d.message, /\.$/, `${s}: ${d.message}`);
      }
    }
  });
});
