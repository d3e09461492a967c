// Newline-delimited JSON-RPC over a pair of streams (MCP's stdio transport), for both sides of the
// stdio gateway: the client's stdin/stdout, and the upstream server's child process. The SDK's stdio
// transports validate every message against its schemas; a gateway forwards messages it does not
// govern unchanged, so it only parses JSON here (a line that is not a JSON object is reported and skipped).
// A write to a stream is in order the moment it is made, so these transports also offer `sendNow`
// (OrderedTransport): the gateway sends without a promise per message.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const MAX_LINE = 64 * 1024 * 1024;

/**
 * The bytes each received message was parsed from (its line, with the line's own ending), as a
 * non-enumerable property of the message: a spread copy (`{ ...m, result }`) does not carry it. A
 * message the gateway forwards unchanged (the same object) is written out as those exact bytes instead
 * of being serialised and encoded again: byte-faithful pass-through, and no JSON.stringify of a large
 * tool result (a 1 MB file read costs milliseconds).
 */
const RAW: unique symbol = Symbol('rein.mcp.rawLine');

const RESOLVED: Promise<void> = Promise.resolve();

/** A transport whose sends are ordered as they are made, with a synchronous send. */
export interface OrderedTransport extends Transport {
  /** Send now (in call order); throws when the connection is closed. Write errors reach `onerror`. */
  sendNow(message: JSONRPCMessage): void;
}

export function isOrdered(t: Transport): t is OrderedTransport {
  return typeof (t as Partial<OrderedTransport>).sendNow === 'function';
}

export class LineTransport implements OrderedTransport {
  onmessage?: (m: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (e: Error) => void;
  /** The pieces of an incomplete line, and their length. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Dropping the rest of a line over MAX_LINE. */
  private skipping = false;
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
    /** The longest line (message) taken, in bytes; longer ones are reported and dropped. */
    private readonly maxLine = MAX_LINE,
    /**
     * Whether the peer is a JSON-RPC client this side serves: a line that is not JSON is then also
     * answered with a -32700 parse error, one that is not a message object with -32600 (JSON-RPC 2.0,
     * id null), as the HTTP gateway answers such a body. Toward a server nothing is answered.
     */
    private readonly answersPeer = false,
  ) {}

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('close', this.onEnd);
    this.input.on('error', this.onErr);
    this.output.on('error', this.onErr);
  }

  /**
   * A chunk of input: every complete line in it is a message. The pieces of a line still incomplete
   * are kept apart and joined once, when its newline arrives; only new bytes are searched for it
   * (a 10 MB result read in 64 KB chunks is copied once, not once per chunk).
   */
  private append(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else if (this.parts.length > 0) {
        this.parts.push(chunk.subarray(start, nl + 1));
        const line = Buffer.concat(this.parts, this.partsLength + nl + 1 - start);
        this.parts = [];
        this.partsLength = 0;
        this.line(line, 0, line.length - 1);
      } else {
        this.line(chunk, start, nl);
      }
      start = nl + 1;
    }
    if (start >= chunk.length || this.skipping) return;
    this.parts.push(start === 0 ? chunk : chunk.subarray(start));
    this.partsLength += chunk.length - start;
    if (this.partsLength > this.maxLine) {
      // The rest of this line is dropped as it comes; the next line is read as usual.
      this.parts = [];
      this.partsLength = 0;
      this.skipping = true;
      this.onerror?.(new Error(`${this.what} sent a message over ${this.maxLine} bytes; dropped`));
    }
  }

  /** One line, buf[from, nl) (buf[nl] is its newline): a JSON-RPC message, or reported and skipped. */
  private line(buf: Buffer, from: number, nl: number): void {
    // Without a regex or a trimmed copy per line: this runs twice per tools/call.
    const end = nl > from && buf[nl - 1] === 13 ? nl - 1 : nl;
    if (end === from) return;
    const line = buf.toString('utf8', from, end);
    if ((buf[from] === 32 || buf[from] === 9) && line.trim() === '') return;
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      this.onerror?.(new Error(`${this.what} sent a line that is not JSON: ${line.slice(0, 120)}`));
      this.answerInvalid(-32700, 'Parse error: the line is not JSON');
      return;
    }
    if (!m || typeof m !== 'object' || Array.isArray(m)) {
      this.onerror?.(new Error(`${this.what} sent a line that is not a JSON-RPC message: ${line.slice(0, 120)}`));
      this.answerInvalid(-32600, 'Invalid Request: a message is one JSON object per line');
      return;
    }
    Object.defineProperty(m, RAW, { value: buf.subarray(from, nl + 1) });
    this.onmessage?.(m as JSONRPCMessage);
  }

  private answerInvalid(code: number, message: string): void {
    if (!this.answersPeer || this.output.destroyed || this.output.writableEnded) return;
    this.output.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }) + '\n');
  }

  sendNow(message: JSONRPCMessage): void {
    // The input may have ended (a client closing its side first) while the output still takes answers.
    if (this.output.destroyed || this.output.writableEnded) throw new Error(`the ${this.what} connection is closed`);
    const raw = (message as { [RAW]?: Buffer })[RAW];
    this.output.write(raw ?? JSON.stringify(message) + '\n');
  }

  /** Resolves once the message is written, or buffered with room for more (else on 'drain'). */
  send(message: JSONRPCMessage): Promise<void> {
    try {
      this.sendNow(message);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.output.writableNeedDrain) return RESOLVED;
    return new Promise((resolve, reject) => {
      const done = (e?: Error) => {
        this.output.off('drain', done);
        this.output.off('error', done);
        this.output.off('close', done);
        if (e instanceof Error) reject(e);
        else resolve();
      };
      this.output.on('drain', done);
      this.output.on('error', done);
      this.output.on('close', done);
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
