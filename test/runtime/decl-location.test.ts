// Where a decision says a rule, budget or extern is (`reasons[].location`, `errors[].location`):
// the declaration's keyword, after its annotations — INTERFACES §1's example has `column: 1` — and
// `rein doc` says the same line (regression, review h10r F13: the decision named the rule's name,
// line 9 column 6, while `rein doc` named its annotation's line 8).
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { loadCompiled } from '../../language/runtime/index.js';
import { buildBundle } from '../../language/node/bundle.js';
import { readPolicyDir } from '../../language/node/load.js';
import { runMain } from '../cli/helpers.js';

const SRC = [
  'policy p {', //                       1
  '  default allow', //                  2
  '}', //                                3
  'input { tool: string, cost: money }', // 4
  '', //                                 5
  '/// Drops are blocked.', //           6
  '@severity("critical")', //            7
  '@owner("data")', //                   8
  'rule no_drop {', //                   9
  '  when tool == "db.drop"', //         10
  '  deny "no"', //                      11
  '}', //                                12
  '  rule indented { when tool == "x" deny "x" }', // 13
  '@severity("low")', //                 14
  'budget spend {', //                   15
  '  limit $1 per day', //               16
  '  charge cost', //                    17
  '}', //                                18
  '', //                                 19
].join('\n');

const NOW = new Date('2026-01-05T10:00:00Z');

describe('a declaration\'s location is its keyword', () => {
  const p = compile({ 'p.rein': SRC });

  it('an annotated rule: the line and column of `rule`, not of the annotation or the name', () => {
    const d = p.evaluate({ tool: 'db.drop', cost: '0.01' }, { now: NOW });
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.reasons[0]!.location, { file: 'p.rein', line: 9, column: 1 });
  });

  it('an indented rule: the keyword\'s column', () => {
    const d = p.evaluate({ tool: 'x', cost: '0.01' }, { now: NOW });
    assert.deepEqual(d.reasons[0]!.location, { file: 'p.rein', line: 13, column: 3 });
  });

  it('an annotated budget: the line and column of `budget`', async () => {
    const d = await new Engine(p).decide({ tool: 'y', cost: '5' }, { now: NOW });
    assert.equal(d.effect, 'deny');
    const r = d.reasons.find((x) => x.kind === 'budget')!;
    assert.deepEqual(r.location, { file: 'p.rein', line: 15, column: 1 });
  });

  it('a prebuilt bundle (rein/runtime) says the same', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-decl-loc-'));
    writeFileSync(path.join(dir, 'p.rein'), SRC);
    const { bundle } = buildBundle(await readPolicyDir(dir));
    rmSync(dir, { recursive: true, force: true });
    const pre = await loadCompiled(JSON.parse(JSON.stringify(bundle)));
    const d = pre.evaluate({ tool: 'db.drop', cost: '0.01' }, { now: NOW });
    assert.deepEqual(d.reasons[0]!.location, { file: 'p.rein', line: 9, column: 1 });
  });

  it('rein doc names the same lines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rein-decl-loc-'));
    try {
      writeFileSync(path.join(dir, 'p.rein'), SRC);
      const r = await runMain(['doc', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /### `no_drop`[\s\S]*?Defined in `p\.rein:9`/);
      assert.match(r.stdout, /### `indented`[\s\S]*?Defined in `p\.rein:13`/);
      assert.match(r.stdout, /### `spend`[\s\S]*?Defined in `p\.rein:15`/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
