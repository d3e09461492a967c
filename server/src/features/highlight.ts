// textDocument/documentHighlight → language/services/navigation.ts (the declaration is a "write").
import { DocumentHighlightKind } from 'vscode-languageserver';
import { highlights } from '../../../language/services/navigation.js';
import { toOffset, toRange } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerHighlight(ctx: ServerContext): void {
  ctx.connection.onDocumentHighlight(
    handle(ctx, 'documentHighlight', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      return highlights(analysis, params.textDocument.uri, toOffset(src.lines, params.position)).map((h) => ({
        range: toRange(h.range),
        kind: h.write ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
      }));
    }),
  );
}
