// Browser bundle sizes (issue 13), from the package as a user installs it (`npm pack`, then
// `npm install` of the tarball in a fresh project: test/package/installed.ts), built with esbuild as
// a web app would (minified ESM, browser platform, code splitting, so that a lazily loaded chunk is
// not counted as loaded):
//   - a prebuilt policy: `loadCompiled` from `rein/runtime` and `evaluate` — at most 50 KB gzip, and
//     no parser, checker, linter or zod in it;
//   - with the compiler: `compile` from `rein` and `evaluate` — at most 150 KB gzip, without the
//     linter's rules, the formatter or the editor services (the bundler drops them: dist/ is shipped
//     module by module, with `sideEffects` in package.json).
// Only what loads eagerly counts (the entry and the chunks it imports statically): re2js, the RE2
// engine, is a chunk a prebuilt policy loads only when it uses `matches`, and `compile` only when
// asked (`loadRegexEngine()`: the common patterns run on the built-in subset, docs/evaluation.md).
// Needs `npm run build` (CI builds before `npm test`); skipped locally without dist/.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { installPackage, requireBuilt } from './installed.js';

const KB = 1024;

interface Measured {
  /** gzip bytes of the entry and every chunk it imports statically (transitively). */
  eagerGzip: number;
  eagerMin: number;
  /** Inputs (files of the installed package, `rein/dist/…`) that put code in the eager outputs. */
  eagerInputs: string[];
  /** Inputs of chunks loaded on demand only. */
  lazyInputs: string[];
  /** esbuild's warnings (an app's build would print them). */
  warnings: string[];
}

/** Bundles `contents` as the app's entry module (in the project where rein is installed). */
async function measure(app: string, name: string, contents: string): Promise<Measured> {
  writeFileSync(join(app, name), contents);
  const outdir = join(app, 'out');
  const r = await build({
    entryPoints: [join(app, name)],
    absWorkingDir: app,
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    splitting: true,
    platform: 'browser',
    metafile: true,
    outdir,
    logLevel: 'silent',
  });
  const meta: Metafile = r.metafile;
  const warnings = r.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`);
  const bytes = new Map(r.outputFiles.map((f) => [resolve(f.path), f.contents]));
  const entry = Object.keys(meta.outputs).find((o) => meta.outputs[o].entryPoint !== undefined)!;
  const eager = new Set<string>();
  const visit = (o: string): void => {
    if (eager.has(o)) return;
    eager.add(o);
    for (const i of meta.outputs[o].imports) if (i.kind === 'import-statement' && meta.outputs[i.path]) visit(i.path);
  };
  visit(entry);
  let eagerGzip = 0;
  let eagerMin = 0;
  const eagerInputs = new Set<string>();
  const lazyInputs = new Set<string>();
  // Inputs that put no byte in an output (a re-export, a type-only module) are not code the app loads.
  const file = (i: string): string => i.replace(/^.*node_modules\/rein\//, 'rein/');
  for (const [o, out] of Object.entries(meta.outputs)) {
    const content = bytes.get(resolve(app, o));
    assert.ok(content, `output ${o} was built`);
    const isEager = eager.has(o);
    if (isEager) {
      eagerGzip += gzipSync(content).length;
      eagerMin += content.length;
    }
    for (const [i, v] of Object.entries(out.inputs)) if (v.bytesInOutput > 0) (isEager ? eagerInputs : lazyInputs).add(file(i));
  }
  return { eagerGzip, eagerMin, eagerInputs: [...eagerInputs], lazyInputs: [...lazyInputs], warnings };
}

const has = (inputs: string[], re: RegExp): string[] => inputs.filter((i) => re.test(i));

describe('browser bundle sizes, from the installed package (esbuild, minified, gzip)', function () {
  this.timeout(300_000);
  let app: string;

  before(function () {
    requireBuilt(this);
    ({ app } = installPackage());
  });

  it('a prebuilt policy: loadCompiled (rein/runtime) + evaluate ≤ 50 KB gzip, without the parser, checker, linter or zod', async () => {
    const m = await measure(
      app,
      'prebuilt.js',
      "import { loadCompiled } from 'rein/runtime';\n" +
        "const policy = await loadCompiled(await (await fetch('/policy.bundle.json')).text());\n" +
        "document.body.textContent = policy.evaluate({ tool: 'shell' }).effect;\n",
    );
    console.log(`      prebuilt (rein/runtime): ${(m.eagerMin / KB).toFixed(1)} KB min, ${(m.eagerGzip / KB).toFixed(1)} KB gzip`);
    assert.ok(has(m.eagerInputs, /^rein\/dist\/language\/runtime\/prebuilt\.js$/).length === 1, 'the measured bundle does contain the prebuilt loader');
    assert.deepEqual(m.warnings, [], 'the app builds without warnings');
    assert.ok(m.eagerGzip <= 50 * KB, `prebuilt bundle is ${(m.eagerGzip / KB).toFixed(1)} KB gzip (goal ≤ 50 KB)`);
    assert.deepEqual(has(m.eagerInputs, /\/language\/syntax\/(parser|lexer)\.js|\/language\/(lint|format|services)\/|\/semantics\/checker|\/vendor\/(chevrotain|zod)/), [], 'no parser, checker, linter, formatter, Chevrotain or zod');
    assert.ok(has(m.lazyInputs, /\/vendor\/re2js\.js$/).length === 1, 're2js is a lazy chunk');
    assert.deepEqual(has(m.eagerInputs, /re2js/), [], 're2js is not loaded eagerly');
  });

  it('with the compiler: compile (rein) + evaluate ≤ 150 KB gzip, without the linter rules, formatter or services', async () => {
    const m = await measure(
      app,
      'compiler.js',
      "import { compile } from 'rein';\n" +
        "const policy = compile({ 'p.rein': 'policy p {}\\ninput { tool: string }\\nrule r {\\n  when tool == \"shell\"\\n  deny \"no\"\\n}\\n' });\n" +
        "document.body.textContent = policy.evaluate({ tool: 'shell' }).effect;\n",
    );
    console.log(`      with the compiler (rein): ${(m.eagerMin / KB).toFixed(1)} KB min, ${(m.eagerGzip / KB).toFixed(1)} KB gzip`);
    assert.ok(has(m.eagerInputs, /^rein\/dist\/language\/syntax\/parser\.js$/).length === 1, 'the measured bundle does contain the parser');
    assert.ok(has(m.eagerInputs, /^rein\/dist\/language\/semantics\/checker\.js$/).length === 1, 'the measured bundle does contain the checker');
    assert.deepEqual(m.warnings, [], 'the app builds without warnings');
    assert.ok(m.eagerGzip <= 150 * KB, `compiler bundle is ${(m.eagerGzip / KB).toFixed(1)} KB gzip (goal ≤ 150 KB)`);
    // What tree-shaking must drop (the reason dist/ is shipped module by module).
    assert.deepEqual(has(m.eagerInputs, /\/language\/(format|services|audit|node)\/|\/language\/lint\/(?!suppress\.js)|\/vendor\/zod\//), [], 'no linter rules, formatter, services, audit, Node code or zod');
    assert.deepEqual(has(m.eagerInputs, /re2js/), [], 're2js is not loaded eagerly');
    assert.ok(has(m.lazyInputs, /\/vendor\/re2js\.js$/).length === 1, 're2js is a chunk loadRegexEngine() loads');
    assert.ok(has(m.eagerInputs, /\/language\/semantics\/regex-subset\.js$/).length === 1, 'the built-in pattern engine is in it');
  });
});
