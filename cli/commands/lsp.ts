// `rein lsp [--stdio]`: the language server (server/src/node.ts), loaded only for this command.

import { EXIT, type Ctx } from '../context.js';
import { UsageError } from '../../language/node/errors.js';

export default async function cmdLsp(_ctx: Ctx, positionals: string[]): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument \`${positionals[0]}\``, 'lsp');
  const mod = (await import('../../server/src/node.js')) as { startStdioServer(): unknown };
  await mod.startStdioServer();
  // The server owns stdio from here; resolve only when the process is about to end.
  await new Promise<void>((resolve) => process.stdin.once('close', () => resolve()));
  return EXIT.ok;
}
