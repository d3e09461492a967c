// `rein/ai`: guard Vercel AI SDK agents in-process. A language-model middleware that decides before each
// model call and settles after it (also for streams, on finish, abort and error), and `guardTools`, which
// decides before each tool's `execute`. Browser-safe: no Node built-ins, and nothing from `ai` at run time
// (only its types), so the SDK stays an optional peer dependency.
import type { LanguageModelMiddleware } from 'ai';
import type { Engine } from '../runtime/engine.js';
import type { Decision } from '../runtime/decision.js';
import { applyTransforms } from '../runtime/transforms.js';
import { maskJoined } from '../runtime/mask-joined.js';
import {
  approvalsFor,
  approveViaQueue,
  charEstimate,
  contextOf,
  approvalAsked,
  maskPrompt,
  modelCallSummary,
  costOf,
  promptText,
  ReinDeniedError,
  settleOrReport,
  type PriceFunction,
  type PriceTable,
  type QueueApprovals,
  type ReinContext,
  type SettleErrorHandler,
  type TokenUsage,
} from './shared.js';

export { ReinDeniedError, pricesFrom, promptText } from './shared.js';
export type { ApprovalQueueLike, PriceFunction, PriceTable, QueueApprovals, ReinContext, SettleErrorHandler, TokenUsage } from './shared.js';

export interface ReinAiOptions {
  engine: Engine;
  /** Merged into every request; a function is called per request. */
  context?: ReinContext;
  /**
   * Counts tokens of the prompt text (and of streamed output on abort). Pass a maintained tokenizer,
   * e.g. `countTokens` from `gpt-tokenizer`. Default: ⌈characters / 4⌉, a rough estimate.
   */
  countTokens?: (text: string) => number;
  /**
   * Converts usage to money: a price table (USD per million tokens) or a function, e.g. one built on
   * `calcPrice` from `@pydantic/genai-prices` (see `pricesFrom`). Without prices, `cost.estimate` is 0
   * and the policy can price `tokens` itself; a model the prices do not know gets no `cost` at all.
   */
  prices?: PriceTable | PriceFunction;
  /**
   * Called (instead of a one-time `console.warn` per model) for a call whose model `prices` has no
   * price for: its request and settle carry no `cost` field, never a silent $0.
   */
  onUnpriced?: (model: { provider: string; id: string }) => void;
  /** Check the generated text with a second decision (`phase: "output"`). Default true. */
  checkOutput?: boolean;
  /** Called when a settle fails (see `SettleErrorHandler`). Default: `console.warn`. */
  onSettleError?: SettleErrorHandler;
  /** A model call the policy answers `require_approval` waits in the control room's queue instead of throwing. */
  approvals?: QueueApprovals;
}

interface CallState {
  model: { provider: string; id: string };
  inputTokens: number;
  decision: Decision;
  settled: boolean;
}

/**
 * The AI SDK language-model middleware: `wrapLanguageModel({ model, middleware: reinMiddleware({ engine, context }) })`.
 * Every call decides on `{ ...context, phase: "model", model, tokens, cost, prompt }` first; `deny` or
 * `require_approval` throws `ReinDeniedError` before the provider is called. It settles with the actual
 * usage (streams: on finish, abort or error, with what was consumed), then decides on the generated
 * text with `phase: "output"` (a `deny` there throws too; warnings go to the decision log).
 */
export function reinMiddleware(options: ReinAiOptions): LanguageModelMiddleware {
  const { engine } = options;
  const count = options.countTokens ?? charEstimate;
  const checkOutput = options.checkOutput ?? true;

  async function before(model: { provider: string; modelId: string }, params: { prompt: unknown; maxOutputTokens?: number; abortSignal?: AbortSignal }): Promise<CallState> {
    const m = { provider: model.provider, id: model.modelId };
    const text = promptText(params.prompt);
    const inputTokens = count(text);
    const maxOut = params.maxOutputTokens ?? 0;
    const request = {
      ...contextOf(options.context),
      phase: 'model',
      model: m,
      tokens: { input: inputTokens, output: maxOut },
      ...costOf(options.prices, { input: inputTokens, output: maxOut }, m, options.onUnpriced),
      prompt: text,
    };
    const first = await engine.decide(request);
    const { decision, note } = await approveViaQueue(engine, request, first, options.approvals, modelCallSummary, params.abortSignal);
    if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `model call to ${m.provider}:${m.id}`, note);
    return { model: m, inputTokens, decision, settled: false };
  }

  async function settle(state: CallState, usage: TokenUsage): Promise<void> {
    if (state.settled) return;
    state.settled = true;
    await settleOrReport(engine, state.decision, { tokens: usage, ...costOf(options.prices, usage, state.model, options.onUnpriced) }, options.onSettleError);
  }

  async function checkText(state: CallState, text: string): Promise<Decision | undefined> {
    if (!checkOutput || text === '') return undefined;
    const decision = await engine.decide({ ...contextOf(options.context), phase: 'output', model: state.model, text });
    if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `output of ${state.model.provider}:${state.model.id}`);
    return decision;
  }

  /** The call's parameters as the provider gets them: the prompt masked by the decision's transforms of `prompt`. */
  function sentParams<P extends { prompt: unknown }>(params: P, decision: Decision): P {
    const prompt = maskPrompt(params.prompt, decision);
    return prompt === params.prompt ? params : { ...params, prompt };
  }

  const usageOf = (u: unknown, fallbackIn: number, fallbackOut: number): TokenUsage => {
    const x = u as { inputTokens?: number | { total?: number }; outputTokens?: number | { total?: number } } | undefined;
    const num = (v: number | { total?: number } | undefined, d: number) =>
      typeof v === 'number' ? v : typeof v?.total === 'number' ? v.total : d;
    return { input: num(x?.inputTokens, fallbackIn), output: num(x?.outputTokens, fallbackOut) };
  };

  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate, params, model }) {
      const state = await before(model, params);
      const sent = sentParams(params, state.decision);
      let result: Awaited<ReturnType<typeof doGenerate>>;
      try {
        result = sent === params ? await doGenerate() : await model.doGenerate(sent);
      } catch (e) {
        // The provider failed: nothing generated; the input was (maybe) read.
        await settle(state, { input: 0, output: 0 });
        throw e;
      }
      const texts = result.content.flatMap((c) => (c.type === 'text' ? [{ text: c.text }] : []));
      const text = texts.map((t) => t.text).join('');
      await settle(state, usageOf(result.usage, state.inputTokens, count(text)));
      const out = await checkText(state, text);
      // The generated text as the caller reads it: masked by the output decision's transforms of `text`.
      const masked = out ? maskJoined(texts, '', out.transforms, ['text']) : null;
      if (masked === null) return result;
      let k = 0;
      return { ...result, content: result.content.map((c) => (c.type === 'text' ? { ...c, text: masked[k++] } : c)) };
    },
    async wrapStream({ doStream, params, model }) {
      const state = await before(model, params);
      const sent = sentParams(params, state.decision);
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = sent === params ? await doStream() : await model.doStream(sent);
      } catch (e) {
        await settle(state, { input: 0, output: 0 });
        throw e;
      }
      let text = '';
      // What was consumed so far: the input (estimated) and the output streamed up to now (counted).
      const consumed = () => settle(state, { input: state.inputTokens, output: count(text) });
      const signal = params.abortSignal;
      const onAbort = () => void consumed();
      signal?.addEventListener('abort', onAbort, { once: true });
      const reader = result.stream.getReader();
      const stream = new ReadableStream<(typeof result.stream) extends ReadableStream<infer P> ? P : never>({
        async pull(controller) {
          let r: ReadableStreamReadResult<unknown>;
          try {
            r = await reader.read();
          } catch (e) {
            signal?.removeEventListener('abort', onAbort);
            await consumed();
            controller.error(e);
            return;
          }
          if (r.done) {
            signal?.removeEventListener('abort', onAbort);
            await consumed();
            try {
              await checkText(state, text);
            } catch (e) {
              controller.error(e);
              return;
            }
            controller.close();
            return;
          }
          const part = r.value as { type: string; delta?: string; usage?: unknown; error?: unknown };
          if (part.type === 'text-delta' && typeof part.delta === 'string') text += part.delta;
          else if (part.type === 'finish') {
            await settle(state, usageOf(part.usage, state.inputTokens, count(text)));
          } else if (part.type === 'error') await consumed();
          controller.enqueue(r.value as never);
        },
        async cancel(reason) {
          signal?.removeEventListener('abort', onAbort);
          await consumed();
          await reader.cancel(reason);
        },
      });
      return { ...result, stream };
    },
  };
}

export interface GuardToolsOptions {
  engine: Engine;
  context?: ReinContext;
  /** The cost a tool reports for one call (settled into budgets); default: the estimate stands. */
  cost?: (name: string, input: unknown, output: unknown) => number | undefined;
  /** Called when a settle fails (see `SettleErrorHandler`). Default: `console.warn`. */
  onSettleError?: SettleErrorHandler;
  /**
   * Use the control room's approval queue instead of the SDK's tool approval: `execute` waits for a
   * person's verdict there (no `needsApproval` is added). For agents without a UI to answer the SDK's
   * approval requests.
   */
  approvals?: QueueApprovals;
}

type AnyTool = { execute?: (input: any, options: any) => unknown; needsApproval?: unknown; [k: string]: unknown };

/**
 * Wraps each tool's `execute`: decides on `{ ...context, phase: "tool", tool: { name, input } }`.
 * `deny` → `execute` throws `ReinDeniedError`, which the AI SDK hands to the model as a tool error it
 * can adapt to. `require_approval` → the SDK's own tool approval (`needsApproval`): the call waits for
 * the user's approval response, and `execute` then runs with the approval recorded in the decision.
 * The approval is bound to the exact request it was asked for (tool, input and context): `execute`
 * honours it only when the request it decides on has the hash `needsApproval` saw for that tool call.
 */
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function guardTools<T extends Record<string, AnyTool>>(tools: T, options: GuardToolsOptions): T {
  const { engine } = options;
  /** toolCallId → the hash of the request `needsApproval` asked a person about. */
  const asked = new Map<string, string>();
  const out: Record<string, AnyTool> = {};
  const requestOf = (name: string, input: unknown) => ({
    ...contextOf(options.context),
    phase: 'tool',
    // `tool.input` is an object in the request: any other input (a string, an array) is wrapped as `{ value }`.
    tool: { name, input: isRecord(input) ? input : { value: input } },
  });
  for (const [name, t] of Object.entries(tools)) {
    if (typeof t.execute !== 'function') {
      out[name] = t;
      continue;
    }
    const execute = t.execute.bind(t);
    const own = t.needsApproval;
    out[name] = {
      ...t,
      async needsApproval(input: unknown, opts: { toolCallId: string }) {
        const ownAsks = typeof own === 'function' ? await own(input, opts) : own === true;
        if (options.approvals) return ownAsks; // the queue is asked in `execute`
        // Rules only, no budgets reserved: the real decision is made in `execute`. Asked even when the
        // tool's own `needsApproval` says yes, so that the person's approval also answers the policy.
        const hash = approvalAsked(engine, requestOf(name, input));
        if (hash !== null) {
          asked.set(opts.toolCallId, hash);
          return true;
        }
        return ownAsks;
      },
      async execute(input: unknown, opts: { toolCallId: string; abortSignal?: AbortSignal }) {
        const request = requestOf(name, input);
        let decision = await engine.decide(request);
        let note: string | undefined;
        const approvedHash = asked.get(opts.toolCallId);
        asked.delete(opts.toolCallId);
        // The SDK runs `execute` of a call that needed approval only after the user approved it; the
        // approval counts only for the very request it was asked for.
        if (decision.effect === 'require_approval' && approvedHash !== undefined && approvedHash === decision.request_hash) {
          decision = await engine.decide(request, { approvals: approvalsFor(decision) });
        } else if (options.approvals) {
          ({ decision, note } = await approveViaQueue(engine, request, decision, options.approvals, (shown) => ({ tool: name, arguments: shown.tool.input }), opts.abortSignal));
        }
        if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `tool ${name}`, note);
        // What the tool receives: its input masked by the decision's transforms of `tool.input`.
        const sent = applyTransforms(request, decision);
        if (sent !== request) input = isRecord(input) ? sent.tool.input : (sent.tool.input as { value: unknown }).value;
        let output: unknown;
        try {
          output = await execute(input, opts);
        } catch (e) {
          await settleOrReport(engine, decision, {}, options.onSettleError);
          throw e;
        }
        const c = options.cost?.(name, input, output);
        await settleOrReport(engine, decision, c === undefined ? {} : { cost: { estimate: c } }, options.onSettleError);
        return output;
      },
    };
  }
  return out as T;
}
