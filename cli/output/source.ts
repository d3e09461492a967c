// What renderers need to know about the files diagnostics point at.

import type { Diagnostic } from '../../language/diagnostics.js';

export interface SourceLookup {
  /** The path to print for a diagnostic's `file` (e.g. relative to the working directory). */
  display(file: string): string;
  /** The file's text, when known (for excerpts). */
  text(file: string): string | undefined;
}

/** A lookup over policy sets' names → display paths and sources. */
export function makeLookup(entries: { name: string; display: string; text?: string }[]): SourceLookup {
  const byName = new Map<string, { display: string; text?: string }>();
  for (const e of entries) byName.set(e.name, e);
  return {
    display: (file) => byName.get(file)?.display ?? file,
    text: (file) => byName.get(file)?.text,
  };
}

export interface Summary {
  files: number;
  errors: number;
  warnings: number;
}

export function summarize(diagnostics: Diagnostic[], files: number): Summary {
  return {
    files,
    errors: diagnostics.filter((d) => d.severity === 'error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}
