// The formatter's invariants over every real source we have: idempotent, AST-preserving, keeps
// every comment, and (once the checker exists) the same diagnostics before and after.
// The corpus is globbed at test time: every `.rein` under examples/ and test/fixtures/ that parses
// without errors, the `rein` snippets of the language reference (test/fixtures/format/spec-snippets)
// and the `rein` code blocks of docs/*.md.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { format } from '../../language/format/format.js';
import { parse } from '../../language/syntax/parser.js';
import { ROOT, commentTexts, corpus, findFiles, markdownSnippets, parsesCleanly, rel, stripAst } from './helpers.js';

interface Source {
  name: string;
  text: string;
}

function sources(): Source[] {
  const out: Source[] = corpus();
  for (const md of findFiles(join(ROOT, 'docs'), '.md')) {
    markdownSnippets(md).forEach((text, i) => {
      if (parsesCleanly(text)) out.push({ name: `${rel(md)} snippet ${i + 1}`, text });
    });
  }
  return out;
}

/** Asserts format is idempotent, keeps the AST (modulo positions) and keeps every comment. */
export function assertInvariants(name: string, text: string): string {
  const once = format(text, { file: name });
  const twice = format(once, { file: name });
  assert.equal(twice, once, `${name}: formatting is not idempotent`);
  const before = parse(text.replace(/\r\n/g, '\n'), name).ast;
  const after = parse(once, name).ast;
  assert.deepEqual(stripAst(after), stripAst(before), `${name}: formatting changed the AST`);
  assert.deepEqual(commentTexts(after), commentTexts(before), `${name}: comments changed`);
  assert.ok(once.endsWith('\n') && !once.endsWith('\n\n'), `${name}: output must end with exactly one newline`);
  assert.ok(!/[ \t]+\n/.test(once.replace(/\/\*[\s\S]*?\*\//g, 'C')), `${name}: trailing whitespace`);
  return once;
}

describe('format: invariants over examples, fixtures and documentation snippets', () => {
  const all = sources();

  it('finds a corpus to check', () => {
    assert.ok(all.length >= 10, `only ${all.length} sources parse cleanly`);
    assert.ok(all.some((s) => s.name.startsWith('examples')), 'no example file in the corpus');
    assert.ok(all.some((s) => s.name.includes('spec-snippets')), 'no language reference snippet in the corpus');
  });

  for (const s of all) {
    it(`${s.name}: idempotent, same AST, same comments`, () => {
      assertInvariants(s.name, s.text);
    });
  }
});

// The examples are what users copy: they are kept in canonical form, so `rein fmt --check examples`
// passes on a fresh checkout (examples/support-agent/tests.rein had drifted after a later edit).
describe('format: the examples are formatted', () => {
  for (const s of corpus().filter((c) => c.name.startsWith('examples'))) {
    it(`${s.name} is in canonical form`, () => {
      assert.equal(format(s.text, { file: s.name }), s.text.replace(/\r\n/g, '\n'), `${s.name}: run \`rein fmt --write ${s.name}\``);
    });
  }
});
