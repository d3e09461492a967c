// `redact PATH using DETECTOR ["REPLACEMENT"]` (issue #18): the checker's rules, the decision's
// `transforms` on both backends and through the Engine, how it combines with the other effects, and
// `applyTransforms` (exact, right to left, the original untouched).
import assert from 'node:assert/strict';
import { check } from '../../language/check.js';
import { compile } from '../../language/policy.js';
import { format } from '../../language/format/format.js';
import { Engine } from '../../language/runtime/engine.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { applyTransforms, maskedSummary, pathText, type Transform } from '../../language/runtime/transforms.js';
import { decisionJsonSchema } from '../../language/runtime/decision-schema.js';
import { openApiDocument } from '../../language/node/serve/openapi.js';

const INPUT = `input {
  action: { kind: string, tool?: string, args?: map<any>, text?: string, n: int }
  prompt?: string
  messages?: list<{ role: string, text: string }>
}`;

function policy(rules: string, header = 'policy p { default allow  on error deny }'): Record<string, string> {
  return { 'p.rein': `${header}\n${INPUT}\n${rules}\n` };
}

function errors(rules: string): string[] {
  return check(policy(rules)).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}${d.help ? ` | ${d.help}` : ''}`);
}

const REQ = {
  action: { kind: 'tool_call', tool: 'search', args: { q: 'key AKIAIOSFODNN7EXAMPLE here', n: 2, list: ['a', 'ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6'] }, text: 'call 555-123-4567', n: 1 },
  prompt: 'mail bob@example.com or a@b.io',
  messages: [{ role: 'user', text: 'my ssn is 123-45-6789' }],
};

const RULES = `
rule mask_prompt {
  when prompt != null
  redact prompt using pii.email "[email]"
}
rule mask_args { redact action.args using secrets.any }
rule mask_first_message { redact messages[0].text using pii.ssn "***-**-****" }
`;

const backends = [true, false];

describe('redact: a negative index counts from the end (review h10r F11: documented, then REIN205)', () => {
  for (const codegen of [true, false]) {
    it(`messages[-1].text masks the last message only (${codegen ? 'generated' : 'closures'})`, () => {
      assert.deepEqual(errors('rule last { redact messages[-1].text using pii.email "[email]" }'), []);
      const p = compile(policy('rule last { redact messages[-1].text using pii.email "[email]" }'), { codegen });
      const req = { action: { kind: 'k', n: 1 }, messages: [{ role: 'user', text: 'a@x.io' }, { role: 'user', text: 'mail b@y.io now' }] };
      const d = p.evaluate(req);
      assert.deepEqual(d.transforms!.map((t) => t.path), [['messages', 1, 'text']]);
      assert.deepEqual(applyTransforms(req, d).messages.map((m) => m.text), ['a@x.io', 'mail [email] now']);
      // No messages: nothing to mask, no error.
      assert.equal(p.evaluate({ action: { kind: 'k', n: 1 }, messages: [] }).transforms, undefined);
    });
  }
  it('a computed index is still REIN205', () => {
    assert.match(errors('rule x { redact messages[action.n].text using pii.email }').join('\n'), /REIN205 `redact` needs a path into the request/);
  });
});

describe('redact', () => {
  describe('checker', () => {
    it('accepts string fields, strings inside any/map/list values, list indexes', () => {
      assert.deepEqual(errors(RULES), []);
      assert.deepEqual(errors('rule r { redact input.action.text using pii.any }'), []);
    });
    it('refuses a path that is not into the request', () => {
      const e = errors('rule r { redact action.text.lower() using pii.email }');
      assert.equal(e.length, 1);
      assert.match(e[0], /^REIN205 `redact` needs a path into the request/);
      assert.match(errors('let x = "a"\nrule r { redact x using pii.email }')[0], /needs a path into the request/);
    });
    it('refuses a path that holds no string', () => {
      assert.deepEqual(errors('rule r { redact action.n using pii.email }'), ['REIN205 `redact` masks strings; `action.n` is `int`, which holds none']);
    });
    it('needs a known detector, with did-you-mean', () => {
      assert.deepEqual(errors('rule r { redact action.text using pii.emial }'), ['REIN200 unknown detector `pii.emial` | did you mean `pii.email`?']);
      assert.match(errors('rule r { redact action.text using secrets.gihtub }')[0], /did you mean `secrets.github`/);
      // Without `using` the whole string is masked (LANGUAGE.md: `redact PATH [using DETECTOR] [MSG]`).
      assert.deepEqual(errors('rule r { redact action.text }'), []);
      assert.deepEqual(errors('rule r { redact action.args "[hidden]" }'), []);
      assert.match(errors('rule r { redact action.text using "x" }')[0], /^REIN205 `using` takes a detector/);
    });
    it('takes a constant replacement', () => {
      assert.deepEqual(errors('rule r { redact action.text using pii.email "x${action.kind}" }'), ['REIN205 the replacement of `redact` is a constant string (no `${…}`)']);
    });
    it('the formatter keeps a redact clause as written', () => {
      const src = `policy p { default allow }\n${INPUT}\nrule r {\n  when prompt != null\n  redact prompt using pii.email "[email]"\n}\n`;
      const out = format(src);
      assert.match(out, /\n {2}redact prompt using pii\.email "\[email\]"\n/);
      assert.equal(format(out), out);
      const whole = `policy p { default allow }\n${INPUT}\nrule r { redact   prompt   "[x]" }\n`;
      assert.match(format(whole), /redact prompt "\[x\]"/);
    });
  });

  for (const codegen of backends) {
    describe(`decisions (${codegen ? 'generated code' : 'closures'})`, () => {
      it('carries one transform per masked string, the effect stays allow', () => {
        const d = compile(policy(RULES), { codegen }).evaluate(REQ);
        assert.equal(d.effect, 'allow');
        assert.deepEqual(d.transforms, [
          { rule: 'mask_prompt', op: 'redact', path: ['prompt'], detector: 'pii.email', replacement: '[email]', spans: [{ start: 5, end: 20 }, { start: 24, end: 30 }] },
          { rule: 'mask_args', op: 'redact', path: ['action', 'args', 'q'], detector: 'secrets.any', replacement: '[REDACTED]', spans: [{ start: 4, end: 24 }] },
          { rule: 'mask_args', op: 'redact', path: ['action', 'args', 'list', 1], detector: 'secrets.any', replacement: '[REDACTED]', spans: [{ start: 0, end: 40 }] },
          { rule: 'mask_first_message', op: 'redact', path: ['messages', 0, 'text'], detector: 'pii.ssn', replacement: '***-**-****', spans: [{ start: 10, end: 21 }] },
        ]);
        assert.equal(decisionSchema.safeParse(JSON.parse(JSON.stringify(d))).success, true);
        assert.deepEqual(JSON.parse(JSON.stringify(d)).transforms, d.transforms);
      });
      it('no match, no transforms: the decision JSON is unchanged', () => {
        const d = compile(policy(RULES), { codegen }).evaluate({ action: { kind: 'k', n: 1, text: 'nothing' } });
        assert.equal(d.transforms, undefined);
        assert.equal('transforms' in JSON.parse(JSON.stringify(d)), false);
      });
      it('deny still wins; under `default deny` a redact rule allows nothing', () => {
        const d = compile(policy(RULES + 'rule no_search { when action.tool == "search"  deny "no" }'), { codegen }).evaluate(REQ);
        assert.equal(d.effect, 'deny');
        assert.deepEqual(d.reasons.map((r) => r.name), ['no_search']);
        const dd = compile(policy(RULES, 'policy p { default deny }'), { codegen }).evaluate(REQ);
        assert.equal(dd.effect, 'deny');
        assert.equal(dd.reasons[0].kind, 'default');
      });
      it('`@monitor` and monitor mode report the rule under `monitored` and mask nothing', () => {
        const p = compile(policy('@monitor rule m { redact prompt using pii.email }'), { codegen });
        const d = p.evaluate(REQ);
        assert.equal(d.transforms, undefined);
        assert.deepEqual(d.monitored.map((r) => [r.name, r.effect]), [['m', 'redact']]);
        const dm = compile(policy(RULES), { codegen }).evaluate(REQ, { mode: 'monitor' });
        assert.equal(dm.transforms, undefined);
        assert.deepEqual(dm.monitored.map((r) => r.name).sort(), ['mask_args', 'mask_first_message', 'mask_prompt']);
      });
      it('a failing redact rule counts with the `on error` effect', () => {
        const d = compile(policy('rule r { when 1 / (action.n - 1) > 0  redact prompt using pii.email }'), { codegen }).evaluate(REQ);
        assert.equal(d.effect, 'deny');
        assert.deepEqual(d.errors.map((e) => [e.kind, e.name]), [['rule', 'r']]);
        assert.equal(d.transforms, undefined);
      });
      it('without `using`, every string at the path is masked whole (detector null), and every number of untyped data (session 13, L11)', () => {
        const d = compile(policy('rule hide_text { redact action.text }\nrule hide_args { redact action.args "[hidden]" }'), { codegen }).evaluate(REQ);
        assert.equal(d.effect, 'allow');
        assert.deepEqual(d.transforms, [
          { rule: 'hide_text', op: 'redact', path: ['action', 'text'], detector: null, replacement: '[REDACTED]', spans: [{ start: 0, end: 17 }] },
          { rule: 'hide_args', op: 'redact', path: ['action', 'args', 'q'], detector: null, replacement: '[hidden]', spans: [{ start: 0, end: 29 }] },
          { rule: 'hide_args', op: 'redact', path: ['action', 'args', 'n'], detector: null, replacement: '[hidden]', spans: [{ start: 0, end: 1 }] },
          { rule: 'hide_args', op: 'redact', path: ['action', 'args', 'list', 0], detector: null, replacement: '[hidden]', spans: [{ start: 0, end: 1 }] },
          { rule: 'hide_args', op: 'redact', path: ['action', 'args', 'list', 1], detector: null, replacement: '[hidden]', spans: [{ start: 0, end: 40 }] },
        ]);
        assert.equal(decisionSchema.safeParse(JSON.parse(JSON.stringify(d))).success, true);
        const masked = applyTransforms(REQ, d);
        assert.equal(masked.action.text, '[REDACTED]');
        assert.deepEqual(masked.action.args, { q: '[hidden]', n: '[hidden]', list: ['[hidden]', '[hidden]'] });
        assert.deepEqual(maskedSummary(d.transforms)[0], { rule: 'hide_text', path: 'action.text', detector: null, spans: 1 });
        // An empty string has nothing to mask.
        assert.equal(compile(policy('rule hide_text { redact action.text }'), { codegen }).evaluate({ action: { kind: 'k', n: 1, text: '' } }).transforms, undefined);
      });
      it('an invalid request is not rewritten', () => {
        const d = compile(policy(RULES), { codegen }).evaluate({ prompt: 'bob@example.com' });
        assert.equal(d.effect, 'deny');
        assert.equal(d.transforms, undefined);
      });
    });
  }

  it('both backends and the Engine give the same transforms', async () => {
    const a = compile(policy(RULES), { codegen: true });
    const b = compile(policy(RULES), { codegen: false });
    const reqs = [REQ, { action: { kind: 'k', n: 1 } }, { action: { kind: 'k', n: 1, args: { deep: { x: ['sk_live_4eC39HqLyjWDarjtT1zdp7dc'] } } } }];
    for (const r of reqs) {
      const da = a.evaluate(r);
      assert.deepEqual(da.transforms, b.evaluate(r).transforms);
      assert.deepEqual((await new Engine(a).decide(r)).transforms, da.transforms);
      assert.deepEqual((await new Engine(b).decide(r)).transforms, da.transforms);
      assert.deepEqual(a.evaluate(r, { explain: true }).transforms, da.transforms);
    }
  });

  it('the decision JSON Schema and the OpenAPI document (rein serve) describe `transforms`', () => {
    const props = (decisionJsonSchema() as { properties: Record<string, { items?: { properties?: Record<string, unknown> } }> }).properties;
    assert.deepEqual(Object.keys(props.transforms.items!.properties!).sort(), ['detector', 'key', 'op', 'path', 'replacement', 'rule', 'spans']);
    const doc = JSON.stringify(openApiDocument());
    assert.ok(doc.includes('"transforms"') && doc.includes('"replacement"'), 'openapi.json lacks transforms');
  });

  describe('test blocks: `expect EFFECT with redact PATH, …` / `with redact none`', () => {
    const TESTS = `
test "masks the prompt, the key and the first message" {
  given { action: { kind: "k", n: 1, args: { q: "AKIAIOSFODNN7EXAMPLE" } }, prompt: "bob@example.com", messages: [{ role: "u", text: "123-45-6789" }] }
  expect allow with redact prompt, action.args.q, messages[0].text
}
test "nothing to mask" {
  given { action: { kind: "k", n: 1 } }
  expect allow with redact none
}
test "a wrong path fails" {
  given { action: { kind: "k", n: 1 }, prompt: "bob@example.com" }
  expect allow with redact action.args.q
}
test "masked but none expected fails" {
  given { action: { kind: "k", n: 1 }, prompt: "bob@example.com" }
  expect allow with redact none
}`;
    it('passes when the masked paths are exactly the listed ones, and says what differs otherwise', () => {
      const r = runTests(compile(policy(RULES + TESTS)));
      assert.deepEqual(r.results.map((t) => [t.name, t.passed]), [
        ['masks the prompt, the key and the first message', true],
        ['nothing to mask', true],
        ['a wrong path fails', false],
        ['masked but none expected fails', false],
      ]);
      assert.equal(r.results[2].message, 'expected with redact action.args.q, got prompt');
      assert.equal(r.results[3].message, 'expected with redact none, got prompt');
      assert.deepEqual(r.results[0].actual?.redact, ['action.args.q', 'messages[0].text', 'prompt']);
    });
    it('the checker wants request paths; the formatter keeps the clause', () => {
      assert.match(errors(RULES + 'test "t" { given { action: { kind: "k", n: 1 } }  expect allow with redact len(prompt ?? "") }')[0], /`expect … with redact` lists paths into the request/);
      const src = `policy p { default allow }\n${INPUT}\n${RULES}${TESTS}\n`;
      const out = format(src);
      assert.match(out, /\n {2}expect allow with redact prompt, action\.args\.q, messages\[0\]\.text\n/);
      assert.match(out, /\n {2}expect allow with redact none\n/);
      assert.equal(format(out), out);
    });
  });

  describe('applyTransforms', () => {
    const d = compile(policy(RULES)).evaluate(REQ);
    it('applies every span right to left and returns a new request; the original is untouched', () => {
      const before = JSON.stringify(REQ);
      const out = applyTransforms(REQ, d);
      assert.equal(JSON.stringify(REQ), before);
      assert.notEqual(out, REQ);
      assert.equal(out.prompt, 'mail [email] or [email]');
      assert.equal(out.action.args.q, 'key [REDACTED] here');
      assert.deepEqual(out.action.args.list, ['a', '[REDACTED]']);
      assert.equal(out.messages[0].text, 'my ssn is ***-**-****');
      // What no transform touches is shared, not copied.
      assert.equal(out.action.text, REQ.action.text);
    });
    it('without transforms, the request itself', () => {
      assert.equal(applyTransforms(REQ, {}), REQ);
      assert.equal(applyTransforms(REQ, { transforms: [] }), REQ);
      assert.equal(applyTransforms(REQ, []), REQ);
    });
    it('takes the decision or its `transforms` list; anything else is a TypeError (regression R11: the list returned the request unmasked, null threw a raw TypeError)', () => {
      const d = compile(policy(RULES)).evaluate(REQ);
      assert.ok(d.transforms!.length > 0);
      assert.deepEqual(applyTransforms(REQ, d.transforms!), applyTransforms(REQ, d));
      assert.notDeepEqual(applyTransforms(REQ, d.transforms!), REQ);
      for (const bad of [null, undefined, 'transforms', 3]) {
        assert.throws(() => applyTransforms(REQ, bad as never), (e: Error) => e instanceof TypeError && /applyTransforms: expected the decision \(or its `transforms` list\) as the second argument, got /.test(e.message));
      }
    });
    it('spans of several rules on one string refer to the original text; overlaps merge', () => {
      const ts: Transform[] = [
        { rule: 'a', op: 'redact', path: ['s'], detector: 'x', replacement: '<A>', spans: [{ start: 0, end: 3 }, { start: 8, end: 10 }] },
        { rule: 'b', op: 'redact', path: ['s'], detector: 'y', replacement: '<B>', spans: [{ start: 2, end: 5 }] },
      ];
      assert.deepEqual(applyTransforms({ s: 'abcdefghij' }, { transforms: ts }), { s: '<A>fgh<A>' });
    });
    it('a transform that does not fit the request is a RangeError', () => {
      const t = (path: (string | number)[], start: number, end: number): { transforms: Transform[] } => ({ transforms: [{ rule: 'r', op: 'redact', path, detector: 'd', replacement: 'x', spans: [{ start, end }] }] });
      assert.throws(() => applyTransforms({ s: 'abc' }, t(['s'], 1, 9)), RangeError);
      assert.throws(() => applyTransforms({ s: true }, t(['s'], 0, 1)), /no string at `s`/);
      // a number is masked through its decimal text (untyped data, session 13 L11): a span past it does not fit
      assert.deepEqual(applyTransforms({ s: 12 }, t(['s'], 0, 1)), { s: 'x2' });
      assert.throws(() => applyTransforms({ s: 1 }, t(['s'], 0, 2)), /does not fit the 1-character string at `s`/);
      assert.throws(() => applyTransforms({ a: null }, t(['a', 'b'], 0, 1)), /no value at `a.b`/);
    });
    it('keys like __proto__ are written as own data', () => {
      const req = JSON.parse('{"__proto__": "bob@example.com"}') as Record<string, unknown>;
      const out = applyTransforms(req, { transforms: [{ rule: 'r', op: 'redact', path: ['__proto__'], detector: 'pii.email', replacement: 'x', spans: [{ start: 0, end: 15 }] }] });
      assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'x');
      assert.equal(Object.getPrototypeOf(out), Object.prototype);
    });
    it('maskedSummary keeps rule, path, detector and the span count, never the text', () => {
      const s = maskedSummary(d.transforms);
      assert.deepEqual(s[0], { rule: 'mask_prompt', path: 'prompt', detector: 'pii.email', spans: 2 });
      assert.equal(s[2].path, 'action.args.list[1]');
      assert.equal(JSON.stringify(s).includes('bob@'), false);
      assert.equal(pathText(['a', 'b c', 0]), 'a["b c"][0]');
    });
  });
});
