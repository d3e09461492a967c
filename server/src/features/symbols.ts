// textDocument/documentSymbol and workspace/symbol → language/services/outline.ts
import { documentSymbols, workspaceSymbols } from '../../../language/services/outline.js';
import { toDocumentSymbol, toWorkspaceSymbol } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerSymbols(ctx: ServerContext, roots: () => string[]): void {
  ctx.connection.onDocumentSymbol(
    handle(ctx, 'documentSymbol', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      return documentSymbols(analysis, params.textDocument.uri).map(toDocumentSymbol);
    }),
  );
  ctx.connection.onWorkspaceSymbol(
    handle(ctx, 'workspaceSymbol', (params, token) => {
      ctx.workspace.discover(roots());
      return workspaceSymbols(ctx.workspace.allAnalyses(token), params.query).map((s) => toWorkspaceSymbol(s, ctx.uriOf));
    }),
  );
}
