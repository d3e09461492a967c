import { applyTransforms, type Transform } from '../../runtime/transforms.js';

// The request every `rein mcp` decision sees (INTERFACES §6), as Rein source a policy set can use
// verbatim (`schema.rein`; `rein init --template mcp` writes it), and the builder of that request.

/** The `input` declaration of an MCP policy set. Field names follow MCP's own. */
export const MCP_INPUT_SCHEMA = `// The request \`rein mcp\` sends for every decision (docs/mcp.md).

/// One decision of the MCP gateway: a tool in tools/list, a tools/call, or its result.
input {
  /// list: once per tool in tools/list; call: before forwarding; result: on the upstream's answer.
  phase: "list" | "call" | "result"
  /// --server-name, else the upstream's serverInfo.name.
  server: { name: string }
  tool: { name: string, annotations: ToolAnnotations }
  /// The call's arguments; {} in the list phase.
  arguments: map<any>
  /// From the client's initialize request.
  client: { name: string, version: string }
  /// One id per client connection.
  session: string
  /// Result phase only: whether the tool failed, and its text parts joined with "\\n".
  result?: { isError: bool, text: string }
  /// Usage the upstream reported in the result's _meta (settle only): see docs/mcp.md, Budgets.
  usage?: { cost?: money, tokens?: int }
}

/// The tool's behaviour hints, as the server declares them (hints, not guarantees).
type ToolAnnotations = {
  readOnlyHint?: bool
  destructiveHint?: bool
  idempotentHint?: bool
  openWorldHint?: bool
}
`;

export type McpPhase = 'list' | 'call' | 'result';

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** The policy input of one gateway decision. */
export interface McpRequest {
  phase: McpPhase;
  server: { name: string };
  tool: { name: string; annotations: ToolAnnotations };
  arguments: Record<string, unknown>;
  client: { name: string; version: string };
  session: string;
  result?: { isError: boolean; text: string };
}

const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

/** The four boolean hints of a tool's `annotations` (anything else, or a non-boolean hint, is dropped:
 *  a server's malformed hint must not turn every decision into the `on error` effect). */
export function annotationsOf(raw: unknown): ToolAnnotations {
  const out: ToolAnnotations = {};
  if (raw && typeof raw === 'object') {
    for (const h of HINTS) {
      const v = (raw as Record<string, unknown>)[h];
      if (typeof v === 'boolean') out[h] = v;
    }
  }
  return out;
}

/** `arguments` as a plain object (absent or not an object → {}). */
export function argumentsOf(raw: unknown): Record<string, unknown> {
  return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}

/** The text parts of a CallToolResult joined with "\n" (the `result.text` a policy reads). */
export function resultText(result: unknown): string {
  const content = (result as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const c of content) {
    if (c && typeof c === 'object' && (c as { type?: unknown }).type === 'text' && typeof (c as { text?: unknown }).text === 'string') {
      parts.push((c as { text: string }).text);
    } else if (c && typeof c === 'object' && (c as { type?: unknown }).type === 'resource') {
      // An embedded text resource is output the model reads too.
      const r = (c as { resource?: { text?: unknown } }).resource;
      if (r && typeof r.text === 'string') parts.push(r.text);
    }
  }
  return parts.join('\n');
}

/**
 * The usage an upstream reports for a call, read from the result's `_meta`: `_meta["rein/usage"]`,
 * else `_meta.usage` (an object such as `{ "cost": 0.031, "tokens": 1200 }`). Undefined when absent.
 */
export function usageOf(result: unknown): Record<string, unknown> | undefined {
  const meta = (result as { _meta?: unknown } | null)?._meta;
  if (!meta || typeof meta !== 'object') return undefined;
  const u = (meta as Record<string, unknown>)['rein/usage'] ?? (meta as Record<string, unknown>).usage;
  return u && typeof u === 'object' && !Array.isArray(u) ? (u as Record<string, unknown>) : undefined;
}

/**
 * A CallToolResult with the decision's transforms of `result.text` applied to its text parts (the
 * blocks `resultText` joins with "\n"): a span is replaced in the block where it starts, and the
 * rest of a span that runs into the next blocks is removed from them. Other transforms are ignored;
 * without any, the result itself.
 */
export function maskResult(result: Record<string, unknown>, transforms: readonly Transform[] | undefined): Record<string, unknown> {
  const ts = (transforms ?? []).filter((t) => t.path.length === 2 && t.path[0] === 'result' && t.path[1] === 'text');
  const content = result.content;
  if (ts.length === 0 || !Array.isArray(content)) return result;
  // Where each text part sits in the joined text.
  const blocks: { i: number; at: number; text: string; resource: boolean }[] = [];
  let at = 0;
  content.forEach((c, i) => {
    const o = c as { type?: unknown; text?: unknown; resource?: { text?: unknown } } | null;
    if (o && typeof o === 'object' && o.type === 'text' && typeof o.text === 'string') {
      blocks.push({ i, at, text: o.text, resource: false });
      at += o.text.length + 1;
    } else if (o && typeof o === 'object' && o.type === 'resource' && o.resource && typeof o.resource.text === 'string') {
      blocks.push({ i, at, text: o.resource.text, resource: true });
      at += o.resource.text.length + 1;
    }
  });
  const per: Transform[] = [];
  for (const t of ts) {
    for (const s of t.spans) {
      blocks.forEach((b, k) => {
        const start = Math.max(s.start, b.at) - b.at;
        const end = Math.min(s.end, b.at + b.text.length) - b.at;
        if (start < end) per.push({ ...t, path: ['blocks', k], replacement: s.start >= b.at ? t.replacement : '', spans: [{ start, end }] });
      });
    }
  }
  const masked = applyTransforms({ blocks: blocks.map((b) => b.text) }, { transforms: per }).blocks;
  const out = content.slice();
  blocks.forEach((b, k) => {
    if (masked[k] === b.text) return;
    const c = out[b.i] as Record<string, unknown>;
    out[b.i] = b.resource ? { ...c, resource: { ...(c.resource as object), text: masked[k] } } : { ...c, text: masked[k] };
  });
  return { ...result, content: out };
}
