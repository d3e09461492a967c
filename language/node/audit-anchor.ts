// Anchors: signed statements "record `seq` of log `log` had hash `hash` at `time`", written by
// FileAuditLog every N records or T seconds into a separate file (or handed to a sink). A hash chain
// alone cannot show that its newest records were cut off, nor that the whole log was rewritten with
// recomputed hashes; a signed anchor can, up to the last anchor (docs/audit.md, "Anchoring").
//
// Keys: HMAC-SHA256 with a shared secret, or Ed25519 (the writer holds the private key, verifiers only
// the public key). Both come from node:crypto (no extra dependency; the file is Node-only).

import { createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { AnchorPoint } from '../audit/record.js';

export const ANCHOR_FORMAT_VERSION = 1;

/** The key a writer signs anchors with. */
export type AnchorSigningKey =
  | { hmac: string | Uint8Array; id?: string }
  /** A PEM (PKCS#8) private key or a KeyObject. */
  | { ed25519: string | KeyObject; id?: string };

/** The key a verifier checks anchors with (HMAC: the same secret; Ed25519: the public key, or the private key). */
export type AnchorVerifyKey = { hmac: string | Uint8Array } | { ed25519: string | KeyObject };

export interface Anchor {
  v: number;
  /** The log's name (the active file's base name, e.g. `decisions.jsonl`). */
  log: string;
  seq: number;
  hash: string;
  time: string;
  alg: 'hmac-sha256' | 'ed25519';
  key_id?: string;
  /** base64url signature over `payload(anchor)`. */
  sig: string;
}

/** The exact bytes that are signed. */
function payload(a: Pick<Anchor, 'v' | 'log' | 'seq' | 'hash' | 'time' | 'alg'>): Buffer {
  return Buffer.from(`rein-audit-anchor/${a.v}\n${a.alg}\n${a.log}\n${a.seq}\n${a.hash}\n${a.time}`, 'utf8');
}

function asBuffer(s: string | Uint8Array): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
}

/** A signer for anchors (validates the key once). */
export function anchorSigner(key: AnchorSigningKey): (log: string, seq: number, hash: string, time: Date) => Anchor {
  if ('hmac' in key) {
    const secret = asBuffer(key.hmac);
    if (secret.length < 16) throw new RangeError('audit anchors: an HMAC secret must have at least 16 bytes');
    return (log, seq, hash, time) => {
      const a = { v: ANCHOR_FORMAT_VERSION, log, seq, hash, time: time.toISOString(), alg: 'hmac-sha256' as const };
      const sig = createHmac('sha256', secret).update(payload(a)).digest('base64url');
      return { ...a, ...(key.id ? { key_id: key.id } : {}), sig };
    };
  }
  const priv = typeof key.ed25519 === 'string' ? createPrivateKey(key.ed25519) : key.ed25519;
  if (priv.asymmetricKeyType !== 'ed25519' || priv.type !== 'private') throw new TypeError('audit anchors: expected an Ed25519 private key');
  return (log, seq, hash, time) => {
    const a = { v: ANCHOR_FORMAT_VERSION, log, seq, hash, time: time.toISOString(), alg: 'ed25519' as const };
    const sig = sign(null, payload(a), priv).toString('base64url');
    return { ...a, ...(key.id ? { key_id: key.id } : {}), sig };
  };
}

/**
 * Reads a verification key from a file's content: a PEM Ed25519 public (or private) key, otherwise the
 * bytes (without a trailing newline) are the HMAC secret.
 */
export function parseAnchorKey(content: string | Buffer): AnchorVerifyKey {
  const text = typeof content === 'string' ? content : content.toString('utf8');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return { ed25519: createPublicKey(createPrivateKey(text)) };
  if (/-----BEGIN PUBLIC KEY-----/.test(text)) return { ed25519: createPublicKey(text) };
  const secret = typeof content === 'string' ? Buffer.from(content.replace(/\r?\n$/, ''), 'utf8') : stripNewline(content);
  return { hmac: secret };
}

function stripNewline(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}

export interface AnchorReadResult {
  anchors: (AnchorPoint & { log: string })[];
  /** The first line that is not a validly signed anchor (a forged or changed anchor, or the wrong key). */
  problem?: { line: number; message: string };
}

/** Parses an anchor file and checks every signature with `key`. */
export function readAnchors(text: string, key: AnchorVerifyKey, source = 'anchors'): AnchorReadResult {
  const anchors: AnchorReadResult['anchors'] = [];
  const pub = 'ed25519' in key ? (typeof key.ed25519 === 'string' ? createPublicKey(key.ed25519) : key.ed25519.type === 'private' ? createPublicKey(key.ed25519) : key.ed25519) : null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const lineNo = i + 1;
    // A partial last line (a crash mid-write of the anchor file) is ignored.
    const isTail = i === lines.length - 1;
    let a: Partial<Anchor>;
    try {
      a = JSON.parse(line) as Partial<Anchor>;
    } catch {
      if (isTail) continue;
      return { anchors, problem: { line: lineNo, message: 'line is not a JSON anchor' } };
    }
    if (typeof a !== 'object' || a === null || typeof a.seq !== 'number' || typeof a.hash !== 'string' || typeof a.sig !== 'string' || typeof a.log !== 'string' || typeof a.time !== 'string' || typeof a.v !== 'number') {
      return { anchors, problem: { line: lineNo, message: 'not an anchor (expected v, log, seq, hash, time, alg, sig)' } };
    }
    const body = payload(a as Anchor);
    let valid = false;
    if (a.alg === 'hmac-sha256' && 'hmac' in key) {
      const want = createHmac('sha256', asBuffer(key.hmac)).update(body).digest();
      const got = Buffer.from(a.sig, 'base64url');
      valid = got.length === want.length && timingSafeEqual(got, want);
    } else if (a.alg === 'ed25519' && pub) {
      valid = verify(null, body, pub, Buffer.from(a.sig, 'base64url'));
    } else {
      return { anchors, problem: { line: lineNo, message: `anchor signed with ${String(a.alg)}, but the key given is ${'hmac' in key ? 'an HMAC secret' : 'an Ed25519 key'}` } };
    }
    if (!valid) return { anchors, problem: { line: lineNo, message: 'signature does not verify (a forged or changed anchor, or the wrong key)' } };
    anchors.push({ seq: a.seq, hash: a.hash, time: a.time, log: a.log, source: `${source}:${lineNo}` });
  }
  return { anchors };
}
