// An AI SDK agent guarded by Rein, running offline on the AI SDK's mock model.
// Run from the repository root: `node --import tsx examples/ai-sdk-agent/agent.ts`
// In a real agent, replace the mock with a provider model (e.g. `openai("gpt-4o")`).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, wrapLanguageModel, tool, jsonSchema, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { calcPrice } from '@pydantic/genai-prices';
import { compile, Engine, MemoryBudgetStore } from '../../language/index.js'; // in your project: from 'rein'
import { reinMiddleware, guardTools, pricesFrom, ReinDeniedError } from '../../language/ai/index.js'; // 'rein/ai'

const dir = import.meta.dirname;
const policy = compile(Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.rein')).map((f) => [f, readFileSync(join(dir, f), 'utf8')])));
const engine = new Engine(policy, {
  store: new MemoryBudgetStore(),
  onDecision: (d) => console.log(`  rein: ${d.effect}${[...d.reasons, ...d.warnings].map((r) => ` [${r.name ?? r.kind}] ${r.message ?? ''}`).join('')}`),
});

const usage = (i: number, o: number) => ({ inputTokens: { total: i, noCache: i, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: o, text: o, reasoning: 0 } });
let call = 0;
// The mock "model": asks for a SQL tool (once harmless, once destructive), then answers with an email address.
const mock = (modelId: string) =>
  new MockLanguageModelV3({
    provider: 'openai.chat',
    modelId,
    doGenerate: async () => {
      call++;
      if (call === 1) return { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'sql', input: '{"query":"select count(*) from users"}' }], finishReason: { unified: 'tool-calls', raw: undefined }, usage: usage(900, 30), warnings: [] };
      if (call === 2) return { content: [{ type: 'tool-call', toolCallId: 'c2', toolName: 'sql', input: '{"query":"DROP TABLE users"}' }], finishReason: { unified: 'tool-calls', raw: undefined }, usage: usage(1000, 30), warnings: [] };
      return { content: [{ type: 'text', text: 'There are 42 users. Questions? Write to ops@example.com.' }], finishReason: { unified: 'stop', raw: undefined }, usage: usage(1100, 40), warnings: [] };
    },
  });

const tools = {
  sql: tool({
    description: 'Run a SQL query',
    inputSchema: jsonSchema<{ query: string }>({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }),
    execute: async ({ query }) => ({ query, rows: [{ count: 42 }] }),
  }),
};

async function run(classification: string, modelId: string) {
  const context = { agent: { id: 'agent-1', team: 'support' }, session: { id: `s-${classification}` }, data: { classification } };
  console.log(`\n${classification} data on ${modelId}:`);
  call = 0;
  try {
    const r = await generateText({
      model: wrapLanguageModel({ model: mock(modelId), middleware: reinMiddleware({ engine, context, countTokens, prices: pricesFrom(calcPrice) }) }),
      tools: guardTools(tools, { engine, context }),
      stopWhen: stepCountIs(5),
      prompt: 'How many users do we have? Clean up afterwards.',
    });
    console.log(`  answer: ${r.text}`);
  } catch (e) {
    if (e instanceof ReinDeniedError) console.log(`  stopped: ${e.message}`);
    else throw e;
  }
}

await run('public', 'gpt-4o');
await run('confidential', 'gpt-4o');
