// phases.ts: which MCP phases a policy's rules and budgets can match, and whether its list-phase
// decision depends on the request alone. The gateway skips work on these facts, so a wrong "cannot
// match" would skip a decision a policy needs: every case that must stay "can match" is here too.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { compile } from '../../language/policy.js';
import { listOnlyApprovals, phaseFacts } from '../../language/node/mcp/phases.js';
import { MCP_INPUT_SCHEMA } from '../../language/node/mcp/schema.js';
import { loadChecked } from '../../language/node/mcp/host.js';
import { FIXTURES, ROOT } from './helpers.js';

function facts(rules: string) {
  const p = compile({ 'schema.rein': MCP_INPUT_SCHEMA, 'rules.rein': `policy t { default allow  on error deny }\n${rules}` });
  return phaseFacts(p.compiled.ir);
}

const ctx = { io: { cwd: ROOT }, err: () => undefined };

describe('listOnlyApprovals (review h10r F12: a list-phase approval never asks anyone)', () => {
  it('names the approval rules that can match only the list phase', () => {
    const p = compile({
      'schema.rein': MCP_INPUT_SCHEMA,
      'rules.rein': `policy t { default allow  on error deny }
rule list_only { when phase == "list" and tool.name == "echo" require approval from "user" "echo" }
rule any_phase { when tool.name == "pay" require approval from "user" "pay" }
rule call_phase { when phase == "call" and tool.name == "x" require approval "x" }
rule list_deny { when phase == "list" and tool.name == "y" deny "y" }
rule list_in { when phase in ["list"] require approval "z" }`,
    });
    assert.deepEqual(listOnlyApprovals(p.compiled.ir), ['list_only', 'list_in']);
  });
});

describe('phaseFacts (what a policy can do in each MCP phase)', () => {
  it('a policy without rules or budgets matches no phase, and its list phase is stable', () => {
    assert.deepEqual(facts(''), { canMatch: { list: false, call: false, result: false }, listStable: true });
  });

  it('phase tests in the forms people write exclude the other phases', () => {
    const cases: [string, { list: boolean; call: boolean; result: boolean }][] = [
      ['when phase == "call" and tool.name == "x"', { list: false, call: true, result: false }],
      ['when "result" == phase', { list: false, call: false, result: true }],
      ['when phase != "result"', { list: true, call: true, result: false }],
      ['when phase in ["list", "call"]', { list: true, call: true, result: false }],
      ['when not (phase == "list")', { list: false, call: true, result: true }],
      ['when phase == "call" or phase == "list"', { list: true, call: true, result: false }],
      // A harmless condition before the phase test (reads, constants, ==): still excluded.
      ['when tool.name == "echo" and phase == "call"', { list: false, call: true, result: false }],
      // Two when clauses: the second one's phase test counts after a harmless first one.
      ['when tool.name == "echo"\n  when phase == "result"', { list: false, call: false, result: true }],
    ];
    for (const [when, expected] of cases) assert.deepEqual(facts(`rule r {\n  ${when}\n  deny "no"\n}`).canMatch, expected, when);
  });

  it('stays "can match" whenever it cannot be sure', () => {
    const cases = [
      // No phase test.
      'when tool.name == "move_file"',
      // A condition that can fail at run time comes first: in the excluded phase it may still give the `on error` effect.
      'when secrets.any(result.text ?? "") and phase == "call"',
      'when len(arguments) > 2 and phase == "call"',
      // The phase read through a let or a def is not followed.
      'when is_call',
      // `unless` clauses are not analysed.
      'unless phase == "result"',
      // A phase test that holds in every phase.
      'when phase == "call" or true',
    ];
    for (const when of cases) {
      const f = facts(`let is_call = phase == "call"\nrule r {\n  ${when}\n  deny "no"\n}`);
      assert.deepEqual(f.canMatch, { list: true, call: true, result: true }, when);
    }
  });

  it('budgets count like rules; one that can match the list phase makes it unstable', () => {
    const scoped = facts('budget b {\n  limit 10 per hour\n  charge 1\n  when phase == "call"\n  on exceed deny\n}');
    assert.deepEqual(scoped, { canMatch: { list: false, call: true, result: false }, listStable: true });
    const everywhere = facts('budget b {\n  limit 10 per hour\n  charge 1\n  on exceed deny\n}');
    assert.deepEqual(everywhere, { canMatch: { list: true, call: true, result: true }, listStable: false });
  });

  it('a rule that can match the list phase and reads the time (here, through a let or a def) makes it unstable', () => {
    assert.equal(facts('rule late {\n  when hour(now) >= 22\n  deny "too late"\n}').listStable, false);
    assert.equal(facts('let late = hour(now) >= 22\nrule r {\n  when late\n  deny "too late"\n}').listStable, false);
    assert.equal(facts('def late(h: int): bool = hour(now) >= h\nrule r {\n  when late(22)\n  deny "too late"\n}').listStable, false);
    // Only in the call phase: the list phase cannot see it.
    assert.equal(facts('rule late {\n  when phase == "call" and hour(now) >= 22\n  deny "too late"\n}').listStable, true);
    // A budget view read by a list-phase rule.
    const reads = facts('budget b {\n  limit 10 per hour\n  charge 1\n  when phase == "call"\n  on exceed deny\n}\nrule r {\n  when (b.used ?? 0) > 5\n  deny "busy"\n}');
    assert.equal(reads.listStable, false);
  });

  it('a rule that can match the list phase and calls an extern makes it unstable: a kill switch reaches running sessions (review h12r1 P10)', () => {
    const ext = 'extern def switched_off(tool: string): bool\n';
    assert.equal(facts(`${ext}rule kill_switch {\n  when phase == "list" and switched_off(tool.name)\n  deny "off"\n}`).listStable, false);
    assert.equal(facts(`${ext}def off(t: string): bool = switched_off(t)\nrule r {\n  when off(tool.name)\n  deny "off"\n}`).listStable, false);
    // only in the call phase: the list phase is still stable
    assert.equal(facts(`${ext}rule r {\n  when phase == "call" and switched_off(tool.name)\n  deny "off"\n}`).listStable, true);
  });

  it('the shipped fixtures and the worked example', async () => {
    const everything = (await loadChecked(ctx, path.join(FIXTURES, 'everything')))!;
    assert.deepEqual(phaseFacts(everything.compiled.ir), { canMatch: { list: false, call: true, result: true }, listStable: true });
    const example = (await loadChecked(ctx, path.join(ROOT, 'examples/mcp-filesystem')))!;
    // no_move has no phase test: every phase; its budgets are scoped to the call phase.
    assert.deepEqual(phaseFacts(example.compiled.ir), { canMatch: { list: true, call: true, result: true }, listStable: true });
  });

  it('without an IR (a hand-made compiled policy) everything can match', () => {
    assert.deepEqual(phaseFacts(undefined), { canMatch: { list: true, call: true, result: true }, listStable: false });
  });
});
