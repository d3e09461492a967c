// Helpers for the gateway tests: real MCP servers from node_modules, the real `rein` launcher, and
// the SDK's own Client. No MCP mocks.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { verifyChain } from '../../language/audit/record.js';
import { runMain } from '../cli/helpers.js';
import { auditFiles } from '../../language/node/audit-file.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/rein.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures/mcp');
export const FS_SERVER = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const INSPECTOR = path.join(ROOT, 'node_modules/@modelcontextprotocol/inspector-cli/build/cli.js');

export function tempDir(prefix = 'rein-mcp-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A temporary workspace for a gateway test: `work` (the directory the upstream serves), `audit` (a
 * log path), `queue` (an approval queue directory, not created) and `approvers` (a groups file:
 * `user` → alice). `finish()` verifies the audit chain when a log was written, then removes it all.
 */
export interface McpWorkspace {
  dir: string;
  work: string;
  audit: string;
  queue: string;
  approvers: string;
  /** The number of audit records (0 without a log); throws on a broken chain. */
  finish(): number;
}

export function mcpTempWorkspace(groups: Record<string, string[]> = { user: ['alice'] }): McpWorkspace {
  const { dir, cleanup } = tempDir();
  const work = path.join(dir, 'work');
  mkdirSync(work);
  const approvers = path.join(dir, 'approvers.json');
  writeFileSync(approvers, JSON.stringify({ groups }));
  const audit = path.join(dir, 'audit.jsonl');
  return {
    dir,
    work,
    audit,
    queue: path.join(dir, 'approvals'),
    approvers,
    finish: () => {
      try {
        return existsSync(audit) ? verifyAudit(audit) : 0;
      } finally {
        cleanup();
      }
    },
  };
}

export function env(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') out[k] = v;
  return { ...out, ...extra };
}

export interface Connected {
  client: Client;
  transport: StdioClientTransport;
  /** What the gateway (and the server) wrote on stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** The SDK's Client, connected over stdio to `rein mcp ARGS -- node UPSTREAM…` (or, with `gateway: false`, to `node UPSTREAM…` directly). */
export async function connect(
  gatewayArgs: string[] | false,
  upstream: string[],
  opts: { capabilities?: ClientCapabilities; cwd?: string; name?: string; env?: Record<string, string> } = {},
): Promise<Connected> {
  const [command, ...args] = gatewayArgs === false ? [process.execPath, ...upstream] : [process.execPath, BIN, 'mcp', ...gatewayArgs, '--', process.execPath, ...upstream];
  const transport = new StdioClientTransport({ command, args, env: env(opts.env), stderr: 'pipe', cwd: opts.cwd ?? ROOT });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const client = new Client({ name: opts.name ?? 'rein-test-client', version: '1.2.3' }, { capabilities: opts.capabilities ?? {} });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => err,
    close: async () => {
      await client.close().catch(() => undefined);
    },
  };
}

/** Wait until `pred()` holds (bounded). */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Verify the hash chain of an audit log; returns the number of records. */
export function verifyAudit(file: string): number {
  const files = auditFiles(file);
  if (files.length === 0) throw new Error(`no audit log at ${file}`);
  const r = verifyChain(files.map((f) => ({ source: f, text: readFileSync(f, 'utf8') })));
  if (!r.ok) throw new Error(`audit chain broken: ${JSON.stringify(r)}`);
  return r.records;
}

/**
 * Verify the hash chain of an audit log a live gateway is still appending to: the complete lines so
 * far (a line being written is left for the next check). Returns the number of records (0: no log yet).
 */
export function verifyLiveAudit(file: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  if (complete === '') return 0;
  const r = verifyChain([{ source: file, text: complete }]);
  if (!r.ok) throw new Error(`audit chain broken: ${JSON.stringify(r)}`);
  return r.records;
}

/** The decisions in an audit log. */
export function auditDecisions(file: string): { effect: string; would_effect?: string; request?: { phase: string; tool: { name: string } } }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = JSON.parse(l) as { decision: { effect: string; would_effect?: string }; request?: { phase: string; tool: { name: string } } };
      return { effect: r.decision.effect, would_effect: r.decision.would_effect, request: r.request };
    });
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Spawn a process; its output is collected; `kill()` ends it (and waits, bounded). */
export function start(command: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): { child: ChildProcess; out(): string; kill(): Promise<void> } {
  const child = spawn(command, args, { env: opts.env ?? env(), cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  return {
    child,
    out: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await closed;
        clearTimeout(t);
      }
    },
  };
}

export interface Started {
  url: string;
  port: number;
  out(): string;
  kill(): Promise<void>;
}

/** Starts a listener on a free port: `launch(port)` spawns it, `ready` tells from its output that it
 *  listens. A probed port can be taken before the process binds it; when the process exits early saying
 *  so, it is started again on a fresh port (bounded), and any other early exit fails at once with its
 *  output instead of waiting for the timeout. */
export async function listenOnFreePort(launch: (port: number) => ReturnType<typeof start>, ready: RegExp, what: string): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const p = launch(port);
    try {
      await waitFor(() => ready.test(p.out()) || p.child.exitCode !== null || p.child.signalCode !== null, what, 60_000);
    } catch (e) {
      await p.kill();
      throw new Error(`${(e as Error).message}\n${p.out()}`);
    }
    if (ready.test(p.out())) return { url: `http://127.0.0.1:${port}/mcp`, port, out: p.out, kill: p.kill };
    await p.kill();
    if (attempt < 5 && /EADDRINUSE|already in use/i.test(p.out())) continue;
    throw new Error(`${what} exited before it listened:\n${p.out()}`);
  }
}

/** test/fixtures/mcp/test-server.mjs in Streamable HTTP mode on a free port. */
export function httpTestServer(extraEnv: Record<string, string> = {}, args: string[] = []): Promise<Started> {
  return listenOnFreePort((port) => start(process.execPath, [path.join(FIXTURES, 'test-server.mjs'), '--http', String(port), ...args], { env: env(extraEnv) }), /test-server listening/, 'the test server (HTTP)');
}

/** `rein mcp --listen 127.0.0.1:<free port> --upstream UPSTREAM ARGS…` (node flags in `nodeArgs`). */
export function httpGateway(upstream: string, args: string[], opts: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<Started> {
  return listenOnFreePort((port) => start(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'mcp', ...args, '--listen', `127.0.0.1:${port}`, '--upstream', upstream], { env: env(opts.env) }), /listening at/, 'the gateway (--listen)');
}

/** `rein approvals …` on a workspace's queue, as a human at a terminal would run it. */
export function approvalsCli(ws: McpWorkspace) {
  const run = (...args: string[]) => runMain(['approvals', ...args, '--approvals', ws.queue, '--approvers', ws.approvers], { cwd: ws.dir });
  const pending = async (): Promise<{ id: string; rule: string; request_hash: string; summary: Record<string, unknown> }[]> => {
    const r = await run('list', '--format', 'json');
    if (r.code !== 0) throw new Error(`rein approvals list: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return {
    run,
    pending,
    /** The pending records once there are any (bounded: 10 s). */
    async waitPending() {
      for (let i = 0; i < 100; i++) {
        const p = await pending();
        if (p.length > 0) return p;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no pending approval appeared in the queue within 10 s');
    },
  };
}
