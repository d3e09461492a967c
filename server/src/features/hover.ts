// textDocument/hover → language/services/hover.ts
import { MarkupKind } from 'vscode-languageserver';
import { hover } from '../../../language/services/hover.js';
import { toOffset, toRange } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerHover(ctx: ServerContext): void {
  ctx.connection.onHover(
    handle(ctx, 'hover', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      const h = hover(analysis, params.textDocument.uri, toOffset(src.lines, params.position));
      return h ? { contents: { kind: MarkupKind.Markdown, value: h.contents }, range: toRange(h.range) } : null;
    }),
  );
}
