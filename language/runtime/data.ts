// Data documents (`data NAME: TYPE from "file.json"`, docs/data.md): checking a set's data files
// against their declared types, and turning them into values for the evaluator. The core never reads
// files: the caller passes each file's JSON text (or parsed value) by its name relative to the set's
// root (`check(files, { data })`, `compile(files, { data })`); the Node loader reads them from disk.
// A data file's values are encoded as a request's are (LANGUAGE.md §2): money as a number or a
// decimal string in currency units, durations as `"5m"`-style strings or milliseconds, times as
// RFC 3339 strings.

import type { Diagnostic } from '../diagnostics.js';
import type { CheckedProgram, DataDocument } from '../semantics/program.js';
import { T, type Type } from '../semantics/types.js';
import { compileValidator } from './validate.js';

/** Data files by name relative to the set's root: JSON text (a string) or an already parsed value. */
export type DataFiles = Record<string, unknown>;

/** The declared type of a data document. */
export function dataType(program: CheckedProgram, doc: DataDocument): Type {
  const sym = program.symbols.get(doc.name);
  return sym && sym.kind === 'let' && sym.decl === doc.decl ? sym.type : T.error;
}

/** The value of a data document converted to its declared type (money to micros, …), or undefined. */
export function dataValue(program: CheckedProgram, doc: DataDocument): unknown {
  if (!('value' in doc)) return undefined;
  const r = compileValidator(dataType(program, doc), { codegen: false })(doc.value);
  return r.ok ? r.value : undefined;
}

/**
 * Read every data document of a checked program from `files` into `doc.value`, checking it against
 * the declared type. Diagnostics: REIN251 on the declaration when the file is missing, on the file
 * when it is not JSON; REIN252 on the file naming the bad value's JSON path (also `data.jsonPath`).
 * Those on a file start at its beginning: `placeDataDiagnostics` (data-locate.ts, used by `check()`)
 * moves them to the bad value. Never throws.
 */
export function loadData(program: CheckedProgram, files: DataFiles, declFile: (doc: DataDocument) => string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const zero = { line: 0, character: 0, offset: 0 };
  const onFile = (file: string, code: 'REIN251' | 'REIN252', message: string, jsonPath?: string): Diagnostic => {
    const d: Diagnostic = { file, range: { start: zero, end: zero }, severity: 'error', code, message };
    if (jsonPath) d.data = { jsonPath };
    return d;
  };
  for (const doc of program.data ?? []) {
    delete doc.value;
    let value = Object.prototype.hasOwnProperty.call(files, doc.file) ? files[doc.file] : undefined;
    if (value === undefined) {
      out.push({ file: declFile(doc), range: doc.decl.source!.range, severity: 'error', code: 'REIN251', message: `data file \`${doc.file}\` of \`${doc.name}\` not found` });
      continue;
    }
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch (e) {
        out.push(onFile(doc.file, 'REIN251', `data file \`${doc.file}\` is not JSON: ${(e as Error).message}`));
        continue;
      }
    }
    const r = compileValidator(dataType(program, doc), { codegen: false })(value);
    if (r.ok) doc.value = value;
    else for (const err of r.errors) out.push(onFile(doc.file, 'REIN252', `\`${doc.name}\` ${err.path ?? '$'}: ${err.message}`, err.path));
  }
  return out;
}

