// CLI start-up and package weight (issue 13): the built CLI (dist/, `npm run build` first) as a user
// runs it, timed as whole processes; the median of N runs, beside `node -e ""` on the same machine.
// Also the browser bundle of compile + evaluate (esbuild, minified, gzip).
//
//   npm run build && npm run bench:startup
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const N = Number(process.env.RUNS ?? 15);
if (!existsSync('dist/cli/cli.js')) throw new Error('run `npm run build` first');

function median(cmd: string[], env: Record<string, string> = {}): number {
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, cmd, { env: { ...process.env, REIN_USE_DIST: '1', ...env }, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0 && r.status !== 5) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(N / 2)];
}

const node = median(['-e', '']);
const version = median(['bin/rein.js', '--version']);
const help = median(['bin/rein.js', 'check', '--help']);
const check = median(['bin/rein.js', 'check', 'examples']);
const evalOne = median(['bin/rein.js', 'eval', 'examples/support-agent', '--input', 'examples/support-agent/requests/large-refund.json']);
const importRein = median(['--input-type=module', '-e', "await import('./dist/index.js')"]);

// Eager code only: splitting on, the entry and its static imports (a lazily loaded chunk — re2js for
// a prebuilt policy without `matches` — does not count), as test/package/browser-size.test.ts.
async function gz(contents: string): Promise<[number, number]> {
  const r = await build({ stdin: { contents, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, write: false, minify: true, format: 'esm', platform: 'browser', splitting: true, outdir: 'out', metafile: true });
  const outs = r.metafile.outputs;
  const eager = new Set<string>();
  const visit = (o: string): void => {
    if (eager.has(o)) return;
    eager.add(o);
    for (const i of outs[o].imports) if (i.kind === 'import-statement' && outs[i.path]) visit(i.path);
  };
  visit(Object.keys(outs).find((o) => outs[o].entryPoint !== undefined)!);
  let min = 0;
  let gzip = 0;
  for (const f of r.outputFiles) {
    if (![...eager].some((o) => f.path.endsWith(o))) continue;
    min += f.contents.length;
    gzip += gzipSync(f.contents).length;
  }
  return [min, gzip];
}
const POLICY = "{ 'p.rein': 'policy p {}\\ninput { t: string }\\nrule r {\\n  when t == \"x\"\\n  deny \"no\"\\n}\\n' }";
const [cmin, cgz] = await gz(`import { compile } from './dist/index.js'; console.log(compile(${POLICY}).evaluate({ t: 'x' }).effect);`);
const [smin, sgz] = await gz(`import { compile } from './language/policy.ts'; console.log(compile(${POLICY}).evaluate({ t: 'x' }).effect);`);
const [pmin, pgz] = await gz("import { loadCompiled } from './dist/runtime.js'; const p = await loadCompiled(globalThis.bundle); console.log(p.evaluate({ t: 'x' }).effect);");

const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(`median of ${N} runs (whole processes, Node ${process.version})`);
console.log(`  node -e ""                          ${ms(node)}`);
console.log(`  rein --version                      ${ms(version)}   (goal ≤ 250 ms)`);
console.log(`  rein check --help                   ${ms(help)}`);
console.log(`  rein check examples                 ${ms(check)}   (goal ≤ 400 ms)`);
console.log(`  rein eval (one request)             ${ms(evalOne)}`);
console.log(`  node -e "await import('rein')"      ${ms(importRein)}`);
const kb = (min: number, gzip: number) => `${(min / 1024).toFixed(0)} KB minified, ${(gzip / 1024).toFixed(1)} KB gzip`;
console.log(`browser bundle, compile + evaluate (sources):   ${kb(smin, sgz)} (goal ≤ 150 KB gzip)`);
console.log(`browser bundle, compile + evaluate (dist):      ${kb(cmin, cgz)}`);
console.log(`browser bundle, prebuilt (rein/runtime, dist):  ${kb(pmin, pgz)} (goal ≤ 50 KB gzip)`);
