#!/usr/bin/env node
// The `rein` launcher. From an installed package it runs the built CLI (dist/esm); in a clone of the
// repository (sources present, no build needed) it registers tsx and runs the TypeScript sources.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}language/node/cli.ts`;
const built = `${root}dist/esm/language/node/cli.js`;

// Fast path: `rein --version` needs nothing but package.json.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version + '\n');
  process.exit(0);
}

let entry;
if (existsSync(source) && process.env.REIN_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
} else if (existsSync(built)) {
  entry = built;
} else {
  process.stderr.write('rein: cannot find the CLI (neither language/node/cli.ts nor dist/esm/language/node/cli.js)\n');
  process.exit(2);
}

const { main } = await import(pathToFileURL(entry).href);
// No process.exit(): the process ends when its output has drained (pipes are asynchronous).
process.exitCode = await main(args);
