// The audit logger's `redact` paths (regression R13 of session 9): the values at those paths were
// replaced in the logged request but came back verbatim in the same record — in a rule's message, a
// warning, an extern's arguments, a budget key. They are replaced wherever the record repeats them.
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { parseRecords, verifyChain } from '../../language/audit/record.js';

const SRC = `policy a { default allow }
input { action: { text?: string, args?: { to?: string, n?: int } }, user: string }
extern def echo(text: string): string
rule ext { when (action.args.to ?? "").ends_with("@evil.com") deny "mail to \${action.args.to} blocked" }
rule w { when echo(action.text ?? "").contains("secret") warn "text: \${action.text} n=\${action.args.n ?? 0}" }
budget per_to { limit 10 charge 1 by action.args.to ?? "" }
`;

describe('audit: the logger\'s `redact` paths are masked wherever the record repeats them (R13)', () => {
  it('no redacted value appears anywhere in the record; the host\'s decision is untouched', async () => {
    const sink = new MemoryAuditSink();
    const logger = new AuditLogger(sink, { redact: ['action.text', 'action.args'] });
    const engine = new Engine(compile({ 'p.rein': SRC }, { externs: { echo: (t: string) => t } }), { onDecision: logger.hook() });
    const request = { action: { text: 'the secret plan', args: { to: 'ceo@evil.com', n: 424242 } }, user: 'u' };
    const d = await engine.decide(request);
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]!.message, 'mail to ceo@evil.com blocked', 'the decision the host gets keeps the text');
    await logger.close();
    const text = sink.text();
    for (const secret of ['ceo@evil.com', 'secret plan', '424242']) assert.equal(text.includes(secret), false, `the record holds ${secret}: ${text}`);
    const [rec] = parseRecords(text);
    assert.deepEqual(rec!.request, { action: { text: '[redacted]', args: '[redacted]' }, user: 'u' });
    assert.equal(rec!.decision.reasons[0]!.message, 'mail to [redacted] blocked');
    assert.equal(rec!.decision.warnings[0]!.message, 'text: [redacted] n=[redacted]');
    assert.deepEqual(rec!.decision.budgets[0]!.key, ['[redacted]']);
    assert.deepEqual(rec!.decision.externs![0]!.args, ['[redacted]']);
    assert.equal(verifyChain([{ source: 'log', text }]).ok, true);
  });
});

describe('audit: a short redacted value does not damage the record (regression)', () => {
  // The first version replaced the text anywhere: a redacted `5` turned the record's time, policy
  // hash, request hash and reservation id into `…[redacted]…`, and words containing it too.
  it('replaces whole tokens only, and never the record\'s identifiers; the request is scrubbed everywhere', async () => {
    const sink = new MemoryAuditSink();
    const logger = new AuditLogger(sink, { redact: ['action.args.n', 'action.text'] });
    const engine = new Engine(compile({ 'p.rein': SRC }, { externs: { echo: (t: string) => t } }), { onDecision: logger.hook(), clock: () => new Date('2026-12-05T05:05:05.005Z') });
    const request = { action: { text: 'e', args: { to: 'd@ok.com', n: 5 } }, user: 'e' };
    const d = await engine.decide(request);
    await logger.close();
    const [rec] = parseRecords(sink.text());
    const json = JSON.parse(JSON.stringify(d));
    assert.deepEqual(rec!.decision.reasons, json.reasons, 'the letter e and the digit 5 inside words and ids are kept');
    assert.deepEqual(rec!.decision.budgets.map((b: { window: unknown }) => b.window), json.budgets.map((b: { window: unknown }) => b.window));
    assert.equal((rec!.request as { user: string }).user, '[redacted]', 'the same value elsewhere in the request is a whole token: scrubbed');
    assert.equal(verifyChain([{ source: 'log', text: sink.text() }]).ok, true);
  });
});

describe('audit verify: a re-serialised line (R6)', () => {
  it('is reported as not in the log\'s canonical form, not as a record without `hash`', async () => {
    const sink = new MemoryAuditSink();
    const logger = new AuditLogger(sink);
    const engine = new Engine(compile({ 'p.rein': SRC }, { externs: { echo: (t: string) => t } }), { onDecision: logger.hook() });
    await engine.decide({ action: {}, user: 'u' });
    await engine.decide({ action: {}, user: 'v' });
    await logger.close();
    const [a, b] = sink.text().trim().split('\n');
    // Python's json.dumps spacing: the same JSON, other bytes
    const spaced = JSON.stringify(JSON.parse(b!), null, 1).replace(/\n\s*/g, ' ');
    const r = verifyChain([{ source: 'log', text: `${a}\n${spaced}\n` }]);
    assert.equal(r.ok, false);
    assert.equal(r.problem!.line, 2);
    assert.match(r.problem!.message, /not in the log's canonical form/);
    const none = verifyChain([{ source: 'log', text: `${a}\n${JSON.stringify({ ...JSON.parse(b!), hash: undefined })}\n` }]);
    assert.equal(none.problem!.message, 'record has no `hash`');
  });
});
