// rein/ai with the Vercel AI SDK, driven by the SDK's own test doubles (MockLanguageModelV3,
// simulateReadableStream) and the real generateText/streamText loops.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, streamText, wrapLanguageModel, tool, jsonSchema, stepCountIs } from 'ai';
import { MockLanguageModelV3, simulateReadableStream } from 'ai/test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { calcPrice } from '@pydantic/genai-prices';
import { compile } from '../../language/policy.js';
import { recordingEngine, stop, toolCalls, usage } from './helpers.js';
import type { Decision } from '../../language/runtime/decision.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { reinMiddleware, guardTools, ReinDeniedError, pricesFrom, promptText } from '../../language/ai/index.js';
import type { AgentsModel } from '../../language/ai/openai-agents.js';

const DIR = join(import.meta.dirname, '../../examples/ai-sdk-agent');
const policy = compile(Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.rein')).map((f) => [f, readFileSync(join(DIR, f), 'utf8')])));

const PRICES = { 'gpt-4o': { input: 2.5, output: 10 }, 'acme-llm': { input: 1, output: 1 } };

const setup = (classification = 'public', session = 's1') => recordingEngine(policy, classification, session);


/** A `refund` tool that records the amounts it refunds. */
const refundTool = (refunds: number[]) =>
  tool({
    inputSchema: jsonSchema<{ amount: number }>({ type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] }),
    execute: async ({ amount }) => {
      refunds.push(amount);
      return { ok: true };
    },
  });

/** A model that calls `refund` for $30, then answers "refunded". */
const refundingModel = () =>
  new MockLanguageModelV3({
    modelId: 'gpt-4o',
    doGenerate: [
      { content: [{ type: 'tool-call', toolCallId: 'r1', toolName: 'refund', input: JSON.stringify({ amount: 30 }) }], finishReason: toolCalls, usage: usage(10, 10), warnings: [] },
      { content: [{ type: 'text', text: 'refunded' }], finishReason: stop, usage: usage(10, 10), warnings: [] },
    ],
  });

function sqlTools(ran: string[]) {
  return {
    sql: tool({
      description: 'run a SQL query',
      inputSchema: jsonSchema<{ query: string }>({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }),
      execute: async ({ query }) => {
        ran.push(query);
        return { rows: 1 };
      },
    }),
  };
}

describe('rein/ai: AI SDK middleware and tool guard', () => {
  it('a multi-step tool loop: allowed tools run, a denied tool becomes an error result the model adapts to', async () => {
    const { engine, context, decisions } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'sql', input: JSON.stringify({ query: 'select 1' }) }], finishReason: toolCalls, usage: usage(100, 20), warnings: [] },
        { content: [{ type: 'tool-call', toolCallId: 'c2', toolName: 'sql', input: JSON.stringify({ query: 'DROP TABLE users' }) }], finishReason: toolCalls, usage: usage(150, 20), warnings: [] },
        { content: [{ type: 'text', text: 'I cannot drop the table; here is the count instead.' }], finishReason: stop, usage: usage(200, 20), warnings: [] },
      ],
    });
    const ran: string[] = [];
    const result = await generateText({
      model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: PRICES }) }),
      tools: guardTools(sqlTools(ran), { engine, context }),
      stopWhen: stepCountIs(5),
      prompt: 'clean up the users table',
    });
    assert.deepEqual(ran, ['select 1']);
    assert.equal(model.doGenerateCalls.length, 3);
    assert.equal(result.text, 'I cannot drop the table; here is the count instead.');
    // The third call's prompt carries the denial as the tool's error result.
    const third = promptText(model.doGenerateCalls[2]!.prompt);
    assert.match(third, /destructive SQL is not allowed/);
    const toolDenied = decisions.find((d) => d.effect === 'deny');
    assert.equal(toolDenied?.reasons[0]?.name, 'no_destructive_sql');
    // 3 model decisions, 2 tool decisions, 1 output decision.
    assert.equal(decisions.length, 6);
  });

  it('decides on the model, the caller\'s context, the prompt text (detectors) and its tokens counted with gpt-tokenizer', async () => {
    const { engine, context } = setup();
    const requests: any[] = [];
    const decide = engine.decide.bind(engine);
    engine.decide = (r, o) => (requests.push(r), decide(r, o));
    const model = new MockLanguageModelV3({ provider: 'openai.chat', modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, countTokens, prices: PRICES }) });
    await generateText({ model: wrapped, system: 'You are terse.', prompt: 'Summarise ticket 7.', maxOutputTokens: 100 });
    const text = 'You are terse.\nSummarise ticket 7.';
    assert.deepEqual(requests[0], {
      ...context,
      phase: 'model',
      model: { provider: 'openai.chat', id: 'gpt-4o' },
      tokens: { input: countTokens(text), output: 100 },
      cost: { estimate: Math.ceil((countTokens(text) * 2.5 + 100 * 10) / 1e6 * 1e6 - 1e-6) / 1e6 },
      prompt: text,
    });
    await assert.rejects(generateText({ model: wrapped, prompt: 'debug this: AKIAIOSFODNN7EXAMPLE' }), (e: unknown) => e instanceof ReinDeniedError && e.decision.reasons[0]?.name === 'secret_in_prompt');
    assert.equal(model.doGenerateCalls.length, 1, 'the prompt with a credential never reached the provider');
  });

  it('a $0.05 ceiling stops the loop at the exact call that would exceed it', async () => {
    const { engine, context, settled } = setup();
    // Each call costs 2,000 × $2.50/M + 750 × $10/M = $0.0125: four calls reach $0.05, the fifth is refused.
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: async () => ({
        content: [{ type: 'tool-call', toolCallId: `c${Math.random()}`, toolName: 'sql', input: JSON.stringify({ query: 'select 1' }) }],
        finishReason: toolCalls,
        usage: usage(2000, 750),
        warnings: [],
      }),
    });
    const ran: string[] = [];
    await assert.rejects(
      generateText({
        model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: PRICES, countTokens }) }),
        tools: guardTools(sqlTools(ran), { engine, context }),
        stopWhen: stepCountIs(20),
        prompt: 'count the users',
      }),
      (e: unknown) => {
        assert.ok(e instanceof ReinDeniedError, String(e));
        assert.equal(e.decision.effect, 'deny');
        assert.equal(e.decision.reasons[0]?.name, 'session_model_spend');
        assert.equal(e.decision.budgets.find((b) => b.name === 'session_model_spend')?.spent, '0.050000');
        return true;
      },
    );
    assert.equal(model.doGenerateCalls.length, 4);
    assert.equal(ran.length, 4);
    const modelSettles = settled.filter((s) => s.usage.tokens);
    assert.deepEqual(modelSettles.map((s) => s.usage.cost.estimate), [0.0125, 0.0125, 0.0125, 0.0125]);
  });

  it('the $0.05 ceiling also stops a streamText tool loop at the exact call', async () => {
    const { engine, context } = setup();
    const ran: string[] = [];
    let i = 0;
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doStream: async () => ({
        stream: simulateReadableStream({
          chunks: [
            { type: 'tool-call', toolCallId: `c${i++}`, toolName: 'sql', input: JSON.stringify({ query: 'select 1' }) },
            { type: 'finish', finishReason: toolCalls, usage: usage(2000, 750) },
          ],
        }),
      }),
    });
    const errors: unknown[] = [];
    const r = streamText({
      model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: PRICES, countTokens }) }),
      tools: guardTools(sqlTools(ran), { engine, context }),
      stopWhen: stepCountIs(20),
      prompt: 'count the users',
      onError: ({ error }) => void errors.push(error),
    });
    await r.consumeStream();
    assert.equal(model.doStreamCalls.length, 4, 'four streamed calls; the fifth never reached the provider');
    assert.equal(ran.length, 4);
    const e = errors.find((x) => x instanceof ReinDeniedError) as ReinDeniedError | undefined;
    assert.equal(e?.decision.reasons[0]?.name, 'session_model_spend');
    assert.equal(e?.decision.budgets.find((b) => b.name === 'session_model_spend')?.spent, '0.050000');
  });

  it('the ceiling holds across concurrent runs of one session', async () => {
    const { engine, context } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      // The actual usage equals the estimate (1 prompt token, 750 output tokens): $0.007503 a call.
      doGenerate: async () => ({ content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1, 750), warnings: [] }),
    });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: PRICES, countTokens, checkOutput: false }) });
    // maxOutputTokens 750 makes each estimate $0.007503: all eight runs decide while the others are in
    // flight, and reservations let exactly six (6 × 0.007503 = $0.045018) through.
    const runs = await Promise.allSettled(Array.from({ length: 8 }, () => generateText({ model: wrapped, prompt: 'hi', maxOutputTokens: 750 })));
    const ok = runs.filter((r) => r.status === 'fulfilled').length;
    assert.equal(ok, 6);
    assert.ok(runs.every((r) => r.status === 'fulfilled' || r.reason instanceof ReinDeniedError));
    assert.equal(model.doGenerateCalls.length, 6);
    const probe = await engine.decide({ ...context, phase: 'model', model: { provider: 'x', id: 'gpt-4o' }, cost: { estimate: 0 } });
    assert.equal(probe.budgets.find((b) => b.name === 'session_model_spend')?.spent, '0.045018');
  });

  it('routes by data classification: confidential data never reaches a public model', async () => {
    const { engine, context } = setup('confidential');
    const publicModel = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'x' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    await assert.rejects(
      generateText({ model: wrapLanguageModel({ model: publicModel, middleware: reinMiddleware({ engine, context }) }), prompt: 'salary table: …' }),
      (e: unknown) => e instanceof ReinDeniedError && /may not see confidential data/.test(e.message) && e.decision.reasons[0]?.name === 'model_not_allowed_for_data',
    );
    assert.equal(publicModel.doGenerateCalls.length, 0);
    const selfHosted = new MockLanguageModelV3({ modelId: 'acme-llm', doGenerate: { content: [{ type: 'text', text: 'summary' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    const r = await generateText({ model: wrapLanguageModel({ model: selfHosted, middleware: reinMiddleware({ engine, context }) }), prompt: 'salary table: …' });
    assert.equal(r.text, 'summary');
  });

  it('PII in the output is a warning in the decision and in the audit log; a credential is denied', async () => {
    const { engine, context, decisions, sink } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [{ type: 'text', text: 'Write to jane.doe@example.com for a refund.' }], finishReason: stop, usage: usage(10, 10), warnings: [] },
        { content: [{ type: 'text', text: 'the key is AKIAIOSFODNN7EXAMPLE' }], finishReason: stop, usage: usage(10, 10), warnings: [] },
      ],
    });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) });
    const r = await generateText({ model: wrapped, prompt: 'how do I get a refund?' });
    assert.equal(r.text, 'Write to jane.doe@example.com for a refund.');
    const out = decisions.at(-1)!;
    assert.equal(out.effect, 'allow');
    assert.deepEqual(out.warnings.map((w) => w.name), ['contact_details_in_output']);
    const lines = sink.lines.map((l) => JSON.parse(l));
    assert.ok(lines.some((rec) => JSON.stringify(rec).includes('contact_details_in_output')), 'the warning is in the audit log');
    await assert.rejects(generateText({ model: wrapped, prompt: 'what is the key?' }), (e: unknown) => e instanceof ReinDeniedError && /credential/.test(e.message));
  });

  it('streams settle on finish with the reported usage', async () => {
    const { engine, context, settled } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doStream: {
        stream: simulateReadableStream({
          chunks: [
            { type: 'text-start', id: 't' },
            { type: 'text-delta', id: 't', delta: 'Hello, ' },
            { type: 'text-delta', id: 't', delta: 'world.' },
            { type: 'text-end', id: 't' },
            { type: 'finish', finishReason: stop, usage: usage(1000, 100) },
          ],
        }),
      },
    });
    const r = streamText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: PRICES }) }), prompt: 'greet' });
    assert.equal(await r.text, 'Hello, world.');
    const s = settled.filter((x) => x.usage.tokens);
    assert.equal(s.length, 1);
    assert.deepEqual(s[0]!.usage, { tokens: { input: 1000, output: 100 }, cost: { estimate: 0.0035 } });
  });

  it('streams settle on abort with what was consumed, once', async () => {
    const { engine, context, settled } = setup();
    const deltas = Array.from({ length: 50 }, (_, i) => ({ type: 'text-delta' as const, id: 't', delta: `word${i} ` }));
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doStream: {
        stream: simulateReadableStream({
          chunks: [{ type: 'text-start', id: 't' }, ...deltas, { type: 'text-end', id: 't' }, { type: 'finish', finishReason: stop, usage: usage(1000, 500) }],
          chunkDelayInMs: 5,
        }),
      },
    });
    const ac = new AbortController();
    const r = streamText({
      model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: PRICES, countTokens }) }),
      prompt: 'write a long answer',
      abortSignal: ac.signal,
      onError: () => {},
    });
    let seen = '';
    try {
      for await (const chunk of r.textStream) {
        seen += chunk;
        if (seen.length > 30) ac.abort();
      }
    } catch {
      /* aborted */
    }
    // Settlement happens from the abort listener; give it a turn.
    for (let i = 0; i < 400 && settled.filter((x) => x.usage.tokens).length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    const s = settled.filter((x) => x.usage.tokens);
    assert.equal(s.length, 1, 'settled exactly once');
    const out = s[0]!.usage.tokens.output;
    assert.ok(out > 0 && out < 500, `consumed output tokens ${out} are counted, not the full 500`);
    assert.equal(s[0]!.usage.tokens.input, countTokens('write a long answer'));
  });

  it('streams settle on a provider error with what was consumed, and the error reaches the caller', async () => {
    const { engine, context, settled } = setup();
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doStream: {
        stream: (() => {
          const parts = [{ type: 'text-start' as const, id: 't' }, { type: 'text-delta' as const, id: 't', delta: 'partial answer' }];
          return new ReadableStream({
            pull(c) {
              const p = parts.shift();
              if (p) c.enqueue(p);
              else c.error(new Error('connection reset'));
            },
          });
        })(),
      },
    });
    const r = streamText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, countTokens }) }), prompt: 'hi', onError: () => {} });
    let thrown: unknown;
    try {
      for await (const _ of r.fullStream);
    } catch (e) {
      thrown = e;
    }
    assert.match(String(thrown), /connection reset/);
    const s = settled.filter((x) => x.usage.tokens);
    assert.equal(s.length, 1);
    assert.deepEqual(s[0]!.usage.tokens, { input: countTokens('hi'), output: countTokens('partial answer') });
  });

  it('a denied call throws ReinDeniedError before the provider is reached (streaming too)', async () => {
    const { engine, context } = setup('confidential');
    const model = new MockLanguageModelV3({ modelId: 'gpt-4o', doStream: { stream: simulateReadableStream({ chunks: [] }) } });
    const errors: unknown[] = [];
    const r = streamText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) }), prompt: 'x', onError: ({ error }) => void errors.push(error) });
    await r.consumeStream();
    assert.ok(errors[0] instanceof ReinDeniedError);
    assert.equal(model.doStreamCalls.length, 0);
  });

  it('monitor mode asks no one: a tool a rule holds for approval runs, its decision records would_effect (review h12r1 P7)', async () => {
    const decisions: Decision[] = [];
    const engine = new Engine(policy, { store: new MemoryBudgetStore(), mode: 'monitor', onDecision: (d) => void decisions.push(d) });
    const context = { agent: { id: 'a1', team: 'support' }, session: { id: 's1' }, data: { classification: 'public' } };
    const refunds: number[] = [];
    const tools = guardTools(
      {
        refund: refundTool(refunds),
      },
      { engine, context },
    );
    const model = refundingModel();
    const r = await generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) }), tools, stopWhen: stepCountIs(5), prompt: 'refund $30' });
    assert.equal(r.content.find((p) => p.type === 'tool-approval-request'), undefined, 'no approval asked in monitor mode');
    assert.deepEqual(refunds, [30]);
    const toolDecision = decisions.find((d) => d.would_effect === 'require_approval');
    assert.ok(toolDecision, 'the tool decision records what enforce mode would have done');
    assert.equal(toolDecision.effect, 'allow');
  });

  it('an approval rule that calls an asynchronous extern still asks through the SDK (review h12r1 P11)', async () => {
    const p = compile(
      {
        'p.rein': `policy p { default allow  on error deny }
input { phase: string, tool?: { name: string, input: map<any> } }
extern def risky(amount: any): bool
rule risky_refund {
  when phase == "tool" and tool.name == "refund" and risky(tool.input.amount)
  require approval from "lead" "a risky refund needs a person"
}`,
      },
      { externs: { risky: async (a: unknown) => Number(a) > 10 } } as never,
    );
    const engine = new Engine(p, { store: new MemoryBudgetStore() });
    const refunds: number[] = [];
    const tools = guardTools(
      {
        refund: refundTool(refunds),
      },
      { engine },
    );
    const model = refundingModel();
    const first = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'refund $30' });
    const req = first.content.find((x) => x.type === 'tool-approval-request');
    assert.ok(req, 'the SDK asks for approval');
    assert.deepEqual(refunds, []);
    const second = await generateText({
      model,
      tools,
      stopWhen: stepCountIs(5),
      messages: [
        { role: 'user', content: 'refund $30' },
        ...first.response.messages,
        { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: (req as { approvalId: string }).approvalId, approved: true }] },
      ],
    });
    assert.deepEqual(refunds, [30]);
    assert.equal(second.text, 'refunded');
  });

  it('require_approval on a tool uses the SDK tool-approval flow; execute runs only after approval', async () => {
    const { engine, context, decisions } = setup();
    const refunds: number[] = [];
    const tools = guardTools(
      {
        refund: refundTool(refunds),
      },
      { engine, context },
    );
    const model = refundingModel();
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) });
    const first = await generateText({ model: wrapped, tools, stopWhen: stepCountIs(5), prompt: 'refund $30' });
    assert.deepEqual(refunds, []);
    const req = first.content.find((p) => p.type === 'tool-approval-request');
    assert.ok(req, 'the SDK asks for approval');
    const second = await generateText({
      model: wrapped,
      tools,
      stopWhen: stepCountIs(5),
      messages: [
        { role: 'user', content: 'refund $30' },
        ...first.response.messages,
        { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: (req as { approvalId: string }).approvalId, approved: true }] },
      ],
    });
    assert.deepEqual(refunds, [30]);
    assert.equal(second.text, 'refunded');
    // In execute: the policy asks for approval, and the decision with the SDK's approval granted allows.
    const asked = decisions.findIndex((d) => d.effect === 'require_approval');
    assert.ok(asked >= 0);
    assert.equal(decisions[asked]!.approvals[0]?.name, 'refund_needs_approval');
    assert.equal(decisions[asked + 1]!.effect, 'allow');
  });

  it('a tool with its own needsApproval: one approval answers both the tool and the policy', async () => {
    const { engine, context } = setup();
    const refunds: number[] = [];
    const tools = guardTools(
      {
        refund: tool({
          inputSchema: jsonSchema<{ amount: number }>({ type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] }),
          needsApproval: true,
          execute: async ({ amount }) => {
            refunds.push(amount);
            return { ok: true };
          },
        }),
      },
      { engine, context },
    );
    const model = refundingModel();
    const first = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'refund $30' });
    const req = first.content.find((p) => p.type === 'tool-approval-request') as { approvalId: string };
    const second = await generateText({
      model,
      tools,
      stopWhen: stepCountIs(5),
      messages: [{ role: 'user', content: 'refund $30' }, ...first.response.messages, { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: req.approvalId, approved: true }] }],
    });
    assert.deepEqual(refunds, [30]);
    assert.equal(second.text, 'refunded');
  });

  it('a tool approval is bound to the request it was asked for: a tampered input in the history never runs', async () => {
    const { engine, context } = setup();
    const refunds: number[] = [];
    const tools = guardTools(
      {
        refund: refundTool(refunds),
      },
      { engine, context },
    );
    const secret = 'a-server-side-secret-of-32-bytes!!';
    const model = refundingModel();
    const first = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'refund $30', experimental_toolApprovalSecret: secret });
    const req = first.content.find((p) => p.type === 'tool-approval-request') as { approvalId: string };
    assert.ok(req);
    // The client approves, but sends the history back with the amount changed to $5,000.
    const tampered = JSON.parse(JSON.stringify(first.response.messages).replace('"amount":30', '"amount":5000'));
    await assert.rejects(
      generateText({
        model,
        tools,
        stopWhen: stepCountIs(5),
        experimental_toolApprovalSecret: secret,
        messages: [{ role: 'user', content: 'refund $30' }, ...tampered, { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: req.approvalId, approved: true }] }],
      }),
      /signature/i,
    );
    assert.deepEqual(refunds, [], 'nothing ran');
    // An execute whose request differs from the one needsApproval recorded is not approved either.
    const refund = tools.refund as unknown as { needsApproval: (i: unknown, o: unknown) => Promise<boolean>; execute: (i: unknown, o: unknown) => Promise<unknown> };
    assert.equal(await refund.needsApproval({ amount: 30 }, { toolCallId: 'x1', messages: [] }), true);
    await assert.rejects(refund.execute({ amount: 5000 }, { toolCallId: 'x1', messages: [] }), (e: unknown) => e instanceof ReinDeniedError && /needs approval/.test(e.message));
    assert.deepEqual(refunds, []);
  });

  it('a failed settle keeps the paid result (generateText, streamText, tools) and goes to onSettleError', async () => {
    const { engine, context } = setup();
    engine.settle = async () => {
      throw new Error('settle: budget store failed: connection refused');
    };
    const errors: string[] = [];
    const onSettleError = (e: unknown, d: Decision) => void errors.push(`${(e as Error).message} (${d.effect})`);
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'sql', input: JSON.stringify({ query: 'select 1' }) }], finishReason: toolCalls, usage: usage(10, 10), warnings: [] },
        { content: [{ type: 'text', text: 'paid answer' }], finishReason: stop, usage: usage(10, 10), warnings: [] },
      ],
      doStream: {
        stream: simulateReadableStream({
          chunks: [
            { type: 'text-start', id: 't' },
            { type: 'text-delta', id: 't', delta: 'streamed answer' },
            { type: 'text-end', id: 't' },
            { type: 'finish', finishReason: stop, usage: usage(10, 10) },
          ],
        }),
      },
    });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, onSettleError }) });
    const ran: string[] = [];
    const r = await generateText({ model: wrapped, tools: guardTools(sqlTools(ran), { engine, context, onSettleError }), stopWhen: stepCountIs(5), prompt: 'q' });
    assert.equal(r.text, 'paid answer');
    assert.deepEqual(ran, ['select 1']);
    const s = streamText({ model: wrapped, prompt: 'q' });
    assert.equal(await s.text, 'streamed answer');
    const msg = 'settle: budget store failed: connection refused (allow)';
    assert.deepEqual(errors, [msg, msg, msg, msg], 'two model calls and a tool call of generateText, one streamText');
  });

  it('the default onSettleError warns on the console', async () => {
    const { engine, context } = setup();
    engine.settle = async () => {
      throw new Error('boom');
    };
    const model = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    const warn = console.warn;
    const seen: string[] = [];
    console.warn = (m: string) => void seen.push(m);
    try {
      assert.equal((await generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) }), prompt: 'q' })).text, 'ok');
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(seen, ["rein: settle failed; the reservation's estimate stands until it expires: boom"]);
  });

  it('an onSettleError that throws does not take the result either', async () => {
    const { engine, context } = setup();
    engine.settle = async () => {
      throw new Error('boom');
    };
    const model = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    const onSettleError = () => {
      throw new Error('the handler failed too');
    };
    const r = await generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, onSettleError }) }), prompt: 'q' });
    assert.equal(r.text, 'ok');
  });

  it('prices in the policy: without `prices`, a budget prices the tokens; both adapters settle the actual usage', async () => {
    const priced = compile({ 'priced.rein': readFileSync(join(import.meta.dirname, 'fixtures/priced.rein'), 'utf8') });
    const engine = new Engine(priced, { store: new MemoryBudgetStore() });
    const context = { session: { id: 's1' } };
    const spent = async () => (await engine.decide({ ...context, phase: 'model', model: { provider: 'x', id: 'gpt-4o' }, tokens: { input: 0, output: 0 } })).budgets[0]?.spent;
    const model = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(2000, 750), warnings: [] } });
    await generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, checkOutput: false }) }), prompt: 'q' });
    // 2,000 × $2.50/M + 750 × $10/M, from the policy's own table
    assert.equal(await spent(), '0.012500');
    const { reinModel } = await import('../../language/ai/openai-agents.js');
    const plain: AgentsModel = { getResponse: async () => ({ usage: { inputTokens: 1000, outputTokens: 1000 }, output: [] }), async *getStreamedResponse() {} };
    const agentsModel = reinModel(
      plain,
      { engine, context, model: { provider: 'openai', id: 'gpt-4o-mini' } },
    );
    await agentsModel.getResponse({ input: 'q', modelSettings: {} });
    // + 1,000 × $0.15/M + 1,000 × $0.60/M
    assert.equal(await spent(), '0.013250');
  });

  it('tool budgets settle with the cost the tool reports', async () => {
    const { engine, context, settled } = setup();
    const ran: string[] = [];
    const tools = guardTools(sqlTools(ran), { engine, context, cost: (name, input, output) => (name === 'sql' && (input as { query: string }).query === 'select 1' && (output as { rows: number }).rows === 1 ? 0.002 : undefined) });
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'sql', input: JSON.stringify({ query: 'select 1' }) }], finishReason: toolCalls, usage: usage(10, 10), warnings: [] },
        { content: [{ type: 'text', text: 'one row' }], finishReason: stop, usage: usage(10, 10), warnings: [] },
      ],
    });
    await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'q' });
    assert.deepEqual(ran, ['select 1']);
    assert.deepEqual(settled.map((s) => s.usage), [{ cost: { estimate: 0.002 } }]);
  });

  it('prices from @pydantic/genai-prices', () => {
    const price = pricesFrom(calcPrice);
    const p = price({ input: 1000, output: 500 }, { provider: 'openai.chat', id: 'gpt-4o' });
    assert.ok(typeof p === 'number' && p > 0);
    assert.equal(price({ input: 1, output: 1 }, { provider: 'nobody', id: 'no-such-model' }), null);
  });

  it('a price function that throws prices nothing: the paid result is returned, the call carries no cost (review h12r1)', async () => {
    const { engine, context, settled } = setup();
    const model = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(10, 10), warnings: [] } });
    const seen: string[] = [];
    const prices = () => {
      throw new Error('price service down');
    };
    const r = await generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices, onUnpriced: (m) => seen.push(m.id) }) }), prompt: 'q' });
    assert.equal(r.text, 'ok');
    assert.deepEqual(settled.filter((x) => x.usage.tokens).map((x) => 'cost' in x.usage), [false]);
    assert.ok(seen.length >= 2);
  });

  it("prices a model reached through the AI SDK's Gateway as the provider and model its id names", () => {
    const price = pricesFrom(calcPrice);
    const direct = price({ input: 2000, output: 1000 }, { provider: 'openai.chat', id: 'gpt-4o' });
    assert.ok(typeof direct === 'number' && direct > 0);
    assert.equal(price({ input: 2000, output: 1000 }, { provider: 'gateway', id: 'openai/gpt-4o' }), direct);
    assert.equal(price({ input: 2000, output: 1000 }, { provider: 'gateway', id: 'nobody/no-such-model' }), null);
  });

  it('a model the prices do not know carries no cost (never a silent $0): the example ceiling still fills, a bare `charge cost.estimate` fails closed', async () => {
    // The example's session ceiling ($0.05, `charge cost.estimate ?? <tokens at $30 per million>`): a
    // model genai-prices does not know (the example's self-hosted acme-llm) is stopped, not run for free.
    const { engine, context, settled } = setup();
    const requests: any[] = [];
    const decide = engine.decide.bind(engine);
    engine.decide = (r, o) => (requests.push(r), decide(r, o));
    const unpriced: string[] = [];
    const model = new MockLanguageModelV3({ provider: 'acme.chat', modelId: 'acme-llm', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1000, 500), warnings: [] } });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context, prices: pricesFrom(calcPrice), onUnpriced: (m) => unpriced.push(`${m.provider}:${m.id}`) }) });
    let allowed = 0;
    for (let i = 0; i < 20; i++) {
      try {
        await generateText({ model: wrapped, prompt: 'x'.repeat(4000), maxOutputTokens: 500 });
        allowed++;
      } catch (e) {
        assert.ok(e instanceof ReinDeniedError && /has spent its \$0.05/.test(e.message), String(e));
        break;
      }
    }
    // 1000 + 500 tokens at $30 per million = $0.045 a call: the second call would pass $0.05
    assert.equal(allowed, 1);
    assert.ok(requests.filter((r) => r.phase === 'model').every((r) => !('cost' in r)), 'no cost field on an unpriced model');
    assert.ok(settled.filter((x) => x.usage.tokens).every((x) => !('cost' in x.usage)));
    assert.ok(unpriced.length >= 2 && unpriced.every((u) => u === 'acme.chat:acme-llm'));

    // A budget that charges `cost.estimate` without a fallback: the unpriced call is a rule error, denied by `on error deny`
    const strict = compile({
      'p.rein': `policy p { default allow  on error deny  currency "USD" }
input { phase: string, model?: { provider: string, id: string }, cost?: { estimate: money } }
budget spend { limit $1 per day  charge cost.estimate  when phase == "model" }`,
    });
    const e2 = new Engine(strict, { store: new MemoryBudgetStore() });
    const m2 = new MockLanguageModelV3({ modelId: 'no-such-model', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    await assert.rejects(
      generateText({ model: wrapLanguageModel({ model: m2, middleware: reinMiddleware({ engine: e2, prices: PRICES, onUnpriced: () => {} }) }), prompt: 'q' }),
      (e: unknown) => e instanceof ReinDeniedError && e.decision.effect === 'deny' && e.decision.errors.some((x) => /charge is null/.test(x.message)),
    );
    // a priced model under the same policy is charged its price
    const m3 = new MockLanguageModelV3({ modelId: 'gpt-4o', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage: usage(1, 1), warnings: [] } });
    const r3 = await generateText({ model: wrapLanguageModel({ model: m3, middleware: reinMiddleware({ engine: e2, prices: PRICES }) }), prompt: 'q' });
    assert.equal(r3.text, 'ok');
  });
});
