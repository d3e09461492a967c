// textDocument/references → language/services/navigation.ts
import { references } from '../../../language/services/navigation.js';
import { toLocation, toOffset } from '../convert.js';
import { handle, type ServerContext } from '../context.js';
import { layerUses } from './layers.js';

export function registerReferences(ctx: ServerContext): void {
  ctx.connection.onReferences(
    handle(ctx, 'references', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      const offset = toOffset(src.lines, params.position);
      const here = references(analysis, params.textDocument.uri, offset, params.context.includeDeclaration);
      // a declaration of a base set: the sets layered over it use it too
      const layers = layerUses(ctx, analysis, params.textDocument.uri, offset, token).locations;
      return [...here, ...layers].map((l) => toLocation(l, ctx.uriOf));
    }),
  );
}
