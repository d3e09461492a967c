// `rein-ignore` suppressions survive formatting (regression R9 of session 9: `rein fmt --write` split a
// one-line rule over four lines, so the comment above it — or after it — no longer sat on the line of
// the diagnostic, and `rein check` failed after formatting). A suppression is anchored to the
// declaration: alone on its line, to one starting on the next line; after code, to one ending on its
// line (docs/diagnostics.md).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { check } from '../../language/check.js';
import { format } from '../../language/format/format.js';
import { runMain } from '../cli/helpers.js';

const FIXTURE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures/suppressions/policy.rein');
const codes = (files: Record<string, string>, config?: unknown) =>
  check(files, config === undefined ? {} : { config })
    .diagnostics.map((d) => `${d.code}:${d.range.start.line + 1}`)
    .sort();

describe('rein-ignore suppressions survive formatting (R9)', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  const formatted = format(text, { file: 'policy.rein' });

  it('the fixture is really reshaped by the formatter (the one-line rules are split)', () => {
    assert.notEqual(formatted, text);
    assert.match(formatted, /\/\/ rein-ignore REIN301\nrule quiet \{\n/);
    assert.match(formatted, /\n\} +\/\/ rein-ignore deny-without-message\n/);
  });

  it('the same diagnostics (codes and counts) before and after: only the unsuppressed ones', () => {
    const before = check({ 'policy.rein': text }).diagnostics.map((d) => d.code).sort();
    const after = check({ 'policy.rein': formatted }).diagnostics.map((d) => d.code).sort();
    assert.deepEqual(before, ['REIN300', 'REIN301']); // `noisy` and `loud`
    assert.deepEqual(after, before);
  });

  it('a suppression covers its declaration, not the next one', () => {
    const src = '// rein-ignore REIN301\nrule a {\n  when x == 1\n  deny\n}\nrule b {\n  when x == 2\n  deny\n}\n';
    const files = { 'p.rein': 'policy p { default allow }\ninput { x: int }\n', 'r.rein': src };
    const b301 = (fs: Record<string, string>) => codes(fs).filter((c) => c.startsWith('REIN301'));
    // one left, in rule b (lines 6-9)
    const only = (xs: string[]) => xs.length === 1 && Number(xs[0]!.split(':')[1]) >= 6;
    assert.ok(only(b301(files)), b301(files).join());
    const trailing = 'rule a {\n  when x == 1\n  deny\n} // rein-ignore REIN301\nrule b {\n  when x == 2\n  deny\n}\n';
    assert.ok(only(b301({ ...files, 'r.rein': trailing })), b301({ ...files, 'r.rein': trailing }).join());
  });

  it('`rein check` exits the same before and after `rein fmt --write`, with the lint at error level', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-ignore-fmt-'));
    try {
      mkdirSync(path.join(dir, '.git'));
      writeFileSync(path.join(dir, 'policy.rein'), text.replace('rule loud { when action.tool == "z" deny }', '').replace('let noisy = [4]', ''));
      writeFileSync(path.join(dir, 'rein.json'), JSON.stringify({ lint: { 'deny-without-message': 'error', 'unused-declaration': 'error' } }));
      const before = await runMain(['check', dir]);
      assert.equal(before.code, 0, before.stdout + before.stderr);
      assert.equal((await runMain(['fmt', '--write', dir])).code, 0);
      assert.notEqual(readFileSync(path.join(dir, 'policy.rein'), 'utf8'), text);
      const after = await runMain(['check', dir]);
      assert.equal(after.code, 0, after.stdout + after.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
