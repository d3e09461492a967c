// What every CLI command receives: the IO streams, colours and path helpers. No core imports here,
// so `rein --help` and `rein --version` start without loading the compiler.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LoadError, ioReason } from '../language/node/errors.js';
import { decodeUtf8 } from '../language/node/utf8.js';
import { colorEnabled, makeColors, type Colors } from './output/color.js';

import type { CliIO } from '../language/node/io.js';
export type { CliIO } from '../language/node/io.js';

export const EXIT = {
  ok: 0,
  errors: 1,
  usage: 2,
  testFailed: 3,
  deny: 4,
  requireApproval: 5,
  changed: 6,
  broken: 7,
} as const;

export interface Ctx {
  io: CliIO;
  c: Colors;
  /** Resolve a command-line path against the working directory. */
  resolve(p: string): string;
  /** A path as printed: relative to the working directory, `/`-separated. */
  display(abs: string): string;
  /** Read a file, or standard input for `-`. IO errors become LoadError (exit 2). */
  readInput(p: string): Promise<string>;
  out(s: string): void;
  err(s: string): void;
}

/** JSON text read from a file without a leading UTF-8 byte order mark (Windows editors write one; it is
 *  not part of the JSON, and standard input's decoder drops it already). For request inputs only: a
 *  decision log or a source file keeps its exact bytes. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: string[] = [];
  // strict: bytes that are not UTF-8 are refused, not replaced (language/node/utf8.ts)
  const dec = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? chunk : dec.decode(chunk, { stream: true }));
    chunks.push(dec.decode());
  } catch (e) {
    if (e instanceof TypeError) throw new LoadError('standard input is not valid UTF-8');
    throw e;
  }
  return chunks.join('');
}

export function defaultIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
  };
}

export function makeCtx(io: CliIO): Ctx {
  const c = makeColors(colorEnabled(io.isTTY, io.env));
  const resolve = (p: string) => path.resolve(io.cwd, p);
  const display = (abs: string) => {
    const rel = path.relative(io.cwd, abs);
    return (rel === '' ? '.' : rel).split(path.sep).join('/');
  };
  return {
    io,
    c,
    resolve,
    display,
    out: (s) => void io.stdout.write(s),
    err: (s) => void io.stderr.write(s),
    async readInput(p) {
      if (p === '-') return readAll(io.stdin);
      let bytes: Uint8Array;
      try {
        bytes = await fs.readFile(resolve(p));
      } catch (e) {
        throw new LoadError(`cannot read \`${p}\`: ${ioReason(e)}`);
      }
      return decodeUtf8(bytes, p);
    },
  };
}
