// Bearer tokens for `rein serve` (docs/service.md#authentication). Three optional tokens:
//   api        decide, evaluate, batch, metrics (also accepted: the approvals token)
//   settle     settle (default: the api token) — give it to what meters usage, not to the agent
//   approvals  deciding with approvals in the body, and the approvals endpoints. Never the api token:
//              the agent holds that one, and would approve its own requests (naming any approver).
//              With an api token and no approvals token, the scope is closed; so it is when approvals
//              are signed tokens (approval keys) and no approvals token is set — an open approve
//              endpoint would sign whatever the agent that asked approves (review h11r R10).
// With no token configured at all every other scope is open (loopback-only by default). Comparisons
// are constant-time.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ioReason } from '../errors.js';

export type AuthScope = 'api' | 'settle' | 'approvals';

export interface ServeTokens {
  api?: string;
  settle?: string;
  approvals?: string;
}

/** `closed`: the scope has no token of its own while others are set (approvals: never the api token). */
export type AuthResult = 'ok' | 'missing' | 'invalid' | 'closed';

const digest = (s: string) => createHash('sha256').update(s).digest();

export class Auth {
  private readonly api: Buffer | null;
  private readonly settle: Buffer | null;
  private readonly approvals: Buffer | null;

  /** The approvals scope is closed without its own token (approvals are signed: approval keys). */
  private readonly approvalsNeedToken: boolean;

  constructor(tokens: ServeTokens = {}, opts: { approvalsNeedToken?: boolean } = {}) {
    this.api = tokens.api ? digest(tokens.api) : null;
    this.settle = tokens.settle ? digest(tokens.settle) : null;
    this.approvals = tokens.approvals ? digest(tokens.approvals) : null;
    this.approvalsNeedToken = opts.approvalsNeedToken === true;
  }

  /** Whether the approvals scope is closed (nothing can approve through it). */
  get approvalsClosed(): boolean {
    return this.accepted('approvals') === null;
  }

  /** Why a closed scope is closed: another token is set (the agent's), or approvals are signed. */
  closedBecause(): 'other-tokens' | 'signed-approvals' {
    return this.api !== null || this.settle !== null ? 'other-tokens' : 'signed-approvals';
  }

  /** Whether any token is configured. */
  get enabled(): boolean {
    return this.api !== null || this.settle !== null || this.approvals !== null;
  }

  /** The tokens a scope accepts (empty: open; null: closed). */
  private accepted(scope: AuthScope): Buffer[] | null {
    switch (scope) {
      case 'api':
        return this.api ? (this.approvals ? [this.api, this.approvals] : [this.api]) : [];
      case 'settle':
        return this.settle ? [this.settle] : this.api ? [this.api] : [];
      case 'approvals':
        return this.approvals ? [this.approvals] : this.api || this.settle || this.approvalsNeedToken ? null : [];
    }
  }

  /** Check an `Authorization` header for a scope. */
  check(header: string | undefined, scope: AuthScope): AuthResult {
    const want = this.accepted(scope);
    if (want === null) return 'closed';
    if (want.length === 0) return 'ok';
    if (!header) return 'missing';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return 'invalid';
    const got = digest(m[1]);
    let ok = false;
    for (const w of want) if (timingSafeEqual(got, w)) ok = true;
    return ok ? 'ok' : 'invalid';
  }
}

/**
 * A token from a file (its first line, trimmed) or else an environment variable. Throws with a clear
 * message when the file cannot be read or is empty.
 */
export function readToken(file: string | undefined, env: string | undefined, what: string): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read the ${what} token file \`${file}\`: ${ioReason(e)}`);
    }
    const token = text.split(/\r?\n/)[0].trim();
    if (!token) throw new Error(`the ${what} token file \`${file}\` is empty`);
    return token;
  }
  const v = env?.trim();
  return v ? v : undefined;
}
