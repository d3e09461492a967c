// Where a data file's diagnostics point (runtime/data.ts reports them at the file's start): REIN252 at
// the bad value, found by the JSON path the validation names (`$.teams.a[0]["b c"]`), REIN251 where
// the JSON parser stopped. Kept apart from data.ts so that `compile()`, which only throws the
// diagnostics, does not carry it into a browser bundle; `check()` (editors, the CLI) applies it.

import { LineIndex, type Diagnostic } from '../diagnostics.js';

/** Move the diagnostics on data files (given as JSON text) to the value or position they are about. */
export function placeDataDiagnostics(diagnostics: Diagnostic[], files: Record<string, unknown>): Diagnostic[] {
  return diagnostics.map((d) => {
    const text = Object.prototype.hasOwnProperty.call(files, d.file) ? files[d.file] : undefined;
    if (typeof text !== 'string' || (d.code !== 'REIN251' && d.code !== 'REIN252')) return d;
    let span: [number, number] | undefined;
    if (d.code === 'REIN252') span = locateJsonPath(text, String(d.data?.jsonPath ?? '$'));
    else {
      const m = /position (\d+)/.exec(d.message);
      const at = m ? Math.min(Number(m[1]), text.length) : /end of JSON/.test(d.message) ? text.length : 0;
      span = [at, at];
    }
    if (!span) return d;
    const li = new LineIndex(text);
    return { ...d, range: { start: li.position(span[0]), end: li.position(span[1]) } };
  });
}

/** Where the value at a JSON path (`$.a[0]["b c"]`) starts and ends in JSON text, if found. */
export function locateJsonPath(text: string, path: string): [number, number] | undefined {
  const segs: (string | number)[] = [];
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    segs.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string)));
  }
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const str = () => {
    const s = i;
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
    return text.slice(s, i);
  };
  const skip = () => {
    ws();
    let depth = 0;
    do {
      const c = text[i];
      if (c === '"') str();
      else {
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') depth--;
        else if (depth === 0 && (c === ',' || c === ':')) break;
        i++;
      }
    } while (i < text.length && depth > 0);
    if (depth === 0) while (i < text.length && !',:}] \t\n\r'.includes(text[i])) i++;
  };
  for (const seg of segs) {
    ws();
    if (typeof seg === 'number') {
      if (text[i++] !== '[') return undefined;
      for (let k = 0; k < seg; k++) {
        skip();
        ws();
        if (text[i++] !== ',') return undefined;
      }
    } else {
      if (text[i++] !== '{') return undefined;
      for (;;) {
        ws();
        if (text[i] !== '"') return undefined;
        let key: unknown;
        try {
          key = JSON.parse(str());
        } catch {
          return undefined;
        }
        ws();
        if (text[i++] !== ':') return undefined;
        if (key === seg) break;
        skip();
        ws();
        if (text[i++] !== ',') return undefined;
      }
    }
  }
  ws();
  const start = i;
  skip();
  return [start, i];
}
