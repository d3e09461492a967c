// A small LSP client for the stdio tests: spawns the real server and speaks JSON-RPC with
// vscode-languageserver-protocol over the child's stdio.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  InitializeRequest,
  InitializedNotification,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  type ClientCapabilities,
  DidOpenTextDocumentNotification,
  DidChangeTextDocumentNotification,
  ShutdownRequest,
  ExitNotification,
  type Diagnostic,
} from 'vscode-languageserver-protocol/node';

export const SERVER_ENTRY = path.resolve('server/src/stdio-main.ts');

export class TestClient {
  readonly conn: ProtocolConnection;
  readonly child: ChildProcess;
  readonly diagnostics = new Map<string, Diagnostic[]>();
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  readonly serverRequests: string[] = [];
  stderr = '';
  private versions = new Map<string, number>();

  /** Default: the server's own entry script; pass e.g. `['bin/rein.js', 'lsp', '--stdio']` for the CLI. */
  constructor(args: string[] = ['--import', 'tsx', SERVER_ENTRY, '--stdio']) {
    this.child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d) => (this.stderr += String(d)));
    this.conn = createProtocolConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.conn.onNotification(PublishDiagnosticsNotification.type, (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p.diagnostics);
      this.poke();
    });
    // Server → client requests (refreshes, registrations): acknowledge.
    for (const method of ['workspace/codeLens/refresh', 'workspace/diagnostic/refresh', 'client/registerCapability', 'window/workDoneProgress/create', 'workspace/semanticTokens/refresh']) {
      this.conn.onRequest(method, () => {
        this.serverRequests.push(method);
        this.poke();
        return null;
      });
    }
    this.conn.onNotification('window/logMessage', () => undefined);
    this.conn.listen();
  }

  private poke(): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.check()) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** Resolve when `check` holds (re-evaluated on every server message); reject after `ms`. */
  until(check: () => boolean, what: string, ms = 10000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`)), ms);
      this.waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async initialize(rootDir: string, capabilities: ClientCapabilities, initializationOptions: unknown = { debounceMs: 10 }) {
    const res = await this.conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(rootDir).href,
      workspaceFolders: [{ uri: pathToFileURL(rootDir).href, name: 'fixture' }],
      capabilities,
      initializationOptions,
    });
    await this.conn.sendNotification(InitializedNotification.type, {});
    return res;
  }

  async open(uri: string, text: string): Promise<void> {
    this.versions.set(uri, 1);
    await this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'rein', version: 1, text } });
  }

  async replace(uri: string, text: string): Promise<void> {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    await this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ text }] });
  }

  async stop(): Promise<void> {
    try {
      await this.conn.sendRequest(ShutdownRequest.type);
      await this.conn.sendNotification(ExitNotification.type);
    } catch {
      /* already gone */
    }
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      const t = setTimeout(() => (this.child.kill(), resolve()), 3000);
      this.child.on('exit', () => (clearTimeout(t), resolve()));
    });
    this.conn.dispose();
  }
}

/** Position (line/character) of the first occurrence of `needle` in `text`, plus `delta` characters. */
export function posOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`\`${needle}\` not found`);
  const o = i + delta;
  const before = text.slice(0, o);
  const line = before.split('\n').length - 1;
  return { line, character: o - before.lastIndexOf('\n') - 1 };
}
