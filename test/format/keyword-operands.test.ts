// Regression (review h12r2 T2): input fields may be named by a declaration keyword (`type`, `rule`,
// `let`, …). When the formatter breaks a list or an argument list one item per line, a line can start
// with such a name and an operator word (`type in […]`); the parser read it as a new declaration
// (`type in = …`, a rule named `in`) and `rein fmt --write` turned a valid policy into syntax errors.

import { strict as assert } from 'node:assert';
import { format } from '../../language/format/format.js';
import { parse } from '../../language/syntax/parser.js';
import { isError } from '../../language/diagnostics.js';
import { commentTexts, stripAst } from './helpers.js';

const DECL_KEYWORDS = ['policy', 'input', 'type', 'let', 'def', 'extern', 'rule', 'budget', 'test', 'data'];
const LONG = `"${'a'.repeat(30)}"`;
/** Every reserved word that can follow an operand, with a right-hand side. */
const OPS: [string, string][] = [
  ['in', `[${LONG}]`],
  ['not in', `[${LONG}]`],
  ['and', 'b'.repeat(30)],
  ['or', 'b'.repeat(30)],
  ['matches', LONG],
  ['with', `{ a: ${LONG} }`],
];

/** Formats `src` and checks it still parses, to the same tree and comments, and is idempotent. */
function roundTrip(src: string): string {
  const before = parse(src, 'x.rein');
  assert.deepEqual(before.diagnostics.filter(isError).map((d) => d.message), [], `the source must parse:\n${src}`);
  const out = format(src);
  const after = parse(out, 'x.rein');
  assert.deepEqual(after.diagnostics.filter(isError).map((d) => d.message), [], `the formatted text must parse:\n${out}`);
  assert.deepEqual(stripAst(after.ast), stripAst(before.ast), `formatting changed the tree:\n${out}`);
  assert.deepEqual(commentTexts(after.ast), commentTexts(before.ast));
  assert.equal(format(out), out, `not idempotent:\n${out}`);
  return out;
}

describe('format: a line that starts with a declaration keyword used as an operand', () => {
  it('the reviewer’s policy formats to text that parses to the same tree', () => {
    const out = roundTrip(`input { type: string, rule: string }
rule r1 {
  when [type in ["aaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbb"], rule in ["ccccccccccccccccccccccccccccccccc"]].any(x => x)
  deny "blocked"
}
`);
    assert.match(out, /^ {4}type in \[/m);
    assert.match(out, /^ {4}rule in \[/m);
  });

  it('every declaration keyword × operator word, first on a line of a broken list and of broken call arguments', () => {
    let lines = 0;
    for (const k of DECL_KEYWORDS) {
      for (const [op, rhs] of OPS) {
        const item = `${k} ${op} ${rhs}`;
        const list = roundTrip(`rule r { when [${item}, ${item}, ${item}].any(x => x) deny "m" }\nlet after = 1\n`);
        const call = roundTrip(`let d = f(${item}, ${item}, ${item})\nlet after = 1\n`);
        for (const out of [list, call]) {
          const starts = out.split('\n').filter((l) => l.trimStart().startsWith(`${k} ${op} `));
          assert.equal(starts.length, 3, `each item on its own line:\n${out}`);
          lines += starts.length;
        }
      }
    }
    assert.equal(lines, DECL_KEYWORDS.length * OPS.length * 2 * 3);
  });
});
