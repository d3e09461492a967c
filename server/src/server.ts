// Wiring only: capabilities, document sync, and one `register…` call per feature
// (server/src/features/*). The logic lives in language/services.

import {
  type Connection,
  TextDocuments,
  TextDocumentSyncKind,
  DidChangeWatchedFilesNotification,
  CodeLensRefreshRequest,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Workspace, isPolicyUri, type FileSystem } from './workspace.js';
import type { ServerContext, ServerOptions } from './context.js';
import { SEMANTIC_LEGEND } from './convert.js';
import { registerDiagnostics, type DiagnosticsFeature } from './features/diagnostics.js';
import { registerCompletion } from './features/completion.js';
import { registerHover } from './features/hover.js';
import { registerDefinition } from './features/definition.js';
import { registerReferences } from './features/references.js';
import { registerHighlight } from './features/highlight.js';
import { registerRename } from './features/rename.js';
import { registerSymbols } from './features/symbols.js';
import { registerFolding } from './features/folding.js';
import { registerSignatureHelp, SIGNATURE_TRIGGERS } from './features/signature-help.js';
import { registerSemanticTokens } from './features/semantic-tokens.js';
import { registerFormatting } from './features/formatting.js';
import { registerCodeActions } from './features/code-actions.js';
import { registerCodeLens, COMMANDS } from './features/code-lens.js';
import { diagnosticDocUrl } from '../../language/lint/index.js';

export const SERVER_NAME = 'rein-language-server';

export interface StartedServer {
  workspace: Workspace;
  /** Set after `initialize`. */
  diagnostics?: DiagnosticsFeature;
}

/** Attach the Rein language server to a connection (stdio, IPC or a browser worker). */
export function createServer(connection: Connection, fs: FileSystem): StartedServer {
  const documents = new TextDocuments(TextDocument);
  const workspace = new Workspace(fs);
  const started: StartedServer = { workspace };
  let roots: string[] = [];
  let ctx: ServerContext | undefined;

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const init = (params.initializationOptions ?? {}) as { debounceMs?: number; docsBaseUrl?: string; lint?: unknown };
    if (init.lint) workspace.setLintDefaults(init.lint);
    const options: ServerOptions = {
      debounceMs: typeof init.debounceMs === 'number' ? init.debounceMs : 150,
      docsLink: init.docsBaseUrl ? (code) => diagnosticDocUrl(init.docsBaseUrl!, code) : (code) => fs.docsLink?.(code),
    };
    roots = (params.workspaceFolders ?? []).map((f) => f.uri);
    if (!roots.length && params.rootUri) roots = [params.rootUri];
    const capabilities = params.capabilities;
    ctx = {
      connection,
      documents,
      workspace,
      capabilities,
      options,
      uriOf: (f) => f,
      analysis: (uri, token) => workspace.analysisFor(uri, token),
      refreshCodeLenses: () => {
        if (capabilities.workspace?.codeLens?.refreshSupport) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
      },
      log: (m) => connection.console.error(m),
    };
    started.diagnostics = registerDiagnostics(ctx);
    registerCompletion(ctx);
    registerHover(ctx);
    registerDefinition(ctx);
    registerReferences(ctx);
    registerHighlight(ctx);
    registerRename(ctx);
    registerSymbols(ctx, () => roots);
    registerFolding(ctx);
    registerSignatureHelp(ctx);
    registerSemanticTokens(ctx);
    registerFormatting(ctx);
    registerCodeActions(ctx);
    registerCodeLens(ctx);

    const pull = started.diagnostics.pull;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: false },
        completionProvider: { triggerCharacters: ['.', '"', '@'], resolveProvider: false },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentHighlightProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        workspaceSymbolProvider: true,
        foldingRangeProvider: true,
        signatureHelpProvider: { triggerCharacters: SIGNATURE_TRIGGERS },
        semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true, range: false },
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: ['quickfix'] },
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [...COMMANDS] },
        diagnosticProvider: pull ? { interFileDependencies: true, workspaceDiagnostics: true } : undefined,
      },
      serverInfo: { name: SERVER_NAME, version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (ctx?.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, {
        // and every created or deleted path, for folders: an editor reports a moved or deleted
        // folder once, not the policy files in it (kind 5 = Create | Delete)
        watchers: [{ globPattern: '**/*.rein' }, { globPattern: '**/rein.json' }, { globPattern: '**/*', kind: 5 }],
      });
    }
    try {
      workspace.discover(roots);
    } catch (e) {
      connection.console.error(`rein: workspace discovery failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  });

  // Notifications have no response to carry an error: log it and keep serving.
  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      connection.console.error(`rein: ${what} failed: ${e instanceof Error && e.stack ? e.stack : String(e)}`);
    }
  };
  // The client's `rein` settings section (synchronize.configurationSection): `rein.lint` levels.
  connection.onDidChangeConfiguration((p) => {
    const settings = (p.settings ?? {}) as { rein?: { lint?: unknown } };
    if (settings.rein && 'lint' in settings.rein) safely('didChangeConfiguration', () => workspace.setLintDefaults(settings.rein!.lint ?? {}));
  });
  // a `.rein` file, or a document the editor says is Rein (`untitled:Untitled-1`, a new unsaved file)
  const isPolicyDocument = (d: { uri: string; languageId: string }): boolean => isPolicyUri(d.uri) || d.languageId === 'rein';
  documents.onDidOpen((e) => {
    if (isPolicyDocument(e.document)) safely('didOpen', () => workspace.open(e.document.uri, e.document.getText(), e.document.version));
  });
  documents.onDidChangeContent((e) => {
    if (isPolicyDocument(e.document)) safely('didChange', () => workspace.change(e.document.uri, e.document.getText(), e.document.version));
  });
  documents.onDidClose((e) => {
    if (isPolicyDocument(e.document)) safely('didClose', () => workspace.close(e.document.uri));
  });
  connection.onDidChangeWatchedFiles((p) => safely('didChangeWatchedFiles', () => workspace.watched(p.changes as { uri: string; type: 1 | 2 | 3 }[])));

  documents.listen(connection);
  connection.listen();
  return started;
}
