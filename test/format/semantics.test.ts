// Formatting never changes meaning: over every policy set under examples/ and test/fixtures/
// (a directory of `.rein` files that all parse), the checker reports the same diagnostics before
// and after formatting, and for sets that compile, the `test` blocks give the same results and every
// recorded request (`requests/*.json`) gets the same decision.

import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { check } from '../../language/check.js';
import { format } from '../../language/format/format.js';
import { compile } from '../../language/policy.js';
import { runTests } from '../../language/runtime/test-runner.js';
import { ROOT, findFiles, parsesCleanly, rel } from './helpers.js';

interface PolicySet {
  dir: string;
  files: Record<string, string>;
  /** Data files (`data … from "x.json"`): the `.json` files beside the sources. */
  data: Record<string, string>;
}

function policySets(): PolicySet[] {
  const dirs = new Set<string>();
  for (const f of [...findFiles(join(ROOT, 'examples'), '.rein'), ...findFiles(join(ROOT, 'test', 'fixtures'), '.rein')]) dirs.add(dirname(f));
  const sets: PolicySet[] = [];
  for (const dir of [...dirs].sort()) {
    const files: Record<string, string> = {};
    let clean = true;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.rein')).sort()) {
      const text = readFileSync(join(dir, name), 'utf8');
      if (!parsesCleanly(text, name)) clean = false;
      files[name] = text;
    }
    const data: Record<string, string> = {};
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'input.json' && n !== 'rein.json')) data[name] = readFileSync(join(dir, name), 'utf8');
    if (clean) sets.push({ dir, files, data });
  }
  return sets;
}

function formatAll(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([name, text]) => [name, format(text, { file: name })]));
}

/** Diagnostics without positions: the file, code, severity and message. */
function diagnosticsOf(files: Record<string, string>): string[] {
  return check(files)
    .diagnostics.map((d) => `${d.file} ${d.severity} ${d.code} ${d.message}`)
    .sort();
}

/** A decision without what depends on source positions or text (hashes, timings). */
function decisionCore(d: unknown): unknown {
  const o = d as Record<string, unknown>;
  return {
    effect: o.effect,
    reasons: JSON.stringify(o.reasons),
    warnings: JSON.stringify(o.warnings),
    monitored: JSON.stringify(o.monitored),
    approvals: JSON.stringify(o.approvals),
    errors: JSON.stringify(o.errors),
  };
}

describe('format: meaning is preserved over policy sets', () => {
  const sets = policySets();

  it('finds the example policy sets', () => {
    assert.ok(sets.filter((s) => rel(s.dir).startsWith('examples')).length >= 1);
  });

  for (const set of sets) {
    describe(rel(set.dir), () => {
      const formatted = formatAll(set.files);

      it('the checker reports the same diagnostics before and after formatting', () => {
        assert.deepEqual(diagnosticsOf(formatted), diagnosticsOf(set.files));
      });

      if (!check(set.files).ok) return;

      it('the tests and the recorded requests give the same results', () => {
        const before = compile(set.files, { data: set.data });
        const after = compile(formatted, { data: set.data });
        const results = (p: typeof before) =>
          runTests(p).results.map((r) => ({ name: r.name, file: r.file, passed: r.passed, actual: JSON.stringify(r.actual) }));
        assert.deepEqual(results(after), results(before));
        const requestsDir = join(set.dir, 'requests');
        if (!existsSync(requestsDir)) return;
        for (const f of readdirSync(requestsDir).filter((n) => n.endsWith('.json'))) {
          const request = JSON.parse(readFileSync(join(requestsDir, f), 'utf8'));
          assert.deepEqual(decisionCore(after.evaluate(request)), decisionCore(before.evaluate(request)), `${basename(f)}: decision changed`);
        }
      });
    });
  }
});
