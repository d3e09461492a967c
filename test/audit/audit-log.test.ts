import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { verifyChain, GENESIS, parseRecords } from '../../language/audit/record.js';
import { FileAuditLog, auditFiles } from '../../language/node/audit-file.js';
import { sampleDecision } from '../helpers/audit-decisions.js';
import type { Decision } from '../../language/runtime/decision.js';

function decision(i: number): Decision {
  const effect = (['allow', 'deny', 'require_approval'] as const)[i % 3];
  return sampleDecision(i, { effect, reasons: effect === 'deny' ? [{ kind: 'rule', name: 'no_destructive_tools', effect: 'deny', message: `tool t${i} is blocked` }] : [] });
}

function logText(n: number): string {
  const sink = new MemoryAuditSink();
  const logger = new AuditLogger(sink, { redact: ['action.text'] });
  for (let i = 0; i < n; i++) logger.record(decision(i), { request: { action: { tool: `t${i}`, text: 'secret' } }, latencyMs: 0.0123 });
  return sink.text();
}

const verify = (text: string) => verifyChain([{ source: 'log.jsonl', text }]);

describe('audit log: tamper-evident chain', () => {
  const text = logText(10_000);
  const lines = text.trimEnd().split('\n');

  it('a log of 10,000 decisions verifies', () => {
    const r = verify(text);
    assert.equal(r.ok, true, JSON.stringify(r.problem));
    assert.equal(r.records, 10_000);
    assert.equal(JSON.parse(lines[0]).prev, GENESIS);
    assert.equal(JSON.parse(lines[1]).prev, JSON.parse(lines[0]).hash);
  });

  it('records carry the decision, policy, request (redacted) and latency', () => {
    const [first] = parseRecords(lines[0] + '\n');
    assert.equal(first.seq, 0);
    assert.equal(first.policy.version, '1.0.0');
    assert.deepEqual(first.request, { action: { tool: 't0', text: '[redacted]' } });
    assert.equal(first.latency_ms, 0.012);
    assert.equal(first.decision.effect, 'allow');
  });

  it('flipping one byte is caught at that record', () => {
    const k = 4321;
    const tampered = [...lines];
    tampered[k] = tampered[k].replace('"effect":"deny"', '"effect":"allo"').replace('"effect":"allow"', '"effect":"deny!"').replace('"effect":"require_approval"', '"effect":"require_approvaL"');
    assert.notEqual(tampered[k], lines[k]);
    const r = verify(tampered.join('\n') + '\n');
    assert.equal(r.ok, false);
    assert.equal(r.problem!.line, k + 1);
    assert.equal(r.problem!.seq, k);
    assert.match(r.problem!.message, /changed/);
  });

  it('a record rewritten with a recomputed hash is caught at that record', async () => {
    // An attacker who re-seals the changed line still breaks the next record's `prev`.
    const k = 77;
    const rec = JSON.parse(lines[k]);
    rec.decision.effect = 'allow';
    delete rec.hash;
    const { lineHash } = await import('../../language/audit/record.js');
    const body = JSON.stringify(rec);
    const resealed = body.slice(0, -1) + `,"hash":"${lineHash(body)}"}`;
    const tampered = [...lines];
    tampered[k] = resealed;
    const r = verify(tampered.join('\n') + '\n');
    assert.equal(r.ok, false);
    assert.equal(r.problem!.line, k + 1);
    assert.equal(r.problem!.seq, k);
  });

  it('deleting a line is caught where it was', () => {
    const k = 5000;
    const r = verify([...lines.slice(0, k), ...lines.slice(k + 1)].join('\n') + '\n');
    assert.equal(r.ok, false);
    assert.equal(r.problem!.line, k + 1);
    assert.match(r.problem!.message, /removed or reordered/);
  });

  it('swapping two lines is caught at the first of them', () => {
    const k = 123;
    const swapped = [...lines];
    [swapped[k], swapped[k + 1]] = [swapped[k + 1], swapped[k]];
    const r = verify(swapped.join('\n') + '\n');
    assert.equal(r.ok, false);
    assert.equal(r.problem!.line, k + 1);
  });

  it('a failing sink is reported through the callback and counted; decisions are unaffected', async () => {
    const seen: unknown[] = [];
    const logger = new AuditLogger(
      {
        write(line: string) {
          if (line.includes('"seq":1,')) throw new Error('disk full');
          if (line.includes('"seq":2,')) return Promise.reject(new Error('network down'));
        },
      },
      { onError: (e) => seen.push(e) },
    );
    for (let i = 0; i < 4; i++) logger.record(decision(i));
    await new Promise((r) => setImmediate(r));
    assert.equal(logger.failures, 2);
    assert.deepEqual(seen.map((e) => (e as Error).message), ['disk full', 'network down']);
    assert.equal(logger.written, 4);
  });
});

describe('audit log: FileAuditLog', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rein-audit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const verifyFiles = (path: string) => verifyChain(auditFiles(path).map((f) => ({ source: f, text: readFileSync(f, 'utf8') })));

  it('appends, fsyncs, and continues the chain when reopened', async () => {
    const path = join(dir, 'decisions.jsonl');
    let logger = new AuditLogger(new FileAuditLog(path, { fsync: true }));
    for (let i = 0; i < 20; i++) logger.record(decision(i));
    await logger.close();
    logger = new AuditLogger(new FileAuditLog(path));
    for (let i = 20; i < 30; i++) logger.record(decision(i));
    await logger.close();
    const r = verifyFiles(path);
    assert.equal(r.ok, true, JSON.stringify(r.problem));
    assert.equal(r.records, 30);
  });

  it('creates the log\'s missing folders (as docs/embedding.md\'s `audit/decisions.jsonl` needs)', async () => {
    const path = join(dir, 'audit', 'deep', 'decisions.jsonl');
    const logger = new AuditLogger(new FileAuditLog(path));
    for (let i = 0; i < 3; i++) logger.record(decision(i));
    await logger.close();
    assert.equal(verifyFiles(path).records, 3);
  });

  it('rotation by size keeps the chain across files', async () => {
    const path = join(dir, 'decisions.jsonl');
    const logger = new AuditLogger(new FileAuditLog(path, { maxBytes: 4096 }));
    for (let i = 0; i < 200; i++) {
      logger.record(decision(i));
      if (i % 10 === 0) await logger.flush();
    }
    await logger.close();
    const files = auditFiles(path);
    assert.ok(files.length > 3, `rotated into ${files.length} files`);
    const r = verifyFiles(path);
    assert.equal(r.ok, true, JSON.stringify(r.problem));
    assert.equal(r.records, 200);
    // dropping a whole rotated file breaks the chain
    const r2 = verifyChain(files.slice(1).map((f) => ({ source: f, text: readFileSync(f, 'utf8') })));
    assert.equal(r2.ok, false);
  });

  it('a crash mid-write leaves a log that verifies up to the last complete record, and reopening repairs it', async () => {
    const path = join(dir, 'decisions.jsonl');
    const logger = new AuditLogger(new FileAuditLog(path));
    for (let i = 0; i < 10; i++) logger.record(decision(i));
    await logger.close();
    const full = readFileSync(path, 'utf8');
    const nextLine = logText(11).trimEnd().split('\n')[10];
    appendFileSync(path, nextLine.slice(0, 40)); // the process died inside write()
    const r = verifyFiles(path);
    assert.equal(r.ok, true);
    assert.equal(r.records, 10);
    assert.deepEqual(r.truncatedTail, { source: path, line: 11 });
    const repairs: unknown[] = [];
    const again = new AuditLogger(new FileAuditLog(path, { onRepair: (x) => repairs.push(x) }));
    again.record(decision(10));
    await again.close();
    assert.equal(repairs.length, 1);
    assert.ok(readFileSync(path, 'utf8').startsWith(full));
    const r2 = verifyFiles(path);
    assert.equal(r2.ok, true, JSON.stringify(r2.problem));
    assert.equal(r2.records, 11);
    assert.equal(r2.truncatedTail, undefined);
  });

  it('a partial line that is not at the end is a broken record', () => {
    const path = join(dir, 'decisions.jsonl');
    const lines = logText(5).trimEnd().split('\n');
    lines[2] = lines[2].slice(0, 30);
    writeFileSync(path, lines.join('\n') + '\n');
    const r = verifyFiles(path);
    assert.equal(r.ok, false);
    assert.equal(r.problem!.line, 3);
  });
});

describe('audit log: hash functions', () => {
  it('node:crypto and @noble/hashes give the same chain', async () => {
    const { nodeLineHash } = await import('../../language/node/audit-file.js');
    const { lineHash } = await import('../../language/audit/record.js');
    for (const s of ['', 'abc', '{"é":"日本"}', 'x'.repeat(5000)]) assert.equal(nodeLineHash(s), lineHash(s));
    const text = logText(50);
    assert.equal(verifyChain([{ source: 'a', text }], nodeLineHash).ok, true);
  });
});

describe('hashing: node:crypto through useSha256', () => {
  it('rein/node installs a SHA-256 that gives the same digests as the portable one', async () => {
    const { portableSha256Hex, sha256Hex, hashValue } = await import('../../language/runtime/hash.js');
    await import('../../language/node/fast-hash.js');
    // (crypto.hash where Node has it: UTF-8 like TextEncoder, a lone surrogate as U+FFFD)
    for (const s of ['', 'abc', 'é日本', '😀', 'a\ud800b', 'x'.repeat(3000)]) assert.equal(sha256Hex(s), portableSha256Hex(s));
    assert.equal(hashValue({ b: 1, a: [true, null] }), portableSha256Hex('{"a":[true,null],"b":1}'));
    const { useSha256 } = await import('../../language/runtime/hash.js');
    assert.throws(() => useSha256(() => 'sha256:nope'), /does not compute SHA-256/);
  });
});
