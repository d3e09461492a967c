import { strict as assert } from 'node:assert';
import { documentSymbols, workspaceSymbols, foldingRanges } from '../../language/services/outline.js';
import { semanticTokens } from '../../language/services/semantic-tokens.js';
import { signatureHelp } from '../../language/services/signature-help.js';
import { codeActions } from '../../language/services/code-actions.js';
import { codeLenses } from '../../language/services/code-lenses.js';
import { runTest, runAllTests, evaluateRequest } from '../../language/services/run.js';
import { PolicySet } from '../../language/services/policy-set.js';
import { fixture, SCHEMA } from './helper.js';

describe('services/symbols and folding', () => {
  const SRC = `policy p {
  default allow
}
/// A list.
let xs = [
  "a",
  "b",
]
rule r {
  when true
  deny "x"
}
budget b {
  limit $5 per day
  charge $1
}
// one
// two
test "t" {
  given {}
  expect allow
}
`;
  it('lists declarations with kinds and details', () => {
    const fx = fixture(SRC);
    const syms = documentSymbols(fx.analysis, 'main.rein');
    assert.deepEqual(syms.map((s) => [s.name, s.kind]), [['p', 'policy'], ['xs', 'let'], ['r', 'rule'], ['b', 'budget'], ['t', 'test']]);
    assert.equal(syms.find((s) => s.name === 'r')!.detail, 'deny');
    assert.equal(syms.find((s) => s.name === 'b')!.detail, 'limit $5 per day');
    const schema = documentSymbols(fx.analysis, 'schema.rein');
    const input = schema.find((s) => s.kind === 'input')!;
    assert.ok(input.children.some((c) => c.name === 'action'));
  });

  it('finds workspace symbols by fuzzy name', () => {
    const fx = fixture(SRC);
    const ws = workspaceSymbols([fx.analysis], 'xs');
    assert.deepEqual(ws.map((s) => s.name), ['xs']);
    assert.ok(workspaceSymbols([fx.analysis], 'act').some((s) => s.name === 'action' && s.container === 'input'));
  });

  it('folds declarations, multi-line lists and comment runs', () => {
    const fx = fixture(SRC);
    const folds = foldingRanges(fx.analysis, 'main.rein');
    const has = (s: number, e: number, kind?: string) => folds.some((f) => f.startLine === s && f.endLine === e && f.kind === kind);
    assert.ok(has(0, 1), 'policy');
    assert.ok(has(4, 6), 'list');
    assert.ok(has(8, 10), 'rule');
    assert.ok(has(16, 17, 'comment'), 'comments');
  });

  // regression (review h12r2 T14): `let q = [⏎…⏎]` folded twice (the declaration and its list)
  it('gives one folding range per start line', () => {
    const fx = fixture('let q = [\n  1,\n]\nrule r {\n  when action.tool in [\n    "a",\n  ]\n  deny "m"\n}\n');
    const folds = foldingRanges(fx.analysis, 'main.rein');
    assert.deepEqual(folds.map((f) => `${f.startLine}-${f.endLine}`), ['0-1', '3-7', '4-5']);
  });
});

describe('services/semantic tokens', () => {
  it('map methods, `like` and `string()` are default-library methods and functions (#17)', () => {
    const src = 'input {\n  args: map<any>\n  tool: string\n}\nrule r {\n  when args.values().any(v => string(v) == "x") or tool.like("list_*") or args.entries().len() > 3\n  deny "x"\n}\n';
    const fx = fixture(src);
    const toks = semanticTokens(fx.analysis, 'main.rein');
    const at = (needle: string) => toks.find((t) => t.offset === src.indexOf(needle));
    for (const m of ['values', 'like', 'entries']) {
      assert.equal(at(m)?.type, 'method', m);
      assert.ok(at(m)!.modifiers.includes('defaultLibrary'), m);
    }
    assert.equal(at('string(')?.type, 'function');
    assert.ok(at('string(')!.modifiers.includes('defaultLibrary'));
  });

  it('classifies keywords, names by what they resolve to, literals and comments', () => {
    const src = '// note\nlet limit_x = $5\n@monitor\nrule r {\n  when cost.estimate ?? $0 > limit_x and action.kind == "tool_call"\n  warn "x"\n}\n';
    const fx = fixture(src);
    const toks = semanticTokens(fx.analysis, 'main.rein');
    const at = (needle: string, nth = 0) => {
      let i = -1;
      for (let k = 0; k <= nth; k++) i = src.indexOf(needle, i + 1);
      return toks.find((t) => t.offset === i);
    };
    assert.equal(at('// note')!.type, 'comment');
    assert.equal(at('let')!.type, 'keyword');
    assert.equal(at('limit_x')!.type, 'variable');
    assert.ok(at('limit_x')!.modifiers.includes('declaration'));
    assert.equal(at('limit_x', 1)!.type, 'variable');
    assert.ok(!at('limit_x', 1)!.modifiers.includes('declaration'));
    assert.equal(at('$5')!.type, 'number');
    assert.equal(at('rule')!.type, 'keyword');
    assert.equal(at('r {')!.type, 'class');
    assert.equal(at('cost')!.type, 'property');
    assert.equal(at('estimate')!.type, 'property');
    assert.equal(at('"tool_call"')!.type, 'string');
    assert.equal(at('@monitor')!.type, 'decorator');
    // Tokens are sorted and do not overlap.
    for (let i = 1; i < toks.length; i++) assert.ok(toks[i].offset >= toks[i - 1].offset + toks[i - 1].length);
  });

  it('treats a contextual keyword used as a field name as a property', () => {
    const fx = fixture({ 'main.rein': 'input { limit: int }\nrule r {\n  when limit > 3\n  deny "x"\n}\n' });
    const toks = semanticTokens(fx.analysis, 'main.rein');
    const i = fx.text('main.rein').indexOf('limit >');
    assert.equal(toks.find((t) => t.offset === i)!.type, 'property');
  });
});

describe('services/signature help', () => {
  it('helps with defs, globals, methods and detectors', () => {
    let fx = fixture('/// Outside?\ndef ext(addr: string, strict: bool) = addr.len() > 0 and strict\nrule r {\n  when ext("a", <|>)\n  deny "x"\n}\n');
    let s = signatureHelp(fx.analysis, fx.file, fx.offset)!;
    assert.equal(s.label, 'ext(addr: string, strict: bool): bool');
    assert.equal(s.activeParameter, 1);
    assert.equal(s.doc, 'Outside?');
    fx = fixture('rule r {\n  when max(1, <|>) > 0\n  deny "x"\n}\n');
    assert.match(signatureHelp(fx.analysis, fx.file, fx.offset)!.label, /^max\(a, b\)/);
    fx = fixture('rule r {\n  when agent.team.replace(<|>) == ""\n  deny "x"\n}\n');
    s = signatureHelp(fx.analysis, fx.file, fx.offset)!;
    assert.match(s.label, /replace\(old: string, new: string\)/);
    assert.equal(s.activeParameter, 0);
    fx = fixture('rule r {\n  when pii.email(<|>)\n  deny "x"\n}\n');
    assert.match(signatureHelp(fx.analysis, fx.file, fx.offset)!.label, /pii\.email/);
  });

  it('gives nothing outside a call', () => {
    const fx = fixture('rule r {\n  when (1 + <|>2) > 0\n  deny "x"\n}\n');
    assert.equal(signatureHelp(fx.analysis, fx.file, fx.offset), undefined);
  });
});

describe('services/code actions', () => {
  const whole = (fx: ReturnType<typeof fixture>) => fx.analysis.sources.get('main.rein')!.lines.range(0, fx.text('main.rein').length);

  it('offers "did you mean" from the diagnostic suggestion', () => {
    const fx = fixture('let blocked_tools = ["a"]\nrule r {\n  when action.tool in blocked_tool\n  deny "x"\n}\n');
    const acts = codeActions(fx.analysis, 'main.rein', whole(fx));
    const fix = acts.find((a) => a.diagnosticCode === 'REIN200');
    assert.ok(fix, JSON.stringify(fx.analysis.result.diagnostics));
    assert.equal(fix!.edits[0].newText, 'blocked_tools');
  });

  it('adds a `??` guard for a possibly-null value', () => {
    const fx = fixture('rule r {\n  when cost.tokens + 1 > 5\n  deny "x"\n}\n');
    const acts = codeActions(fx.analysis, 'main.rein', whole(fx));
    const fix = acts.find((a) => /\?\?/.test(a.title));
    assert.ok(fix, JSON.stringify(fx.analysis.result.diagnostics));
    assert.match(fix!.edits[0].newText, /^\(cost\.tokens \?\? 0\)$/);
  });

  // regression (review h12r2 T14): a `\n` went into CRLF documents (mixed line endings)
  it('suppresses a lint with the document\'s own line ending', () => {
    for (const eol of ['\r\n', '\n']) {
      const fx = fixture(['rule r {', '  when action.tool == "x"', '  deny', '}', ''].join(eol));
      const sup = codeActions(fx.analysis, 'main.rein', whole(fx)).find((a) => a.title === 'Suppress REIN301 on this line');
      assert.equal(sup?.edits[0].newText, `  // rein-ignore REIN301${eol}`, JSON.stringify(eol));
    }
  });

  it('suppresses a lint with `// rein-ignore CODE` on the line above', () => {
    const fx = fixture('rule r {\n  when action.tool == "x"\n  deny\n}\n');
    const acts = codeActions(fx.analysis, 'main.rein', whole(fx));
    const sup = acts.find((a) => a.title === 'Suppress REIN301 on this line');
    assert.ok(sup, JSON.stringify(fx.analysis.result.diagnostics));
    assert.equal(sup!.edits[0].newText, '  // rein-ignore REIN301\n');
    assert.equal(sup!.edits[0].range.start.line, 2);
    // Applying the edit silences the lint.
    const e = sup!.edits[0];
    const text = fx.text('main.rein');
    const fixed = fixture({ 'main.rein': text.slice(0, e.range.start.offset) + e.newText + text.slice(e.range.end.offset), 'schema.rein': fx.text('schema.rein') });
    assert.ok(!fixed.analysis.result.diagnostics.some((d) => d.code === 'REIN301'));
  });
});

describe('services/code lenses and runs', () => {
  const SRC = `let base = { session: { id: "s", actions: 0 }, agent: { id: "a", team: "t" }, action: { kind: "tool_call", tool: "db.drop" }, history: [] }
rule no_drop {
  when action.tool == "db.drop"
  deny "no"
}
rule quiet {
  when action.tool == "other"
  warn "w"
}
test "drop is denied" {
  given base
  expect deny by no_drop
}
test "wrong on purpose" {
  given base
  expect allow
}
`;
  it('puts a lens on each test and rule', () => {
    const fx = fixture(SRC);
    assert.deepEqual(codeLenses(fx.analysis, 'main.rein').map((l) => [l.kind, l.name]), [
      ['rule', 'no_drop'],
      ['rule', 'quiet'],
      ['test', 'drop is denied'],
      ['test', 'wrong on purpose'],
    ]);
  });

  it('runs one test and reports expected vs actual', () => {
    const fx = fixture(SRC);
    assert.equal(runTest(fx.analysis, 'drop is denied').passed, true);
    const bad = runTest(fx.analysis, 'wrong on purpose');
    assert.equal(bad.passed, false);
    assert.match(bad.message, /expected allow, got deny/);
  });

  it('runs every test of the set', () => {
    const fx = fixture(SRC);
    const runs = runAllTests(fx.analysis);
    assert.ok(Array.isArray(runs));
    assert.deepEqual(runs.map((r) => [r.name, r.passed, r.file]), [['drop is denied', true, 'main.rein'], ['wrong on purpose', false, 'main.rein']]);
    const broken = fixture('rule r { when nope deny "x" }\ntest "t" { given {} expect allow }\n');
    const res = runAllTests(broken.analysis);
    assert.ok('error' in res && /has 1 error/.test(res.error));
  });

  it('evaluates a request and names the matched rules', () => {
    const fx = fixture(SRC);
    const ev = evaluateRequest(fx.analysis, { session: { id: 's', actions: 0 }, agent: { id: 'a', team: 't' }, action: { kind: 'tool_call', tool: 'db.drop' }, history: [] });
    assert.ok(ev.ok);
    assert.equal(ev.effect, 'deny');
    assert.ok(ev.matched.has('no_drop'));
    assert.ok(!ev.matched.has('quiet'));
  });
});

describe('services/policy set', () => {
  it('re-parses only the changed file and re-checks the set', () => {
    const set = new PolicySet();
    set.set('schema.rein', SCHEMA, 1);
    set.set('a.rein', 'let x = 1\n', 1);
    set.analysis();
    assert.equal(set.stats.parses, 2);
    set.set('a.rein', 'let x = 2\n', 2);
    assert.equal(set.state, 'changed');
    const a = set.analysis();
    assert.equal(set.state, 'checked');
    assert.equal(set.stats.parses, 3);
    assert.equal(set.stats.checks, 2);
    assert.equal(set.analysis(), a, 'cached until the next change');
    assert.equal(set.set('a.rein', 'let x = 2\n', 3), false, 'same text: no change');
    assert.equal(set.stats.parses, 3);
  });

  it('updates other files\' diagnostics after an edit', () => {
    const set = new PolicySet();
    set.set('schema.rein', SCHEMA);
    set.set('a.rein', 'let limit_x = 1\n');
    set.set('b.rein', 'rule r {\n  when session.actions > limit_x\n  deny "x"\n}\n');
    assert.ok(!set.analysis().result.diagnostics.some((d) => d.file === 'b.rein' && d.severity === 'error'));
    set.set('a.rein', 'let limit_y = 1\n');
    assert.ok(set.analysis().result.diagnostics.some((d) => d.file === 'b.rein' && d.code === 'REIN200'));
  });
});
