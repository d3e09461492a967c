// rein/openai-agents with the real OpenAI Agents SDK runner on a local fake model (no network: tracing off).
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, run, tool, Usage, setTracingDisabled, InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import type { Decision } from '../../language/runtime/decision.js';
import { reinInputGuardrail, reinOutputGuardrail, reinToolGuardrail } from '../../language/ai/openai-agents.js';

setTracingDisabled(true);
const DIR = join(import.meta.dirname, '../../examples/ai-sdk-agent');
const policy = compile(Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.rein')).map((f) => [f, readFileSync(join(DIR, f), 'utf8')])));

/** A scripted model: each call returns the next list of output items; records the requests. */
class FakeModel implements Model {
  requests: ModelRequest[] = [];
  constructor(private readonly turns: unknown[][]) {}
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const output = this.turns.shift() ?? [];
    return { usage: new Usage({ requests: 1, inputTokens: 10, outputTokens: 10, totalTokens: 20 }), output: output as ModelResponse['output'] };
  }
  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not used');
  }
}
const say = (text: string) => ({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] });
const call = (name: string, args: unknown, id: string) => ({ type: 'function_call', callId: id, name, arguments: JSON.stringify(args), status: 'completed' });

function setup(classification = 'public') {
  const decisions: Decision[] = [];
  const engine = new Engine(policy, { store: new MemoryBudgetStore(), onDecision: (d) => void decisions.push(d) });
  const context = { agent: { id: 'a1', team: 'support' }, session: { id: 's1' }, data: { classification } };
  return { engine, context, decisions };
}

describe('rein/openai-agents: OpenAI Agents SDK guardrails', () => {
  it('a tool loop: the denied tool call is rejected with the policy message, the model adapts', async () => {
    const { engine, context } = setup();
    const ran: string[] = [];
    const sql = tool({
      name: 'sql',
      description: 'run SQL',
      parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
      strict: true,
      inputGuardrails: [reinToolGuardrail({ engine, context })],
      execute: async (input: unknown) => {
        ran.push((input as { query: string }).query);
        return 'rows: 1';
      },
    });
    const model = new FakeModel([[call('sql', { query: 'select 1' }, 'c1')], [call('sql', { query: 'DROP TABLE users' }, 'c2')], [say('done without dropping')]]);
    const agent = new Agent({ name: 'db', instructions: 'help', model, tools: [sql] });
    const result = await run(agent, 'clean up');
    assert.deepEqual(ran, ['select 1']);
    assert.equal(result.finalOutput, 'done without dropping');
    assert.match(JSON.stringify(model.requests[2]!.input), /denied by policy: destructive SQL is not allowed/);
  });

  it('input guardrail: confidential data never reaches a public model', async () => {
    const { engine, context } = setup('confidential');
    const model = new FakeModel([[say('x')]]);
    const agent = new Agent({ name: 'a', model, inputGuardrails: [reinInputGuardrail({ engine, context, model: { provider: 'openai', id: 'gpt-4o' } })] });
    await assert.rejects(run(agent, 'salary table'), (e: unknown) => e instanceof InputGuardrailTripwireTriggered && /may not see confidential data/.test(JSON.stringify(e.result)));
    assert.equal(model.requests.length, 0, 'blocking guardrail: the model was never called');
    const selfHosted = new FakeModel([[say('summary')]]);
    const ok = await run(new Agent({ name: 'a', model: selfHosted, inputGuardrails: [reinInputGuardrail({ engine, context, model: { provider: 'acme', id: 'acme-llm' } })] }), 'salary table');
    assert.equal(ok.finalOutput, 'summary');
  });

  it('output guardrail: PII is a warning in the decision; a credential trips the wire', async () => {
    const { engine, context, decisions } = setup();
    const g = reinOutputGuardrail({ engine, context });
    const ok = await run(new Agent({ name: 'a', model: new FakeModel([[say('mail jane.doe@example.com')]]), outputGuardrails: [g] }), 'hi');
    assert.equal(ok.finalOutput, 'mail jane.doe@example.com');
    assert.deepEqual(decisions.at(-1)!.warnings.map((w) => w.name), ['contact_details_in_output']);
    await assert.rejects(
      run(new Agent({ name: 'a', model: new FakeModel([[say('key AKIAIOSFODNN7EXAMPLE')]]), outputGuardrails: [g] }), 'hi'),
      (e: unknown) => e instanceof OutputGuardrailTripwireTriggered,
    );
  });
});
