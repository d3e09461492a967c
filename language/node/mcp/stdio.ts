// Newline-delimited JSON-RPC over a pair of streams (MCP's stdio transport), for both sides of the
// stdio gateway: the client's stdin/stdout, and the upstream server's child process. The SDK's stdio
// transports validate every message against its schemas; a gateway forwards messages it does not
// govern unchanged, so it only parses JSON here (a line that is not a JSON object is reported and skipped).

import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const MAX_LINE = 64 * 1024 * 1024;

export class LineTransport implements Transport {
  onmessage?: (m: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (e: Error) => void;
  private buf: Buffer | null = null;
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.append(chunk);
  /** Whether the end of the input closes the transport (a child process closes on its exit instead). */
  protected endCloses = true;
  private readonly onEnd = () => {
    if (this.endCloses) this.finish();
  };
  private readonly onErr = (e: Error) => this.onerror?.(e);

  constructor(
    protected readonly input: Readable,
    protected readonly output: Writable,
    private readonly what = 'peer',
  ) {}

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('close', this.onEnd);
    this.input.on('error', this.onErr);
    this.output.on('error', this.onErr);
  }

  private append(chunk: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = this.buf.indexOf(10, start);
      if (nl < 0) break;
      const line = this.buf.toString('utf8', start, nl).replace(/\r$/, '');
      start = nl + 1;
      if (line.trim() === '') continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        this.onerror?.(new Error(`${this.what} sent a line that is not JSON: ${line.slice(0, 120)}`));
        continue;
      }
      if (!m || typeof m !== 'object' || Array.isArray(m)) {
        this.onerror?.(new Error(`${this.what} sent a line that is not a JSON-RPC message: ${line.slice(0, 120)}`));
        continue;
      }
      this.onmessage?.(m as JSONRPCMessage);
    }
    this.buf = start >= this.buf.length ? null : this.buf.subarray(start);
    if (this.buf && this.buf.length > MAX_LINE) {
      this.buf = null;
      this.onerror?.(new Error(`${this.what} sent a message over ${MAX_LINE} bytes; dropped`));
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    // The input may have ended (a client closing its side first) while the output still takes answers.
    if (this.output.destroyed || this.output.writableEnded) return Promise.reject(new Error(`the ${this.what} connection is closed`));
    return new Promise((resolve, reject) => {
      const ok = this.output.write(JSON.stringify(message) + '\n', (e) => (e ? reject(e) : undefined));
      if (ok) resolve();
      else this.output.once('drain', resolve);
    });
  }

  protected finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.onclose?.();
  }

  async close(): Promise<void> {
    this.finish();
  }
}

/** The upstream server as a child process; its stderr goes to ours (the client's log). */
export class ChildTransport extends LineTransport {
  readonly child: ChildProcess;
  /** How the child ended: an exit code, a signal, or a spawn error. */
  exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null = null;
  private readonly exited: Promise<void>;

  constructor(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'inherit'], windowsHide: true });
    super(child.stdout!, child.stdin!, 'upstream server');
    this.endCloses = false;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.exit = { code: null, signal: null, error };
        resolve();
        this.finish();
      });
      child.once('close', (code, signal) => {
        this.exit ??= { code, signal };
        resolve();
        this.finish();
      });
    });
    // Writing to a child that died is reported by the close, not as an unhandled error.
    child.stdin!.on('error', () => undefined);
  }

  /** Why the child is gone, in words. */
  describeExit(): string {
    const e = this.exit;
    if (!e) return 'the upstream server closed its output';
    if (e.error) return `the upstream server could not be started: ${e.error.message}`;
    return e.signal ? `the upstream server was killed by ${e.signal}` : `the upstream server exited with code ${e.code}`;
  }

  /** End the child: close its stdin, then SIGTERM after `graceMs`, then SIGKILL. Bounded. */
  override async close(): Promise<void> {
    if (!this.exit) {
      this.child.stdin?.end();
      const t1 = setTimeout(() => this.child.kill('SIGTERM'), 2000);
      const t2 = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t1);
      clearTimeout(t2);
    }
    this.finish();
  }
}
