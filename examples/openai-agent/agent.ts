// An OpenAI Agents SDK agent guarded by Rein, running offline on the SDK's scripted test model.
// Run from the repository root: `node --import tsx examples/openai-agent/agent.ts`
// It uses the policy of ../ai-sdk-agent: one policy guards agents on both SDKs (the same request shape).
// In a real agent, drop `reinModel(new ScriptedModel(...))` and give the Runner a guarded provider:
//   new Runner({ modelProvider: reinModelProvider(new OpenAIProvider(), guard) })
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, run, tool, Usage, setTracingDisabled } from '@openai/agents';
import { ScriptedModel, functionCall, assistantMessage } from '@openai/agents/testing';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { calcPrice } from '@pydantic/genai-prices';
import { compile, Engine, MemoryBudgetStore } from '../../language/index.js'; // in your project: from 'rein'
import { reinModel, guardTools, reinOutputGuardrail, pricesFrom, ReinDeniedError } from '../../language/ai/openai-agents.js'; // 'rein/openai-agents'

setTracingDisabled(true); // offline
const dir = join(import.meta.dirname, '../ai-sdk-agent');
const policy = compile(Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.rein')).map((f) => [f, readFileSync(join(dir, f), 'utf8')])));
const engine = new Engine(policy, {
  store: new MemoryBudgetStore(),
  onDecision: (d) => console.log(`  rein: ${d.effect}${[...d.reasons, ...d.warnings].map((r) => ` [${r.name ?? r.kind}] ${r.message ?? ''}`).join('')}`),
});
const settle = engine.settle.bind(engine);
engine.settle = async (d, usage) => {
  const u = usage as { tokens?: { input: number; output: number }; cost?: { estimate: number } };
  if (u?.tokens) console.log(`  settled: ${u.tokens.input} tokens in, ${u.tokens.output} out = $${u.cost?.estimate ?? 0}`);
  return settle(d, usage);
};

const usage = (i: number, o: number) => new Usage({ requests: 1, inputTokens: i, outputTokens: o, totalTokens: i + o });
// The scripted "model": a harmless query, a destructive one, a refund (needs approval), then an answer with an email address.
const script = () =>
  new ScriptedModel([
    { usage: usage(900, 30), output: [functionCall('sql', { query: 'select count(*) from users' }, { callId: 'c1' })] },
    { usage: usage(1000, 30), output: [functionCall('sql', { query: 'DROP TABLE users' }, { callId: 'c2' })] },
    { usage: usage(1100, 30), output: [functionCall('refund', { amount: 30 }, { callId: 'c3' })] },
    { usage: usage(1200, 40), output: [assistantMessage('There are 42 users; the $30 refund is done. Questions? Write to ops@example.com.')] },
  ]);

const tools = [
  tool({
    name: 'sql',
    description: 'Run a SQL query',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
    strict: true,
    execute: async () => JSON.stringify({ rows: [{ count: 42 }] }),
  }),
  tool({
    name: 'refund',
    description: 'Refund an order',
    parameters: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'], additionalProperties: false },
    strict: true,
    execute: async (input: unknown) => `refunded $${(input as { amount: number }).amount}`,
  }),
];

async function session(classification: string, modelId: string) {
  const context = { agent: { id: 'agent-1', team: 'support' }, session: { id: `s-${classification}` }, data: { classification } };
  const guard = { engine, context, countTokens, prices: pricesFrom(calcPrice), model: { provider: 'openai', id: modelId } };
  const agent = new Agent({
    name: 'support',
    instructions: 'Answer questions about our users.',
    model: reinModel(script(), guard),
    tools: guardTools(tools, guard),
    outputGuardrails: [reinOutputGuardrail(guard)],
  });
  console.log(`\n${classification} data on ${modelId}:`);
  try {
    let result = await run(agent, 'How many users do we have? Refund order 7 ($30). Clean up afterwards.');
    while (result.interruptions.length > 0) {
      for (const item of result.interruptions) {
        // Here a person answers (a UI, a chat message…); the approval counts for this call only.
        console.log(`  approval asked: ${item.name}(${item.arguments}) → approved by the support lead`);
        result.state.approve(item);
      }
      result = await run(agent, result.state);
    }
    console.log(`  answer: ${result.finalOutput}`);
  } catch (e) {
    if (e instanceof ReinDeniedError) console.log(`  stopped: ${e.message}`);
    else throw e;
  }
}

await session('public', 'gpt-4o');
await session('confidential', 'gpt-4o');
