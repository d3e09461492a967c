// Canonical JSON (sorted keys, no whitespace, ECMAScript/RFC 8785 number formatting) and
// `sha256:<hex>` digests. Synchronous and browser-safe (@noble/hashes, no node:crypto).

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

const MAX_DEPTH = 256;

function compareKeys(a: string, b: string): number {
  // RFC 8785: sort by UTF-16 code units, which is JS's default string order.
  return a < b ? -1 : a > b ? 1 : 0;
}

function write(v: unknown, out: string[], depth: number, seen: unknown[]): void {
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('canonical JSON cannot represent a non-finite number');
      // ECMAScript shortest round-trip formatting is RFC 8785's; -0 is written `0`.
      out.push(v === 0 ? '0' : String(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'object':
      break;
    default:
      out.push('null');
      return;
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (depth > MAX_DEPTH) throw new TypeError('canonical JSON: value nested too deeply');
  if (seen.includes(v)) throw new TypeError('canonical JSON: cyclic value');
  seen.push(v);
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      const x = v[i];
      write(x === undefined || typeof x === 'function' ? null : x, out, depth + 1, seen);
    }
    out.push(']');
  } else {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort(compareKeys);
    out.push('{');
    let first = true;
    for (const k of keys) {
      const x = o[k];
      if (x === undefined || typeof x === 'function') continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(k), ':');
      write(x, out, depth + 1, seen);
    }
    out.push('}');
  }
  seen.pop();
}

/** Canonical JSON text. Throws a TypeError on cycles, non-finite numbers or excessive depth. */
export function canonicalJson(v: unknown): string {
  const out: string[] = [];
  write(v, out, 0, []);
  return out.join('');
}

/** `sha256:<hex>` of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return 'sha256:' + bytesToHex(sha256(utf8ToBytes(text)));
}

/** `sha256:<hex>` of a value's canonical JSON. */
export function hashValue(v: unknown): string {
  return sha256Hex(canonicalJson(v));
}
