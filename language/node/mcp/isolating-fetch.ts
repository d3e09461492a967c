// The fetch the remote gateway gives the MCP SDK's StreamableHTTPClientTransport (its upstream side).
//
// 1. Every request gets its own abort signal. The transport passes one long-lived AbortSignal (its
//    session's) to every fetch. Node's fetch (undici) adds an `abort` listener to that signal for each
//    Request and removes it only when the Request is garbage-collected (a FinalizationRegistry), so on
//    a busy session listeners pile up between major GCs: after ~1,500 calls Node prints
//    `MaxListenersExceededWarning: … 1501 abort listeners added to [AbortSignal]`, and each listener
//    keeps its request alive until then. Any SDK client on a long session does the same.
//    Here each request gets a private AbortController, linked to the transport's signal by one
//    listener that is removed as soon as the request is over: when fetch fails, when the response has
//    no body to stream, or when its body has been read to the end, failed or been cancelled. Aborting
//    the transport's signal still aborts every request and every body still streaming.
//
// 2. The response stream of a cancelled request can be ended (`closeRequest(id)`). An MCP server
//    sends no answer to a request its client cancelled, and the SDK's server transport then keeps
//    that request's SSE stream open until the session ends: one open HTTP request (a socket on both
//    sides) per cancelled call. The gateway ends it after forwarding the cancellation.
//    The stream ends with one last event, a placeholder answer (`{"jsonrpc":"2.0","id":ID,"result":{}}`),
//    then a normal end. Without it, an upstream that supports resumption (an event store: its events
//    carry ids) would make the SDK's client transport reconnect (GET with Last-Event-ID) for the
//    answer it never got, reopening the stream until the session ends. With it, the transport counts
//    the request as answered; the gateway has forgotten the cancelled id and drops the placeholder.

import { getMaxListeners, setMaxListeners } from 'node:events';

/** One listener per open request: as many as a session has requests in flight (a busy one: dozens). */
const MAX_OPEN = 1000;

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
type Id = string | number;

interface OpenBody {
  /** The request body (a JSON-RPC message or batch, as the transport serialised it). */
  sent: string;
  /** The request ids it carried, parsed when first needed (only a cancellation asks). */
  ids?: Id[];
  /** End the response body with the placeholder answer to `id`, as if the server had sent it and closed. */
  end(id: Id): void;
}

/** The last event of a stream ended for a cancelled request (see 2. above); the blank lines end any event before it. */
function placeholderAnswer(id: Id): Uint8Array {
  return new TextEncoder().encode(`\n\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: {} })}\n\n`);
}

function idsOf(sent: string): Id[] {
  try {
    const m = JSON.parse(sent) as unknown;
    const all = Array.isArray(m) ? m : [m];
    return all.flatMap((x) => {
      const id = (x as { id?: unknown; method?: unknown } | null)?.id;
      return (typeof id === 'string' || typeof id === 'number') && typeof (x as { method?: unknown }).method === 'string' ? [id] : [];
    });
  } catch {
    return [];
  }
}

export class IsolatingFetch {
  /** 2xx response bodies still streaming, of requests that sent a body (POSTs). */
  private readonly open = new Set<OpenBody>();

  constructor(private readonly base: Fetch = (input, init) => fetch(input, init)) {}

  /** How many response bodies of POSTs are still streaming. */
  get streaming(): number {
    return this.open.size;
  }

  readonly fetch: Fetch = async (input, init) => {
    const parent = init?.signal;
    if (!parent || parent.aborted) return this.base(input, init);
    const ac = new AbortController();
    const onAbort = () => ac.abort(parent.reason);
    if (getMaxListeners(parent) < MAX_OPEN) setMaxListeners(MAX_OPEN, parent);
    parent.addEventListener('abort', onAbort, { once: true });
    let entry: OpenBody | undefined;
    let linked = true;
    const release = () => {
      if (!linked) return;
      linked = false;
      parent.removeEventListener('abort', onAbort);
      if (entry) this.open.delete(entry);
    };
    let res: Response;
    try {
      res = await this.base(input, { ...init, signal: ac.signal });
    } catch (e) {
      release();
      throw e;
    }
    // Error and redirect responses are read (or dropped) at once; only a 2xx body streams on.
    if (!res.body || !res.ok) {
      release();
      return res;
    }
    const reader = res.body.getReader();
    let out!: ReadableStreamDefaultController<Uint8Array>;
    /** Ended here (closeRequest), or by the upstream / the reader: nothing more goes out. */
    let ended = false;
    const sse = (res.headers.get('content-type') ?? '').includes('text/event-stream');
    if (typeof init?.body === 'string') {
      entry = {
        sent: init.body,
        end: (id) => {
          release();
          if (!ended) {
            ended = true;
            if (sse) out.enqueue(placeholderAnswer(id));
            out.close();
          }
          void reader.cancel().catch(() => undefined);
        },
      };
      this.open.add(entry);
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        out = controller;
      },
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (ended) return;
          if (done) {
            ended = true;
            release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (e) {
          release();
          if (ended) return;
          ended = true;
          controller.error(e);
        }
      },
      cancel(reason) {
        ended = true;
        release();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  /** End the response stream of the request with JSON-RPC id `id` (the reader sees a normal end). */
  closeRequest(id: Id): boolean {
    for (const e of this.open) {
      e.ids ??= idsOf(e.sent);
      if (e.ids.includes(id)) {
        e.end(id);
        return true;
      }
    }
    return false;
  }
}

/** A fetch that gives every request its own abort signal (see above); for any SDK client on a long session. */
export function abortIsolatingFetch(base?: Fetch): Fetch {
  return new IsolatingFetch(base).fetch;
}
