// textDocument/references → language/services/navigation.ts
import { references } from '../../../language/services/navigation.js';
import { toLocation, toOffset } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerReferences(ctx: ServerContext): void {
  ctx.connection.onReferences(
    handle(ctx, 'references', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      const offset = toOffset(src.lines, params.position);
      return references(analysis, params.textDocument.uri, offset, params.context.includeDeclaration).map((l) => toLocation(l, ctx.uriOf));
    }),
  );
}
