import { build } from 'esbuild';
const r = await build({ entryPoints: [process.argv[2]], bundle: true, write: false, format: 'esm', platform: 'neutral', mainFields: ['module','main'], external: ['node:*','ioredis','@opentelemetry/api'], metafile: true, minify: true, outdir: '/tmp/x' });
const byPkg = {};
for (const [f, i] of Object.entries(r.metafile.outputs[Object.keys(r.metafile.outputs)[0]].inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f); const k = m ? m[1] + (f.includes('locales') ? '/locales' : '') : 'own:' + f.split('/').slice(0,2).join('/');
  byPkg[k] = (byPkg[k] ?? 0) + i.bytesInOutput;
}
console.log(Object.entries(byPkg).sort((a,b)=>b[1]-a[1]).map(([k,v])=>`${(v/1024).toFixed(1)}k ${k}`).join('\n'));
