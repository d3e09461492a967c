// textDocument/foldingRange → language/services/outline.ts
import { foldingRanges } from '../../../language/services/outline.js';
import { toFoldingRange } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerFolding(ctx: ServerContext): void {
  ctx.connection.onFoldingRanges(
    handle(ctx, 'foldingRange', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      return foldingRanges(analysis, params.textDocument.uri).map(toFoldingRange);
    }),
  );
}
