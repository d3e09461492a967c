// `redact PATH using DETECTOR` masks map keys too (regression R16 of session 9: only values were
// masked, so `{"bob@example.com": …}` reached the upstream and the log). A key transform (`key: true`)
// renames the entry; masked keys that collide are numbered; without `using`, keys are kept.
import assert from 'node:assert/strict';
import { compile } from '../../language/policy.js';
import { applyTransforms, maskedSummary } from '../../language/runtime/transforms.js';
import { decisionSchema } from '../../language/runtime/decision-schema.js';
import { maskDecision } from '../../language/runtime/mask-decision.js';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { Engine } from '../../language/runtime/engine.js';

const SRC = {
  'p.rein': `policy p { default allow }
input { args: map<any>, whole?: map<string> }
rule mask { redact args using pii.email "[e]" }
rule mask2 { redact args using secrets.any }
rule all { redact whole }
`,
};
const REQ = {
  args: { 'bob@example.com': 'x', 'alice@example.com': 'y', nested: { 'carol@example.org': 1 }, list: [{ AKIAIOSFODNN7EXAMPLE: true }], v: 'dave@example.net', '[e]': 'already' },
  whole: { query: 'text' },
};

describe('redact masks map keys (R16)', () => {
  for (const codegen of [false, true]) {
    it(`every key a detector finds is renamed, in place, on both backends (codegen ${codegen})`, () => {
      const d = compile(SRC, { codegen }).evaluate(REQ);
      const out = applyTransforms(REQ, d);
      const text = JSON.stringify(out);
      for (const secret of ['bob@example.com', 'alice@example.com', 'carol@example.org', 'dave@example.net', 'AKIAIOSFODNN7EXAMPLE']) assert.equal(text.includes(secret), false, `${secret} in ${text}`);
      // order kept; a masked key equal to another key gets a number
      assert.deepEqual(Object.keys(out.args), ['[e]#2', '[e]#3', 'nested', 'list', 'v', '[e]']);
      assert.deepEqual(Object.values(out.args).slice(0, 2), ['x', 'y']);
      assert.equal(out.args['[e]'], 'already');
      assert.deepEqual(out.args.nested, { '[e]': 1 });
      assert.deepEqual(out.args.list, [{ '[REDACTED]': true }]);
      assert.equal(out.args.v, '[e]');
      // without `using`, keys are structure: the values are masked, the key stays
      assert.deepEqual(out.whole, { query: '[REDACTED]' });
      // the original is untouched
      assert.equal(REQ.args['bob@example.com'], 'x');
      const keyT = d.transforms!.filter((t) => t.key);
      assert.equal(keyT.length, 4);
      assert.ok(decisionSchema.safeParse(JSON.parse(JSON.stringify(d))).success);
      assert.equal(JSON.stringify(maskDecision(d, REQ)).includes('bob@example.com'), false);
      // the gateway's log line names paths, masked: `args["[e]"]`, never the key
      const summary = JSON.stringify(maskedSummary(d.transforms));
      assert.equal(summary.includes('example'), false, summary);
      assert.match(summary, /args\[\\"\[e\]\\"\]/);
    });
  }

  it('the audit log keeps no masked key', async () => {
    const sink = new MemoryAuditSink();
    const logger = new AuditLogger(sink);
    const engine = new Engine(compile(SRC), { onDecision: logger.hook() });
    await engine.decide(REQ);
    await logger.close();
    assert.equal(sink.text().includes('bob@example.com'), false, sink.text());
    assert.equal(sink.text().includes('AKIAIOSFODNN7EXAMPLE'), false);
  });

  it('a key transform that does not fit the request is a RangeError, not a silent pass', () => {
    const d = compile(SRC).evaluate(REQ);
    assert.throws(() => applyTransforms({ args: {}, whole: { query: 'text' } }, d), RangeError);
  });
});
