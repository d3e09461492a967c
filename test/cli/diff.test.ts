import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FIXTURES, runBin, runMain } from './helpers.js';

describe('rein diff', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('reports every changed decision with its line, old and new effect, and exits 6 (process)', async () => {
    const r = await runBin(['diff', 'valid', 'v2', '--inputs', 'requests/replay.jsonl']);
    assert.equal(r.code, 6, r.stderr);
    // line 2: fs.delete is newly blocked; line 5: a 500 transfer now needs approval (line 3 is blank)
    assert.match(r.stdout, /^requests\/replay\.jsonl:2: allow → deny$/m);
    assert.match(r.stdout, /^  new: rule no_destructive_tools$/m);
    assert.match(r.stdout, /^requests\/replay\.jsonl:5: allow → require_approval$/m);
    assert.doesNotMatch(r.stdout, /replay\.jsonl:[14]:/);
    assert.match(r.stdout, /4 requests: 2 changed, 2 unchanged/);
  });

  it('--format json', async () => {
    const r = await runMain(['diff', 'valid', 'v2', '--inputs', 'requests/replay.jsonl', '--format', 'json']);
    assert.equal(r.code, 6);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.changes.map((c: { line: number }) => c.line), [2, 5]);
    assert.equal(out.changes[0].old.effect, 'allow');
    assert.equal(out.changes[0].new.effect, 'deny');
    assert.deepEqual(out.changes[0].new.reasons.map((x: { name: string }) => x.name), ['no_destructive_tools']);
    assert.deepEqual(out.changes[1].new.approvals, ['large_transfer']);
    assert.deepEqual(out.summary, { requests: 4, changed: 2, unchanged: 2, malformed: 0 });
  });

  it('no change → exit 0; the same policy against itself never changes', async () => {
    const a = await runMain(['diff', 'valid', 'v2', '--inputs', 'requests/unchanged.jsonl']);
    assert.equal(a.code, 0, a.stdout);
    assert.match(a.stdout, /2 requests: 0 changed, 2 unchanged/);
    const b = await runMain(['diff', 'valid', 'valid', '--inputs', 'requests/replay.jsonl']);
    assert.equal(b.code, 0);
  });

  it('malformed lines are reported with their line numbers and exit 2', async () => {
    const r = await runMain(['diff', 'valid', 'v2', '--inputs', 'requests/malformed.jsonl']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /requests\/malformed\.jsonl:2: invalid JSON/);
    assert.match(r.stderr, /requests\/malformed\.jsonl:3: expected a JSON object/);
    assert.match(r.stdout, /1 request: 0 changed, 1 unchanged, 2 malformed/);
  });

  it('reads requests from standard input; policy errors exit 1', async () => {
    const input = readFileSync(path.join(FIXTURES, 'requests/replay.jsonl'), 'utf8');
    const r = await runBin(['diff', 'valid', 'v2', '--inputs', '-'], { input });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stdout, /^<stdin>:2: allow → deny$/m);
    const broken = await runMain(['diff', 'valid', 'broken', '--inputs', 'requests/replay.jsonl']);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /error REIN200/);
  });

  it('a version that stops masking, drops a warning or a monitored rule is a change (regression: "0 changed", exit 0)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-diff-tx-'));
    try {
      const schema = 'policy p { default allow }\ninput { tool: string, text?: string }\n';
      const rules = [
        'rule mask { when text != null redact text using pii.email "[email]" }',
        'rule w { when tool == "big" warn "big tool" }',
        '@monitor rule m { when tool == "m" deny "m" }',
      ];
      mkdirSync(path.join(dir, 'old'));
      mkdirSync(path.join(dir, 'new'));
      writeFileSync(path.join(dir, 'old', 'a.rein'), schema + rules.join('\n') + '\n');
      writeFileSync(path.join(dir, 'new', 'a.rein'), schema);
      const inputs = path.join(dir, 'in.jsonl');
      writeFileSync(inputs, ['{"tool":"x","text":"mail bob@corp.com"}', '{"tool":"big"}', '{"tool":"m"}', '{"tool":"y"}'].join('\n') + '\n');
      const r = await runMain(['diff', 'old', 'new', '--inputs', 'in.jsonl'], { cwd: dir });
      assert.equal(r.code, 6, r.stdout + r.stderr);
      assert.match(r.stdout, /^in\.jsonl:1: allow → allow\n  old: default\n  new: default\n  masks: mask: text → none$/m);
      assert.match(r.stdout, /^in\.jsonl:2: allow → allow\n(?:  .*\n){2}  warnings: w → none$/m);
      assert.match(r.stdout, /^in\.jsonl:3: allow → allow\n(?:  .*\n){2}  monitored: m \(deny\) → none$/m);
      assert.match(r.stdout, /4 requests: 3 changed, 1 unchanged/);
      const j = await runMain(['diff', 'old', 'new', '--inputs', 'in.jsonl', '--format', 'json'], { cwd: dir });
      assert.equal(j.code, 6);
      const out = JSON.parse(j.stdout);
      assert.deepEqual(out.changes.map((c: { line: number }) => c.line), [1, 2, 3]);
      assert.deepEqual(out.changes[0].old.transforms, ['mask: text']);
      assert.deepEqual(out.changes[0].new.transforms, []);
      assert.deepEqual(out.changes[1].old.warnings, ['w']);
      assert.deepEqual(out.changes[2].old.monitored, ['m (deny)']);
      // the other way round, and a set against itself
      assert.equal((await runMain(['diff', 'new', 'old', '--inputs', 'in.jsonl'], { cwd: dir })).code, 6);
      assert.equal((await runMain(['diff', 'old', 'old', '--inputs', 'in.jsonl'], { cwd: dir })).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a UTF-8 byte order mark at the start of --inputs (rein diff) or -i (rein eval) is not part of the JSON (regression: malformed line / not valid JSON, exit 2)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-diff-bom-'));
    try {
      const replay = readFileSync(path.join(FIXTURES, 'requests/replay.jsonl'), 'utf8');
      writeFileSync(path.join(dir, 'bom.jsonl'), '\ufeff' + replay);
      const r = await runMain(['diff', 'valid', 'v2', '--inputs', path.join(dir, 'bom.jsonl')]);
      assert.equal(r.code, 6, r.stdout + r.stderr);
      assert.match(r.stdout, /4 requests: 2 changed, 2 unchanged$/m);
      const first = replay.split('\n')[0];
      writeFileSync(path.join(dir, 'bom.json'), '\ufeff' + first);
      const e = await runMain(['eval', 'valid', '-i', path.join(dir, 'bom.json'), '--now', '2026-01-05T10:00:00Z']);
      const plain = await runMain(['eval', 'valid', '-i', '-', '--now', '2026-01-05T10:00:00Z'], { input: first });
      assert.equal(e.code, plain.code, e.stdout + e.stderr);
      assert.equal(e.stdout, plain.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
