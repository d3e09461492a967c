// Dashboard passwords: `scrypt$salt$hash` strings (users files) and their check. Apart from
// session.ts so that `rein/node`'s `hashPassword` does not load the dashboard (or zod).
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** A `scrypt$salt$hash` string for a users file. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

/** Whether `given` matches a stored `scrypt$…` hash, or a plain stored password (constant time). */
export function checkPassword(stored: string, given: string): boolean {
  const m = /^scrypt\$([0-9a-f]+)\$([0-9a-f]{64})$/.exec(stored);
  if (m) {
    const want = Buffer.from(m[2]!, 'hex');
    return timingSafeEqual(scryptSync(given, Buffer.from(m[1]!, 'hex'), 32), want);
  }
  // plain: compare digests (constant time, any length)
  return timingSafeEqual(createHash('sha256').update(stored).digest(), createHash('sha256').update(given).digest());
}
