// Source files, data documents and inputs are UTF-8 (LANGUAGE §1). Node's 'utf8' decoding turns an
// invalid byte into U+FFFD silently, so a file saved as Latin-1 checked clean while its literals no
// longer matched (fail open), and `rein fmt --write` rewrote the bytes. Decode strictly instead.

import { LoadError } from './errors.js';

// `ignoreBOM: true` keeps a byte-order mark in the text, as `fs.readFile(p, 'utf8')` does
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of `bytes`, or a LoadError naming `name` and where the first invalid byte is. */
export function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    const at = firstInvalid(bytes);
    const before = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, at));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new LoadError(
      `\`${name}\` is not valid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0')} at line ${line}, column ${column}): save it as UTF-8`,
    );
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalid(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}
