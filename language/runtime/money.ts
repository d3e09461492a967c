// Exact money: integer micro-units (1 = 0.000001 currency units), always safe integers.
// Parsing from JSON numbers/strings, rendering for decisions (`12.300000`) and messages (`$12.30`),
// and exact multiplication/division by plain numbers with round-half-to-even.

import { EvalError } from './values.js';

export const MICROS = 1_000_000;

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A non-negative decimal (`"0.031"`, `"12"`, `"1e-3"`) as integer micros, or undefined when it is not
 * a valid amount: negative, NaN/Infinity, more than 6 significant fractional digits, not a safe
 * integer of micros.
 */
export function parseDecimalMicros(text: string): number | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  const plain = plainDecimalMicros(text);
  if (plain !== NOT_PLAIN) return plain;
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  let intPart = m[1];
  let frac = m[2] ?? '';
  const exp = m[3] !== undefined ? Number(m[3]) : 0;
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 40) {
    // Only zero survives an absurd exponent.
    return /^0*$/.test(intPart + frac) ? 0 : undefined;
  }
  // Shift the decimal point by `exp`.
  if (exp > 0) {
    const take = frac.slice(0, exp).padEnd(exp, '0');
    intPart = intPart + take;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const n = -exp;
    const padded = intPart.padStart(n + 1, '0');
    frac = padded.slice(padded.length - n) + frac;
    intPart = padded.slice(0, padded.length - n);
  }
  frac = frac.replace(/0+$/, '');
  if (frac.length > 6) return undefined;
  intPart = intPart.replace(/^0+(?=\d)/, '');
  if (intPart.length > 16) return undefined;
  const micros = Number(intPart) * MICROS + (frac.length ? Number(frac.padEnd(6, '0')) : 0);
  if (!Number.isSafeInteger(micros)) return undefined;
  return micros;
}

/** `plainDecimalMicros`: the text is not digits with at most one `.` between digits. */
const NOT_PLAIN = -1;

/**
 * `parseDecimalMicros` for the amounts nearly every request carries (`"0.002"`, `"12"`: digits, and
 * a fraction after one `.`), in one pass over the characters without the regular expression and its
 * substrings; NOT_PLAIN for anything else (an exponent, a sign, a misplaced `.`), which the general
 * path decides. The same result for every plain text (test/runtime/values-money.test.ts compares
 * the two on generated texts): more than 6 fractional digits after dropping trailing zeros, or micros
 * past the safe integers, is undefined.
 */
function plainDecimalMicros(text: string): number | undefined {
  const n = text.length;
  let int = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
  }
  if (i === 0) return NOT_PLAIN;
  let frac = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46 || i + 1 === n) return NOT_PLAIN; // '.' followed by digits
    let scale = MICROS;
    for (let j = i + 1; j < n; j++) {
      const c = text.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return NOT_PLAIN;
      scale /= 10;
      // a 7th or later fractional digit is allowed only as a trailing zero
      if (scale < 1) {
        if (c !== 0) return plainTail(text, j + 1);
      } else frac += c * scale;
    }
  }
  // `int` is exact while it can still give safe micros (up to ~9.0e9 units); past that the
  // product is past Number.MAX_SAFE_INTEGER whatever rounding it had, as in the general path.
  const micros = int * MICROS + frac;
  return Number.isSafeInteger(micros) ? micros : undefined;
}

/** A nonzero 7th-or-later fractional digit was seen: NOT_PLAIN when a non-digit follows (another
 *  form, decided by the general path), else undefined (too precise). */
function plainTail(text: string, from: number): number | undefined {
  for (let j = from; j < text.length; j++) {
    const c = text.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return NOT_PLAIN;
  }
  return undefined;
}

/** A JSON money value (number or decimal string in currency units) as micros, or undefined if invalid. */
export function parseMoney(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    if (v === 0) return 0;
    if (v < 1e9) {
      // Fast path: below 1e9 units (double spacing < 0.25 micro), distinct 6-digit decimals are distinct doubles, so when
      // m / 10^6 rounds to v, v's shortest decimal string is exactly m micro-units.
      const m = Math.round(v * MICROS);
      if (m / MICROS === v) return m;
    }
    // The shortest round-trip decimal string: 0.1 → "0.1", 1e-7 → "1e-7".
    return parseDecimalMicros(String(v));
  }
  if (typeof v === 'string') return parseDecimalMicros(v.trim() === v ? v : '');
  return undefined;
}

/** '000' … '999': a fraction's two halves as text without number-to-string conversions. */
const DIGITS3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Micros as a 6-fractional-digit decimal string: 12300000 → `12.300000`. */
export function formatMicros(m: number): string {
  // Whole non-negative micros (every amount a decision shows but a negative `remaining`): the
  // fraction from a table, ~30 % faster than below (4 amounts per budget in every decision).
  if (m >= 0 && Number.isSafeInteger(m)) {
    const int = Math.floor(m / MICROS);
    const frac = m - int * MICROS;
    const hi = (frac / 1000) | 0;
    return `${int}.${DIGITS3[hi]}${DIGITS3[frac - hi * 1000]}`;
  }
  const neg = m < 0;
  const a = Math.abs(m);
  const int = Math.floor(a / MICROS);
  const frac = a - int * MICROS;
  // 1_000_000 + frac has exactly 7 digits: its last 6 are the zero-padded fraction.
  return `${neg ? '-' : ''}${int}.${String(MICROS + frac).slice(1)}`;
}

/** Micros for a message: `$12.30` for USD, `12.30 EUR` otherwise (at least 2 fractional digits). */
export function formatMoney(m: number, currency = 'USD'): string {
  const neg = m < 0;
  const a = Math.abs(m);
  const int = Math.floor(a / MICROS);
  let frac = String(a - int * MICROS).padStart(6, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  const amount = `${int}.${frac}`;
  if (currency === 'USD') return `${neg ? '-' : ''}$${amount}`;
  return `${neg ? '-' : ''}${amount} ${currency}`;
}

/** A finite double as an exact decimal fraction `digits / 10^scale` (from its shortest string). */
function toDecimal(n: number): { digits: bigint; scale: number } {
  const s = String(Math.abs(n));
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(s);
  if (!m) throw new EvalError(`cannot use \`${s}\` in money arithmetic`);
  const frac = m[2] ?? '';
  const exp = m[3] ? Number(m[3]) : 0;
  let digits = BigInt(m[1] + frac);
  let scale = frac.length - exp;
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (n < 0) digits = -digits;
  return { digits, scale };
}

/** num / den rounded half to even (den > 0). */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  let q = num / den;
  let r = num % den;
  if (r < 0n) {
    q -= 1n;
    r += den;
  }
  const twice = r * 2n;
  if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
  return q;
}

function checkedResult(v: bigint, what: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new EvalError(`money overflow in ${what}`);
  return n;
}

/** A number of currency units (untyped JSON data where money is needed) as micros, exactly. A number
 *  with more than 6 fractional digits is not a whole number of micros: an error, as the same amount in
 *  a `money` field of the request is invalid input (never rounded to a charge of $0). */
export function microsOfUnits(n: number): number {
  if (!Number.isFinite(n)) throw new EvalError(`\`${n}\` is not an amount of money`);
  if (Number.isInteger(n)) {
    const p = 1_000_000 * n;
    if (Number.isSafeInteger(p)) return p === 0 ? 0 : p;
  }
  const { digits, scale } = toDecimal(n);
  if (scale > 6) throw new EvalError(`\`${String(n)}\` is not an amount of money: more than 6 fractional digits (money is a whole number of micros)`);
  return checkedResult(digits * 10n ** BigInt(6 - scale), 'conversion to money');
}

/** money × number, exact, rounded half to even to micros. */
export function mulMoney(m: number, n: number): number {
  if (!Number.isFinite(n)) throw new EvalError(`cannot multiply money by \`${n}\``);
  if (Number.isInteger(n)) {
    const p = m * n;
    if (Number.isSafeInteger(p)) return p === 0 ? 0 : p;
  }
  const { digits, scale } = toDecimal(n);
  const num = BigInt(m) * digits;
  return checkedResult(divRoundHalfEven(num, 10n ** BigInt(scale)), 'multiplication');
}

/** money ÷ number, exact, rounded half to even to micros. Division by zero is a run-time error. */
export function divMoney(m: number, n: number): number {
  if (n === 0) throw new EvalError('division by zero');
  if (!Number.isFinite(n)) throw new EvalError(`cannot divide money by \`${n}\``);
  const { digits, scale } = toDecimal(n);
  let num = BigInt(m) * 10n ** BigInt(scale);
  let den = digits;
  if (den < 0n) {
    den = -den;
    num = -num;
  }
  return checkedResult(divRoundHalfEven(num, den), 'division');
}

/** money ± money with an overflow check. */
export function addMoney(a: number, b: number): number {
  const r = a + b;
  if (!Number.isSafeInteger(r)) throw new EvalError('money overflow in addition');
  return r;
}
