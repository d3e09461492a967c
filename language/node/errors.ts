// Errors of the Node edge. The CLI maps each to an exit code (LoadError, BundleError, UsageError → 2).

import { named } from '../errors.js';
/** IO problems: a missing path, an unreadable file, nothing to load, input that is not JSON. */
/** A file system error in words (`no such file or directory`, not `ENOENT`), for LoadError messages. */
export function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'EADDRINUSE':
      return 'the address is already in use (another process listens there)';
    case 'EADDRNOTAVAIL':
      return 'the address is not available on this machine';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}

export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadError';
  }
}
named(LoadError, 'LoadError');

// A bundle that cannot be used (the core's class: `rein/runtime`'s loadCompiled throws it too).
export { BundleError } from '../errors.js';

/** A command-line mistake: printed with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown to end a command with a code after its output was printed. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ExitCode';
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    // a byte that cannot start a sequence, or a sequence cut short by the end
    if (n < 0 || i + n >= b.length) return i;
    // second byte ranges that exclude overlongs, surrogates and code points above U+10FFFF
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let k = 2; k <= n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * `bytes` as text: UTF-8, a leading byte order mark dropped. Bytes that are not UTF-8 (a file saved as
 * Latin-1 or Windows-1252) are a LoadError naming the file, the line and the column — decoding them
 * to U+FFFD would change string literals and data silently (review h12r2 T15).
 */
export function utf8Text(bytes: Uint8Array, name: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const before = new TextDecoder().decode(bytes.subarray(0, Math.max(0, at)));
    const nl = before.lastIndexOf('\n');
    const where = at < 0 ? '' : ` (line ${before.split('\n').length}, column ${before.length - nl}: byte 0x${bytes[at]!.toString(16).padStart(2, '0')})`;
    throw new LoadError(`\`${name}\` is not valid UTF-8${where}: Rein reads policies, data and inputs as UTF-8; convert the file (e.g. \`iconv -f latin1 -t utf-8\`)`);
  }
}
