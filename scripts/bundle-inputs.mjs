// What the browser bundle of `compile` + `evaluate` loads eagerly, and which inputs weigh most.
// The limit itself is checked on the packed package by test/package/browser-size.test.ts (≤ 150 KB
// gzip); this is the quick look while cutting: it bundles ./dist directly (run `npm run build` first).
//   node scripts/bundle-inputs.mjs [TOP=30] [--runtime]
// --runtime: the prebuilt policy's bundle instead (`loadCompiled` from rein/runtime + `evaluate`, ≤ 50 KB).
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const runtime = args.includes('--runtime');
const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 30);
const dist = resolve(runtime ? 'dist/runtime.js' : 'dist/index.js');
const app = mkdtempSync(join(tmpdir(), 'rein-bundle-'));
try {
  writeFileSync(
    join(app, 'app.js'),
    runtime
      ? `import { loadCompiled } from ${JSON.stringify(dist)};\n` +
          `const policy = await loadCompiled(await (await fetch('/policy.bundle.json')).text());\n` +
          `document.body.textContent = policy.evaluate({ tool: 'shell' }).effect;\n`
      : `import { compile } from ${JSON.stringify(dist)};\n` +
      `const policy = compile({ 'p.rein': 'policy p {}\\ninput { tool: string }\\nrule r {\\n  when tool == "shell"\\n  deny "no"\\n}\\n' });\n` +
      `document.body.textContent = policy.evaluate({ tool: 'shell' }).effect;\n`,
  );
  const r = await build({ entryPoints: [join(app, 'app.js')], absWorkingDir: app, bundle: true, write: false, minify: true, format: 'esm', splitting: true, platform: 'browser', metafile: true, outdir: join(app, 'out'), logLevel: 'silent' });
  const meta = r.metafile;
  const bytes = new Map(r.outputFiles.map((f) => [resolve(f.path), f.contents]));
  const entry = Object.keys(meta.outputs).find((o) => meta.outputs[o].entryPoint !== undefined);
  const eager = new Set();
  const visit = (o) => {
    if (eager.has(o)) return;
    eager.add(o);
    for (const i of meta.outputs[o].imports) if (i.kind === 'import-statement' && meta.outputs[i.path]) visit(i.path);
  };
  visit(entry);
  let gzip = 0;
  const inputs = [];
  for (const [o, out] of Object.entries(meta.outputs)) {
    if (!eager.has(o)) continue;
    gzip += gzipSync(bytes.get(resolve(app, o))).length;
    for (const [i, v] of Object.entries(out.inputs)) if (v.bytesInOutput > 0) inputs.push([v.bytesInOutput, i.replace(/^.*dist\//, '')]);
  }
  console.log(`${runtime ? 'loadCompiled' : 'compile'} + evaluate, eager: ${(gzip / 1024).toFixed(1)} KB gzip (${gzip} B) (test/package/browser-size.test.ts allows ${runtime ? 50 : 150})`);
  for (const [b, i] of inputs.sort((a, b) => b[0] - a[0]).slice(0, top)) console.log(`${String(b).padStart(8)}  ${i}`);
} finally {
  rmSync(app, { recursive: true, force: true });
}
