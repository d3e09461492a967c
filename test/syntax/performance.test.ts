// A coarse guard against accidental slowdowns (the real figure is measured by the benchmarks):
// a 5,000-line policy must parse far below a second, and parsing must not grow faster than linearly.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from '../../language/syntax/parser.js';

const sample = readFileSync(new URL('../fixtures/syntax/language-rules.rein', import.meta.url), 'utf8');

function policyOf(lines: number): string {
  let src = '';
  for (let i = 0; src.split('\n').length < lines; i++) {
    src += sample.replace(/\b(no_destructive_tools|large_transfer|long_prompt|team_daily|tool_rate|session_risk|base)\b/g, `$1_${i}`).replace(/test "/g, `test "${i} `) + '\n';
  }
  return src;
}

function cpuMs(f: () => void, runs: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000 / runs;
}

describe('parser performance', function () {
  this.timeout(120_000);

  it('parses a 5,000-line policy quickly, with no diagnostics, linearly in its size', () => {
    const big = policyOf(5000);
    const small = policyOf(1000);
    const r = parse(big);
    assert.deepEqual(r.diagnostics, []);
    assert.ok(r.ast.decls.length > 700);
    for (let i = 0; i < 3; i++) parse(big); // warm up
    const tBig = cpuMs(() => parse(big), 5);
    const tSmall = cpuMs(() => parse(small), 5);
    assert.ok(tBig < 500, `5,000 lines took ${tBig.toFixed(1)} ms of CPU`);
    assert.ok(tBig < tSmall * 5 * 3, `not linear: 1,000 lines ${tSmall.toFixed(1)} ms, 5,000 lines ${tBig.toFixed(1)} ms`);
  });
});
