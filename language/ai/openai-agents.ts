// `rein/openai-agents`: Rein guards for the OpenAI Agents SDK (`@openai/agents`), on the same engine,
// request shape, price table and settle rules as `rein/ai`. Plain objects of the SDK's shapes (a Model,
// a ModelProvider, guardrails, tools with `needsApproval`): nothing from the SDK is loaded at run time, so
// it stays an optional peer dependency. Browser-safe.
import type { Engine } from '../runtime/engine.js';
import type { Decision } from '../runtime/decision.js';
import { applyTransforms } from '../runtime/transforms.js';
import { maskJoined, type Segment } from '../runtime/mask-joined.js';
import {
  approveViaQueue,
  charEstimate,
  approvalsFor,
  approvalAsked,
  isJson,
  maskedWhat,
  modelCallSummary,
  parsedOr,
  costOf,
  promptSlots,
  putPromptSlots,
  ReinDeniedError,
  settleOrReport,
  type PromptSlot,
  type PriceFunction,
  type PriceTable,
  type QueueApprovals,
  type ReinContext,
  type SettleErrorHandler,
  type TokenUsage,
} from './shared.js';

export interface AgentsGuardOptions {
  engine: Engine;
  /**
   * Merged into every request. A function is called per request with the run's context value
   * (`run(agent, input, { context })`); in `reinModel` and `reinModelProvider`, which the SDK calls
   * without the run's context, with `undefined`.
   */
  context?: Record<string, unknown> | ((runContext: unknown) => Record<string, unknown>);
  /** Counts the input's tokens (e.g. `countTokens` from `gpt-tokenizer`). Default: ⌈characters / 4⌉. */
  countTokens?: (text: string) => number;
  /** The model as the policy should see it, when the agent's `model` is a Model instance (else its name). */
  model?: { provider: string; id: string };
  /** Prices, as in `rein/ai`: a table (USD per million tokens) or a function such as `pricesFrom(calcPrice)`. */
  prices?: PriceTable | PriceFunction;
  /** Called (instead of a one-time `console.warn` per model) for a model `prices` has no price for: its
   *  request and settle carry no `cost` field, never a silent $0 (as in `rein/ai`). */
  onUnpriced?: (model: { provider: string; id: string }) => void;
  /** Called when a settle fails (see `SettleErrorHandler` in `rein/ai`). Default: `console.warn`. */
  onSettleError?: SettleErrorHandler;
  /**
   * The control room's approval queue (`ApprovalQueue` from `rein/node`): a model call (`reinModel`) the
   * policy answers `require_approval` waits there for a person's verdict instead of throwing. In
   * `guardTools`, tools use it instead of the SDK's interruptions.
   */
  approvals?: QueueApprovals;
  /**
   * `reinModel` only: also decide on each response's text with `phase: "output"` (not streamed
   * responses): anything but `allow` throws `ReinDeniedError`, and the policy's transforms of `text` mask the
   * response the agent reads. Default false (`reinOutputGuardrail` checks the final output).
   */
  checkOutput?: boolean;
}

export interface AgentsToolGuardOptions extends AgentsGuardOptions {
  /** The cost a tool reports for one call (settled into budgets); default: the estimate stands. */
  cost?: (name: string, input: unknown, output: unknown) => number | undefined;
}

const ctxOf = (c: AgentsGuardOptions['context'], run: unknown): Record<string, unknown> =>
  !c ? {} : typeof c === 'function' ? (c as (r: unknown) => Record<string, unknown>)(run) : c;
const messageOf = (d: Decision) => d.reasons.map((r) => r.message ?? r.name).filter(Boolean).join('; ') || `effect ${d.effect}`;
const modelOf = (agent: { model?: unknown }) => ({
  provider: 'openai',
  id: typeof agent?.model === 'string' ? agent.model : ((agent?.model as { model?: string } | undefined)?.model ?? 'default'),
});

/** Where one piece of an Agents SDK input's text comes from (item `i`). */
interface InputSlot extends Segment {
  i: number;
  kind: 'string' | 'content' | 'arguments' | 'output' | 'output-text' | 'output-json';
  /** `content`: the piece of the item's content (as `promptText` reads a message). */
  part?: PromptSlot;
}

function inputSlots(input: unknown): InputSlot[] {
  if (typeof input === 'string') return [{ i: -1, kind: 'string', text: input }];
  if (!Array.isArray(input)) return [];
  const out: InputSlot[] = [];
  (input as { content?: unknown; arguments?: unknown; output?: unknown }[]).forEach((item, i) => {
    if (!item || typeof item !== 'object') return;
    if (item.content !== undefined) {
      const parts = promptSlots([item]);
      if (parts.map((x) => x.text).join('\n')) for (const x of parts) out.push({ i, kind: 'content', part: x, text: x.text, json: x.json });
    }
    if (typeof item.arguments === 'string') out.push({ i, kind: 'arguments', text: item.arguments, json: isJson(item.arguments) });
    if (typeof item.output === 'string') out.push({ i, kind: 'output', text: item.output });
    else if (item.output && typeof item.output === 'object') {
      const o = item.output as { text?: unknown };
      if (typeof o.text === 'string') out.push({ i, kind: 'output-text', text: o.text });
      else out.push({ i, kind: 'output-json', text: JSON.stringify(item.output), json: true });
    }
  });
  return out;
}

/** The text of an Agents SDK input (a string or input items: messages, tool calls and their results). */
export function agentsInputText(input: unknown): string {
  return inputSlots(input)
    .map((s) => s.text)
    .join('\n');
}

/** A copy of an Agents SDK input with the texts of `slots` replaced by `masked` (the input itself when none changed). */
function putInputSlots(input: unknown, slots: readonly InputSlot[], masked: readonly string[]): unknown {
  if (slots.every((s, k) => masked[k] === s.text)) return input;
  if (typeof input === 'string') return masked[0];
  const items = (input as Record<string, unknown>[]).slice();
  const byItem = new Map<number, { slots: InputSlot[]; masked: string[] }>();
  slots.forEach((s, k) => {
    let g = byItem.get(s.i);
    if (!g) byItem.set(s.i, (g = { slots: [], masked: [] }));
    g.slots.push(s);
    g.masked.push(masked[k]);
  });
  for (const [i, g] of byItem) {
    let item: Record<string, unknown> = items[i];
    const content = g.slots.flatMap((s, k) => (s.kind === 'content' ? [{ s, m: g.masked[k] }] : []));
    if (content.length > 0) {
      item = putPromptSlots([item], content.map(({ s }) => s.part!), content.map((c) => c.m))[0];
    }
    g.slots.forEach((s, k) => {
      const m = g.masked[k];
      if (m === s.text || s.kind === 'content') return;
      if (s.kind === 'arguments' || s.kind === 'output') item = { ...item, [s.kind]: m };
      else if (s.kind === 'output-text') item = { ...item, output: { ...(item.output as object), text: m } };
      else if (s.kind === 'output-json') item = { ...item, output: parsedOr(m, (t) => ({ type: 'text', text: t })) };
    });
    items[i] = item;
  }
  return items;
}

/** A decision's transforms of `path` that a guard which can only block cannot apply: the tripwire's reason. */
const unmaskable = (d: Decision, path: string): string | null => {
  const ts = (d.transforms ?? []).filter((t) => t.path[0] === path);
  return ts.length === 0 ? null : `the policy masks ${maskedWhat(ts)}, which a guardrail cannot do (it can only block)`;
};

/**
 * An input guardrail: decides `{ ...context, phase: "model", model, tokens, cost: { estimate: 0 }, prompt }` on the
 * run's input, once per run. Not `allow` → the tripwire (`InputGuardrailTripwireTriggered`, the decision in
 * `outputInfo`). Runs blocking (`runInParallel: false`), so a denied input never reaches the model. For a
 * decision and a settle on every model call (ceilings, prices), wrap the model with `reinModel`.
 */
export function reinInputGuardrail(options: AgentsGuardOptions) {
  const count = options.countTokens ?? charEstimate;
  return {
    name: 'rein',
    runInParallel: false,
    async execute(args: { agent: { model?: unknown }; input: unknown; context: { context?: unknown } }) {
      const prompt = agentsInputText(args.input);
      const decision = await options.engine.decide({
        ...ctxOf(options.context, args.context?.context),
        phase: 'model',
        model: options.model ?? modelOf(args.agent),
        tokens: { input: count(prompt), output: 0 },
        cost: { estimate: 0 },
        prompt,
      });
      // A guardrail can only block: an input the policy masks trips the wire (mask with `reinModel`).
      const cannot = unmaskable(decision, 'prompt');
      if (decision.effect === 'allow') await settleOrReport(options.engine, decision, {}, options.onSettleError);
      return { tripwireTriggered: decision.effect !== 'allow' || cannot !== null, outputInfo: cannot ? { ...decision, message: cannot } : decision };
    },
  };
}

/** An output guardrail: decides `{ ...context, phase: "output", model, text }` on the final output; anything but `allow` (`deny`, `require_approval`) → tripwire. Warnings stay in `outputInfo` and the decision log. */
export function reinOutputGuardrail(options: AgentsGuardOptions) {
  return {
    name: 'rein',
    async execute(args: { agent: { model?: unknown }; agentOutput: unknown; context: { context?: unknown } }) {
      const text = typeof args.agentOutput === 'string' ? args.agentOutput : JSON.stringify(args.agentOutput);
      const decision = await options.engine.decide({ ...ctxOf(options.context, args.context?.context), phase: 'output', model: options.model ?? modelOf(args.agent), text });
      // A guardrail can only block: anything but `allow` trips the wire — `deny`, and `require_approval`
      // too (a guardrail has no one to wait for; the output must not go out unapproved) — and so does an
      // output the policy masks (mask with `reinModel`'s `checkOutput`).
      const cannot = unmaskable(decision, 'text');
      if (decision.effect === 'allow') await settleOrReport(options.engine, decision, {}, options.onSettleError);
      return { tripwireTriggered: decision.effect !== 'allow' || cannot !== null, outputInfo: cannot ? { ...decision, message: cannot } : decision };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Model calls

/** The parts of the SDK's `Model` that Rein uses. */
export interface AgentsModel {
  getResponse(request: any): Promise<any>;
  getStreamedResponse(request: any): AsyncIterable<any>;
  getRetryAdvice?(args: any): any;
  readonly supportsPromptModelSelection?: boolean;
}

/** The response's usage, or the counted tokens where it reports none. The Agents SDK's OpenAI models
 *  turn a usage the provider did not send into zeros (`usage?.prompt_tokens ?? 0`), so a 0 beside a
 *  non-empty prompt or output means "not reported", not free (review h12r1 P12). */
const usageOf = (u: unknown, fallbackIn: number, fallbackOut: number): TokenUsage => {
  const x = u as { inputTokens?: unknown; outputTokens?: unknown } | undefined;
  const reported = (v: unknown, counted: number) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && !(v === 0 && counted > 0);
  return {
    input: reported(x?.inputTokens, fallbackIn) ? (x!.inputTokens as number) : fallbackIn,
    output: reported(x?.outputTokens, fallbackOut) ? (x!.outputTokens as number) : fallbackOut,
  };
};

/**
 * Wraps an Agents SDK `Model` so that every model call of a run (each turn of the tool loop, streamed or
 * not) decides first on `{ ...context, phase: "model", model, tokens, cost, prompt }` — the request
 * `rein/ai`'s middleware sends — and settles with the response's actual usage, priced with `prices`.
 * Not `allow` → `ReinDeniedError` before the provider is called (the run rejects with it). Streams settle on
 * `response_done`, and with what was consumed when the consumer stops early, the run is aborted, or the
 * provider errors. A provider error settles zero usage. `model` (default `{ provider: "openai", id: "default" }`)
 * names the model for the policy.
 */
export function reinModel<M extends AgentsModel>(model: M, options: AgentsGuardOptions): M {
  const { engine } = options;
  const count = options.countTokens ?? charEstimate;
  const m = options.model ?? { provider: 'openai', id: 'default' };

  async function before(request: { systemInstructions?: string; input?: unknown; modelSettings?: { maxTokens?: number }; signal?: AbortSignal }) {
    const sys = request.systemInstructions ?? '';
    const slots = inputSlots(request.input);
    const inputText = slots.map((x) => x.text).join('\n');
    const segments: Segment[] = [...(sys ? [{ text: sys }] : []), ...(inputText ? slots : [])];
    const prompt = segments.map((x) => x.text).join('\n');
    const input = count(prompt);
    const maxOut = request.modelSettings?.maxTokens ?? 0;
    const req = {
      ...ctxOf(options.context, undefined),
      phase: 'model',
      model: m,
      tokens: { input, output: maxOut },
      ...costOf(options.prices, { input, output: maxOut }, m, options.onUnpriced),
      prompt,
    };
    const { decision, note } = await approveViaQueue(engine, req, await engine.decide(req), options.approvals, modelCallSummary, request.signal);
    if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `model call to ${m.provider}:${m.id}`, note);
    // What the provider gets: the instructions and input masked by the decision's transforms of `prompt`.
    const masked = maskJoined(segments, '\n', decision.transforms, ['prompt']);
    let sent = request;
    if (masked !== null) {
      const ins = sys ? masked.slice(1) : masked;
      sent = { ...request, ...(sys ? { systemInstructions: masked[0] } : {}), ...(inputText ? { input: putInputSlots(request.input, slots, ins) } : {}) };
    }
    return { decision, input, sent };
  }

  /** `checkOutput`: the response's text decided with `phase: "output"`; the response masked by its transforms of `text`. */
  async function checkResponse<R extends { output?: unknown }>(response: R): Promise<R> {
    if (!options.checkOutput || !Array.isArray(response?.output)) return response;
    const slots = inputSlots(response.output).filter((x) => x.kind === 'content');
    const text = slots.map((x) => x.text).join('\n');
    if (text === '') return response;
    const decision = await engine.decide({ ...ctxOf(options.context, undefined), phase: 'output', model: m, text });
    if (decision.effect !== 'allow') throw new ReinDeniedError(decision, `output of ${m.provider}:${m.id}`);
    const masked = maskJoined(slots, '\n', decision.transforms, ['text']);
    return masked === null ? response : { ...response, output: putInputSlots(response.output, slots, masked) };
  }
  const settle = (decision: Decision, usage: TokenUsage) =>
    settleOrReport(engine, decision, { tokens: usage, ...costOf(options.prices, usage, m, options.onUnpriced) }, options.onSettleError);

  const wrapped: AgentsModel = {
    get supportsPromptModelSelection() {
      return model.supportsPromptModelSelection;
    },
    async getResponse(request) {
      const { decision, input, sent } = await before(request);
      let response: { usage?: unknown; output?: unknown };
      try {
        response = await model.getResponse(sent);
      } catch (e) {
        await settle(decision, { input: 0, output: 0 });
        throw e;
      }
      const text = agentsInputText(Array.isArray(response?.output) ? response.output : []);
      await settle(decision, usageOf(response?.usage, input, count(text)));
      return checkResponse(response);
    },
    async *getStreamedResponse(request) {
      const { decision, input, sent } = await before(request);
      let text = '';
      let settled = false;
      try {
        for await (const event of model.getStreamedResponse(sent)) {
          const e = event as { type?: string; delta?: unknown; response?: { usage?: unknown } };
          if (e?.type === 'output_text_delta' && typeof e.delta === 'string') text += e.delta;
          else if (e?.type === 'response_done' && !settled) {
            settled = true;
            await settle(decision, usageOf(e.response?.usage, input, count(text)));
          }
          yield event;
        }
      } finally {
        // Early stop, abort or provider error: what was consumed (the prompt and the text streamed so far).
        if (!settled) {
          settled = true;
          await settle(decision, { input, output: count(text) });
        }
      }
    },
  };
  if (typeof model.getRetryAdvice === 'function') wrapped.getRetryAdvice = (args) => model.getRetryAdvice!(args);
  return wrapped as M;
}

/**
 * Wraps an Agents SDK `ModelProvider` (e.g. `new OpenAIProvider()`): every model it returns is a `reinModel`
 * named `{ provider, id: modelName }` (`provider` defaults to `"openai"`). Use it in a `Runner` so that agents
 * that name their model by string are guarded too: `new Runner({ modelProvider: reinModelProvider(p, guard) })`.
 */
export function reinModelProvider(
  provider: { getModel(name?: string): Promise<AgentsModel> | AgentsModel },
  options: Omit<AgentsGuardOptions, 'model'> & { provider?: string },
): { getModel(name?: string): Promise<AgentsModel> } {
  return {
    async getModel(name?: string) {
      const model = await provider.getModel(name);
      // An agent that names no model asks for '' and the provider picks its default: the policy sees
      // the model the provider picked (OpenAIProvider's models keep its name in `_model`), else 'default'
      const picked = (model as { _model?: unknown })._model;
      const id = name ? name : typeof picked === 'string' && picked !== '' ? picked : 'default';
      return reinModel(model, { ...options, model: { provider: options.provider ?? 'openai', id } });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Tools

interface ToolCallLike {
  name: string;
  callId?: string;
  arguments: string;
}
interface RunContextLike {
  context?: unknown;
  isToolApproved?(a: { toolName: string; callId: string }): boolean | undefined;
  toJSON?(): { approvals?: Record<string, { approved?: boolean | string[] }> };
}

const parseArgs = (args: string): Record<string, unknown> => {
  let input: unknown;
  try {
    input = JSON.parse(args || '{}');
  } catch {
    input = { value: args };
  }
  return input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : { value: input };
};

/**
 * Whether a person approved this very tool call through the SDK (`state.approve(item)`): a per-call
 * approval, which the SDK binds to the call's id and arguments. A sticky `alwaysApprove` does not count
 * for a call the policy requires approval for: each such call is approved on its own.
 */
function approvedThisCall(rc: RunContextLike | undefined, toolName: string, callId: string | undefined): boolean {
  if (!rc || !callId || typeof rc.isToolApproved !== 'function') return false;
  if (rc.isToolApproved({ toolName, callId }) !== true) return false;
  const approved = rc.toJSON?.().approvals?.[toolName]?.approved;
  return Array.isArray(approved) && approved.includes(callId);
}

/** A tool call's arguments (JSON text, as the model wrote them) masked by the decision's transforms of
 *  `tool.input`, or null when it masks nothing there. */
function maskedArguments(raw: string, request: { tool: { input: unknown } }, decision: Decision): string | null {
  const sent = applyTransforms(request, decision);
  if (sent === request || sent.tool.input === request.tool.input) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw || '{}');
  } catch {
    return String((sent.tool.input as { value: unknown }).value); // not JSON: masked as the raw text it was decided on
  }
  return JSON.stringify(parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? sent.tool.input : (sent.tool.input as { value: unknown }).value);
}

/** The tool guard's decide and settle, shared by `reinToolGuardrail` and `guardTools` (`masks`: the
 *  guard wraps the tools' `invoke`, which passes the masked arguments on). */
function toolGuards(options: AgentsToolGuardOptions, settleAfterOutput: boolean) {
  const { engine } = options;
  /** `${tool}\0${callId}` of calls `needsApproval` put to a person (before the SDK's answer). */
  const asked = new Set<string>();
  /** `${tool}\0${callId}` → the allowed decision, settled when the tool's output arrives. */
  const open = new Map<string, { decision: Decision; input: unknown }>();
  /** `${tool}\0${callId}` → the masked arguments the tool's `invoke` gets instead of the model's. */
  const masks = new Map<string, string>();
  const requestOf = (name: string, input: unknown, rc: RunContextLike | undefined) => ({
    ...ctxOf(options.context, rc?.context),
    phase: 'tool',
    tool: { name, input: input && typeof input === 'object' && !Array.isArray(input) ? input : { value: input } },
  });

  const input = {
    type: 'tool_input' as const,
    name: 'rein',
    async run(data: { context: RunContextLike; toolCall: ToolCallLike }) {
      const { name, callId } = data.toolCall;
      const key = `${name}\0${callId}`;
      const args = parseArgs(data.toolCall.arguments);
      const request = requestOf(name, args, data.context);
      let decision = await engine.decide(request);
      let note: string | undefined;
      if (decision.effect === 'require_approval') {
        // A per-call approval (bound by the SDK to this call's id and arguments), or a sticky one given
        // in answer to this very call's interruption.
        const sdkApproved = data.context?.isToolApproved?.({ toolName: name, callId: callId ?? '' });
        if (approvedThisCall(data.context, name, callId) || (sdkApproved === true && asked.has(key))) {
          asked.delete(key);
          decision = await engine.decide(request, { approvals: approvalsFor(decision) });
        } else if (asked.has(key) && sdkApproved === undefined) {
          // Run before the SDK asks a person (`preApprovalInputGuardrails`): let the SDK's approval flow go on.
          return { behavior: { type: 'allow' as const }, outputInfo: decision };
        } else if (options.approvals) {
          ({ decision, note } = await approveViaQueue(engine, request, decision, options.approvals, (shown) => ({ tool: name, arguments: shown.tool.input })));
        }
      }
      if (decision.effect !== 'allow') {
        const verb = decision.effect === 'require_approval' ? 'needs approval' : 'denied by policy';
        return { behavior: { type: 'rejectContent' as const, message: `${verb}: ${messageOf(decision)}${note ? ` (${note})` : ''}` }, outputInfo: decision };
      }
      const masked = maskedArguments(data.toolCall.arguments, request, decision);
      if (masked !== null) {
        // A guardrail cannot change the arguments; `guardTools` wraps `invoke`, which can. Alone, refuse.
        if (!settleAfterOutput) {
          const why = `the policy masks ${maskedWhat((decision.transforms ?? []).filter((t) => t.path[0] === 'tool'))}, which a tool input guardrail cannot do: guard the tool with \`guardTools\``;
          await settleOrReport(engine, decision, {}, options.onSettleError);
          return { behavior: { type: 'rejectContent' as const, message: `denied by policy: ${why}` }, outputInfo: decision };
        }
        masks.set(key, masked);
      }
      if (settleAfterOutput) open.set(key, { decision, input: masked === null ? args : parseArgs(masked) });
      else await settleOrReport(engine, decision, {}, options.onSettleError);
      return { behavior: { type: 'allow' as const }, outputInfo: decision };
    },
  };

  const output = {
    type: 'tool_output' as const,
    name: 'rein',
    async run(data: { toolCall: ToolCallLike; output: unknown }) {
      const key = `${data.toolCall.name}\0${data.toolCall.callId}`;
      masks.delete(key);
      const o = open.get(key);
      if (o) {
        open.delete(key);
        const c = options.cost?.(data.toolCall.name, o.input, data.output);
        await settleOrReport(engine, o.decision, c === undefined ? {} : { cost: { estimate: c } }, options.onSettleError);
      }
      return { behavior: { type: 'allow' as const } };
    },
  };

  const needsApproval = (name: string) => async (rc: RunContextLike, toolInput: unknown, callId?: string) => {
    if (options.approvals) return false; // the queue is asked in the input guardrail
    if (approvalAsked(engine, requestOf(name, toolInput, rc)) === null) return false;
    if (callId) asked.add(`${name}\0${callId}`);
    return true;
  };
  /** `invoke` with the masked arguments of the call, when the input guardrail masked any. */
  const invoke =
    (name: string, own: (rc: unknown, input: string, details?: { toolCall?: { callId?: string } }) => Promise<unknown>) =>
    (rc: unknown, input: string, details?: { toolCall?: { callId?: string } }) => {
      const key = `${name}\0${details?.toolCall?.callId}`;
      const masked = masks.get(key);
      masks.delete(key);
      return own(rc, masked ?? input, details);
    };
  return { input, output, needsApproval, invoke };
}

/**
 * A tool input guardrail (put it in a tool's `inputGuardrails`): decides `{ ...context, phase: "tool", tool: { name, input } }`.
 * `deny` → `rejectContent`: the tool does not run and the model receives `denied by policy: <message>` as the
 * tool's result, so it can adapt. `require_approval` → allowed only for a call a person approved through the
 * SDK (`needsApproval` on the tool, `state.approve(item)`), else `needs approval: <message>`. `guardTools`
 * adds this guardrail and sets `needsApproval` from the policy.
 */
export function reinToolGuardrail(options: AgentsGuardOptions) {
  return toolGuards(options, false).input;
}

type AnyAgentsTool = {
  type?: string;
  name?: string;
  needsApproval?: (runContext: any, input: any, callId?: string) => Promise<boolean>;
  inputGuardrails?: unknown[];
  outputGuardrails?: unknown[];
  [k: string]: unknown;
};

/**
 * Guards Agents SDK function tools (made with `tool()`): each gets Rein's tool input guardrail (decide on
 * `{ ...context, phase: "tool", tool: { name, input } }`; `deny` → the model gets the policy's message as the
 * result), an output guardrail that settles the call's budgets with `cost(name, input, output)` (else the
 * estimate stands), and a `needsApproval` that asks the SDK for a person's approval when the policy's rules
 * say `require_approval` (the run stops with `result.interruptions`; `result.state.approve(item)` or
 * `.reject(item)`, then `run(agent, result.state)`). The approval counts for that call only (its id and
 * arguments); the tool's own `needsApproval` still applies. Other tools are returned unchanged.
 */
export function guardTools<T extends readonly AnyAgentsTool[]>(tools: T, options: AgentsToolGuardOptions): T {
  const g = toolGuards(options, true);
  const redacts = options.engine.policy.compiled.ir?.rules.some((r) => r.redact !== undefined) ?? true;
  return tools.map((t) => {
    if (t?.type !== 'function' || typeof t.name !== 'string') return t;
    const own = t.needsApproval;
    const policyAsks = g.needsApproval(t.name);
    return {
      ...t,
      async needsApproval(rc: RunContextLike, input: unknown, callId?: string) {
        // Both run (the policy's answer is recorded for the guardrail), the tool's own first.
        const ownAsks = typeof own === 'function' ? await own(rc, input, callId) : false;
        const policy = await policyAsks(rc, input, callId);
        return ownAsks || policy;
      },
      inputGuardrails: [...(t.inputGuardrails ?? []), g.input],
      outputGuardrails: [...(t.outputGuardrails ?? []), g.output],
      // Only for a policy that masks: a wrapped `invoke` parses its arguments itself (the SDK's prepared input is keyed by the tool's own `invoke`).
      ...(redacts && typeof t.invoke === 'function' ? { invoke: g.invoke(t.name, (t.invoke as (...a: unknown[]) => Promise<unknown>).bind(t)) } : {}),
    };
  }) as unknown as T;
}

export { ReinDeniedError, pricesFrom } from './shared.js';
export type { ApprovalQueueLike, PriceFunction, PriceTable, QueueApprovals, ReinContext, SettleErrorHandler, TokenUsage } from './shared.js';
