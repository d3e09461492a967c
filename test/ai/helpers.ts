// The rig the SDK guard tests share: an Engine on a memory store that records every decision, audits
// each into a MemoryAuditSink, and records every settle; the request context of an agent; and the AI
// SDK's usage and finish reasons for mock models.

import type { Policy } from '../../language/runtime/compile.js';
import { Engine } from '../../language/runtime/engine.js';
import { MemoryBudgetStore } from '../../language/runtime/memory-store.js';
import { AuditLogger, MemoryAuditSink } from '../../language/audit/logger.js';
import type { Decision } from '../../language/runtime/decision.js';

export function recordingEngine(policy: Policy, classification = 'public', session = 's1') {
  const decisions: Decision[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const settled: { decision: Decision; usage: any }[] = [];
  const sink = new MemoryAuditSink();
  const hook = new AuditLogger(sink).hook();
  const engine = new Engine(policy, {
    store: new MemoryBudgetStore(),
    onDecision: (d, ctx) => {
      decisions.push(d);
      hook(d, ctx);
    },
  });
  const settle = engine.settle.bind(engine);
  engine.settle = async (d, usage) => {
    settled.push({ decision: d, usage });
    return settle(d, usage);
  };
  const context = { agent: { id: 'a1', team: 'support' }, session: { id: session }, data: { classification } };
  return { engine, decisions, settled, sink, context };
}

/** The AI SDK's (v3 provider) usage of a model call. */
export const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: output, text: output, reasoning: 0 },
});
export const stop = { unified: 'stop' as const, raw: 'stop' };
export const toolCalls = { unified: 'tool-calls' as const, raw: 'tool_calls' };
