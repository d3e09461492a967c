// `rein audit verify`, `rein audit replay` and `rein report` on a log written by the engine's hook.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { AuditLogger } from '../../language/audit/logger.js';
import { FileAuditLog } from '../../language/node/audit-file.js';
import { runBin, runMain } from './helpers.js';

const SCHEMA = `input {
  agent: { team: string }
  action: { tool: string }
  cost: money
}
`;
const V1 = `policy audited {
  version "1.0.0"
  default allow
}
rule no_shell {
  when action.tool == "shell.exec"
  deny "no shell"
}
budget team_daily {
  limit $1 per day
  charge cost
  by agent.team
}
`;

describe('rein audit / rein report', function () {
  this.timeout(60_000);
  let dir: string;
  let log: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rein-audit-cli-'));
    writeFileSync(join(dir, 'schema.rein'), SCHEMA);
    writeFileSync(join(dir, 'rules.rein'), V1);
    log = join(dir, 'decisions.jsonl');
    const logger = new AuditLogger(new FileAuditLog(log), { redact: ['agent.team'] });
    const engine = new Engine(compile({ 'schema.rein': SCHEMA, 'rules.rein': V1 }), { onDecision: logger.hook(), clock: () => new Date('2026-11-25T10:00:00Z') });
    for (const tool of ['kb.search', 'shell.exec', 'kb.search', 'db.drop', 'kb.search']) await engine.decide({ agent: { team: 'support' }, action: { tool }, cost: '0.30' });
    await logger.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the engine hook logs every decision with its request (redacted) and latency', () => {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    assert.deepEqual(lines.map((l) => l.decision.effect), ['allow', 'deny', 'allow', 'allow', 'deny']);
    assert.deepEqual(lines[1].request, { agent: { team: '[redacted]' }, action: { tool: 'shell.exec' }, cost: '0.30' });
    assert.equal(typeof lines[0].latency_ms, 'number');
    assert.equal(lines[0].policy.version, '1.0.0');
  });

  it('verify: exit 0 on an intact log (as a process)', async () => {
    const r = await runBin(['audit', 'verify', log]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /intact: 5 records/);
  });

  it('verify: exit 7 and the broken record when a line is changed', async () => {
    const bad = join(dir, 'tampered.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[1] = lines[1].replace('"effect":"deny"', '"effect":"allow"');
    writeFileSync(bad, lines.join('\n'));
    const r = await runMain(['audit', 'verify', bad, '--format', 'json']);
    assert.equal(r.code, 7);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.equal(out.problem.line, 2);
    assert.equal(out.problem.seq, 1);
  });

  it('replay: lists decisions that change under another policy (exit 6), none under the same (exit 0)', async () => {
    const same = await runMain(['audit', 'replay', log, '--policy', dir]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    // the fifth decision was denied by the budget ($0.90 spent + $0.30 > $1): not replayable without its spend
    assert.match(same.stdout, /4 requests replayed: 0 changed, 4 unchanged; skipped: 1 decided by a budget/);
    const v2 = join(dir, 'v2');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(v2);
    writeFileSync(join(v2, 'schema.rein'), SCHEMA);
    writeFileSync(join(v2, 'rules.rein'), V1.replace('"1.0.0"', '"2.0.0"').replace('action.tool == "shell.exec"', 'action.tool in ["shell.exec", "db.drop"]'));
    const changed = await runMain(['audit', 'replay', log, '--policy', v2, '--format', 'json']);
    assert.equal(changed.code, 6, changed.stderr);
    const rep = JSON.parse(changed.stdout);
    assert.equal(rep.summary.changed, 1);
    assert.equal(rep.changes[0].seq, 3);
    assert.equal(rep.changes[0].old.effect, 'allow');
    assert.equal(rep.changes[0].new.effect, 'deny');
  });

  it('replay: a policy that stops masking or warning is a change; the same policy on the masked log is not (regression: "0 changed")', async () => {
    const base = 'policy p { default allow }\ninput { tool: string, text?: string }\n';
    const rules = base + 'rule mask { when text != null redact text using pii.email "[email]" }\nrule w { when tool == "big" warn "big" }\n';
    const tdir = mkdtempSync(join(tmpdir(), 'rein-audit-masked-'));
    try {
      const { mkdirSync } = await import('node:fs');
      for (const [d, src] of [['same', rules], ['none', base], ['dry', rules.replace('rule mask', '@monitor rule mask')]] as const) {
        mkdirSync(join(tdir, d));
        writeFileSync(join(tdir, d, 'a.rein'), src);
      }
      const tlog = join(tdir, 'decisions.jsonl');
      const logger = new AuditLogger(new FileAuditLog(tlog), { includeRequest: true });
      const engine = new Engine(compile({ 'a.rein': rules }), { onDecision: logger.hook(), clock: () => new Date('2026-11-25T10:00:00Z') });
      await engine.decide({ tool: 'x', text: 'mail bob@corp.com' });
      await engine.decide({ tool: 'big' });
      await engine.decide({ tool: 'y', text: 'nothing to mask' });
      await logger.close();
      // the log holds the masked text ("mail [email]"): the same policy still reads as unchanged
      const same = await runMain(['audit', 'replay', tlog, '--policy', join(tdir, 'same')]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /3 requests replayed: 0 changed, 3 unchanged/);
      const none = await runMain(['audit', 'replay', tlog, '--policy', join(tdir, 'none')]);
      assert.equal(none.code, 6, none.stdout + none.stderr);
      assert.match(none.stdout, /seq 0: allow → allow\n  logged: default\n  now:    default\n  masks: mask: text → none\n/);
      assert.match(none.stdout, /seq 1: allow → allow\n(?:  .*\n){2}  warnings: w → none\n/);
      assert.match(none.stdout, /3 requests replayed: 2 changed, 1 unchanged/);
      // `@monitor` on the redact rule: it matches but masks nothing any more
      const dry = await runMain(['audit', 'replay', tlog, '--policy', join(tdir, 'dry'), '--format', 'json']);
      assert.equal(dry.code, 6, dry.stdout + dry.stderr);
      const rep = JSON.parse(dry.stdout);
      // (seq 2 as well: its text has nothing to mask, but the dry-run rule matches it and is listed)
      assert.deepEqual(rep.changes.map((c: { seq: number }) => c.seq), [0, 2]);
      assert.deepEqual([rep.changes[0].old.transforms, rep.changes[0].new.transforms, rep.changes[0].new.monitored], [['mask: text'], [], ['mask (redact)']]);
    } finally {
      rmSync(tdir, { recursive: true, force: true });
    }
  });

  it('replay: a log written in monitor mode is replayed in monitor mode (regression: every would-deny read as changed)', async () => {
    const mdir = mkdtempSync(join(tmpdir(), 'rein-audit-monitor-'));
    try {
      writeFileSync(join(mdir, 'schema.rein'), SCHEMA);
      writeFileSync(join(mdir, 'rules.rein'), V1);
      const mlog = join(mdir, 'decisions.jsonl');
      const logger = new AuditLogger(new FileAuditLog(mlog));
      const engine = new Engine(compile({ 'schema.rein': SCHEMA, 'rules.rein': V1 }), { mode: 'monitor', onDecision: logger.hook(), clock: () => new Date('2026-11-25T10:00:00Z') });
      for (const tool of ['kb.search', 'shell.exec']) await engine.decide({ agent: { team: 'support' }, action: { tool }, cost: '0.01' });
      await logger.close();
      const lines = readFileSync(mlog, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => [l.decision.mode, l.decision.effect]), [['monitor', 'allow'], ['monitor', 'allow']]);
      const same = await runMain(['audit', 'replay', mlog, '--policy', mdir]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /2 requests replayed: 0 changed, 2 unchanged/);
      // without the shell rule, the monitored deny is gone: a change
      writeFileSync(join(mdir, 'rules.rein'), V1.replace('action.tool == "shell.exec"', 'action.tool == "never"'));
      const changed = await runMain(['audit', 'replay', mlog, '--policy', mdir, '--format', 'json']);
      assert.equal(changed.code, 6, changed.stdout + changed.stderr);
      const rep = JSON.parse(changed.stdout);
      assert.deepEqual(rep.changes.map((c: { seq: number; old: { monitored: string[] }; new: { monitored: string[] } }) => [c.seq, c.old.monitored, c.new.monitored]), [[1, ['no_shell (deny)'], []]]);
    } finally {
      rmSync(mdir, { recursive: true, force: true });
    }
  });

  it('replay: a decision allowed with an approval is replayed with it — unchanged under the same policy (regression: every approved request read as changed)', async () => {
    const rules = `policy approved {
  default allow
}
rule big {
  when cost > $1
  require approval from "finance" "big spend"
}
rule two {
  when action.tool == "pay"
  require approval quorum 2 expires 1h "two people"
}
`;
    const adir = mkdtempSync(join(tmpdir(), 'rein-audit-approved-'));
    try {
      writeFileSync(join(adir, 'schema.rein'), SCHEMA);
      writeFileSync(join(adir, 'rules.rein'), rules);
      const alog = join(adir, 'decisions.jsonl');
      const logger = new AuditLogger(new FileAuditLog(alog));
      const when = new Date('2026-11-25T10:00:00Z');
      const policy = compile({ 'schema.rein': SCHEMA, 'rules.rein': rules });
      const engine = new Engine(policy, { onDecision: logger.hook(), clock: () => when });
      const big = { agent: { team: 'a' }, action: { tool: 'x' }, cost: '5' };
      const pay = { agent: { team: 'a' }, action: { tool: 'pay' }, cost: '0.5' };
      const h1 = policy.requestHash(big)!;
      const h2 = policy.requestHash(pay)!;
      assert.equal((await engine.decide(big)).effect, 'require_approval');
      assert.equal((await engine.decide(big, { approvals: [{ rule: 'big', request_hash: h1 }] })).effect, 'allow');
      assert.equal((await engine.decide(pay, { approvals: [{ rule: 'two', request_hash: h2, approver: 'ann', at: when.getTime() }, { rule: 'two', request_hash: h2, approver: 'bo', at: when.getTime() }] })).effect, 'allow');
      await logger.close();
      const same = await runMain(['audit', 'replay', alog, '--policy', adir]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /3 requests replayed: 0 changed, 3 unchanged/);
      // a policy that now denies the big spend: the approved decision changes, and says why
      writeFileSync(join(adir, 'rules.rein'), rules.replace('require approval from "finance" "big spend"', 'deny "no big spend"'));
      const changed = await runMain(['audit', 'replay', alog, '--policy', adir, '--format', 'json']);
      assert.equal(changed.code, 6, changed.stdout + changed.stderr);
      const rep = JSON.parse(changed.stdout);
      assert.deepEqual(rep.changes.map((c: { seq: number; old: { effect: string }; new: { effect: string } }) => [c.seq, c.old.effect, c.new.effect]), [
        [0, 'require_approval', 'deny'],
        [1, 'allow', 'deny'],
      ]);
    } finally {
      rmSync(adir, { recursive: true, force: true });
    }
  });

  it('report: writes a self-contained HTML page', async () => {
    const out = join(dir, 'report.html');
    const r = await runMain(['report', log, '-o', out, '--title', 'Audit of audited']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(out));
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<title>Audit of audited<\/title>/);
    assert.match(html, /chain intact/);
    assert.match(html, /id="deny"><span>denied<\/span><b>2<\/b>/);
  });

  it('report: -o creates missing folders; a file that is not a decision log is an error (exit 2)', async () => {
    const out = join(dir, 'new', 'folder', 'report.html');
    const r = await runMain(['report', log, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(out));
    const notLog = join(dir, 'package.json');
    writeFileSync(notLog, '{"name":"x"}\n');
    const bad = await runMain(['report', notLog, '-o', join(dir, 'r2.html')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /is not a decision log/);
    assert.ok(!existsSync(join(dir, 'r2.html')));
  });

  it('report --format json: the figures and the chain check as JSON, on stdout or to -o', async () => {
    const r = await runMain(['report', log, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.total, rep.byEffect.allow + rep.byEffect.deny + rep.byEffect.require_approval);
    assert.equal(rep.byEffect.deny, 2, 'as the HTML page shows (denied 2)');
    assert.equal(rep.verify.ok, true);
    assert.deepEqual(rep.sources, [log]);
    const out = join(dir, 'json', 'report.json');
    const w = await runMain(['report', log, '-f', 'json', '-o', out]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, '');
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), rep);
    const html = await runMain(['report', log]);
    assert.equal(html.code, 2);
    assert.match(html.stderr, /-o\/--output FILE is required \(the HTML page is written to a file; --format json prints to stdout\)/);
    const bad = await runMain(['report', log, '--format', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be one of html, json \(got `xml`\)/);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await runMain(['audit'])).code, 2);
    assert.equal((await runMain(['audit', 'frobnicate', log])).code, 2);
    assert.equal((await runMain(['audit', 'replay', log])).code, 2);
    assert.equal((await runMain(['report', log])).code, 2);
    assert.equal((await runMain(['audit', 'verify', join(dir, 'missing.jsonl')])).code, 2);
  });
});
