import assert from 'node:assert/strict';
import { check } from '../../language/check.js';
import { createLintRegistry, LintRegistry, LINT_RULES } from '../../language/lint/index.js';
import { fold } from '../../language/lint/const-fold.js';

const HEAD = 'policy p { default deny }\ninput { action: { kind: string, tool?: string }, n: int }\n';

function lint(body: string, config?: unknown): { code: string; line: number; severity: string; message: string }[] {
  const r = check({ 'l.rein': HEAD + body }, config === undefined ? {} : { config });
  return r.diagnostics
    .filter((d) => d.code.startsWith('REIN3'))
    .map((d) => ({ code: d.code, line: d.range.start.line + 1, severity: d.severity, message: d.message }));
}
const codes = (body: string, config?: unknown) => lint(body, config).map((d) => d.code);

describe('lint: REIN300 unused let/def', () => {
  it('reports an unused let and def, not used ones', () => {
    const r = lint('let a = 1\nlet b = 2\ndef f(x: int) = x + b\nrule r {\n  when n > a\n  deny "m"\n}\n');
    assert.deepEqual(r.map((d) => [d.code, d.line]), [['REIN300', 5]]);
    assert.match(r[0].message, /`def` `f` is never used/);
  });

  it('counts uses in tests and across files', () => {
    const r = check({
      'a.rein': HEAD + 'let req = { action: { kind: "x" }, n: 1 }\n',
      'b.rein': 'test "t" {\n  given req\n  expect allow\n}\n',
    });
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'REIN300'), []);
  });
});

describe('lint: REIN301 deny without a message', () => {
  it('reports only message-less denies', () => {
    assert.deepEqual(codes('rule r {\n  when n > 1\n  deny\n}\nrule s {\n  when n > 2\n  deny "m"\n}\nrule t {\n  when n > 3\n  warn\n}\n'), ['REIN301']);
  });
});

describe('lint: REIN302 never matches', () => {
  it('folds constants and lets', () => {
    const body = 'let off = false\nlet lim = 10\n' +
      'rule a {\n  when false\n  deny "m"\n}\n' +
      'rule b {\n  when 1 > 2\n  deny "m"\n}\n' +
      'rule c {\n  when n > 1\n  unless true\n  deny "m"\n}\n' +
      'rule d {\n  when off and n > 1\n  deny "m"\n}\n' +
      'rule e {\n  when lim * 2 < 5\n  deny "m"\n}\n' +
      'rule f {\n  when n > lim\n  deny "m"\n}\n' +
      'rule g {\n  when off or n > 2\n  deny "m"\n}\n';
    assert.deepEqual(lint(body).map((d) => [d.code, d.line]), [
      ['REIN302', 6],
      ['REIN302', 10],
      ['REIN302', 15],
      ['REIN302', 19],
      ['REIN302', 23],
    ]);
  });
});

describe('lint: REIN303 duplicate conditions', () => {
  it('compares normalised condition sets', () => {
    const body = 'rule a {\n  when n > 1\n  when action.kind == "x"\n  deny "m"\n}\n' +
      'rule b {\n  when action.kind   ==  "x"\n  when (n > 1)\n  warn "w"\n}\n' +
      'rule c {\n  when n > 1\n  deny "m"\n}\n' +
      'rule d {\n  when n > 1\n  unless action.kind == "x"\n  deny "m"\n}\n';
    const r = check({ 'l.rein': HEAD + body }).diagnostics.filter((d) => d.code === 'REIN303');
    assert.equal(r.length, 1);
    assert.match(r[0].message, /rule `b` has the same conditions as rule `a`/);
    assert.equal(r[0].related?.[0].range.start.line, 2);
  });
  it('leaves redact rules out: each masks one path with one detector, so they cannot be merged', () => {
    const head = 'policy p { default allow }\ninput { action: { kind: string, text: string } }\n';
    const body = 'rule a { when action.kind == "x" redact action.text using pii.email }\n' +
      'rule b { when action.kind == "x" redact action.text using secrets.any }\n' +
      'rule c { when action.kind == "x" warn "w" }\n';
    assert.deepEqual(check({ 'l.rein': head + body }).diagnostics.filter((d) => d.code === 'REIN303'), []);
  });
});

describe('lint: REIN304 missing default', () => {
  it('hints on a header without default and on a set without a header', () => {
    const a = check({ 'a.rein': 'policy p { version "1" }\ninput { x: int }' }).diagnostics.filter((d) => d.code === 'REIN304');
    assert.equal(a.length, 1);
    assert.equal(a[0].severity, 'hint');
    assert.equal(a[0].range.start.line, 0);
    assert.equal(a[0].range.start.character, 7);
    const b = check({ 'b.rein': 'input { x: int }', 'a.rein': 'let y = 1' }).diagnostics.filter((d) => d.code === 'REIN304');
    assert.equal(b.length, 1);
    assert.equal(b[0].file, 'a.rein');
    assert.equal(check({ 'a.rein': 'policy p { default allow }\ninput { x: int }' }).diagnostics.filter((d) => d.code === 'REIN304').length, 0);
  });
});

describe('lint: suppression comments', () => {
  const rule = (deny: string) => `rule r {\n  when n > 1\n${deny}\n}\n`;
  it('suppresses on the next line when alone, on the same line when trailing', () => {
    assert.deepEqual(codes(rule('  // rein-ignore REIN301\n  deny')), []);
    assert.deepEqual(codes(rule('  deny // rein-ignore REIN301')), []);
    assert.deepEqual(codes(rule('  deny // rein-ignore deny-without-message')), []);
    assert.deepEqual(codes(rule('  deny // rein-ignore REIN300, REIN301')), []);
  });

  it('only suppresses the named codes on that line', () => {
    assert.deepEqual(codes(rule('  deny // rein-ignore REIN300')), ['REIN301']);
    assert.deepEqual(codes(rule('  // rein-ignore REIN301\n\n  deny')), ['REIN301']);
    assert.deepEqual(codes('let a = 1 // rein-ignore REIN301\n'), ['REIN300']);
  });

  it('works for type errors but never for syntax errors', () => {
    const r = check({ 'l.rein': HEAD + 'let x: int = "a" // rein-ignore REIN205\nlet y = ) // rein-ignore REIN101\n' });
    assert.ok(!r.diagnostics.some((d) => d.code === 'REIN205'));
    assert.ok(r.diagnostics.some((d) => d.code.startsWith('REIN1')));
  });
});

describe('lint: configuration levels', () => {
  const body = 'let unused = 1\nrule r {\n  when n > 1\n  deny\n}\n';
  it('turns rules off or changes their severity by code or name', () => {
    assert.deepEqual(codes(body, { lint: { REIN300: 'off' } }), ['REIN301']);
    assert.deepEqual(codes(body, { lint: { 'unused-declaration': 'off', 'deny-without-message': 'off' } }), []);
    const r = check({ 'l.rein': HEAD + body }, { config: { lint: { REIN301: 'error' } } });
    assert.equal(r.ok, false);
    assert.equal(r.diagnostics.find((d) => d.code === 'REIN301')?.severity, 'error');
  });

  it('reports a bad configuration as REIN305 and keeps the good parts', () => {
    const r = check({ 'l.rein': HEAD + body }, { config: { lint: { REIN300: 'off', REIN999: 'off', REIN301: 'loud' }, lnit: {} } });
    const c = r.diagnostics.filter((d) => d.code === 'REIN305');
    assert.equal(c.length, 3);
    assert.ok(c.every((d) => d.file === 'rein.json'));
    assert.ok(!r.diagnostics.some((d) => d.code === 'REIN300'));
    assert.ok(r.diagnostics.some((d) => d.code === 'REIN301' && d.severity === 'warning'));
  });
});

describe('lint: registry', () => {
  it('registers every REIN30x lint rule with a unique name', () => {
    assert.deepEqual(LINT_RULES.map((r) => r.code), ['REIN300', 'REIN301', 'REIN302', 'REIN303', 'REIN304', 'REIN307', 'REIN340']);
    assert.equal(new Set(LINT_RULES.map((r) => r.name)).size, LINT_RULES.length);
    assert.equal(createLintRegistry().find('never-matches')?.code, 'REIN302');
  });

  it('dispatches nodes to the rules registered for their kind', () => {
    const seen: string[] = [];
    const reg = new LintRegistry().register({
      code: 'REIN301',
      name: 'probe',
      description: 'test probe',
      kinds: ['Deny', 'BudgetDecl'],
      check(node, ctx, accept) {
        seen.push(node.kind);
        accept({ range: node.range, message: `saw ${node.kind} in ${ctx.file}` });
      },
    });
    const r = check({ 'l.rein': HEAD + 'rule r {\n  when n > 1\n  deny\n}\nbudget b {\n  limit 5\n  charge 1\n  on exceed deny "x"\n}\n' });
    const out = reg.run(r.program);
    assert.deepEqual(seen, ['Deny', 'BudgetDecl', 'Deny']);
    assert.equal(out[0].code, 'REIN301');
    assert.equal(out[0].message, 'saw Deny in l.rein');
  });

  it('walks expressions for rules registered on expression kinds', () => {
    const seen: string[] = [];
    const reg = new LintRegistry().register({
      code: 'REIN302',
      name: 'probe-expr',
      description: 'test probe',
      kinds: ['Binary', 'Money'],
      check(node) {
        seen.push(node.kind === 'Binary' ? node.op : node.kind);
      },
    });
    const r = check({ 'l.rein': HEAD + 'let a = 1 + 2\nrule r {\n  when n > a\n  deny "x ${n * 2}"\n}\nbudget b {\n  limit $5\n  charge $1\n}\n' });
    reg.run(r.program);
    assert.deepEqual(seen, ['+', '>', '*', 'Money', 'Money']);
  });

  it('constant folding follows lets and short-circuits', () => {
    const r = check({ 'l.rein': HEAD + 'let a = 2\nlet b = a * 3\nlet c = b > 5 and n > 0\nlet d = b < 5 and n > 0\n' });
    const v = (name: string) => fold(r.program.lets.find((l) => l.name?.text === name)!.value, r.program);
    assert.equal(v('b'), 6);
    assert.equal(v('c'), undefined);
    assert.equal(v('d'), false);
  });
});
