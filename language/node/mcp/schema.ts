import type { Transform } from '../../runtime/transforms.js';
import { maskJoined, maskStrings, transformsAt } from '../../runtime/mask-joined.js';

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
  /// Result phase only: whether the tool failed, and its text parts (and structured content as JSON) joined with "\\n".
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

/** The text fields of a `resource_link` content block the client shows the model, in this order. */
const LINK_FIELDS = ['uri', 'name', 'title', 'description'] as const;

interface Piece {
  i: number;
  text: string;
  resource: boolean;
  structured: boolean;
  /** A `resource_link` block's field this piece is. */
  field?: (typeof LINK_FIELDS)[number];
}

/**
 * What the model reads of a CallToolResult, as pieces: its text parts, embedded text resources and
 * resource links (uri, name, title, description), in order, then its `structuredContent` as JSON text
 * when no text part already holds exactly that JSON (the spec asks servers to send both; one that
 * sends only structured content is read too).
 */
function resultPieces(result: unknown): Piece[] {
  const out: Piece[] = [];
  const content = (result as { content?: unknown } | null)?.content;
  if (Array.isArray(content)) {
    content.forEach((c, i) => {
      if (c && typeof c === 'object' && (c as { type?: unknown }).type === 'text' && typeof (c as { text?: unknown }).text === 'string') {
        out.push({ i, text: (c as { text: string }).text, resource: false, structured: false });
      } else if (c && typeof c === 'object' && (c as { type?: unknown }).type === 'resource') {
        // An embedded text resource is output the model reads too.
        const r = (c as { resource?: { text?: unknown } }).resource;
        if (r && typeof r.text === 'string') out.push({ i, text: r.text, resource: true, structured: false });
      } else if (c && typeof c === 'object' && (c as { type?: unknown }).type === 'resource_link') {
        // A link's uri, name, title and description are text the client shows the model too.
        for (const field of LINK_FIELDS) {
          const v = (c as Record<string, unknown>)[field];
          if (typeof v === 'string') out.push({ i, text: v, resource: false, structured: false, field });
        }
      }
    });
  }
  const sc = (result as { structuredContent?: unknown } | null)?.structuredContent;
  if (sc !== undefined && sc !== null) {
    const json = JSON.stringify(sc);
    if (json !== undefined && !out.some((p) => p.text === json)) out.push({ i: -1, text: json, resource: false, structured: true });
  }
  return out;
}

/** `result.text` of the result phase: the text parts (embedded text resources, resource links' text fields) joined with "\n",
 *  then the `structuredContent` as JSON when no text part holds it (`resultPieces`). */
export function resultText(result: unknown): string {
  return resultPieces(result)
    .map((p) => p.text)
    .join('\n');
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
 * A CallToolResult with the decision's transforms of `result.text` applied to the pieces it was made
 * of (`resultPieces`): a span is replaced in the text part where it starts, and the rest of a span that
 * runs into the next parts is removed from them. Its `structuredContent` is masked with the same
 * transforms: their detectors run over every string in it, each with its replacement (so the JSON
 * keeps its shape). Other transforms are ignored; without any, the result itself.
 */
export function maskResult(result: Record<string, unknown>, transforms: readonly Transform[] | undefined): Record<string, unknown> {
  const pieces = resultPieces(result);
  const masked = maskJoined(
    pieces.map((p) => ({ text: p.text, json: p.structured })),
    '\n',
    transforms,
    ['result', 'text'],
  );
  if (masked === null) return result;
  const out: Record<string, unknown> = { ...result };
  if (Array.isArray(result.content)) {
    const content = result.content.slice();
    pieces.forEach((p, k) => {
      if (p.structured || masked[k] === p.text) return;
      const c = content[p.i] as Record<string, unknown>;
      content[p.i] = p.field ? { ...c, [p.field]: masked[k] } : p.resource ? { ...c, resource: { ...(c.resource as object), text: masked[k] } } : { ...c, text: masked[k] };
    });
    out.content = content;
  }
  if (result.structuredContent !== undefined && result.structuredContent !== null) out.structuredContent = maskStrings(result.structuredContent, transformsAt(transforms, ['result', 'text']));
  return out;
}
