// Canonical JSON (sorted keys, no whitespace, ECMAScript/RFC 8785 number formatting) and
// `sha256:<hex>` digests. Synchronous and browser-safe (sha256.ts, no node:crypto).

import { sha256HexOf } from './sha256.js';

const MAX_DEPTH = 256;

function compareKeys(a: string, b: string): number {
  // RFC 8785: sort by UTF-16 code units, which is JS's default string order.
  return a < b ? -1 : a > b ? 1 : 0;
}

const SIMPLE_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function str(s: string): string {
  // Most keys and values need no escaping: skip JSON.stringify for them.
  return s.length < 64 && SIMPLE_STRING.test(s) ? '"' + s + '"' : JSON.stringify(s);
}

function write(v: unknown, depth: number, seen: unknown[]): string {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('canonical JSON cannot represent a non-finite number');
      // ECMAScript shortest round-trip formatting is RFC 8785's; -0 is written `0`.
      return v === 0 ? '0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      break;
    default:
      return 'null';
  }
  if (v === null) return 'null';
  if (depth > MAX_DEPTH) throw new TypeError('canonical JSON: value nested too deeply');
  if (seen.includes(v)) throw new TypeError('canonical JSON: cyclic value');
  seen.push(v);
  let out: string;
  if (Array.isArray(v)) {
    out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      const x = v[i];
      out += write(x === undefined || typeof x === 'function' ? null : x, depth + 1, seen);
    }
    out += ']';
  } else {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length > 1) keys.sort(compareKeys);
    out = '{';
    let first = true;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const x = o[k];
      if (x === undefined || typeof x === 'function') continue;
      if (!first) out += ',';
      first = false;
      out += str(k) + ':' + write(x, depth + 1, seen);
    }
    out += '}';
  }
  seen.pop();
  return out;
}

/** Canonical JSON text. Throws a TypeError on cycles, non-finite numbers or excessive depth. */
export function canonicalJson(v: unknown): string {
  return write(v, 0, []);
}

/** The portable SHA-256 (`sha256:<hex>` of a UTF-8 string), pure JavaScript (sha256.ts). */
export function portableSha256Hex(text: string): string {
  return 'sha256:' + sha256HexOf(text);
}

let sha256Impl: (text: string) => string = portableSha256Hex;

/**
 * Use a faster SHA-256 with the same output (`sha256:<hex>` of the UTF-8 bytes), e.g. node:crypto —
 * `rein/node` installs one when it is loaded. The core itself stays browser-safe.
 */
export function useSha256(fn: (text: string) => string): void {
  if (fn('abc') !== portableSha256Hex('abc')) throw new Error('useSha256: the function does not compute SHA-256 as `sha256:<hex>`');
  sha256Impl = fn;
}

/** `sha256:<hex>` of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return sha256Impl(text);
}

/** `sha256:<hex>` of a value's canonical JSON. */
export function hashValue(v: unknown): string {
  return sha256Hex(canonicalJson(v));
}
