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
