// Canonical JSON (sorted keys, no whitespace, ECMAScript/RFC 8785 number formatting) and
// `sha256:<hex>` digests. Synchronous and browser-safe (sha256.ts, no node:crypto).
//
// One writer: the UTF-8 bytes go into one buffer kept from call to call; `hashValue` hashes them
// (no text is built: for a small request ~0.2 against ~2.2 KB allocated per hash), `canonicalJson`
// decodes them. The writer's stacks (objects being written, for the cycle
// check; keys being sorted) are kept too, and used as stacks, so a getter that hashes while a value
// is being written cannot disturb the outer call.

import { sha256HexOf } from './sha256.js';

const MAX_DEPTH = 256;

let buf = new Uint8Array(1024);
let pos = 0;
const seen: unknown[] = [];
/** Where the running call's part of `seen` starts (a nested call has its own). */
let base = 0;
let sp = 0;
const keys: string[] = [];
let kp = 0;
const encoder = new TextEncoder();

function room(n: number): void {
  if (pos + n > buf.length) {
    const b = new Uint8Array(Math.max(2 * buf.length, pos + n));
    b.set(buf.subarray(0, pos));
    buf = b;
  }
}

/** Appends text with no character above U+007F. */
function ascii(s: string): void {
  room(s.length);
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
}

/** One ASCII character (a bracket, a comma, a colon). */
function byte(c: number): void {
  if (pos === buf.length) room(1);
  buf[pos++] = c;
}

/** A string as JSON: written between quotes as it is while no character needs escaping (most keys
 *  and values), else JSON.stringify's text instead. */
function str(s: string): void {
  const n = s.length;
  room(n + 2);
  const b = buf;
  const p0 = pos;
  let p = p0;
  b[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
      const j = JSON.stringify(s);
      // UTF-8 takes at most 3 bytes per UTF-16 unit (JSON.stringify leaves no lone surrogate)
      pos = p0;
      room(3 * j.length);
      pos += encoder.encodeInto(j, buf.subarray(pos)).written;
      return;
    }
    b[p++] = c;
  }
  b[p++] = 0x22;
  pos = p;
}

function write(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('canonical JSON cannot represent a non-finite number');
      // ECMAScript shortest round-trip formatting is RFC 8785's; -0 is written `0`.
      return ascii(v === 0 ? '0' : String(v));
    case 'boolean':
      return ascii(v ? 'true' : 'false');
    case 'bigint':
      return ascii(v.toString());
    case 'object':
      if (v !== null) break;
    // falls through
    default:
      return ascii('null');
  }
  if (depth > MAX_DEPTH) throw new TypeError('canonical JSON: value nested too deeply');
  for (let i = base; i < sp; i++) if (seen[i] === v) throw new TypeError('canonical JSON: cyclic value');
  seen[sp++] = v;
  if (Array.isArray(v)) {
    byte(0x5b);
    for (let i = 0; i < v.length; i++) {
      if (i > 0) byte(0x2c);
      const x = v[i];
      write(x === undefined || typeof x === 'function' ? null : x, depth + 1);
    }
    byte(0x5d);
  } else {
    const o = v as Record<string, unknown>;
    // The own enumerable keys, sorted on the key stack by insertion (RFC 8785: UTF-16 code units,
    // JS's string order): no array per object; long key lists take the built-in sort.
    const k0 = kp;
    for (const k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      let j = kp++;
      if (j - k0 < 16) {
        while (j > k0 && keys[j - 1] > k) keys[j] = keys[--j];
      }
      keys[j] = k;
    }
    const end = kp;
    if (end - k0 > 16) {
      const sorted = keys.slice(k0, end).sort();
      for (let i = 0; i < sorted.length; i++) keys[k0 + i] = sorted[i];
    }
    byte(0x7b);
    let first = true;
    for (let i = k0; i < end; i++) {
      const k = keys[i];
      const x = o[k];
      if (x === undefined || typeof x === 'function') continue;
      if (!first) byte(0x2c);
      first = false;
      str(k);
      byte(0x3a);
      write(x, depth + 1);
    }
    kp = k0;
    byte(0x7d);
  }
  seen[--sp] = undefined;
}

/** Writes `v`, then `done` with where its bytes start; the writer's state is as before afterwards
 *  (also on a throw, and when a getter of `v` writes another value meanwhile). */
function run<T>(v: unknown, done: (from: number) => T): T {
  const p0 = pos;
  const base0 = base;
  const sp0 = sp;
  const kp0 = kp;
  base = sp;
  try {
    write(v, 0);
    return done(p0);
  } finally {
    // a huge value's buffer is not kept (the next small one starts a new one)
    if (p0 === 0 && buf.length > 65536) buf = new Uint8Array(1024);
    pos = p0;
    base = base0;
    while (sp > sp0) seen[--sp] = undefined; // after a throw: hold no object of the value
    kp = kp0;
  }
}

const decoder = new TextDecoder();
const text = (from: number) => decoder.decode(buf.subarray(from, pos));

/** Canonical JSON text. Throws a TypeError on cycles, non-finite numbers or excessive depth. */
export function canonicalJson(v: unknown): string {
  return run(v, text);
}

/** The portable SHA-256 (`sha256:<hex>` of a UTF-8 string, or of bytes), pure JavaScript (sha256.ts). */
export function portableSha256Hex(data: string | Uint8Array): string {
  return 'sha256:' + sha256HexOf(data);
}

let sha256Impl: (data: string | Uint8Array) => string = portableSha256Hex;

/**
 * Use a faster SHA-256 with the same output (`sha256:<hex>` of a string's UTF-8 bytes, or of the bytes
 * given), e.g. node:crypto — `rein/node` installs one when it is loaded. The core itself stays
 * browser-safe. The bytes are lent for the call: the function must not keep them.
 */
export function useSha256(fn: (data: string | Uint8Array) => string): void {
  const abc = portableSha256Hex('abc');
  if (fn('abc') !== abc || fn(encoder.encode('abc')) !== abc) throw new Error('useSha256: the function does not compute SHA-256 as `sha256:<hex>`');
  sha256Impl = fn;
}

/** `sha256:<hex>` of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return sha256Impl(text);
}

const digest = (from: number) => sha256Impl(buf.subarray(from, pos));

/** `sha256:<hex>` of a value's canonical JSON (hashed as written: the text is never built). */
export function hashValue(v: unknown): string {
  return run(v, digest);
}
