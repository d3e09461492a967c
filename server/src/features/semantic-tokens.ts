// textDocument/semanticTokens/full → language/services/semantic-tokens.ts (legend in convert.ts)
import { semanticTokens } from '../../../language/services/semantic-tokens.js';
import { toSemanticTokens } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerSemanticTokens(ctx: ServerContext): void {
  ctx.connection.languages.semanticTokens.on(
    handle(ctx, 'semanticTokens', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      return toSemanticTokens(semanticTokens(analysis, params.textDocument.uri));
    }),
  );
}
