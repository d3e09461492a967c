// Deterministic detectors (LANGUAGE §4, docs/language.md "Detectors"): `pii.*` and `secrets.*`.
//
// Every detector is a span finder: it returns where it matched (`[start, end)` in UTF-16 code units,
// left to right, non-overlapping), which is what `redact` masks; the boolean form a policy calls
// (`pii.email(s)`) is "found at least one" and stops at the first.
//
// Linear time by construction: the text is split into runs by a single left-to-right scan, and each
// run is tested with ANCHORED patterns made of bounded, unambiguous repetitions (or with a
// hand-written scanner that looks at a bounded window per position), so no input can make a detector
// backtrack catastrophically. bench/detectors.ts and test/runtime/detectors-linear.test.ts check it.

export type Detector = (s: string) => boolean;

/** One match: `s.slice(start, end)` is the matched text (UTF-16 code units). */
export interface Span {
  start: number;
  end: number;
}

/** Every match in `s`, left to right and non-overlapping; with `first`, stops after the first. */
export type SpanFinder = (s: string, first: boolean) => Span[];

// The whole text is scanned, however long: a cap would let a secret hide behind padding. Hosts that
// accept large tool outputs bound them before evaluation (see docs/evaluation.md for MB/s).

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isAlnum(c: number): boolean {
  return isDigit(c) || isUpper(c) || isLower(c);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Calls `f(start, end)` for every maximal run of characters accepted by `accept`; stops early when `f` returns true. */
function eachRun(s: string, accept: (c: number) => boolean, f: (a: number, b: number) => boolean): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    while (i < n && !accept(s.charCodeAt(i))) i++;
    const start = i;
    while (i < n && accept(s.charCodeAt(i))) i++;
    if (i > start && f(start, i)) return;
  }
}

/** The end of `[a, b)` without the characters accepted by `drop` at its end (one pass, no regex:
 *  an unanchored `/[…]+$/` would retry from every position of a long run, quadratic). */
function trimEnd(s: string, a: number, b: number, drop: (c: number) => boolean): number {
  while (b > a && drop(s.charCodeAt(b - 1))) b--;
  return b;
}
function trimStart(s: string, a: number, b: number, drop: (c: number) => boolean): number {
  while (a < b && drop(s.charCodeAt(a))) a++;
  return a;
}

function has(s: string, a: number, b: number, code: number): boolean {
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === code) return true;
  return false;
}

/** The union of several finders' spans, sorted, overlapping ones merged. */
function union(finders: SpanFinder[]): SpanFinder {
  return (s, first) => {
    let all: Span[] = [];
    for (const f of finders) {
      const xs = f(s, first);
      if (first && xs.length > 0) return xs.slice(0, 1);
      all = all.length === 0 ? xs : all.concat(xs);
    }
    if (all.length < 2) return all;
    all.sort((x, y) => x.start - y.start || y.end - x.end);
    const out: Span[] = [{ start: all[0].start, end: all[0].end }];
    for (let i = 1; i < all.length; i++) {
      const last = out[out.length - 1];
      const x = all[i];
      if (x.start < last.end) last.end = Math.max(last.end, x.end);
      else out.push({ start: x.start, end: x.end });
    }
    return out;
  };
}

// ---------------------------------------------------------------- email

/** Non-ASCII letters, marks and digits of scripts written with spaces between words: part of an
 *  internationalised address (RFC 6531 local parts, IDNA domains: `josé@ejemplo.es`,
 *  `user@bücher.de`, `иван@пример.рф`). Scripts written without spaces (Han, kana, Thai, Lao, Khmer,
 *  Myanmar) are not: their text runs into an address with nothing between (`请联系bob@example.com谢谢`),
 *  and the address found there is the ASCII one. Astral characters (surrogates) end a run too. */
const EMAIL_LETTER = /^[\p{L}\p{M}\p{N}]$/u;
const UNSPACED = /^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}]$/u;
/** Per BMP code unit ≥ 0x80: 0 not looked at, 1 an address letter, 2 not (filled as met). */
let wideEmail: Uint8Array | null = null;

function isWideEmailChar(c: number): boolean {
  if (c >= 0xd800 && c <= 0xdfff) return false;
  const t = (wideEmail ??= new Uint8Array(0x10000));
  let v = t[c];
  if (v === 0) {
    const ch = String.fromCharCode(c);
    v = t[c] = EMAIL_LETTER.test(ch) && !UNSPACED.test(ch) ? 1 : 2;
  }
  return v === 1;
}

function isEmailChar(c: number): boolean {
  // A-Z a-z 0-9 . _ % + - @, and letters of other scripts (above)
  return c < 0x80 ? isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 64 : isWideEmailChar(c);
}

// Bounded, unambiguous repetitions over a run of at most 320 characters (see the top of the file).
// The top-level domain: ASCII letters, an IDNA A-label (`xn--p1ai`) or letters of another script (`рф`).
const EMAIL = /^[\p{L}\p{M}\p{N}._%+-]{1,64}@[\p{L}\p{M}\p{N}-]{1,63}(?:\.[\p{L}\p{M}\p{N}-]{1,63}){0,8}\.(?:[\p{L}\p{M}]{2,24}|xn--[A-Za-z0-9-]{1,59})$/u;

const emailSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  if (s.indexOf('@') < 0) return out;
  eachRun(s, isEmailChar, (a, b) => {
    if (!has(s, a, b, 64)) return false;
    const e = trimEnd(s, a, b, (c) => c === 46 || c === 45); // trailing `.` and `-`
    if (e - a <= 320 && EMAIL.test(s.slice(a, e))) {
      out.push({ start: a, end: e });
      return first;
    }
    return false;
  });
  return out;
};

// ---------------------------------------------------------------- phone

function isPhoneChar(c: number): boolean {
  // digits + space ( ) - .
  return isDigit(c) || c === 43 || c === 32 || c === 40 || c === 41 || c === 45 || c === 46;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const DATE_LIKE = /^\d{4}[-.]\d{2}[-.]\d{2}$/;

/** A trimmed run of phone characters that is one phone number. */
function phoneOk(t: string): boolean {
  if (t.length === 0) return false;
  // `+` only at the start.
  if (t.indexOf('+', 1) >= 0) return false;
  let digits = 0;
  let seps = 0;
  let lastSep = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      lastSep = false;
    } else if (c !== 43) {
      // no two separators in a row except `) ` / ` (`
      if (lastSep && !(c === 32 || c === 40 || t.charCodeAt(i - 1) === 41)) return false;
      lastSep = true;
      seps++;
    }
  }
  if (digits < 10 || digits > 15) return false;
  if (IPV4.test(t) || DATE_LIKE.test(t)) return false;
  const plus = t.charCodeAt(0) === 43;
  // A bare run of digits is only a phone number when it has the length of one (10–11 digits).
  if (!plus && seps === 0 && digits > 11) return false;
  return true;
}

const WORD_LETTER = /^[\p{L}\p{M}_]$/u;

/** A letter (any script) or `_`: a digit run glued to one is part of a word or an identifier. */
function isWordLetter(s: string, i: number): boolean {
  if (i < 0 || i >= s.length) return false;
  const c = s.charCodeAt(i);
  if (c < 128) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return WORD_LETTER.test(s[i]!);
}

/** One part of a run (between double spaces): leading spaces, `.`, `-`, `)`; trailing spaces, `.`, `-`, `(`, `+` dropped.
 *  A number glued to a letter on either side is part of a word — a UUID, a commit hash, a hex token
 *  (`a456-426614174000`, `3f1a2b4c5d6789012345e`) — not a phone number. */
function phonePart(s: string, a: number, b: number, out: Span[]): boolean {
  const x = trimStart(s, a, b, (c) => c === 32 || c === 46 || c === 45 || c === 41);
  let y = trimEnd(s, x, b, (c) => c === 32 || c === 46 || c === 45 || c === 40 || c === 43);
  // a `)` that closes nothing in the part (`(fax 555-987-6543)`) is the text's, not the number's
  if (y > x && s.charCodeAt(y - 1) === 41 && s.lastIndexOf('(', y - 1) < x) y = trimEnd(s, x, y - 1, (c) => c === 32 || c === 46 || c === 45 || c === 40 || c === 43);
  if (y > x && !isWordLetter(s, x - 1) && !isWordLetter(s, y) && phoneOk(s.slice(x, y))) {
    out.push({ start: x, end: y });
    return true;
  }
  return false;
}

const phoneSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  // A run of phone characters; split it on double spaces (two numbers in a row) and check each part.
  eachRun(s, isPhoneChar, (a, b) => {
    let digit = false;
    for (let i = a; i < b && !digit; i++) digit = isDigit(s.charCodeAt(i));
    if (!digit) return false;
    let p = a;
    let i = a;
    while (i < b) {
      if (s.charCodeAt(i) === 32 && i + 1 < b && s.charCodeAt(i + 1) === 32) {
        if (phonePart(s, p, i, out) && first) return true;
        while (i < b && s.charCodeAt(i) === 32) i++;
        p = i;
      } else i++;
    }
    return phonePart(s, p, b, out) && first;
  });
  return out;
};

// ---------------------------------------------------------------- card (Luhn)

export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

function isCardChar(c: number): boolean {
  return isDigit(c) || c === 32 || c === 45;
}

/** The cards in the run `[a, b)`. Groups of digits separated by exactly one space or dash; a card
 *  starts and ends at group bounds; the longest valid number from a group wins. */
function cardsInRun(s: string, a: number, b: number, out: Span[], first: boolean): boolean {
  const starts: number[] = [];
  const lens: number[] = [];
  for (let i = a; i <= b; ) {
    let j = i;
    while (j < b && isDigit(s.charCodeAt(j))) j++;
    starts.push(i);
    lens.push(j - i);
    i = j + 1;
  }
  const n = lens.length;
  for (let i = 0; i < n; i++) {
    if (lens[i] === 0) continue;
    const before = i > 0 && lens[i - 1] > 0;
    let digits = 0;
    let best = -1;
    // Groups i..j are one number when not glued to other groups, or when every group but the last
    // has 4 digits (the classic grouping, e.g. followed by an expiry): `fours` tracks the latter.
    let fours = true;
    for (let j = i; j < n && lens[j] > 0; j++) {
      digits += lens[j];
      if (digits > 19) break;
      const after = j + 1 < n && lens[j + 1] > 0;
      if (digits >= 13 && (i === j || (!before && !after) || fours) && luhnGroups(s, starts, lens, i, j)) best = j;
      if (lens[j] !== 4) fours = false;
      // Past this point only an unglued end (no group after) can make a whole number.
      if (!fours && before) break;
    }
    if (best >= 0) {
      out.push({ start: starts[i], end: starts[best] + lens[best] });
      if (first) return true;
      i = best;
    }
  }
  return false;
}

/** Luhn over the digits of groups i..j (at most 19 digits). */
function luhnGroups(s: string, starts: number[], lens: number[], i: number, j: number): boolean {
  let sum = 0;
  let dbl = false;
  for (let g = j; g >= i; g--) {
    for (let k = starts[g] + lens[g] - 1; k >= starts[g]; k--) {
      let d = s.charCodeAt(k) - 48;
      if (dbl) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      dbl = !dbl;
    }
  }
  return sum % 10 === 0;
}

const cardSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  eachRun(s, isCardChar, (a, b) => {
    let digits = 0;
    for (let i = a; i < b; i++) if (isDigit(s.charCodeAt(i))) digits++;
    return digits >= 13 && cardsInRun(s, a, b, out, first);
  });
  return out;
};

// ---------------------------------------------------------------- IBAN (mod 97)

export function ibanValid(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34) return false;
  const r = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97;
    else if (isUpper(c)) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

const ibanSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  const n = s.length;
  for (let i = 0; i + 4 <= n; i++) {
    if (!(isUpper(s.charCodeAt(i)) && isUpper(s.charCodeAt(i + 1)) && isDigit(s.charCodeAt(i + 2)) && isDigit(s.charCodeAt(i + 3)))) continue;
    if (i > 0 && isAlnum(s.charCodeAt(i - 1))) continue;
    // Collect up to 34 alphanumerics, allowing single spaces between groups.
    let compact = '';
    let j = i;
    let end = -1;
    while (j < n && compact.length < 34) {
      const c = s.charCodeAt(j);
      if (isDigit(c) || isUpper(c)) {
        compact += s[j];
        j++;
        // Try the prefix when it ends at a word end.
        if (compact.length >= 15) {
          const next = j < n ? s.charCodeAt(j) : 32;
          if (!isAlnum(next) && ibanValid(compact)) {
            end = j;
            break;
          }
        }
      } else if (c === 32 && j + 1 < n && (isDigit(s.charCodeAt(j + 1)) || isUpper(s.charCodeAt(j + 1)))) {
        j++;
      } else break;
    }
    if (end >= 0) {
      out.push({ start: i, end });
      if (first) return out;
      i = end - 1;
    }
  }
  return out;
};

// ---------------------------------------------------------------- US social security number

/** Numbers the SSA never issues: area 000, 666, 900–999; group 00; serial 0000; and the two
 *  numbers published in advertising (078-05-1120, 219-09-9999), which the SSA voided. */
export function ssnValid(area: number, group: number, serial: number): boolean {
  if (area === 0 || area === 666 || area >= 900 || group === 0 || serial === 0) return false;
  if ((area === 78 && group === 5 && serial === 1120) || (area === 219 && group === 9 && serial === 9999)) return false;
  return true;
}

function digitsAt(s: string, i: number, k: number): number {
  let v = 0;
  for (let j = i; j < i + k; j++) {
    const c = s.charCodeAt(j);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** `AAA-GG-SSSS` or `AAA GG SSSS` (one separator kind), not part of a longer number or word. */
const ssnSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  const n = s.length;
  for (let i = 0; i + 11 <= n; i++) {
    if (!isDigit(s.charCodeAt(i))) continue;
    if (i > 0) {
      const p = s.charCodeAt(i - 1);
      if (isAlnum(p) || p === 45 || p === 46 || p === 95 || p === 43) continue;
    }
    const sep = s.charCodeAt(i + 3);
    if ((sep !== 45 && sep !== 32) || s.charCodeAt(i + 6) !== sep) continue;
    const area = digitsAt(s, i, 3);
    const group = digitsAt(s, i + 4, 2);
    const serial = digitsAt(s, i + 7, 4);
    if (area < 0 || group < 0 || serial < 0) continue;
    if (i + 11 < n) {
      const c = s.charCodeAt(i + 11);
      if (isAlnum(c) || c === 95) continue;
      if ((c === 45 || c === 46 || c === sep) && i + 12 < n && isDigit(s.charCodeAt(i + 12))) continue;
    }
    if (!ssnValid(area, group, serial)) continue;
    out.push({ start: i, end: i + 11 });
    if (first) return out;
    i += 10;
  }
  return out;
};

// ---------------------------------------------------------------- IP addresses

/** An IPv4 dotted quad starting at `i` (decimal octets 0–255, no leading zeros): its end, or -1. */
function ipv4At(s: string, i: number, n: number): number {
  let j = i;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (j >= n || s.charCodeAt(j) !== 46) return -1;
      j++;
    }
    const a = j;
    let v = 0;
    while (j < n && j - a < 4 && isDigit(s.charCodeAt(j))) v = v * 10 + (s.charCodeAt(j++) - 48);
    const len = j - a;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(a) === 48)) return -1;
  }
  return j;
}

const ipv4Spans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  const n = s.length;
  for (let i = 0; i + 7 <= n; i++) {
    if (!isDigit(s.charCodeAt(i))) continue;
    if (i > 0) {
      const p = s.charCodeAt(i - 1);
      if (isAlnum(p) || p === 46 || p === 95) continue;
    }
    const e = ipv4At(s, i, n);
    if (e < 0) continue;
    if (e < n) {
      const c = s.charCodeAt(e);
      if (isAlnum(c) || c === 95) continue;
      if (c === 46 && e + 1 < n && isDigit(s.charCodeAt(e + 1))) continue;
    }
    out.push({ start: i, end: e });
    if (first) return out;
    i = e - 1;
  }
  return out;
};

/** RFC 4291 text form: 8 groups of 1–4 hex digits, or fewer with one `::`; the last 32 bits may be
 *  a dotted quad. At least one hex digit (a bare `::` in prose is not an address). */
export function ipv6Valid(t: string): boolean {
  if (t.length < 3 || t.length > 45) return false;
  const dbl = t.indexOf('::');
  if (dbl >= 0 && t.indexOf('::', dbl + 1) >= 0) return false;
  const parts = dbl >= 0 ? [t.slice(0, dbl), t.slice(dbl + 2)] : [t];
  let groups = 0;
  let hex = false;
  for (let p = 0; p < parts.length; p++) {
    if (parts[p] === '') continue;
    const gs = parts[p].split(':');
    for (let g = 0; g < gs.length; g++) {
      const x = gs[g];
      const lastOfAll = p === parts.length - 1 && g === gs.length - 1;
      if (x.indexOf('.') >= 0) {
        if (!lastOfAll || ipv4At(x, 0, x.length) !== x.length) return false;
        groups += 2;
        hex = true;
        continue;
      }
      if (x.length === 0 || x.length > 4) return false;
      for (let k = 0; k < x.length; k++) if (!isHex(x.charCodeAt(k))) return false;
      groups++;
      hex = true;
    }
  }
  return hex && (dbl >= 0 ? groups <= 7 : groups === 8);
}

function isV6Char(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

const ipv6Spans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  if (s.indexOf(':') < 0) return out;
  const n = s.length;
  eachRun(s, isV6Char, (a, b) => {
    // Not glued to a word (`std::abs`, `0xfe80::`): the characters around the run are no letters.
    if (a > 0 && (isAlnum(s.charCodeAt(a - 1)) || s.charCodeAt(a - 1) === 95)) return false;
    if (b < n && (isAlnum(s.charCodeAt(b)) || s.charCodeAt(b) === 95)) return false;
    if (b - a > 46 || !has(s, a, b, 58)) return false;
    let e = trimEnd(s, a, b, (c) => c === 46);
    // A trailing single `:` (`address fe80::1: up`) is punctuation; a trailing `::` is part of the address.
    if (e - a > 2 && s.charCodeAt(e - 1) === 58 && s.charCodeAt(e - 2) !== 58) e--;
    if (ipv6Valid(s.slice(a, e))) {
      out.push({ start: a, end: e });
      return first;
    }
    return false;
  });
  return out;
};

// ---------------------------------------------------------------- URLs

const URL_SCHEMES = new Set(['http', 'https', 'ftp', 'ftps', 'sftp', 'ws', 'wss']);

function isUrlChar(c: number): boolean {
  // Anything printable but space and the characters that end a URL in text: " ' < > ` { } | \ ^
  return c > 32 && c !== 127 && c !== 34 && c !== 39 && c !== 60 && c !== 62 && c !== 96 && c !== 123 && c !== 125 && c !== 124 && c !== 92 && c !== 94;
}

/** `[h, e)` without the sentence's trailing punctuation (`.,;:!?]`, and a `)` the URL did not open:
 *  `closes - opens` of them). */
function trimUrl(s: string, h: number, e: number, unbalanced: number): number {
  while (e > h) {
    const c = s.charCodeAt(e - 1);
    if (c === 46 || c === 44 || c === 59 || c === 58 || c === 33 || c === 63 || c === 93) e--;
    else if (c === 41 && unbalanced > 0) {
      e--;
      unbalanced--;
    } else break;
  }
  return e;
}

/** Whether the URL `[h, e)` (its authority starts at `h`) has a host: a name with a dot whose last
 *  label is not all digits, `localhost`, an IPv4 address or a bracketed IPv6 one. The host part is
 *  looked at up to 512 characters (a constant per candidate: the scan stays linear). */
function urlHostOk(s: string, h: number, e: number): boolean {
  // The host: after any `user:pass@`, up to `:port`, `/`, `?` or `#`.
  let a = h;
  let z = h;
  const cap = Math.min(e, h + 512);
  while (z < cap) {
    const c = s.charCodeAt(z);
    if (c === 47 || c === 63 || c === 35) break;
    if (c === 64) a = z + 1;
    z++;
  }
  if (z === cap && cap < e) return false;
  if (a < z && s.charCodeAt(a) === 91) {
    const close = s.indexOf(']', a);
    return close > a && close < z && ipv6Valid(s.slice(a + 1, close));
  }
  let hostEnd = a;
  while (hostEnd < z && s.charCodeAt(hostEnd) !== 58) hostEnd++;
  const host = s.slice(a, hostEnd).toLowerCase();
  if (host === 'localhost') return true;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}\.){1,16}[a-z0-9-]{1,63}$/.test(host)) return false;
  // A name's last label has a letter (`a.b.c` but not `1.2.3`), unless the whole host is an IPv4 address.
  return !/^\d+$/.test(host.slice(host.lastIndexOf('.') + 1)) || ipv4At(host, 0, host.length) === host.length;
}

/** `scheme://…` (http, https, ftp, ftps, sftp, ws, wss) and `www.…` URLs with a valid host. */
const urlSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  const n = s.length;
  // The run of URL characters the current candidate is in (candidates only move right, so every
  // character is scanned once): its end, and its end without trailing punctuation.
  let runEnd = -1;
  let urlEnd = -1;
  let pos = 0;
  // The next `://` and `www.` at or after `pos`, searched again only once passed (each search
  // starts where the last one ended: one pass over the text for each).
  let k = -2;
  let w = -2;
  while (pos < n) {
    if (k !== -1 && k < pos) k = s.indexOf('://', pos);
    if (w !== -1 && w < pos) w = s.indexOf('www.', pos);
    if (k < 0 && w < 0) break;
    let start = -1;
    let h = -1;
    if (k >= 0 && (w < 0 || k < w)) {
      // `scheme://`: the scheme is the letters before it (at most 5), not glued to a word.
      let a = k;
      while (a > 0 && k - a < 6 && isAlnum(s.charCodeAt(a - 1))) a--;
      if (URL_SCHEMES.has(s.slice(a, k).toLowerCase()) && !(a > 0 && isAlnum(s.charCodeAt(a - 1)))) {
        start = a;
        h = k + 3;
      }
      pos = k + 3;
    } else {
      const p = w > 0 ? s.charCodeAt(w - 1) : 32;
      if (!isAlnum(p) && p !== 46 && p !== 64 && p !== 47 && p !== 95 && p !== 45) {
        start = w;
        h = w;
      }
      pos = w + 4;
    }
    if (start < 0) continue;
    if (h >= runEnd) {
      let e = h;
      let parens = 0;
      while (e < n && isUrlChar(s.charCodeAt(e))) {
        const c = s.charCodeAt(e);
        if (c === 40) parens--;
        else if (c === 41) parens++;
        e++;
      }
      runEnd = e;
      // A `)` ends the URL unless the URL opened one (`…/Foo_(bar)`).
      urlEnd = trimUrl(s, h, e, parens);
    }
    const e = urlEnd;
    if (e <= h || !urlHostOk(s, h, e)) continue;
    out.push({ start, end: e });
    if (first) return out;
    pos = e;
  }
  return out;
};

// ---------------------------------------------------------------- secrets

function isSecretChar(c: number): boolean {
  // A-Z a-z 0-9 _ - .
  return isAlnum(c) || c === 95 || c === 45 || c === 46;
}

/** Whether a JWT's first segment is base64url JSON with an `alg` (the header every JWT has). */
function jwtHeaderOk(t: string): boolean {
  const seg = t.slice(0, t.indexOf('.'));
  try {
    const b64 = seg.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((seg.length + 3) % 4);
    const h = JSON.parse(globalThis.atob(b64)) as unknown;
    return typeof h === 'object' && h !== null && typeof (h as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

interface TokenKind {
  re: RegExp;
  check?: (t: string) => boolean;
}

/** Token shapes by provider (the prefixes each provider documents). */
const TOKENS: Record<string, TokenKind[]> = {
  aws: [{ re: /^(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}$/ }], // access key ids
  github: [
    { re: /^gh[pousr]_[A-Za-z0-9]{36,255}$/ }, // classic tokens
    { re: /^github_pat_[A-Za-z0-9_]{22,255}$/ }, // fine-grained PATs
  ],
  slack: [
    { re: /^xox[abposre]-[A-Za-z0-9-]{10,250}$/ }, // bot, user, app-level … tokens
    { re: /^xapp-\d-[A-Za-z0-9-]{10,250}$/ },
  ],
  stripe: [{ re: /^(?:sk|rk)_live_[A-Za-z0-9]{16,250}$/ }], // live secret and restricted keys
  google: [{ re: /^AIza[0-9A-Za-z_-]{35}$/ }],
  openai: [{ re: /^sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,250}$/, check: (t) => !t.startsWith('sk-ant-') }],
  anthropic: [{ re: /^sk-ant-[A-Za-z0-9_-]{20,250}$/ }],
  jwt: [{ re: /^eyJ[A-Za-z0-9_-]{2,4096}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{10,2048}$/, check: jwtHeaderOk }],
};

function tokenFinder(kinds: TokenKind[]): SpanFinder {
  return (s, first) => {
    const out: Span[] = [];
    eachRun(s, isSecretChar, (a, b) => {
      if (b - a < 20) return false;
      const e = trimEnd(s, a, b, (c) => c === 46);
      const t = s.slice(a, e);
      for (const k of kinds) {
        if (k.re.test(t) && (k.check === undefined || k.check(t))) {
          out.push({ start: a, end: e });
          return first;
        }
      }
      return false;
    });
    return out;
  };
}

const SLACK_WEBHOOK = /^https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{10,300}/;

/** Slack incoming-webhook URLs (the URL is the credential). */
const slackWebhookSpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  let pos = 0;
  for (;;) {
    const k = s.indexOf('https://hooks.slack.com/', pos);
    if (k < 0) break;
    const m = SLACK_WEBHOOK.exec(s.slice(k, k + 340));
    if (m) {
      out.push({ start: k, end: k + m[0].length });
      if (first) break;
    }
    pos = k + 24;
  }
  return out;
};

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/g;
const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/g;

/** Private-key blocks (PEM, OpenSSH, PGP): from the BEGIN line through its END line; a block
 *  without an END line runs to the end of the text. */
const privateKeySpans: SpanFinder = (s, first) => {
  const out: Span[] = [];
  if (s.indexOf('-----BEGIN ') < 0) return out;
  PEM_BEGIN.lastIndex = 0;
  for (;;) {
    const m = PEM_BEGIN.exec(s);
    if (m === null) break;
    PEM_END.lastIndex = m.index + m[0].length;
    const e = PEM_END.exec(s);
    const end = e === null ? s.length : e.index + e[0].length;
    out.push({ start: m.index, end });
    if (first || e === null) break;
    PEM_BEGIN.lastIndex = end;
  }
  return out;
};

// ---------------------------------------------------------------- the registry

/** Every detector's span finder by qualified name (the names policies call). */
export const SPAN_FINDERS: Record<string, SpanFinder> = Object.create(null) as Record<string, SpanFinder>;
const F = SPAN_FINDERS;
F['pii.email'] = emailSpans;
F['pii.phone'] = phoneSpans;
F['pii.card'] = cardSpans;
F['pii.iban'] = ibanSpans;
F['pii.ssn'] = ssnSpans;
F['pii.ip'] = union([ipv4Spans, ipv6Spans]);
F['pii.url'] = urlSpans;
F['pii.any'] = union([emailSpans, phoneSpans, cardSpans, ibanSpans, ssnSpans]);
F['secrets.aws'] = tokenFinder(TOKENS.aws);
F['secrets.github'] = tokenFinder(TOKENS.github);
F['secrets.slack'] = union([tokenFinder(TOKENS.slack), slackWebhookSpans]);
F['secrets.stripe'] = tokenFinder(TOKENS.stripe);
F['secrets.google'] = tokenFinder(TOKENS.google);
F['secrets.openai'] = tokenFinder(TOKENS.openai);
F['secrets.anthropic'] = tokenFinder(TOKENS.anthropic);
F['secrets.jwt'] = tokenFinder(TOKENS.jwt);
F['secrets.private_key'] = privateKeySpans;
F['secrets.any'] = union([tokenFinder(Object.values(TOKENS).flat()), slackWebhookSpans, privateKeySpans]);

/** Where `detector` matches in `s` (every match; [] for a non-string or an unknown detector). */
export function findSpans(detector: string, s: unknown): Span[] {
  const f = SPAN_FINDERS[detector];
  return f === undefined || typeof s !== 'string' ? [] : f(s, false);
}

function found(f: SpanFinder): Detector {
  return (s) => typeof s === 'string' && f(s, true).length > 0;
}

/** Detectors by their qualified name, as called from policies (true: at least one match). */
export const DETECTORS: Record<string, Detector> = Object.create(null) as Record<string, Detector>;
for (const name of Object.keys(SPAN_FINDERS)) DETECTORS[name] = found(SPAN_FINDERS[name]);

export const email = DETECTORS['pii.email'];
export const phone = DETECTORS['pii.phone'];
export const card = DETECTORS['pii.card'];
export const iban = DETECTORS['pii.iban'];
export const ssn = DETECTORS['pii.ssn'];
export const ip = DETECTORS['pii.ip'];
export const url = DETECTORS['pii.url'];
export const anyPii = DETECTORS['pii.any'];
export const secret = DETECTORS['secrets.any'];
