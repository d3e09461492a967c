// A full disk under a FileAuditLog (review h13r1 S3): a real 64 KiB tmpfs fills up, then gets room
// again. Nothing is lost, no partial line stays, and the log verifies intact; past maxPendingBytes the
// refused records are lost, counted, and the log breaks at a clean line (a missing predecessor), not at
// an unparsable one. Needs `mount` (root, CAP_SYS_ADMIN): skipped where it is not allowed.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger } from '../../language/audit/logger.js';
import { verifyChain } from '../../language/audit/record.js';
import { FileAuditLog, nodeLineHash } from '../../language/node/audit-file.js';
import { sampleDecision } from '../helpers/audit-decisions.js';

const decision = (i: number) => sampleDecision(i, { day: [2026, 11, 7] });
const request = (i: number) => ({ n: i, note: 'x'.repeat(400) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileAuditLog on a full disk (tmpfs)', function () {
  this.timeout(30_000);
  let root = '';
  let mnt = '';
  const mount = (opts: string) => execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', mnt], { stdio: 'pipe' });
  const remount = (opts: string) => execFileSync('mount', ['-o', `remount,${opts}`, mnt], { stdio: 'pipe' });

  beforeEach(function () {
    root = mkdtempSync(join(tmpdir(), 'rein-full-'));
    mnt = join(root, 'small');
    mkdirSync(mnt);
    try {
      mount('size=64k');
    } catch {
      rmSync(root, { recursive: true, force: true });
      this.skip();
    }
  });
  afterEach(() => {
    try {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    } catch {
      /* not mounted */
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('records wait in memory while the disk is full and are all written when it has room: the chain verifies, no partial line', async () => {
    const file = join(mnt, 'decisions.jsonl');
    const stalls: unknown[] = [];
    const resumes: { written: number; lost: number }[] = [];
    let failures = 0;
    const sink = new FileAuditLog(file, { retryMs: 50, onStall: (i) => stalls.push(i.error), onResume: (i) => resumes.push(i) });
    const logger = new AuditLogger(sink, { onError: () => failures++ });
    const N = 300; // ~200 KiB of records on a 64 KiB disk
    for (let i = 0; i < N; i++) {
      logger.record(decision(i), { request: request(i) });
      if (i % 20 === 0) await sleep(1);
    }
    for (let i = 0; i < 100 && !sink.stalled; i++) await sleep(10);
    assert.equal(sink.stalled, true, 'the disk filled');
    assert.equal(stalls.length, 1, 'one stall, reported once');
    assert.match(String((stalls[0] as Error).message), /ENOSPC/);
    assert.ok(sink.pending > 0);
    await sleep(200); // retries fail meanwhile
    // what is in the file now: complete records only, a prefix of the chain
    const during = readFileSync(file, 'utf8');
    assert.ok(during.length === 0 || during.endsWith('\n'), 'no partial line left by the failed write');
    const partial = verifyChain([{ source: 'decisions.jsonl', text: during }], nodeLineHash);
    assert.equal(partial.ok, true, JSON.stringify(partial.problem));
    assert.ok(partial.records < N);
    await assert.rejects(sink.flush(), /ENOSPC/, 'flush says why it cannot finish (and does not hang)');
    // an operator makes room
    remount('size=2m');
    for (let i = 0; i < 100 && sink.stalled; i++) await sleep(20);
    assert.equal(sink.stalled, false);
    await sink.flush();
    assert.equal(failures, 0, 'nothing lost');
    assert.equal(resumes.length, 1);
    assert.equal(resumes[0]!.lost, 0);
    await sink.close();
    const text = readFileSync(file, 'utf8');
    const r = verifyChain([{ source: 'decisions.jsonl', text }], nodeLineHash);
    assert.equal(r.ok, true, JSON.stringify(r.problem));
    assert.equal(r.records, N);
  });

  it('past maxPendingBytes new records are refused (lost, counted); the log then breaks at a clean line, not an unparsable one', async () => {
    const file = join(mnt, 'decisions.jsonl');
    let failures = 0;
    const sink = new FileAuditLog(file, { retryMs: 50, maxPendingBytes: 16 * 1024 });
    const logger = new AuditLogger(sink, { onError: () => failures++ });
    const N = 300;
    for (let i = 0; i < N; i++) {
      logger.record(decision(i), { request: request(i) });
      if (i % 20 === 0) await sleep(1);
    }
    await sleep(100);
    assert.ok(failures > 0, 'some records were refused');
    remount('size=2m');
    for (let i = 0; i < 100 && sink.stalled; i++) await sleep(20);
    for (let i = 0; i < 20; i++) logger.record(decision(N + i), { request: request(N + i) });
    await sink.close();
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter(Boolean);
    for (const l of lines) JSON.parse(l); // every line is a whole record
    assert.equal(lines.length, N + 20 - failures);
    const r = verifyChain([{ source: 'decisions.jsonl', text }], nodeLineHash);
    assert.equal(r.ok, false);
    assert.doesNotMatch(JSON.stringify(r.problem), /not a JSON record/);
  });
});
