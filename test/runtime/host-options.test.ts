// Issue 11 §8: host options, `{}` as a map, the checker under a polluted Array.prototype.
import assert from 'node:assert/strict';
import { check, compile, Engine } from '../../language/index.js';

const SRC = `policy p { default allow }
input { action: { args?: map<any>, tags?: list<string> } }
rule r { when "danger" in (action.args ?? {}) deny "dangerous argument" }
`;

describe('host options are checked', () => {
  const policy = compile({ 'p.rein': SRC });
  const bad: [string, object, RegExp][] = [
    ['now: "garbage"', { now: 'garbage' }, /option `now` must be a valid Date or epoch milliseconds, got the string "garbage"/],
    ['now: new Date(NaN)', { now: new Date(NaN) }, /option `now` .* got an invalid Date/],
    ['now: 1e300', { now: 1e300 }, /option `now` .* got the number 1e\+300/],
    ['now: NaN', { now: NaN }, /option `now`/],
    ['mode: "weird"', { mode: 'weird' }, /option `mode` must be "enforce" or "monitor", got the string "weird"/],
    ['a throwing approvals getter', { get approvals(): never { throw new Error('boom'); } }, /reading option `approvals` threw: boom/],
    ['approvals: "x"', { approvals: 'x' }, /option `approvals` must be a list/],
    // review h11r R8: a string was taken as true by decide and as false by evaluate
    ['explain: "yes"', { explain: 'yes' }, /option `explain` must be true or false, got the string "yes"/],
    ['explain: 1', { explain: 1 }, /option `explain` must be true or false, got the number 1/],
  ];
  for (const [name, opts, msg] of bad) {
    it(`policy.evaluate: ${name} is a TypeError naming the option`, () => {
      assert.throws(() => policy.evaluate({ action: {} }, opts as never), (e: unknown) => e instanceof TypeError && msg.test(e.message));
    });
  }

  it('null options are no options; options that are not an object, and settle({}), are TypeErrors (review h10r F13)', async () => {
    const engine = new Engine(policy);
    const req = { action: { args: { danger: 1 } } };
    assert.equal(policy.evaluate(req, null as never).effect, 'deny');
    assert.equal((await engine.decide(req, null as never)).effect, 'deny');
    assert.equal(engine.decideSync(req, null as never).effect, 'deny');
    for (const o of [5, 'explain', true]) {
      assert.throws(() => policy.evaluate(req, o as never), /evaluate: the options must be an object such as \{ explain: true \}, got/);
      await assert.rejects(engine.decide(req, o as never), /decide: the options must be an object/);
      assert.throws(() => engine.decideSync(req, o as never), /decide: the options must be an object/);
    }
    for (const d of [{}, { id: 'r' }]) await assert.rejects(engine.settle(d as never), /settle: expected a decision returned by decide\(\)/);
    // Entries that are not approvals are ignored with an `errors` entry each (they were dropped silently).
    const withJunk = await engine.decide(req, { approvals: [null, 5, {}] } as never);
    assert.equal(withJunk.effect, 'deny');
    assert.deepEqual(
      withJunk.errors.filter((e) => e.kind === 'approval').map((e) => e.message),
      ['null', 'number', 'an object without a `rule`'].map((w) => `an approval must be an object { rule, request_hash }, got ${w}: ignored`),
    );
  });

  it('engine.decide and decideSync: bad `now` and a throwing approvals getter are TypeErrors naming the option', async () => {
    const engine = new Engine(policy);
    for (const opts of [{ now: new Date(NaN) }, { now: 'x' }, { get approvals(): never { throw new Error('boom'); } }]) {
      assert.throws(() => engine.decideSync({ action: {} }, opts as never), (e: unknown) => e instanceof TypeError && /option `(now|approvals)`/.test(e.message));
      await assert.rejects(engine.decide({ action: {} }, opts as never), (e: unknown) => e instanceof TypeError && /option `(now|approvals)`/.test(e.message));
    }
    const broken = new Engine(policy, { clock: () => new Date(NaN) });
    assert.throws(() => broken.decideSync({ action: {} }), (e: unknown) => e instanceof TypeError && /Engine clock/.test(e.message));
  });

  it('engine.decide: a non-boolean `explain` is a TypeError naming it; true, false and null work', async () => {
    const engine = new Engine(policy);
    for (const explain of ['yes', 1, {}]) {
      await assert.rejects(engine.decide({ action: {} }, { explain } as never), (e: unknown) => e instanceof TypeError && /option `explain` must be true or false/.test(e.message));
      assert.throws(() => engine.decideSync({ action: {} }, { explain } as never), /option `explain` must be true or false/);
    }
    assert.ok(Array.isArray((await engine.decide({ action: {} }, { explain: true })).explain));
    assert.equal((await engine.decide({ action: {} }, { explain: false })).explain, undefined);
    assert.equal((await engine.decide({ action: {} }, { explain: null } as never)).explain, undefined);
    assert.equal(policy.evaluate({ action: {} }, { explain: null } as never).explain, undefined);
  });

  it('good options still work: Date, epoch ms, null now; approvals null', () => {
    for (const opts of [{ now: new Date(0) }, { now: 0 }, { now: null }, { approvals: null }, { mode: 'monitor' }])
      assert.equal(policy.evaluate({ action: { args: { danger: 1 } } }, opts as never).effect, (opts as { mode?: string }).mode === 'monitor' ? 'allow' : 'deny');
  });
});

describe('`{}` as a map value', () => {
  it('`x in (args ?? {})` checks and runs on both backends', () => {
    assert.deepEqual(check({ 'p.rein': SRC }).diagnostics.map((d) => d.code), []);
    for (const codegen of [true, false]) {
      const p = compile({ 'p.rein': SRC }, { codegen });
      assert.equal(p.evaluate({ action: {} }).effect, 'allow');
      assert.equal(p.evaluate({ action: { args: { danger: true } } }).effect, 'deny');
    }
  });

  it('a default that does not fit prints the literal once', () => {
    const d = check({ 'p.rein': SRC.replace('(action.args ?? {})', '(action.tags ?? {})') }).diagnostics;
    assert.deepEqual(d.map((x) => x.message), ['the default `{}` does not match `list<string>`']);
  });
});

describe('a polluted Array.prototype', () => {
  afterEach(() => {
    for (let k = 0; k < 300; k++) delete (Array.prototype as unknown as Record<number, unknown>)[k];
  });

  it('check() gives one clear diagnostic, never an internal error or a wrong result', () => {
    for (let k = 0; k < 300; k++) (Array.prototype as unknown as Record<number, unknown>)[k] = true;
    const r = check({ 'p.rein': SRC });
    for (let k = 0; k < 300; k++) delete (Array.prototype as unknown as Record<number, unknown>)[k];
    assert.equal(r.ok, false);
    // The environment is named first (Chevrotain's sparse lookahead tables read the polluted values,
    // so what follows is unreliable), and nothing is an internal error.
    assert.match(r.diagnostics[0].message, /cannot parse reliably: Array.prototype has an indexed property/);
    for (const d of r.diagnostics) assert.doesNotMatch(d.message, /internal error/);
  });
});
