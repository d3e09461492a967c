// CLI start-up and package weight (issue 13): the built CLI (dist/, `npm run build` first) as a user
// runs it, timed as whole processes; the median of N runs, beside `node -e ""` on the same machine.
// Also the browser bundle of compile + evaluate (esbuild, minified, gzip), and the CPU of a first
// `loadBundle` of a prebuilt bundle (its compiled program) against checking its sources.
//
//   npm run build && npm run bench:startup
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// A first load in a fresh process (what `rein eval BUNDLE` and `loadPolicy(bundle)` do), CPU time of
// the load alone (process.cpuUsage), median of N processes: the compiled program against the sources.
const tmp = mkdtempSync(join(tmpdir(), 'rein-startup-'));
const bundleFile = join(tmp, 'coding-agent.bundle.json');
spawnSync(process.execPath, ['bin/rein.js', 'build', 'examples/coding-agent', '-o', bundleFile], { env: { ...process.env, REIN_USE_DIST: '1' } });
function firstLoadCpu(how: 'section' | 'sources'): number {
  const code = `
    import { readFileSync } from 'node:fs';
    import { loadBundle, check, compile } from './dist/node.js';
    const text = readFileSync(${JSON.stringify(bundleFile)}, 'utf8');
    const c0 = process.cpuUsage();
    if (${JSON.stringify(how)} === 'section') loadBundle(JSON.parse(text));
    else { const d = JSON.parse(text); compile(check(d.files, { config: d.config ?? undefined })); }
    const c = process.cpuUsage(c0);
    console.log((c.user + c.system) / 1000);`;
  const xs: number[] = [];
  for (let i = 0; i < N; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    xs.push(Number(r.stdout.trim()));
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(N / 2)];
}
const loadSection = firstLoadCpu('section');
const loadSources = firstLoadCpu('sources');
rmSync(tmp, { recursive: true, force: true });

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
// dist/ from this checkout: the same files and package.json (`sideEffects`) as the installed package
// (test/package/browser-size.test.ts builds from the packed tarball itself).
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
console.log(`first loadBundle of examples/coding-agent, CPU in a fresh process (median of ${N}):`);
console.log(`  the compiled program (loadBundle)   ${loadSection.toFixed(1)} ms`);
console.log(`  its sources (check + compile)       ${loadSources.toFixed(1)} ms   (${(loadSources / loadSection).toFixed(1)}x the compiled program)`);
const kb = (min: number, gzip: number) => `${(min / 1024).toFixed(0)} KB minified, ${(gzip / 1024).toFixed(1)} KB gzip`;
console.log(`browser bundle, compile + evaluate (sources):   ${kb(smin, sgz)} (goal ≤ 150 KB gzip)`);
console.log(`browser bundle, compile + evaluate (dist):      ${kb(cmin, cgz)} (goal ≤ 150 KB gzip)`);
console.log(`browser bundle, prebuilt (rein/runtime, dist):  ${kb(pmin, pgz)} (goal ≤ 50 KB gzip)`);
