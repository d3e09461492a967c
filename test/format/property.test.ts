// Property tests: for a few hundred random valid programs with random layout and comments, the
// formatter is idempotent, keeps the AST and keeps every comment. A second family re-lays-out the
// known-good sources (examples, fixtures) by re-spacing and re-indenting every line.

import { strict as assert } from 'node:assert';
import { format } from '../../language/format/format.js';
import { parse } from '../../language/syntax/parser.js';
import { isError } from '../../language/diagnostics.js';
import { commentTexts, corpus, stripAst } from './helpers.js';
import { randomProgram, rng } from './generator.js';

const RUNS = Number(process.env.FORMAT_PROPERTY_RUNS ?? 300);

/** Checks the invariants for one source; returns false (checking nothing) when the source does not parse. */
function check(label: string, src: string): boolean {
  const parsed = parse(src, 'random.rein');
  if (parsed.diagnostics.some(isError)) return false;
  const once = format(src);
  const reparsed = parse(once, 'random.rein');
  assert.deepEqual(reparsed.diagnostics.filter(isError), [], `${label}: formatted output does not parse:\n${once}`);
  assert.deepEqual(stripAst(reparsed.ast), stripAst(parsed.ast), `${label}: AST changed.\n--- input\n${src}\n--- output\n${once}`);
  assert.deepEqual(commentTexts(reparsed.ast), commentTexts(parsed.ast), `${label}: comments changed:\n${once}`);
  const twice = format(once);
  assert.equal(twice, once, `${label}: not idempotent.\n--- input\n${src}`);
  return true;
}

/** Re-lays-out a source: random indentation per line, random extra spaces around punctuation outside strings and comments. */
function respace(src: string, seed: number): string {
  const r = rng(seed);
  const { ast } = parse(src, 'x');
  // positions inside comments and strings must not be touched: collect protected ranges
  const protectedRanges: [number, number][] = ast.comments.map((c) => [c.range.start.offset, c.range.end.offset]);
  let out = '';
  let i = 0;
  const isProtected = (o: number) => protectedRanges.some(([a, b]) => o >= a && o < b);
  let inString = false;
  while (i < src.length) {
    const c = src[i];
    if (!isProtected(i)) {
      if (c === '"' && src[i - 1] !== '\\') inString = !inString;
      if (!inString) {
        if (c === '\n') {
          out += '\n' + ' '.repeat(Math.floor(r() * 8));
          i++;
          while (src[i] === ' ') i++;
          continue;
        }
        if (',:[]{}()'.includes(c) && r() < 0.5) {
          out += (r() < 0.5 ? ' ' : '') + c + (r() < 0.5 ? ' ' : '  ');
          i++;
          continue;
        }
      }
    }
    out += c;
    i++;
  }
  return out;
}

describe('format: property tests', () => {
  it(`random programs (${RUNS}) are formatted idempotently without changing the AST or comments`, function () {
    this.timeout(120_000);
    let valid = 0;
    for (let seed = 1; seed <= RUNS; seed++) if (check(`seed ${seed}`, randomProgram(seed))) valid++;
    // the generator aims at valid programs; a few random layouts hit parser corner cases
    assert.ok(valid >= RUNS * 0.6, `only ${valid} of ${RUNS} generated programs parse`);
  });

  it('re-spaced and re-indented known-good sources format to the same text as the originals', function () {
    this.timeout(120_000);
    const files = corpus().filter((f) => !/\/\*/.test(f.text)); // multi-line block comments would move
    assert.ok(files.length > 0);
    let seed = 1000;
    for (const f of files) {
      const canonical = format(f.text);
      for (let k = 0; k < 3; k++) {
        const variant = respace(f.text, seed++);
        if (!check(`${f.name} variant ${k}`, variant)) continue;
        // re-indenting and re-spacing never changes the canonical form, except where it creates or
        // removes blank lines (it does not) or moves comments (it does not)
        assert.equal(format(variant), canonical, `${f.name} variant ${k} formats differently`);
      }
    }
  });
});
