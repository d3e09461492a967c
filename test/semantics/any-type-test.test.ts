// Issue 11 §6: on an `any` field, `cmd.contains("rm -rf")` silently did not match when the command
// came as a list or a number. `type_of(x)` lets a rule handle each shape, a string method on a
// non-string `any` value fails the rule (the `on error` path), and REIN307 warns at check time.
import assert from 'node:assert/strict';
import { check, compile } from '../../language/index.js';

const head = 'policy p { default allow }\ninput { action: { args?: map<any>, tool?: string } }\n';

describe('any: type tests and fail-closed methods', () => {
  it('type_of gives the shape of a value, on both backends', () => {
    const src = `${head}rule r { when type_of(action.args.cmd) == "list" deny "a list" }\n`;
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': src }, { codegen });
      assert.equal(p.evaluate({ action: { args: { cmd: ['bash'] } } }).effect, 'deny');
      assert.equal(p.evaluate({ action: { args: { cmd: 'bash' } } }).effect, 'allow');
    }
  });

  it('a typo in the compared type name is an error (the result is an enum)', () => {
    const d = check({ 'p.rein': `${head}rule r { when type_of(action.args.cmd) == "lsit" deny "x" }\n` }).diagnostics;
    assert.ok(d.some((x) => x.severity === 'error'), JSON.stringify(d.map((x) => x.message)));
  });

  it('a string method on a number or map fails the rule: the decision takes the on error effect', () => {
    const src = `${head}rule no_rm { when action.args.cmd.contains("rm -rf") deny "destructive" }\n`;
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': src }, { codegen });
      for (const cmd of [42, { sh: 'rm -rf /' }, true]) {
        const d = p.evaluate({ action: { args: { cmd } } });
        assert.equal(d.effect, 'deny', `codegen=${codegen} cmd=${JSON.stringify(cmd)}`);
        assert.match(d.errors?.[0]?.message ?? '', /`\.contains\(\)` needs a string, got (number|map|bool)/);
      }
      // null / absent still reads as null (the documented null rules), and a string works.
      assert.equal(p.evaluate({ action: { args: {} } }).effect, 'allow');
      assert.equal(p.evaluate({ action: { args: { cmd: 'rm -rf /' } } }).effect, 'deny');
    }
  });

  it('a list method on a string fails the rule instead of a vacuous `all` or a silent `any`', () => {
    const src = `${head}rule r { unless action.args.xs.all(x => x == "ok") deny "not all ok" }\n`;
    for (const codegen of [true, false]) {
      const d = compile({ 'p.rein': src }, { codegen }).evaluate({ action: { args: { xs: 'not a list' } } });
      assert.equal(d.effect, 'deny');
      assert.match(d.errors?.[0]?.message ?? '', /`\.all\(\)` needs a list, got string/);
    }
  });

  it('the safe way to write it handles both shapes', () => {
    const src = `${head}rule no_rm {
  when (type_of(action.args.cmd) == "string" and action.args.cmd.contains("rm -rf"))
    or (type_of(action.args.cmd) == "list" and action.args.cmd.any(a => type_of(a) == "string" and a.contains("rm -rf")))
  deny "destructive"
}
`;
    assert.deepEqual(check({ 'p.rein': src }).diagnostics.map((d) => d.code), []);
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': src }, { codegen });
      assert.equal(p.evaluate({ action: { args: { cmd: ['bash', '-c', 'rm -rf /'] } } }).effect, 'deny');
      assert.equal(p.evaluate({ action: { args: { cmd: 'rm -rf /' } } }).effect, 'deny');
      assert.equal(p.evaluate({ action: { args: { cmd: ['ls'] } } }).effect, 'allow');
      assert.deepEqual(p.evaluate({ action: { args: { cmd: 7 } } }).errors ?? [], []);
    }
  });

  it('REIN307 warns on a method call on `any` in a deny or approval rule without a type test', () => {
    const warn = (body: string) => check({ 'p.rein': head + body }).diagnostics.filter((d) => d.code === 'REIN307');
    assert.equal(warn('rule r { when action.args.cmd.contains("rm -rf") deny "x" }\n').length, 1);
    assert.equal(warn('rule r { when action.args.cmd.lower() == "x" require approval from "lead" "x" }\n').length, 1);
    assert.match(warn('rule r { when action.args.cmd.contains("rm") deny "x" }\n')[0].message, /`action.args.cmd` is `any`/);
    // With a type test in the rule, on other rule kinds, and on typed values: no warning.
    assert.equal(warn('rule r { when type_of(action.args.cmd) == "string"\n when action.args.cmd.contains("rm") deny "x" }\n').length, 0);
    assert.equal(warn('rule r { when action.args.cmd.contains("rm") warn "x" }\n').length, 0);
    assert.equal(warn('rule r { when (action.tool ?? "").contains("rm") deny "x" }\n').length, 0);
  });
});
