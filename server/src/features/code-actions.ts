// textDocument/codeAction: quick fixes from language/services/code-actions.ts.
import { CodeActionKind } from 'vscode-languageserver';
import { codeActions } from '../../../language/services/code-actions.js';
import { fromRange, toCodeAction, toDiagnostic } from '../convert.js';
import { handle, type ServerContext } from '../context.js';

export function registerCodeActions(ctx: ServerContext): void {
  ctx.connection.onCodeAction(
    handle(ctx, 'codeAction', (params, token) => {
      if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || k === 'quickfix' || CodeActionKind.QuickFix.startsWith(k))) return [];
      const uri = params.textDocument.uri;
      const { analysis } = ctx.analysis(uri, token);
      const src = analysis.sources.get(uri);
      if (!src) return [];
      const range = fromRange(src.lines, params.range);
      const actions = codeActions(analysis, uri, range);
      const lspDiags = analysis.result.diagnostics.filter((d) => d.file === uri).map((d) => toDiagnostic(d, ctx.uriOf, ctx.options.docsLink));
      const inContext = params.context.diagnostics.length ? params.context.diagnostics : lspDiags;
      return actions.map((a) => toCodeAction(a, ctx.uriOf, inContext));
    }),
  );
}
