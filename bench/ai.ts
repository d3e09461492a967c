// Overhead of rein/ai's middleware per model call: generateText on the AI SDK's mock model, bare vs
// wrapped with reinMiddleware (decide before with a token count and a price, settle after, output check),
// and the same for streamText. The mock answers at once, so the difference is Rein's cost per call.
//
//   npm run bench:ai                 (REIN_BENCH_CALLS=… to change the number of calls, default 3000)

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { compile } from '../language/policy.js';
import { Engine } from '../language/runtime/engine.js';
import { MemoryBudgetStore } from '../language/runtime/memory-store.js';
import { reinMiddleware } from '../language/ai/index.js';

const CALLS = Number(process.env.REIN_BENCH_CALLS ?? 3000);
const dir = join(import.meta.dirname, '../examples/ai-sdk-agent');
const policy = compile(Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.rein')).map((f) => [f, readFileSync(join(dir, f), 'utf8')])));
const engine = new Engine(policy, { store: new MemoryBudgetStore() });
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
let n = 0;
const wrapped = wrapLanguageModel({
  model,
  middleware: reinMiddleware({
    engine,
    // A new session per call so the $0.05 session ceiling never stops the bench.
    context: () => ({ agent: { id: 'a', team: 't' }, session: { id: `s${n++}` }, data: { classification: 'public' } }),
    countTokens,
    prices: { 'gpt-4o': { input: 2.5, output: 10 } },
  }),
});
const PROMPT = 'Summarise the ticket for the support lead in two sentences, without personal data.';

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
async function measure(f: () => PromiseLike<unknown>): Promise<number[]> {
  for (let i = 0; i < 300; i++) await f(); // warm up
  const xs: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await f();
    xs.push((performance.now() - t) * 1000);
  }
  return xs;
}

const rows: [string, number[]][] = [];
rows.push(['generateText, bare model', await measure(() => generateText({ model, prompt: PROMPT }))]);
rows.push(['generateText, reinMiddleware', await measure(() => generateText({ model: wrapped, prompt: PROMPT }))]);
rows.push(['streamText, bare model', await measure(() => streamText({ model, prompt: PROMPT }).text)]);
rows.push(['streamText, reinMiddleware', await measure(() => streamText({ model: wrapped, prompt: PROMPT }).text)]);

console.log(`rein/ai middleware overhead, ${CALLS} calls each (µs per call)\n`);
console.log('call'.padEnd(32) + 'p50'.padStart(10) + 'p99'.padStart(10));
for (const [name, xs] of rows) console.log(name.padEnd(32) + pct(xs, 50).toFixed(0).padStart(10) + pct(xs, 99).toFixed(0).padStart(10));
for (const kind of ['generateText', 'streamText']) {
  const bare = rows.find(([n]) => n === `${kind}, bare model`)![1];
  const rein = rows.find(([n]) => n === `${kind}, reinMiddleware`)![1];
  console.log(`\n${kind}: added p50 ${(pct(rein, 50) - pct(bare, 50)).toFixed(0)} µs, p99 ${(pct(rein, 99) - pct(bare, 99)).toFixed(0)} µs; ratio p50 ${(pct(rein, 50) / pct(bare, 50)).toFixed(2)}×`);
}
