// textDocument/signatureHelp → language/services/signature-help.ts
import { signatureHelp } from '../../../language/services/signature-help.js';
import { toOffset, toSignatureHelp } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export const SIGNATURE_TRIGGERS = ['(', ','];

export function registerSignatureHelp(ctx: ServerContext): void {
  ctx.connection.onSignatureHelp(
    handle(ctx, 'signatureHelp', (params, token) => {
      const { analysis } = ctx.analysis(params.textDocument.uri, token);
      const src = analysis.sources.get(params.textDocument.uri);
      if (!src) return null;
      const s = signatureHelp(analysis, params.textDocument.uri, toOffset(src.lines, params.position));
      return s ? toSignatureHelp(s) : null;
    }),
  );
}
