// Browser entry: the language server in a web worker. No file system: the policy set is the open
// documents of a folder.

import { BrowserMessageReader, BrowserMessageWriter, createConnection } from 'vscode-languageserver/browser';
import { createServer, type StartedServer } from './server.js';
import '../../language/semantics/regex.js'; // RE2: exact messages for every pattern
import { noFileSystem } from './workspace.js';

declare const self: unknown;

export function startBrowserServer(scope: unknown = self): StartedServer {
  const reader = new BrowserMessageReader(scope as never);
  const writer = new BrowserMessageWriter(scope as never);
  const connection = createConnection(reader, writer);
  return createServer(connection, noFileSystem);
}
