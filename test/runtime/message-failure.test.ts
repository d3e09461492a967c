// A rule whose conditions held and whose *message* failed at run time (regression, session 13 review
// L9). Under `on error allow` the failure counted as a failed rule with the `on error` effect: the
// matched `deny` became an allow (and a `require approval` was skipped) whenever the agent sent a
// value of another type into the message (`${args.cmd.lower()}` with `"cmd": 5`). Decorating a
// message must never un-deny a rule (docs/externs.md "Failures" already said it for an extern call):
// the rule stands with its effect and the message `rule NAME matched; its message failed (see
// errors)`, the failure goes into `errors`. Under `on error deny` a failing message still fails the
// rule (deny). Every backend: generated code, closures, the fused decide, explain, the Engine.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import type { Decision } from '../../language/runtime/decision.js';

const SRC = `policy msgerr { default allow  on error allow }
input { tool: string, args: map<any> }
rule no_shell { when tool == "shell" deny "shell blocked (cmd \${args.cmd.lower()}, \${100 / (args.n ?? 1)})" }
rule ask { when tool == "pay" require approval from "fin" "pay \${args.amount.upper()}" }
rule ask_group { when tool == "wire" require approval from args.group "wire \${args.amount.upper()}" }
rule fine { when tool == "read" allow "read \${args.path.lower()}" }
rule broken_when { when tool == "calc" and 10 / (args.n ?? 1) > 2 deny "small n" }
`;

interface Row {
  what: string;
  req: Record<string, unknown>;
  effect: string;
  reasons: [string, string, string][];
  approvals?: (string | null)[];
  errors: RegExp[];
}
const FAILED = (n: string) => `rule \`${n}\` matched; its message failed (see errors)`;
const ROWS: Row[] = [
  { what: 'deny stands when its message calls a method on the wrong type', req: { tool: 'shell', args: { cmd: 5 } }, effect: 'deny', reasons: [['no_shell', 'deny', FAILED('no_shell')]], errors: [/`\.lower\(\)` needs a string, got number/] },
  { what: 'deny stands when its message divides by zero', req: { tool: 'shell', args: { cmd: 'LS', n: 0 } }, effect: 'deny', reasons: [['no_shell', 'deny', FAILED('no_shell')]], errors: [/division by zero/] },
  { what: 'a message that renders is unchanged', req: { tool: 'shell', args: { cmd: 'LS', n: 4 } }, effect: 'deny', reasons: [['no_shell', 'deny', 'shell blocked (cmd ls, 25)']], errors: [] },
  { what: 'an approval is still asked, of its group', req: { tool: 'pay', args: { amount: 5 } }, effect: 'require_approval', reasons: [['ask', 'require_approval', FAILED('ask')]], approvals: ['fin'], errors: [/`\.upper\(\)` needs a string/] },
  { what: 'the approver computed after a failing message is still its group', req: { tool: 'wire', args: { amount: 5, group: 'treasury' } }, effect: 'require_approval', reasons: [['ask_group', 'require_approval', FAILED('ask_group')]], approvals: ['treasury'], errors: [/`\.upper\(\)` needs a string/] },
  // an unknown approver: the rule fails with `on error` (as documented for `from`): here allow
  { what: 'an approver that fails still fails the rule', req: { tool: 'wire', args: { amount: 'X', group: 5 } }, effect: 'allow', reasons: [['ask_group', 'allow', 'rule `ask_group` failed: `require approval from` needs a string, got number']], errors: [/needs a string, got number/] },
  { what: 'an allow rule stands as allow', req: { tool: 'read', args: { path: 7 } }, effect: 'allow', reasons: [['fine', 'allow', FAILED('fine')]], errors: [/`\.lower\(\)` needs a string/] },
  { what: 'a failing condition still counts with `on error`', req: { tool: 'calc', args: { n: 0 } }, effect: 'allow', reasons: [['broken_when', 'allow', 'rule `broken_when` failed: division by zero at p.rein:7:44']], errors: [/division by zero/] },
];

function shape(d: Decision) {
  return {
    effect: d.effect,
    reasons: d.reasons.map((r) => [r.name, r.effect, r.message]),
    approvals: d.approvals.map((a) => a.from ?? null),
    errors: d.errors.map((e) => e.message),
  };
}

function check(d: Decision, row: Row): void {
  const s = shape(d);
  assert.equal(s.effect, row.effect, `${row.what}: ${JSON.stringify(s)}`);
  assert.deepEqual(s.reasons, row.reasons, row.what);
  if (row.approvals) assert.deepEqual(s.approvals, row.approvals, row.what);
  assert.equal(s.errors.length, row.errors.length, `${row.what}: ${JSON.stringify(s.errors)}`);
  row.errors.forEach((re, i) => assert.match(s.errors[i]!, re, row.what));
}

describe('a rule whose message fails after its conditions held (regression, session 13 review L9)', () => {
  for (const codegen of [true, false]) {
    const p = compile({ 'p.rein': SRC }, { codegen });
    for (const row of ROWS) {
      it(`${codegen ? 'generated code' : 'closures'}: ${row.what}`, async () => {
        check(p.evaluate(row.req), row);
        check(p.evaluate(row.req, { explain: true }), row);
        check(await new Engine(p).decide(row.req), row);
      });
    }
  }

  it('under `on error deny` a failing message fails the rule (deny), as before', async () => {
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': SRC.replace('on error allow', 'on error deny') }, { codegen });
      for (const req of [{ tool: 'read', args: { path: 7 } }, { tool: 'shell', args: { cmd: 5 } }]) {
        for (const d of [p.evaluate(req), await new Engine(p).decide(req)]) {
          assert.equal(d.effect, 'deny');
          assert.equal(d.reasons[0]!.kind, 'error');
          assert.match(d.reasons[0]!.message ?? '', /failed: `\.lower\(\)` needs a string/);
        }
      }
    }
  });

  it('under `combine first_match` a rule whose message failed decides in its place', () => {
    const src = SRC.replace('on error allow', 'on error allow  combine first_match') + 'rule later { when tool == "shell" allow "later" }\n';
    for (const codegen of [true, false]) {
      const d = compile({ 'p.rein': src }, { codegen }).evaluate({ tool: 'shell', args: { cmd: 5 } });
      assert.equal(d.effect, 'deny');
      assert.deepEqual(d.reasons.map((r) => r.name), ['no_shell']);
      assert.equal(d.errors.length, 1);
    }
  });
});
