// What every feature gets: the connection, the workspace, client capabilities, and `handle()`,
// which runs a request handler with cancellation and turns a thrown error into an LSP error
// response (the server lives on).

import {
  type Connection,
  type CancellationToken,
  type ClientCapabilities,
  ResponseError,
  ErrorCodes,
  LSPErrorCodes,
  type TextDocuments,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { Workspace, Cancelled } from './workspace.js';
import type { Analysis } from '../../language/services/policy-set.js';
import type { SetEntry } from './workspace.js';
import type { DocsLink } from './convert.js';

export interface ServerOptions {
  /** Debounce for diagnostics after an edit, in ms (initializationOptions.debounceMs). */
  debounceMs: number;
  /** Base URL of the diagnostics docs (initializationOptions.docsBaseUrl). */
  docsLink: DocsLink;
}

export interface ServerContext {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  workspace: Workspace;
  capabilities: ClientCapabilities;
  options: ServerOptions;
  /** Identity: the server names files by their URI. */
  uriOf: (file: string) => string;
  /** The checked analysis for a document, or throws `Cancelled`. */
  analysis(uri: string, token?: CancellationToken): { entry: SetEntry; analysis: Analysis };
  /** Hooks other features can call (e.g. lens refresh after a test run). */
  refreshCodeLenses(): void;
  log(message: string): void;
}

/**
 * Wrap a handler: cancellation → `RequestCancelled`; a thrown error → `InternalError` with the
 * message (logged), never a crash.
 */
export function handle<P, R>(
  ctx: Pick<ServerContext, 'log'>,
  name: string,
  fn: (params: P, token: CancellationToken) => R,
): (params: P, token: CancellationToken) => R | ResponseError<any> {
  return (params, token) => {
    try {
      if (token?.isCancellationRequested) return new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
      return fn(params, token);
    } catch (e) {
      if (e instanceof Cancelled) return new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
      const msg = e instanceof Error ? e.message : String(e);
      ctx.log(`rein: ${name} failed: ${e instanceof Error && e.stack ? e.stack : msg}`);
      return new ResponseError(ErrorCodes.InternalError, `${name} failed: ${msg}`);
    }
  };
}
