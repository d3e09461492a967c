// Where a value is in a data file's JSON text, by the JSON path a validation error names
// (`$.teams.a[0]["b c"]`): for the position of REIN252 (runtime/data.ts). Kept apart from data.ts so
// that `compile()`, which only throws the diagnostics, does not carry it into a browser bundle; `check()`
// (editors, the CLI) passes it.

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
