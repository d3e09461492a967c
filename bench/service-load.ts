// What the decision-service benches share (bench/service.ts, bench/service-floor.ts): pinning with
// taskset, servers under test with their `--trace-gc-nvp` lines, the trivial floors (fastify with rein
// serve's options, and raw node:http), the load generators (wrk with a Lua script, or a Node client)
// and CPU time from /proc.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodyFor } from './service-policy.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function hasTaskset(): boolean {
  const r = spawnSync('taskset', ['-c', '0', 'true']);
  return !r.error && r.status === 0;
}
/**
 * Whether to pin, and the label every row carries. BENCH_PIN `1` pins (or fails), `0` does not;
 * `auto` (the default) pins when taskset exists, there are ≥ 2 cores and the machine is quiet (1-minute
 * load average under half the cores at the start): on a dedicated machine pinning keeps the load
 * generator off the server's core, but on one shared with busy neighbours it keeps the server on a
 * core they are using (docs/benchmarks.md, "Session 9: the service's p99": 2–4× worse p50 there).
 */
export function pinning(want: string = process.env.BENCH_PIN ?? 'auto'): { on: boolean; label: string } {
  const can = cpus().length >= 2 && hasTaskset();
  if (want === '0') return { on: false, label: 'not pinned (BENCH_PIN=0)' };
  if (want === '1' && !can) throw new Error('BENCH_PIN=1 needs taskset (util-linux) and at least 2 cores');
  const on = { on: true, label: 'pinned: load generator on CPU 0, server on CPU 1' };
  if (want === '1') return on;
  if (!can) return { on: false, label: `not pinned (${cpus().length < 2 ? 'one core' : 'no taskset'})` };
  const load = loadavg()[0];
  if (load >= cpus().length / 2) return { on: false, label: `not pinned: load average ${load.toFixed(2)} at the start, the machine is shared (BENCH_PIN=1 pins anyway)` };
  return on;
}

/** CPU of the servers under test when pinned (the load generator's is PIN_LOAD_CPU). */
export const PIN_SERVER_CPU = 1;
export const PIN_LOAD_CPU = 0;

/** `cmd …args`, on `cpu` when given (taskset execs the command: the pid is the command's own). */
export function spawnOn(cpu: number | null, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const opts = { stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], env };
  return cpu === null ? spawn(cmd, args, opts) : spawn('taskset', ['-c', String(cpu), cmd, ...args], opts);
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One garbage collection: young (scavenge, minor mark-compact) or full; its pause; the bytes
 *  allocated since the one before, promoted to the old generation, and left surviving in the young. */
export interface Gc {
  kind: 'scavenge' | 'full';
  ms: number;
  allocated: number;
  promoted: number;
  survived: number;
}

/** A server process under test, with its `--trace-gc-nvp` lines collected from stdout. */
export interface Server {
  url: string;
  proc: ChildProcess;
  gc: Gc[];
}

const nvp = (line: string, key: string): number => {
  const m = new RegExp(`\\b${key}=([\\d.]+)`).exec(line);
  return m ? Number(m[1]) : 0;
};

/** Collects `--trace-gc-nvp` lines (`… pause=1.2 mutator=… gc=s … allocated=N promoted=N new_space_survived=N …`). */
export function traceGc(proc: ChildProcess): Gc[] {
  const out: Gc[] = [];
  let buf = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const kind = / gc=(\w+)/.exec(line)?.[1];
      if (!kind) continue;
      out.push({ kind: kind === 's' || kind === 'mmc' ? 'scavenge' : 'full', ms: nvp(line, 'pause'), allocated: nvp(line, 'allocated'), promoted: nvp(line, 'promoted'), survived: nvp(line, 'new_space_survived') });
    }
  });
  return out;
}

export async function waitListening(proc: ChildProcess, what: string): Promise<string> {
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (let i = 0; i < 600; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(err);
    if (m) return m[1];
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`${what} did not start: ${err}`);
}

/** A trivial fastify server answering `decision` to every POST /v1/decide (the framework floor). */
export async function startTrivial(dir: string, decision: unknown, opts: { cpu?: number | null; nodeFlags?: string[]; http?: boolean } = {}): Promise<Server> {
  if (opts.http) return startRawHttp(dir, decision, opts);
  const file = join(dir, 'trivial.mjs');
  const fastify = new URL('node_modules/fastify/fastify.js', `file://${ROOT}`).href;
  writeFileSync(
    file,
    `import Fastify from ${JSON.stringify(fastify)};
const decision = ${JSON.stringify(decision)};
const app = Fastify({ bodyLimit: 1048576, logger: false, keepAliveTimeout: 65000, return503OnClosing: true, forceCloseConnections: true });
const json = app.getDefaultJsonParser('error', 'error');
app.removeContentTypeParser(['application/json', 'text/plain']);
app.addContentTypeParser('*', { parseAs: 'string' }, json);
app.post('/v1/decide', async (req) => (req.body && typeof req.body === 'object' ? decision : { error: 'no body' }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write('listening on ' + url + '\\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`,
  );
  const proc = spawnOn(opts.cpu ?? null, process.execPath, [...(opts.nodeFlags ?? []), '--trace-gc-nvp', file]);
  const gc = traceGc(proc);
  return { url: await waitListening(proc, 'the trivial server'), proc, gc };
}

/** The lower floor: node:http alone (no framework), reading the body, JSON.parse, the same answer. */
async function startRawHttp(dir: string, decision: unknown, opts: { cpu?: number | null; nodeFlags?: string[] }): Promise<Server> {
  const file = join(dir, 'raw-http.mjs');
  writeFileSync(
    file,
    `import { createServer } from 'node:http';
const decision = ${JSON.stringify(decision)};
const server = createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    let v = null;
    try { v = JSON.parse(body); } catch {}
    const out = JSON.stringify(v && typeof v === 'object' ? decision : { error: 'no body' });
    res.writeHead(v && typeof v === 'object' ? 200 : 400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write('listening on http://127.0.0.1:' + server.address().port + '\\n'));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
`,
  );
  const proc = spawnOn(opts.cpu ?? null, process.execPath, [...(opts.nodeFlags ?? []), '--trace-gc-nvp', file]);
  const gc = traceGc(proc);
  return { url: await waitListening(proc, 'the node:http server'), proc, gc };
}

export async function stop(s: Server): Promise<void> {
  if (s.proc.exitCode !== null) return;
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
  await new Promise((r) => s.proc.once('exit', r));
  clearTimeout(t);
}

/** One decision from the server (the trivial server answers the same bytes). */
export function sample(url: URL, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/v1/decide', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What one measured run gives, whichever generator ran it. */
export interface LoadResult {
  /** Requests answered in the measured part (decides and settles). */
  requests: number;
  decides: number;
  seconds: number;
  p50: number;
  p99: number;
  p999: number;
  /** Non-2xx answers and socket errors (must be 0). */
  errors: number;
}

// ------------------------------------------------------------------ the Node generator (fallback)

function post(agent: Agent, url: URL, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 200)}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function loadNode(base: string, concurrency: number, seconds: number, settle: boolean): Promise<LoadResult> {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let i = 0;
  let decides = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      let t = performance.now();
      const text = await post(agent, url, '/v1/decide', bodyFor(i++));
      lat.push(performance.now() - t);
      decides++;
      if (!text.startsWith('{"effect":"allow"')) throw new Error(`unexpected decision: ${text.slice(0, 200)}`);
      if (settle) {
        const id = /"reservation":\{"id":"([^"]+)"/.exec(text)?.[1];
        if (!id) continue;
        t = performance.now();
        await post(agent, url, '/v1/settle', JSON.stringify({ reservation: id, usage: { cost: { estimate: '0.001' } } }));
        lat.push(performance.now() - t);
      }
    }
  };
  await Promise.all([...Array(concurrency)].map(client));
  const secs = (performance.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { requests: lat.length, decides, seconds: secs, p50: pct(lat, 50), p99: pct(lat, 99), p999: pct(lat, 99.9), errors: 0 };
}

// ------------------------------------------------------------------ wrk

/** The wrk Lua script: 1,000 prepared decide bodies; with `settle`, each reservation id a decide
 *  returns is settled by the thread's next request. `done` prints one JSON line. */
export function wrkScript(settle: boolean): string {
  return `-- written by bench/service.ts
local decides = {}
local queue, qh, qt = {}, 1, 0
n, settles = 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for i = 0, 999 do
    local body = string.format('{"input":{"agent":{"id":"a%d","team":"team%d"},"action":{"kind":"model_call"},"cost":{"estimate":"0.002"}}}', i, i % 100)
    decides[i] = wrk.format("POST", "/v1/decide", { ["Content-Type"] = "application/json" }, body)
  end
end
function request()
  if qh <= qt then
    local id = queue[qh]; queue[qh] = nil; qh = qh + 1
    settles = settles + 1
    return wrk.format("POST", "/v1/settle", { ["Content-Type"] = "application/json" }, '{"reservation":"' .. id .. '","usage":{"cost":{"estimate":"0.001"}}}')
  end
  n = n + 1
  return decides[n % 1000]
end
${
  settle
    ? `function response(status, headers, body)
  local id = string.match(body, '"reservation":{"id":"([^"]+)"')
  if id then qt = qt + 1; queue[qt] = id end
end`
    : ''
}
function done(summary, latency, requests)
  local sent, settled = 0, 0
  for _, t in ipairs(threads) do sent = sent + t:get("n"); settled = settled + t:get("settles") end
  local e = summary.errors
  io.write(string.format('REIN_WRK {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"sent_decides":%d,"sent_settles":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9), sent, settled,
    e.status + e.connect + e.read + e.write + e.timeout))
end
`;
}

export function hasWrk(): boolean {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return !r.error && /wrk/.test(`${r.stdout}${r.stderr}`);
}

export async function loadWrk(dir: string, base: string, concurrency: number, seconds: number, settle: boolean, cpu: number | null = null): Promise<LoadResult> {
  const script = join(dir, settle ? 'settle.lua' : 'decide.lua');
  writeFileSync(script, wrkScript(settle));
  const proc = spawnOn(cpu, 'wrk', ['-t1', `-c${concurrency}`, `-d${seconds}s`, '--latency', '-s', script, base]);
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // bounded: a wrk that hangs is killed 30 s after it should have ended
  const timer = setTimeout(() => proc.kill('SIGKILL'), (seconds + 30) * 1000);
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  clearTimeout(timer);
  const m = /REIN_WRK (\{.*\})/.exec(out);
  if (code !== 0 || !m) throw new Error(`wrk failed (exit ${code}): ${out.slice(0, 1000)}`);
  const j = JSON.parse(m[1]) as { requests: number; duration_us: number; p50_us: number; p99_us: number; p999_us: number; sent_decides: number; sent_settles: number; errors: number };
  // Requests still in flight when wrk stops were sent but not answered: count answered decides as
  // the answered requests minus the settles (every settle sent was answered or is one of the ≤ c in flight).
  const decides = settle ? Math.max(0, j.requests - j.sent_settles) : j.requests;
  return { requests: j.requests, decides, seconds: j.duration_us / 1e6, p50: j.p50_us / 1000, p99: j.p99_us / 1000, p999: j.p999_us / 1000, errors: j.errors };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; null elsewhere). On a
 *  busy machine wall-clock figures mostly measure the other processes; CPU per decision does not. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return null;
  }
}

