// The lexer is built with Chevrotain's validations off (they cost start-up time in every CLI run):
// this test builds it with them on, so a bad token definition still fails the suite.
import { strict as assert } from 'node:assert';
import { Lexer } from 'chevrotain';
import { allTokens } from '../../language/syntax/lexer.js';

describe('lexer definition', () => {
  it('passes Chevrotain\'s validations', () => {
    const lexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', skipValidations: false });
    assert.deepEqual(lexer.lexerDefinitionErrors, []);
  });

  // The packaged build replaces Chevrotain's regular-expression analyser (@chevrotain/regexp-to-ast)
  // with a stub (scripts/build.mjs): the lexer only needs it to find the first characters of a token
  // pattern that has no `start_chars_hint`. Every pattern names them, so the first-character
  // optimisation holds without it, and a token added without a hint fails here.
  it('every token with a pattern gives its first characters (start_chars_hint), and they are right', () => {
    const missing = allTokens.filter((t) => t.PATTERN !== Lexer.NA && typeof t.PATTERN !== 'string' && !Array.isArray(t.START_CHARS_HINT)).map((t) => t.name);
    assert.deepEqual(missing, []);
    // Each RegExp pattern's hint has every character the pattern can start with (a missing one would
    // make the lexer skip the token there): tried on every UTF-16 code unit, with a tail that lets each
    // pattern go on.
    for (const t of allTokens) {
      if (!(t.PATTERN instanceof RegExp) || t.PATTERN === Lexer.NA) continue;
      const hinted = new Set((t.START_CHARS_HINT as (string | number)[]).map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c)));
      const anchored = new RegExp('^(?:' + t.PATTERN.source + ')', t.PATTERN.flags.replace('g', ''));
      for (let code = 0; code < 0x10000; code++) {
        const ch = String.fromCharCode(code);
        const can = anchored.test(ch + 'a0_x1');
        if (can) assert.ok(hinted.has(code), `${t.name} can start with U+${code.toString(16)} but its hint does not say so`);
      }
    }
  });
});

describe('string escapes', () => {
  it('a regular-expression escape in a string literal (\\s) is REIN103 with the hint to double the backslash', async () => {
    const { parse } = await import('../../language/syntax/parser.js');
    const r = parse('policy p {}\ninput { s: string }\nrule r {\n  when s matches "\\s+"\n  deny "x"\n}\n');
    const d = r.diagnostics.find((x) => x.code === 'REIN103');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.message, 'unknown escape `\\s`');
    assert.match(d.help ?? '', /in a regular expression write `\\\\s` \(a string literal needs the backslash doubled\)/);
    const other = parse('policy p {}\ninput { s: string }\nlet x = "\\q"\n').diagnostics.find((x) => x.code === 'REIN103');
    assert.doesNotMatch(other?.help ?? '', /regular expression/);
  });
});
