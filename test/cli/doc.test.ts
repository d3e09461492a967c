// `rein doc`: Markdown and HTML documentation of a set from its `///` comments.
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMain } from './helpers.js';

const EX = path.resolve('examples');

describe('rein doc', function () {
  this.timeout(60_000);
  it('Markdown: policy header, every rule and budget with its doc, effect, approvers and message; every test', async () => {
    const r = await runMain(['doc', 'support-agent'], { cwd: EX });
    assert.equal(r.code, 0, r.stderr);
    const md = r.stdout;
    assert.match(md, /^# Policy `support_agent`/);
    assert.match(md, /Guardrails and cost ceilings for the customer-support agent\./);
    const sources = ['budgets.rein', 'rules-data.rein', 'rules-tools.rein', 'tests.rein'].map((f) => readFileSync(path.join(EX, 'support-agent', f), 'utf8')).join('\n');
    for (const m of sources.matchAll(/^rule (\w+)/gm)) assert.ok(md.includes(`### \`${m[1]}\``), `rule ${m[1]}`);
    for (const m of sources.matchAll(/^budget (\w+)/gm)) assert.ok(md.includes(`### \`${m[1]}\``), `budget ${m[1]}`);
    for (const m of sources.matchAll(/^test "([^"]+)"/gm)) assert.ok(md.includes(`**${m[1]}**`), `test ${m[1]}`);
    assert.match(md, /### `large_refund`[\s\S]*?- \*\*effect\*\*: `require approval`\n- \*\*approvers\*\*: `"support-lead"`/);
    assert.match(md, /### `team_model_daily`[\s\S]*?- \*\*limit\*\*: `\$40 per day`[\s\S]*?- \*\*warn at\*\*: `80%`/);
    assert.match(md, /Defined in `budgets\.rein:\d+`/);
  });

  it('a rule\'s `quorum` and `expires` are documented (regression R6: a four-eyes rule read as a one-approver rule)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-doc-q-'));
    try {
      writeFileSync(
        path.join(dir, 'p.rein'),
        'policy p {\n  default allow\n}\n\ninput {\n  amount: int\n}\n\n/// Big amounts.\nrule big {\n  when amount > 100\n  require approval from "finance" quorum 2 expires 30m "big ${amount}"\n}\n\n/// On exceed.\nbudget b {\n  limit 3 per hour\n  charge 1\n  on exceed require approval from "ops" quorum 3 "over"\n}\n',
      );
      const r = await runMain(['doc', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /### `big`[\s\S]*?- \*\*approvers\*\*: `"finance"`\n- \*\*quorum\*\*: `2 distinct approvers`\n- \*\*approval expires\*\*: `30m after it is given`/);
      assert.match(r.stdout, /### `b`[\s\S]*?- \*\*on exceed: quorum\*\*: `3 distinct approvers`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('HTML: one self-contained page (no scripts, nothing fetched), written with -o into a new folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-doc-'));
    try {
      const out = path.join(dir, 'site', 'nested', 'policy.html');
      const r = await runMain(['doc', path.join(EX, 'coding-agent'), '--format', 'html', '-o', out], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(out));
      const html = readFileSync(out, 'utf8');
      assert.match(html, /^<!doctype html>/);
      assert.doesNotMatch(html, /<script|<link|src=|@import|url\(/i);
      assert.match(html, /<h1>Policy <code>coding_agent<\/code><\/h1>/);
      assert.match(html, /id="rule-destructive_shell"/);
      // the rule's doc is escaped text, not markup
      assert.doesNotMatch(html, /<rm /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a set that does not parse: policy errors (exit 1); two sets: a usage error', async () => {
    const broken = await runMain(['doc', 'broken']);
    assert.equal(broken.code, 1);
    // printed as every command prints diagnostics (regression: `syntax.rein:…` relative to the set, no severity, no excerpt)
    assert.match(broken.stderr, /^broken\/syntax\.rein:\d+:\d+ error REIN1\d\d /m);
    assert.match(broken.stderr, /^ {2}\d+ \| /m);
    assert.match(broken.stderr, /\d+ errors?, 0 warnings in 2 files/);
    const r = await runMain(['doc', '.'], { cwd: EX });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /holds \d+ policy sets; document one at a time/);
  });
});
