// textDocument/prepareRename and textDocument/rename → language/services/navigation.ts
import { ResponseError, ErrorCodes } from 'vscode-languageserver';
import { prepareRename, rename } from '../../../language/services/navigation.js';
import { toOffset, toRange, toWorkspaceEdit } from '../convert.js';
import { handle, type ServerContext } from '../context.js';
import { layerUses } from './layers.js';

export function registerRename(ctx: ServerContext): void {
  ctx.connection.onPrepareRename(
    handle(ctx, 'prepareRename', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      const r = prepareRename(analysis, params.textDocument.uri, toOffset(src.lines, params.position));
      if ('error' in r) return new ResponseError(ErrorCodes.InvalidRequest, r.error);
      return { range: toRange(r.range), placeholder: r.placeholder };
    }),
  );
  ctx.connection.onRenameRequest(
    handle(ctx, 'rename', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      const offset = toOffset(src.lines, params.position);
      const r = rename(analysis, params.textDocument.uri, offset, params.newName);
      if ('error' in r) return new ResponseError(ErrorCodes.InvalidRequest, r.error);
      // a declaration of a base set: the sets layered over it are renamed too
      const layers = layerUses(ctx, analysis, params.textDocument.uri, offset, token, params.newName);
      if (layers.clash) return new ResponseError(ErrorCodes.InvalidRequest, `\`${params.newName}\` is already declared in a set layered over this one`);
      return toWorkspaceEdit([...r.edits, ...layers.locations.map((l) => ({ file: l.file, range: l.range, newText: params.newName }))], ctx.uriOf);
    }),
  );
}
