// `rein/ai`: guard Vercel AI SDK agents in-process. A language-model middleware that decides before each
// model call and settles after it (also for streams, on finish, abort and error), and `guardTools`, which
// decides before each tool's `execute`. Browser-safe: no Node built-ins, and nothing from `ai` at run time
// (only its types), so the SDK stays an optional peer dependency.
import type { LanguageModelMiddleware } from 'ai';
import type { Engine } from '../runtime/engine.js';
import type { Decision } from '../runtime/decision.js';

/** What the host knows about the caller: merged into every request (agent, team, session, data classification…). */
export type ReinContext = Record<string, unknown> | (() => Record<string, unknown>);

/** Token usage of one model call. */
export interface TokenUsage {
  input: number;
  output: number;
}

/** Price of a model call in dollars, or `null` when the model is unknown. */
export type PriceFunction = (usage: TokenUsage, model: { provider: string; id: string }) => number | null;

/** USD per million tokens, by model id (`"gpt-4o"`) or `"provider:model"` (`"openai.chat:gpt-4o"`). */
export type PriceTable = Record<string, { input: number; output: number }>;

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
   * and the policy can price `tokens` itself.
   */
  prices?: PriceTable | PriceFunction;
  /** Check the generated text with a second decision (`phase: "output"`). Default true. */
  checkOutput?: boolean;
  /** Called when a settle fails (see `SettleErrorHandler`). Default: `console.warn`. */
  onSettleError?: SettleErrorHandler;
  /** A model call the policy answers `require_approval` waits in the control room's queue instead of throwing. */
  approvals?: QueueApprovals;
}

/** The control room's approval queue (`ApprovalQueue` from `rein/node`), as far as Rein uses it. */
export interface ApprovalQueueLike {
  request(decision: Decision, summary: unknown): Promise<readonly { id: string }[]>;
  wait(
    ids: string[],
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ status: string; approvals: readonly ({ rule: string; request_hash: string } | string)[] }>;
}

/** Wait for a person's verdict in the control room's queue (`rein serve`, `rein approvals`). */
export interface QueueApprovals {
  queue: ApprovalQueueLike;
  /** How long a call waits for a verdict (default 10 minutes); then it throws `ReinDeniedError`. */
  timeoutMs?: number;
}

/**
 * A `require_approval` decision put to the queue: waits for the verdict and decides again with its approvals.
 * Returns the decision to act on and, when no approval came, why (`denied`, `expired`, `timeout`). @internal
 */
export async function approveViaQueue(
  engine: Engine,
  request: unknown,
  decision: Decision,
  q: QueueApprovals | undefined,
  summary: unknown,
  signal?: AbortSignal,
): Promise<{ decision: Decision; note?: string }> {
  if (!q || decision.effect !== 'require_approval') return { decision };
  const ids = (await q.queue.request(decision, summary)).map((r) => r.id);
  if (ids.length === 0) return { decision };
  const r = await q.queue.wait(ids, { timeoutMs: q.timeoutMs ?? 600_000, signal });
  if (r.status !== 'approved') return { decision, note: `approval ${r.status}` };
  return { decision: await engine.decide(request, { approvals: r.approvals }) };
}

/**
 * What happens when a settle fails (the budget store is down, or the usage makes the request invalid):
 * the model's or tool's result is still returned (a paid call is never thrown away), the decision stands,
 * its reservation stays in place until it expires and then counts its estimate (conservative), and this
 * handler gets the error. The same in `rein/ai` and `rein/openai-agents`, for calls and streams.
 */
export type SettleErrorHandler = (error: unknown, decision: Decision) => void;

const warnSettleError: SettleErrorHandler = (error) => {
  console.warn(`rein: settle failed; the reservation's estimate stands until it expires: ${error instanceof Error ? error.message : String(error)}`);
};

/** Settles, and hands a failure to `onError` instead of throwing (see `SettleErrorHandler`). @internal */
export async function settleOrReport(engine: Engine, decision: Decision, usage: unknown, onError: SettleErrorHandler = warnSettleError): Promise<void> {
  try {
    await engine.settle(decision, usage);
  } catch (e) {
    try {
      onError(e, decision);
    } catch {
      /* a throwing handler must not take the result either */
    }
  }
}

/** A model call, tool call or output that the policy denied (or that needs an approval not given). */
export class ReinDeniedError extends Error {
  readonly decision: Decision;
  constructor(decision: Decision, what: string, note?: string) {
    const why = decision.reasons.map((r) => r.message ?? r.name).filter(Boolean).join('; ');
    const verb = decision.effect === 'require_approval' ? 'needs approval' : 'denied by policy';
    super(`${what} ${verb}${why ? `: ${why}` : ''}${note ? ` (${note})` : ''}`);
    this.name = 'ReinDeniedError';
    this.decision = decision;
  }
}

const charEstimate = (text: string): number => Math.ceil(text.length / 4);

/** A `PriceFunction` from `@pydantic/genai-prices`' `calcPrice` (pass the function; Rein does not import it). */
export function pricesFrom(
  calcPrice: (usage: Record<string, number | undefined>, modelId: string, options?: { providerId?: string }) => { total_price: number } | null,
  providerOf: (provider: string) => string | undefined = (p) => p.split('.')[0],
): PriceFunction {
  return (usage, model) => {
    try {
      const r = calcPrice({ input_tokens: usage.input, output_tokens: usage.output }, model.id, { providerId: providerOf(model.provider) });
      return r ? r.total_price : null;
    } catch {
      return null;
    }
  };
}

/** Dollars for `usage` on `model`, rounded up to the micro-dollar; 0 without prices or for an unknown model. @internal */
export function priceOf(prices: ReinAiOptions['prices'], usage: TokenUsage, model: { provider: string; id: string }): number {
  if (!prices) return 0;
  let p: number | null;
  if (typeof prices === 'function') p = prices(usage, model);
  else {
    const row = prices[`${model.provider}:${model.id}`] ?? prices[model.id];
    p = row ? (usage.input * row.input + usage.output * row.output) / 1e6 : null;
  }
  // Round up to the micro-dollar: money in Rein has 6 fractional digits.
  return p === null || !Number.isFinite(p) || p < 0 ? 0 : Math.ceil(p * 1e6 - 1e-6) / 1e6;
}

/** @internal */
export function contextOf(ctx: ReinContext | undefined): Record<string, unknown> {
  if (!ctx) return {};
  return typeof ctx === 'function' ? ctx() : ctx;
}

/** The text of a prompt (system, user, assistant and tool messages), for detectors and the token count. */
export function promptText(prompt: unknown): string {
  if (!Array.isArray(prompt)) return '';
  const out: string[] = [];
  for (const m of prompt as { content?: unknown }[]) {
    if (typeof m?.content === 'string') out.push(m.content);
    else if (Array.isArray(m?.content)) {
      for (const part of m.content as { type?: string; text?: string; output?: unknown; input?: unknown }[]) {
        if (typeof part?.text === 'string') out.push(part.text);
        else if (part?.type === 'tool-result' && part.output !== undefined) out.push(JSON.stringify(part.output));
        else if (part?.type === 'tool-call' && part.input !== undefined) out.push(typeof part.input === 'string' ? part.input : JSON.stringify(part.input));
      }
    }
  }
  return out.join('\n');
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
    const estimate = priceOf(options.prices, { input: inputTokens, output: maxOut }, m);
    const request = {
      ...contextOf(options.context),
      phase: 'model',
      model: m,
      tokens: { input: inputTokens, output: maxOut },
      cost: { estimate },
      prompt: text,
    };
    const first = await engine.decide(request);
    const summary = { ...request, prompt: text.length > 2000 ? `${text.slice(0, 2000)}…` : text };
    const { decision, note } = await approveViaQueue(engine, request, first, options.approvals, summary, params.abortSignal);
    if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `model call to ${m.provider}:${m.id}`, note);
    return { model: m, inputTokens, decision, settled: false };
  }

  async function settle(state: CallState, usage: TokenUsage): Promise<void> {
    if (state.settled) return;
    state.settled = true;
    await settleOrReport(engine, state.decision, { tokens: usage, cost: { estimate: priceOf(options.prices, usage, state.model) } }, options.onSettleError);
  }

  async function checkText(state: CallState, text: string): Promise<void> {
    if (!checkOutput || text === '') return;
    const decision = await engine.decide({ ...contextOf(options.context), phase: 'output', model: state.model, text });
    if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `output of ${state.model.provider}:${state.model.id}`);
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
      let result: Awaited<ReturnType<typeof doGenerate>>;
      try {
        result = await doGenerate();
      } catch (e) {
        // The provider failed: nothing generated; the input was (maybe) read.
        await settle(state, { input: 0, output: 0 });
        throw e;
      }
      const text = result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('');
      await settle(state, usageOf(result.usage, state.inputTokens, count(text)));
      await checkText(state, text);
      return result;
    },
    async wrapStream({ doStream, params, model }) {
      const state = await before(model, params);
      let result: Awaited<ReturnType<typeof doStream>>;
      try {
        result = await doStream();
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

/** The approvals that let `request` through: each approval the decision asks for, bound to its request hash. @internal */
export const approvalsFor = (d: Decision) => d.approvals.map((a) => ({ rule: a.name, request_hash: d.request_hash ?? '' }));

/** Rules only, no budgets reserved (for an SDK's "does this call need approval?" question). @internal */
export function evaluateRules(engine: Engine, request: unknown): Decision | null {
  const policy = engine.policy as { evaluate?: (r: unknown) => Decision };
  return typeof policy.evaluate === 'function' ? policy.evaluate(request) : null;
}

/**
 * Wraps each tool's `execute`: decides on `{ ...context, phase: "tool", tool: { name, input } }`.
 * `deny` → `execute` throws `ReinDeniedError`, which the AI SDK hands to the model as a tool error it
 * can adapt to. `require_approval` → the SDK's own tool approval (`needsApproval`): the call waits for
 * the user's approval response, and `execute` then runs with the approval recorded in the decision.
 * The approval is bound to the exact request it was asked for (tool, input and context): `execute`
 * honours it only when the request it decides on has the hash `needsApproval` saw for that tool call.
 */
export function guardTools<T extends Record<string, AnyTool>>(tools: T, options: GuardToolsOptions): T {
  const { engine } = options;
  /** toolCallId → the hash of the request `needsApproval` asked a person about. */
  const asked = new Map<string, string>();
  const out: Record<string, AnyTool> = {};
  const requestOf = (name: string, input: unknown) => ({
    ...contextOf(options.context),
    phase: 'tool',
    tool: { name, input: input && typeof input === 'object' ? input : { value: input } },
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
        if (typeof own === 'function' ? await own(input, opts) : own === true) return true;
        if (options.approvals) return false; // the queue is asked in `execute`
        // Rules only, no budgets reserved: the real decision is made in `execute`.
        const decision = evaluateRules(engine, requestOf(name, input));
        if (decision?.effect === 'require_approval' && decision.request_hash) {
          asked.set(opts.toolCallId, decision.request_hash);
          return true;
        }
        return false;
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
          ({ decision, note } = await approveViaQueue(engine, request, decision, options.approvals, { tool: name, arguments: input }, opts.abortSignal));
        }
        if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `tool ${name}`, note);
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
