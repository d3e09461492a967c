// Node only: SHA-256 through node:crypto for the core's hashes (policy hash, request_hash, audit
// chain) — the same digests as the portable implementation, several times faster. Imported for its
// effect by `rein/node` and the CLI.
import { createHash } from 'node:crypto';
import { useSha256 } from '../runtime/hash.js';

export function nodeSha256Hex(text: string): string {
  return 'sha256:' + createHash('sha256').update(text, 'utf8').digest('hex');
}

useSha256(nodeSha256Hex);
