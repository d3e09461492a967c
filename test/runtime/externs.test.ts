// `extern def` host functions (docs/externs.md): load-time checks, the synchronous and asynchronous
// paths, per-decision caching, type checks of results, failure effects, explain and the decision's
// `externs`, both backends, and test-block stubs.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { check } from '../../language/check.js';
import { format } from '../../language/format/format.js';
import { PolicyError } from '../../language/errors.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import type { Decision } from '../../language/runtime/decision.js';

const SRC = `policy guard { default allow }
input { prompt: string, user: string }

/// Toxicity score in [0, 1] from the host's classifier.
extern def toxicity(text: string): number timeout 40ms
extern def entities(text: string): list<string> on error allow

rule toxic {
  when toxicity(prompt) > 0.8
  deny "toxic: \${toxicity(prompt)}"
}

rule names {
  when "PERSON" in entities(prompt) or "PERSON" in entities(user)
  warn "names"
}
`;

type Impl = (...args: never[]) => unknown;

/** The memory store without its synchronous twin (an override of an async method drops it): the
 *  engine's asynchronous driver, as with Redis. */
class AsyncMemoryStore extends MemoryBudgetStore {
  override async peek(keys: string[], now: number) {
    return super.peek(keys, now);
  }
}

function counting(impls: Record<string, Impl>): { impls: Record<string, Impl>; calls: string[] } {
  const calls: string[] = [];
  const out: Record<string, Impl> = {};
  for (const [k, f] of Object.entries(impls)) {
    out[k] = (...args: never[]) => {
      calls.push(`${k}(${JSON.stringify(args)})`);
      return f(...args);
    };
  }
  return { impls: out, calls };
}

const tox = (t: string) => (t.includes('idiot') ? 0.93 : 0.1);
const ner = (t: string) => (t.includes('Bob') ? ['PERSON'] : []);

function strip(d: Decision): unknown {
  const j = JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  delete j.time;
  return j;
}

describe('extern def: load-time checks', () => {
  it('check(): REIN230 for untyped parameters, a missing result type, money/time across the boundary, a zero or too long timeout', () => {
    const r = check({
      'a.rein': `policy p { default allow }
input { prompt: string }
extern def f(a: money): time
extern def g(a): number timeout 0ms
extern def h(x: string)
extern def slow(x: string): bool timeout 30d
extern def judge(x: string): bool timeout 10m
`,
    });
    const codes = r.diagnostics.filter((d) => d.code === 'REIN230').map((d) => d.message);
    assert.equal(codes.length, 6, codes.join('\n'));
    // A month would overflow setTimeout (every call then "timed out" at once): at most 10m.
    assert.ok(codes.includes('the timeout of `extern def slow` must be at most 10m (a decision waits for it)'));
    assert.ok(codes.some((m) => m.includes('cannot be `money`')));
    assert.ok(codes.some((m) => m.includes('cannot return `time`')));
    assert.ok(codes.some((m) => m.includes('needs a type')));
    assert.ok(codes.some((m) => m.includes('longer than zero')));
    assert.ok(codes.some((m) => m.includes('needs a result type')));
  });

  it('a well-formed extern is no longer "not supported yet" (REIN105) and type-checks its calls', () => {
    const r = check({ 'a.rein': SRC });
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
    const bad = check({ 'a.rein': SRC.replace('toxicity(prompt) > 0.8', 'toxicity(1) > 0.8') });
    assert.ok(bad.diagnostics.some((d) => d.code === 'REIN209' && d.message.includes('argument 1 of `toxicity`')));
    const asValue = check({ 'a.rein': SRC.replace('toxicity(prompt) > 0.8', 'toxicity > 0.8') });
    assert.ok(asValue.diagnostics.some((d) => d.code === 'REIN205' && d.message.includes('is an `extern def`; call it')));
  });

  it('compile({ externs }): a missing, extra or non-function implementation is a PolicyError (REIN231), not a decision-time error', () => {
    assert.throws(
      () => compile({ 'a.rein': SRC }, { externs: { toxicity: tox, other: () => 1 } }),
      (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        const msgs = e.diagnostics.map((d) => `${d.code} ${d.message}`);
        assert.ok(msgs.some((m) => m.startsWith('REIN231') && m.includes('no implementation for `extern def entities`')), msgs.join('\n'));
        assert.ok(msgs.some((m) => m.startsWith('REIN231') && m.includes('`other` is not declared')), msgs.join('\n'));
        // The missing one points at its declaration.
        const missing = e.diagnostics.find((d) => d.message.includes('entities'))!;
        assert.equal(missing.file, 'a.rein');
        assert.equal(missing.range.start.line, 5);
        return true;
      },
    );
    assert.throws(() => compile({ 'a.rein': SRC }, { externs: { toxicity: tox, entities: 3 as unknown as Impl } }), /not a function/);
  });

  it('new Engine(): a policy with externs needs implementations (from compile or the Engine options)', () => {
    const p = compile({ 'a.rein': SRC });
    assert.throws(() => new Engine(p), (e: unknown) => e instanceof PolicyError && /no implementation for `extern def toxicity`/.test(e.message));
    assert.throws(() => new Engine(p, { externs: { toxicity: tox } }), /no implementation for `extern def entities`/);
    assert.doesNotThrow(() => new Engine(p, { externs: { toxicity: tox, entities: ner } }));
    const bound = compile({ 'a.rein': SRC }, { externs: { toxicity: tox, entities: ner } });
    assert.doesNotThrow(() => new Engine(bound));
  });
});

describe('extern def: policy.evaluate (synchronous implementations)', () => {
  for (const codegen of [true, false]) {
    it(`calls each distinct argument list once per decision, records the calls, and decides (codegen ${codegen})`, () => {
      const c = counting({ toxicity: tox, entities: ner });
      const p = compile({ 'a.rein': SRC }, { codegen, externs: c.impls });
      const d = p.evaluate({ prompt: 'hi Bob you idiot', user: 'hi Bob you idiot' });
      assert.equal(d.effect, 'deny');
      assert.equal(d.reasons[0].message, 'toxic: 0.93');
      assert.deepEqual(d.warnings.map((w) => w.name), ['names']);
      // toxicity is read twice (condition and message), entities on two equal arguments: one call each.
      assert.deepEqual(c.calls, ['toxicity(["hi Bob you idiot"])', 'entities(["hi Bob you idiot"])']);
      assert.deepEqual(JSON.parse(JSON.stringify(d)).externs, [
        { name: 'toxicity', args: ['hi Bob you idiot'], value: 0.93 },
        { name: 'entities', args: ['hi Bob you idiot'], value: ['PERSON'] },
      ]);
      assert.ok(decisionSchema.safeParse(JSON.parse(JSON.stringify(d))).success, 'the decision (with externs) matches its schema');
      // A new decision calls again (the cache is per decision).
      p.evaluate({ prompt: 'hi Bob you idiot', user: 'x' });
      assert.equal(c.calls.filter((x) => x.startsWith('toxicity')).length, 2);
    });
  }

  it('explain lists each call and its value among the clause reads', () => {
    const p = compile({ 'a.rein': SRC }, { externs: { toxicity: tox, entities: ner } });
    const d = p.evaluate({ prompt: 'you idiot', user: 'Bob' }, { explain: true });
    const toxic = d.explain!.find((r) => r.name === 'toxic')!;
    assert.deepEqual(toxic.clauses[0].reads, [
      { path: 'prompt', value: 'you idiot' },
      { path: 'toxicity("you idiot")', value: 0.93 },
    ]);
    const names = d.explain!.find((r) => r.name === 'names')!;
    assert.ok(names.clauses[0].reads.some((r) => r.path === 'entities("Bob")'));
  });

  it('an async implementation on the synchronous path is a failed call: deny (fail closed), with the error saying to use Engine.decide', () => {
    const p = compile({ 'a.rein': SRC }, { externs: { toxicity: async () => 0.1, entities: ner } });
    const d = p.evaluate({ prompt: 'hello', user: 'x' });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].kind, 'error');
    assert.match(d.errors[0].message, /returned a Promise: `policy.evaluate` calls synchronous implementations only \(use `Engine.decide`/);
  });

  it('a result of the wrong type fails the call (deny by default; `on error allow` keeps the effect)', () => {
    const p = compile({ 'a.rein': SRC }, { externs: { toxicity: () => 'high', entities: () => [1, 2] } });
    const d = p.evaluate({ prompt: 'hello', user: 'x' });
    assert.equal(d.effect, 'deny');
    const byRule = Object.fromEntries(d.errors.map((e) => [e.name, e.message]));
    assert.match(byRule.toxic, /extern `toxicity` returned "high", not a `number`/);
    assert.match(byRule.names, /extern `entities` returned \[1,2\], not a `list<string>`/);
    // `names`' extern is `on error allow`: its failure is as if `names` had not matched (no reason), not a deny.
    assert.deepEqual(d.reasons.map((r) => [r.name, r.effect]), [['toxic', 'deny']]);
    // NaN is said as NaN (regression R11: "returned null, not a `number`")
    const nan = compile({ 'a.rein': SRC }, { externs: { toxicity: () => NaN, entities: () => [] } }).evaluate({ prompt: 'hello', user: 'x' });
    assert.match(nan.errors[0]!.message, /extern `toxicity` returned NaN, not a `number`/);
  });

  it('a throwing implementation fails closed, with its message in errors; `on error allow` lets the decision allow', () => {
    const p = compile({ 'a.rein': SRC }, {
      externs: {
        toxicity: () => 0.1,
        entities: () => {
          throw new Error('NER model not loaded');
        },
      },
    });
    const d = p.evaluate({ prompt: 'hello', user: 'x' });
    assert.equal(d.effect, 'allow');
    assert.equal(d.errors.length, 1);
    assert.match(d.errors[0].message, /extern `entities` failed: NER model not loaded/);
    const strict = compile({ 'a.rein': SRC.replace(' on error allow', '') }, { externs: { toxicity: () => 0.1, entities: () => { throw new Error('down'); } } });
    assert.equal(strict.evaluate({ prompt: 'hello', user: 'x' }).effect, 'deny');
  });

  it("`on error allow`: a failed call is as if the rule had not matched, never an allow (review h10r F15: default deny and first_match were allowed)", async () => {
    const down = { labels: () => { throw new Error('classifier down'); } };
    const rules = `extern def labels(text: string): list<string> on error allow
rule block_pii { when "pii" in labels(text) deny "pii" }
rule advisory { when "toxic" in labels(text) warn "toxic" }
rule reads { when tool.starts_with("read") allow }
rule no_shell { when tool == "shell.exec" deny "no shell" }`;
    const denySrc = `policy p { default deny }\ninput { tool: string, text: string }\n${rules}`;
    const firstSrc = `policy p { default allow combine first_match }\ninput { tool: string, text: string }\n${rules.replace('rule block_pii', '@priority("10")\nrule block_pii')}`;
    const deny = compile({ 'a.rein': denySrc }, { externs: down });
    for (const src of [denySrc, firstSrc]) {
      for (const codegen of [true, false]) {
        const q = compile({ 'a.rein': src }, { externs: down, codegen });
        const shell = q.evaluate({ tool: 'shell.exec', text: 'x' });
        assert.equal(shell.effect, 'deny', 'the classifier being down allows nothing');
        assert.deepEqual(shell.reasons.map((r) => r.name), ['no_shell']);
        assert.deepEqual(shell.errors.map((e) => e.name).sort(), ['advisory', 'block_pii']);
        assert.equal(q.evaluate({ tool: 'read_file', text: 'x' }).effect, 'allow');
        const e = new Engine(q, { store: new MemoryBudgetStore() });
        assert.equal((await e.decide({ tool: 'shell.exec', text: 'x' })).effect, 'deny');
      }
    }
    // Under `default deny`, a request no rule allows stays denied.
    const other = deny.evaluate({ tool: 'write_file', text: 'x' });
    assert.equal(other.effect, 'deny');
    assert.deepEqual(other.reasons.map((r) => [r.kind, r.effect]), [['default', 'deny']]);
  });

  it('`on error allow` in a message or approver: the rule whose conditions held still stands (review h10r F15: a decorating extern un-denied it)', async () => {
    const src = `policy p { default allow }
input { tool: string }
extern def describe(tool: string): string on error allow
rule no_drop { when tool == "db.drop" deny "blocked: \${describe(tool)}" }
rule pay { when tool == "pay" require approval from describe(tool) "pay" }`;
    const down = { describe: () => { throw new Error('describer down'); } };
    for (const codegen of [true, false]) {
      const p = compile({ 'a.rein': src }, { externs: down, codegen });
      const d = p.evaluate({ tool: 'db.drop' });
      assert.equal(d.effect, 'deny');
      // (regression, session 11's R8 leftover: the message was null) The rule names itself; the failure is in errors.
      assert.deepEqual(d.reasons.map((r) => [r.name, r.effect, r.message]), [['no_drop', 'deny', 'rule `no_drop` matched; its message failed (see errors)']]);
      assert.deepEqual(d.errors.map((e) => [e.name, e.message]), [['no_drop', 'extern `describe` failed: describer down']]);
      // An approver that cannot be determined fails the rule with the policy's `on error` (deny):
      // never an approval anyone could give, nor none asked.
      const a = p.evaluate({ tool: 'pay' });
      assert.equal(a.effect, 'deny');
      assert.deepEqual(a.reasons.map((r) => [r.kind, r.name, r.effect]), [['error', 'pay', 'deny']]);
      assert.equal((await new Engine(p, { store: new MemoryBudgetStore() }).decide({ tool: 'db.drop' })).effect, 'deny');
      // Working: the message as written.
      const ok = compile({ 'a.rein': src }, { externs: { describe: (t: string) => `the ${t} tool` }, codegen }).evaluate({ tool: 'db.drop' });
      assert.deepEqual(ok.reasons.map((r) => r.message), ['blocked: the db.drop tool']);
    }
  });

  it('without implementations, evaluate fails closed at the call with a message naming how to register them', () => {
    const p = compile({ 'a.rein': SRC });
    const d = p.evaluate({ prompt: 'hello', user: 'x' });
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0].message, /extern `toxicity` has no implementation \(register it/);
  });
});

describe('extern def: Engine.decide (asynchronous implementations)', () => {
  const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  it('awaits async implementations and decides as a synchronous host would; one call per distinct argument list', async () => {
    const c = counting({
      toxicity: async (t: string) => {
        await delay(2);
        return tox(t);
      },
      entities: async (t: string) => ner(t),
    });
    const e = new Engine(compile({ 'a.rein': SRC }), { externs: c.impls });
    const d = await e.decide({ prompt: 'you idiot', user: 'Bob' });
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0].message, 'toxic: 0.93');
    assert.deepEqual(d.warnings.map((w) => w.name), ['names']);
    assert.deepEqual([...c.calls].sort(), ['entities(["Bob"])', 'entities(["you idiot"])', 'toxicity(["you idiot"])']);
    const sync = compile({ 'a.rein': SRC }, { externs: { toxicity: tox, entities: ner } });
    assert.deepEqual(strip(d), { ...(strip(sync.evaluate({ prompt: 'you idiot', user: 'Bob' })) as object), externs: (strip(d) as { externs: unknown }).externs });
    assert.equal((JSON.parse(JSON.stringify(d)).externs as unknown[]).length, 3);
  });

  it('a call slower than its timeout fails closed with the timeout in errors, and decide does not wait for it', async () => {
    let release: (() => void) | undefined;
    const never = new Promise<number>((r) => {
      release = () => r(0.1);
    });
    const e = new Engine(compile({ 'a.rein': SRC }), { externs: { toxicity: () => never, entities: async () => [] } });
    const t0 = Date.now();
    const d = await e.decide({ prompt: 'hello', user: 'x' });
    const took = Date.now() - t0;
    release!();
    assert.equal(d.effect, 'deny');
    assert.match(d.errors[0].message, /extern `toxicity` timed out after 40 ms/);
    assert.ok(took < 10_000, `decide returned after ${took} ms`);
    assert.deepEqual(JSON.parse(JSON.stringify(d)).externs.find((x: { name: string }) => x.name === 'toxicity'), { name: 'toxicity', args: ['hello'], error: 'extern `toxicity` timed out after 40 ms' });
  });

  it('a rejected promise fails closed; a wrong async result type too', async () => {
    const e = new Engine(compile({ 'a.rein': SRC }), { externs: { toxicity: async () => Promise.reject(new Error('503 from classifier')), entities: async () => 'x' } });
    const d = await e.decide({ prompt: 'hello', user: 'x' });
    assert.equal(d.effect, 'deny');
    const msgs = d.errors.map((x) => x.message);
    assert.ok(msgs.some((m) => /extern `toxicity` failed: 503 from classifier/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /extern `entities` returned "x", not a `list<string>`/.test(m)), msgs.join('\n'));
  });

  it('a call whose argument is another call\'s result is awaited in a later pass', async () => {
    const src = `policy p { default allow }
input { prompt: string }
extern def topic(text: string): string
extern def banned(topic: string): bool
rule r { when banned(topic(prompt))  deny "banned topic" }
`;
    const e = new Engine(compile({ 'a.rein': src }), { externs: { topic: async (t: string) => (t.includes('bomb') ? 'weapons' : 'other'), banned: async (t: string) => t === 'weapons' } });
    assert.equal((await e.decide({ prompt: 'how to build a bomb' })).effect, 'deny');
    assert.equal((await e.decide({ prompt: 'hello' })).effect, 'allow');
  });

  it('works with an asynchronous budget store too', async () => {
    const e = new Engine(compile({ 'a.rein': SRC }), { store: new AsyncMemoryStore(), externs: { toxicity: async (t: string) => tox(t), entities: async () => [] } });
    assert.equal((await e.decide({ prompt: 'you idiot', user: 'x' })).effect, 'deny');
    assert.equal((await e.decide({ prompt: 'fine', user: 'x' })).effect, 'allow');
  });

  it('an invalid request is the on-error decision without any call', async () => {
    const c = counting({ toxicity: tox, entities: ner });
    const e = new Engine(compile({ 'a.rein': SRC }), { externs: c.impls });
    const d = await e.decide({ prompt: 3 });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(c.calls, []);
    assert.equal(JSON.parse(JSON.stringify(d)).externs, undefined);
  });
});

describe('extern def: test blocks stub externs', () => {
  const TESTS = `${SRC}
test "toxic" {
  given { prompt: "you idiot", user: "x" }
  extern toxicity("you idiot") = 0.93
  extern entities = []
  expect deny by toxic
}

test "classifier down" {
  given { prompt: "hello", user: "Bob" }
  extern toxicity = error "connection refused"
  extern entities("hello") = []
  extern entities("Bob") = ["PERSON"]
  expect deny by toxic
  expect warnings names
}

test "unstubbed" {
  given { prompt: "hello", user: "x" }
  extern toxicity("other") = 0.1
  extern entities = []
  expect allow
}
`;

  it('stubs answer by argument list or for any arguments, `= error` fails the call, and an unstubbed call fails the test clearly', () => {
    const r = check({ 't.rein': TESTS });
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
    const report = runTests(compile(r));
    const by = Object.fromEntries(report.results.map((t) => [t.name, t]));
    assert.equal(by.toxic.passed, true, by.toxic.message);
    assert.equal(by['classifier down'].passed, true, by['classifier down'].message);
    assert.equal(by.unstubbed.passed, false);
    assert.match(by.unstubbed.message!, /the policy called `extern toxicity\("hello"\)` but the test does not stub it: add `extern toxicity\("hello"\) = VALUE`/);
  });

  it('the host implementations never run in a test', () => {
    let ran = 0;
    const p = compile({ 't.rein': TESTS }, { externs: { toxicity: () => ++ran, entities: () => [] } });
    runTests(p);
    assert.equal(ran, 0);
  });

  it('check(): REIN232 for a stub of an unknown extern or with the wrong number of arguments; the value is type-checked', () => {
    const r = check({
      't.rein': `${SRC}
test "t" {
  given { prompt: "x", user: "y" }
  extern toxicty = 1
  extern entities("a", "b") = []
  extern toxicity("a") = "high"
  expect allow
}
`,
    });
    const msgs = r.diagnostics.map((d) => `${d.code} ${d.message}`);
    assert.ok(msgs.some((m) => m.startsWith('REIN232 unknown extern `toxicty`')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('REIN232 `entities` takes 1 argument, the stub gives 2')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('REIN205') && m.includes('`toxicity` returns')), msgs.join('\n'));
  });
});

describe('extern def: formatting', () => {
  it('keeps timeout, on error and test stubs; idempotent', () => {
    const messy = `policy p { default allow }
input { prompt: string }
extern   def  toxicity( text:string ):number   timeout 200ms   on error allow
rule r { when toxicity(prompt) > 0.5 deny "x" }
test "t" { given { prompt: "a" }
  extern toxicity( "a" )=0.9
  extern toxicity = error "down"
  expect deny }
`;
    const once = format(messy);
    assert.match(once, /^extern def toxicity\(text: string\): number timeout 200ms on error allow$/m);
    assert.match(once, /^ {2}extern toxicity\("a"\) = 0\.9$/m);
    assert.match(once, /^ {2}extern toxicity = error "down"$/m);
    assert.equal(format(once), once);
    assert.deepEqual(check({ 'a.rein': once }).diagnostics.filter((d) => d.severity === 'error'), []);
  });
});
