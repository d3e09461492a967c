import assert from 'node:assert/strict';
import { compileValidator, parseDuration, parseTime, MAX_ERRORS } from '../../language/runtime/validate.js';
import { T, type Type } from '../../language/semantics/types.js';

/** Records have no inherited members: `__proto__`, `constructor`, `toString` … are not there. */
function assertNoInherited(o: unknown): void {
  const r = o as Record<string, unknown>;
  for (const k of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    if (!Object.prototype.hasOwnProperty.call(r, k)) assert.equal(r[k], undefined, `inherited \`${k}\``);
  }
}

const action: Type = {
  kind: 'object',
  name: 'Action',
  fields: [
    { name: 'kind', type: { kind: 'enum', values: ['tool_call', 'model_call'] }, optional: false },
    { name: 'tool', type: T.string, optional: true },
    { name: 'args', type: { kind: 'map', value: T.any }, optional: true },
  ],
};
const input: Type = {
  kind: 'object',
  fields: [
    { name: 'session', type: { kind: 'object', fields: [{ name: 'id', type: T.string, optional: false }, { name: 'actions', type: T.int, optional: false }] }, optional: false },
    { name: 'action', type: action, optional: false },
    { name: 'cost', type: { kind: 'object', fields: [{ name: 'estimate', type: T.money, optional: false }] }, optional: true },
    { name: 'at', type: T.time, optional: true },
    { name: 'wait', type: T.duration, optional: true },
    { name: 'history', type: { kind: 'list', elem: { kind: 'object', fields: [{ name: 'ok', type: T.bool, optional: false }] } }, optional: true },
  ],
};
const validate = compileValidator(input);
const good = () => ({ session: { id: 's1', actions: 3 }, action: { kind: 'tool_call', tool: 'search' } });

function errorsOf(req: unknown) {
  const r = validate(req);
  assert.equal(r.ok, false, 'expected the request to be invalid');
  return (r as { errors: { path?: string; expected?: string; message: string; kind: string }[] }).errors;
}

describe('request validation', () => {
  it('accepts a valid request and normalises money and time', () => {
    const r = validate({ ...good(), cost: { estimate: '0.031' }, at: '2026-01-05T10:00:00Z', wait: '5m' });
    assert.ok(r.ok);
    const v = r.value as Record<string, Record<string, unknown>>;
    assert.equal(v.cost.estimate, 31_000);
    assert.equal(v.at as unknown, Date.UTC(2026, 0, 5, 10));
    assert.equal(v.wait as unknown, 300_000);
    assertNoInherited(v);
    assertNoInherited(v.action);
    assert.equal(v.action.args, null, 'absent optional fields read as null');
  });

  it('reports a missing required field, a wrong type and an unknown enum value with paths', () => {
    const errs = errorsOf({ session: { id: 5 }, action: { kind: 'shell' } });
    const byPath = Object.fromEntries(errs.map((e) => [e.path, e]));
    assert.equal(byPath['$.session.id'].expected, 'string');
    assert.match(byPath['$.session.actions'].message, /missing required field `actions`/);
    assert.equal(byPath['$.action.kind'].expected, '"tool_call" | "model_call"');
    assert.ok(errs.every((e) => e.kind === 'input'));
    assert.equal(errs.length, 3, 'all errors, not just the first');
  });

  it('rejects bad money, bad time, non-integer ints', () => {
    const errs = errorsOf({ ...good(), session: { id: 's', actions: 1.5 }, cost: { estimate: -1 }, at: '2026-13-01T00:00:00Z' });
    const paths = errs.map((e) => e.path).sort();
    assert.deepEqual(paths, ['$.at', '$.cost.estimate', '$.session.actions']);
    assert.match(errs.find((e) => e.path === '$.session.actions')!.message, /integer/);
    for (const bad of [NaN, Infinity, '1e-9', 'lots']) {
      const e = errorsOf({ ...good(), cost: { estimate: bad } });
      assert.equal(e[0].path, '$.cost.estimate');
      assert.equal(e[0].expected, 'money');
    }
  });

  it('null is fine for an optional field but not for a required one', () => {
    assert.ok(validate({ ...good(), cost: null }).ok);
    const errs = errorsOf({ ...good(), action: null });
    assert.equal(errs[0].path, '$.action');
  });

  it('reports list element paths', () => {
    const errs = errorsOf({ ...good(), history: [{ ok: true }, { ok: 'yes' }] });
    assert.equal(errs[0].path, '$.history[1].ok');
  });

  it('keeps unknown extra fields but never lets __proto__/constructor do anything', () => {
    const req = JSON.parse('{"session":{"id":"s","actions":0},"action":{"kind":"tool_call","args":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}},"__proto__":{"admin":true},"extra":1}');
    const r = validate(req);
    assert.ok(r.ok);
    const v = r.value as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    assertNoInherited(v);
    assert.equal((v.action as Record<string, Record<string, unknown>>).args.__proto__ !== undefined, true, 'kept as a plain own key');
    assertNoInherited((v.action as Record<string, unknown>).args);
    assert.equal(v.extra, 1);
  });

  it('does not read fields through the prototype chain', () => {
    const proto = { session: { id: 's', actions: 0 }, action: { kind: 'tool_call' } };
    // An object with a prototype of its own is not plain data: rejected at its path (issue 11 §3),
    // and its inherited fields are never read.
    const errs = errorsOf(Object.create(proto));
    assert.deepEqual(errs.map((e) => e.path), ['$']);
    assert.match(errs[0].message, /only plain objects and arrays are read/);
    const nested = errorsOf({ ...good(), action: Object.assign(Object.create({ tool: 'x' }), { kind: 'tool_call' }) });
    assert.deepEqual(nested.map((e) => e.path), ['$.action']);
  });

  it('never throws: cyclic, deep, hostile input', () => {
    const cyc: Record<string, unknown> = { ...good() };
    (cyc.action as Record<string, unknown>).args = { self: null };
    ((cyc.action as Record<string, Record<string, unknown>>).args).self = cyc;
    const e1 = errorsOf(cyc);
    assert.match(e1[0].message, /nested deeper|cyclic/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const e2 = errorsOf({ ...good(), action: { kind: 'tool_call', args: { deep } } });
    assert.ok(e2.length >= 1);
    const throwing = { ...good(), get action(): unknown { throw new Error('boom'); } };
    const e3 = errorsOf(throwing);
    assert.match(e3[0].message, /boom/);
    for (const x of [undefined, null, 1, 'x', [], () => 1]) assert.equal(validate(x).ok, false);
  });

  it('caps the number of errors', () => {
    const errs = errorsOf({ ...good(), history: Array.from({ length: 1000 }, () => ({ ok: 1 })) });
    assert.equal(errs.length, MAX_ERRORS);
  });

  it('parses RFC 3339 times and durations', () => {
    assert.equal(parseTime('2026-01-05T10:00:00.250+01:00'), Date.UTC(2026, 0, 5, 9, 0, 0, 250));
    assert.equal(parseTime('2026-02-30T00:00:00Z'), undefined);
    assert.equal(parseTime('2026-01-05'), undefined);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('soon'), undefined);
  });
});
