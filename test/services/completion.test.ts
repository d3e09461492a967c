import { strict as assert } from 'node:assert';
import { complete } from '../../language/services/completion.js';
import { fixture } from './helper.js';

function labels(src: string | Record<string, string>): string[] {
  const fx = fixture(src);
  return complete(fx.analysis, fx.file, fx.offset).map((i) => i.label);
}
function items(src: string | Record<string, string>) {
  const fx = fixture(src);
  return complete(fx.analysis, fx.file, fx.offset);
}

describe('services/completion', () => {
  it('offers declaration keywords at the top level', () => {
    const l = labels('<|>');
    for (const k of ['policy', 'input', 'type', 'let', 'def', 'rule', 'budget', 'test']) assert.ok(l.includes(k), k);
    assert.ok(!l.includes('when'));
  });

  it('offers rule clauses at the start of a line in a rule', () => {
    const l = labels('rule r {\n  <|>\n}\n');
    for (const k of ['when', 'unless', 'deny', 'require approval', 'warn', 'allow']) assert.ok(l.includes(k), k);
    assert.ok(!l.includes('limit'));
    assert.ok(!l.includes('rule'));
  });

  it('offers budget clauses in a budget', () => {
    const l = labels('budget b {\n  limit 10\n  <|>\n}\n');
    for (const k of ['limit', 'charge', 'by', 'when', 'unless', 'warn at', 'on exceed']) assert.ok(l.includes(k), k);
    assert.ok(!l.includes('deny'));
  });

  it('offers window units after `per`', () => {
    assert.deepEqual(labels('budget b {\n  limit 10 per <|>\n}\n').sort(), ['day', 'hour', 'minute', 'month', 'request', 'rolling', 'week']);
  });

  it('offers test clauses in a test, and decision effects after `expect`', () => {
    const l = labels('test "t" {\n  <|>\n}\n');
    for (const k of ['given', 'spent', 'at', 'approved', 'expect']) assert.ok(l.includes(k), k);
    const e = labels('test "t" {\n  given {}\n  expect <|>\n}\n');
    for (const k of ['allow', 'deny', 'require_approval', 'warnings']) assert.ok(e.includes(k), k);
  });

  it('offers rules and budgets after `expect deny by`', () => {
    const l = labels('rule r1 { when true deny "x" }\nbudget b1 { limit 1 charge 1 }\nlet k = 1\ntest "t" {\n  given {}\n  expect deny by <|>\n}\n');
    assert.ok(l.includes('r1'));
    assert.ok(l.includes('b1'));
    assert.ok(!l.includes('k'));
  });

  it('offers input fields after `.` with types and docs', () => {
    const it = items('rule r {\n  when action.<|>\n  deny "x"\n}\n');
    const l = it.map((i) => i.label);
    assert.deepEqual(l.slice().sort(), ['args', 'kind', 'text', 'tool']);
    const tool = it.find((i) => i.label === 'tool')!;
    assert.equal(tool.detail, 'tool?: string');
    assert.equal(tool.documentation, 'The tool name, for tool calls.');
  });

  it('offers fields of a partially typed member', () => {
    assert.deepEqual(labels('rule r {\n  when cost.to<|> > 5\n  deny "x"\n}\n').sort(), ['estimate', 'tokens']);
  });

  it('offers enum literals inside a string compared with an enum field', () => {
    const fx = fixture('rule r {\n  when action.kind == "<|>"\n  deny "x"\n}\n');
    const it = complete(fx.analysis, fx.file, fx.offset);
    assert.deepEqual(it.map((i) => i.label), ['tool_call', 'model_call', 'output']);
    // The edit replaces the string's content, not the quotes.
    assert.equal(it[0].replace!.start.offset, fx.offset);
  });

  it('offers enum literals inside a list after `in`', () => {
    assert.deepEqual(labels('rule r {\n  when action.kind in ["tool_call", "<|>"]\n  deny "x"\n}\n'), ['tool_call', 'model_call', 'output']);
  });

  it('offers nothing inside a string compared with a plain string', () => {
    assert.deepEqual(labels('rule r {\n  when action.tool == "<|>"\n  deny "x"\n}\n'), []);
  });

  it('offers lets, defs, budgets and input fields in expressions', () => {
    const it = items('let blocked = ["a"]\ndef ext(a: string) = a.len() > 1\nbudget b1 { limit 1 charge 1 }\nrule r {\n  when <|>\n  deny "x"\n}\n');
    const l = it.map((i) => i.label);
    for (const k of ['blocked', 'ext', 'b1', 'action', 'session', 'input', 'len', 'pii', 'secrets']) assert.ok(l.includes(k), k);
    const ext = it.find((i) => i.label === 'ext')!;
    assert.equal(ext.insertText, 'ext(${1:a})');
    assert.ok(ext.snippet);
  });

  it('offers budget members after a budget name', () => {
    const l = labels('budget b1 { limit $5 charge $1 }\nrule r {\n  when b1.<|>\n  deny "x"\n}\n');
    assert.deepEqual(l.sort(), ['limit', 'remaining', 'spent', 'used']);
  });

  it('offers list methods with snippets on a list', () => {
    const it = items('rule r {\n  when history.<|>\n  deny "x"\n}\n');
    const any = it.find((i) => i.label === 'any')!;
    assert.ok(any, 'any');
    assert.equal(any.insertText, 'any(${1:x} => ${2})');
    assert.ok(it.some((i) => i.label === 'contains'));
    assert.ok(!it.some((i) => i.label === 'lower'));
  });

  it('offers string methods on a string', () => {
    const l = labels('rule r {\n  when agent.team.<|>\n  deny "x"\n}\n');
    for (const k of ['lower', 'starts_with', 'domain']) assert.ok(l.includes(k), k);
    assert.ok(!l.includes('any'));
  });

  it('offers detectors after `pii.`', () => {
    assert.deepEqual(labels('rule r {\n  when pii.<|>\n  deny "x"\n}\n').sort(), ['any', 'card', 'email', 'iban', 'ip', 'phone', 'ssn', 'url']);
  });

  it('offers the provider detectors after `secrets.`', () => {
    assert.deepEqual(labels('rule r {\n  when secrets.<|>\n  deny "x"\n}\n').sort(), ['anthropic', 'any', 'aws', 'github', 'google', 'jwt', 'openai', 'private_key', 'slack', 'stripe']);
  });

  it('offers lambda parameters inside a lambda', () => {
    assert.ok(labels('rule r {\n  when history.any(s => <|>)\n  deny "x"\n}\n').includes('s'));
  });

  it('offers nothing in a comment', () => {
    assert.deepEqual(labels('// rule <|>\n'), []);
  });
});

describe('services/completion in request objects', () => {
  it('offers schema keys in a `given` object', () => {
    const it = items('test "t" {\n  given { <|> }\n  expect allow\n}\n');
    assert.deepEqual(it.map((i) => i.label), ['session', 'agent', 'action', 'cost', 'history']);
    assert.equal(it[0].insertText, 'session: ');
  });

  it('offers nested keys not yet present after `with`', () => {
    assert.deepEqual(labels('let base = {}\ntest "t" {\n  given base with { action: { kind: "output", <|> } }\n  expect allow\n}\n'), ['tool', 'args', 'text']);
  });

  it('offers enum values for a string in a `given` object', () => {
    assert.deepEqual(labels('test "t" {\n  given { action: { kind: "<|>" } }\n  expect allow\n}\n'), ['tool_call', 'model_call', 'output']);
  });

  it('offers schema keys in a let used as a `given`', () => {
    assert.ok(labels('let base = {\n  <|>\n}\ntest "t" {\n  given base\n  expect allow\n}\n').includes('session'));
    assert.deepEqual(labels('let other = {\n  <|>\n}\n'), []);
  });
});

describe('services/completion of annotations', () => {
  it('offers annotations after `@`', () => {
    const it = items('@<|>\nrule r { when true deny "x" }\n');
    assert.deepEqual(it.map((i) => i.label), ['monitor', 'severity', 'owner', 'priority']);
    assert.ok(it[1].snippet);
  });
});

describe('services: `require approval … quorum N expires D`', () => {
  it('offers from, quorum and expires after `require approval`, and expires after the quorum', () => {
    const l = labels('rule r {\n  when true\n  require approval <|>\n}\n');
    for (const k of ['from', 'quorum', 'expires']) assert.ok(l.includes(k), k);
    assert.ok(labels('rule r {\n  when true\n  require approval from "finance" quorum 2 <|>\n}\n').includes('expires'));
    assert.ok(labels('budget b {\n  limit 3\n  charge 1\n  on exceed require approval <|>\n}\n').includes('quorum'));
  });

  it('hovers quorum and expires with their meaning; highlights them as keywords', async () => {
    const { hover } = await import('../../language/services/hover.js');
    const { semanticTokens } = await import('../../language/services/semantic-tokens.js');
    const src = 'input { amount: number }\nrule r {\n  when amount > 1\n  require approval from "finance" quorum 2 expires 15m "two"\n}\n';
    const fx = fixture({ 'main.rein': src });
    const q = hover(fx.analysis, 'main.rein', src.indexOf('quorum') + 2);
    assert.match(q!.contents, /\*\*quorum\*\* — .*distinct approvers/);
    const x = hover(fx.analysis, 'main.rein', src.indexOf('expires') + 2);
    assert.match(x!.contents, /\*\*expires\*\* — .*counts only until DURATION/);
    const toks = semanticTokens(fx.analysis, 'main.rein');
    const at = (needle: string) => toks.find((t) => t.offset === src.indexOf(needle));
    assert.equal(at('quorum')!.type, 'keyword');
    assert.equal(at('expires')!.type, 'keyword');
    assert.equal(at('2 expires')!.type, 'number');
  });
});

describe('services/completion: context on one line and inside `${…}`', () => {
  // regression (review h12r2 T9): the context was read from the start of the line, so one-line
  // declarations got expression names, and `${…}` counted as the inside of a string
  it('reads the clause context on one-line declarations, as on several lines', () => {
    const schema = 'input { tool: string, kind: "a" | "b" }\nrule existing { when tool == "z" deny "e" }\n';
    const at = (src: string) => labels({ 'schema.rein': schema, 'main.rein': src });
    assert.deepEqual(at('test "t" { given { tool: "a" } expect <|> }'), ['allow', 'deny', 'require_approval', 'warnings']);
    assert.deepEqual(at('test "t" {\n  given { tool: "a" }\n  expect <|>\n}'), ['allow', 'deny', 'require_approval', 'warnings']);
    assert.deepEqual(at('test "t" { given { tool: "a" } expect deny <|> }'), ['by']);
    assert.deepEqual(at('test "t" { given { tool: "a" } expect deny by <|> }'), ['existing']);
    assert.deepEqual(at('test "t" { given { tool: "a" } approved <|> }'), ['existing']);
    assert.deepEqual(at('test "a { b" { <|> }'), ['given', 'spent', 'at', 'approved', 'expect', 'extern', 'data']);
    const rule = at('rule r { <|> }');
    for (const k of ['when', 'unless', 'deny', 'require approval', 'warn', 'allow']) assert.ok(rule.includes(k), k);
    assert.ok(!rule.includes('tool'));
    assert.deepEqual(at('budget b { limit 5 per <|> charge 1 }').sort(), ['day', 'hour', 'minute', 'month', 'request', 'rolling', 'week']);
    assert.deepEqual(at('policy p { default <|> }'), ['allow', 'deny']);
    // an expression after its clause keyword is still an expression, also a keyword-named field
    assert.ok(at('rule r { when tool == "a" and <|> }').includes('tool'));
    assert.ok(at('test "t" { given { tool: "a" }.expect <|> }').includes('tool'));
  });

  it('completes names inside `${…}` of a string, also nested; the string around it still completes enum values', () => {
    const schema = 'input { tool: string, kind: "a" | "b" }\n';
    const at = (src: string) => labels({ 'schema.rein': schema, 'main.rein': src });
    assert.ok(at('rule r { when tool == "a" deny "x ${to<|>}" }').includes('tool'));
    assert.ok(at('rule r {\n  when tool == "a"\n  deny "x ${to<|>}"\n}').includes('tool'));
    assert.ok(at('rule r { when tool == "a" deny "x ${tool + "y ${to<|>}"}" }').includes('tool'));
    assert.deepEqual(at('rule r { when tool == "a" deny "x ${ {a: 1}.a } <|>" }'), []);
    assert.deepEqual(at('rule r { when kind == "<|>" deny "m" }'), ['a', 'b']);
  });
});
