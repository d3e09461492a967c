// Approval configuration from the environment and files (docs/approvals.md):
//   REIN_APPROVAL_KEY        the signing key: `ed25519:<64 hex private key>` or `hs256:<secret ≥ 32 bytes>`
//   REIN_APPROVAL_KEY_ID     optional key id (`kid`) written into tokens
//   REIN_APPROVAL_PUBLIC_KEY a verification-only key: `ed25519:<64 hex public key>` (an engine that
//                            must not be able to sign, e.g. the agent host)
//   REIN_APPROVERS           path of the approvers file (or `--approvers FILE`)
// The approvers file: { "groups": { "finance": ["alice", "bob"], "on-call": ["carol"] } }

import { readFile } from 'node:fs/promises';
import * as z from 'zod/mini';
import { verificationKeyOf, type ApprovalKey, type ApprovalSigningKey } from '../../runtime/approvals.js';
import type { ApproverGroups } from './queue.js';

// zod/mini: the library (rein/node) carries only the validators it uses.
const approversSchema = z.strictObject({
  groups: z.record(z.string().check(z.minLength(1)), z.array(z.string().check(z.minLength(1), z.maxLength(200)))),
});

export class ApprovalConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalConfigError';
  }
}

/** Reads and checks an approvers file (throws ApprovalConfigError with a clear message). */
export async function loadApprovers(file: string): Promise<ApproverGroups> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ApprovalConfigError(`cannot read the approvers file ${file}: ${(e as Error).message}`);
  }
  return parseApprovers(text, file);
}

export function parseApprovers(text: string, source = 'approvers'): ApproverGroups {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ApprovalConfigError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const r = approversSchema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApprovalConfigError(`${source}: ${i.path.length ? i.path.join('.') + ': ' : ''}${i.message} (expected { "groups": { "GROUP": ["approver", …] } })`);
  }
  return r.data.groups;
}

/** The signing key from `REIN_APPROVAL_KEY` (null when unset). */
export function signingKeyFromEnv(env: NodeJS.ProcessEnv = process.env): ApprovalSigningKey | null {
  const raw = env.REIN_APPROVAL_KEY;
  if (raw === undefined || raw === '') return null;
  const kid = env.REIN_APPROVAL_KEY_ID || undefined;
  const m = /^(ed25519|hs256):(.*)$/i.exec(raw);
  if (!m) throw new ApprovalConfigError('REIN_APPROVAL_KEY must be `ed25519:<64 hex digits>` or `hs256:<secret of at least 32 bytes>`');
  const alg = m[1]!.toLowerCase();
  const value = m[2]!;
  const key: ApprovalSigningKey =
    alg === 'ed25519' ? { alg: 'Ed25519', privateKey: value, ...(kid ? { kid } : {}) } : { alg: 'HS256', secret: value, ...(kid ? { kid } : {}) };
  try {
    verificationKeyOf(key); // checks the key
  } catch (e) {
    throw new ApprovalConfigError(`REIN_APPROVAL_KEY: ${(e as Error).message}`);
  }
  if (alg === 'ed25519' && !/^[0-9a-fA-F]{64}$/.test(value)) throw new ApprovalConfigError('REIN_APPROVAL_KEY: an Ed25519 private key is 64 hex digits');
  if (alg === 'hs256' && new TextEncoder().encode(value).length < 32) throw new ApprovalConfigError('REIN_APPROVAL_KEY: an HS256 secret must be at least 32 bytes');
  return key;
}

/** The keys an engine verifies approvals with: `REIN_APPROVAL_PUBLIC_KEY`, else the signing key's
 *  verification key; null when neither is set (approvals are then trusted as given). */
export function verificationKeysFromEnv(env: NodeJS.ProcessEnv = process.env): ApprovalKey[] | null {
  const pub = env.REIN_APPROVAL_PUBLIC_KEY;
  if (pub) {
    const m = /^ed25519:([0-9a-fA-F]{64})$/i.exec(pub);
    if (!m) throw new ApprovalConfigError('REIN_APPROVAL_PUBLIC_KEY must be `ed25519:<64 hex digits>`');
    const kid = env.REIN_APPROVAL_KEY_ID || undefined;
    return [{ alg: 'Ed25519', publicKey: m[1]!, ...(kid ? { kid } : {}) }];
  }
  const k = signingKeyFromEnv(env);
  return k === null ? null : [verificationKeyOf(k)];
}
