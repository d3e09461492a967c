// Browser bundle sizes (issue 13), built with esbuild as a web app would (minified ESM, browser
// platform, code splitting so that a lazily loaded chunk is not counted as loaded):
//   - a prebuilt policy: `loadCompiled` from the published `rein/runtime` (dist/runtime.js) and
//     `evaluate` — at most 50 KB gzip, and no parser, checker, linter or zod in it;
//   - with the compiler: `compile` + `evaluate` from the sources' public façade — at most 150 KB gzip.
// Only what loads eagerly counts (the entry and the chunks it imports statically): re2js, the RE2
// engine, is a chunk a prebuilt policy loads only when it uses `matches`.
// Needs `npm run build` for the first (CI builds before `npm test`); skipped locally without dist/.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

const root = process.cwd();
const KB = 1024;

interface Measured {
  /** gzip bytes of the entry and every chunk it imports statically (transitively). */
  eagerGzip: number;
  eagerMin: number;
  /** Inputs (source files) of the eager outputs. */
  eagerInputs: string[];
  /** Inputs of chunks loaded on demand only. */
  lazyInputs: string[];
  /** The eager code. */
  eagerText: string;
}

async function measure(contents: string): Promise<Measured> {
  const outdir = resolve(root, '.size-test-out');
  const r = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'app.ts' },
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
  const bytes = new Map(r.outputFiles.map((f) => [resolve(f.path), f.contents]));
  const key = (p: string): string => resolve(root, p);
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
  let eagerText = '';
  for (const [o, out] of Object.entries(meta.outputs)) {
    const content = bytes.get(key(o));
    assert.ok(content, `output ${o} was built`);
    const isEager = eager.has(o);
    if (isEager) {
      eagerGzip += gzipSync(content).length;
      eagerMin += content.length;
      eagerText += new TextDecoder().decode(content);
    }
    for (const i of Object.keys(out.inputs)) (isEager ? eagerInputs : lazyInputs).add(i);
  }
  return { eagerGzip, eagerMin, eagerInputs: [...eagerInputs], lazyInputs: [...lazyInputs], eagerText };
}

const PARSER_OR_CHECKER = /node_modules\/(chevrotain|@chevrotain)\/|language\/(syntax\/parser|syntax\/lexer|semantics\/checker|lint\/|check)\.?|node_modules\/zod\//;

describe('browser bundle sizes (esbuild, minified, gzip)', function () {
  this.timeout(120_000);

  it('a prebuilt policy: rein/runtime (dist) loadCompiled + evaluate ≤ 50 KB gzip, without the parser, checker, linter or zod', async function () {
    if (!existsSync(join(root, 'dist/runtime.js'))) {
      if (process.env.CI) assert.fail('dist/ is missing: CI must run `npm run build` before `npm test`');
      console.warn('    (skipped: dist/ is missing — run `npm run build` first)');
      this.skip();
    }
    const m = await measure(
      "import { loadCompiled } from './dist/runtime.js';\n" +
        "const policy = await loadCompiled(await (await fetch('/policy.bundle.json')).text());\n" +
        "document.body.textContent = policy.evaluate({ tool: 'shell' }).effect;\n",
    );
    console.log(`      prebuilt (rein/runtime from dist): ${(m.eagerMin / KB).toFixed(1)} KB min, ${(m.eagerGzip / KB).toFixed(1)} KB gzip`);
    assert.ok(m.eagerGzip <= 50 * KB, `prebuilt bundle is ${(m.eagerGzip / KB).toFixed(1)} KB gzip (goal ≤ 50 KB)`);
    // dist/ is pre-bundled (its chunks name no sources): look for Chevrotain's and zod's code.
    assert.ok(!/EmbeddedActionsParser|NoViableAltException|MismatchedTokenException/.test(m.eagerText), 'no Chevrotain in the eager code');
    assert.ok(!/\$ZodType|ZodError|\$constructor/.test(m.eagerText), 'no zod in the eager code');
    // And from the sources, by module: what the runtime entry reaches.
    const sources = await measure("import { loadCompiled } from './language/runtime/index.ts'; console.log(loadCompiled);");
    const offending = sources.eagerInputs.filter((i) => PARSER_OR_CHECKER.test(i));
    assert.deepEqual(offending, [], 'the runtime entry reaches no parser, checker, linter or zod');
    assert.ok(sources.lazyInputs.some((i) => i.includes('node_modules/re2js/')), 're2js is a lazy chunk');
    assert.ok(!sources.eagerInputs.some((i) => i.includes('node_modules/re2js/')), 're2js is not loaded eagerly');
  });

  it('with the compiler: compile + evaluate ≤ 150 KB gzip (from the sources)', async () => {
    const m = await measure(
      "import { compile } from './language/policy.ts';\n" +
        "const policy = compile({ 'p.rein': 'policy p {}\\ninput { tool: string }\\nrule r {\\n  when tool == \"shell\"\\n  deny \"no\"\\n}\\n' });\n" +
        "document.body.textContent = policy.evaluate({ tool: 'shell' }).effect;\n",
    );
    console.log(`      with the compiler (sources): ${(m.eagerMin / KB).toFixed(1)} KB min, ${(m.eagerGzip / KB).toFixed(1)} KB gzip`);
    assert.ok(m.eagerInputs.some((i) => i.includes('language/syntax/parser.ts')), 'the measured bundle does contain the parser');
    assert.ok(m.eagerGzip <= 150 * KB, `compiler bundle is ${(m.eagerGzip / KB).toFixed(1)} KB gzip (goal ≤ 150 KB)`);
  });
});
