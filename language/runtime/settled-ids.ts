// The ids of settled reservations, remembered until their settle grace ends so that a second
// `settle` of one reservation is refused. A busy service settles every decision and the grace is a
// day: a map entry per id (~80 bytes with its string) would hold gigabytes at thousands of settles a
// second. The engine's own ids are `<process prefix><base-36 counter>` (engine.ts), so they are kept as
// one bit per counter, in chunks of 32,768 consecutive counters, each chunk forgotten once the last of
// its ids may be (0.125 byte per id). Any other id is kept in a map as before.

const CHUNK_BITS = 15;
const CHUNK = 1 << CHUNK_BITS;

interface Chunk {
  bits: Uint32Array;
  /** Forget the chunk at this time (the latest `until` of its ids). */
  until: number;
  /** How many bits are set. */
  count: number;
}

/** The counter of an id `<prefix><counter>` made by the engine: 1 to 10 base-36 digits after the
 *  prefix, in their canonical spelling (no leading zero), so that two ids never share a counter; -1
 *  for any other id. (Read digit by digit: no regular expression, slice or number parse.) */
export function counterOfId(id: string, prefix: string): number {
  const p = prefix.length;
  const n = id.length;
  if (n <= p || n - p > 10 || !id.startsWith(prefix)) return -1;
  if (n - p > 1 && id.charCodeAt(p) === 48) return -1;
  let v = 0;
  for (let i = p; i < n; i++) {
    const c = id.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 36 + d; // at most 36^10 - 1 < 2^53: exact
  }
  return v;
}

export class SettledIds {
  private readonly chunks = new Map<number, Chunk>();
  private readonly other = new Map<string, number>();
  /** The id `counterOf` read last and its counter: `settle` asks `has`, then `add`, for one id. */
  private lastId = '';
  private lastCounter = -1;

  /** `prefix`: what every id the engine makes starts with (the counter follows in base 36). */
  constructor(private readonly prefix: string) {}

  /** The counter of one of the engine's ids, or -1 for any other id: 1 to 10 base-36 digits after
   *  the prefix, in their canonical spelling (no leading zero), so that two ids never share a bit.
   *  (Read digit by digit: no regular expression, slice or number parse per settle.) */
  private counterOf(id: string): number {
    // (`read` once per id: `settle` asks `has`, then `add`.)
    if (id === this.lastId) return this.lastCounter;
    const v = this.read(id);
    this.lastId = id;
    this.lastCounter = v;
    return v;
  }

  /** `counterOf` without the memo. */
  private read(id: string): number {
    return counterOfId(id, this.prefix);
  }

  has(id: string): boolean {
    const n = this.counterOf(id);
    if (n < 0) return this.other.has(id);
    const c = this.chunks.get(Math.floor(n / CHUNK));
    return c !== undefined && (c.bits[(n % CHUNK) >>> 5]! & (1 << (n & 31))) !== 0;
  }

  /** Remember `id` until `until` (epoch ms); its chunk may keep it a little longer. */
  add(id: string, until: number): void {
    const n = this.counterOf(id);
    if (n < 0) {
      this.other.set(id, until);
      return;
    }
    const k = Math.floor(n / CHUNK);
    let c = this.chunks.get(k);
    if (c === undefined) this.chunks.set(k, (c = { bits: new Uint32Array(CHUNK >>> 5), until, count: 0 }));
    else if (until > c.until) c.until = until;
    const i = (n % CHUNK) >>> 5;
    const bit = 1 << (n & 31);
    if ((c.bits[i]! & bit) === 0) {
      c.bits[i] = c.bits[i]! | bit;
      c.count++;
    }
  }

  delete(id: string): void {
    const n = this.counterOf(id);
    if (n < 0) {
      this.other.delete(id);
      return;
    }
    const k = Math.floor(n / CHUNK);
    const c = this.chunks.get(k);
    if (c === undefined) return;
    const i = (n % CHUNK) >>> 5;
    const bit = 1 << (n & 31);
    if ((c.bits[i]! & bit) !== 0) {
      c.bits[i] = c.bits[i]! & ~bit;
      if (--c.count === 0) this.chunks.delete(k);
    }
  }

  /** Forget every id whose time has come. */
  purge(now: number): void {
    for (const [k, c] of this.chunks) if (now >= c.until) this.chunks.delete(k);
    for (const [id, until] of this.other) if (now >= until) this.other.delete(id);
  }

  /** How many ids are remembered (tests). */
  get size(): number {
    let n = this.other.size;
    for (const c of this.chunks.values()) n += c.count;
    return n;
  }
}
