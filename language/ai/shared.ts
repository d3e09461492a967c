// What `rein/ai` and `rein/openai-agents` share: the request's context, prices, `ReinDeniedError`, the
// settle-failure rule and the control room's approval queue. Nothing from either SDK, not even types, so
// each entry point's declarations stand without the other SDK installed. Browser-safe.
import type { Engine } from '../runtime/engine.js';
import type { Decision } from '../runtime/decision.js';
import { applyTransforms, pathText, type Transform } from '../runtime/transforms.js';
import { maskDecision } from '../runtime/mask-decision.js';
import { named } from '../errors.js';
import { ASYNC_IN_EVALUATE } from '../runtime/externs.js';
import { maskJoined, type Segment } from '../runtime/mask-joined.js';

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

/** The control room's approval queue (`ApprovalQueue` from `rein/node`), as far as Rein uses it. */
export interface ApprovalQueueLike {
  request(decision: Decision, summary: unknown, opts?: { request?: unknown; policy?: Engine['policy'] }): Promise<readonly { id: string }[]>;
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

/** What a person sees of a model call in the queue: the request, its prompt cut at 2,000 characters. @internal */
export const modelCallSummary = (request: { prompt: string }) =>
  request.prompt.length > 2000 ? { ...request, prompt: `${request.prompt.slice(0, 2000)}…` } : request;

/**
 * A `require_approval` decision put to the queue: waits for the verdict and decides again with its approvals.
 * `summary` gets the request as it would go on (masked by the decision's transforms): what a person sees
 * and the queue keeps. Returns the decision to act on and, when no approval came, why (`denied`,
 * `expired`, `timeout`). @internal
 */
export async function approveViaQueue<R>(
  engine: Engine,
  request: R,
  decision: Decision,
  q: QueueApprovals | undefined,
  summary: (shown: R) => unknown,
  signal?: AbortSignal,
): Promise<{ decision: Decision; note?: string }> {
  if (!q || decision.effect !== 'require_approval') return { decision };
  // The queue keeps nothing the policy masks: the summary and the decision's messages alike.
  // The request too, as shown: the inbox verifies it against request_hash (a masked one does not hash
  // to it and is not stored; review h12r1 P14).
  const shown = applyTransforms(request, decision);
  const ids = (await q.queue.request(maskDecision(decision, request), summary(shown), { request: shown, policy: engine.policy })).map((r) => r.id);
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
named(ReinDeniedError, 'ReinDeniedError');

/** The default token count: ⌈characters / 4⌉, a rough estimate. @internal */
export const charEstimate = (text: string): number => Math.ceil(text.length / 4);

/**
 * A `PriceFunction` from `@pydantic/genai-prices`' `calcPrice` (pass the function; Rein does not import it).
 * The provider id is the first part of the AI SDK's provider name (`openai.chat` → `openai`); a model
 * reached through the AI SDK's Gateway (`provider: "gateway"`, `modelId: "openai/gpt-4o"`) is priced
 * as the provider and model its id names (`openai`, `gpt-4o`).
 */
export function pricesFrom(
  calcPrice: (usage: Record<string, number | undefined>, modelId: string, options?: { providerId?: string }) => { total_price: number } | null,
  providerOf: (provider: string) => string | undefined = (p) => p.split('.')[0],
): PriceFunction {
  return (usage, model) => {
    try {
      let id = model.id;
      let providerId = providerOf(model.provider);
      const slash = id.indexOf('/');
      if (model.provider.split('.')[0] === 'gateway' && slash > 0) {
        providerId = id.slice(0, slash);
        id = id.slice(slash + 1);
      }
      const r = calcPrice({ input_tokens: usage.input, output_tokens: usage.output }, id, { providerId });
      return r ? r.total_price : null;
    } catch {
      return null;
    }
  };
}

/** Dollars for `usage` on `model`, rounded up to the micro-dollar; 0 without prices; null when there
 *  are prices but none for this model (see `costOf`). @internal */
export function priceOf(prices: PriceTable | PriceFunction | undefined, usage: TokenUsage, model: { provider: string; id: string }): number | null {
  if (!prices) return 0;
  let p: number | null;
  if (typeof prices === 'function') {
    try {
      p = prices(usage, model);
    } catch {
      p = null; // a price function that throws prices nothing: never a thrown-away paid result
    }
  } else {
    const row = prices[`${model.provider}:${model.id}`] ?? prices[model.id];
    p = row ? (usage.input * row.input + usage.output * row.output) / 1e6 : null;
  }
  // Round up to the micro-dollar: money in Rein has 6 fractional digits.
  return p === null || !Number.isFinite(p) || p < 0 ? null : Math.ceil(p * 1e6 - 1e-6) / 1e6;
}

const unpricedWarned = new Set<string>();

/**
 * The request's (or settle usage's) `cost` field: `{ cost: { estimate } }`; without prices, an estimate
 * of 0 (the policy prices `tokens` itself). A model the prices do not know gets **no** `cost` field —
 * never a silent $0 — so a budget's `charge cost.estimate` fails closed (`on error`) and
 * `charge cost.estimate ?? …` charges the policy's fallback; the first call of each such model warns
 * once (`onUnpriced`, default `console.warn`). @internal
 */
export function costOf(
  prices: PriceTable | PriceFunction | undefined,
  usage: TokenUsage,
  model: { provider: string; id: string },
  onUnpriced: ((model: { provider: string; id: string }) => void) | undefined,
): { cost?: { estimate: number } } {
  const estimate = priceOf(prices, usage, model);
  if (estimate !== null) return { cost: { estimate } };
  const name = `${model.provider}:${model.id}`;
  if (onUnpriced) {
    try {
      onUnpriced(model);
    } catch {
      /* a throwing handler must not take the call */
    }
  } else if (!unpricedWarned.has(name)) {
    unpricedWarned.add(name);
    console.warn(`rein: no price for model ${name}; its calls carry no \`cost\` (a budget charging \`cost.estimate\` fails closed; \`cost.estimate ?? …\` charges the fallback)`);
  }
  return {};
}

/** @internal */
export function contextOf(ctx: ReinContext | undefined): Record<string, unknown> {
  if (!ctx) return {};
  return typeof ctx === 'function' ? ctx() : ctx;
}

/** Where one piece of a prompt's text comes from (message `m`, part `p`; -1: the message's string content). */
export interface PromptSlot extends Segment {
  m: number;
  p: number;
  kind: 'content' | 'text' | 'output' | 'input';
}

/** @internal */
export const isJson = (s: string): boolean => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

/** @internal */
export function promptSlots(prompt: unknown): PromptSlot[] {
  const out: PromptSlot[] = [];
  if (!Array.isArray(prompt)) return out;
  (prompt as { content?: unknown }[]).forEach((msg, m) => {
    if (typeof msg?.content === 'string') out.push({ m, p: -1, kind: 'content', text: msg.content });
    else if (Array.isArray(msg?.content)) {
      (msg.content as { type?: string; text?: string; output?: unknown; input?: unknown }[]).forEach((part, p) => {
        if (typeof part?.text === 'string') out.push({ m, p, kind: 'text', text: part.text });
        else if (part?.type === 'tool-result' && part.output !== undefined) out.push({ m, p, kind: 'output', text: JSON.stringify(part.output), json: true });
        else if (part?.type === 'tool-call' && part.input !== undefined) {
          const text = typeof part.input === 'string' ? part.input : JSON.stringify(part.input);
          out.push({ m, p, kind: 'input', text, json: typeof part.input !== 'string' || isJson(text) });
        }
      });
    }
  });
  return out;
}

/** The text of a prompt (system, user, assistant and tool messages), for detectors and the token count. */
export function promptText(prompt: unknown): string {
  return promptSlots(prompt)
    .map((s) => s.text)
    .join('\n');
}

/** JSON text masked back to a value: the parsed text, or `fallback(text)` when masking broke its syntax. */
/** @internal */
export const parsedOr = (text: string, fallback: (t: string) => unknown): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return fallback(text);
  }
};

/**
 * The prompt with the decision's transforms of the request's `prompt` (its text, `promptText`) applied
 * to the messages it was made of: text parts, string contents, tool calls' inputs and tool results'
 * outputs (masked as JSON text, then parsed back; a result whose JSON the mask broke becomes a text
 * output). The prompt itself when nothing is masked; otherwise a copy (the original is not touched).
 * @internal
 */
export function maskPrompt<P>(prompt: P, decision: Decision, path: readonly (string | number)[] = ['prompt']): P {
  const slots = promptSlots(prompt);
  const masked = maskJoined(slots, '\n', decision.transforms, path);
  return masked === null ? prompt : putPromptSlots(prompt, slots, masked);
}

/** A copy of `prompt` with the texts of `slots` replaced by `masked` (the same prompt when none changed). @internal */
export function putPromptSlots<P>(prompt: P, slots: readonly PromptSlot[], masked: readonly string[]): P {
  if (slots.every((s, k) => masked[k] === s.text)) return prompt;
  const msgs = (prompt as unknown as Record<string, unknown>[]).slice();
  slots.forEach((s, k) => {
    if (masked[k] === s.text) return;
    const msg = { ...msgs[s.m] };
    msgs[s.m] = msg;
    if (s.kind === 'content') {
      msg.content = masked[k];
      return;
    }
    const parts = (msg.content as Record<string, unknown>[]).slice();
    msg.content = parts;
    const part = { ...parts[s.p] };
    parts[s.p] = part;
    if (s.kind === 'text') part.text = masked[k];
    else if (s.kind === 'output') part.output = parsedOr(masked[k], (t) => ({ type: 'text', value: t }));
    else part.input = typeof part.input === 'string' ? masked[k] : parsedOr(masked[k], (t) => t);
  });
  return msgs as unknown as P;
}

/** What a guard masked (rule, path, detector, span count) and could not apply, as words. @internal */
export const maskedWhat = (ts: readonly Transform[]): string =>
  ts.map((t) => `\`${pathText(t.path)}\` (${t.detector ?? 'whole string'}, rule ${t.rule})`).filter((x, i, a) => a.indexOf(x) === i).join(', ');

/** The approvals that let `request` through: each approval the decision asks for, bound to its request hash. @internal */
export const approvalsFor = (d: Decision) => d.approvals.map((a) => ({ rule: a.name, request_hash: d.request_hash ?? '' }));

/**
 * The SDK's "does this call need approval?" question, answered from the rules only (no budgets
 * reserved): the request hash to ask a person about, or null. Null in monitor mode: nothing is
 * enforced, so the policy never asks anyone (the decision `execute` makes records `would_effect`).
 * `policy.evaluate` cannot await an asynchronous extern: an approval rule that failed only for that
 * reason is taken as asking (the decision in `execute`, which awaits it, has the last word; review
 * h12r1 P11), rather than never asking and failing the call with "needs approval". @internal
 */
export function approvalAsked(engine: Engine, request: unknown): string | null {
  if (engine.mode === 'monitor') return null;
  const policy = engine.policy as { evaluate?: (r: unknown) => Decision; compiled?: { ir?: { rules?: { name: string; effect: string }[] } } };
  if (typeof policy.evaluate !== 'function') return null;
  const d = policy.evaluate(request);
  const hash = d.request_hash;
  if (!hash) return null;
  if (d.effect === 'require_approval') return hash;
  const rules = policy.compiled?.ir?.rules;
  if (rules && d.errors.some((e) => e.kind === 'rule' && e.message.endsWith(ASYNC_IN_EVALUATE) && rules.some((r) => r.name === e.name && r.effect === 'require_approval'))) return hash;
  return null;
}

