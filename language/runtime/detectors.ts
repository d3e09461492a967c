// Deterministic detectors (LANGUAGE §4): `pii.email pii.phone pii.card pii.iban pii.any secrets.any`.
//
// Linear time by construction: the text is split into tokens by a single left-to-right scan, and
// each token is tested with ANCHORED patterns made of bounded, unambiguous repetitions (or with a
// hand-written scanner), so no input can make a detector backtrack catastrophically.

export type Detector = (s: string) => boolean;

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

/** `s` without the characters accepted by `drop` at its end (and at its start when `start`), in one
 *  pass: an unanchored `/[…]+$/` regex would retry from every position of a long run (quadratic). */
function trim(s: string, drop: (c: number) => boolean, start = false): string {
  let a = 0;
  let b = s.length;
  if (start) while (a < b && drop(s.charCodeAt(a))) a++;
  while (b > a && drop(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Calls `f` for every maximal run of characters accepted by `accept`; stops early when `f` returns true. */
function someToken(s: string, accept: (c: number) => boolean, f: (tok: string) => boolean): boolean {
  const n = s.length;
  let i = 0;
  while (i < n) {
    while (i < n && !accept(s.charCodeAt(i))) i++;
    const start = i;
    while (i < n && accept(s.charCodeAt(i))) i++;
    if (i > start && f(s.slice(start, i))) return true;
  }
  return false;
}

// ---------------------------------------------------------------- email

function isEmailChar(c: number): boolean {
  // A-Z a-z 0-9 . _ % + - @
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 64;
}

const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}$/;

export function email(s: string): boolean {
  if (typeof s !== 'string' || s.indexOf('@') < 0) return false;
  return someToken(s, isEmailChar, (tok) => {
    if (tok.indexOf('@') < 0) return false;
    const t = trim(tok, (c) => c === 46 || c === 45); // trailing `.` and `-`
    return t.length <= 320 && EMAIL.test(t);
  });
}

// ---------------------------------------------------------------- phone

function isPhoneChar(c: number): boolean {
  // digits + space ( ) - .
  return isDigit(c) || c === 43 || c === 32 || c === 40 || c === 41 || c === 45 || c === 46;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const DATE_LIKE = /^\d{4}[-.]\d{2}[-.]\d{2}$/;

function phoneCandidate(run: string): boolean {
  // Leading spaces, `.`, `-`, `)`; then trailing spaces, `.`, `-`, `(`, `+`.
  const t = trim(trim(run, (c) => c === 32 || c === 46 || c === 45 || c === 41, true), (c) => c === 32 || c === 46 || c === 45 || c === 40 || c === 43);
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

export function phone(s: string): boolean {
  if (typeof s !== 'string') return false;
  // A run of phone characters; split it on double spaces (two numbers in a row) and check each.
  return someToken(s, isPhoneChar, (run) => {
    if (!/\d/.test(run)) return false;
    for (const part of run.split(/ {2,}/)) if (phoneCandidate(part)) return true;
    return false;
  });
}

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

function cardInRun(run: string): boolean {
  // Groups of digits separated by exactly one space or dash (as `run.split(/[ -]/)`, without
  // allocating a string per group); a card starts and ends at group bounds.
  const starts: number[] = [];
  const lens: number[] = [];
  for (let i = 0; i <= run.length; ) {
    let j = i;
    while (j < run.length && isDigit(run.charCodeAt(j))) j++;
    starts.push(i);
    lens.push(j - i);
    i = j + 1;
  }
  const n = lens.length;
  for (let i = 0; i < n; i++) {
    if (lens[i] === 0) continue;
    const before = i > 0 && lens[i - 1] > 0;
    let digits = 0;
    // Groups i..j are one number when not glued to other groups, or when every group but the last
    // has 4 digits (the classic grouping, e.g. followed by an expiry): `fours` tracks the latter.
    let fours = true;
    for (let j = i; j < n && lens[j] > 0; j++) {
      digits += lens[j];
      if (digits > 19) break;
      const after = j + 1 < n && lens[j + 1] > 0;
      if (digits >= 13 && (i === j || (!before && !after) || fours) && luhnGroups(run, starts, lens, i, j)) return true;
      if (lens[j] !== 4) fours = false;
      // Past this point only an unglued end (no group after) can make a whole number.
      if (!fours && before) break;
    }
  }
  return false;
}

/** Luhn over the digits of groups i..j (at most 19 digits). */
function luhnGroups(run: string, starts: number[], lens: number[], i: number, j: number): boolean {
  let sum = 0;
  let dbl = false;
  for (let g = j; g >= i; g--) {
    for (let k = starts[g] + lens[g] - 1; k >= starts[g]; k--) {
      let d = run.charCodeAt(k) - 48;
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

export function card(s: string): boolean {
  if (typeof s !== 'string') return false;
  return someToken(s, isCardChar, (run) => {
    let digits = 0;
    for (let i = 0; i < run.length; i++) if (isDigit(run.charCodeAt(i))) digits++;
    return digits >= 13 && cardInRun(run);
  });
}

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

export function iban(s: string): boolean {
  if (typeof s !== 'string') return false;
  const n = s.length;
  for (let i = 0; i + 4 <= n; i++) {
    if (!(isUpper(s.charCodeAt(i)) && isUpper(s.charCodeAt(i + 1)) && isDigit(s.charCodeAt(i + 2)) && isDigit(s.charCodeAt(i + 3)))) continue;
    if (i > 0 && isAlnum(s.charCodeAt(i - 1))) continue;
    // Collect up to 34 alphanumerics, allowing single spaces between groups.
    let compact = '';
    let j = i;
    while (j < n && compact.length < 34) {
      const c = s.charCodeAt(j);
      if (isDigit(c) || isUpper(c)) {
        compact += s[j];
        j++;
        // Try the prefix when it ends at a word end.
        if (compact.length >= 15) {
          const next = j < n ? s.charCodeAt(j) : 32;
          if (!isAlnum(next) && ibanValid(compact)) return true;
        }
      } else if (c === 32 && j + 1 < n && (isDigit(s.charCodeAt(j + 1)) || isUpper(s.charCodeAt(j + 1)))) {
        j++;
      } else break;
    }
  }
  return false;
}

// ---------------------------------------------------------------- secrets

function isSecretChar(c: number): boolean {
  // A-Z a-z 0-9 _ - .
  return isAlnum(c) || c === 95 || c === 45 || c === 46;
}

const SECRET_TOKENS: RegExp[] = [
  /^(?:AKIA|ASIA)[0-9A-Z]{16}$/, // AWS access key id
  /^gh[pousr]_[A-Za-z0-9]{36,255}$/, // GitHub tokens
  /^github_pat_[A-Za-z0-9_]{22,255}$/, // GitHub fine-grained PAT
  /^xox[abposr]-[A-Za-z0-9-]{10,250}$/, // Slack
  /^[sr]k_live_[A-Za-z0-9]{16,250}$/, // Stripe live keys
  /^AIza[0-9A-Za-z_-]{35}$/, // Google API key
  /^sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,250}$/, // OpenAI/Anthropic-style keys
  /^eyJ[A-Za-z0-9_-]{2,4096}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{10,2048}$/, // JWT
];

const PEM_PRIVATE = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/;

export function secret(s: string): boolean {
  if (typeof s !== 'string') return false;
  if (s.indexOf('-----BEGIN ') >= 0 && PEM_PRIVATE.test(s)) return true;
  return someToken(s, isSecretChar, (tok) => {
    if (tok.length < 20) return false;
    const t = trim(tok, (c) => c === 46);
    for (const re of SECRET_TOKENS) if (re.test(t)) return true;
    return false;
  });
}

export function anyPii(s: string): boolean {
  return email(s) || phone(s) || card(s) || iban(s);
}

/** Detectors by their qualified name, as called from policies. */
export const DETECTORS: Record<string, Detector> = Object.assign(Object.create(null) as Record<string, Detector>, {
  'pii.email': email,
  'pii.phone': phone,
  'pii.card': card,
  'pii.iban': iban,
  'pii.any': anyPii,
  'secrets.any': secret,
});
