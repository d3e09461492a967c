// Comments in every position survive formatting, in order, with the same text, and stay where
// they were: trailing comments on the line of the code they follow, own-line comments on their own line.

import { strict as assert } from 'node:assert';
import { format } from '../../language/format/format.js';
import { parse } from '../../language/syntax/parser.js';
import { commentTexts } from './helpers.js';

const INPUT = 'input { action: { kind: string, tool?: string } }\n';

/** Formats, checks idempotence and that the comments are kept; returns the output lines. */
function fmt(src: string): string[] {
  const out = format(src);
  assert.equal(format(out), out, 'not idempotent');
  assert.deepEqual(commentTexts(parse(out, 'x').ast), commentTexts(parse(src, 'x').ast));
  return out.split('\n');
}

/** The output line holding `needle`. */
function lineWith(lines: string[], needle: string): string {
  const l = lines.find((x) => x.includes(needle));
  assert.ok(l !== undefined, `no line contains ${needle}:\n${lines.join('\n')}`);
  return l;
}

describe('format: comments', () => {
  it('keeps a trailing comment after a declaration on its line', () => {
    const lines = fmt(`${INPUT}let   x=1    // the answer\n`);
    assert.equal(lineWith(lines, '// the answer'), 'let x = 1 // the answer');
  });

  it('keeps a trailing comment after a clause on its line', () => {
    const lines = fmt(`${INPUT}rule r {\n  when action.kind == "x"     // why\n  deny "no" // msg\n}\n`);
    assert.equal(lineWith(lines, '// why'), '  when action.kind == "x" // why');
    assert.equal(lineWith(lines, '// msg'), '  deny "no" // msg');
  });

  it('keeps own-line comments on their own line, with the block indentation', () => {
    const lines = fmt(`${INPUT}rule r {\n// first\n      when action.kind == "x"\n        // second\n  deny\n}\n`);
    assert.equal(lineWith(lines, '// first'), '  // first');
    assert.equal(lineWith(lines, '// second'), '  // second');
  });

  it('keeps a comment directly after an opening brace on that line', () => {
    const lines = fmt(`${INPUT}rule r { // after brace\n  deny\n}\n`);
    assert.equal(lineWith(lines, '// after brace'), 'rule r { // after brace');
  });

  it('keeps a dangling comment before a closing brace inside the block', () => {
    const lines = fmt(`${INPUT}rule r {\n  deny\n  // the end\n}\n`);
    const i = lines.indexOf('  // the end');
    assert.ok(i > 0 && lines[i + 1] === '}', lines.join('\n'));
  });

  it('keeps comments in an empty block', () => {
    const lines = fmt(`${INPUT}policy p { // nothing yet\n}\n`);
    assert.equal(lineWith(lines, 'nothing yet'), 'policy p { // nothing yet');
  });

  it('keeps comments between list items and breaks the list', () => {
    const lines = fmt(`${INPUT}let xs = ["a", // first\n  /* b */ "b", "c" /* c */]\n`);
    assert.equal(lineWith(lines, '// first'), '  "a", // first');
    assert.equal(lineWith(lines, '/* b */'), '  /* b */ "b",');
    assert.equal(lineWith(lines, '/* c */'), '  "c", /* c */');
  });

  it('keeps inline block comments inside expressions in place', () => {
    const lines = fmt(`${INPUT}let y = 1 + /* two */ 2 * /* three */ 3\n`);
    assert.equal(lineWith(lines, 'two'), 'let y = 1 + /* two */ 2 * /* three */ 3');
  });

  // regression (review h12r2 T3): the parser did not collect comments inside `${…}`, so the
  // formatter re-printed the interpolation without them
  it('keeps block comments inside an interpolation, also nested, with the literal as written', () => {
    const lines = fmt(`${INPUT}rule r { deny "\${1 /* keep me */ + 1}" }\nlet a = "x\${ "y\${2 /* deep */}" /* mid */ }z"\n`);
    assert.equal(lineWith(lines, 'keep me'), '  deny "${1 /* keep me */ + 1}"');
    assert.equal(lineWith(lines, 'deep'), 'let a = "x${ "y${2 /* deep */}" /* mid */ }z"');
    assert.deepEqual(commentTexts(parse(lines.join('\n'), 'x').ast), ['/* keep me */', '/* deep */', '/* mid */']);
  });

  it('keeps a line comment inside an expression and continues on the next line', () => {
    const lines = fmt(`${INPUT}rule r {\n  when action.kind == "x" and // first part\n    action.tool == "y"\n  deny\n}\n`);
    const i = lines.indexOf('    and // first part');
    assert.ok(i > 0, lines.join('\n'));
    assert.deepEqual(lines.slice(i - 1, i + 2), ['  when action.kind == "x"', '    and // first part', '    action.tool == "y"']);
  });

  it('keeps doc comments directly above the declaration, annotations in between', () => {
    const lines = fmt(`${INPUT}/// Docs.\n/// More.\n@severity("high")    @owner("x")   rule r { deny }\n`);
    const i = lines.indexOf('/// Docs.');
    assert.deepEqual(lines.slice(i, i + 4), ['/// Docs.', '/// More.', '@severity("high") @owner("x")', 'rule r {']);
  });

  it('keeps the doc attached (no blank line inserted between `///` and the declaration)', () => {
    const src = `${INPUT}/// The answer.\nlet x = 42\n`;
    const out = format(src);
    const decl = parse(out, 'x').ast.decls.find((d) => d.kind === 'LetDecl');
    assert.equal(decl?.doc, 'The answer.');
  });

  it('keeps a blank line between a header comment and the first declaration', () => {
    const out = format(`// header\n\n${INPUT}`);
    assert.ok(out.startsWith('// header\n\ninput {'), out);
  });

  it('keeps comments inside object types and input fields', () => {
    const lines = fmt(`input {\n  // the action\n  action: { kind: string /* k */, tool?: string } // trailing\n}\n`);
    assert.equal(lineWith(lines, '// the action'), '  // the action');
    assert.equal(lineWith(lines, '// trailing').trim().endsWith('} // trailing'), true);
  });

  it('keeps comments at the end of the file', () => {
    fmt(`${INPUT}let a = 1\n\n// bye\n/* really */\n`);
    assert.ok(format(`${INPUT}let a = 1\n\n// bye\n/* really */\n`).endsWith('let a = 1\n\n// bye\n/* really */\n'));
  });

  it('keeps multi-line block comments verbatim', () => {
    const src = `${INPUT}/*\n   * keep\n       * my layout\n */\nlet a = 1\n`;
    assert.ok(format(src).includes('/*\n   * keep\n       * my layout\n */\nlet a = 1'));
  });

  it('keeps comments in budgets and tests', () => {
    fmt(
      `${INPUT}budget b { limit $5 /* money */ per /* w */ day // daily\n charge 1 on /* x */ exceed deny }\n` +
        `test "t" { given { action: { kind: "x" } } // g\n expect /* e */ deny by /* n */ b }\n`,
    );
  });
});
