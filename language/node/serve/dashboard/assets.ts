// The dashboard's page assets: one JavaScript bundle (the page code and uPlot, bundled by esbuild —
// nothing from a CDN) and one stylesheet. `npm run build` writes them to dist/dashboard/; in a
// source checkout they are bundled in memory on first use (esbuild is a dev dependency there).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardAssets {
  files: Record<string, { type: string; body: Buffer }>;
  html(prefix: string): string;
}

/** This module's folder (ESM: from import.meta.url; in the CommonJS bundle: its __dirname). */
function here(): string {
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return typeof __dirname === 'string' ? __dirname : process.cwd();
  }
}

/** The package root (the folder with rein's package.json), searching upwards. */
function packageRoot(): string | null {
  let d = here();
  for (let i = 0; i < 8; i++) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'rein') return d;
      } catch {
        // keep looking
      }
    }
    d = dirname(d);
  }
  return null;
}

/** Bundles the page with esbuild (build script and source checkouts). */
export async function bundleDashboard(): Promise<{ js: Buffer; css: Buffer }> {
  const root = packageRoot();
  if (root === null) throw new Error('dashboard assets: cannot find the rein package root');
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [join(root, 'language/node/serve/dashboard/web/main.ts'), join(root, 'language/node/serve/dashboard/web/style.css')],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    outdir: 'out',
    loader: { '.css': 'css' },
    logLevel: 'silent',
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = r.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js || !css) throw new Error('dashboard assets: esbuild produced no bundle');
  return { js: Buffer.from(js.contents), css: Buffer.from(css.contents) };
}

let cached: Promise<DashboardAssets> | null = null;

export function dashboardAssets(): Promise<DashboardAssets> {
  cached ??= load().catch((e) => {
    cached = null;
    throw e;
  });
  return cached;
}

async function load(): Promise<DashboardAssets> {
  const root = packageRoot();
  let js: Buffer;
  let css: Buffer;
  const built = root ? join(root, 'dist/dashboard') : null;
  if (built && existsSync(join(built, 'app.js')) && existsSync(join(built, 'app.css')) && !existsSync(join(root!, 'language/node/serve/dashboard/web/main.ts'))) {
    js = readFileSync(join(built, 'app.js'));
    css = readFileSync(join(built, 'app.css'));
  } else if (built && existsSync(join(built, 'app.js')) && existsSync(join(built, 'app.css')) && process.env.REIN_USE_DIST === '1') {
    js = readFileSync(join(built, 'app.js'));
    css = readFileSync(join(built, 'app.css'));
  } else {
    ({ js, css } = await bundleDashboard());
  }
  return {
    files: {
      'app.js': { type: 'text/javascript; charset=utf-8', body: js },
      'app.css': { type: 'text/css; charset=utf-8', body: css },
    },
    html: (prefix) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rein control room</title>
<link rel="stylesheet" href="${prefix}/assets/app.css">
<script defer src="${prefix}/assets/app.js"></script>
</head>
<body data-prefix="${prefix}">
<noscript>The Rein control room needs JavaScript.</noscript>
</body>
</html>
`,
  };
}
