// `redact` through the SDK guards (issue #18), on the SDKs' own offline test doubles and real loops:
// the AI SDK (MockLanguageModelV3, generateText/streamText) and the OpenAI Agents SDK (ScriptedModel,
// run()). Masked arguments are what the tool receives; masked results and inputs are what the model
// reads; the audit log keeps what was masked (rule, path, detector, spans), never the text.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, streamText, wrapLanguageModel, tool, jsonSchema, stepCountIs } from 'ai';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { Agent, run, tool as agentTool, Usage, setTracingDisabled, InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered } from '@openai/agents';
import { ScriptedModel, functionCall, assistantMessage } from '@openai/agents/testing';
import { compile } from '../../language/policy.js';
import { parseRecords } from '../../language/audit/record.js';
import { recordingEngine, stop, toolCalls, usage } from './helpers.js';
import type { MemoryAuditSink } from '../../language/audit/logger.js';
import { reinMiddleware, guardTools, promptText } from '../../language/ai/index.js';
import { reinModel, guardTools as agentsGuardTools, reinToolGuardrail, reinInputGuardrail, reinOutputGuardrail, agentsInputText } from '../../language/ai/openai-agents.js';

setTracingDisabled(true);

const SCHEMA = readFileSync(join(import.meta.dirname, '../../examples/ai-sdk-agent/schema.rein'), 'utf8');
const RULES = `policy masking { default allow }
rule mask_emails_in_prompts { when phase == "model"  redact prompt using pii.email "[email]" }
rule mask_keys_in_prompts   { when phase == "model"  redact prompt using secrets.any }
rule mask_emails_in_tools   { when phase == "tool"   redact tool.input using pii.email "[email]" }
rule mask_keys_in_output    { when phase == "output" redact text using secrets.any "[key]" }
`;
const policy = compile({ 'schema.rein': SCHEMA, 'rules.rein': RULES });

// The secrets of the conversation: none of them may reach the model, the tool (where masked) or the log.
const USER_EMAIL = 'carol@example.org';
const ARG_EMAIL = 'bob@example.com';
const RESULT_EMAIL = 'alice@corp.example';
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRETS = [USER_EMAIL, ARG_EMAIL, RESULT_EMAIL, KEY];

const setup = () => recordingEngine(policy);

/** The audit log holds none of the secrets, and says what was masked. */
function assertAuditClean(sink: MemoryAuditSink, expected: [string, string, string][]) {
  const log = sink.text();
  for (const s of SECRETS) assert.equal(log.includes(s), false, `the audit log holds ${s}: ${log.split('\n').find((l) => l.includes(s))}`);
  const masked = parseRecords(log).flatMap((r) => r.decision.transforms ?? []).map((t) => [t.rule, t.path.join('.'), t.detector] as [string, string, string]);
  for (const e of expected) assert.ok(masked.some((m) => m.join() === e.join()), `the audit log does not record ${e.join(' ')}: ${JSON.stringify(masked)}`);
}


describe('redact in rein/ai (AI SDK)', () => {
  function lookupTool(received: unknown[]) {
    return {
      lookup: tool({
        description: 'look an account up',
        inputSchema: jsonSchema<{ email: string; note: string }>({ type: 'object', properties: { email: { type: 'string' }, note: { type: 'string' } }, required: ['email', 'note'] }),
        execute: async (input) => {
          received.push(input);
          return { owner: RESULT_EMAIL, key: KEY, plan: 'pro' };
        },
      }),
    };
  }

  it('the tool gets masked arguments, the model reads a masked prompt and tool result, the caller a masked text', async () => {
    const { engine, context, sink } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: JSON.stringify({ email: ARG_EMAIL, note: 'vip' }) }], finishReason: toolCalls, usage: usage(10, 10), warnings: [] },
        { content: [{ type: 'text', text: `The account's key is ${KEY}.` }], finishReason: stop, usage: usage(10, 10), warnings: [] },
      ],
    });
    const received: unknown[] = [];
    const result = await generateText({
      model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) }),
      tools: guardTools(lookupTool(received), { engine, context }),
      stopWhen: stepCountIs(3),
      system: 'You help with accounts.',
      prompt: `Find the account of ${USER_EMAIL} please`,
    });
    // What the tool received.
    assert.deepEqual(received, [{ email: '[email]', note: 'vip' }]);
    // What the provider received: the first call's user message, the second call's history.
    assert.equal(model.doGenerateCalls.length, 2);
    const first = model.doGenerateCalls[0]!.prompt;
    assert.equal(promptText(first), 'You help with accounts.\nFind the account of [email] please');
    const second = model.doGenerateCalls[1]!.prompt;
    const toolMsg = second.find((m) => m.role === 'tool')!;
    const part = (toolMsg.content as { type: string; output?: unknown }[]).find((p) => p.type === 'tool-result')!;
    // The JSON result stays JSON, with its strings masked.
    assert.deepEqual(part.output, { type: 'json', value: { owner: '[email]', key: '[REDACTED]', plan: 'pro' } });
    const call = (second.find((m) => m.role === 'assistant')!.content as { type: string; input?: unknown }[]).find((p) => p.type === 'tool-call')!;
    assert.deepEqual(call.input, { email: '[email]', note: 'vip' });
    const everything = JSON.stringify(model.doGenerateCalls.map((c) => c.prompt));
    for (const s of SECRETS) assert.equal(everything.includes(s), false, `the model read ${s}`);
    // What the caller reads: the output decision masked the key.
    assert.equal(result.text, "The account's key is [key].");
    assertAuditClean(sink, [
      ['mask_emails_in_prompts', 'prompt', 'pii.email'],
      ['mask_keys_in_prompts', 'prompt', 'secrets.any'],
      ['mask_emails_in_tools', 'tool.input.email', 'pii.email'],
      ['mask_keys_in_output', 'text', 'secrets.any'],
    ]);
  });

  it('streamText: the provider gets the masked prompt', async () => {
    const { engine, context } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doStream: {
        stream: simulateReadableStream({
          chunks: [
            { type: 'text-start', id: 't' },
            { type: 'text-delta', id: 't', delta: 'ok' },
            { type: 'text-end', id: 't' },
            { type: 'finish', finishReason: stop, usage: usage(5, 1) },
          ],
        }),
      },
    });
    const r = streamText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) }), prompt: `mail ${USER_EMAIL} the key ${KEY}` });
    assert.equal(await r.text, 'ok');
    assert.equal(promptText(model.doStreamCalls[0]!.prompt), 'mail [email] the key [REDACTED]');
  });

  it('a call with nothing to mask reaches the provider and the tool unchanged (the same objects)', async () => {
    const { engine, context } = setup();
    const model = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'fine' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    let seen: unknown;
    const inner = wrapLanguageModel({ model, middleware: { specificationVersion: 'v3', transformParams: async ({ params }) => ((seen = params.prompt), params) } });
    const r = await generateText({ model: wrapLanguageModel({ model: inner, middleware: reinMiddleware({ engine, context }) }), prompt: 'hello there' });
    assert.equal(r.text, 'fine');
    assert.equal(promptText(seen), 'hello there');
    const received: unknown[] = [];
    const t = guardTools(lookupTool(received), { engine, context });
    const input = { email: 'nobody', note: 'n' };
    await t.lookup.execute!(input, { toolCallId: 'x', messages: [] });
    assert.equal(received[0], input);
  });

  it('a tool whose input is an array is decided (as `{ value }`) and receives it masked (review finding: it was refused as an invalid request)', async () => {
    const { engine, context } = setup();
    const received: unknown[] = [];
    const t = guardTools(
      { list: tool({ description: 'mail a list', inputSchema: jsonSchema<string[]>({ type: 'array', items: { type: 'string' } }), execute: async (input) => (received.push(input), 'sent') }) },
      { engine, context },
    );
    assert.equal(await t.list.execute!([ARG_EMAIL, 'plain'], { toolCallId: 'a', messages: [] }), 'sent');
    assert.deepEqual(received, [['[email]', 'plain']]);
  });
});

describe('redact in rein/openai-agents (OpenAI Agents SDK)', () => {
  const agentsUsage = () => new Usage({ requests: 1, inputTokens: 10, outputTokens: 10, totalTokens: 20 });
  const turn = (output: unknown[]) => ({ usage: agentsUsage(), output: output as never });
  function lookup(received: unknown[]) {
    return agentTool({
      name: 'lookup',
      description: 'look an account up',
      parameters: { type: 'object', properties: { email: { type: 'string' }, note: { type: 'string' } }, required: ['email', 'note'], additionalProperties: false },
      strict: true,
      execute: async (input: unknown) => {
        received.push(input);
        return JSON.stringify({ owner: RESULT_EMAIL, key: KEY });
      },
    });
  }

  it('guardTools: the tool gets masked arguments; reinModel: the model reads masked input and tool results', async () => {
    const { engine, context, sink } = setup();
    const received: unknown[] = [];
    const model = new ScriptedModel([
      turn([functionCall('lookup', { email: ARG_EMAIL, note: 'vip' }, { callId: 'c1' })]),
      turn([assistantMessage(`The key is ${KEY}.`)]),
    ]);
    const guard = { engine, context, model: { provider: 'openai', id: 'gpt-4o' } };
    const agent = new Agent({ name: 'accounts', instructions: 'You help with accounts.', model: reinModel(model, { ...guard, checkOutput: true }), tools: agentsGuardTools([lookup(received)], guard) });
    const result = await run(agent, `Find the account of ${USER_EMAIL} please`);
    assert.deepEqual(received, [{ email: '[email]', note: 'vip' }]);
    assert.equal(model.calls.length, 2);
    assert.equal(agentsInputText(model.calls[0]!.request.input), 'Find the account of [email] please');
    const second = JSON.stringify(model.calls[1]!.request.input);
    for (const s of SECRETS) assert.equal(second.includes(s), false, `the model read ${s}: ${second}`);
    assert.match(second, /\[email\]/);
    assert.match(second, /\[REDACTED\]/);
    // `checkOutput`: the response the agent reads is masked by the output decision.
    assert.equal(result.finalOutput, 'The key is [key].');
    assertAuditClean(sink, [
      ['mask_emails_in_prompts', 'prompt', 'pii.email'],
      ['mask_keys_in_prompts', 'prompt', 'secrets.any'],
      ['mask_emails_in_tools', 'tool.input.email', 'pii.email'],
      ['mask_keys_in_output', 'text', 'secrets.any'],
    ]);
  });

  it('places that can only block fail closed: a tool input guardrail alone, the input and output guardrails', async () => {
    const { engine, context } = setup();
    const received: unknown[] = [];
    const alone = agentTool({ ...(lookup(received) as unknown as Record<string, unknown>), inputGuardrails: [reinToolGuardrail({ engine, context })] } as never);
    const m1 = new ScriptedModel([turn([functionCall('lookup', { email: ARG_EMAIL, note: 'x' }, { callId: 'c1' })]), turn([assistantMessage('ok')])]);
    await run(new Agent({ name: 'a', model: m1, tools: [alone] }), 'go');
    assert.deepEqual(received, [], 'a tool input guardrail cannot mask: the call is refused, never run unmasked');
    assert.match(JSON.stringify(m1.calls[1]!.request.input), /which a tool input guardrail cannot do: guard the tool with `guardTools`/);

    const m2 = new ScriptedModel([turn([assistantMessage('ok')])]);
    await assert.rejects(run(new Agent({ name: 'b', model: m2, inputGuardrails: [reinInputGuardrail({ engine, context })] }), `mail ${USER_EMAIL}`), InputGuardrailTripwireTriggered);
    assert.equal(m2.calls.length, 0);

    const m3 = new ScriptedModel([turn([assistantMessage(`key ${KEY}`)])]);
    await assert.rejects(run(new Agent({ name: 'c', model: m3, outputGuardrails: [reinOutputGuardrail({ engine, context })] }), 'hi'), OutputGuardrailTripwireTriggered);
  });
});
