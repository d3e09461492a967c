import { strict as assert } from 'node:assert';
import { definition, references, prepareRename, rename, highlights } from '../../language/services/navigation.js';
import { hover } from '../../language/services/hover.js';
import { fixture, slice } from './helper.js';

const RULES = `/// Tools that are never allowed.
let blocked = ["shell.exec"]
rule no_tools {
  when action.tool in blo<|>cked
  deny "blocked"
}
`;

describe('services/definition and references', () => {
  it('goes to a let declared in another file', () => {
    const fx = fixture({ 'a.rein': 'let blocked = ["x"]\n', 'b.rein': 'rule r {\n  when action.tool in blo<|>cked\n  deny "b"\n}\n', 'schema.rein': 'input { action: { tool: string } }\n' });
    const locs = definition(fx.analysis, fx.file, fx.offset);
    assert.equal(locs.length, 1);
    assert.equal(locs[0].file, 'a.rein');
    assert.equal(slice(fx, 'a.rein', locs[0].range), 'blocked');
  });

  it('goes into the schema for a field', () => {
    const fx = fixture('rule r {\n  when action.to<|>ol == "x"\n  deny "b"\n}\n');
    const locs = definition(fx.analysis, fx.file, fx.offset);
    assert.equal(locs.length, 1);
    assert.equal(locs[0].file, 'schema.rein');
    assert.equal(slice(fx, 'schema.rein', locs[0].range), 'tool');
  });

  it('finds every reference across files, with and without the declaration', () => {
    const fx = fixture({
      'a.rein': 'let lim<|>it_x = 5\n',
      'b.rein': 'rule r {\n  when session.actions > limit_x\n  deny "b"\n}\nrule s {\n  when session.actions < limit_x\n  deny "c"\n}\n',
      'schema.rein': 'input { session: { actions: int } }\n',
    });
    const all = references(fx.analysis, fx.file, fx.offset, true);
    assert.equal(all.length, 3);
    assert.deepEqual(all.map((l) => l.file).sort(), ['a.rein', 'b.rein', 'b.rein']);
    assert.equal(references(fx.analysis, fx.file, fx.offset, false).length, 2);
  });

  it('finds rule references from tests', () => {
    const fx = fixture('rule no_<|>tools { when action.tool == "x" deny "b" }\ntest "t" {\n  given {}\n  expect deny by no_tools\n}\n');
    const refs = references(fx.analysis, fx.file, fx.offset, true);
    assert.equal(refs.length, 2);
  });
});

describe('services/rename', () => {
  it('renames across files', () => {
    const fx = fixture({ 'a.rein': 'let blocked = ["x"]\n', 'b.rein': 'rule r {\n  when action.tool in blo<|>cked\n  deny "b"\n}\n', 'schema.rein': 'input { action: { tool: string } }\n' });
    const prep = prepareRename(fx.analysis, fx.file, fx.offset);
    assert.ok(!('error' in prep));
    assert.equal(prep.placeholder, 'blocked');
    const r = rename(fx.analysis, fx.file, fx.offset, 'denied_tools');
    assert.ok('edits' in r);
    assert.deepEqual(r.edits.map((e) => e.file).sort(), ['a.rein', 'b.rein']);
    assert.ok(r.edits.every((e) => e.newText === 'denied_tools'));
  });

  it('refuses keywords, built-ins and reserved new names', () => {
    const kw = fixture('ru<|>le r { when true deny "x" }\n');
    assert.ok('error' in prepareRename(kw.analysis, kw.file, kw.offset));
    const builtin = fixture('rule r {\n  when le<|>n(agent.team) > 3\n  deny "x"\n}\n');
    const p = prepareRename(builtin.analysis, builtin.file, builtin.offset);
    assert.ok('error' in p && /built in/.test(p.error));
    const fx = fixture(RULES);
    const r = rename(fx.analysis, fx.file, fx.offset, 'and');
    assert.ok('error' in r && /reserved/.test(r.error));
    const bad = rename(fx.analysis, fx.file, fx.offset, '9x');
    assert.ok('error' in bad);
  });

  it('renaming a field renames it in test requests too: `given { … }`, a `let` a `given` uses, `with { … }` — not an unrelated key of the same name (regression)', () => {
    const fx = fixture({
      'schema.rein': 'type Action = { kind: string, t<|>ool?: string }\ninput { action: Action, meta: map<string> }\n',
      'rules.rein': 'rule r {\n  when action.tool == "db.drop"\n  deny "no"\n}\n',
      'tests.rein':
        'let base = { action: { kind: "tool_call", tool: "search" }, meta: { tool: "kept" } }\n' +
        'let other = { tool: "kept too" }\n' +
        'test "drop" {\n  given base with { action: { tool: "db.drop" } }\n  expect deny\n}\n' +
        'test "plain" {\n  given { action: { kind: "x", tool: "y" }, meta: {} }\n  expect allow\n}\n',
    });
    const r = rename(fx.analysis, fx.file, fx.offset, 'tool_name');
    assert.ok('edits' in r, JSON.stringify(r));
    const by = (f: string) => r.edits.filter((e) => e.file === f).map((e) => slice(fx, f, e.range));
    assert.deepEqual(by('schema.rein'), ['tool']);
    assert.deepEqual(by('rules.rein'), ['tool']);
    // base's action.tool, the with's action.tool, the plain given's action.tool; not meta.tool (a map) nor `other`'s key
    assert.equal(by('tests.rein').length, 3);
    const lines = r.edits.filter((e) => e.file === 'tests.rein').map((e) => e.range.start.line).sort();
    assert.deepEqual(lines, [0, 3, 7]);
  });

  // regression (review h12r2 T14): hover and go to definition on a request key returned nothing,
  // though rename and references treat the key as the schema field
  it('a key of a request object is the schema field for hover, definition, references and rename', () => {
    const files = {
      'schema.rein': 'input {\n  /// The team.\n  team: string\n  action: { tool?: string }\n  meta: map<string>\n}\n',
      'tests.rein': 'let base = { team: "b" }\ntest "t" {\n  given base with { te<|>am: "a", action: { tool: "x" }, meta: { team: "kept" } }\n  expect allow\n}\n',
    };
    const fx = fixture(files);
    const h = hover(fx.analysis, fx.file, fx.offset);
    assert.match(h?.contents ?? '', /\(input\) team: string/);
    assert.match(h?.contents ?? '', /The team\./);
    const d = definition(fx.analysis, fx.file, fx.offset);
    assert.deepEqual(d.map((l) => `${l.file}:${l.range.start.line}:${slice(fx, l.file, l.range)}`), ['schema.rein:2:team']);
    // references from the key: the declaration, the key itself and `base`'s key — not the map's key
    const refs = references(fx.analysis, fx.file, fx.offset, true).map((l) => `${l.file}:${l.range.start.line}`);
    assert.deepEqual(refs.sort(), ['schema.rein:2', 'tests.rein:0', 'tests.rein:2']);
    const r = rename(fx.analysis, fx.file, fx.offset, 'group');
    assert.ok('edits' in r && r.edits.length === 3, JSON.stringify(r));
    // a nested key: its field
    const nested = fixture({ ...files, 'tests.rein': files['tests.rein'].replace('te<|>am: "a"', 'team: "a"').replace('{ to', '{ t<|>o') });
    assert.match(hover(nested.analysis, nested.file, nested.offset)?.contents ?? '', /\(field\) tool\?: string/);
    // the key of a map (not a schema field): nothing
    const map = fixture({ ...files, 'tests.rein': files['tests.rein'].replace('te<|>am: "a"', 'team: "a"').replace('{ team: "kept"', '{ te<|>am: "kept"') });
    assert.equal(hover(map.analysis, map.file, map.offset), undefined);
    assert.deepEqual(definition(map.analysis, map.file, map.offset), []);
  });

  it('refuses a name already declared', () => {
    const fx = fixture('let a<|>a = 1\nlet bb = 2\n');
    const r = rename(fx.analysis, fx.file, fx.offset, 'bb');
    assert.ok('error' in r && /already declared/.test(r.error));
  });
});

describe('services/hover', () => {
  it('shows a let\'s type and its `///` docs', () => {
    const fx = fixture(RULES);
    const h = hover(fx.analysis, fx.file, fx.offset)!;
    assert.match(h.contents, /let blocked: list<string>/);
    assert.match(h.contents, /Tools that are never allowed\./);
    assert.equal(slice(fx, fx.file, h.range), 'blocked');
  });

  it('shows a field\'s type and docs from the schema', () => {
    const fx = fixture('rule r {\n  when action.to<|>ol == "x"\n  deny "b"\n}\n');
    const h = hover(fx.analysis, fx.file, fx.offset)!;
    assert.match(h.contents, /tool\?: string/);
    assert.match(h.contents, /The tool name, for tool calls\./);
  });

  it('shows a budget\'s limit and window', () => {
    const fx = fixture('/// Team spend.\nbudget team_daily {\n  limit $50 per day\n  charge $1\n}\nrule r {\n  when team_da<|>ily.used > 80%\n  warn "x"\n}\n');
    const h = hover(fx.analysis, fx.file, fx.offset)!;
    assert.match(h.contents, /limit \$50 per day/);
    assert.match(h.contents, /Team spend\./);
    assert.match(h.contents, /aligned to UTC/);
  });

  it('documents detectors and methods', () => {
    const fx = fixture('rule r {\n  when pii.em<|>ail(action.text ?? "")\n  deny "x"\n}\n');
    assert.match(hover(fx.analysis, fx.file, fx.offset)!.contents, /pii\.email\(s: string\): bool/);
    const m = fixture('rule r {\n  when agent.team.star<|>ts_with("x")\n  deny "x"\n}\n');
    assert.match(hover(m.analysis, m.file, m.offset)!.contents, /starts_with/);
  });

  it('documents keywords', () => {
    const fx = fixture('rule r {\n  whe<|>n true\n  deny "x"\n}\n');
    assert.match(hover(fx.analysis, fx.file, fx.offset)!.contents, /condition/);
  });
});

describe('services/hover on parameters', () => {
  it('shows the inferred type of a lambda parameter and of a def parameter', () => {
    let fx = fixture('rule r {\n  when history.any(<|>s => s.ok)\n  deny "x"\n}\n');
    assert.match(hover(fx.analysis, fx.file, fx.offset)!.contents, /\(parameter\) s: Step/);
    fx = fixture('def ext(addr: string) = a<|>ddr.len() > 3\n');
    assert.match(hover(fx.analysis, fx.file, fx.offset)!.contents, /\(parameter\) addr: string/);
  });
});

describe('services/document highlights', () => {
  it('marks the declaration as a write and the uses as reads, in this file only', () => {
    const fx = fixture({ 'main.rein': 'let c<|>ap = 5\nrule r {\n  when session.actions > cap and cap > 1\n  deny "x"\n}\n', 'other.rein': 'let z = cap\n', 'schema.rein': 'input { session: { actions: int } }\n' });
    const hs = highlights(fx.analysis, fx.file, fx.offset);
    assert.equal(hs.length, 3);
    assert.deepEqual(hs.map((h) => h.write), [true, false, false]);
  });
});
