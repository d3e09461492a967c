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
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
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
