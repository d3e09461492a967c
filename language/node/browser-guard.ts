// What a web page must not do to a service on the loopback address: `rein serve` (API and dashboard)
// and `rein mcp --listen` (review h11r R12, R13; MCP 2025-11-25 Transports, "Security Warning":
// servers MUST validate the Origin header, and answer 403 when it is present and invalid).
//
// - DNS rebinding: a page on attacker.example re-resolves its own name to 127.0.0.1 and is then
//   same-origin with the service: it can read answers. A connection that arrived on a loopback
//   address must name a loopback host (`localhost`, `127.x.x.x`, `[::1]`, any port) in `Host`.
// - Cross-origin requests: a page may POST a "simple" request (text/plain, no preflight) to any
//   address, which would decide (reserve budget), settle or approve. Browsers send `Origin` with
//   every cross-origin request (and with same-origin POSTs): a request whose `Origin` is not the
//   service's own (its `Host`) and not listed with `--allow-origin` is refused.
// Clients that are not browsers (agents, curl, SDKs) send no `Origin` and a loopback `Host`: the
// check is two header reads and a short regex for them.

import type { IncomingMessage } from 'node:http';

/** `localhost`, `127.x.x.x` or `[::1]`, with an optional port. */
const LOOPBACK_HOST = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(?::\d{1,5})?$/i;

function arrivedOnLoopback(req: IncomingMessage): boolean {
  const a = req.socket.localAddress;
  return a !== undefined && (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'));
}

export interface Refusal {
  code: 'forbidden_host' | 'forbidden_origin';
  message: string;
}

/**
 * Why a request is refused (403), or null. `allowedOrigins`: origins (`https://app.example:8443`,
 * as browsers write them: scheme, host, port) allowed besides the service's own.
 */
export function browserRefusal(req: IncomingMessage, allowedOrigins: ReadonlySet<string>, allowedHosts: ReadonlySet<string> = NONE): Refusal | null {
  const host = req.headers.host;
  if (host !== undefined && !LOOPBACK_HOST.test(host) && arrivedOnLoopback(req) && !allowedHosts.has(hostName(host))) {
    return {
      code: 'forbidden_host',
      message: `Host \`${host.slice(0, 100)}\` is not a loopback name, on a loopback address (a DNS-rebinding page would send that): use localhost, 127.0.0.1 or [::1], or allow the name with --allow-host (a reverse proxy that passes its own Host)`,
    };
  }
  const origin = req.headers.origin;
  if (origin === undefined || allowedOrigins.has(origin)) return null;
  let own = false;
  if (origin !== 'null' && host !== undefined) {
    try {
      own = new URL(origin).host === host;
    } catch {
      own = false;
    }
  }
  if (own) return null;
  return {
    code: 'forbidden_origin',
    message: `cross-origin request from \`${origin.slice(0, 100)}\` refused: a web page must not reach this service (allow an origin with --allow-origin)`,
  };
}

const NONE: ReadonlySet<string> = new Set();

/** A Host header's name, lower-case, without the port. */
function hostName(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const i = h.lastIndexOf(':');
  return i < 0 ? h : h.slice(0, i);
}

/** `--allow-host` values: host names (`rein.example.com`), comma-separated or repeated; throws on a URL or a port. */
export function parseAllowedHosts(values: readonly string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const raw of values ?? []) {
    for (const v of raw.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x.length > 0)) {
      if (!/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(v)) {
        throw new Error(`--allow-host: \`${v}\` is not a host name (e.g. rein.example.com, without scheme or port)`);
      }
      out.add(v);
    }
  }
  return out;
}

/** `--allow-origin` values: each an origin (`scheme://host[:port]`, no path); throws on anything else. */
export function parseAllowedOrigins(values: readonly string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const raw of values ?? []) {
    for (const v of raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0)) {
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new Error(`--allow-origin: \`${v}\` is not an origin (e.g. https://app.example.com or http://localhost:5173)`);
      }
      if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== v.replace(/\/$/, '')) {
        throw new Error(`--allow-origin: \`${v}\` is not an origin: write the scheme, host and port only (e.g. ${u.origin === 'null' ? 'https://app.example.com' : u.origin})`);
      }
      out.add(u.origin);
    }
  }
  return out;
}
