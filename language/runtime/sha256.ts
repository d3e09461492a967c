// SHA-256 (FIPS 180-4) of a UTF-8 string, as lowercase hex: the portable digest of policy hashes,
// request hashes and the audit chain when the host gives no faster one (`useSha256`, node:crypto).
//
// Written here rather than taken from @noble/hashes (which Rein still uses for HMAC and Ed25519, in
// the approval tokens): noble's `sha2.js` brings its hashing framework and 64-bit helpers with it,
// ~2 KB gzip of the browser bundle of `compile`, whose budget is 150 KB (docs/embedding.md). This is
// the textbook algorithm in 40 lines; test/runtime/sha256.test.ts compares it with node:crypto on the
// NIST vectors and on random strings of every length around the block boundaries.

// The round constants and the initial hash value are what FIPS 180-4 defines them as: the first 32
// bits of the fractional parts of the cube roots of the first 64 primes, and of the square roots of
// the first 8. Computed rather than written out (~0.4 KB gzip less of the browser bundle): every one
// of them is at least 0.005 units of its last bit away from a rounding boundary, far more than the
// error of any Math.cbrt (a few units in the last place of a double: 2^-18 of such a unit here), and
// Math.sqrt is exact; test/runtime/sha256.test.ts checks them against the standard's table.
const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p)) PRIMES.push(n);
const frac32 = (x: number) => ((x % 1) * 2 ** 32) >>> 0;
export const K = new Uint32Array(PRIMES.map((p) => frac32(Math.cbrt(p))));
export const H0 = PRIMES.slice(0, 8).map((p) => frac32(Math.sqrt(p)));

const W = new Uint32Array(64);
const encoder = new TextEncoder();

/** The SHA-256 of `text`'s UTF-8 bytes (or of the bytes given), as 64 lowercase hex digits. */
export function sha256HexOf(text: string | Uint8Array): string {
  const data = typeof text === 'string' ? encoder.encode(text) : text;
  const bits = data.length * 8;
  // The message, a 1 bit, zeros, and the 64-bit length: a whole number of 64-byte blocks.
  const padded = new Uint8Array((data.length + 72) & ~63);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = new Uint32Array(H0);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = W[i - 15];
      const b = W[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  let out = '';
  for (let i = 0; i < 8; i++) out += h[i].toString(16).padStart(8, '0');
  return out;
}
