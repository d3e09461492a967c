// Signed approval tokens: a human's approval of one request for one rule (or budget), bound to the
// request hash and the policy hash, with an approver, the approver's group, an expiry and an optional
// single-use nonce. Ed25519 (@noble/curves) or HMAC-SHA256 (@noble/hashes). Browser-safe: no node:*.
//
// Token format (compact, JWS-like, but with one fixed shape so there is nothing to negotiate):
//
//   rein1.<base64url(JSON claims)>.<base64url(signature over "rein1.<base64url(JSON claims)>")>
//
// The algorithm is a claim (`alg`) AND a property of the key: a token is only checked against keys of
// its own algorithm (no algorithm confusion), and only against the key whose `kid` it names when it
// names one. See docs/approvals.md.

import { ed25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export type ApprovalAlg = 'Ed25519' | 'HS256';

/** A key that verifies tokens (Engine option `approvalKeys`). Ed25519 public keys are 32 bytes (or 64
 *  hex digits); HMAC secrets are at least 32 bytes (a string is taken as its UTF-8 bytes). */
export type ApprovalKey =
  | { kid?: string; alg: 'Ed25519'; publicKey: string | Uint8Array }
  | { kid?: string; alg: 'HS256'; secret: string | Uint8Array };

/** A key that signs tokens (the approval queue, `rein serve`). */
export type ApprovalSigningKey =
  | { kid?: string; alg: 'Ed25519'; privateKey: string | Uint8Array }
  | { kid?: string; alg: 'HS256'; secret: string | Uint8Array };

/** What a token asserts. Times are epoch milliseconds. */
export interface ApprovalClaims {
  /** The decision's `request_hash` this approval is for. */
  request_hash: string;
  /** The rule or budget approved. */
  rule: string;
  /** Who approved (the login identity of the approver). */
  approver: string;
  /** The approver's group that granted it (`require approval from GROUP`); null when the rule names none. */
  group: string | null;
  /** The policy hash (`decision.policy.hash`) the approval was given under. */
  policy_hash: string;
  /** Issued at (epoch ms). */
  iat: number;
  /** Expires at (epoch ms); the token is invalid from this instant on. */
  exp: number;
  /** Single use: consumed in the budget store by the first decision it lets through (engine.ts `steps`). */
  nonce?: string;
  /** The id of the key that signed it. */
  kid?: string;
}

const PREFIX = 'rein1';
/** Tokens longer than this are rejected before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;
/** Tolerated clock difference between the signer and the verifier for `iat` (ms). */
const IAT_SKEW_MS = 5 * 60_000;
const MIN_HMAC_BYTES = 32;

// ---------------------------------------------------------------- base64url (no Buffer: browser-safe)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]!;
  }
  return out;
}

/** Strict base64url (no padding); null on any other character or an impossible length. */
export function base64urlDecode(s: string): Uint8Array | null {
  if (s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  // Non-canonical trailing bits would let two strings decode to the same bytes.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out.subarray(0, o);
}

// ---------------------------------------------------------------- keys

function keyBytes(k: string | Uint8Array, what: string, hex: boolean): Uint8Array {
  if (k instanceof Uint8Array) return k;
  if (typeof k !== 'string') throw new TypeError(`approval key: ${what} must be a string or a Uint8Array`);
  if (!hex) return utf8ToBytes(k);
  if (!/^[0-9a-fA-F]*$/.test(k) || k.length % 2 !== 0) throw new TypeError(`approval key: ${what} must be hex`);
  return hexToBytes(k);
}

interface PreparedKey {
  kid: string | undefined;
  alg: ApprovalAlg;
  bytes: Uint8Array;
}

/** Checks and normalises verification keys once (the Engine does this in its constructor). Throws a
 *  TypeError for a malformed key: that is a configuration bug, not bad input. */
export function prepareApprovalKeys(keys: readonly ApprovalKey[]): readonly PreparedKey[] {
  if (!Array.isArray(keys)) throw new TypeError('approvalKeys must be an array');
  return keys.map((k, i) => {
    if (!k || typeof k !== 'object') throw new TypeError(`approvalKeys[${i}] must be an object`);
    if (k.kid !== undefined && typeof k.kid !== 'string') throw new TypeError(`approvalKeys[${i}].kid must be a string`);
    if (k.alg === 'Ed25519') {
      const b = keyBytes(k.publicKey, `approvalKeys[${i}].publicKey`, true);
      if (b.length !== 32) throw new TypeError(`approvalKeys[${i}].publicKey must be 32 bytes (64 hex digits)`);
      return { kid: k.kid, alg: 'Ed25519' as const, bytes: b };
    }
    if (k.alg === 'HS256') {
      const b = keyBytes(k.secret, `approvalKeys[${i}].secret`, false);
      if (b.length < MIN_HMAC_BYTES) throw new TypeError(`approvalKeys[${i}].secret must be at least ${MIN_HMAC_BYTES} bytes`);
      return { kid: k.kid, alg: 'HS256' as const, bytes: b };
    }
    throw new TypeError(`approvalKeys[${i}].alg must be "Ed25519" or "HS256"`);
  });
}

/** A new Ed25519 key pair as hex: `privateKey` signs (keep it on the server), `publicKey` verifies. */
export function generateApprovalKeyPair(): { alg: 'Ed25519'; privateKey: string; publicKey: string } {
  const { secretKey, publicKey } = ed25519.keygen();
  return { alg: 'Ed25519', privateKey: bytesToHex(secretKey), publicKey: bytesToHex(publicKey) };
}

/** The verification key of a signing key (Ed25519: its public key; HS256: the same secret). */
export function verificationKeyOf(k: ApprovalSigningKey): ApprovalKey {
  if (k.alg === 'Ed25519') {
    const priv = keyBytes(k.privateKey, 'privateKey', true);
    return { kid: k.kid, alg: 'Ed25519', publicKey: bytesToHex(ed25519.getPublicKey(priv)) };
  }
  return { kid: k.kid, alg: 'HS256', secret: k.secret };
}

// ---------------------------------------------------------------- sign and verify

function hmacSign(secret: Uint8Array, msg: Uint8Array): Uint8Array {
  return hmac(sha256, secret, msg);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** A random nonce (128 bits, base64url) for single-use tokens. */
export function randomNonce(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return base64urlEncode(b);
}

/** Signs claims into a token. Throws a TypeError on malformed claims or key (a caller bug). */
export function signApproval(claims: ApprovalClaims, key: ApprovalSigningKey): string {
  const problem = claimsProblem(claims);
  if (problem !== null) throw new TypeError(`signApproval: ${problem}`);
  const body: Record<string, unknown> = {
    alg: key.alg,
    request_hash: claims.request_hash,
    rule: claims.rule,
    approver: claims.approver,
    group: claims.group,
    policy_hash: claims.policy_hash,
    iat: claims.iat,
    exp: claims.exp,
  };
  if (claims.nonce !== undefined) body.nonce = claims.nonce;
  const kid = claims.kid ?? key.kid;
  if (kid !== undefined) body.kid = kid;
  const signingInput = PREFIX + '.' + base64urlEncode(utf8ToBytes(JSON.stringify(body)));
  const msg = utf8ToBytes(signingInput);
  let sig: Uint8Array;
  if (key.alg === 'Ed25519') sig = ed25519.sign(msg, keyBytes(key.privateKey, 'privateKey', true));
  else if (key.alg === 'HS256') {
    const s = keyBytes(key.secret, 'secret', false);
    if (s.length < MIN_HMAC_BYTES) throw new TypeError(`signApproval: an HS256 secret must be at least ${MIN_HMAC_BYTES} bytes`);
    sig = hmacSign(s, msg);
  } else throw new TypeError('signApproval: key.alg must be "Ed25519" or "HS256"');
  return signingInput + '.' + base64urlEncode(sig);
}

function claimsProblem(c: Partial<ApprovalClaims>): string | null {
  if (typeof c.request_hash !== 'string' || c.request_hash === '') return '`request_hash` must be a non-empty string';
  if (typeof c.rule !== 'string' || c.rule === '') return '`rule` must be a non-empty string';
  if (typeof c.approver !== 'string' || c.approver === '') return '`approver` must be a non-empty string';
  if (c.group !== null && typeof c.group !== 'string') return '`group` must be a string or null';
  if (typeof c.policy_hash !== 'string' || c.policy_hash === '') return '`policy_hash` must be a non-empty string';
  if (!Number.isSafeInteger(c.iat)) return '`iat` must be an integer (epoch ms)';
  if (!Number.isSafeInteger(c.exp)) return '`exp` must be an integer (epoch ms)';
  if (c.nonce !== undefined && (typeof c.nonce !== 'string' || c.nonce === '' || c.nonce.length > 128)) return '`nonce` must be a non-empty string (≤ 128 characters)';
  if (c.kid !== undefined && typeof c.kid !== 'string') return '`kid` must be a string';
  return null;
}

/** Reads a token's claims WITHOUT verifying it (for display only); null when it is not a token. */
export function decodeApprovalToken(token: unknown): (ApprovalClaims & { alg: string }) | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return null;
  const body = base64urlDecode(parts[1]!);
  if (body === null) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return null;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return null;
  const c = claims as ApprovalClaims & { alg: string };
  if (claimsProblem(c as never) !== null || typeof c.alg !== 'string') return null;
  return c;
}

export type VerifyResult = { ok: true; claims: ApprovalClaims } | { ok: false; reason: string; claims?: ApprovalClaims };

/** What a token must match. */
export interface ApprovalExpectation {
  request_hash: string | null;
  policy_hash: string;
  /** Epoch ms. */
  now: number;
}

/**
 * Verifies a token's signature against the keys, then its binding (request hash, policy hash) and
 * its lifetime. Never throws: a bad token is `{ ok: false, reason }`.
 */
export function verifyApprovalToken(token: unknown, keys: readonly PreparedKey[], expect: ApprovalExpectation): VerifyResult {
  if (typeof token !== 'string') return { ok: false, reason: 'not a token (expected a string)' };
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: `token longer than ${MAX_TOKEN_LENGTH} characters` };
  const claims = decodeApprovalToken(token);
  if (claims === null) return { ok: false, reason: 'malformed token' };
  const dot = token.lastIndexOf('.');
  const sig = base64urlDecode(token.slice(dot + 1));
  if (sig === null) return { ok: false, reason: 'malformed token signature' };
  const msg = utf8ToBytes(token.slice(0, dot));
  let verified = false;
  let candidates = 0;
  for (const k of keys) {
    if (k.alg !== claims.alg) continue;
    if (claims.kid !== undefined && k.kid !== undefined && k.kid !== claims.kid) continue;
    candidates++;
    try {
      verified = k.alg === 'Ed25519' ? sig.length === 64 && ed25519.verify(sig, msg, k.bytes) : equalBytes(hmacSign(k.bytes, msg), sig);
    } catch {
      verified = false;
    }
    if (verified) break;
  }
  const { alg: _alg, ...rest } = claims;
  const c = rest as ApprovalClaims;
  if (candidates === 0) return { ok: false, reason: `no ${claims.alg} key${claims.kid !== undefined ? ` with kid "${claims.kid}"` : ''} to verify the token`, claims: c };
  if (!verified) return { ok: false, reason: 'bad signature', claims: c };
  if (expect.request_hash === null || c.request_hash !== expect.request_hash) return { ok: false, reason: 'the token is for another request', claims: c };
  if (c.policy_hash !== expect.policy_hash) return { ok: false, reason: 'the token is for another policy version', claims: c };
  if (expect.now >= c.exp) return { ok: false, reason: `the token expired at ${new Date(c.exp).toISOString()}`, claims: c };
  if (c.iat > expect.now + IAT_SKEW_MS) return { ok: false, reason: 'the token was issued in the future', claims: c };
  return { ok: true, claims: c };
}

/** The counter-store key a single-use token's nonce is consumed under. */
export function nonceKey(claims: ApprovalClaims): string {
  return 'approval-nonce:' + bytesToHex(sha256(utf8ToBytes(claims.policy_hash + '\n' + claims.request_hash + '\n' + claims.rule + '\n' + (claims.nonce ?? ''))));
}
