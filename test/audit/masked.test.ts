// The audit record of a decision with transforms (issue #18): it records what was masked (the
// decision's `transforms`: rule, path, detector, spans) and never the masked text — not in the
// logged request, and not where the decision repeats request text (an `extern def`'s arguments and
// result, a rule's message, an error, a budget key).
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { parseRecords, verifyChain } from '../../language/audit/record.js';

const SECRET = 'bob@example.com';
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SRC = `policy masked_audit { default allow }
input {
  prompt: string
  user: string
}
/// The host's echo of a text (stands for an NER model or a judge that returns what it read).
extern def echo(text: string): string
rule mask { redact prompt using pii.email "[email]" }
rule mask_keys { redact prompt using secrets.aws }
rule read_it {
  when echo(prompt) != ""
  warn "read: \${prompt}"
}
budget per_user {
  limit 100 per day
  charge 1
  by prompt
}
`;

describe('audit: a decision with transforms', () => {
  async function logOf(request: Record<string, unknown>) {
    const sink = new MemoryAuditSink();
    const logger = new AuditLogger(sink);
    const engine = new Engine(compile({ 'p.rein': SRC }, { externs: { echo: (t: string) => `seen ${t}` } }), { onDecision: logger.hook() });
    const d = await engine.decide(request);
    await engine.settle(d, {});
    return { d, text: sink.text() };
  }

  it('keeps no masked text anywhere in the record, and records what was masked', async () => {
    const { d, text } = await logOf({ prompt: `mail ${SECRET} key ${KEY}`, user: 'u1' });
    // The decision itself (for the host) carries the request's text where the policy put it.
    assert.ok(JSON.stringify(d.externs).includes(SECRET));
    assert.ok(d.warnings[0]!.message!.includes(SECRET));
    assert.equal(text.includes(SECRET), false, `the audit log holds the e-mail address: ${text}`);
    assert.equal(text.includes(KEY), false, 'the audit log holds the key');
    const [rec] = parseRecords(text);
    assert.deepEqual(rec!.request, { prompt: 'mail [email] key [REDACTED]', user: 'u1' });
    assert.deepEqual(rec!.decision.externs, [{ name: 'echo', args: ['mail [email] key [REDACTED]'], value: 'seen mail [email] key [REDACTED]' }]);
    assert.equal(rec!.decision.warnings[0]!.message, 'read: mail [email] key [REDACTED]');
    assert.deepEqual(rec!.decision.budgets[0]!.key, ['mail [email] key [REDACTED]']);
    assert.deepEqual(
      rec!.decision.transforms!.map((t) => [t.rule, t.path, t.detector, t.replacement, t.spans]),
      [
        ['mask', ['prompt'], 'pii.email', '[email]', [{ start: 5, end: 20 }]],
        ['mask_keys', ['prompt'], 'secrets.aws', '[REDACTED]', [{ start: 25, end: 45 }]],
      ],
    );
    assert.equal(verifyChain([{ source: 'log', text }]).ok, true);
  });

  it('a decision without transforms is logged as it is', async () => {
    const { text } = await logOf({ prompt: 'nothing here', user: 'u1' });
    const [rec] = parseRecords(text);
    assert.deepEqual(rec!.decision.externs, [{ name: 'echo', args: ['nothing here'], value: 'seen nothing here' }]);
    assert.equal(rec!.decision.warnings[0]!.message, 'read: nothing here');
  });
});
