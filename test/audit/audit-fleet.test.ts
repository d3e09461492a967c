// Audit logs on a fleet: one writer per log (enforced with real processes), files verified in content
// order (not name order), rotation within maxBytes, and signed anchors that catch a cut-off tail or a
// rewritten log.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import { verifyLog, GENESIS } from '../../language/audit/record.js';
import { FileAuditLog, auditFiles, AuditLogLockedError } from '../../language/node/audit-file.js';
import { sampleDecision } from '../helpers/audit-decisions.js';
import type { Decision } from '../../language/runtime/decision.js';
import { runMain } from '../cli/helpers.js';

function decision(i: number): Decision {
  return sampleDecision(i, { effect: i % 2 ? 'deny' : 'allow' });
}

const read = (files: string[]) => files.map((f) => ({ source: f, text: readFileSync(f, 'utf8') }));
/** The order a shell glob gives: by name (`decisions.10.jsonl` before `decisions.2.jsonl`). */
const globOrder = (files: string[]) => [...files].sort();

function writer(env: Record<string, string>): { proc: ChildProcess; output: Promise<{ code: number | null; out: string }>; line: Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/audit/writer.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let onLine: (s: string) => void = () => undefined;
  const line = new Promise<string>((r) => (onLine = r));
  proc.stdout!.on('data', (b) => {
    out += b;
    if (out.includes('\n')) onLine(out.split('\n')[0]);
  });
  proc.stderr!.on('data', (b) => (out += b));
  const output = new Promise<{ code: number | null; out: string }>((r) => proc.on('exit', (code) => r({ code, out })));
  return { proc, output, line };
}

describe('audit log on a fleet', function () {
  this.timeout(60_000);
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rein-audit-fleet-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  describe('one writer per log', () => {
    it('a second process gets a clear error instead of forking the chain; after the first exits it may write', async () => {
      const log = join(dir, 'decisions.jsonl');
      const first = writer({ REIN_LOG: log, REIN_RECORDS: '5', REIN_HOLD: '1' });
      children.push(first.proc);
      assert.equal(await first.line, 'holding');
      const second = writer({ REIN_LOG: log, REIN_RECORDS: '5' });
      children.push(second.proc);
      const r = await second.output;
      assert.equal(r.code, 3, r.out);
      assert.match(r.out, new RegExp(`already written by process ${first.proc.pid}.*one writer per log file`));
      first.proc.kill('SIGTERM');
      await first.output;
      const third = writer({ REIN_LOG: log, REIN_RECORDS: '5' });
      children.push(third.proc);
      assert.equal((await third.output).code, 0);
      const v = verifyLog(read(auditFiles(log)));
      assert.equal(v.ok, true, JSON.stringify(v.problem));
      assert.equal(v.records, 10, 'one chain of 5 + 5 records');
    });

    it('a lock left by a writer killed with -9 is taken over', async () => {
      const log = join(dir, 'decisions.jsonl');
      const first = writer({ REIN_LOG: log, REIN_RECORDS: '3', REIN_HOLD: '1' });
      children.push(first.proc);
      assert.equal(await first.line, 'holding');
      first.proc.kill('SIGKILL');
      await first.output;
      assert.ok(existsSync(log + '.lock'), 'the dead writer left its lock');
      const logger = new AuditLogger(new FileAuditLog(log));
      logger.record(decision(3));
      await logger.close();
      assert.equal(existsSync(log + '.lock'), false, 'close removes the lock');
      assert.equal(verifyLog(read(auditFiles(log))).records, 4);
    });

    it('a lock naming this process\'s own pid, which it does not hold (a container restarted as PID 1), is taken over (review h13r1 S15)', async () => {
      const { hostname } = await import('node:os');
      const log = join(dir, 'decisions.jsonl');
      writeFileSync(log + '.lock', JSON.stringify({ pid: process.pid, host: hostname(), since: new Date(Date.now() - 60_000).toISOString() }) + '\n');
      const a = new FileAuditLog(log);
      assert.equal(JSON.parse(readFileSync(log + '.lock', 'utf8')).pid, process.pid);
      // while held, a second one in this process is still refused
      assert.throws(() => new FileAuditLog(log), AuditLogLockedError);
      await a.close();
    });

    it('a lock whose pid now belongs to a process started after it (pid reused) is taken over; one whose live writer started before it is not (review h13r1 S15)', async function () {
      const { hostname } = await import('node:os');
      if (!existsSync('/proc/self/stat')) this.skip();
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
      children.push(other);
      await new Promise((r) => setTimeout(r, 300));
      const log = join(dir, 'decisions.jsonl');
      // written an hour before `other` started: `other` only reuses the pid
      writeFileSync(log + '.lock', JSON.stringify({ pid: other.pid, host: hostname(), since: new Date(Date.now() - 3_600_000).toISOString() }) + '\n');
      const a = new FileAuditLog(log);
      await a.close();
      // written now, by `other` (alive, started before it): held
      writeFileSync(log + '.lock', JSON.stringify({ pid: other.pid, host: hostname(), since: new Date().toISOString() }) + '\n');
      assert.throws(() => new FileAuditLog(log), AuditLogLockedError);
      other.kill();
    });

    it('two FileAuditLogs on one file in one process: the second throws AuditLogLockedError', async () => {
      const log = join(dir, 'decisions.jsonl');
      const a = new FileAuditLog(log);
      assert.throws(() => new FileAuditLog(log), AuditLogLockedError);
      await a.close();
      const b = new FileAuditLog(log);
      await b.close();
    });

    it('several logs (one per process) verify together, each as its own chain', async () => {
      const logs = ['a', 'b', 'c'].map((p) => join(dir, `decisions-${p}.jsonl`));
      await Promise.all(
        logs.map(async (l, k) => {
          const logger = new AuditLogger(new FileAuditLog(l, { maxBytes: 2000 }));
          for (let i = 0; i < 20 + k; i++) logger.record(decision(1000 * k + i)); // each process logs its own decisions
          await logger.close();
        }),
      );
      const all = globOrder(logs.flatMap((l) => auditFiles(l)));
      const r = await runMain(['audit', 'verify', ...all]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 logs, 63 records/);
    });
  });

  describe('files ordered by content, rotation within maxBytes', () => {
    async function rotated(log: string, records: number, maxBytes: number) {
      const logger = new AuditLogger(new FileAuditLog(log, { maxBytes }));
      for (let i = 0; i < records; i++) {
        logger.record(decision(i));
        if (i % 7 === 0) await logger.flush();
      }
      await logger.close();
      return auditFiles(log);
    }

    it('12 rotated files in shell-glob order (.10 before .2) verify intact', async () => {
      const log = join(dir, 'decisions.jsonl');
      const files = await rotated(log, 130, 5000);
      assert.ok(files.length >= 12, `${files.length} files`);
      const glob = globOrder(files);
      assert.notDeepEqual(glob, files, 'the glob order differs from the chain order');
      const r = verifyLog(read(glob));
      assert.equal(r.ok, true, JSON.stringify(r.problem));
      assert.equal(r.records, 130);
      assert.equal(r.start, undefined, 'from the start of the log');
      const cli = await runMain(['audit', 'verify', ...glob]);
      assert.equal(cli.code, 0, cli.stdout);
      assert.match(cli.stdout, /intact: 130 records in \d+ files from the start of the log/);
    });

    it('the newest file alone verifies from its declared predecessor; a missing middle file is reported', async () => {
      const log = join(dir, 'decisions.jsonl');
      const files = await rotated(log, 60, 3000);
      const newest = verifyLog(read([files[files.length - 1]]));
      assert.equal(newest.ok, true, JSON.stringify(newest.problem));
      assert.ok(newest.start && newest.start.seq > 0 && newest.start.prev !== GENESIS, JSON.stringify(newest.start));
      const lastTwo = verifyLog(read(globOrder(files.slice(-2))));
      assert.equal(lastTwo.ok, true);
      const gap = [...files.slice(0, 2), ...files.slice(3)];
      const broken = verifyLog(read(globOrder(gap)));
      assert.equal(broken.ok, false);
      assert.match(broken.problem!.message, /a file is missing in between/);
      assert.equal((await runMain(['audit', 'verify', ...globOrder(gap)])).code, 7);
    });

    it('every file stays within maxBytes, also when one batch holds many records', async () => {
      const log = join(dir, 'decisions.jsonl');
      const logger = new AuditLogger(new FileAuditLog(log, { maxBytes: 4096 }));
      for (let i = 0; i < 300; i++) logger.record(decision(i)); // one batch: no flush in between
      await logger.close();
      const files = auditFiles(log);
      assert.ok(files.length > 10);
      for (const f of files) assert.ok(statSync(f).size <= 4096, `${f}: ${statSync(f).size} bytes`);
      assert.equal(verifyLog(read(files)).records, 300);
    });
  });

  describe('anchors', () => {
    const SECRET = 'a shared secret of 32 bytes or so';

    async function anchoredLog(log: string, n: number, key: ConstructorParameters<typeof FileAuditLog>[1] extends infer O ? O extends { anchor?: infer A } ? A : never : never) {
      const logger = new AuditLogger(new FileAuditLog(log, { anchor: key }));
      for (let i = 0; i < n; i++) {
        logger.record(decision(i));
        if (i % 5 === 0) await logger.flush();
      }
      await logger.close();
    }

    it('HMAC: an intact log verifies with its anchors; a cut-off tail and a rewritten log are detected', async () => {
      const log = join(dir, 'decisions.jsonl');
      const keyFile = join(dir, 'anchor.key');
      writeFileSync(keyFile, SECRET + '\n');
      await anchoredLog(log, 45, { key: { hmac: SECRET }, every: 10 });
      const anchorsFile = log + '.anchors';
      const anchors = readFileSync(anchorsFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      // after the first batch that reaches 10 records since the last anchor (batches: 0, 1–5, 6–10, …), and on close
      assert.deepEqual(anchors.map((a) => a.seq), [10, 20, 30, 40, 44]);
      const ok = await runMain(['audit', 'verify', log, '--anchors', anchorsFile, '--key', keyFile]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /5 anchors matched/);

      // cut off the last 3 records: the chain alone still verifies, the anchors do not
      const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
      const cut = join(dir, 'cut.jsonl');
      writeFileSync(cut, lines.slice(0, 42).join('\n') + '\n');
      assert.equal((await runMain(['audit', 'verify', cut])).code, 0, 'a hash chain alone cannot see a cut-off tail');
      const r = await runMain(['audit', 'verify', cut, '--anchors', anchorsFile, '--key', keyFile]);
      assert.equal(r.code, 7, r.stdout);
      assert.match(r.stdout, /log was cut off: it ends at seq 41, but seq 44 was anchored/);

      // rewrite the whole log with recomputed hashes (one decision changed): the chain verifies, the anchors catch it
      const sink = new MemoryAuditSink();
      const forger = new AuditLogger(sink);
      for (let i = 0; i < 45; i++) forger.record(i === 25 ? { ...decision(i), effect: 'allow' } : decision(i));
      const forged = join(dir, 'forged.jsonl');
      writeFileSync(forged, sink.text());
      assert.equal((await runMain(['audit', 'verify', forged])).code, 0, 'a rewritten, re-hashed log passes the chain check');
      const f = await runMain(['audit', 'verify', forged, '--anchors', anchorsFile, '--key', keyFile, '--format', 'json']);
      assert.equal(f.code, 7, f.stdout);
      const out = JSON.parse(f.stdout);
      assert.equal(out.problem.seq, 30, 'caught at the first anchored record after the change');
      assert.match(out.problem.message, /rewritten/);
    });

    it('Ed25519: verifies with the public key; a forged anchor or the wrong key is reported', async () => {
      const log = join(dir, 'decisions.jsonl');
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const pub = join(dir, 'anchor.pub');
      writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
      await anchoredLog(log, 23, { key: { ed25519: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, id: 'k1' }, every: 10 });
      const anchorsFile = log + '.anchors';
      const ok = await runMain(['audit', 'verify', log, '--anchors', anchorsFile, '--key', pub]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /3 anchors matched/);
      // an anchor edited to match a cut-off log no longer verifies
      const edited = join(dir, 'edited.anchors');
      const lines = readFileSync(anchorsFile, 'utf8').trimEnd().split('\n');
      lines[2] = lines[2].replace('"seq":22', '"seq":21');
      writeFileSync(edited, lines.join('\n') + '\n');
      const bad = await runMain(['audit', 'verify', log, '--anchors', edited, '--key', pub]);
      assert.equal(bad.code, 7);
      assert.match(bad.stdout, /edited\.anchors:3: anchor: signature does not verify/);
      const other = generateKeyPairSync('ed25519').publicKey;
      const wrong = join(dir, 'other.pub');
      writeFileSync(wrong, other.export({ type: 'spki', format: 'pem' }));
      assert.equal((await runMain(['audit', 'verify', log, '--anchors', anchorsFile, '--key', wrong])).code, 7);
      // usage: one without the other
      assert.equal((await runMain(['audit', 'verify', log, '--anchors', anchorsFile])).code, 2);
    });

    it('anchors every intervalMs when records arrive slowly', async () => {
      const log = join(dir, 'decisions.jsonl');
      const logger = new AuditLogger(new FileAuditLog(log, { anchor: { key: { hmac: SECRET }, every: 1000, intervalMs: 50 } }));
      logger.record(decision(0));
      await logger.flush();
      for (let i = 0; i < 40 && !existsSync(log + '.anchors'); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(existsSync(log + '.anchors'), 'an anchor was written by the timer');
      assert.equal(JSON.parse(readFileSync(log + '.anchors', 'utf8').trim()).seq, 0);
      await logger.close();
    });
  });
});
