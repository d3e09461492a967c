#!/usr/bin/env node
// The `rein` launcher. From an installed package it runs the built CLI (dist/cli/cli.js: one bundle,
// each command a chunk loaded on demand); in a clone of the repository (sources present, no build
// needed) it registers tsx and runs the TypeScript sources (REIN_USE_DIST=1 runs the build instead).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}cli/cli.ts`;
const built = `${root}dist/cli/cli.js`;

// Fast path: `rein --version` needs nothing but package.json.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version + '\n');
  process.exit(0);
}

// `rein serve`: a young generation that stays at its first size (V8 would double it on its own, up to
// 16 MB semi-spaces whose scavenges pause the server ~1 ms each), and full collections that come less
// often (the old generation may grow to 4× what survived the last one: ~20 MB live, a few bytes more
// per request) — the decision service's p99 at concurrency 16 (docs/service.md, "Garbage collection";
// docs/benchmarks.md, "Session 13"). V8 reads both at run time, so they can be set here, before the
// heap grows. REIN_SERVE_YOUNG=grow keeps V8's defaults.
if (args[0] === 'serve' && process.env.REIN_SERVE_YOUNG !== 'grow') {
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=300');
}

let entry;
if (existsSync(source) && process.env.REIN_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
} else if (existsSync(built)) {
  entry = built;
} else {
  process.stderr.write('rein: cannot find the CLI (neither cli/cli.ts nor dist/cli/cli.js; run `npm run build`)\n');
  process.exit(2);
}

// A reader that stops early (`rein fmt --check . | head -1`): the rest of the output is dropped quietly
// (no `write EPIPE` stack trace) and the command still ends with its own exit code. Not for the
// long-running commands, whose protocols and servers handle their streams themselves.
if (!['lsp', 'serve', 'mcp'].includes(args[0])) {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => {
      if (e && (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED')) return;
      throw e;
    });
  }
}

const { main } = await import(pathToFileURL(entry).href);
// No process.exit(): the process ends when its output has drained (pipes are asynchronous).
process.exitCode = await main(args);
