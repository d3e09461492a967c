// Errors of the Node edge. The CLI maps each to an exit code (LoadError, BundleError, UsageError → 2).

/** IO problems: a missing path, an unreadable file, nothing to load, input that is not JSON. */
export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadError';
  }
}

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
