// Logins for the control room: users with passwords (plain or scrypt-hashed) from a file or the
// environment, server-side sessions in an HttpOnly SameSite=Strict cookie, a CSRF token per session
// (synchronizer token, sent back in `x-csrf-token`), and login rate limiting per client address.

import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { checkPassword } from './password.js';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ioReason } from '../../errors.js';

export const SESSION_COOKIE = 'rein_session';
const SESSION_TTL_MS = 8 * 60 * 60_000;
const MAX_SESSIONS = 10_000;
/** Failed logins allowed per address per window before 429. */
const LOGIN_FAILURES = 5;
const LOGIN_WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

export interface Session {
  id: string;
  user: string;
  csrf: string;
  expires: number;
}

const usersSchema = z.object({ users: z.record(z.string().min(1).max(200), z.string().min(1)) }).strict();

/** `{ "users": { "alice": "scrypt$<salt hex>$<hash hex>" | "<plain password>" } }` */
export function parseUsers(text: string, source = 'users file'): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const r = usersSchema.safeParse(v);
  if (!r.success) throw new Error(`${source}: expected { "users": { "NAME": "PASSWORD or scrypt$SALT$HASH" } }`);
  return r.data.users;
}

export function loadUsers(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the users file ${file}: ${ioReason(e)}`);
  }
  return parseUsers(text, file);
}

export { hashPassword } from './password.js';

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, { n: number; until: number }>();

  constructor(
    private readonly users: Record<string, string>,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return Object.keys(this.users).length > 0;
  }

  /** Seconds to wait before `addr` may try again, or 0. */
  retryAfter(addr: string): number {
    const f = this.failures.get(addr);
    if (!f) return 0;
    const now = this.clock();
    if (now >= f.until) {
      this.failures.delete(addr);
      return 0;
    }
    return f.n >= LOGIN_FAILURES ? Math.ceil((f.until - now) / 1000) : 0;
  }

  /** A new session for valid credentials, else null (and the failure counts against `addr`). */
  login(user: string, password: string, addr: string): Session | null {
    const stored = Object.prototype.hasOwnProperty.call(this.users, user) ? this.users[user]! : null;
    // Check a dummy password for unknown users, so timing does not tell which names exist.
    const ok = checkPassword(stored ?? 'scrypt$00$' + '0'.repeat(64), password) && stored !== null;
    const now = this.clock();
    if (!ok) {
      const f = this.failures.get(addr);
      if (!f || now >= f.until) this.failures.set(addr, { n: 1, until: now + LOGIN_WINDOW_MS });
      else f.n++;
      if (this.failures.size > MAX_TRACKED) this.failures.delete(this.failures.keys().next().value as string);
      return null;
    }
    this.failures.delete(addr);
    const s: Session = { id: randomBytes(32).toString('base64url'), user, csrf: randomBytes(24).toString('base64url'), expires: now + SESSION_TTL_MS };
    this.sessions.set(s.id, s);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    return s;
  }

  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (this.clock() >= s.expires) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  logout(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }
}

/** The value of one cookie from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Constant-time string equality. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
