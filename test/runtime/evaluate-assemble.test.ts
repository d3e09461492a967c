import assert from 'node:assert/strict';
import { assembleDecision, decisionToJSON, type AssembleInput, type BudgetOutcome } from '../../language/runtime/decision.js';
import { decisionJsonSchema, decisionSchema } from '../../language/runtime/decision-schema.js';
import type { ClauseEffect, RuleOutcome } from '../../language/runtime/compiled.js';

const loc = { file: 'p.rein', line: 1, column: 1 };
function rule(name: string, effect: ClauseEffect, extra: Partial<RuleOutcome> = {}): RuleOutcome {
  return { name, matched: true, effect, monitor: false, annotations: {}, location: loc, message: `${name} says ${effect}`, ...extra };
}
function assemble(over: Partial<AssembleInput>) {
  const d = assembleDecision({
    policy: { name: 'p', version: '1', hash: 'sha256:00' },
    defaultEffect: 'allow',
    onError: 'deny',
    rules: [],
    requestHash: 'sha256:req',
    time: Date.UTC(2026, 0, 5),
    ...over,
  });
  decisionSchema.parse(JSON.parse(JSON.stringify(d)));
  return d;
}
const names = (xs: { name?: string }[]) => xs.map((x) => x.name);

describe('decision assembly', () => {
  it('deny beats require_approval beats allow', () => {
    const d = assemble({ rules: [rule('a', 'allow'), rule('r', 'require_approval', { from: 'finance' }), rule('d', 'deny'), rule('w', 'warn')] });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(names(d.reasons), ['d']);
    assert.deepEqual(d.approvals.map((a) => [a.name, a.from]), [['r', 'finance']], 'approvals listed even when denied');
    assert.deepEqual(names(d.warnings), ['w']);
  });
  it('require_approval when nothing denies', () => {
    const d = assemble({ rules: [rule('a', 'allow'), rule('r', 'require_approval')] });
    assert.equal(d.effect, 'require_approval');
    assert.deepEqual(names(d.reasons), ['r']);
  });
  it('a granted approval bound to this request hash allows; another hash does nothing', () => {
    const granted = assemble({ rules: [rule('r', 'require_approval')], approvals: [{ rule: 'r', request_hash: 'sha256:req' }] });
    assert.equal(granted.effect, 'allow');
    assert.equal(granted.reasons[0].approved, true);
    assert.deepEqual(granted.approvals, []);
    const other = assemble({ rules: [rule('r', 'require_approval')], approvals: [{ rule: 'r', request_hash: 'sha256:other' }] });
    assert.equal(other.effect, 'require_approval');
    const wrongName = assemble({ rules: [rule('r', 'require_approval')], approvals: [{ rule: 'x', request_hash: 'sha256:req' }] });
    assert.equal(wrongName.effect, 'require_approval');
  });
  it('default allow and default deny', () => {
    const a = assemble({ rules: [rule('n', 'deny', { matched: false })] });
    assert.equal(a.effect, 'allow');
    assert.equal(a.reasons[0].kind, 'default');
    const d = assemble({ defaultEffect: 'deny' });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'default');
    const allowed = assemble({ defaultEffect: 'deny', rules: [rule('ok', 'allow')] });
    assert.equal(allowed.effect, 'allow');
    assert.deepEqual(names(allowed.reasons), ['ok']);
  });
  it('warn never changes the effect', () => {
    const d = assemble({ defaultEffect: 'deny', rules: [rule('w', 'warn')] });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(names(d.warnings), ['w']);
  });
  it('a failing rule counts as matched with the on-error effect', () => {
    const d = assemble({ rules: [rule('a', 'allow'), rule('boom', 'allow', { error: 'division by zero' })] });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'error');
    assert.equal(d.errors[0].name, 'boom');
    const open = assemble({ onError: 'allow', defaultEffect: 'deny', rules: [rule('boom', 'deny', { error: 'x' })] });
    assert.equal(open.effect, 'allow');
  });
  it('request-level errors decide with the on-error effect', () => {
    const d = assemble({ errors: [{ kind: 'input', path: '$.a', expected: 'string', message: 'expected string, got number `1`' }] });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'error');
    assert.equal(d.errors.length, 1);
  });
  it('@monitor rules are only reported under monitored', () => {
    const d = assemble({ rules: [rule('m', 'deny', { monitor: true })] });
    assert.equal(d.effect, 'allow');
    assert.deepEqual(names(d.monitored), ['m']);
  });
  it('monitor mode allows and reports what would have happened', () => {
    const d = assemble({ mode: 'monitor', rules: [rule('d', 'deny'), rule('w', 'warn')] });
    assert.equal(d.effect, 'allow');
    assert.equal(d.would_effect, 'deny');
    assert.equal(d.mode, 'monitor');
    assert.deepEqual(names(d.monitored).sort(), ['d', 'w']);
    assert.deepEqual(d.reasons, []);
  });
  it('budgets: exceeded budgets decide, warn-at crossings warn, amounts render exactly', () => {
    const b: BudgetOutcome = {
      name: 'team_daily', unit: 'money', key: ['support'], limit: 50_000_000, spent: 49_000_000, reserved: 0, charge: 2_000_000,
      remaining: -1_000_000, window: { start: '2026-01-05T00:00:00Z', end: '2026-01-06T00:00:00Z' }, exceeded: true, warned: true,
      effect: 'deny', message: 'over', location: loc, annotations: {},
    };
    const d = assemble({ budgets: [b] });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'budget');
    assert.equal(d.budgets[0].limit, '50.000000');
    assert.equal(d.budgets[0].remaining, '-1.000000');
    const w = assemble({ budgets: [{ ...b, exceeded: false, remaining: 1, charge: 0, spent: 41_000_000, unit: 'money' }] });
    assert.equal(w.effect, 'allow');
    assert.deepEqual(names(w.warnings), ['team_daily']);
    const appr = assemble({ budgets: [{ ...b, effect: 'require_approval', from: 'on-call' }] });
    assert.equal(appr.effect, 'require_approval');
    assert.equal(appr.approvals[0].kind, 'budget');
    const n = assemble({ budgets: [{ ...b, unit: 'number', limit: 30, spent: 3, charge: 1, remaining: 26, exceeded: false, warned: false }] });
    assert.equal(n.budgets[0].limit, 30);
  });
  it('computes the request hash lazily and only once', () => {
    let calls = 0;
    const d = assemble({ requestHash: () => { calls++; return 'sha256:lazy'; } });
    // assemble() above serialised the decision once
    assert.equal(calls, 1);
    assert.equal(d.request_hash, 'sha256:lazy');
    assert.equal(calls, 1);
    let calls2 = 0;
    assembleDecision({ policy: { name: 'p', hash: 'h' }, defaultEffect: 'allow', onError: 'deny', rules: [], time: 0, requestHash: () => { calls2++; return 'x'; } });
    assert.equal(calls2, 0, 'not computed when nobody reads it');
  });
  it('serialises request_hash in JSON and as a plain object, in the documented field order', () => {
    const d = assembleDecision({ policy: { name: 'p', hash: 'h' }, defaultEffect: 'allow', onError: 'deny', rules: [], time: 0, requestHash: () => 'sha256:x' });
    const keys = Object.keys(JSON.parse(JSON.stringify(d)));
    assert.deepEqual(keys, ['effect', 'reasons', 'approvals', 'warnings', 'monitored', 'budgets', 'errors', 'reservation', 'policy', 'request_hash', 'time', 'mode']);
    const plain = decisionToJSON(d);
    assert.equal(Object.getOwnPropertyDescriptor(plain, 'request_hash')?.value, 'sha256:x');
    d.request_hash = 'sha256:set';
    assert.equal(JSON.parse(JSON.stringify(d)).request_hash, 'sha256:set');
  });
  it('monitor mode with invalid input still allows and reports the errors', () => {
    const d = assemble({ mode: 'monitor', errors: [{ kind: 'input', path: '$', expected: 'object', message: 'bad' }] });
    assert.equal(d.effect, 'allow');
    assert.equal(d.would_effect, 'deny');
    assert.equal(d.errors.length, 1);
  });
  it('has a JSON Schema', () => {
    const s = decisionJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    assert.ok(s.properties.effect);
    assert.ok(s.required.includes('request_hash'));
  });
});
