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

// `rein serve` runs with a small young generation: 2 MB semi-spaces (docs/service.md, "Garbage
// collection"). V8 reads that size when the process starts, so the launcher starts the server as a
// child with the flag — unless it is set already (node flags, NODE_OPTIONS) or
// REIN_SERVE_SEMI_SPACE_MB=0 asks for Node's default. The child is in its own process group (a
// terminal's Ctrl-C reaches this process, which passes it on once) and stops when this process is gone.
if (args[0] === 'serve' && !args.includes('--help') && !args.includes('-h') && process.env.REIN_SERVE_CHILD !== '1') {
  const mb = process.env.REIN_SERVE_SEMI_SPACE_MB ?? '2';
  if (!/^\d{1,4}$/.test(mb) || Number(mb) > 1024) {
    process.stderr.write(`rein serve: REIN_SERVE_SEMI_SPACE_MB must be a whole number of MB from 0 to 1024 (0: Node's default), got \`${mb}\`\n`);
    process.exit(2);
  }
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (mb !== '0' && !flags.some((f) => /^--(max|min)[-_]semi[-_]space[-_]size/.test(f))) {
    const { spawn } = await import('node:child_process');
    const { constants } = await import('node:os');
    const child = spawn(process.execPath, [...process.execArgv, `--max-semi-space-size=${mb}`, fileURLToPath(import.meta.url), ...args], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, REIN_SERVE_CHILD: '1' },
      detached: true,
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    const code = await new Promise((resolve) => {
      child.on('error', (e) => {
        process.stderr.write(`rein serve: cannot start the server process: ${e.message}\n`);
        resolve(2);
      });
      child.on('exit', (c, sig) => resolve(c ?? 128 + (constants.signals[sig] ?? 0)));
    });
    process.exit(code);
  }
}

// The server process started above: its channel to the launcher does not keep it alive, and when the
// launcher is gone (killed with SIGKILL, say) it stops as on SIGTERM.
if (process.env.REIN_SERVE_CHILD === '1' && process.channel) {
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
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

const { main } = await import(pathToFileURL(entry).href);
// No process.exit(): the process ends when its output has drained (pipes are asynchronous).
process.exitCode = await main(args);
