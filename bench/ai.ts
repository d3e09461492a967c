// Overhead of Rein's SDK guards per model call, against the bare model call, in one process:
// - the AI SDK: generateText and streamText on the SDK's mock model, bare vs wrapped with reinMiddleware
//   (decide before with a gpt-tokenizer count and a price, settle after, output check);
// - the OpenAI Agents SDK: run() of an agent on a model that answers at once, bare vs reinModel (decide
//   before, settle after with the priced usage).
// The mock models answer at once, so the difference is Rein's cost per call. Variants run interleaved in
// rounds (bare, Rein, bare, Rein, …) so machine load hits both alike; each reports wall-clock p50/p99 and
// the CPU time per call (process.cpuUsage), which load disturbs less.
//
//   npm run bench:ai            (REIN_BENCH_CALLS=… calls per variant, default 3000; REIN_BENCH_ROUNDS=…, default 6)

import { generateText, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { Agent, run, Usage, setTracingDisabled, type Model, type ModelResponse } from '@openai/agents';
import { assistantMessage } from '@openai/agents/testing';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { reinMiddleware } from '../language/ai/index.js';
import { reinModel } from '../language/ai/openai-agents.js';
import { readSet } from './util.js';

setTracingDisabled(true);
const CALLS = Number(process.env.REIN_BENCH_CALLS ?? 3000);
const ROUNDS = Math.max(1, Number(process.env.REIN_BENCH_ROUNDS ?? 6));
const policy = compile(readSet(new URL('../examples/ai-sdk-agent', import.meta.url).pathname));
const engine = new Engine(policy, { store: new MemoryBudgetStore() });
const PRICES = { 'gpt-4o': { input: 2.5, output: 10 } };
let n = 0;
// A new session per call so the $0.05 session ceiling never stops the bench.
const context = () => ({ agent: { id: 'a', team: 't' }, session: { id: `s${n++}` }, data: { classification: 'public' } });

const usage = { inputTokens: { total: 50, noCache: 50, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 20, text: 20, reasoning: 0 } };
const TEXT = 'The ticket is about a failed refund; the customer asked twice and is waiting for an answer.';
const model = new MockLanguageModelV3({
  modelId: 'gpt-4o',
  doGenerate: async () => ({ content: [{ type: 'text', text: TEXT }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] }),
  doStream: async () => ({
    stream: simulateReadableStream({
      chunks: [
        { type: 'text-start', id: 't' },
        ...TEXT.split(' ').map((w) => ({ type: 'text-delta' as const, id: 't', delta: w + ' ' })),
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage },
      ],
      initialDelayInMs: null,
      chunkDelayInMs: null,
    }),
  }),
});
const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, countTokens, prices: PRICES }) });
// The SDK's own cost of a middleware: one that does nothing.
const noop = wrapLanguageModel({ model, middleware: { specificationVersion: 'v3' } });

/** An Agents SDK model that answers at once, forever. */
const agentsModel: Model = {
  async getResponse(): Promise<ModelResponse> {
    return { usage: new Usage({ requests: 1, inputTokens: 50, outputTokens: 20, totalTokens: 70 }), output: [assistantMessage(TEXT)] };
  },
  // eslint-disable-next-line require-yield
  async *getStreamedResponse() {
    throw new Error('not used');
  },
};
const bareAgent = new Agent({ name: 'bench', instructions: 'Summarise.', model: agentsModel });
// The Agents SDK calls the model without the run's context: the guard's context is per model, as docs/sdk.md says.
const reinAgent = new Agent({
  name: 'bench',
  instructions: 'Summarise.',
  model: reinModel(agentsModel, { engine, context: () => context(), countTokens, prices: PRICES, model: { provider: 'openai', id: 'gpt-4o' } }),
});
const PROMPT = 'Summarise the ticket for the support lead in two sentences, without personal data.';

const VARIANTS: [string, () => PromiseLike<unknown>][] = [
  ['AI SDK generateText, bare model', () => generateText({ model, prompt: PROMPT })],
  ['AI SDK generateText, no-op middleware', () => generateText({ model: noop, prompt: PROMPT })],
  ['AI SDK generateText, reinMiddleware', () => generateText({ model: wrapped, prompt: PROMPT })],
  ['AI SDK streamText, bare model', () => streamText({ model, prompt: PROMPT }).text],
  ['AI SDK streamText, reinMiddleware', () => streamText({ model: wrapped, prompt: PROMPT }).text],
  ['Agents SDK run, bare model', () => run(bareAgent, PROMPT)],
  ['Agents SDK run, reinModel', () => run(reinAgent, PROMPT)],
];

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const wall = new Map<string, number[]>(VARIANTS.map(([k]) => [k, []]));
const cpu = new Map<string, number>(VARIANTS.map(([k]) => [k, 0]));

for (const [, f] of VARIANTS) for (let i = 0; i < 300; i++) await f(); // warm up
const perRound = Math.ceil(CALLS / ROUNDS);
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of VARIANTS) {
    const xs = wall.get(name)!;
    const c0 = process.cpuUsage();
    for (let i = 0; i < perRound; i++) {
      const t = performance.now();
      await f();
      xs.push((performance.now() - t) * 1000);
    }
    const c = process.cpuUsage(c0);
    cpu.set(name, cpu.get(name)! + c.user + c.system);
  }
}

const calls = perRound * ROUNDS;
const cpuPer = (name: string) => cpu.get(name)! / calls;
console.log(`rein SDK guards: overhead per model call, ${calls} calls per variant in ${ROUNDS} interleaved rounds (µs)\n`);
console.log('call'.padEnd(40) + 'p50'.padStart(9) + 'p99'.padStart(9) + 'CPU/call'.padStart(10));
for (const [name] of VARIANTS) {
  const xs = wall.get(name)!;
  console.log(name.padEnd(40) + pct(xs, 50).toFixed(0).padStart(9) + pct(xs, 99).toFixed(0).padStart(9) + cpuPer(name).toFixed(0).padStart(10));
}
console.log('');
for (const [bare, rein] of [
  ['AI SDK generateText, bare model', 'AI SDK generateText, reinMiddleware'],
  ['AI SDK generateText, no-op middleware', 'AI SDK generateText, reinMiddleware'],
  ['AI SDK streamText, bare model', 'AI SDK streamText, reinMiddleware'],
  ['Agents SDK run, bare model', 'Agents SDK run, reinModel'],
]) {
  const b = wall.get(bare)!;
  const g = wall.get(rein)!;
  console.log(
    `${rein} vs ${bare.split(', ')[1]}: added p50 ${(pct(g, 50) - pct(b, 50)).toFixed(0)} µs, added p99 ${(pct(g, 99) - pct(b, 99)).toFixed(0)} µs, ` +
      `added CPU ${(cpuPer(rein) - cpuPer(bare)).toFixed(0)} µs/call; ratio p50 ${(pct(g, 50) / pct(b, 50)).toFixed(2)}×`,
  );
}
