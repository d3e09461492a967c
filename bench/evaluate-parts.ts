// Where `policy.evaluate`'s time goes: the benchmark policy compiled several times, each time with one
// part of its generated function cut out, all timed in interleaved rounds in one process. The cut
// versions give wrong answers — they exist only to be timed against the whole.
//
//   npm run bench:parts                (node --import tsx bench/evaluate-parts.ts; BENCH_ROUNDS=10)
//   BENCH_SET=policy-shapes npm run bench:parts    (or policy-calls: bench:shapes' sets and requests)
//
// - noForIn:   without the key count that detects extra fields (`for…in` over each object)
// - noProto:   without the prototype tests (every object taken as plain)
// - noRecords: without building the validated records
// - noRules:   without the rules (only validation and a default decision)

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeBuilder, type Code } from '../language/runtime/codegen.js';
import { compile } from '../language/policy.js';
import { generateRequests } from './peers.js';
import { callRequests, shapeRequests } from './shapes.js';
import { median, readSet } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Math.max(2, Number(process.env.BENCH_ROUNDS ?? 10));

type Edit = (lines: string[]) => string[];
// Line edits; the regular ones also apply to the helpers (list checks) of the enclosing scope.
const EDITS: Record<string, Edit | null> = {
  whole: null,
  noForIn: (ls) => ls.map((l) => l.replace(/^for \(const q\d+ in \w+\) k\d+\+\+;$/gm, '').replace(/^if \(k\d+ !== s\d+ &&/gm, 'if (false &&')),
  noProto: (ls) => ls.map((l) => l.replace(/= Object\.getPrototypeOf\((\w+)\) === a\d+;/g, '= true;')),
  noRecords: (ls) => ls.map((l) => l.replace(/= new (K\d+)\([^)]*\);$/gm, '= 1;')),
  noRules: (ls) => {
    const i = ls.findIndex((l) => l.startsWith('const E = new'));
    const j = ls.findIndex((l) => l.startsWith('return finish('));
    return [...ls.slice(0, i + 1), ...ls.slice(j)];
  },
};

// Edit the lines of the fused function before it is built.
let edit: Edit | null = null;
const build = CodeBuilder.prototype.build;
CodeBuilder.prototype.build = function (this: CodeBuilder, name: string, params: string[], prelude?: Code) {
  const self = this as unknown as { lines: string[]; outerLines: string[] };
  if (edit && name === 'generatedEvaluate') {
    self.lines = edit(self.lines);
    if (edit !== EDITS.noRules) self.outerLines = edit(self.outerLines);
  }
  return build.call(this, name, params, prelude);
} as typeof build;

const set = process.env.BENCH_SET ?? 'policy';
if (!['policy', 'policy-shapes', 'policy-calls'].includes(set)) throw new Error(`BENCH_SET: policy, policy-shapes or policy-calls, not ${set}`);
const files = readSet(join(here, set));
const policies = Object.entries(EDITS).map(([name, e]) => {
  edit = e;
  const p = compile(files);
  edit = null;
  if (typeof p.compiled.fused !== 'function') throw new Error(`${name}: the edited function did not build`);
  return { name, p };
});
const requests = (set === 'policy-shapes' ? shapeRequests(5_000) : set === 'policy-calls' ? callRequests(5_000) : generateRequests(10_000)).map(
  (r) => JSON.parse(JSON.stringify(r)) as unknown,
);
const per = new Map<string, number[]>(policies.map(({ name }) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...policies].reverse() : policies;
  for (const { name, p } of order) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 200) {
      for (const r of requests) p.evaluate(r);
      n += requests.length;
    }
    per.get(name)!.push(n / (performance.now() - t0) / 1e3);
  }
}
const whole = per.get('whole')!;
for (const { name } of policies) {
  const xs = per.get(name)!;
  console.log(`${name.padEnd(10)} ${median(xs).toFixed(2)} M/s   ${median(xs.map((x, i) => x / whole[i])).toFixed(2)}× the whole function`);
}
