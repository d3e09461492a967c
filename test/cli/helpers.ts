// Helpers for the CLI tests: run `node bin/rein.js` as a process, or `main()` in-process.

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/cli.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/cli');
export const BIN = path.join(ROOT, 'bin/rein.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real launcher in a child process (cwd defaults to the fixtures folder). */
export function runBin(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? FIXTURES, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Run `main()` in-process with captured streams. */
export async function runMain(
  args: string[],
  opts: { cwd?: string; input?: string; env?: Record<string, string | undefined>; isTTY?: boolean } = {},
): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([opts.input ?? '']),
    env: opts.env ?? {},
    cwd: opts.cwd ?? FIXTURES,
    isTTY: opts.isTTY ?? false,
  });
  return { code, stdout, stderr };
}

/** A scratch copy of a fixture directory (for commands that write). */
export function scratchCopy(fixture: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rein-cli-'));
  cpSync(path.join(FIXTURES, fixture), path.join(dir, fixture), { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const ANSI = /\u001b\[[0-9;]*m/;
