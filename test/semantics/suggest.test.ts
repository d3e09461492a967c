import assert from 'node:assert/strict';
import { editDistance, suggest } from '../../language/semantics/suggest.js';

describe('did-you-mean suggestions', () => {
  it('counts an adjacent transposition as one edit', () => {
    assert.equal(editDistance('actoin', 'action'), 1);
    assert.equal(editDistance('tool_cal', 'tool_call'), 1);
    assert.equal(editDistance('abc', 'abc'), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('suggests the closest name within a length-dependent threshold', () => {
    assert.equal(suggest('blocked_tool', ['blocked_tools', 'blocked_models']), 'blocked_tools');
    assert.equal(suggest('actoin', ['agent', 'action', 'data']), 'action');
    assert.equal(suggest('Action', ['action']), 'action');
    assert.equal(suggest('xyz', ['action', 'agent']), undefined);
    assert.equal(suggest('ab', ['xy']), undefined);
    assert.equal(suggest('same', ['same']), undefined);
  });
});
