// docs/language.md: the tour's policy set checks clean and its test passes; every relative link of
// the README and the shipped docs stays inside the package (no ../shared, no examples/ links from
// docs that ship without examples/).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMain } from './helpers.js';

describe('docs/language.md and the shipped docs', function () {
  this.timeout(60_000);
  it('the tour is a policy set that checks clean and whose test passes', async () => {
    const md = readFileSync('docs/language.md', 'utf8');
    const tour = md.slice(md.indexOf('## A tour'), md.indexOf('## 1. Files'));
    const block = /```rein\n([\s\S]*?)```/.exec(tour)![1];
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-tour-'));
    try {
      writeFileSync(path.join(dir, 'tour.rein'), block);
      const c = await runMain(['check', dir, '--format', 'json']);
      assert.equal(c.code, 0, c.stdout);
      assert.deepEqual(JSON.parse(c.stdout).diagnostics, []);
      const t = await runMain(['test', dir]);
      assert.equal(t.code, 0, t.stdout + t.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('README.md and docs/**/*.md link only to files that ship in the package', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[] };
    const shipped = (rel: string) => pkg.files.some((f) => rel === f || rel.startsWith(f + '/'));
    // every page of docs/, its subfolders (docs/rules/) included
    const pages = ['README.md', ...(readdirSync('docs', { recursive: true }) as string[]).filter((f) => f.endsWith('.md')).map((f) => `docs/${f.split(path.sep).join('/')}`)];
    assert.ok(pages.some((p) => p.startsWith('docs/rules/')), 'the rule pages are read');
    const bad: string[] = [];
    for (const page of pages) {
      const text = readFileSync(page, 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const rel = path.posix.normalize(path.posix.join(path.posix.dirname(page), target));
        if (rel.startsWith('..') || !shipped(rel.replace(/\/$/, '')) || !existsSync(rel)) bad.push(`${page} → ${target}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
