// `rein bench PATH --input FILE`: decisions per second and latency percentiles of a policy on given
// requests (like `opa bench`). Each decision is timed on its own (performance.now, ~0.1 µs overhead).

import { Engine } from '../../language/runtime/engine.js';
import { EXIT, type Ctx } from '../context.js';
import { LoadError, UsageError } from '../../language/node/errors.js';
import type { Options } from '../options.js';
import { loadPolicyFor } from '../shared.js';

/** One JSON document, or JSON Lines (one request per non-blank line). */
export function parseRequests(text: string, what: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch {
    // not one document: JSON Lines
  }
  const out: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      throw new LoadError(`${what} line ${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
  });
  return out;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const us = (ms: number) => (ms * 1000 < 10 ? (ms * 1000).toFixed(2) : ms * 1000 < 100 ? (ms * 1000).toFixed(1) : (ms * 1000).toFixed(0));

export default async function cmdBench(ctx: Ctx, positionals: string[], opts: Options<'bench'>): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('expected exactly one PATH (a policy directory, .rein file or bundle)', 'bench');
  const text = await ctx.readInput(opts.input);
  const policy = await loadPolicyFor(ctx, positionals[0]);
  const requests = parseRequests(text, opts.input === '-' ? 'standard input' : `\`${opts.input}\``);
  if (requests.length === 0) throw new UsageError(`${opts.input} holds no requests`, 'bench');
  const now = new Date();
  const engine = new Engine(policy, { clock: () => now });
  const one: (r: unknown) => unknown = opts.mode === 'evaluate' ? (r) => policy.evaluate(r, { now }) : (r) => engine.decideSync(r);

  // Warm-up: a tenth of the time (at least every request once), so the measured loop runs optimised code.
  const warmUntil = performance.now() + opts.duration / 10;
  let i = 0;
  do one(requests[i++ % requests.length]);
  while (performance.now() < warmUntil || i < requests.length);

  let samples = new Float64Array(1 << 16);
  let n = 0;
  const effects: Record<string, number> = {};
  const start = performance.now();
  const until = start + opts.duration;
  let t = start;
  while (t < until) {
    const d = one(requests[n % requests.length]) as { effect: string };
    const t2 = performance.now();
    if (n === samples.length) {
      const bigger = new Float64Array(samples.length * 2);
      bigger.set(samples);
      samples = bigger;
    }
    samples[n++] = t2 - t;
    effects[d.effect] = (effects[d.effect] ?? 0) + 1;
    t = t2;
  }
  const elapsed = t - start;
  const sorted = samples.subarray(0, n).sort();
  const result = {
    policy: (one(requests[0]) as { policy: { name: string } }).policy.name,
    mode: opts.mode,
    requests: requests.length,
    decisions: n,
    seconds: Number((elapsed / 1000).toFixed(3)),
    per_second: Math.round((n / elapsed) * 1000),
    latency_us: { p50: Number(us(percentile(sorted, 50))), p90: Number(us(percentile(sorted, 90))), p99: Number(us(percentile(sorted, 99))), max: Number(us(sorted[n - 1] ?? 0)) },
    effects,
  };
  if (opts.format === 'json') {
    ctx.out(JSON.stringify(result, null, 2) + '\n');
    return EXIT.ok;
  }
  const L = result.latency_us;
  ctx.out(
    `${result.decisions.toLocaleString('en-US')} decisions (${opts.mode}) of ${requests.length} request${requests.length === 1 ? '' : 's'} in ${result.seconds} s\n` +
      `  ${result.per_second.toLocaleString('en-US')} decisions/s\n` +
      `  latency µs: p50 ${L.p50}  p90 ${L.p90}  p99 ${L.p99}  max ${L.max}\n` +
      `  effects: ${Object.entries(effects).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}\n`,
  );
  return EXIT.ok;
}
