// The dashboard's incremental chain check names a re-serialised line as such (regression, session 9
// review R6: it said "record has no `hash`" for a line that has one, as `rein audit verify` did).
import { strict as assert } from 'node:assert';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { IncrementalChainCheck } from '../../language/node/serve/dashboard/log-source.js';
import type { AuditRecord } from '../../language/audit/record.js';

describe('dashboard: the incremental chain check', () => {
  it('accepts the log as written; names a re-serialised line, and a line without hash, for what they are', async () => {
    const sink = new MemoryAuditSink();
    const logger = new AuditLogger(sink);
    const engine = new Engine(compile({ 'p.rein': 'policy p { default allow }\ninput { user: string }\n' }), { onDecision: logger.hook() });
    await engine.decide({ user: 'a' });
    await engine.decide({ user: 'b' });
    await logger.close();
    const [a, b] = sink.text().trim().split('\n') as [string, string];
    const run = (lines: string[]) => {
      const c = new IncrementalChainCheck();
      for (const l of lines) c.feed(l, JSON.parse(l) as AuditRecord);
      return c.problem;
    };
    assert.equal(run([a, b]), null);
    const spaced = JSON.stringify(JSON.parse(b), null, 1).replace(/\n\s*/g, ' ');
    assert.match(run([a, spaced])!.message, /not in the log's canonical form/);
    assert.equal(run([a, JSON.stringify({ ...JSON.parse(b), hash: undefined })])!.message, 'record has no `hash`');
  });
});
