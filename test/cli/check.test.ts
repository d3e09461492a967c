import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CODES } from '../../language/diagnostic-codes.js';
import { ANSI, ROOT, runBin, runMain } from './helpers.js';
import { sarifValidator } from '../helpers/sarif.js';


interface JsonOut {
  diagnostics: { file: string; line: number; column: number; endLine: number; endColumn: number; severity: string; code: string; message: string }[];
  summary: { files: number; errors: number; warnings: number };
}

describe('rein check', function () {
  this.timeout(90_000); // spawns `node bin/rein.js` (tsx compiles the sources on first use)
  it('a valid set: exit 0 and a clean summary (process)', async () => {
    const r = await runBin(['check', 'valid']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 errors, 0 warnings in 3 files/);
  });

  it('errors: exit 1, `file:line:col severity code message`, excerpt and caret (process)', async () => {
    const r = await runBin(['check', 'broken']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^broken\/policy\.rein:10:23 error REIN200 unknown name `blocked_toolz`/m);
    // the excerpt shows the line, the caret line underlines exactly the name
    const lines = r.stdout.split('\n');
    const i = lines.findIndex((l) => l.includes('when action.tool in blocked_toolz'));
    assert.ok(i > 0, r.stdout);
    const src = lines[i];
    const carets = lines[i + 1];
    const col = src.indexOf('blocked_toolz');
    assert.equal(carets.indexOf('^'), col);
    assert.equal(carets.lastIndexOf('^') - carets.indexOf('^') + 1, 'blocked_toolz'.length);
    assert.match(r.stdout, /^broken\/syntax\.rein:\d+:\d+ error REIN1\d\d /m);
    assert.doesNotMatch(r.stdout, ANSI, 'no colours when not a TTY');
  });

  it('warnings only: exit 0; --max-warnings 0 makes it exit 1; --max-warnings 2 keeps 0', async () => {
    const a = await runMain(['check', 'warnings']);
    assert.equal(a.code, 0);
    assert.match(a.stdout, /warning REIN300/);
    assert.match(a.stdout, /warning REIN301/);
    const b = await runMain(['check', 'warnings', '--max-warnings', '0']);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /2 warnings exceed --max-warnings 0/);
    const c = await runMain(['check', 'warnings', '--max-warnings', '2']);
    assert.equal(c.code, 0);
    // one over: in the singular ("1 warnings exceed" was the defect)
    const d = await runMain(['check', 'warnings', '--max-warnings', '1']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /rein check: 2 warnings exceed --max-warnings 1/);
  });

  it('one warning over --max-warnings 0 is "1 warning exceeds"', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-warn-'));
    try {
      writeFileSync(path.join(dir, 'p.rein'), 'policy p {\n  default allow\n}\ninput { t: string }\nlet unused = 1\n');
      const r = await runMain(['check', '.', '--max-warnings', '0'], { cwd: dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /^rein check: 1 warning exceeds --max-warnings 0$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--max-warnings exceeded says why in every format: stderr, JSON summary, a GitHub ::error line, a SARIF invocation (regression: exit 1 with only yellow annotations)', async () => {
    const validate = sarifValidator();
    const json = await runMain(['check', 'warnings', '--max-warnings', '0', '--format', 'json']);
    assert.equal(json.code, 1);
    assert.match(json.stderr, /^rein check: 2 warnings exceed --max-warnings 0$/m);
    const out = JSON.parse(json.stdout);
    assert.equal(out.summary.max_warnings, 0);
    assert.equal(out.summary.failure, '2 warnings exceed --max-warnings 0');
    const gh = await runMain(['check', 'warnings', '--max-warnings', '0', '--format', 'github']);
    assert.equal(gh.code, 1);
    assert.match(gh.stdout, /^::error title=rein check::2 warnings exceed --max-warnings 0$/m);
    assert.match(gh.stderr, /2 warnings exceed --max-warnings 0/);
    const sarif = await runMain(['check', 'warnings', '--max-warnings', '0', '--format', 'sarif']);
    assert.equal(sarif.code, 1);
    const log = JSON.parse(sarif.stdout) as { runs: { invocations?: unknown }[] };
    assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.deepEqual(log.runs[0].invocations, [
      { executionSuccessful: true, exitCode: 1, exitCodeDescription: '2 warnings exceed --max-warnings 0', toolExecutionNotifications: [{ level: 'error', message: { text: '2 warnings exceed --max-warnings 0' } }] },
    ]);
    // within the limit: no failure anywhere (the threshold is still in the JSON summary)
    const ok = await runMain(['check', 'warnings', '--max-warnings', '2', '--format', 'json']);
    assert.equal(ok.code, 0);
    assert.equal(ok.stderr, '');
    assert.deepEqual(JSON.parse(ok.stdout).summary, { files: JSON.parse(ok.stdout).summary.files, errors: 0, warnings: 2, max_warnings: 2 });
    const okGh = await runMain(['check', 'warnings', '--max-warnings', '2', '--format', 'github']);
    assert.doesNotMatch(okGh.stdout, /^::error/m);
    assert.equal(JSON.parse((await runMain(['check', 'warnings', '--max-warnings', '2', '--format', 'sarif'])).stdout).runs[0].invocations, undefined);
  });

  it('--format sarif: artifact URIs are relative references that resolve to the file (regression: `#`, `?` and a first-segment `:` were not escaped)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-sarif-uri-'));
    try {
      const bad = 'input { t: string }\nrule r { when t == "x" deny "m" }\nrule r { when t == "y" deny "n" }\n';
      const names = ['a:b.rein', 'x#1.rein', 'q?.rein', 'sp ace%,é.rein'];
      for (const n of names) writeFileSync(path.join(dir, n), n === names[0] ? 'policy p { default allow }\n' + bad : bad.replaceAll('rule r ', `rule r${names.indexOf(n)} `));
      const r = await runMain(['check', '.', '--format', 'sarif'], { cwd: dir });
      const run = JSON.parse(r.stdout).runs[0];
      const base = run.originalUriBaseIds.SRCROOT.uri as string;
      const uris = new Set<string>(run.results.map((x: any) => x.locations[0].physicalLocation.artifactLocation.uri));
      assert.equal(uris.size, names.length, [...uris].join(' '));
      for (const u of uris) {
        const resolved = new URL(u, base);
        assert.equal(resolved.protocol, 'file:', u);
        assert.equal(resolved.hash + resolved.search, '', u);
        assert.ok(names.includes(path.basename(decodeURIComponent(resolved.pathname))), `${u} → ${resolved.href}`);
        assert.equal(path.dirname(resolved.pathname) + '/', new URL(base).pathname, u);
      }
      assert.ok(uris.has('./a%3Ab.rein'), [...uris].join(' '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a base checked beside its layers reports each base diagnostic once and counts its files once (regression: doubled, --max-warnings 1 tripped on one warning)', async () => {
    const { cpSync, appendFileSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-layers-dup-'));
    try {
      cpSync(path.join(ROOT, 'examples', 'layered-tools'), dir, { recursive: true });
      appendFileSync(path.join(dir, 'rules-global.rein'), '\nlet zz_unused = 1\n');
      const r = await runMain(['check', '.', '--max-warnings', '1', '--format', 'json'], { cwd: dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as JsonOut;
      assert.deepEqual(out.diagnostics.map((d) => [d.file, d.code]), [['rules-global.rein', 'REIN300']]);
      const reinFiles = (dirPath: string): number => readdirSync(dirPath).filter((n) => n.endsWith('.rein')).length;
      assert.equal(out.summary.files, reinFiles(dir) + reinFiles(path.join(dir, 'team-payments')));
      const gh = await runMain(['check', '.', '--format', 'github'], { cwd: dir });
      assert.equal(gh.stdout.trim().split('\n').length, 1, gh.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--format json: the INTERFACES §3 shape, 1-based positions', async () => {
    const r = await runMain(['check', 'broken', '--format', 'json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as JsonOut;
    assert.deepEqual(Object.keys(out).sort(), ['diagnostics', 'summary']);
    const d = out.diagnostics.find((x) => x.code === 'REIN200')!;
    assert.deepEqual(
      { file: d.file, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, severity: d.severity },
      { file: 'broken/policy.rein', line: 10, column: 23, endLine: 10, endColumn: 36, severity: 'error' },
    );
    for (const x of out.diagnostics) {
      for (const k of ['file', 'line', 'column', 'endLine', 'endColumn', 'severity', 'code', 'message']) assert.ok(k in x, k);
    }
    assert.equal(out.summary.files, 2);
    assert.equal(out.summary.errors, out.diagnostics.filter((x) => x.severity === 'error').length);
    assert.ok(out.summary.errors >= 2);
  });

  it('--format sarif validates against the SARIF 2.1.0 schema, with rules and helpUris', async () => {
    const validate = sarifValidator();
    for (const dir of ['broken', 'warnings', 'valid']) {
      const r = await runMain(['check', dir, '--format', 'sarif'], { env: { REIN_DOCS_URL: 'https://example.org/rein/docs' } });
      const log = JSON.parse(r.stdout) as { runs: any[] };
      assert.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
      const run = log.runs[0];
      assert.equal(run.tool.driver.name, 'rein');
      const rules = run.tool.driver.rules as { id: string; shortDescription: { text: string }; helpUri: string }[];
      assert.equal(rules.length, Object.keys(CODES).length);
      const r200 = rules.find((x) => x.id === 'REIN200')!;
      assert.equal(r200.shortDescription.text, CODES.REIN200.summary);
      assert.equal(r200.helpUri, 'https://example.org/rein/docs/diagnostics.md#rein200');
      // lint rules link to their own page (Avoid / Prefer / Rationale)
      assert.equal(rules.find((r) => r.id === 'REIN301')!.helpUri, 'https://example.org/rein/docs/rules/REIN301.md');
      if (dir === 'broken') {
        const res = run.results.find((x: { ruleId: string }) => x.ruleId === 'REIN200');
        assert.equal(res.level, 'error');
        assert.equal(rules[res.ruleIndex].id, 'REIN200');
        assert.deepEqual(res.locations[0].physicalLocation.region, { startLine: 10, startColumn: 23, endLine: 10, endColumn: 36 });
        assert.equal(res.locations[0].physicalLocation.artifactLocation.uri, 'broken/policy.rein');
      }
      if (dir === 'warnings') assert.ok(run.results.every((x: { level: string }) => x.level === 'warning'));
      if (dir === 'valid') assert.deepEqual(run.results, []);
    }
  });

  it('--format sarif without REIN_DOCS_URL points helpUri at the shipped docs', async () => {
    const r = await runMain(['check', 'valid', '--format', 'sarif']);
    const rule = JSON.parse(r.stdout).runs[0].tool.driver.rules[0];
    assert.equal(rule.helpUri, new URL(`file://${ROOT}/docs/diagnostics.md#rein100`).href);
  });

  it('--format github: one workflow command per diagnostic', async () => {
    const r = await runMain(['check', 'broken', 'warnings', '--format', 'github']);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('::error file=broken/policy.rein,line=10,col=23,endLine=10,endColumn=36,title=REIN200::unknown name `blocked_toolz`%0Adid you mean `blocked_tools`?') ||
      lines.some((l) => l.startsWith('::error file=broken/policy.rein,line=10,col=23,endLine=10,endColumn=36,title=REIN200::unknown name `blocked_toolz`')), r.stdout);
    assert.ok(lines.some((l) => /^::warning file=warnings\/policy\.rein,line=13,col=3,endLine=13,endColumn=7,title=REIN301::/.test(l)), r.stdout);
    for (const l of lines) assert.match(l, /^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=REIN\d{3}::\S/);
  });

  it('discovers every directory with .rein files, skipping node_modules and dot-directories', async () => {
    const r = await runMain(['check', 'nested', '--format', 'json']);
    assert.equal(r.code, 0, r.stdout);
    assert.equal((JSON.parse(r.stdout) as JsonOut).summary.files, 2);
    const all = await runMain(['check', '.', '--format', 'json']);
    const files = new Set((JSON.parse(all.stdout) as JsonOut).diagnostics.map((d) => d.file));
    assert.ok(files.has('broken/policy.rein'));
    assert.ok(![...files].some((f) => f.includes('node_modules') || f.includes('.hidden')));
  });

  it('explicit files form one set; `rein.json` problems are diagnostics', async () => {
    const a = await runMain(['check', 'valid/policy.rein', 'valid/tools.rein', 'valid/tests.rein']);
    assert.equal(a.code, 0, a.stdout);
    const b = await runMain(['check', 'badconfig', '--format', 'json']);
    const out = JSON.parse(b.stdout) as JsonOut;
    const cfg = out.diagnostics.filter((d) => d.file === 'badconfig/rein.json');
    assert.ok(cfg.length >= 2, b.stdout);
    assert.ok(cfg.every((d) => d.code === 'REIN305'));
  });

  it('colours only on a TTY and never with NO_COLOR', async () => {
    const tty = await runMain(['check', 'broken'], { isTTY: true });
    assert.match(tty.stdout, ANSI);
    const noColor = await runMain(['check', 'broken'], { isTTY: true, env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColor.stdout, ANSI);
    const emptyNoColor = await runMain(['check', 'broken'], { isTTY: true, env: { NO_COLOR: '' } });
    assert.doesNotMatch(emptyNoColor.stdout, ANSI);
    const pipe = await runBin(['check', 'broken'], { env: { NO_COLOR: '1' } });
    assert.doesNotMatch(pipe.stdout + pipe.stderr, ANSI);
    // stripped of colour, the TTY output is the plain output
    const plain = await runMain(['check', 'broken']);
    assert.equal(tty.stdout.replace(/\u001b\[[0-9;]*m/g, ''), plain.stdout);
  });

  it('rein.json include/exclude at the PATH selects the files checked (process)', async () => {
    const r = await runBin(['check', 'selective']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 errors, 0 warnings in 1 file/);
  });

  it('a path with no .rein files is an IO error', async () => {
    const r = await runMain(['check', 'requests']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no `\.rein` files found under `requests`/);
  });

  // regression: `rein check examples/*` exited 2 because the glob also matched `examples/README.md`
  it('among several PATHs (a shell glob), non-policy files and folders are skipped', async () => {
    const r = await runMain(['check', 'valid', 'requests', 'requests/allow.json', 'warnings/policy.rein']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /0 errors, 2 warnings in 4 files\n$/);
    const only = await runMain(['check', 'requests/allow.json', 'requests']);
    assert.equal(only.code, 2, 'nothing to check at all is still an IO error');
    assert.match(only.stderr, /not a `\.rein` file or a directory: `requests\/allow\.json`/);
    const alone = await runMain(['check', 'requests/allow.json']);
    assert.equal(alone.code, 2);
    const missing = await runMain(['check', 'valid', 'nope.rein']);
    assert.equal(missing.code, 2, 'a PATH that does not exist is still an error');
  });
});
