// Issue 11 §4: time arithmetic out of range failed open (NaN hours, every comparison false).
import assert from 'node:assert/strict';
import { compile } from '../../language/index.js';

const SRC = `policy p { default allow }
input { wait?: duration, at?: time }
rule after_hours {
  when hour(now + (wait ?? 0s)) < 9 or hour(now + (wait ?? 0s)) >= 17
  deny "outside business hours"
}
`;
const engines = [true, false].map((codegen) => ({ codegen, policy: compile({ 'p.rein': SRC }, { codegen }) }));
const NIGHT = Date.UTC(2026, 0, 5, 23);

describe('time and duration ranges', () => {
  it('a duration beyond the time range is a validation error (numbers and text), both backends', () => {
    for (const { codegen, policy } of engines) {
      for (const wait of [8.64e15 + 1, 1e300, '200000000000000000d', Infinity, -1]) {
        const d = policy.evaluate({ wait }, { now: NIGHT });
        assert.equal(d.effect, 'deny', `codegen=${codegen} wait=${wait}`);
        assert.equal(d.request_hash, null, `codegen=${codegen} wait=${wait}: invalid request`);
        assert.deepEqual(d.errors?.map((e) => (e as { path?: string }).path), ['$.wait']);
      }
      // The largest duration is still valid input.
      assert.notEqual(policy.evaluate({ wait: 1000 }, { now: NIGHT }).request_hash, null);
    }
  });

  it('arithmetic that leaves the time range is a rule error (the on error path), not a silent non-match', () => {
    for (const { codegen, policy } of engines) {
      // Valid input (8.64e15 ms is the largest duration), but now + wait leaves the Date range.
      const d = policy.evaluate({ wait: 8.64e15 }, { now: NIGHT });
      assert.notEqual(d.request_hash, null);
      assert.equal(d.effect, 'deny', `codegen=${codegen}`);
      const err = d.errors?.find((e) => e.kind === 'rule');
      assert.ok(err, `codegen=${codegen}: a rule error`);
      assert.match(err.message, /time is outside the supported range/);
    }
  });

  it('an on error allow policy still reports the error', () => {
    const p = compile({ 'p.rein': SRC.replace('default allow', 'default allow\n  on error allow') });
    const d = p.evaluate({ wait: 8.64e15 }, { now: NIGHT });
    assert.equal(d.effect, 'allow');
    assert.equal(d.errors?.[0]?.kind, 'rule');
  });
});
