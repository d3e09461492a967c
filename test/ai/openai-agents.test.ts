// rein/openai-agents with the real OpenAI Agents SDK runner on the SDK's own test double (ScriptedModel from
// @openai/agents/testing; no network: tracing off): model calls decided and settled per turn, tool guards,
// approvals through the SDK's interruptions, streams, and the settle-failure rule shared with rein/ai.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Agent,
  run,
  tool,
  Usage,
  RunState,
  setTracingDisabled,
  InputGuardrailTripwireTriggered,
  OutputGuardrailTripwireTriggered,
} from '@openai/agents';
import { ScriptedModel, functionCall, assistantMessage, modelStream, modelError } from '@openai/agents/testing';
import { compile } from '../../language/policy.js';
import { recordingEngine } from './helpers.js';
import type { Decision } from '../../language/runtime/decision.js';
import { ReinDeniedError } from '../../language/ai/index.js';
import { reinInputGuardrail, reinOutputGuardrail, reinToolGuardrail, reinModel, reinModelProvider, guardTools, agentsInputText } from '../../language/ai/openai-agents.js';

setTracingDisabled(true);
const DIR = join(import.meta.dirname, '../../examples/ai-sdk-agent');
const policy = compile(Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.rein')).map((f) => [f, readFileSync(join(DIR, f), 'utf8')])));
const PRICES = { 'gpt-4o': { input: 2.5, output: 10 } };
const GPT4O = { provider: 'openai', id: 'gpt-4o' };

const usage = (input: number, output: number) => new Usage({ requests: 1, inputTokens: input, outputTokens: output, totalTokens: input + output });
const turn = (output: unknown[], input = 10, out = 10) => ({ usage: usage(input, out), output: output as never });
const call = (name: string, args: Record<string, unknown>, callId: string) => functionCall(name, args, { callId });

const setup = (classification = 'public', session = 's1') => recordingEngine(policy, classification, session);

function sqlTool(ran: string[]) {
  return tool({
    name: 'sql',
    description: 'run SQL',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
    strict: true,
    execute: async (input: unknown) => {
      ran.push((input as { query: string }).query);
      return 'rows: 1';
    },
  });
}
function refundTool(refunds: number[]) {
  return tool({
    name: 'refund',
    description: 'refund an order',
    parameters: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'], additionalProperties: false },
    strict: true,
    execute: async (input: unknown) => {
      refunds.push((input as { amount: number }).amount);
      return `refunded ${(input as { amount: number }).amount}`;
    },
  });
}
const modelRequests = (m: ScriptedModel) => m.calls.map((c) => JSON.stringify(c.request.input));

describe('rein/openai-agents: OpenAI Agents SDK guards', () => {
  it('a multi-step tool loop: the denied tool call is rejected with the policy message, the model adapts', async () => {
    const { engine, context } = setup();
    const ran: string[] = [];
    const model = new ScriptedModel([turn([call('sql', { query: 'select 1' }, 'c1')]), turn([call('sql', { query: 'DROP TABLE users' }, 'c2')]), turn([assistantMessage('done without dropping')])]);
    const agent = new Agent({ name: 'db', instructions: 'help', model: reinModel(model, { engine, context, model: GPT4O }), tools: guardTools([sqlTool(ran)], { engine, context }) });
    const result = await run(agent, 'clean up');
    assert.deepEqual(ran, ['select 1']);
    assert.equal(result.finalOutput, 'done without dropping');
    assert.match(modelRequests(model)[2]!, /denied by policy: destructive SQL is not allowed/);
  });

  it('reinToolGuardrail alone: deny → rejectContent with the policy message', async () => {
    const { engine, context } = setup();
    const ran: string[] = [];
    const sql = tool({ ...sqlToolOptions(ran), inputGuardrails: [reinToolGuardrail({ engine, context })] });
    const model = new ScriptedModel([turn([call('sql', { query: 'DROP TABLE users' }, 'c1')]), turn([assistantMessage('ok')])]);
    await run(new Agent({ name: 'db', model, tools: [sql] }), 'drop it');
    assert.deepEqual(ran, []);
    assert.match(modelRequests(model)[1]!, /denied by policy: destructive SQL is not allowed/);
  });

  it('a $0.05 ceiling stops the loop at the exact model call, settled with the actual usage priced like rein/ai', async () => {
    const { engine, context, settled } = setup();
    const ran: string[] = [];
    // Each turn costs 2,000 × $2.50/M + 750 × $10/M = $0.0125 (actual usage): four turns reach $0.05, the fifth is refused.
    const model = new ScriptedModel(Array.from({ length: 6 }, (_, i) => turn([call('sql', { query: 'select 1' }, `c${i}`)], 2000, 750)));
    const agent = new Agent({ name: 'db', model: reinModel(model, { engine, context, model: GPT4O, prices: PRICES }), tools: guardTools([sqlTool(ran)], { engine, context }) });
    await assert.rejects(run(agent, 'count the users', { maxTurns: 20 }), (e: unknown) => {
      assert.ok(e instanceof ReinDeniedError, String(e));
      assert.equal(e.decision.reasons[0]?.name, 'session_model_spend');
      assert.equal(e.decision.budgets.find((b) => b.name === 'session_model_spend')?.spent, '0.050000');
      return true;
    });
    assert.equal(model.calls.length, 4, 'the provider saw four calls, not the fifth');
    assert.equal(ran.length, 4);
    const modelSettles = settled.filter((s) => s.usage.tokens);
    assert.deepEqual(
      modelSettles.map((s) => s.usage),
      Array.from({ length: 4 }, () => ({ tokens: { input: 2000, output: 750 }, cost: { estimate: 0.0125 } })),
    );
  });

  it('the ceiling holds across concurrent runs of one session', async () => {
    const { engine, context } = setup();
    // maxTokens 750 makes each estimate (prompt "hi" ≈ 1 token + 750 output) $0.007503; reservations let six through.
    const model = new ScriptedModel(Array.from({ length: 8 }, () => turn([assistantMessage('ok')], 1, 750)));
    const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O, prices: PRICES, countTokens: () => 1 }), modelSettings: { maxTokens: 750 } });
    const runs = await Promise.allSettled(Array.from({ length: 8 }, () => run(agent, 'hi')));
    assert.equal(runs.filter((r) => r.status === 'fulfilled').length, 6);
    assert.ok(runs.every((r) => r.status === 'fulfilled' || r.reason instanceof ReinDeniedError));
    assert.equal(model.calls.length, 6);
  });

  it('model routing by data classification on every call: confidential data never reaches a public model', async () => {
    const { engine, context } = setup('confidential');
    const publicModel = new ScriptedModel([turn([assistantMessage('x')])]);
    await assert.rejects(
      run(new Agent({ name: 'a', model: reinModel(publicModel, { engine, context, model: GPT4O }) }), 'salary table'),
      (e: unknown) => e instanceof ReinDeniedError && /may not see confidential data/.test(e.message),
    );
    assert.equal(publicModel.calls.length, 0);
    const selfHosted = new ScriptedModel([turn([assistantMessage('summary')])]);
    const ok = await run(new Agent({ name: 'a', model: reinModel(selfHosted, { engine, context, model: { provider: 'acme', id: 'acme-llm' } }) }), 'salary table');
    assert.equal(ok.finalOutput, 'summary');
  });

  it('reinModelProvider names each model by the agent\'s model string', async () => {
    const { engine, context } = setup('confidential');
    const scripted = new ScriptedModel([turn([assistantMessage('summary')])]);
    const provider = reinModelProvider({ getModel: () => scripted }, { engine, context });
    assert.ok(await provider.getModel('acme-llm'));
    const { Runner } = await import('@openai/agents');
    const runner = new Runner({ modelProvider: provider });
    const denied = await runner.run(new Agent({ name: 'a', model: 'gpt-4o' }), 'salary table').catch((e: unknown) => e);
    assert.ok(denied instanceof ReinDeniedError && /model `gpt-4o` may not see confidential data/.test(denied.message));
    const ok = await runner.run(new Agent({ name: 'a', model: 'acme-llm' }), 'salary table');
    assert.equal(ok.finalOutput, 'summary');
  });

  it('reinModelProvider: an agent that names no model is decided as the model the provider picks (review h12r1: was id "")', async () => {
    const { engine, context } = setup('confidential');
    const requests: any[] = [];
    const decide = engine.decide.bind(engine);
    engine.decide = (r, o) => (requests.push(r), decide(r, o));
    const { Runner, OpenAIProvider } = await import('@openai/agents');
    // OpenAIProvider's model for '' is its default; nothing is sent (the policy denies it first)
    const real = new OpenAIProvider({ apiKey: 'sk-test-not-used' });
    const picked = ((await real.getModel('')) as unknown as { _model: string })._model;
    assert.ok(picked);
    const runner = new Runner({ modelProvider: reinModelProvider(real, { engine, context }) });
    const denied = await runner.run(new Agent({ name: 'a' }), 'salary table').catch((e: unknown) => e);
    assert.ok(denied instanceof ReinDeniedError, String(denied));
    assert.equal(requests[0].model.id, picked);
    // a provider whose models do not tell their name: 'default'
    const scripted = new ScriptedModel([turn([assistantMessage('x')])]);
    const anon = new Runner({ modelProvider: reinModelProvider({ getModel: () => scripted }, { engine, context }) });
    await anon.run(new Agent({ name: 'a' }), 'salary table').catch(() => undefined);
    assert.equal(requests.at(-1).model.id, 'default');
  });

  it('input guardrail: confidential data never reaches a public model', async () => {
    const { engine, context } = setup('confidential');
    const model = new ScriptedModel([turn([assistantMessage('x')])]);
    const agent = new Agent({ name: 'a', model, inputGuardrails: [reinInputGuardrail({ engine, context, model: GPT4O })] });
    await assert.rejects(run(agent, 'salary table'), (e: unknown) => e instanceof InputGuardrailTripwireTriggered && /may not see confidential data/.test(JSON.stringify(e.result)));
    assert.equal(model.calls.length, 0, 'blocking guardrail: the model was never called');
    const selfHosted = new ScriptedModel([turn([assistantMessage('summary')])]);
    const ok = await run(new Agent({ name: 'a', model: selfHosted, inputGuardrails: [reinInputGuardrail({ engine, context, model: { provider: 'acme', id: 'acme-llm' } })] }), 'salary table');
    assert.equal(ok.finalOutput, 'summary');
  });

  it('output guardrail: PII is a warning in the decision and the audit log; a credential trips the wire', async () => {
    const { engine, context, decisions, sink } = setup();
    const g = reinOutputGuardrail({ engine, context });
    const ok = await run(new Agent({ name: 'a', model: new ScriptedModel([turn([assistantMessage('mail jane.doe@example.com')])]), outputGuardrails: [g] }), 'hi');
    assert.equal(ok.finalOutput, 'mail jane.doe@example.com');
    assert.deepEqual(decisions.at(-1)!.warnings.map((w) => w.name), ['contact_details_in_output']);
    assert.ok(sink.lines.some((l) => l.includes('contact_details_in_output')), 'the warning is in the audit log');
    await assert.rejects(
      run(new Agent({ name: 'a', model: new ScriptedModel([turn([assistantMessage('key AKIAIOSFODNN7EXAMPLE')])]), outputGuardrails: [g] }), 'hi'),
      (e: unknown) => e instanceof OutputGuardrailTripwireTriggered,
    );
  });

  it('output guardrail: an output the policy answers require_approval trips the wire (it never goes out unapproved)', async () => {
    const { Engine } = await import('../../language/runtime/engine.js');
    const approvalPolicy = compile({
      'p.rein': `policy p { default allow  on error deny }
input { phase: string, model?: { provider: string, id: string }, text?: string }
rule personal_data_in_output {
  when phase == "output" and pii.any(text ?? "")
  require approval from "support_leads" "an answer with personal data needs a lead's approval"
}`,
    });
    const engine = new Engine(approvalPolicy);
    const decisions: Decision[] = [];
    const decide = engine.decide.bind(engine);
    engine.decide = async (r, o) => {
      const d = await decide(r, o);
      decisions.push(d);
      return d;
    };
    const g = reinOutputGuardrail({ engine });
    await assert.rejects(
      run(new Agent({ name: 'a', model: new ScriptedModel([turn([assistantMessage('Call Jane at jane.doe@example.com')])]), outputGuardrails: [g] }), 'hi'),
      (e: unknown) => e instanceof OutputGuardrailTripwireTriggered,
    );
    assert.equal(decisions.at(-1)!.effect, 'require_approval');
    const ok = await run(new Agent({ name: 'a', model: new ScriptedModel([turn([assistantMessage('no personal data here')])]), outputGuardrails: [g] }), 'hi');
    assert.equal(ok.finalOutput, 'no personal data here');
  });

  it('monitor mode asks no one: a refund a rule holds for approval runs without an interruption (review h12r1 P7)', async () => {
    const { Engine } = await import('../../language/runtime/engine.js');
    const { MemoryBudgetStore } = await import('../../language/runtime/memory-store.js');
    const decisions: Decision[] = [];
    const engine = new Engine(policy, { store: new MemoryBudgetStore(), mode: 'monitor', onDecision: (d) => void decisions.push(d) });
    const context = { agent: { id: 'a1', team: 'support' }, session: { id: 's1' }, data: { classification: 'public' } };
    const refunds: number[] = [];
    const model = new ScriptedModel([turn([call('refund', { amount: 30 }, 'r1')]), turn([assistantMessage('refunded $30')])]);
    const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }), tools: guardTools([refundTool(refunds)], { engine, context }) });
    const r = await run(agent, 'refund $30');
    assert.equal(r.interruptions.length, 0);
    assert.deepEqual(refunds, [30]);
    assert.ok(decisions.some((d) => d.effect === 'allow' && d.would_effect === 'require_approval'));
  });

  describe('approvals through the SDK\'s interruptions', () => {
    it('require_approval interrupts the run; after state.approve the tool runs once, with the approval in the decision', async () => {
      const { engine, context, decisions } = setup();
      const refunds: number[] = [];
      const model = new ScriptedModel([turn([call('refund', { amount: 30 }, 'r1')]), turn([assistantMessage('refunded $30')])]);
      const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }), tools: guardTools([refundTool(refunds)], { engine, context }) });
      const first = await run(agent, 'refund $30');
      assert.equal(first.interruptions.length, 1);
      assert.equal(first.interruptions[0]!.name, 'refund');
      assert.deepEqual(refunds, [], 'nothing ran before the approval');
      first.state.approve(first.interruptions[0]!);
      const second = await run(agent, first.state);
      assert.deepEqual(refunds, [30]);
      assert.equal(second.finalOutput, 'refunded $30');
      const i = decisions.findIndex((d) => d.effect === 'require_approval');
      assert.equal(decisions[i]!.approvals[0]?.name, 'refund_needs_approval');
      assert.equal(decisions[i + 1]!.effect, 'allow');
      assert.equal(decisions[i + 1]!.request_hash, decisions[i]!.request_hash, 'the approval is for this very request');
    });

    it('an approval for one call does not unlock another call with other arguments', async () => {
      const { engine, context } = setup();
      const refunds: number[] = [];
      const model = new ScriptedModel([
        turn([call('refund', { amount: 30 }, 'r1')]),
        turn([call('refund', { amount: 5000 }, 'r2')]),
        turn([assistantMessage('done')]),
      ]);
      const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }), tools: guardTools([refundTool(refunds)], { engine, context }) });
      const first = await run(agent, 'refund');
      first.state.approve(first.interruptions[0]!);
      const second = await run(agent, first.state);
      assert.deepEqual(refunds, [30]);
      assert.equal(second.interruptions.length, 1, 'the second refund asks again');
      assert.match(second.interruptions[0]!.arguments ?? '', /5000/);
      second.state.reject(second.interruptions[0]!);
      const third = await run(agent, second.state);
      assert.deepEqual(refunds, [30], 'the rejected call never ran');
      assert.equal(third.finalOutput, 'done');
    });

    it('alwaysApprove does not extend to the next call the policy requires approval for', async () => {
      const { engine, context } = setup();
      const refunds: number[] = [];
      const model = new ScriptedModel([
        turn([call('refund', { amount: 30 }, 'r1')]),
        turn([call('refund', { amount: 5000 }, 'r2')]),
        turn([assistantMessage('done')]),
      ]);
      const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }), tools: guardTools([refundTool(refunds)], { engine, context }) });
      const first = await run(agent, 'refund');
      first.state.approve(first.interruptions[0]!, { alwaysApprove: true });
      const second = await run(agent, first.state);
      assert.deepEqual(refunds, [30], 'the approved call ran; the $5,000 one did not');
      assert.equal(second.finalOutput, 'done');
      assert.match(modelRequests(model)[2]!, /needs approval: refunds need a lead's approval/);
    });

    it('reinToolGuardrail on a tool with its own needsApproval honours the approval given through the SDK', async () => {
      const { engine, context, decisions } = setup();
      const refunds: number[] = [];
      const refund = tool({
        name: 'refund',
        description: 'refund an order',
        parameters: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'], additionalProperties: false },
        strict: true,
        needsApproval: true,
        inputGuardrails: [reinToolGuardrail({ engine, context })],
        execute: async (input: unknown) => {
          refunds.push((input as { amount: number }).amount);
          return 'ok';
        },
      });
      const model = new ScriptedModel([turn([call('refund', { amount: 30 }, 'r1')]), turn([assistantMessage('done')])]);
      const agent = new Agent({ name: 'a', model, tools: [refund] });
      const first = await run(agent, 'refund');
      first.state.approve(first.interruptions[0]!);
      await run(agent, first.state);
      assert.deepEqual(refunds, [30]);
      assert.deepEqual(decisions.slice(-2).map((d) => d.effect), ['require_approval', 'allow']);
    });

    it('a per-call approval survives a serialized RunState (approval given in another process)', async () => {
      const { engine, context } = setup();
      const refunds: number[] = [];
      const model = new ScriptedModel([turn([call('refund', { amount: 30 }, 'r1')]), turn([assistantMessage('refunded')])]);
      const mk = () => new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }), tools: guardTools([refundTool(refunds)], { engine, context }) });
      const first = await run(mk(), 'refund');
      const saved = first.state.toString();
      // A fresh agent and fresh guards, as in the process that handles the person's answer.
      const agent = mk();
      const state = await RunState.fromString(agent, saved);
      state.approve(state.getInterruptions()[0]!);
      const second = await run(agent, state);
      assert.deepEqual(refunds, [30]);
      assert.equal(second.finalOutput, 'refunded');
    });
  });

  it('tool budgets settle with the cost the tool reports', async () => {
    const { engine, context, settled } = setup();
    const ran: string[] = [];
    const model = new ScriptedModel([turn([call('sql', { query: 'select 1' }, 'c1')]), turn([assistantMessage('ok')])]);
    const agent = new Agent({ name: 'a', model, tools: guardTools([sqlTool(ran)], { engine, context, cost: (name, input, output) => (name === 'sql' && output === 'rows: 1' && (input as { query: string }).query === 'select 1' ? 0.002 : undefined) }) });
    await run(agent, 'q');
    const toolSettles = settled.filter((s) => s.decision.request_hash && !s.usage.tokens);
    assert.deepEqual(toolSettles.map((s) => s.usage), [{ cost: { estimate: 0.002 } }]);
  });

  describe('streams', () => {
    it('a streamed run settles each model call with the usage in response_done', async () => {
      const { engine, context, settled } = setup();
      const model = new ScriptedModel([turn([assistantMessage('Hello, world.')], 1000, 100)]);
      const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O, prices: PRICES }) });
      const r = await run(agent, 'greet', { stream: true });
      for await (const _ of r);
      await r.completed;
      assert.equal(r.finalOutput, 'Hello, world.');
      assert.deepEqual(
        settled.filter((s) => s.usage.tokens).map((s) => s.usage),
        [{ tokens: { input: 1000, output: 100 }, cost: { estimate: 0.0035 } }],
      );
    });

    it('a provider that reports no usage (the SDK says 0) settles the counted tokens, not $0 (review h12r1 P12)', async () => {
      const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
      const answer = 'one two three four five six seven eight nine ten';
      for (const stream of [false, true]) {
        const { engine, context, settled } = setup();
        // what OpenAIChatCompletionsModel gives for a response without `usage`: zeros
        const model = new ScriptedModel([turn([assistantMessage(answer)], 0, 0)]);
        const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O, prices: PRICES, countTokens: words }) });
        const r = await run(agent, 'count to ten please', stream ? { stream: true } : undefined);
        if (stream) {
          for await (const _ of r as AsyncIterable<unknown>);
          await (r as { completed: Promise<void> }).completed;
        }
        const u = settled.filter((s) => s.usage.tokens).map((s) => s.usage.tokens);
        assert.equal(u.length, 1, `stream ${stream}`);
        assert.ok(u[0].input > 0, `stream ${stream}: input counted (${u[0].input})`);
        assert.equal(u[0].output, 10, `stream ${stream}: the answer's ten words`);
      }
      // a real zero beside an empty output stays zero
      const { engine, context, settled } = setup();
      const agent = new Agent({ name: 'a', model: reinModel(new ScriptedModel([turn([assistantMessage('')], 5, 0)]), { engine, context, model: GPT4O, prices: PRICES, countTokens: words }) });
      await run(agent, 'say nothing').catch(() => undefined);
      const u = settled.filter((s) => s.usage.tokens).map((s) => s.usage.tokens);
      assert.deepEqual(u, [{ input: 5, output: 0 }]);
    });

    it('an aborted stream settles once, with what was consumed', async () => {
      const { engine, context, settled } = setup();
      const ac = new AbortController();
      async function* slow() {
        yield { type: 'response_started' as const };
        for (let i = 0; i < 50; i++) {
          await new Promise((r) => setTimeout(r, 5));
          yield { type: 'output_text_delta' as const, delta: `word${i} ` };
        }
        yield { type: 'response_done' as const, response: { id: 'r', usage: { inputTokens: 1000, outputTokens: 500, totalTokens: 1500 }, output: [assistantMessage('…')] } };
      }
      const model = new ScriptedModel([modelStream(slow() as never)]);
      const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O, prices: PRICES, countTokens: (t) => t.split(' ').filter(Boolean).length }) });
      const r = await run(agent, 'write a long answer', { stream: true, signal: ac.signal });
      let seen = 0;
      try {
        for await (const e of r) {
          if (e.type === 'raw_model_stream_event' && (e.data as { type?: string }).type === 'output_text_delta' && ++seen === 5) ac.abort();
        }
        await r.completed;
      } catch {
        /* aborted */
      }
      for (let i = 0; i < 400 && settled.filter((s) => s.usage.tokens).length === 0; i++) await new Promise((res) => setTimeout(res, 5));
      const s = settled.filter((x) => x.usage.tokens);
      assert.equal(s.length, 1, 'settled exactly once');
      const out = s[0]!.usage.tokens.output;
      assert.ok(out >= 5 && out < 500, `the consumed ${out} output tokens are counted, not the 500 of a full answer`);
    });

    it('a denied streamed call rejects the run before the provider is called', async () => {
      const { engine, context } = setup('confidential');
      const model = new ScriptedModel([turn([assistantMessage('x')])]);
      const r = await run(new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }) }), 'salary table', { stream: true });
      await assert.rejects(
        (async () => {
          for await (const _ of r);
          await r.completed;
          if (r.error) throw r.error;
        })(),
        (e: unknown) => e instanceof ReinDeniedError && /may not see confidential data/.test(e.message),
      );
      assert.equal(model.calls.length, 0);
    });

    it('a provider error settles zero usage, and the error reaches the caller', async () => {
      const { engine, context, settled } = setup();
      const model = new ScriptedModel([modelError(new Error('connection reset'))]);
      const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O }) });
      await assert.rejects(run(agent, 'hi'), /connection reset/);
      assert.deepEqual(settled.filter((s) => s.usage.tokens).map((s) => s.usage.tokens), [{ input: 0, output: 0 }]);
    });
  });

  it('a failed settle keeps the model\'s result and goes to onSettleError (the same rule as rein/ai)', async () => {
    const { engine, context } = setup();
    engine.settle = async () => {
      throw new Error('settle: budget store failed: connection refused');
    };
    const errors: string[] = [];
    const onSettleError = (e: unknown, d: Decision) => void errors.push(`${(e as Error).message} (${d.effect})`);
    const model = new ScriptedModel([turn([assistantMessage('paid answer')]), turn([assistantMessage('streamed answer')])]);
    const agent = new Agent({ name: 'a', model: reinModel(model, { engine, context, model: GPT4O, onSettleError }) });
    assert.equal((await run(agent, 'hi')).finalOutput, 'paid answer');
    const r = await run(agent, 'hi', { stream: true });
    for await (const _ of r);
    await r.completed;
    assert.equal(r.finalOutput, 'streamed answer');
    assert.deepEqual(errors, ['settle: budget store failed: connection refused (allow)', 'settle: budget store failed: connection refused (allow)']);
  });

  it('agentsInputText reads messages, tool calls and tool results', () => {
    const text = agentsInputText([
      { role: 'user', content: 'hello' },
      { role: 'user', content: [{ type: 'input_text', text: 'mail me at a@b.co' }] },
      { type: 'function_call', name: 'sql', callId: 'c', arguments: '{"query":"select 1"}' },
      { type: 'function_call_result', name: 'sql', callId: 'c', output: { type: 'text', text: 'rows: 1' } },
    ]);
    assert.equal(text, 'hello\nmail me at a@b.co\n{"query":"select 1"}\nrows: 1');
  });
});

function sqlToolOptions(ran: string[]) {
  return {
    name: 'sql',
    description: 'run SQL',
    parameters: { type: 'object' as const, properties: { query: { type: 'string' as const } }, required: ['query'], additionalProperties: false as const },
    strict: true as const,
    execute: async (input: unknown) => {
      ran.push((input as { query: string }).query);
      return 'rows: 1';
    },
  };
}
