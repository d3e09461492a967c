import type { Diagnostic } from './diagnostics.js';

/** Thrown by `compile()` and `format()` when the policy has errors. Carries every diagnostic. */
export class PolicyError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(message: string, diagnostics: Diagnostic[]) {
    const first = diagnostics.find((d) => d.severity === 'error') ?? diagnostics[0];
    super(
      first
        ? `${message}: ${first.file}:${first.range.start.line + 1}:${first.range.start.character + 1} ${first.code} ${first.message}` +
            (diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '')
        : message,
    );
    this.name = 'PolicyError';
    this.diagnostics = diagnostics;
  }
}

/** A bundle that cannot be used: not JSON, wrong shape, unsupported version, hash mismatch. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** Keep a public class's name through the minifier (`e.constructor.name`, as loggers print it). */
export function named<T extends abstract new (...args: never[]) => unknown>(c: T, name: string): T {
  return Object.defineProperty(c, 'name', { value: name });
}
named(PolicyError, 'PolicyError');
named(BundleError, 'BundleError');
