// `in` / `not in` with an `any` value on the right (review h10r F9): LANGUAGE §4 defines `in` on lists
// (membership) and maps (keys). A string on the right was a substring test and a number or bool a
// silent `false` (so `x not in args.blocklist` allowed everything when the blocklist came as 5). Now
// both are rule errors, as for the other operators on a wrong-shaped `any` (on error applies);
// `null` on either side is still `false`. Both backends, evaluate and Engine.decide.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';

const SRC = `policy p { default allow  on error deny }
input { args: map<any> }
rule blocked { when "rm" in args.cmd deny "rm" }
rule not_allowed { when "ls" not in args.allowed deny "not allowed" }
`;

describe('`in` on an any value', () => {
  for (const codegen of [true, false]) {
    it(`a string, number or bool on the right is a rule error, lists and maps work, null is false (${codegen ? 'generated' : 'closures'})`, async () => {
      const p = compile({ 'a.rein': SRC }, { codegen });
      const e = new Engine(p);
      const cases: [Record<string, unknown>, string, string[]][] = [
        [{ cmd: ['rm', '-rf'], allowed: ['ls'] }, 'deny', ['blocked']],
        [{ cmd: { rm: 1 }, allowed: { ls: true } }, 'deny', ['blocked']],
        [{ cmd: ['ls'], allowed: ['ls', 'cat'] }, 'allow', []],
        [{ cmd: null, allowed: null }, 'deny', ['not_allowed']],
        [{ cmd: 'rm -rf /', allowed: ['ls'] }, 'deny', []],
        [{ cmd: ['x'], allowed: 'ls,cat' }, 'deny', []],
        [{ cmd: ['x'], allowed: 5 }, 'deny', []],
        [{ cmd: true, allowed: ['ls'] }, 'deny', []],
      ];
      for (const [args, effect, rules] of cases) {
        for (const d of [p.evaluate({ args }), await e.decide({ args })]) {
          assert.equal(d.effect, effect, JSON.stringify(args));
          assert.deepEqual(d.reasons.filter((r) => r.kind === 'rule').map((r) => r.name), rules, JSON.stringify(args));
        }
      }
      const s = p.evaluate({ args: { cmd: 'rm -rf /', allowed: ['ls'] } });
      assert.deepEqual(s.errors.map((x) => [x.name, x.message]), [['blocked', '`in` needs a list or a map on the right, got a string (for substrings use `.contains()`)']]);
      const n = p.evaluate({ args: { cmd: ['x'], allowed: 5 } });
      assert.deepEqual(n.errors.map((x) => [x.name, x.message]), [['not_allowed', '`in` needs a list or a map on the right, got a number']]);
    });
  }
});
