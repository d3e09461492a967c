// textDocument/definition → language/services/navigation.ts (across files, into the schema)
import { definition } from '../../../language/services/navigation.js';
import { toLocation, toOffset } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerDefinition(ctx: ServerContext): void {
  ctx.connection.onDefinition(
    handle(ctx, 'definition', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      return definition(analysis, params.textDocument.uri, toOffset(src.lines, params.position)).map((l) => toLocation(l, ctx.uriOf));
    }),
  );
}
