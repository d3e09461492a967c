// `rein/openai-agents`: Rein guardrails for the OpenAI Agents SDK (`@openai/agents`), on the same engine and
// request shape as `rein/ai`. Plain objects of the SDK's guardrail shapes: nothing from the SDK is loaded
// at run time, so it stays an optional peer dependency. Browser-safe.
import type { Engine } from '../runtime/engine.js';
import type { Decision } from '../runtime/decision.js';
import { promptText, type ReinContext } from './index.js';

export interface AgentsGuardOptions {
  engine: Engine;
  /** Merged into every request; a function is called per request with the run's context value. */
  context?: Record<string, unknown> | ((runContext: unknown) => Record<string, unknown>);
  /** Counts the input's tokens (e.g. `countTokens` from `gpt-tokenizer`). Default: ⌈characters / 4⌉. */
  countTokens?: (text: string) => number;
  /** The model as the policy should see it, when the agent's `model` is a Model instance (else its name). */
  model?: { provider: string; id: string };
}

const ctxOf = (c: AgentsGuardOptions['context'], run: unknown): Record<string, unknown> =>
  !c ? {} : typeof c === 'function' ? (c as (r: unknown) => Record<string, unknown>)(run) : c;
const messageOf = (d: Decision) => d.reasons.map((r) => r.message ?? r.name).filter(Boolean).join('; ') || `effect ${d.effect}`;
const modelOf = (agent: { model?: unknown }) => ({
  provider: 'openai',
  id: typeof agent?.model === 'string' ? agent.model : ((agent?.model as { model?: string } | undefined)?.model ?? 'default'),
});
const inputText = (input: unknown) => (typeof input === 'string' ? input : promptText(input));

/**
 * An input guardrail: decides `{ ...context, phase: "model", model, tokens, cost: { estimate: 0 }, prompt }` on the
 * run's input. Not `allow` → the tripwire (`InputGuardrailTripwireTriggered`, the decision in `outputInfo`).
 * Runs blocking (`runInParallel: false`), so a denied input never reaches the model.
 */
export function reinInputGuardrail(options: AgentsGuardOptions) {
  const count = options.countTokens ?? ((t: string) => Math.ceil(t.length / 4));
  return {
    name: 'rein',
    runInParallel: false,
    async execute(args: { agent: { model?: unknown }; input: unknown; context: { context?: unknown } }) {
      const prompt = inputText(args.input);
      const decision = await options.engine.decide({
        ...ctxOf(options.context, args.context?.context),
        phase: 'model',
        model: options.model ?? modelOf(args.agent),
        tokens: { input: count(prompt), output: 0 },
        cost: { estimate: 0 },
        prompt,
      });
      if (decision.effect === 'allow') await options.engine.settle(decision, {});
      return { tripwireTriggered: decision.effect !== 'allow', outputInfo: decision };
    },
  };
}

/** An output guardrail: decides `{ ...context, phase: "output", model, text }` on the final output; `deny` → tripwire. Warnings stay in `outputInfo` and the decision log. */
export function reinOutputGuardrail(options: AgentsGuardOptions) {
  return {
    name: 'rein',
    async execute(args: { agent: { model?: unknown }; agentOutput: unknown; context: { context?: unknown } }) {
      const text = typeof args.agentOutput === 'string' ? args.agentOutput : JSON.stringify(args.agentOutput);
      const decision = await options.engine.decide({ ...ctxOf(options.context, args.context?.context), phase: 'output', model: options.model ?? modelOf(args.agent), text });
      if (decision.effect === 'allow') await options.engine.settle(decision, {});
      return { tripwireTriggered: decision.effect === 'deny', outputInfo: decision };
    },
  };
}

/**
 * A tool input guardrail (put it in a tool's `inputGuardrails`): decides `{ ...context, phase: "tool", tool: { name, input } }`.
 * `deny` or `require_approval` → `rejectContent`: the tool does not run and the model receives the policy's
 * message as the tool's result, so it can adapt.
 */
export function reinToolGuardrail(options: AgentsGuardOptions) {
  return {
    type: 'tool_input' as const,
    name: 'rein',
    async run(data: { context: { context?: unknown }; toolCall: { name: string; arguments: string } }) {
      let input: unknown;
      try {
        input = JSON.parse(data.toolCall.arguments || '{}');
      } catch {
        input = { value: data.toolCall.arguments };
      }
      const decision = await options.engine.decide({
        ...ctxOf(options.context, data.context?.context),
        phase: 'tool',
        tool: { name: data.toolCall.name, input: input && typeof input === 'object' ? input : { value: input } },
      });
      if (decision.effect === 'allow') {
        await options.engine.settle(decision, {});
        return { behavior: { type: 'allow' as const }, outputInfo: decision };
      }
      return { behavior: { type: 'rejectContent' as const, message: `denied by policy: ${messageOf(decision)}` }, outputInfo: decision };
    },
  };
}

export type { ReinContext };
