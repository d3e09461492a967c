// What the gateway forwards is what it decided (review h10r F1, F2, F4, F5). Driven over raw JSON-RPC
// lines against a raw stdio server (test/fixtures/mcp/raw-server.mjs) that logs the exact bytes it
// receives and does what SDK servers never do: duplicate keys reach it as sent, a non-string tool name
// is run as String(name), errors carry data, tasks hold results, and its own elicitation requests use
// ids shaped like the gateway's.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { BIN, FIXTURES, env, waitFor } from './helpers.js';

type Msg = { jsonrpc: '2.0'; id?: string | number; method?: string; params?: any; result?: any; error?: any };

const POLICY = path.join(FIXTURES, 'guarded');
const SERVER = path.join(FIXTURES, 'raw-server.mjs');

/** A raw line client of `rein mcp`: requests by id, server requests answered by `onRequest`. */
class RawClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly got: Msg[] = [];
  err = '';
  private buf = '';
  onRequest: (m: Msg) => Msg['result'] | undefined | 'hold' = () => undefined;
  readonly held: Msg[] = [];
  constructor(capabilities: Record<string, unknown> = {}, extraEnv: Record<string, string> = {}, policy = POLICY) {
    this.child = spawn(process.execPath, [BIN, 'mcp', '--policy', policy, '--no-reload', '--', process.execPath, SERVER], { env: env(extraEnv), cwd: path.dirname(BIN) });
    this.child.stderr.on('data', (d: Buffer) => (this.err += d.toString('utf8')));
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(this.buf.slice(0, nl)) as Msg;
        this.buf = this.buf.slice(nl + 1);
        this.got.push(m);
        if (m.method !== undefined && m.id !== undefined) {
          const r = this.onRequest(m);
          if (r === 'hold') this.held.push(m);
          else if (r !== undefined) this.answer(m.id, r);
        }
      }
    });
    this.capabilities = capabilities;
  }
  private capabilities: Record<string, unknown>;
  line(text: string): void {
    this.child.stdin.write(text + '\n');
  }
  answer(id: string | number, result: unknown): void {
    this.line(JSON.stringify({ jsonrpc: '2.0', id, result }));
  }
  async call(id: number, text: string): Promise<Msg> {
    this.line(text);
    await waitFor(() => this.got.some((m) => m.id === id && m.method === undefined), `the answer to ${id}`, 20_000);
    return this.got.find((m) => m.id === id && m.method === undefined)!;
  }
  async init(): Promise<void> {
    await this.call(0, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: this.capabilities, clientInfo: { name: 'raw', version: '1' } } }));
    this.line(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    await this.call(1, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }));
  }
  /** The lines the upstream received (tools/call, tasks/result), parsed as they arrived. */
  upstreamLines(): string[] {
    return [...this.err.matchAll(/^raw-server: GOT (.*)$/gm)].map((x) => x[1]);
  }
  async close(): Promise<void> {
    this.child.stdin.end();
    await new Promise((r) => (this.child.exitCode !== null ? r(null) : this.child.once('exit', r)));
  }
}

const text = (m: Msg) => (m.result?.content ?? []).map((c: { text?: string }) => c.text ?? '').join('\n');

describe('rein mcp forwards what it decided (raw JSON-RPC)', function () {
  this.timeout(60_000);
  let c: RawClient;
  afterEach(async () => c && (await c.close()));

  it('F4: a tools/call with duplicate keys is decided and forwarded as one value (the last, as JSON.parse reads it)', async () => {
    c = new RawClient();
    await c.init();
    // Decided on "/tmp/ok" (allowed): the upstream must receive only "/tmp/ok", never "/etc/passwd".
    const a = await c.call(2, '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd","path":"/tmp/ok"}}}');
    assert.equal(a.result.isError, undefined);
    const b = await c.call(3, '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_secret","name":"read_file","arguments":{}}}');
    assert.equal(b.result.isError, undefined);
    const lines = c.upstreamLines();
    assert.equal(lines.length, 2);
    assert.ok(!lines.some((l) => l.includes('/etc/passwd') || l.includes('read_secret')), lines.join('\n'));
    assert.deepEqual(JSON.parse(lines[0]).params, { name: 'read_file', arguments: { path: '/tmp/ok' } });
    // Without the duplicate the same call is refused.
    const d = await c.call(4, '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/etc/passwd"}}}');
    assert.match(text(d), /no \/etc/);
  });

  it('F4: a tools/call whose name is not a string, or whose params or arguments are not objects, is refused with -32602 and never forwarded', async () => {
    c = new RawClient();
    await c.init();
    const bad = [
      '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":["read_secret"],"arguments":{}}}',
      '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":5}}',
      '{"jsonrpc":"2.0","id":12,"method":"tools/call","params":null}',
      '{"jsonrpc":"2.0","id":13,"method":"tools/call"}',
      '{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"read_file","arguments":"{\\"path\\":\\"/etc/passwd\\"}"}}',
      '{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"read_file","arguments":[1]}}',
    ];
    for (const [i, l] of bad.entries()) {
      const a = await c.call(10 + i, l);
      assert.equal(a.error?.code, -32602, l);
      assert.match(a.error.message, /rein mcp: invalid tools\/call/);
    }
    assert.deepEqual(c.upstreamLines(), []);
    // arguments absent is fine (the spec's arguments are optional), and so is null (a client that
    // writes every optional field): decided as {}.
    const ok = await c.call(20, '{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"echo"}}');
    assert.match(text(ok), /ran echo/);
    const nul = await c.call(21, '{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"echo","arguments":null}}');
    assert.match(text(nul), /ran echo/);
    const etc = await c.call(22, '{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"read_file","arguments":null}}');
    assert.match(text(etc), /ran read_file/);
  });

  it('F4: a tools/call sent without an id (a notification) is dropped, never forwarded', async () => {
    c = new RawClient();
    await c.init();
    c.line(JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'read_secret', arguments: {} } }));
    c.line(JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'read_file', arguments: { path: '/etc/passwd' } } }));
    const a = await c.call(2, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: {} } }));
    assert.match(text(a), /ran echo/);
    assert.deepEqual(c.upstreamLines().map((l) => JSON.parse(l).params.name), ['echo']);
    assert.match(c.err, /dropped a tools\/call without an id/);
  });

  it('F2: an error answer to a tools/call is decided in the result phase: withheld on deny, masked by redact', async () => {
    c = new RawClient();
    await c.init();
    const a = await c.call(2, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'leak_error', arguments: {} } }));
    assert.equal(a.error, undefined);
    assert.equal(a.result.isError, true);
    assert.match(text(a), /withheld the result of `leak_error`: result blocked/);
    assert.ok(!JSON.stringify(a).includes('AKIAIOSFODNN7EXAMPLE'));
    // Allowed, with a redact rule: the error stays an error, its message and data masked.
    const b = await c.call(3, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'fail_key', arguments: {} } }));
    assert.equal(b.result, undefined);
    assert.equal(b.error.code, -32000);
    assert.ok(!JSON.stringify(b).includes('AKIAIOSFODNN7EXAMPLE'), JSON.stringify(b));
    assert.match(b.error.message, /^failed with key \S+$/);
    assert.equal(b.error.data.n, 1);
    assert.notEqual(b.error.data.key, 'AKIAIOSFODNN7EXAMPLE');
  });

  it('F1: a task-augmented tools/call: its tasks/result is decided (deny, redact); a task not created through this session is refused', async () => {
    c = new RawClient({ tasks: {} });
    await c.init();
    const created = await c.call(2, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'research', arguments: { topic: 'secret-marker' }, task: { ttl: 60000 } } }));
    const taskId = created.result.task.taskId;
    assert.equal(typeof taskId, 'string');
    const r = await c.call(3, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tasks/result', params: { taskId } }));
    assert.equal(r.result.isError, true);
    assert.match(text(r), /withheld the result of `research`: result blocked/);
    // Another topic: allowed, with the key masked.
    const created2 = await c.call(4, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'research', arguments: { topic: 'weather' }, task: {} } }));
    const r2 = await c.call(5, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tasks/result', params: { taskId: created2.result.task.taskId } }));
    assert.equal(r2.result.isError, undefined);
    assert.match(text(r2), /report on weather/);
    assert.ok(!text(r2).includes('AKIAIOSFODNN7EXAMPLE'), text(r2));
    // A task id the gateway never saw created (another session, a guess): refused, not forwarded.
    const before = c.upstreamLines().length;
    const u = await c.call(6, JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tasks/result', params: { taskId: 'task-1' + 'x' } }));
    assert.equal(u.error?.code, -32602);
    assert.match(u.error.message, /was not created through this gateway session/);
    assert.equal(c.upstreamLines().length, before);
  });

  it('a task-augmented call settles its reservation when the task is created, with the usage that answer reports', async () => {
    // test/fixtures/mcp/budget: a $1 ceiling, each call reserving $0.10 unless the upstream reports its cost.
    c = new RawClient({ tasks: {} }, {}, path.join(FIXTURES, 'budget'));
    await c.init();
    const task = (id: number, cost: string) => c.call(id, JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'research', arguments: { topic: 't', cost }, task: {} } }));
    // Two tasks that report $0.45 each: settled at creation, $0.90 is spent (unsettled, $0.20 would be reserved).
    for (const id of [2, 3]) assert.equal(typeof (await task(id, '0.45')).result.task.taskId, 'string');
    // $0.90 + the $0.10 estimate fits the ceiling; then nothing does.
    const ok = await c.call(4, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: {} } }));
    assert.match(text(ok), /ran echo/);
    const over = await c.call(5, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: {} } }));
    assert.equal(over.result.isError, true);
    assert.match(text(over), /the \$1 ceiling is spent/);
    assert.deepEqual(c.upstreamLines().map((l) => JSON.parse(l).params.name), ['research', 'research', 'echo']);
  });

  it("F6: a client's requests with ids like the gateway's cannot answer the gateway's own tools/list", async () => {
    c = new RawClient();
    // Never listed: the gateway fetches the list itself to learn `danger`'s annotations. Pings with
    // ids shaped like the gateway's go first, in the same write (the server answers in order).
    const init = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    await c.call(0, init);
    const pings = Array.from({ length: 8 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: `rein-gw:${i}`, method: 'ping' }));
    const a = await c.call(2, [...pings, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'danger', arguments: {} } })].join('\n'));
    assert.equal(a.result.isError, true, JSON.stringify(a));
    assert.match(text(a), /destructive tools are refused/);
    assert.ok(!c.upstreamLines().some((l) => l.includes('"danger"')));
    // Every ping got its own answer.
    await waitFor(() => pings.every((_, i) => c.got.some((m) => m.id === `rein-gw:${i}`)), 'the pings answered');
  });

  it('F6: when the gateway cannot read the tools list, a call to a tool it never saw listed is refused (fail closed)', async () => {
    c = new RawClient({}, { RAW_LIST_ERROR: '1' });
    await c.call(0, JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    const a = await c.call(2, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'danger', arguments: {} } }));
    assert.equal(a.result.isError, true);
    assert.match(text(a), /could not check this call to `danger`: the upstream answered tools\/list with an error \(list unavailable\)/);
    assert.deepEqual(c.upstreamLines(), []);
  });

  it("F5: a server's requests to the client cannot answer the gateway's own elicitation (ids shaped like the gateway's)", async () => {
    c = new RawClient({ elicitation: {} });
    c.onRequest = (m) => (m.method === 'elicitation/create' ? 'hold' : undefined);
    await c.init();
    // The server asks 20 questions with ids rein-gw:0 … rein-gw:19 (held unanswered), then the agent calls `pay`.
    c.line(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'weather', arguments: {} } }));
    await waitFor(() => c.held.length === 20, "the server's 20 elicitations");
    c.line(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'pay', arguments: { amount: 1000 } } }));
    await waitFor(() => c.held.length === 21, "Rein's elicitation");
    const rein = c.held[20];
    assert.match(rein.params.message, /pay/);
    assert.ok(!c.held.slice(0, 20).some((m) => m.id === rein.id), 'the gateway picked an id of its own');
    // The user accepts the server's questions and declines Rein's.
    for (const m of c.held.slice(0, 20)) c.answer(m.id!, { action: 'accept', content: {} });
    c.answer(rein.id!, { action: 'decline' });
    await waitFor(() => c.got.some((m) => m.id === 3 && m.method === undefined), 'the answer to pay');
    const pay = c.got.find((m) => m.id === 3 && m.method === undefined)!;
    assert.equal(pay.result.isError, true, JSON.stringify(pay));
    assert.ok(!c.upstreamLines().some((l) => l.includes('"pay"')), 'pay never reached the upstream');
    // Every accept reached the server, which then answered `weather`.
    await waitFor(() => c.got.some((m) => m.id === 2 && m.method === undefined), 'the answer to weather');
    assert.equal((c.err.match(/raw-server: ANSWER .*accept/g) ?? []).length, 20);
  });
});
