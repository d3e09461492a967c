// textDocument/formatting: the same formatter as `rein fmt` (language/format/format.ts).
// A file with syntax errors is left alone (no edits), as `rein fmt` refuses it.
import { format } from '../../../language/format/format.js';
import { PolicyError } from '../../../language/errors.js';
import { handle, type ServerContext } from '../context.js';

export function registerFormatting(ctx: ServerContext): void {
  ctx.connection.onDocumentFormatting(
    handle(ctx, 'formatting', (params) => {
      const doc = ctx.documents.get(params.textDocument.uri);
      const text = doc?.getText() ?? ctx.workspace.setOf(params.textDocument.uri)?.set.source(params.textDocument.uri)?.text;
      if (text === undefined) return null;
      let out: string;
      try {
        out = format(text);
      } catch (e) {
        if (e instanceof PolicyError) return [];
        throw e;
      }
      if (out === text) return [];
      const lines = text.split(/\r\n|\r|\n/);
      return [{ range: { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines[lines.length - 1].length } }, newText: out }];
    }),
  );
}
