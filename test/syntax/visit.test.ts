import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, tokenize } from '../../language/syntax/parser.js';
import { forEachChild, walk, nodeAt, type AnyNode } from '../../language/syntax/visit.js';
import type * as A from '../../language/syntax/ast.js';

const rules = readFileSync(new URL('../fixtures/syntax/language-rules.rein', import.meta.url), 'utf8');
const schema = readFileSync(new URL('../fixtures/syntax/language-schema.rein', import.meta.url), 'utf8');

/** `Kind:text` for each node on the path (text = the source the node covers, shortened). */
function pathAt(src: string): string[] {
  const offset = src.indexOf('|');
  assert.ok(offset >= 0, 'marker missing');
  const text = src.slice(0, offset) + src.slice(offset + 1);
  return nodeAt(parse(text).ast, offset).map((n) => `${n.kind}:${text.slice(n.range.start.offset, n.range.end.offset).slice(0, 20)}`);
}

describe('visit: forEachChild and walk', () => {
  it('walk reaches every node kind used by the samples, parents before children, in source order', () => {
    const kinds = new Set<string>();
    let lastStart = -1;
    let ordered = true;
    for (const src of [rules, schema]) {
      lastStart = -1;
      walk(parse(src).ast, (n) => {
        kinds.add(n.kind);
        if (n.kind === 'Name' || n.kind === 'Text') {
          if (n.range.start.offset < lastStart) ordered = false;
          lastStart = n.range.start.offset;
        }
      });
    }
    assert.ok(ordered, 'leaves are visited in source order');
    for (const k of ['SourceFile', 'PolicyDecl', 'PolicyVersion', 'PolicyDefault', 'InputDecl', 'FieldDecl', 'ObjectType', 'UnionType', 'TypeName', 'TypeDecl', 'LetDecl', 'DefDecl', 'ExternDecl', 'Param', 'RuleDecl', 'Annotation', 'When', 'Deny', 'RequireApproval', 'Warn', 'BudgetDecl', 'Limit', 'Unit', 'Charge', 'By', 'WarnAt', 'OnExceed', 'TestDecl', 'Given', 'Spent', 'Approved', 'Expect', 'ExpectWarnings', 'Binary', 'Member', 'Call', 'Unary', 'NameRef', 'Name', 'String', 'Text', 'Interpolation', 'Number', 'Money', 'Percent', 'List', 'Object', 'Entry', 'If', 'Paren']) {
      assert.ok(kinds.has(k), `walk never reached ${k}`);
    }
  });

  it('returning false skips the children', () => {
    const seen: string[] = [];
    walk(parse('rule r { when a == 1 deny }').ast, (n) => {
      seen.push(n.kind);
      return n.kind !== 'When';
    });
    assert.deepEqual(seen, ['SourceFile', 'RuleDecl', 'Name', 'When', 'Deny']);
  });

  it('forEachChild lists direct children only, including phase-2 and rarely used nodes', () => {
    const kids = (n: AnyNode): string[] => {
      const out: string[] = [];
      forEachChild(n, (c) => out.push(c.kind));
      return out;
    };
    const r = parse('rule r { set a = b "m" }\nrule q { redact t using pii.email }\nlet l = (x, y) => x[y] ?? -1\ntest "t" { at "2026-01-01T00:00:00Z" }\nbudget b { limit 1 per request }');
    const [set, redact] = [(r.ast.decls[0] as A.RuleDecl).body[0], (r.ast.decls[1] as A.RuleDecl).body[0]];
    assert.deepEqual(kids(set), ['NameRef', 'NameRef', 'String']);
    assert.deepEqual(kids(redact), ['NameRef', 'Member']);
    const lambda = (r.ast.decls[2] as A.LetDecl).value!;
    assert.deepEqual(kids(lambda), ['Name', 'Name', 'Binary']);
    assert.deepEqual(kids((lambda as A.LambdaExpr).body!), ['Index', 'Unary']);
    assert.deepEqual(kids((r.ast.decls[3] as A.TestDecl).items[0]), ['String']);
    assert.deepEqual(kids((r.ast.decls[4] as A.BudgetDecl).items[0]), ['Number', 'Request']);
  });

  it('walk does not overflow on very long operator chains', () => {
    const src = 'let x = ' + Array.from({ length: 20_000 }, (_, i) => `a${i}`).join(' + ');
    let count = 0;
    const r = parse(src);
    walk(r.ast, () => {
      count++;
    });
    // The parser cuts the chain at its depth limit (issue 11 §5) and says so; walk visits the rest.
    assert.ok(count > 1_000);
    assert.ok(r.diagnostics.some((d) => /nested too deeply/.test(d.message)));
  });
});

describe('visit: nodeAt', () => {
  it('finds the innermost node, outermost first', () => {
    assert.deepEqual(pathAt('rule r { when action.ki|nd == "x" deny }'), [
      'SourceFile:rule r { when action',
      'RuleDecl:rule r { when action',
      'When:when action.kind == ',
      'Binary:action.kind == "x"',
      'Member:action.kind',
      'Name:kind',
    ]);
  });

  it('a cursor right after `action.` is inside the MemberExpr without property', () => {
    const path = pathAt('rule r {\n  when action.|');
    assert.deepEqual(path.slice(-2), ['When:when action.', 'Member:action.']);
  });

  it('prefers the node that starts at the offset over the one that ends there', () => {
    assert.deepEqual(pathAt('let x = a+|b').slice(-3), ['Binary:a+b', 'NameRef:b', 'Name:b']);
    assert.deepEqual(pathAt('let x = a|+b').slice(-3), ['Binary:a+b', 'NameRef:a', 'Name:a']);
  });

  it('inside a string interpolation', () => {
    const p = pathAt('rule r { deny "x ${ agent.te|am } y" }');
    assert.deepEqual(p.slice(-4), ['String:"x ${ agent.team } y', 'Interpolation:${ agent.team }', 'Member:agent.team', 'Name:team']);
  });

  it('outside every declaration gives just the file', () => {
    assert.deepEqual(pathAt('let a = 1\n\n|\nlet b = 2'), ['SourceFile:let a = 1\n\n\nlet b = ']);
  });
});

describe('tokenize', () => {
  it('classifies every token, strings split around interpolations', () => {
    const src = '@severity("high") rule r { when action.limit >= 80% and cost ?? $0.50 < 5m\n deny "x ${a.b} y" } // c';
    const { tokens, comments } = tokenize(src);
    assert.deepEqual(
      tokens.map((t) => `${t.type}:${t.text}`),
      [
        'annotation:@severity', 'punctuation:(', 'string:"high"', 'punctuation:)', 'keyword:rule', 'identifier:r', 'punctuation:{',
        'keyword:when', 'identifier:action', 'punctuation:.', 'identifier:limit', 'operator:>=', 'percent:80%', 'keyword:and',
        'identifier:cost', 'operator:??', 'money:$0.50', 'operator:<', 'duration:5m', 'keyword:deny', 'string:"x ',
        'punctuation:${', 'identifier:a', 'punctuation:.', 'identifier:b', 'punctuation:}', 'string: y"', 'punctuation:}',
      ],
    );
    assert.deepEqual(comments.map((c) => `${c.kind}:${c.text}`), ['line:// c']);
    const y = tokens.find((t) => t.text === ' y"')!;
    assert.equal(src.slice(y.range.start.offset, y.range.end.offset), ' y"');
  });

  it('contextual keywords used as names are identifiers where the neighbours say so', () => {
    const { tokens } = tokenize('input { type: string, limit?: int }\nlet default = x.request');
    const types = Object.fromEntries(tokens.filter((t) => /^[a-z]/.test(t.text)).map((t) => [t.text, t.type]));
    assert.deepEqual(types, { input: 'keyword', type: 'identifier', string: 'identifier', limit: 'identifier', int: 'identifier', let: 'keyword', default: 'identifier', x: 'identifier', request: 'identifier' });
  });

  it('reserved words are identifiers after `.` and as keys, keywords elsewhere', () => {
    const { tokens } = tokenize('let a = x.in and { null: 1, with?: 2 }.with or if b then c else d');
    assert.deepEqual(
      tokens.filter((t) => /^[a-z]/.test(t.text)).map((t) => `${t.type}:${t.text}`),
      ['keyword:let', 'identifier:a', 'identifier:x', 'identifier:in', 'keyword:and', 'identifier:null', 'identifier:with', 'identifier:with',
        'keyword:or', 'keyword:if', 'identifier:b', 'keyword:then', 'identifier:c', 'keyword:else', 'identifier:d'],
    );
  });
});
