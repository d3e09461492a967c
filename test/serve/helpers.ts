// Helpers for the decision service tests: a served app on a free loopback port, JSON requests with
// fetch (undici), and a child `rein serve` process.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServeApp, type ServeApp, type ServeOptions } from '../../language/node/serve/app.js';
import apiPlugin from '../../language/node/serve/api.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const BIN = join(ROOT, 'bin', 'rein.js');
export const AGENT = join(ROOT, 'test', 'fixtures', 'serve', 'agent');

/** A private copy of the test policy (reload tests edit it). */
export function copyAgent(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rein-serve-'));
  cpSync(AGENT, join(dir, 'agent'), { recursive: true });
  return join(dir, 'agent');
}

export interface Served extends ServeApp {
  url: string;
}

export async function serve(opts: ServeOptions = {}): Promise<Served> {
  const s = await createServeApp({ policy: AGENT, watch: false, plugins: [{ name: 'api', plugin: apiPlugin }], ...opts });
  const url = await s.app.listen({ host: '127.0.0.1', port: 0 });
  return { ...s, url };
}

export interface Res {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export async function call(url: string, path: string, init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const r = await fetch(url + path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), body, headers });
  const text = await r.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

export const model = (team: string, estimate: number | string) => ({
  agent: { id: 'a1', team },
  action: { kind: 'model_call' },
  cost: { estimate },
});

/** A `rein serve` child process; resolves once it printed its address. */
export async function spawnServe(args: string[], env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; stderr: () => string; stop: () => Promise<number | null> }> {
  // A fresh working directory: the dashboard's default approval queue (.rein/approvals) goes there.
  const cwd = mkdtempSync(join(tmpdir(), 'rein-serve-cwd-'));
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  let url: string | undefined;
  for (let i = 0; i < 1200; i++) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(err);
    if (m) {
      url = m[1];
      break;
    }
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  if (!url) {
    await stop();
    throw new Error(`rein serve did not start: ${err}`);
  }
  return { proc, url, stderr: () => err, stop };
}
