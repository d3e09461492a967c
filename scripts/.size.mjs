import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await build({ entryPoints: [process.argv[2]], bundle: true, write: false, minify: true, format: 'esm', platform: 'browser', metafile: true, outdir: '/tmp/x' });
const out = r.outputFiles[0].contents;
console.log('min', out.length, 'gzip', gzipSync(out).length);
const byPkg = {};
for (const [f, i] of Object.entries(r.metafile.outputs[Object.keys(r.metafile.outputs)[0]].inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f); const k = m ? m[1] : 'own:' + f.split('/').slice(-3,-1).join('/');
  byPkg[k] = (byPkg[k] ?? 0) + i.bytesInOutput;
}
console.log(Object.entries(byPkg).sort((a,b)=>b[1]-a[1]).slice(0,14).map(([k,v])=>`${(v/1024).toFixed(1)}k ${k}`).join('\n'));
