// Data documents (`data NAME: TYPE from "file.json"`, docs/data.md): checking a set's data files
// against their declared types, and turning them into values for the evaluator. The core never reads
// files: the caller passes each file's JSON text (or parsed value) by its name relative to the set's
// root (`check(files, { data })`, `compile(files, { data })`); the Node loader reads them from disk.
// A data file's values are encoded as a request's are (LANGUAGE.md §2): money as a number or a
// decimal string in currency units, durations as `"5m"`-style strings or milliseconds, times as
// RFC 3339 strings.

import { LineIndex, type Diagnostic } from '../diagnostics.js';
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
 * when it is not JSON; REIN252 on the file (at the bad value when the text is known and `locate` is
 * given) naming its JSON path. Never throws.
 */
export function loadData(
  program: CheckedProgram,
  files: DataFiles,
  declFile: (doc: DataDocument) => string,
  /** Where a JSON path's value is in a file's text (`data-locate.ts`; absent: the file's start). */
  locate?: (text: string, path: string) => [number, number] | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (file: string, text: string | undefined, start: number, end: number) => {
    if (text === undefined) return { file, range: { start: { line: 0, character: 0, offset: 0 }, end: { line: 0, character: 0, offset: 0 } } };
    const li = new LineIndex(text);
    return { file, range: { start: li.position(start), end: li.position(end) } };
  };
  for (const doc of program.data ?? []) {
    delete doc.value;
    const raw = Object.prototype.hasOwnProperty.call(files, doc.file) ? files[doc.file] : undefined;
    if (raw === undefined) {
      out.push({ file: declFile(doc), range: doc.decl.source!.range, severity: 'error', code: 'REIN251', message: `data file \`${doc.file}\` of \`${doc.name}\` not found`, help: 'the path is relative to the file that declares it' });
      continue;
    }
    const text = typeof raw === 'string' ? raw : undefined;
    let value = raw;
    if (text !== undefined) {
      try {
        value = JSON.parse(text);
      } catch (e) {
        const m = /position (\d+)/.exec(String((e as Error).message));
        const pos = m ? Math.min(Number(m[1]), text.length) : /end of JSON/.test(String(e)) ? text.length : 0;
        out.push({ ...at(doc.file, text, pos, pos), severity: 'error', code: 'REIN251', message: `data file \`${doc.file}\` is not JSON: ${(e as Error).message}` });
        continue;
      }
    }
    const r = compileValidator(dataType(program, doc), { codegen: false })(value);
    if (!r.ok) {
      for (const err of r.errors) {
        const span = text === undefined ? undefined : locate?.(text, err.path ?? '$');
        out.push({ ...at(doc.file, text, span?.[0] ?? 0, span?.[1] ?? 0), severity: 'error', code: 'REIN252', message: `\`${doc.name}\` ${err.path ?? '$'}: ${err.message}` });
      }
      continue;
    }
    doc.value = value;
  }
  return out;
}

