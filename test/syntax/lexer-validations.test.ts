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
