// textDocument/completion → language/services/completion.ts
import { complete } from '../../../language/services/completion.js';
import { toCompletionItem, toOffset } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerCompletion(ctx: ServerContext): void {
  const snippets = !!ctx.capabilities.textDocument?.completion?.completionItem?.snippetSupport;
  ctx.connection.onCompletion(
    handle(ctx, 'completion', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return [];
      const items = complete(analysis, params.textDocument.uri, toOffset(src.lines, params.position));
      return { isIncomplete: false, items: items.map((i) => toCompletionItem(i, snippets)) };
    }),
  );
}
