// Model calls (which no SDK can put to a person) and, on request, tools wait in the control room's approval
// queue: the real ApprovalQueue from rein/node on a file store, answered by "another process" polling it.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, wrapLanguageModel, tool, jsonSchema, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { Agent, run, Usage, setTracingDisabled } from '@openai/agents';
import { ScriptedModel, assistantMessage } from '@openai/agents/testing';
import { compile } from '../../language/policy.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { ApprovalQueue, FileApprovalStore, verifyRecord } from '../../language/node/approvals/queue.js';
import { reinMiddleware, guardTools, ReinDeniedError } from '../../language/ai/index.js';
import { reinModel } from '../../language/ai/openai-agents.js';

setTracingDisabled(true);
const policy = compile({
  'policy.rein': `policy queued {
  version "1.0.0"
  default allow
  on error deny
  currency "USD"
}

input {
  phase: "model" | "tool" | "output"
  model?: { provider: string, id: string }
  tokens?: { input: int, output: int }
  cost?: { estimate: money }
  prompt?: string
  text?: string
  tool?: { name: string, input: map<any> }
}

rule big_model_needs_ops {
  when phase == "model" and (model.id ?? "") == "o1-pro"
  require approval from "ops" "o1-pro calls need ops' approval"
}

rule refund_needs_ops {
  when phase == "tool" and tool.name == "refund"
  require approval from "ops" "refunds need ops' approval"
}

rule mask_emails_in_prompts { when phase == "model"  redact prompt using pii.email "[email]" }
rule mask_emails_in_tools   { when phase == "tool"   redact tool.input using pii.email "[email]" }
`,
});

const usage = { inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } };
const stop = { unified: 'stop' as const, raw: 'stop' };

describe('rein/ai and rein/openai-agents: approvals through the control room queue', function () {
  this.timeout(30_000);
  let dir: string;
  let queue: ApprovalQueue;
  let engine: Engine;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rein-ai-queue-'));
    queue = new ApprovalQueue({ store: new FileApprovalStore(dir), groups: { ops: ['alice'] } });
    engine = new Engine(policy, { store: new MemoryBudgetStore() });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Answers the first pending approval (bounded wait: 10 s, generous under load), as `rein approvals approve` would from another process. */
  async function answer(approved: boolean): Promise<{ rule: string; summary: unknown; verified: string }> {
    for (let i = 0; i < 1000; i++) {
      const [rec] = await queue.list();
      if (rec) {
        const out = approved ? await queue.approve(rec.id, 'alice') : await queue.deny(rec.id, 'alice', 'too expensive');
        assert.equal((out as { ok?: boolean }).ok ?? true, true, JSON.stringify(out));
        return { rule: rec.rule, summary: rec.summary, verified: verifyRecord(rec) };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no approval was requested');
  }

  it('AI SDK: a model call needing approval waits in the queue, and runs once a person approves', async () => {
    const model = new MockLanguageModelV3({ modelId: 'o1-pro', doGenerate: { content: [{ type: 'text', text: 'deep answer' }], finishReason: stop, usage, warnings: [] } });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, approvals: { queue, timeoutMs: 10_000 } }) });
    const pending = generateText({ model: wrapped, prompt: 'think hard' });
    const asked = await answer(true);
    assert.equal(asked.rule, 'big_model_needs_ops');
    assert.equal((asked.summary as { prompt: string }).prompt, 'think hard');
    // the request is stored with the record and hashes to its request_hash (review h12r1 P14)
    assert.equal(asked.verified, 'verified');
    assert.equal((await pending).text, 'deep answer');
    assert.equal(model.doGenerateCalls.length, 1);
  });

  it('AI SDK: a denied verdict throws ReinDeniedError and the provider is never called', async () => {
    const model = new MockLanguageModelV3({ modelId: 'o1-pro', doGenerate: { content: [{ type: 'text', text: 'x' }], finishReason: stop, usage, warnings: [] } });
    const wrapped = wrapLanguageModel({ model, middleware: reinMiddleware({ engine, approvals: { queue, timeoutMs: 10_000 } }) });
    const pending = generateText({ model: wrapped, prompt: 'think hard' });
    await answer(false);
    await assert.rejects(pending, (e: unknown) => e instanceof ReinDeniedError && /needs approval: o1-pro calls need ops' approval \(approval denied\)/.test(e.message));
    assert.equal(model.doGenerateCalls.length, 0);
  });

  it('what a person sees in the queue, and the queue keeps, is masked (redact): a model call and a tool call', async () => {
    const model = new MockLanguageModelV3({ modelId: 'o1-pro', doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: stop, usage, warnings: [] } });
    const pending = generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine, approvals: { queue, timeoutMs: 10_000 } }) }), prompt: 'write to bob@example.com' });
    const asked = await answer(true);
    assert.equal((asked.summary as { prompt: string }).prompt, 'write to [email]');
    // masked: the shown request is not the one hashed, so none is stored (nothing unmasked is kept)
    assert.equal(asked.verified, 'missing');
    await pending;
    assert.equal((model.doGenerateCalls[0]!.prompt[0]!.content as { text: string }[])[0]!.text, 'write to [email]');
    const notes: string[] = [];
    const tools = guardTools(
      {
        refund: tool({
          inputSchema: jsonSchema<{ amount: number; note: string }>({ type: 'object', properties: { amount: { type: 'number' }, note: { type: 'string' } }, required: ['amount', 'note'] }),
          execute: async ({ note }) => (notes.push(note), { ok: true }),
        }),
      },
      { engine, approvals: { queue, timeoutMs: 10_000 } },
    );
    const toolCall = { type: 'tool-call' as const, toolCallId: 'r1', toolName: 'refund', input: JSON.stringify({ amount: 30, note: 'for alice@example.com' }) };
    const m2 = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [toolCall], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] },
        { content: [{ type: 'text', text: 'done' }], finishReason: stop, usage, warnings: [] },
      ],
    });
    const p2 = generateText({ model: m2, tools, stopWhen: stepCountIs(3), prompt: 'refund' });
    const asked2 = await answer(true);
    assert.deepEqual(asked2.summary, { tool: 'refund', arguments: { amount: 30, note: 'for [email]' } });
    await p2;
    assert.deepEqual(notes, ['for [email]']);
    const kept = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => readFileSync(join(f.parentPath, f.name), 'utf8')).join('\n');
    assert.ok(kept.length > 0);
    assert.equal(/bob@example\.com|alice@example\.com/.test(kept), false, 'the queue keeps an address the policy masks');
  });

  it('without a queue, the model call throws at once', async () => {
    const model = new MockLanguageModelV3({ modelId: 'o1-pro', doGenerate: { content: [{ type: 'text', text: 'x' }], finishReason: stop, usage, warnings: [] } });
    await assert.rejects(generateText({ model: wrapLanguageModel({ model, middleware: reinMiddleware({ engine }) }), prompt: 'q' }), ReinDeniedError);
    assert.deepEqual(await queue.list(), []);
  });

  it('AI SDK: guardTools with `approvals` waits in the queue instead of the SDK approval flow', async () => {
    const refunds: number[] = [];
    const tools = guardTools(
      {
        refund: tool({
          inputSchema: jsonSchema<{ amount: number }>({ type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] }),
          execute: async ({ amount }) => {
            refunds.push(amount);
            return { ok: true };
          },
        }),
      },
      { engine, approvals: { queue, timeoutMs: 10_000 } },
    );
    const model = new MockLanguageModelV3({
      modelId: 'gpt-4o',
      doGenerate: [
        { content: [{ type: 'tool-call', toolCallId: 'r1', toolName: 'refund', input: JSON.stringify({ amount: 30 }) }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] },
        { content: [{ type: 'text', text: 'refunded' }], finishReason: stop, usage, warnings: [] },
      ],
    });
    const pending = generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'refund $30' });
    const asked = await answer(true);
    assert.deepEqual(asked.summary, { tool: 'refund', arguments: { amount: 30 } });
    const r = await pending;
    assert.deepEqual(refunds, [30]);
    assert.equal(r.text, 'refunded');
    assert.ok(!r.content.some((p) => p.type === 'tool-approval-request'), 'the SDK approval flow was not used');
  });

  it('Agents SDK: reinModel waits in the queue for a model call needing approval', async () => {
    const scripted = new ScriptedModel([{ usage: new Usage({ requests: 1, inputTokens: 5, outputTokens: 5, totalTokens: 10 }), output: [assistantMessage('deep answer')] }]);
    const agent = new Agent({ name: 'a', model: reinModel(scripted, { engine, model: { provider: 'openai', id: 'o1-pro' }, approvals: { queue, timeoutMs: 10_000 } }) });
    const pending = run(agent, 'think hard');
    assert.equal((await answer(true)).rule, 'big_model_needs_ops');
    assert.equal((await pending).finalOutput, 'deep answer');
  });
});
